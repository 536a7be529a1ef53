//! The mirror step (SPEC §6.1): the task folder copied to `dir_backup_remote` by rsync, behind the
//! two safety valves; the mechanics (target, filters, remote listing) are in [`crate::mirror`].
//!
//! Invariants (the valves): a local task folder without a complete snapshot is never mirrored (a
//! wiped or unmounted store must never wipe the mirror); a snapshot that exists only on the mirror
//! may be deleted there only if the retention policy would prune it, otherwise the step refuses and
//! names them; a pinned snapshot stays on the mirror even when its local folder is gone (protected
//! from `--delete`); only names Mnemosynce writes and adopted folders are subject to `--delete`.

use super::context::{RunContext, StepEnd};
use super::step_log::StepReporter;
use crate::history::HistoryError;
use crate::mirror::{self, MirrorTarget};
use crate::model::config::Task;
use crate::model::events::LogLevel;
use crate::model::snapshot::{Completeness, SnapshotName};
use crate::model::Status;
use crate::retention::{self, Candidate};
use crate::store::{listing, ListingError, TaskStore};
use crate::transfer::rsync::run_rsync;
use crate::transfer::{StepSink, TransferEnd};
use std::path::PathBuf;

/// Why the mirror step refused or could not start its transfer (a transfer that failed is not an
/// error here: its end carries the transfer's counters).
#[derive(Debug, thiserror::Error)]
pub enum MirrorStepError {
    /// The local snapshots could not be listed.
    #[error(transparent)]
    Listing(#[from] ListingError),
    /// Valve 1: the local task folder holds no complete snapshot.
    #[error("refusing to mirror: {} holds no complete snapshot (a wiped or unmounted store must never wipe the mirror)", .0.display())]
    NoCompleteSnapshot(PathBuf),
    /// The mirror's folder could not be prepared or listed, or reached (the mirror module's
    /// one-line explanation with its fix).
    #[error("{0}")]
    Target(String),
    #[error("cannot read the adopted snapshots: {0}")]
    Adopted(HistoryError),
    /// Valve 2: these snapshots exist only on the mirror and retention would keep them.
    #[error("refusing to mirror: it would delete {} snapshot(s) from the mirror that retention would keep ({}); they are missing from the local store. If they are meant to go, delete them on the mirror by hand", .0.len(), .0.join(", "))]
    WouldDeleteKept(Vec<String>),
}

impl RunContext {
    /// Mirrors the task folder, behind the two valves (see the module docs).
    pub(super) async fn mirror(
        &self,
        task: &Task,
        store: &TaskStore,
        xattrs: bool,
        out: &StepReporter,
    ) -> Result<StepEnd, MirrorStepError> {
        let Some(remote) = &self.config.dir_backup_remote else {
            return Ok(StepEnd::with(
                Status::Skipped,
                "not configured (no dir_backup_remote)",
            ));
        };
        let target = MirrorTarget::for_task(remote, &task.name);
        let ssh = self.ssh();
        // Valve 1: a local task folder without a complete snapshot is never mirrored.
        let local = listing(store, &self.history, &task.name).await?;
        let local_all = local.all();
        if !local_all
            .iter()
            .any(|c| c.completeness == Completeness::Complete)
        {
            return Err(MirrorStepError::NoCompleteSnapshot(
                store.dir().to_path_buf(),
            ));
        }
        target
            .prepare(&ssh)
            .await
            .map_err(MirrorStepError::Target)?;
        // Valve 2: only snapshots retention could have pruned may disappear from the mirror.
        let remote_names = target
            .snapshots(&ssh)
            .await
            .map_err(MirrorStepError::Target)?;
        let adopted = self
            .history
            .adopted_names(&task.name)
            .await
            .map_err(MirrorStepError::Adopted)?;
        // What `--delete` may remove there: names of the form only Mnemosynce writes, and the
        // `YYYY-MM-DD` folders the owner adopted (see `mirror::filter_args`).
        let deletable = |n: &SnapshotName| !n.is_legacy() || adopted.contains(&n.to_string());
        let gone: Vec<&SnapshotName> = remote_names
            .iter()
            .filter(|n| deletable(n) && !local_all.iter().any(|c| &c.name == *n))
            .collect();
        // A pin outlives the local folder: a pinned snapshot deleted here by hand stays there.
        let pins = self
            .history
            .snapshot_index(&task.name)
            .await
            .map_err(MirrorStepError::Adopted)?;
        let pinned = |n: &SnapshotName| pins.get(&n.to_string()).is_some_and(|e| e.pinned);
        let mut protected = Vec::new();
        if !gone.is_empty() {
            let mut union = local.owned.clone();
            union.extend(gone.iter().map(|n| Candidate {
                name: (*n).clone(),
                completeness: Completeness::Complete,
                pinned: pinned(n),
            }));
            let plan = retention::plan(&union, &self.config.policy_for(task), self.tz, None);
            let kept: Vec<String> = plan
                .iter()
                .filter(|d| d.keep() && gone.contains(&&d.name) && !pinned(&d.name))
                .map(|d| d.name.to_string())
                .collect();
            if !kept.is_empty() {
                return Err(MirrorStepError::WouldDeleteKept(kept));
            }
            protected = gone
                .iter()
                .filter(|n| pinned(n))
                .map(|n| n.to_string())
                .collect();
            if !protected.is_empty() {
                out.log(
                    LogLevel::Info,
                    &format!(
                        "kept on the mirror though gone here, because pinned: {}",
                        protected.join(", ")
                    ),
                );
            }
            out.log(
                LogLevel::Info,
                &format!(
                    "{} pruned snapshot(s) will be deleted from the mirror",
                    gone.len() - protected.len()
                ),
            );
        }
        let mut args: Vec<std::ffi::OsString> = [
            "--archive",
            "--numeric-ids",
            "--hard-links",
            "--delete",
            "--info=progress2",
            "--stats",
        ]
        .iter()
        .map(Into::into)
        .collect();
        if xattrs {
            args.push("--acls".into());
            args.push("--xattrs".into());
        }
        if self.dry_run {
            args.push("--dry-run".into());
        }
        // First matching filter rule wins: the pinned ones are protected before any `risk` rule.
        args.extend(
            protected
                .iter()
                .map(|n| std::ffi::OsString::from(format!("--filter=protect /{n}"))),
        );
        args.extend(mirror::filter_args(&adopted));
        let mut src = store.dir().as_os_str().to_owned();
        src.push("/");
        args.push(src);
        args.extend(
            target
                .rsync_dest_args(&ssh)
                .map_err(MirrorStepError::Target)?,
        );
        let workdir = match &target {
            MirrorTarget::Ssh { .. } => ssh.workdir(),
            MirrorTarget::Local { .. } => None,
        };
        let run = run_rsync(
            std::ffi::OsStr::new("rsync"),
            &args,
            workdir,
            out,
            &self.cancel,
        )
        .await;
        let outcome = run.into_outcome();
        let stats = Some(outcome.stats.clone());
        Ok(match outcome.end {
            TransferEnd::Complete => StepEnd {
                status: Status::Success,
                message: Some(format!("mirrored to {remote}")),
                stats,
            },
            TransferEnd::Vanished { .. } => StepEnd {
                status: Status::Success,
                message: Some(format!("mirrored to {remote}")),
                stats,
            },
            TransferEnd::Partial { paths } => StepEnd {
                status: Status::Warning,
                message: Some(format!(
                    "mirrored to {remote}, but {} path(s) could not be copied",
                    paths.len()
                )),
                stats,
            },
            TransferEnd::Failed { message } => StepEnd {
                status: Status::Failed,
                message: Some(format!("mirror failed: {message}")),
                stats,
            },
            TransferEnd::Cancelled => StepEnd {
                status: Status::Cancelled,
                message: Some("cancelled".into()),
                stats,
            },
        })
    }
}
