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

use crate::data_dir::DataDir;
use crate::history::{History, HistoryError};
use crate::lock::{LockError, RunLock};
use crate::mirror::{self, MirrorTarget};
use crate::model::config::{Config, Endpoint, Task, TransferEngine};
use crate::model::events::{LogLevel, Progress, RunEvent, StepKind, TransferStats, Trigger};
use crate::model::snapshot::{Completeness, SnapshotName};
use crate::model::Status;
use crate::retention::{self, Candidate};
use crate::store::{self, TaskStore};
use crate::transfer::native::NativeTransfer;
use crate::transfer::rsync::{run_rsync, RsyncTransfer};
use crate::transfer::{StepSink, Transfer, TransferEnd, TransferRequest};
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
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
    #[error("cannot create the data directory {}: {source}", path.display())]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
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
    data.create().map_err(|source| RunError::DataDir {
        path: data.root().to_path_buf(),
        source,
    })?;
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

struct RunContext {
    data: DataDir,
    history: History,
    config: Config,
    tz: Tz,
    run_id: Option<i64>,
    dry_run: bool,
    events: EventSink,
    cancel: CancellationToken,
}

/// What preflight found out, for the later steps.
#[derive(Clone, Debug, Default)]
struct Preflight {
    /// Copy ACLs and xattrs (the task wants them and the store keeps them).
    xattrs: bool,
    /// The source has no entries (or is missing); `None` for an SSH source preflight only logged
    /// in to (its emptiness is judged from what the transfer brought).
    source_empty: Option<bool>,
}

/// What a step ends with.
struct StepEnd {
    status: Status,
    message: Option<String>,
    stats: Option<TransferStats>,
}

impl StepEnd {
    fn ok(message: impl Into<String>) -> StepEnd {
        StepEnd {
            status: Status::Success,
            message: Some(message.into()),
            stats: None,
        }
    }
    fn failed(message: impl Into<String>) -> StepEnd {
        StepEnd {
            status: Status::Failed,
            message: Some(message.into()),
            stats: None,
        }
    }
    fn with(status: Status, message: impl Into<String>) -> StepEnd {
        StepEnd {
            status,
            message: Some(message.into()),
            stats: None,
        }
    }
}

/// Writes a step's log file and turns its output into events.
struct StepReporter {
    run_id: i64,
    task: String,
    step: StepKind,
    events: EventSink,
    log: Option<Mutex<std::fs::File>>,
}

impl StepSink for StepReporter {
    fn progress(&self, progress: Progress) {
        (self.events)(RunEvent::Progress {
            run_id: self.run_id,
            task: self.task.clone(),
            step: self.step,
            progress,
        });
    }

    fn log(&self, level: LogLevel, line: &str) {
        if let Some(file) = &self.log {
            if let Ok(mut f) = file.lock() {
                let tag = match level {
                    LogLevel::Info => "INFO",
                    LogLevel::Warn => "WARN",
                    LogLevel::Error => "ERROR",
                };
                let _ = writeln!(
                    f,
                    "{} {tag} {line}",
                    chrono::Local::now().format("%H:%M:%S")
                );
            }
        }
        (self.events)(RunEvent::Log {
            run_id: self.run_id,
            task: Some(self.task.clone()),
            step: Some(self.step),
            level,
            line: line.to_string(),
        });
    }
}

impl RunContext {
    fn id(&self) -> i64 {
        self.run_id.unwrap_or(0)
    }

