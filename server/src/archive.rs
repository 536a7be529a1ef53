//! `GET /snapshots/archive?task=&snapshot=&path=KEY&format=zip|tar.gz`: a folder of a snapshot as one
//! archive, streamed as it is read (`engine::files::write_archive`).
//!
//! The engine writes on a blocking thread into a [`ChannelWriter`] whose 64 KiB chunks go out as the
//! response body through a small channel (`body.rs`): when the client reads slowly the walk waits, when it
//! goes away the next write fails and the walk stops — memory stays flat whatever the folder's
//! size, and no temporary file is written. The folder is opened before the answer starts, so a
//! missing snapshot or folder is a 404 with its sentence; an error after that cuts the body short
//! (the browser reports a failed download rather than keeping a truncated archive). Always an
//! attachment, like `download.rs`.

use crate::body::{channel_body, IN_FLIGHT};
use crate::download::{attachment, refuse, status_of, target, Target, Wanted};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use engine::files::{open_folder, open_snapshot, write_archive, ArchiveFormat};
use serde::Deserialize;
use std::io::{self, Write};
use tokio::sync::mpsc;

/// The query of an archive download.
#[derive(Debug, Deserialize)]
pub struct WantedArchive {
    task: String,
    snapshot: String,
    /// The folder's key; empty for the whole snapshot.
    #[serde(default)]
    path: String,
    format: String,
}

/// `GET /snapshots/archive`
pub async fn archive(
    State(state): State<AppState>,
    Query(wanted): Query<WantedArchive>,
) -> Response {
    let Some(format) = ArchiveFormat::parse(&wanted.format) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            format!(
                "format {:?} is not an archive format; use zip or tar.gz",
                wanted.format
            ),
        );
    };
    let Target {
        root,
        task,
        snapshot,
        path,
    } = match target(
        &state,
        &Wanted {
            task: wanted.task,
            snapshot: wanted.snapshot,
            path: wanted.path,
        },
    ) {
        Ok(t) => t,
        Err((status, why)) => return refuse(status, why),
    };
    // The folder must be there before the answer starts.
    let (r, t, s, p) = (root.clone(), task.clone(), snapshot.clone(), path.clone());
    let checked = tokio::task::spawn_blocking(move || {
        open_snapshot(&r, &t, &s).and_then(|top| open_folder(&top, &s, &p))
    })
    .await;
    match checked {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return refuse(status_of(&e), e.to_string()),
        Err(e) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }

    let mut name = engine::files::archive::archive_name(&task, &snapshot, &path);
    name.push(b'.');
    name.extend_from_slice(format.extension().as_bytes());
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(IN_FLIGHT);
    let failed = tx.clone();
    tokio::task::spawn_blocking(move || {
        let out = ChannelWriter {
            tx,
            buffer: Vec::with_capacity(CHUNK),
        };
        if let Err(e) = write_archive(&root, &task, &snapshot, &path, format, out) {
            tracing::warn!(task, snapshot, "archive stopped: {e}");
            // Ends the body with an error: the download fails visibly instead of looking complete.
            let _ = failed.blocking_send(Err(io::Error::other(e.to_string())));
        }
    });
    let mut resp = Response::new(channel_body(rx));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.media_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&attachment(&name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

const CHUNK: usize = 64 * 1024;

/// A `Write` whose bytes leave in chunks through a bounded channel (blocking when it is full).
struct ChannelWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buffer: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK));
        self.tx
            .blocking_send(Ok(Bytes::from(chunk)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if self.buffer.len() + bytes.len() > CHUNK {
            self.send()?;
        }
        if bytes.len() >= CHUNK {
            self.tx
                .blocking_send(Ok(Bytes::copy_from_slice(bytes)))
                .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))?;
        } else {
            self.buffer.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}
