//! The backup step: the snapshot itself (SPEC §4). The task's transfer (rsync or native, one
//! [`Transfer`] trait) fills `.incomplete/`, linking unchanged files to the newest snapshot and to
//! interrupted transfers; a complete transfer is promoted to a snapshot name.
//!
//! Invariants: a source that turned empty (an unmounted drive) never becomes a snapshot while an
//! earlier one is not empty, unless the task allows it (the empty-source guard); a failed or
//! cancelled transfer promotes and deletes nothing, `.incomplete/` is kept and the next run resumes;
//! the index learns a snapshot's name before its folder gets it; a dry run writes nothing.

use super::context::{RunContext, StepEnd};
use super::preflight::Preflight;
use super::step_log::StepReporter;
use crate::model::config::{Endpoint, Task, TransferEngine};
use crate::model::events::LogLevel;
use crate::model::snapshot::{Completeness, SnapshotName};
use crate::model::Status;
use crate::store::{local_to_utc, StoreError, TaskStore};
use crate::transfer::native::NativeTransfer;
use crate::transfer::rsync::RsyncTransfer;
use crate::transfer::{StepSink, Transfer, TransferEnd, TransferRequest};
use chrono::Utc;
use std::path::{Path, PathBuf};

/// Why the backup step made no snapshot (a transfer that failed or was cancelled is not an error
/// here: its end carries the transfer's counters).
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The task folder could not be prepared or read, or the new name not found.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The empty-source guard (SPEC §4.4).
    #[error("source is empty — is the drive mounted? ({dir} is empty or missing but snapshot {previous} is not; set allow_empty_source: true on this task if it is meant to be empty)")]
    EmptySource {
        dir: Endpoint,
        previous: SnapshotName,
    },
    /// `engine: native` on an SSH source (the validator refuses it; a `Config` built otherwise
    /// gets the same sentence).
    #[error("task {task} has engine: native, but its source {dir} is an SSH source: native snapshots only \
             local folders; use engine: rsync or remove the key")]
    NativeNeedsLocalSource { task: String, dir: Endpoint },
    /// The SSH command for rsync could not be put together.
    #[error("{0}")]
    Ssh(String),
    /// The complete transfer could not get its snapshot name.
    #[error("{0} (the data stays in .incomplete/; the next run resumes)")]
    Promote(StoreError),
}