    fn reporter(&self, task: &str, step: StepKind) -> (StepReporter, Option<PathBuf>) {
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

    async fn db<T>(
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

    async fn run_task(&self, task: &Task, position: usize) -> TaskReport {
        let now = Utc::now();
        (self.events)(RunEvent::TaskStarted {
            run_id: self.id(),
            task: task.name.clone(),
            at: now,
        });
        let task_run_id = match self.run_id {
            Some(run_id) => {
                self.db(
                    "the task start",
                    self.history.start_task(run_id, &task.name, position, now),
                )
                .await
            }
            None => None,
        };
        let store = TaskStore::new(&self.config.dir_backup_local, &task.name);
        let mut steps = Vec::new();
        let mut snapshot: Option<SnapshotName> = None;
        let mut backup_stats = None;
        // Set when a step fails or is cancelled: the later steps are skipped.
        let mut stopped: Option<(Status, StepKind)> = None;
        let mut preflight = Preflight::default();

        for step in StepKind::ALL {
            if let Some((why, at_step)) = stopped {
                let message = if why == Status::Cancelled {
                    "skipped: the run was cancelled".to_string()
                } else {
                    format!("skipped: the {at_step} step failed")
                };
                if let Some(tr) = task_run_id {
                    self.db(
                        "a skipped step",
                        self.history.skipped_step(tr, step, &message, Utc::now()),
                    )
                    .await;
                }
                self.step_finished(
                    &task.name,
                    step,
                    &StepEnd::with(Status::Skipped, message.clone()),
                );
                steps.push(StepReport {
                    step,
                    status: Status::Skipped,
                    message: Some(message),
                });
                continue;
            }
            if self.cancel.is_cancelled() {
                stopped = Some((Status::Cancelled, step));
                let end = StepEnd::with(Status::Cancelled, "cancelled before it started");
                self.record_whole_step(task_run_id, &task.name, step, &end)
                    .await;
                steps.push(StepReport {
                    step,
                    status: Status::Cancelled,
                    message: end.message,
                });
                continue;
            }
            let at = Utc::now();
            (self.events)(RunEvent::StepStarted {
                run_id: self.id(),
                task: task.name.clone(),
                step,
                at,
            });
            let (reporter, log_path) = self.reporter(&task.name, step);
            let log_str = log_path.as_ref().map(|p| p.display().to_string());
            let step_id = match task_run_id {
                Some(tr) => {
                    self.db(
                        "the step start",
                        self.history.start_step(tr, step, at, log_str.as_deref()),
                    )
                    .await
                }
                None => None,
            };
            let end = match step {
                StepKind::Preflight => match self.preflight(task, &reporter).await {
                    Ok(p) => {
                        preflight = p;
                        StepEnd::ok("source and store are ready")
                    }
                    Err(e) => StepEnd::failed(e),
                },
                StepKind::Backup => {
                    let (end, name) = self.backup(task, &store, &preflight, &reporter).await;
                    snapshot = name;
                    backup_stats = end.stats.clone();
                    end
                }
                StepKind::Retention => {
                    self.retention(task, &store, snapshot.as_ref(), &reporter)
                        .await
                }
                StepKind::Mirror => self.mirror(task, &store, preflight.xattrs, &reporter).await,
                StepKind::Cleanup => self.cleanup(&store, &reporter).await,
            };
            if let Some(msg) = &end.message {
                let level = match end.status {
                    Status::Failed => LogLevel::Error,
                    Status::Warning | Status::Cancelled => LogLevel::Warn,
                    _ => LogLevel::Info,
                };
                reporter.log(level, msg);
            }
            if let Some(id) = step_id {
                self.db(
                    "the step end",
                    self.history.finish_step(
                        id,
                        end.status,
                        end.message.as_deref(),
                        end.stats.as_ref(),
                        Utc::now(),
                    ),
                )
                .await;
            }
            self.step_finished(&task.name, step, &end);
            if matches!(end.status, Status::Failed | Status::Cancelled) {
                stopped = Some((end.status, step));
            }
            steps.push(StepReport {
                step,
                status: end.status,
                message: end.message,
            });
        }
        // The task's SSH commands shared one connection per host; none outlives the task.
        for endpoint in [
            Some(&task.dir_source),
            self.config.dir_backup_remote.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            if let Endpoint::Ssh(e) = endpoint {
                self.ssh().close_shared(e).await;
            }
        }

        let status = steps.iter().fold(Status::Success, |acc, s| match s.status {
            // Skipped steps follow a failure that already counts; "not configured" is no problem.
            Status::Skipped => acc,
            other => acc.worst(other),
        });
        let message = steps
            .iter()
            .find(|s| matches!(s.status, Status::Failed | Status::Cancelled))
            .or_else(|| steps.iter().find(|s| s.status == Status::Warning))
            .and_then(|s| s.message.clone().map(|m| format!("{}: {m}", s.step)));
        let snapshot = snapshot.map(|s| s.to_string());
        if let Some(tr) = task_run_id {
            self.db(
                "the task end",
                self.history.finish_task(
                    tr,
                    status,
                    message.as_deref(),
                    snapshot.as_deref(),
                    backup_stats.as_ref(),
                    Utc::now(),
                ),
            )
            .await;
        }
        (self.events)(RunEvent::TaskFinished {
            run_id: self.id(),
            task: task.name.clone(),
            status,
            snapshot: snapshot.clone(),
            message: message.clone(),
            at: Utc::now(),
        });
        TaskReport {
            task: task.name.clone(),
            status,
            snapshot,
            message,
            stats: backup_stats,
            steps,
        }
    }

    async fn record_whole_step(
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

    fn step_finished(&self, task: &str, step: StepKind, end: &StepEnd) {
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
    fn ssh(&self) -> crate::ssh::SshDir {
        self.data.ssh().shared()
    }

    /// Source reachable, store root present, writable and able to hard-link.
    async fn preflight(&self, task: &Task, out: &StepReporter) -> Result<Preflight, String> {
        let xattrs = store::check_root(&self.config.dir_backup_local).map_err(|e| e.to_string())?;
        let source_empty = match &task.dir_source {
            Endpoint::Local(path) => match std::fs::metadata(path) {
                Ok(m) if m.is_dir() => {
                    let mut entries = std::fs::read_dir(path)
                        .map_err(|e| format!("cannot read the source {}: {e}", path.display()))?;
                    Some(entries.next().is_none())
                }
                Ok(_) => return Err(format!("the source {} is not a folder", path.display())),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    // A missing source is judged by the empty-source guard of the backup step.
                    out.log(
                        LogLevel::Warn,
                        &format!("the source {} does not exist", path.display()),
                    );
                    Some(true)
                }
                Err(e) => return Err(format!("cannot read the source {}: {e}", path.display())),
            },
            Endpoint::Ssh(e) => {
                let ssh = self.ssh();
                if ssh.keys().is_empty() {
                    return Err(format!(
                        "{e} needs an SSH key and there is none yet: generate one (mnemosynce keys generate NAME) and add its public line to ~/.ssh/authorized_keys on {}",
                        e.host
                    ));
                }
                // Logging in proves connection, host key and key, and leaves the connection open
                // for the transfer: a missing path or rsync shows in the transfer itself, and an
                // empty source in what it brought. Where connections cannot be shared, a listing
                // proves all of it in one go.
                match ssh.open_shared(e).await {
                    Ok(true) => None,
                    Ok(false) => match crate::ssh::list_remote(&ssh, e, None).await {
                        Ok(entries) => Some(entries.is_empty()),
                        Err(crate::ssh::RemoteError::Missing) => {
                            out.log(
                                LogLevel::Warn,
                                &format!("the source {} does not exist on {}", e.path, e.host),
                            );
                            Some(true)
                        }
                        Err(crate::ssh::RemoteError::Failed(m)) => return Err(m),
                    },
                    Err(m) => return Err(m),
                }
            }
        };
        if task.acls_xattrs && !xattrs {
            out.log(
                LogLevel::Warn,
                "the store's filesystem does not keep extended attributes; ACLs and xattrs are not copied",
            );
        }
        Ok(Preflight {
            xattrs: xattrs && task.acls_xattrs,
            source_empty,
        })
    }

    /// The snapshot itself.
    async fn backup(
        &self,
        task: &Task,
        store: &TaskStore,
        preflight: &Preflight,
        out: &StepReporter,
    ) -> (StepEnd, Option<SnapshotName>) {
        if let Err(e) = store.ensure_dir() {
            return (StepEnd::failed(e.to_string()), None);
        }
        let newest = match store.newest() {
            Ok(n) => n,
            Err(e) => return (StepEnd::failed(e.to_string()), None),
        };
        // Empty-source guard (SPEC §4.4): a source that turned empty (an unmounted drive) must not
        // become an empty snapshot that retention would then prefer.
        let source_empty = match &task.dir_source {
            Endpoint::Local(src) => Some(TaskStore::is_empty_dir(src)),
            Endpoint::Ssh(_) => preflight.source_empty,
        };
        let empty_refusal = || -> Option<String> {
            let prev = newest.as_ref()?;
            (!task.allow_empty_source && !TaskStore::is_empty_dir(&store.snapshot_path(prev)))
                .then(|| format!(
                    "source is empty — is the drive mounted? ({} is empty or missing but snapshot {prev} is not; set allow_empty_source: true on this task if it is meant to be empty)",
                    task.dir_source
                ))
        };
        if source_empty == Some(true) {
            if let Some(refusal) = empty_refusal() {
                return (StepEnd::failed(refusal), None);
            }
        }
        let transfer = match transfer_for(task, out) {
            Ok(t) => t,
            Err(e) => return (StepEnd::failed(e), None),
        };
        let ssh = self.ssh();
        let (rsh, workdir) = match &task.dir_source {
            Endpoint::Local(_) => (None, None),
            Endpoint::Ssh(e) => match ssh.rsync_rsh(e.port) {
                Ok(r) => (Some(r), ssh.workdir().map(Path::to_path_buf)),
                Err(e) => return (StepEnd::failed(e), None),
            },
        };
        let mut link_dests: Vec<PathBuf> = newest.iter().map(|n| store.snapshot_path(n)).collect();
        if !self.dry_run {
            match store.prepare_incomplete() {
                Ok(resume) => {
                    if !resume.is_empty() {
                        out.log(LogLevel::Info, "resuming an interrupted transfer: files it already holds are linked, not copied again");
                    }
                    link_dests.extend(resume);
                }
                Err(e) => return (StepEnd::failed(e.to_string()), None),
            }
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
                return (
                    StepEnd {
                        status: Status::Failed,
                        message: Some(format!(
                            "{message} (nothing was promoted or deleted; the next run resumes)"
                        )),
                        stats,
                    },
                    None,
                )
            }
            TransferEnd::Cancelled => {
                return (
                    StepEnd {
                        status: Status::Cancelled,
                        message: Some(
                            "cancelled; .incomplete/ is kept and the next run resumes".into(),
                        ),
                        stats,
                    },
                    None,
                )
            }
        };
        // The same guard for a source whose emptiness only the transfer could tell: the empty
        // fresh .incomplete/ goes (nothing is in it), the earlier snapshots stay as they were.
        if source_empty.is_none() && !self.dry_run && TaskStore::is_empty_dir(&store.incomplete()) {
            if let Some(refusal) = empty_refusal() {
                let _ = std::fs::remove_dir(store.incomplete());
                return (StepEnd::failed(refusal), None);
            }
        }
        if self.dry_run {
            let s = outcome.stats;
            return (
                StepEnd {
                    status,
                    message: Some(format!(
                        "dry run: {} of {} files would be copied",
                        s.files_transferred, s.files_total
                    )),
                    stats,
                },
                None,
            );
        }
        let now_local = Utc::now().with_timezone(&self.tz).naive_local();
        let (name, clock_behind) = match store.next_name(now_local) {
            Ok(v) => v,
            Err(e) => return (StepEnd::failed(e.to_string()), None),
        };
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
            return (
                StepEnd::failed(format!(
                    "{e} (the data stays in .incomplete/; the next run resumes)"
                )),
                None,
            );
        }
        let s = &outcome.stats;
        let mut message = format!(
            "snapshot {name}: {} files, {} copied ({} of {} bytes)",
            s.files_total, s.files_transferred, s.bytes_transferred, s.bytes_total
        );
        if let Some(note) = note {
            message = format!("{message}; {note}");
        }
        (
            StepEnd {
                status,
                message: Some(message),
                stats,
            },
            Some(name),
        )
    }

    /// Plans with the policy and retires what it prunes (they leave the listing at once; their files
    /// are deleted by the cleanup step). Only snapshots Mnemosynce made or the owner adopted are
    /// candidates; snapshot-named folders it did not make, and anything else unexpected in the task
    /// folder, are reported and left alone.
    async fn retention(
        &self,
        task: &Task,
        store: &TaskStore,
        current: Option<&SnapshotName>,
        out: &StepReporter,
    ) -> StepEnd {
        let listing = match listing(store, &self.history, &task.name).await {
            Ok(l) => l,
            Err(e) => return StepEnd::failed(e),
        };
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
            return with_note(format!(
                "dry run: would keep {}, prune {}",
                decisions.len() - pruned.len(),
                pruned.len()
            ));
        }
        for name in &pruned {
            if let Err(e) = store.retire(name) {
                return StepEnd::failed(e.to_string());
            }
            self.db(
                "the pruned snapshot",
                self.history.forget_snapshot(&task.name, &name.to_string()),
            )
            .await;
        }
        if let Err(e) = store.point_latest_to_newest() {
            return StepEnd::failed(e.to_string());
        }
        with_note(format!(
            "kept {}, pruned {}",
            decisions.len() - pruned.len(),
            pruned.len()
        ))
    }

