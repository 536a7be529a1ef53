//! A task's snapshots as Mnemosynce sees them: the folders on disk ([`TaskStore::snapshots`]) joined
//! with what the history's index knows of each (partial, pinned, made or adopted by Mnemosynce).
//!
//! Invariants: only folders the index knows as Mnemosynce's ([`Listing::owned`]) are ever retention
//! candidates; every other snapshot-named folder is [`Listing::foreign`], kept and reported, until
//! the owner adopts it (`run::adopt`). A name the index knows without a folder is ignored (the
//! folder is the truth; see the backup step's promotion order).
//!
//! The run's retention and mirror steps, `mnemosynce plan`/`snapshots`, the web app's pages, the
//! policy preview (`retention_preview`), the overview and the email report all list through here, so
//! they agree on what a task holds.

use super::{StoreError, TaskStore};
use crate::history::{History, HistoryError};
use crate::model::config::{Config, RetentionPolicy, Task};
use crate::model::retention::{Decision, KeepReason};
use crate::model::snapshot::{Completeness, SnapshotInfo, SnapshotName};
use crate::retention::{self, Candidate};
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Why a task's snapshots could not be listed. The texts are the underlying errors' own.
#[derive(Debug, thiserror::Error)]
pub enum ListingError {
    /// The task folder could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The snapshot index could not be read.
    #[error(transparent)]
    History(#[from] HistoryError),
}

/// The instant a snapshot name stands for (names are wall-clock time in the configured zone).
pub fn local_to_utc(tz: Tz, name: &SnapshotName) -> DateTime<Utc> {
    match tz.from_local_datetime(&name.local_time()) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        chrono::LocalResult::Ambiguous(a, _) => a.with_timezone(&Utc),
        chrono::LocalResult::None => Utc.from_utc_datetime(&name.local_time()),
    }
}

/// A task's snapshot folders, split by whether Mnemosynce may delete them.
#[derive(Clone, Debug, Default)]
pub struct Listing {
    /// Snapshots a run made or the owner adopted (oldest first), with what the index knows of them:
    /// the only ones retention plans and prunes.
    pub owned: Vec<Candidate>,
    /// Snapshot-named folders the history does not know as Mnemosynce's (oldest first): e.g. the
    /// original Mnemosynce's `YYYY-MM-DD` folders, or the owner's own folders that happen to be
    /// named by date. Never pruned, never counted in a tier, until adopted (`mnemosynce adopt`).
    pub foreign: Vec<Candidate>,
}

impl Listing {
    /// Every snapshot folder, owned or not, oldest first.
    pub fn all(&self) -> Vec<Candidate> {
        let mut all: Vec<Candidate> = self.owned.iter().chain(&self.foreign).cloned().collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }

    /// The retention plan of this listing, newest first: the planner's verdict on the owned
    /// snapshots, and "keep (not adopted)" for the others.
    pub fn plan(
        &self,
        policy: &RetentionPolicy,
        tz: Tz,
        protect: Option<&SnapshotName>,
    ) -> Vec<Decision> {
        let mut decisions = retention::plan(&self.owned, policy, tz, protect);
        decisions.extend(self.foreign.iter().map(|c| Decision {
            name: c.name.clone(),
            reasons: vec![KeepReason::NotAdopted],
        }));
        decisions.sort_by(|a, b| b.name.cmp(&a.name));
        decisions
    }
}

/// A task's snapshot folders with what the index knows of them (see [`Listing`]).
pub async fn listing(
    store: &TaskStore,
    history: &History,
    task: &str,
) -> Result<Listing, ListingError> {
    let names = store.snapshots()?;
    let index = history.snapshot_index(task).await?;
    let mut out = Listing::default();
    for name in names {
        let entry = index.get(&name.to_string());
        let candidate = Candidate {
            completeness: entry
                .map(|e| e.completeness)
                .unwrap_or(Completeness::Complete),
            pinned: entry.map(|e| e.pinned).unwrap_or(false),
            name,
        };
        if entry.is_some_and(|e| e.owned) {
            out.owned.push(candidate);
        } else {
            out.foreign.push(candidate);
        }
    }
    Ok(out)
}

/// Lists a task's snapshots, newest first (for `mnemosynce snapshots` and the web app).
pub async fn list_snapshots(
    config: &Config,
    history: &History,
    tz: Tz,
    task: &Task,
) -> Result<Vec<SnapshotInfo>, ListingError> {
    let store = TaskStore::new(&config.dir_backup_local, &task.name);
    let listing = listing(&store, history, &task.name).await?;
    let index = history.snapshot_index(&task.name).await?;
    let mut out: Vec<_> = listing
        .owned
        .into_iter()
        .map(|c| (c, true))
        .chain(listing.foreign.into_iter().map(|c| (c, false)))
        .map(|(c, managed)| SnapshotInfo {
            task: task.name.clone(),
            time: local_to_utc(tz, &c.name).with_timezone(&tz).to_rfc3339(),
            status: c.completeness,
            pinned: c.pinned,
            pin_note: index
                .get(&c.name.to_string())
                .and_then(|e| e.pin_note.clone()),
            sizes: index.get(&c.name.to_string()).and_then(|e| e.sizes),
            managed,
            name: c.name,
        })
        .collect();
    out.sort_by(|a, b| b.name.cmp(&a.name));
    Ok(out)
}

/// Plans retention for a task without changing anything (for `mnemosynce plan` and the web app).
pub async fn plan_task(
    config: &Config,
    history: &History,
    tz: Tz,
    task: &Task,
) -> Result<Vec<Decision>, ListingError> {
    let store = TaskStore::new(&config.dir_backup_local, &task.name);
    let listing = listing(&store, history, &task.name).await?;
    Ok(listing.plan(&config.policy_for(task), tz, None))
}
