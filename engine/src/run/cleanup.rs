//! The cleanup step: deletes the snapshots retention retired (`.pruning/<name>/`), on a worker
//! thread at idle I/O priority so a big hard-link tree does not stall the machine.
//!
//! Invariants: only folders under `.pruning/` are deleted (they left the listing when retired, so a
//! crash never leaves a half-deleted folder under a snapshot name); a folder that cannot be deleted
//! is a warning and stays for the next run; a dry run deletes nothing.

use super::context::{RunContext, StepEnd};
use super::step_log::StepReporter;
use crate::model::events::{LogLevel, Progress};
use crate::model::Status;
use crate::store::{StoreError, TaskStore};
use crate::transfer::StepSink;
use std::path::PathBuf;

/// Why the cleanup step could not start deleting.
#[derive(Debug, thiserror::Error)]
pub enum CleanupError {
    /// The retired snapshots could not be listed.
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot start the deletion: {0}")]
    Spawn(std::io::Error),
}

/// One retired snapshot that could not be deleted (a warning, not a failure).
#[derive(Debug, thiserror::Error)]
#[error("cannot delete {}: {source}", path.display())]
struct DeleteError {
    path: PathBuf,
    source: std::io::Error,
}

impl RunContext {
    /// Deletes retired snapshots, at idle I/O priority so a big hard-link tree does not stall the
    /// machine.
    pub(super) async fn cleanup(
        &self,
        store: &TaskStore,
        out: &StepReporter,
    ) -> Result<StepEnd, CleanupError> {
        let retired = store.retired()?;
        if retired.is_empty() || self.dry_run {
            return Ok(StepEnd::with(Status::Skipped, "nothing to delete"));
        }
        let total = retired.len() as u64;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Result<PathBuf, DeleteError>>();
        let worker = std::thread::Builder::new()
            .name("mnemosynce-cleanup".into())
            .spawn(move || {
                lower_io_priority();
                for dir in retired {
                    let r = std::fs::remove_dir_all(&dir)
                        .map(|_| dir.clone())
                        .map_err(|source| DeleteError { path: dir, source });
                    if tx.send(r).is_err() {
                        break;
                    }
                }
            });
        if let Err(e) = worker {
            return Err(CleanupError::Spawn(e));
        }
        let (mut done, mut errors) = (0u64, Vec::new());
        while let Some(r) = rx.recv().await {
            done += 1;
            match r {
                Ok(dir) => out.log(LogLevel::Info, &format!("deleted {}", dir.display())),
                Err(e) => {
                    out.log(LogLevel::Warn, &e.to_string());
                    errors.push(e);
                }
            }
            out.progress(Progress {
                percent: Some((done * 100 / total) as u8),
                files_done: Some(done),
                files_total: Some(total),
                ..Default::default()
            });
        }
        Ok(if errors.is_empty() {
            StepEnd::ok(format!("deleted {done} pruned snapshot(s)"))
        } else {
            StepEnd::with(
                Status::Warning,
                format!(
                    "{} pruned snapshot(s) could not be deleted: {}",
                    errors.len(),
                    errors[0]
                ),
            )
        })
    }
}

/// Puts the calling thread in the idle I/O class (best effort; Linux only).
fn lower_io_priority() {
    const IOPRIO_WHO_PROCESS: libc::c_long = 1;
    const IOPRIO_CLASS_IDLE: libc::c_long = 3;
    // SAFETY: a plain syscall with integer arguments; 0 means the calling thread.
    unsafe {
        libc::syscall(
            libc::SYS_ioprio_set,
            IOPRIO_WHO_PROCESS,
            0 as libc::c_long,
            IOPRIO_CLASS_IDLE << 13,
        );
    }
}
