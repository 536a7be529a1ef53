//! Pins: a pinned snapshot is never pruned by retention, locally or on the mirror (the planner keeps
//! it with the reason "pinned"), until it is unpinned. [`set_pin`] is what the CLI's
//! `snapshots pin|unpin` and the web app's Snapshots page both call; only a snapshot that is on disk
//! can be pinned.

use super::{list_snapshots, local_to_utc, ListingError};
use crate::history::{History, HistoryError};
use crate::model::config::{Config, Task};
use chrono_tz::Tz;

/// Why a pin could not be set.
#[derive(Debug, thiserror::Error)]
pub enum PinError {
    #[error("task {task:?} has no snapshot {snapshot:?}; list them with `mnemosynce snapshots --task {task:?}`")]
    NoSuchSnapshot { task: String, snapshot: String },
    #[error(transparent)]
    Listing(#[from] ListingError),
    #[error(transparent)]
    History(#[from] HistoryError),
}

/// Pins (with the owner's note; blank means none) or unpins snapshot `snapshot` of `task`.
pub async fn set_pin(
    config: &Config,
    history: &History,
    tz: Tz,
    task: &Task,
    snapshot: &str,
    pinned: bool,
    note: Option<&str>,
) -> Result<(), PinError> {
    let snapshots = list_snapshots(config, history, tz, task).await?;
    let found = snapshots
        .iter()
        .find(|s| s.name.to_string() == snapshot)
        .ok_or_else(|| PinError::NoSuchSnapshot {
            task: task.name.clone(),
            snapshot: snapshot.to_string(),
        })?;
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    let taken_at = local_to_utc(tz, &found.name);
    history
        .set_pinned(&task.name, snapshot, taken_at, pinned, note)
        .await?;
    Ok(())
}
