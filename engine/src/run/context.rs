//! What every step of a run shares: the [`RunContext`] (data directory, history, configuration,
//! zone, run id, dry-run flag, event sink, cancellation), [`StepEnd`], what a step ends with, and
//! [`StepError`], why it failed.
//!
//! Invariants: a dry run has no run id and records nothing (`db` calls are skipped by the callers,
//! log files are not written); a failure to record in the history never fails a step — it is
//! logged and told as an event ([`RunContext::db`]).

use super::backup::BackupError;
use super::cleanup::CleanupError;
use super::mirror::MirrorStepError;
use super::preflight::PreflightError;
use super::retention::RetentionError;
use super::step_log::{log_file_name, StepReporter};
use super::EventSink;
use crate::data_dir::DataDir;
use crate::history::{History, HistoryError};
use crate::model::config::Config;
use crate::model::events::{LogLevel, RunEvent, StepKind, TransferStats};
use crate::model::Status;
use chrono::Utc;
use chrono_tz::Tz;
use std::path::PathBuf;
use std::sync::Mutex;
use tokio_util::sync::CancellationToken;

/// One run's shared state, handed to every task and step.
pub(super) struct RunContext {
    pub(super) data: DataDir,
    pub(super) history: History,
    pub(super) config: Config,
    pub(super) tz: Tz,
    pub(super) run_id: Option<i64>,
    pub(super) dry_run: bool,
    pub(super) events: EventSink,
    pub(super) cancel: CancellationToken,
}

/// Why a step failed, as its own step tells it. The report and the history get the text, which is
/// the step error's own.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Preflight(#[from] PreflightError),
    #[error(transparent)]
    Backup(#[from] BackupError),
    #[error(transparent)]
    Retention(#[from] RetentionError),
    #[error(transparent)]
    Mirror(#[from] MirrorStepError),
    #[error(transparent)]
    Cleanup(#[from] CleanupError),
}

/// What a step ends with when it did not fail with a [`StepError`] (a failed or cancelled transfer
/// is such an end: it carries the transfer's counters).
pub(super) struct StepEnd {
    pub(super) status: Status,
    pub(super) message: Option<String>,
    pub(super) stats: Option<TransferStats>,
}

impl StepEnd {
    pub(super) fn ok(message: impl Into<String>) -> StepEnd {
        StepEnd {
            status: Status::Success,
            message: Some(message.into()),
            stats: None,
        }
    }
    pub(super) fn failed(message: impl Into<String>) -> StepEnd {
        StepEnd {
            status: Status::Failed,
            message: Some(message.into()),
            stats: None,
        }
    }
    pub(super) fn with(status: Status, message: impl Into<String>) -> StepEnd {
        StepEnd {
            status,
            message: Some(message.into()),
            stats: None,
        }
    }
}

impl RunContext {
    pub(super) fn id(&self) -> i64 {
        self.run_id.unwrap_or(0)
    }

    pub(super) fn reporter(&self, task: &str, step: StepKind) -> (StepReporter, Option<PathBuf>) {
        let mut path = None;
        let mut log = None;
        if let Some(run_id) = self.run_id {
            let dir = self.data.run_logs(run_id);
            let p = dir.join(log_file_name(task, step));
            if std::fs::create_dir_all(&dir).is_ok() {
                if let Ok(f) = std::fs::File::create(&p) {
                    log = Some(Mutex::new(f));
                    path = Some(p);
                }
            }
        }
        let r = StepReporter {
            run_id: self.id(),
            task: task.to_string(),
            step,
            events: self.events.clone(),
            log,
        };
        (r, path)
    }

    pub(super) async fn db<T>(
        &self,
        what: &str,
        f: impl std::future::Future<Output = Result<T, HistoryError>>,
    ) -> Option<T> {
        match f.await {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::error!("cannot record {what}: {e}");
                (self.events)(RunEvent::Log {
                    run_id: self.id(),
                    task: None,
                    step: None,
                    level: LogLevel::Error,
                    line: format!("cannot record {what} in the history: {e}"),
                });
                None
            }
        }
    }

    pub(super) async fn record_whole_step(
        &self,
        task_run_id: Option<i64>,
        task: &str,
        step: StepKind,
        end: &StepEnd,
    ) {
        if let Some(tr) = task_run_id {
            let now = Utc::now();
            if let Some(id) = self
                .db("a step", self.history.start_step(tr, step, now, None))
                .await
            {
                self.db(
                    "a step",
                    self.history
                        .finish_step(id, end.status, end.message.as_deref(), None, now),
                )
                .await;
            }
        }
        self.step_finished(task, step, end);
    }

    pub(super) fn step_finished(&self, task: &str, step: StepKind, end: &StepEnd) {
        (self.events)(RunEvent::StepFinished {
            run_id: self.id(),
            task: task.to_string(),
            step,
            status: end.status,
            message: end.message.clone(),
            stats: end.stats.clone(),
            at: Utc::now(),
        });
    }

    /// The SSH folder for this run's commands: a task's commands share one connection per host.
    pub(super) fn ssh(&self) -> crate::ssh::SshDir {
        self.data.ssh().shared()
    }
}
