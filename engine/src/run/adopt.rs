//! Adoption (`mnemosynce adopt TASK`, SPEC §3): the snapshot-named folders of a task that
//! Mnemosynce did not make (the original Mnemosynce's `YYYY-MM-DD` folders) become Mnemosynce's, so
//! retention may prune them from the next run on.
//!
//! Invariants: adoption only writes index rows (never touches a folder); only folders the listing
//! calls foreign are adopted; each adoption is logged.

use crate::history::{History, HistoryError};
use crate::model::config::{Config, Task};
use crate::model::snapshot::SnapshotName;
use crate::store::{listing, local_to_utc, ListingError, TaskStore};
use chrono::Utc;
use chrono_tz::Tz;

/// Why adoption stopped (the folders adopted before stay adopted).
#[derive(Debug, thiserror::Error)]
pub enum AdoptError {
    /// The task's snapshots could not be listed.
    #[error(transparent)]
    Listing(#[from] ListingError),
    /// An adoption could not be recorded.
    #[error(transparent)]
    History(#[from] HistoryError),
}

/// Adopts the snapshot-named folders of `task` that Mnemosynce did not make (SPEC §3: the original
/// Mnemosynce's `YYYY-MM-DD` folders): from now on retention may prune them. Returns the adopted
/// names, oldest first; each adoption is logged.
pub async fn adopt(
    config: &Config,
    history: &History,
    tz: Tz,
    task: &Task,
) -> Result<Vec<SnapshotName>, AdoptError> {
    let store = TaskStore::new(&config.dir_backup_local, &task.name);
    let foreign = listing(&store, history, &task.name).await?.foreign;
    let now = Utc::now();
    let mut adopted = Vec::new();
    for c in foreign {
        history
            .adopt_snapshot(
                &task.name,
                &c.name.to_string(),
                local_to_utc(tz, &c.name),
                now,
            )
            .await?;
        tracing::info!(task = %task.name, snapshot = %c.name, "adopted: retention manages this folder from now on");
        adopted.push(c.name);
    }
    Ok(adopted)
}
