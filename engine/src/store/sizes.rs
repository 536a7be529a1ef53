//! Measured sizes of snapshots, kept in the history: [`record_sizes`] measures snapshots
//! (`files::measure`, on blocking threads) and stores the figures. A run calls it for the snapshot it
//! made and the one before it (the only one whose unique size the new snapshot changed);
//! `mnemosynce snapshots --recount` for every snapshot of a task.

use super::local_to_utc;
use crate::files::{measure, FilesError};
use crate::history::{History, HistoryError};
use crate::model::files::SnapshotSize;
use crate::model::snapshot::SnapshotName;
use chrono_tz::Tz;
use std::path::Path;

/// Why sizes could not be measured or kept.
#[derive(Debug, thiserror::Error)]
pub enum SizesError {
    #[error(transparent)]
    Files(#[from] FilesError),
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error("the measuring thread stopped: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// Measures snapshots `names` of `task` and stores their sizes; returns them in the same order.
/// The walks run side by side, one per core (they wait on the disk's metadata, not on each other).
pub async fn record_sizes(
    store_root: &Path,
    history: &History,
    tz: Tz,
    task: &str,
    names: &[SnapshotName],
) -> Result<Vec<SnapshotSize>, SizesError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut out = Vec::with_capacity(names.len());
    for batch in names.chunks(cores) {
        let walks: Vec<_> = batch
            .iter()
            .map(|name| {
                let (root, t, n) = (store_root.to_path_buf(), task.to_string(), name.to_string());
                tokio::task::spawn_blocking(move || measure(&root, &t, &n))
            })
            .collect();
        for (name, walk) in batch.iter().zip(walks) {
            let size = walk.await??;
            history
                .set_snapshot_sizes(task, &name.to_string(), local_to_utc(tz, name), &size)
                .await?;
            out.push(size);
        }
    }
    Ok(out)
}
