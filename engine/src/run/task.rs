//! One task of a run, through its steps in order (SPEC §6): each step is started, logged and
//! recorded here, and its end decides whether the later steps run.
//!
//! Invariants: a step that fails or is cancelled marks every later step of its task *skipped*
//! (recorded with the reason), never another task; a cancellation seen before a step starts records
//! that step as cancelled; a step's typed error becomes a failed step whose message is the error's
//! text; the task's shared SSH connections are closed before the task ends.

use super::context::{RunContext, StepEnd, StepError};
use super::preflight::Preflight;
use super::{StepReport, TaskReport};
use crate::model::config::{Endpoint, Task};
use crate::model::events::{LogLevel, RunEvent, StepKind};
use crate::model::snapshot::SnapshotName;
use crate::model::Status;
use crate::store::TaskStore;
use crate::transfer::StepSink;
use chrono::Utc;

impl RunContext {
    pub(super) async fn run_task(&self, task: &Task, position: usize) -> TaskReport {
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
                        Ok(StepEnd::ok("source and store are ready"))
                    }
                    Err(e) => Err(StepError::from(e)),
                },
                StepKind::Backup => self
                    .backup(task, &store, &preflight, &reporter)
                    .await
                    .map(|(end, name)| {
                        snapshot = name;
                        backup_stats = end.stats.clone();
                        end
                    })
                    .map_err(StepError::from),
                StepKind::Retention => self
                    .retention(task, &store, snapshot.as_ref(), &reporter)
                    .await
                    .map_err(StepError::from),
                StepKind::Mirror => self
                    .mirror(task, &store, preflight.xattrs, &reporter)
                    .await
                    .map_err(StepError::from),
                StepKind::Cleanup => self
                    .cleanup(&store, &reporter)
                    .await
                    .map_err(StepError::from),
                // Not a backup step: never in StepKind::ALL.
                StepKind::Restore => Ok(StepEnd::with(Status::Skipped, "not a backup step")),
            };
            // A step's error is its failure, told in the error's own words.
            let end = end.unwrap_or_else(|e| StepEnd::failed(e.to_string()));
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
}
