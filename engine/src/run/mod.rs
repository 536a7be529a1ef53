//! A run: every task (or the chosen ones) in config order, each through its steps (SPEC §6):
//!
//! ```text
//! preflight ─▶ backup ─▶ retention ─▶ mirror ─▶ cleanup
//! ```
//!
//! A failed step skips the later steps of its task (recorded as *skipped*), never the other tasks. A
//! run holds the data directory's [`RunLock`] from start to end, so runs of the server and of the CLI
//! never overlap; the lock is taken before anything is recorded, and a refused run changes nothing.
//!
//! Everything that happens is told three ways: typed [`RunEvent`]s to the caller's sink (the CLI's
//! progress output, the web feed), rows in the [`History`] database, and full per-step logs in
//! `<data>/logs/<run-id>/<task>.<step>.log`.
//!
//! This file is the public face (options, reports, [`run`], and the runs that never start:
//! [`record_failed_run`], [`record_skipped_run`]); `task.rs` walks one task through the steps, one
//! file per step does its work (`preflight.rs` … `cleanup.rs`), `context.rs` and `step_log.rs` hold
//! what the steps share, `adopt.rs` is `mnemosynce adopt`, `restore.rs` a restore (a run of its own,
//! one `restore` step). Listing a task's snapshots lives in
//! [`crate::store`].

mod adopt;
mod backup;
mod cleanup;
mod context;
mod mirror;
mod preflight;
mod restore;
mod retention;
mod step_log;
mod task;

pub use adopt::{adopt, AdoptError};
pub use backup::BackupError;
pub use cleanup::CleanupError;
pub use context::StepError;
pub use mirror::MirrorStepError;
pub use preflight::PreflightError;
pub use restore::{
    plan_restore, restore, Destination, RestoreError, RestorePlan, RestoreReport, RestoreRequest,
};
pub use retention::RetentionError;

use crate::data_dir::DataDir;
use crate::history::{History, HistoryError};
use crate::lock::{LockError, RunLock};
use crate::model::config::{Config, Task};
use crate::model::events::{RunEvent, StepKind, TransferStats, Trigger};
use crate::model::Status;
use chrono::Utc;
use chrono_tz::Tz;
use context::RunContext;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Where a run's events go.
pub type EventSink = Arc<dyn Fn(RunEvent) + Send + Sync>;

/// What to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub trigger: Trigger,
    /// Task names to run; empty means all, in config order.
    pub tasks: Vec<String>,
    /// Show what would happen; change nothing and record nothing.
    pub dry_run: bool,
}

/// Why a run did not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Busy(#[from] LockError),
    #[error(transparent)]
    UnknownTask(#[from] crate::model::config::UnknownTask),
    #[error(transparent)]
    DataDir(#[from] crate::data_dir::CreateError),
    #[error(transparent)]
    History(#[from] HistoryError),
}

/// The outcome of one step.
#[derive(Clone, Debug, PartialEq)]
pub struct StepReport {
    pub step: StepKind,
    pub status: Status,
    pub message: Option<String>,
}

/// The outcome of one task.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskReport {
    pub task: String,
    pub status: Status,
    pub snapshot: Option<String>,
    pub message: Option<String>,
    pub stats: Option<TransferStats>,
    pub steps: Vec<StepReport>,
}

/// The outcome of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunReport {
    /// `None` for a dry run (not recorded).
    pub run_id: Option<i64>,
    pub status: Status,
    pub tasks: Vec<TaskReport>,
}

/// Records a run that could not get past its configuration (SPEC §6: every run is recorded).
pub async fn record_failed_run(
    history: &History,
    trigger: Trigger,
    message: &str,
) -> Result<i64, HistoryError> {
    record_run_without_tasks(history, trigger, Status::Failed, message).await
}

/// Records a start that did not happen because another run was active (the scheduler's case), as a
/// *skipped* run with the reason, so the history shows the gap instead of hiding it.
pub async fn record_skipped_run(
    history: &History,
    trigger: Trigger,
    message: &str,
) -> Result<i64, HistoryError> {
    record_run_without_tasks(history, trigger, Status::Skipped, message).await
}

async fn record_run_without_tasks(
    history: &History,
    trigger: Trigger,
    status: Status,
    message: &str,
) -> Result<i64, HistoryError> {
    let now = Utc::now();
    let id = history.start_run(trigger, now).await?;
    history.finish_run(id, status, Some(message), now).await?;
    Ok(id)
}

/// Runs the tasks. Returns `Err` only when the run could not start (another run is active, an
/// unknown task was asked for); everything that goes wrong inside is in the report.
pub async fn run(
    data: &DataDir,
    history: &History,
    config: &Config,
    tz: Tz,
    options: RunOptions,
    events: EventSink,
    cancel: CancellationToken,
) -> Result<RunReport, RunError> {
    let tasks: Vec<&Task> = config.select_tasks(&options.tasks)?;
    data.create()?;
    let _lock = RunLock::acquire(&data.run_lock())?;

    let started = Utc::now();
    let run_id = if options.dry_run {
        None
    } else {
        history.close_interrupted(started).await?;
        Some(history.start_run(options.trigger, started).await?)
    };
    let id = run_id.unwrap_or(0);
    events(RunEvent::RunStarted {
        run_id: id,
        trigger: options.trigger,
        tasks: tasks.iter().map(|t| t.name.clone()).collect(),
        at: started,
    });

    let ctx = RunContext {
        data: data.clone(),
        history: history.clone(),
        config: config.clone(),
        tz,
        run_id,
        dry_run: options.dry_run,
        events,
        cancel,
    };
    let mut reports = Vec::new();
    let mut status = Status::Success;
    for (position, task) in tasks.iter().enumerate() {
        let report = ctx.run_task(task, position).await;
        status = status.worst(report.status);
        reports.push(report);
    }
    let finished = Utc::now();
    let failed = reports
        .iter()
        .filter(|r| r.status == Status::Failed)
        .count();
    let message = (failed > 0).then(|| format!("{failed} of {} tasks failed", reports.len()));
    if let Some(run_id) = run_id {
        if let Err(e) = history
            .finish_run(run_id, status, message.as_deref(), finished)
            .await
        {
            tracing::error!("cannot record the end of run {run_id}: {e}");
        }
        prune_history(data, history, config).await;
    }
    (ctx.events)(RunEvent::RunFinished {
        run_id: id,
        status,
        at: finished,
    });
    Ok(RunReport {
        run_id,
        status,
        tasks: reports,
    })
}

/// Drops runs older than `history.keep_days`, with their log folders.
async fn prune_history(data: &DataDir, history: &History, config: &Config) {
    let cutoff = Utc::now() - chrono::Duration::days(i64::from(config.history.keep_days));
    match history.prune_runs(cutoff).await {
        Ok(ids) => {
            for id in ids {
                let _ = std::fs::remove_dir_all(data.run_logs(id));
            }
        }
        Err(e) => tracing::warn!("cannot prune the run history: {e}"),
    }
}
