//! What a native snapshot counts and how it ends: the [`Counters`] the workers add to (read for
//! progress events and the final [`TransferStats`]) and the [`Problems`] they report, which decide
//! the [`TransferEnd`].
//!
//! Invariant: the end is decided in this order — cancelled, failed (a fatal error), partial
//! (unreadable paths), vanished (changed or gone while copied), complete; `files_total` counts the
//! top folder too, like rsync's "Number of files".

use super::job::{lock, Job};
use crate::model::events::{LogLevel, Progress, TransferStats};
use crate::transfer::{StepSink, TransferEnd, TransferOutcome};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Files and bytes counted so far (shared by the workers, read for progress events).
#[derive(Default)]
pub(super) struct Counters {
    /// Entries listed in the source (excluded ones not counted).
    pub(super) seen: AtomicU64,
    /// Entries placed in the snapshot.
    pub(super) done: AtomicU64,
    pub(super) files_copied: AtomicU64,
    pub(super) files_linked: AtomicU64,
    pub(super) bytes_total: AtomicU64,
    /// Bytes of the files placed (linked or copied).
    pub(super) bytes_done: AtomicU64,
    pub(super) bytes_copied: AtomicU64,
}

/// What went wrong along the way (paths as the user can paste them into `ls -l`).
#[derive(Default)]
pub(super) struct Problems {
    pub(super) vanished: Vec<String>,
    pub(super) unreadable: Vec<String>,
    pub(super) fatal: Option<String>,
}

impl Job {
    pub(super) fn progress(&self, started: Instant) -> Progress {
        let bytes = self.count.bytes_done.load(Ordering::Relaxed);
        let elapsed = started.elapsed().as_secs_f64();
        Progress {
            bytes,
            percent: None,
            rate: (elapsed > 0.0).then(|| (bytes as f64 / elapsed) as u64),
            eta_seconds: None,
            files_done: Some(self.count.done.load(Ordering::Relaxed)),
            files_total: Some(self.count.seen.load(Ordering::Relaxed)),
        }
    }

    pub(super) fn outcome(&self, started: Instant, sink: &dyn StepSink) -> TransferOutcome {
        let c = &self.count;
        let stats = TransferStats {
            // Like rsync's "Number of files": every entry, the top folder included.
            files_total: c.seen.load(Ordering::Relaxed) + 1,
            files_transferred: c.files_copied.load(Ordering::Relaxed),
            bytes_total: c.bytes_total.load(Ordering::Relaxed),
            bytes_transferred: c.bytes_copied.load(Ordering::Relaxed),
        };
        sink.log(
            LogLevel::Info,
            &format!(
                "native snapshot: {} entries, {} linked to the previous snapshot, {} copied ({} bytes) in {:.2} s",
                stats.files_total,
                c.files_linked.load(Ordering::Relaxed),
                stats.files_transferred,
                stats.bytes_transferred,
                started.elapsed().as_secs_f64()
            ),
        );
        let mut problems = lock(&self.problems);
        let end = if self.cancel.is_cancelled() {
            TransferEnd::Cancelled
        } else if let Some(message) = problems.fatal.take() {
            TransferEnd::Failed { message }
        } else if !problems.unreadable.is_empty() {
            TransferEnd::Partial {
                paths: std::mem::take(&mut problems.unreadable),
            }
        } else if !problems.vanished.is_empty() {
            TransferEnd::Vanished {
                paths: std::mem::take(&mut problems.vanished),
            }
        } else {
            TransferEnd::Complete
        };
        TransferOutcome { end, stats }
    }
}