    async fn candidates(&self, task: &Task, store: &TaskStore) -> Result<Listing, String> {
        listing(store, &self.history, &task.name).await
    }

    async fn mirror(
        &self,
        task: &Task,
        store: &TaskStore,
        xattrs: bool,
        out: &StepReporter,
    ) -> StepEnd {
        let Some(remote) = &self.config.dir_backup_remote else {
            return StepEnd::with(Status::Skipped, "not configured (no dir_backup_remote)");
        };
        let target = MirrorTarget::for_task(remote, &task.name);
        let ssh = self.ssh();
        // Valve 1: a local task folder without a complete snapshot is never mirrored.
        let local = match self.candidates(task, store).await {
            Ok(l) => l,
            Err(e) => return StepEnd::failed(e),
        };
        let local_all = local.all();
        if !local_all
            .iter()
            .any(|c| c.completeness == Completeness::Complete)
        {
            return StepEnd::failed(format!(
                "refusing to mirror: {} holds no complete snapshot (a wiped or unmounted store must never wipe the mirror)",
                store.dir().display()
            ));
        }
        if let Err(e) = target.prepare(&ssh).await {
            return StepEnd::failed(e);
        }
        // Valve 2: only snapshots retention could have pruned may disappear from the mirror.
        let remote_names = match target.snapshots(&ssh).await {
            Ok(n) => n,
            Err(e) => return StepEnd::failed(e),
        };
        let adopted = match self.history.adopted_names(&task.name).await {
            Ok(a) => a,
            Err(e) => return StepEnd::failed(format!("cannot read the adopted snapshots: {e}")),
        };
        // What `--delete` may remove there: names of the form only Mnemosynce writes, and the
        // `YYYY-MM-DD` folders the owner adopted (see `mirror::filter_args`).
        let deletable = |n: &SnapshotName| !n.is_legacy() || adopted.contains(&n.to_string());
        let gone: Vec<&SnapshotName> = remote_names
            .iter()
            .filter(|n| deletable(n) && !local_all.iter().any(|c| &c.name == *n))
            .collect();
        if !gone.is_empty() {
            let mut union = local.owned.clone();
            union.extend(gone.iter().map(|n| Candidate {
                name: (*n).clone(),
                completeness: Completeness::Complete,
                pinned: false,
            }));
            let plan = retention::plan(&union, &self.config.policy_for(task), self.tz, None);
            let kept: Vec<String> = plan
                .iter()
                .filter(|d| d.keep() && gone.contains(&&d.name))
                .map(|d| d.name.to_string())
                .collect();
            if !kept.is_empty() {
                return StepEnd::failed(format!(
                    "refusing to mirror: it would delete {} snapshot(s) from the mirror that retention would keep ({}); they are missing from the local store. If they are meant to go, delete them on the mirror by hand",
                    kept.len(),
                    kept.join(", ")
                ));
            }
            out.log(
                LogLevel::Info,
                &format!(
                    "{} pruned snapshot(s) will be deleted from the mirror",
                    gone.len()
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
        args.extend(mirror::filter_args(&adopted));
        let mut src = store.dir().as_os_str().to_owned();
        src.push("/");
        args.push(src);
        match target.rsync_dest_args(&ssh) {
            Ok(dest) => args.extend(dest),
            Err(e) => return StepEnd::failed(e),
        }
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
        match outcome.end {
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
        }
    }

    /// Deletes retired snapshots, at idle I/O priority so a big hard-link tree does not stall the
    /// machine.
    async fn cleanup(&self, store: &TaskStore, out: &StepReporter) -> StepEnd {
        let retired = match store.retired() {
            Ok(r) => r,
            Err(e) => return StepEnd::failed(e.to_string()),
        };
        if retired.is_empty() || self.dry_run {
            return StepEnd::with(Status::Skipped, "nothing to delete");
        }
        let total = retired.len() as u64;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Result<PathBuf, String>>();
        let worker = std::thread::Builder::new()
            .name("mnemosynce-cleanup".into())
            .spawn(move || {
                lower_io_priority();
                for dir in retired {
                    let r = std::fs::remove_dir_all(&dir)
                        .map(|_| dir.clone())
                        .map_err(|e| format!("cannot delete {}: {e}", dir.display()));
                    if tx.send(r).is_err() {
                        break;
                    }
                }
            });
        if let Err(e) = worker {
            return StepEnd::failed(format!("cannot start the deletion: {e}"));
        }
        let (mut done, mut errors) = (0u64, Vec::new());
        while let Some(r) = rx.recv().await {
            done += 1;
            match r {
                Ok(dir) => out.log(LogLevel::Info, &format!("deleted {}", dir.display())),
                Err(e) => {
                    out.log(LogLevel::Warn, &e);
                    errors.push(e);
                }
            }
            out.progress(Progress {
                percent: Some((done * 100 / total) as u8),
                files_done: Some(done),
                files_total: Some(total),
                ..Default::default()
            });
        }
        if errors.is_empty() {
            StepEnd::ok(format!("deleted {done} pruned snapshot(s)"))
        } else {
            StepEnd::with(
                Status::Warning,
                format!(
                    "{} pruned snapshot(s) could not be deleted: {}",
                    errors.len(),
                    errors[0]
                ),
            )
        }
    }
}

/// The log file of one step: `<task>.<step>.log`. A task name may have up to 255 bytes, a file name
/// no more: a name that would not fit keeps its first bytes (at a character boundary) and gets `~`
/// and 8 hex digits of its SHA-256, so two long names still get two files.
fn log_file_name(task: &str, step: StepKind) -> String {
    const NAME_MAX: usize = 255;
    let suffix = format!(".{step}.log");
    if task.len() + suffix.len() <= NAME_MAX {
        return format!("{task}{suffix}");
    }
    use sha2::{Digest, Sha256};
    let hash = Sha256::digest(task.as_bytes());
    let tag = format!(
        "~{:02x}{:02x}{:02x}{:02x}",
        hash[0], hash[1], hash[2], hash[3]
    );
    let mut keep = NAME_MAX - suffix.len() - tag.len();
    while !task.is_char_boundary(keep) {
        keep -= 1;
    }
    format!("{}{tag}{suffix}", &task[..keep])
}

/// The transfer a task's backup uses (`tasks[].engine`, else the default for its kind of source), and
/// one log line naming it and why.
fn transfer_for(task: &Task, out: &dyn StepSink) -> Result<Box<dyn Transfer>, String> {
    let engine = task.effective_engine();
    let transfer: Box<dyn Transfer> = match (engine, &task.dir_source) {
        (TransferEngine::Rsync, _) => Box::new(RsyncTransfer::default()),
        (TransferEngine::Native, Endpoint::Local(_)) => Box::new(NativeTransfer::default()),
        // The validator refuses this; a Config built some other way gets the same sentence.
        (TransferEngine::Native, Endpoint::Ssh(_)) => {
            return Err(format!(
                "task {} has engine: native, but its source {} is an SSH source: native snapshots only \
                 local folders; use engine: rsync or remove the key",
                task.name, task.dir_source
            ))
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

/// Puts the calling thread in the idle I/O class (best effort; Linux only).
fn lower_io_priority() {
    const IOPRIO_WHO_PROCESS: libc::c_long = 1;
    const IOPRIO_CLASS_IDLE: libc::c_long = 3;
    // SAFETY: a plain syscall with integer arguments; 0 means the calling thread.
    unsafe {
        libc::syscall(
            libc::SYS_ioprio_set,
            IOPRIO_WHO_PROCESS,
            0 as libc::c_long,
            IOPRIO_CLASS_IDLE << 13,
        );
    }
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
        policy: &crate::model::config::RetentionPolicy,
        tz: Tz,
        protect: Option<&SnapshotName>,
    ) -> Vec<crate::model::retention::Decision> {
        let mut decisions = retention::plan(&self.owned, policy, tz, protect);
        decisions.extend(
            self.foreign
                .iter()
                .map(|c| crate::model::retention::Decision {
                    name: c.name.clone(),
                    reasons: vec![crate::model::retention::KeepReason::NotAdopted],
                }),
        );
        decisions.sort_by(|a, b| b.name.cmp(&a.name));
        decisions
    }
}

/// A task's snapshot folders with what the index knows of them (see [`Listing`]).
pub async fn listing(store: &TaskStore, history: &History, task: &str) -> Result<Listing, String> {
    let names = store.snapshots().map_err(|e| e.to_string())?;
    let index = history
        .snapshot_index(task)
        .await
        .map_err(|e| e.to_string())?;
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

/// A task's snapshots that retention manages (oldest first): see [`Listing::owned`].
pub async fn candidates(
    store: &TaskStore,
    history: &History,
    task: &str,
) -> Result<Vec<Candidate>, String> {
    Ok(listing(store, history, task).await?.owned)
}

/// Adopts the snapshot-named folders of `task` that Mnemosynce did not make (SPEC §3: the original
/// Mnemosynce's `YYYY-MM-DD` folders): from now on retention may prune them. Returns the adopted
/// names, oldest first; each adoption is logged.
pub async fn adopt(
    config: &Config,
    history: &History,
    tz: Tz,
    task: &Task,
) -> Result<Vec<SnapshotName>, String> {
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
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(task = %task.name, snapshot = %c.name, "adopted: retention manages this folder from now on");
        adopted.push(c.name);
    }
    Ok(adopted)
}

/// Lists a task's snapshots, newest first (for `mnemosynce snapshots` and the web app).
pub async fn list_snapshots(
    config: &Config,
    history: &History,
    tz: Tz,
    task: &Task,
) -> Result<Vec<crate::model::snapshot::SnapshotInfo>, String> {
    let store = TaskStore::new(&config.dir_backup_local, &task.name);
    let listing = listing(&store, history, &task.name).await?;
    let mut out: Vec<_> = listing
        .owned
        .into_iter()
        .map(|c| (c, true))
        .chain(listing.foreign.into_iter().map(|c| (c, false)))
        .map(|(c, managed)| crate::model::snapshot::SnapshotInfo {
            task: task.name.clone(),
            time: local_to_utc(tz, &c.name).with_timezone(&tz).to_rfc3339(),
            status: c.completeness,
            pinned: c.pinned,
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
) -> Result<Vec<crate::model::retention::Decision>, String> {
    let store = TaskStore::new(&config.dir_backup_local, &task.name);
    let listing = listing(&store, history, &task.name).await?;
    Ok(listing.plan(&config.policy_for(task), tz, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_file_names_fit_a_folder_entry_for_every_task_name() {
        assert_eq!(
            log_file_name("My Photos ü", StepKind::Backup),
            "My Photos ü.backup.log"
        );
        for name in [
            "n".repeat(255),
            "ü".repeat(127),
            format!("{}n", "ü".repeat(127)),
        ] {
            for step in StepKind::ALL {
                let f = log_file_name(&name, step);
                assert!(
                    f.len() <= 255 && f.ends_with(&format!(".{step}.log")),
                    "{f}"
                );
            }
        }
        assert_ne!(
            log_file_name(&format!("{}a", "n".repeat(254)), StepKind::Backup),
            log_file_name(&format!("{}b", "n".repeat(254)), StepKind::Backup)
        );
    }
}
