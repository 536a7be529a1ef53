//! The retention step (SPEC §5): plans with the task's policy and retires what it prunes; the
//! cleanup step deletes their files later.
//!
//! Invariants: only snapshots Mnemosynce made or the owner adopted are candidates
//! ([`crate::store::Listing::owned`]); the snapshot this run just made is protected; snapshot-named
//! folders it did not make, and anything else unexpected in the task folder, are reported and left
//! alone; a pruned snapshot leaves the listing at once (an atomic rename), then the index; a dry run
//! only tells what it would do.

use super::context::{RunContext, StepEnd};
use super::step_log::StepReporter;
use crate::model::config::Task;
use crate::model::events::LogLevel;
use crate::model::snapshot::SnapshotName;
use crate::model::Status;
use crate::store::{listing, ListingError, StoreError, TaskStore};
use crate::transfer::StepSink;

/// Why the retention step could not plan or retire.
#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    /// The task's snapshots could not be listed.
    #[error(transparent)]
    Listing(#[from] ListingError),
    /// A pruned snapshot could not be retired, or `latest` not pointed at the newest.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl RunContext {
    /// Plans with the policy and retires what it prunes (they leave the listing at once; their files
    /// are deleted by the cleanup step). Only snapshots Mnemosynce made or the owner adopted are
    /// candidates; snapshot-named folders it did not make, and anything else unexpected in the task
    /// folder, are reported and left alone.
    pub(super) async fn retention(
        &self,
        task: &Task,
        store: &TaskStore,
        current: Option<&SnapshotName>,
        out: &StepReporter,
    ) -> Result<StepEnd, RetentionError> {
        let listing = listing(store, &self.history, &task.name).await?;
        let policy = self.config.policy_for(task);
        let decisions = listing.plan(&policy, self.tz, current);
        let mut pruned = Vec::new();
        for d in &decisions {
            if d.keep() {
                let reasons = d
                    .reasons
                    .iter()
                    .map(|r| r.to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                out.log(LogLevel::Info, &format!("keep  {} ({reasons})", d.name));
            } else {
                out.log(LogLevel::Info, &format!("prune {}", d.name));
                pruned.push(d.name.clone());
            }
        }
        let foreign: Vec<String> = listing.foreign.iter().map(|c| c.name.to_string()).collect();
        let mut note = None;
        if !foreign.is_empty() {
            let text = format!(
                "{} snapshot-named folder(s) were not made by Mnemosynce and are left alone: {} — if the original Mnemosynce made them, let retention manage them with `mnemosynce adopt {}`",
                foreign.len(),
                foreign.join(", "),
                task.name
            );
            out.log(LogLevel::Warn, &text);
            note = Some(text);
        }
        let unexpected = store.unexpected_entries();
        if !unexpected.is_empty() {
            out.log(
                LogLevel::Warn,
                &format!(
                    "the task folder holds entries Mnemosynce did not make, left alone: {}",
                    unexpected.join(", ")
                ),
            );
        }
        let with_note = |summary: String| match &note {
            Some(n) => StepEnd::with(Status::Warning, format!("{summary}; {n}")),
            None => StepEnd::ok(summary),
        };
        if self.dry_run {
            return Ok(with_note(format!(
                "dry run: would keep {}, prune {}",
                decisions.len() - pruned.len(),
                pruned.len()
            )));
        }
        for name in &pruned {
            store.retire(name)?;
            self.db(
                "the pruned snapshot",
                self.history.forget_snapshot(&task.name, &name.to_string()),
            )
            .await;
        }
        store.point_latest_to_newest()?;
        Ok(with_note(format!(
            "kept {}, pruned {}",
            decisions.len() - pruned.len(),
            pruned.len()
        )))
    }
}
