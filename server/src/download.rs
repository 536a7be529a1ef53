//! `GET /snapshots/download?task=&snapshot=&path=KEY`: one file of a snapshot, streamed.
//!
//! The file is opened beneath its snapshot without following links (`engine::files::open_file`; a
//! link, folder or device is refused) and sent as it is read, in 512 KiB chunks (`body.rs`): memory stays flat
//! whatever its size. Always an attachment (`Content-Disposition: attachment`, the name per RFC 6266
//! with an ASCII fallback), `application/octet-stream` and `nosniff` (from `security.rs`), so nothing
//! from a backup is ever rendered in the app's origin. One `Range: bytes=…` is honoured (`206`), so
//! an interrupted download resumes; a range past the end is `416`. The session and host guards of
//! the router apply as to every page.

use crate::body::{channel_body, IN_FLIGHT};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use engine::files::{open_file, FilesError, InnerPath};
use engine::model::files::encode_key;
use serde::Deserialize;
use std::io::{self, Read, Seek, SeekFrom};
use tokio::sync::mpsc;

/// Bytes a chunk of a download holds: under the allocator's 1 MiB mmap threshold (`memory.rs`), so
/// chunks are reused heap memory, not a fresh mapping (and its page faults) each.
const CHUNK: u64 = 512 * 1024;

/// The query of a download.
#[derive(Debug, Deserialize)]
pub struct Wanted {
    pub task: String,
    pub snapshot: String,
    /// The file's key (`engine::model::files`): components percent-encoded, joined by `/`.
    pub path: String,
}

/// A refusal as plain text with its status.
pub(crate) fn refuse(status: StatusCode, text: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text.into(),
    )
        .into_response()
}

/// Where a request points: the store root, task, snapshot and path, or the refusal to send.
pub(crate) struct Target {
    pub root: std::path::PathBuf,
    pub task: String,
    pub snapshot: String,
    pub path: InnerPath,
}

/// Why a request is refused: its status and sentence ([`refuse`] makes the answer).
pub(crate) type Refusal = (StatusCode, String);

/// The task of `wanted` checked against the configuration and its path parsed.
pub(crate) fn target(state: &AppState, wanted: &Wanted) -> Result<Target, Refusal> {
    let config = engine::config::load_usable(&state.backend.config_path).map_err(|e| {
        (
            StatusCode::CONFLICT,
            format!("the configuration cannot be used: {e}"),
        )
    })?;
    if !config.tasks.iter().any(|t| t.name == wanted.task) {
        return Err((
            StatusCode::NOT_FOUND,
            format!("there is no task {:?} in the configuration", wanted.task),
        ));
    }
    let path =
        InnerPath::from_key(&wanted.path).map_err(|e| (StatusCode::BAD_REQUEST, e.to_string()))?;
    Ok(Target {
        root: config.dir_backup_local.clone(),
        task: wanted.task.clone(),
        snapshot: wanted.snapshot.clone(),
        path,
    })
}

/// The status a refusal of `FilesError` goes out with.
pub(crate) fn status_of(e: &FilesError) -> StatusCode {
    match e {
        FilesError::NoSuchSnapshot { .. } | FilesError::NotFound { .. } => StatusCode::NOT_FOUND,
        FilesError::Io { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// `GET /snapshots/download`
pub async fn download(
    State(state): State<AppState>,
    Query(wanted): Query<Wanted>,
    headers: HeaderMap,
) -> Response {
    let Target {
        root,
        task,
        snapshot,
        path,
    } = match target(&state, &wanted) {
        Ok(t) => t,
        Err((status, why)) => return refuse(status, why),
    };
    let inner = path.clone();
    let opened =
        tokio::task::spawn_blocking(move || open_file(&root, &task, &snapshot, &inner)).await;
    let (file, size) = match opened {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => return refuse(status_of(&e), e.to_string()),
        Err(e) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let name = path.components().last().cloned().unwrap_or_default();

    let (status, start, len) = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        None => (StatusCode::OK, 0, size),
        Some(r) => match byte_range(r, size) {
            Some((start, end)) => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
            None => {
                let mut resp = refuse(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    "the range is not in the file",
                );
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    resp.headers_mut().insert(header::CONTENT_RANGE, v);
                }
                return resp;
            }
        },
    };
    // Read on a blocking thread straight into the chunks that go out (one copy from the page
    // cache, none more), [`CHUNK`] at a time (`scripts/bench restore` measures it).
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(IN_FLIGHT);
    tokio::task::spawn_blocking(move || {
        let mut file = file;
        if let Err(e) = file.seek(SeekFrom::Start(start)) {
            let _ = tx.blocking_send(Err(e));
            return;
        }
        let mut left = len;
        while left > 0 {
            let want = left.min(CHUNK);
            let mut chunk = Vec::with_capacity(want as usize);
            match (&mut file).take(want).read_to_end(&mut chunk) {
                // The file is shorter than it was: end the body short, as a failed transfer.
                Ok(0) => {
                    let _ = tx.blocking_send(Err(io::Error::from(io::ErrorKind::UnexpectedEof)));
                    return;
                }
                Ok(n) => left -= n as u64,
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
            if tx.blocking_send(Ok(Bytes::from(chunk))).is_err() {
                return; // the client went away
            }
        }
    });
    let body = channel_body(rx);
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    if let Ok(v) = HeaderValue::from_str(&attachment(&name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if status == StatusCode::PARTIAL_CONTENT {
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{size}", start + len - 1)) {
            h.insert(header::CONTENT_RANGE, v);
        }
    }
    resp
}

/// The one range of `Range: bytes=A-B`, `bytes=A-` or `bytes=-N` in a file of `size` bytes, as
/// inclusive `(first, last)`; `None` when it is not satisfiable (or not one range of bytes).
fn byte_range(header: &str, size: u64) -> Option<(u64, u64)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || size == 0 {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        if n == 0 {
            return None;
        }
        return Some((size.saturating_sub(n), size - 1));
    }
    let first: u64 = a.parse().ok()?;
    let last = if b.is_empty() {
        size - 1
    } else {
        b.parse::<u64>().ok()?.min(size - 1)
    };
    (first <= last && first < size).then_some((first, last))
}

/// `attachment; filename="ASCII fallback"; filename*=UTF-8''percent-encoded` (RFC 6266, 8187).
pub(crate) fn attachment(name: &[u8]) -> String {
    let fallback: String = String::from_utf8_lossy(name)
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' => c,
            _ => '_',
        })
        .collect();
    format!(
        "attachment; filename=\"{fallback}\"; filename*=UTF-8''{}",
        encode_key(name)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_names_are_read_as_browsers_send_them() {
        assert_eq!(byte_range("bytes=0-99", 1000), Some((0, 99)));
        assert_eq!(byte_range("bytes=900-", 1000), Some((900, 999)));
        assert_eq!(byte_range("bytes=-100", 1000), Some((900, 999)));
        assert_eq!(byte_range("bytes=990-2000", 1000), Some((990, 999)));
        assert_eq!(byte_range("bytes=1000-", 1000), None);
        assert_eq!(byte_range("bytes=0-1,5-6", 1000), None);
        assert_eq!(byte_range("items=0-1", 1000), None);
        assert_eq!(
            attachment(b"caf\xc3\xa9 \"x\".txt"),
            "attachment; filename=\"caf_ _x_.txt\"; filename*=UTF-8''caf%C3%A9%20%22x%22.txt"
        );
    }
}