impl RunContext {
    /// The snapshot itself.
    pub(super) async fn backup(
        &self,
        task: &Task,
        store: &TaskStore,
        preflight: &Preflight,
        out: &StepReporter,
    ) -> Result<(StepEnd, Option<SnapshotName>), BackupError> {
        store.ensure_dir()?;
        let newest = store.newest()?;
        // Empty-source guard (SPEC §4.4): a source that turned empty (an unmounted drive) must not
        // become an empty snapshot that retention would then prefer.
        let source_empty = match &task.dir_source {
            Endpoint::Local(src) => Some(TaskStore::is_empty_dir(src)),
            Endpoint::Ssh(_) => preflight.source_empty,
        };
        let empty_refusal = || -> Option<BackupError> {
            let prev = newest.as_ref()?;
            (!task.allow_empty_source && !TaskStore::is_empty_dir(&store.snapshot_path(prev))).then(
                || BackupError::EmptySource {
                    dir: task.dir_source.clone(),
                    previous: prev.clone(),
                },
            )
        };
        if source_empty == Some(true) {
            if let Some(refusal) = empty_refusal() {
                return Err(refusal);
            }
        }
        let transfer = transfer_for(task, out)?;
        let ssh = self.ssh();
        let (rsh, workdir) = match &task.dir_source {
            Endpoint::Local(_) => (None, None),
            Endpoint::Ssh(e) => match ssh.rsync_rsh(e.port) {
                Ok(r) => (Some(r), ssh.workdir().map(Path::to_path_buf)),
                Err(e) => return Err(BackupError::Ssh(e)),
            },
        };
        let mut link_dests: Vec<PathBuf> = newest.iter().map(|n| store.snapshot_path(n)).collect();
        if !self.dry_run {
            let resume = store.prepare_incomplete()?;
            if !resume.is_empty() {
                out.log(LogLevel::Info, "resuming an interrupted transfer: files it already holds are linked, not copied again");
            }
            link_dests.extend(resume);
        }
        let request = TransferRequest {
            source: task.dir_source.clone(),
            dest: store.incomplete(),
            link_dests,
            excludes: task.excludes.clone(),
            one_file_system: task.one_file_system,
            bwlimit_kbps: task.bwlimit_kbps,
            acls_xattrs: preflight.xattrs,
            dry_run: self.dry_run,
            rsh,
            workdir,
        };
        let outcome = transfer.transfer(&request, out, &self.cancel).await;
        let stats = Some(outcome.stats.clone());
        let (status, note, completeness) = match outcome.end {
            TransferEnd::Complete => (Status::Success, None, Completeness::Complete),
            TransferEnd::Vanished { paths } => (
                Status::Warning,
                Some(format!(
                    "{} file(s) vanished while they were copied (normal for files that change)",
                    paths.len().max(1)
                )),
                Completeness::Complete,
            ),
            TransferEnd::Partial { paths } => (
                Status::Warning,
                Some(format!(
                    "partial snapshot: {} path(s) could not be read ({}); check their permissions",
                    paths.len(),
                    paths.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
                )),
                Completeness::Partial,
            ),
            TransferEnd::Failed { message } => {
                return Ok((
                    StepEnd {
                        status: Status::Failed,
                        message: Some(format!(
                            "{message} (nothing was promoted or deleted; the next run resumes)"
                        )),
                        stats,
                    },
                    None,
                ))
            }
            TransferEnd::Cancelled => {
                return Ok((
                    StepEnd {
                        status: Status::Cancelled,
                        message: Some(
                            "cancelled; .incomplete/ is kept and the next run resumes".into(),
                        ),
                        stats,
                    },
                    None,
                ))
            }
        };
        // The same guard for a source whose emptiness only the transfer could tell: the empty
        // fresh .incomplete/ goes (nothing is in it), the earlier snapshots stay as they were.
        if source_empty.is_none() && !self.dry_run && TaskStore::is_empty_dir(&store.incomplete()) {
            if let Some(refusal) = empty_refusal() {
                let _ = std::fs::remove_dir(store.incomplete());
                return Err(refusal);
            }
        }
        if self.dry_run {
            let s = outcome.stats;
            return Ok((
                StepEnd {
                    status,
                    message: Some(format!(
                        "dry run: {} of {} files would be copied",
                        s.files_transferred, s.files_total
                    )),
                    stats,
                },
                None,
            ));
        }
        let now_local = Utc::now().with_timezone(&self.tz).naive_local();
        let (name, clock_behind) = store.next_name(now_local)?;
        if clock_behind {
            out.log(LogLevel::Warn, "the clock is behind the newest snapshot: the new snapshot is named after it so the order stays right");
        }
        // The index learns the name before the folder gets it: a kill between the two leaves an
        // index row without a folder (harmless, ignored by listings), never a finished snapshot the
        // index does not own (which retention would then refuse to manage).
        let taken = local_to_utc(self.tz, &name);
        self.db(
            "the snapshot",
            self.history.record_snapshot(
                &task.name,
                &name.to_string(),
                taken,
                completeness,
                self.run_id,
            ),
        )
        .await;
        if let Err(e) = store.promote(&name) {
            self.db(
                "the snapshot",
                self.history.forget_snapshot(&task.name, &name.to_string()),
            )
            .await;
            return Err(BackupError::Promote(e));
        }
        // The new snapshot's sizes, and the one before it (its unique size shrank: the new snapshot
        // now shares its unchanged files). Not measured is a warning, never a failed backup.
        let before = store.before(&name).ok().flatten();
        let measure: Vec<SnapshotName> = before.into_iter().chain([name.clone()]).collect();
        let measuring = std::time::Instant::now();
        match crate::store::record_sizes(
            &self.config.dir_backup_local,
            &self.history,
            self.tz,
            &task.name,
            &measure,
        )
        .await
        {
            Ok(sizes) => {
                if let Some(z) = sizes.last() {
                    out.log(
                        LogLevel::Info,
                        &format!(
                            "sizes measured in {:.2} s: {} files, {} in all, {} unique",
                            measuring.elapsed().as_secs_f64(),
                            z.files,
                            crate::model::units::human_bytes(z.total),
                            crate::model::units::human_bytes(z.unique)
                        ),
                    );
                }
            }
            Err(e) => out.log(
                LogLevel::Warn,
                &format!("the snapshot's size was not measured: {e}"),
            ),
        }
        let s = &outcome.stats;
        let mut message = format!(
            "snapshot {name}: {} files, {} copied ({} of {} bytes)",
            s.files_total, s.files_transferred, s.bytes_transferred, s.bytes_total
        );
        if let Some(note) = note {
            message = format!("{message}; {note}");
        }
        Ok((
            StepEnd {
                status,
                message: Some(message),
                stats,
            },
            Some(name),
        ))
    }
}

/// The transfer a task's backup uses (`tasks[].engine`, else the default for its kind of source), and
/// one log line naming it and why.
fn transfer_for(task: &Task, out: &dyn StepSink) -> Result<Box<dyn Transfer>, BackupError> {
    let engine = task.effective_engine();
    let transfer: Box<dyn Transfer> = match (engine, &task.dir_source) {
        (TransferEngine::Rsync, _) => Box::new(RsyncTransfer::default()),
        (TransferEngine::Native, Endpoint::Local(_)) => Box::new(NativeTransfer::default()),
        // The validator refuses this; a Config built some other way gets the same sentence.
        (TransferEngine::Native, Endpoint::Ssh(_)) => {
            return Err(BackupError::NativeNeedsLocalSource {
                task: task.name.clone(),
                dir: task.dir_source.clone(),
            })
        }
    };
    let why = match (task.engine, &task.dir_source) {
        (Some(_), _) => "set by the task's engine key",
        (None, Endpoint::Local(_)) => "the default for a local source",
        (None, Endpoint::Ssh(_)) => "the default for an SSH source",
    };
    out.log(
        LogLevel::Info,
        &format!("transfer engine: {} ({why})", transfer.name()),
    );
    Ok(transfer)
}
