//! The figures the web pages show (dashboard task cards, history pages, a run's detail and its step
//! logs), computed from the store and the history. The app's server functions call these and nothing
//! else, so a page shows exactly what the CLI and the email report would.

use crate::data_dir::DataDir;
use crate::history::{History, HistoryError, RunFilter, RunRow};
use crate::model::config::Config;
use crate::model::events::{StepKind, Trigger};
use crate::model::overview::{
    RunDetail, RunSummary, StepDetail, TaskOverview, TaskRunDetail, TrendPoint,
};
use crate::model::snapshot::Completeness;
use crate::model::Status;
use crate::run::{candidates, local_to_utc};
use crate::store::TaskStore;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// At most this much of the end of a step's log is sent to a page.
pub const LOG_PAGE_MAX: u64 = 512 * 1024;

/// Every configured task at a glance, in config order.
pub async fn task_overviews(
    config: &Config,
    history: &History,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<Vec<TaskOverview>, HistoryError> {
    let stale_hours = i64::from(config.report.stale_after_days) * 24;
    let mut out = Vec::with_capacity(config.tasks.len());
    for task in &config.tasks {
        let store = TaskStore::new(&config.dir_backup_local, &task.name);
        let snaps = candidates(&store, history, &task.name)
            .await
            .unwrap_or_default();
        let newest = snaps
            .iter()
            .rev()
            .find(|c| c.completeness == Completeness::Complete);
        let last_snapshot_at = newest.map(|c| local_to_utc(tz, &c.name));
        let recent = history.recent_task_runs(&task.name, 10).await?;
        let stale = config.report.stale_after_days > 0
            && last_snapshot_at.is_none_or(|t| (now - t).num_hours() > stale_hours);
        out.push(TaskOverview {
            name: task.name.clone(),
            source: task.dir_source.to_string(),
            last_snapshot: newest.map(|c| c.name.to_string()),
            last_snapshot_at,
            snapshot_count: snaps.len(),
            last_status: recent.first().map(|r| r.status),
            last_run_at: recent.first().map(|r| r.started_at),
            stale,
            trend: recent
                .iter()
                .rev()
                .filter(|r| r.status != Status::Running)
                .map(|r| TrendPoint {
                    run_id: r.run_id,
                    seconds: r
                        .finished_at
                        .map(|f| (f - r.started_at).num_seconds().max(0) as u64)
                        .unwrap_or(0),
                    bytes: r.stats.bytes_transferred,
                    status: r.status,
                })
                .collect(),
        });
    }
    Ok(out)
}

pub fn run_summary(row: RunRow) -> RunSummary {
    RunSummary {
        id: row.id,
        trigger: Trigger::parse(&row.trigger).unwrap_or(Trigger::Manual),
        started_at: row.started_at,
        finished_at: row.finished_at,
        status: row.status,
        message: row.message,
        report_status: row.report_status,
        report_error: row.report_error,
    }
}

/// One page of the history, newest first.
pub async fn runs(history: &History, filter: &RunFilter) -> Result<Vec<RunSummary>, HistoryError> {
    Ok(history
        .runs(filter)
        .await?
        .into_iter()
        .map(run_summary)
        .collect())
}

/// A run with its tasks and steps; `None` for an unknown id.
pub async fn run_detail(history: &History, id: i64) -> Result<Option<RunDetail>, HistoryError> {
    let Some(row) = history.run(id).await? else {
        return Ok(None);
    };
    let mut tasks = Vec::new();
    for t in history.task_runs(id).await? {
        let steps = history
            .steps(t.id)
            .await?
            .into_iter()
            .map(|s| StepDetail {
                step: s.step,
                status: s.status,
                message: s.message,
                started_at: s.started_at,
                finished_at: s.finished_at,
                stats: s.stats,
                has_log: s
                    .log_path
                    .as_deref()
                    .is_some_and(|p| Path::new(p).is_file()),
            })
            .collect();
        tasks.push(TaskRunDetail {
            task: t.task,
            status: t.status,
            started_at: t.started_at,
            finished_at: t.finished_at,
            snapshot: t.snapshot,
            message: t.message,
            stats: t.stats,
            steps,
        });
    }
    Ok(Some(RunDetail {
        run: run_summary(row),
        tasks,
    }))
}

/// The end of one step's log (at most [`LOG_PAGE_MAX`] bytes; the first line says when cut). The
/// file is found through the history, never from a path built out of what the browser sent.
pub async fn step_log(
    history: &History,
    data: &DataDir,
    run_id: i64,
    task: &str,
    step: StepKind,
) -> Result<Option<String>, HistoryError> {
    let Some(task_run) = history
        .task_runs(run_id)
        .await?
        .into_iter()
        .find(|t| t.task == task)
    else {
        return Ok(None);
    };
    let Some(path) = history
        .steps(task_run.id)
        .await?
        .into_iter()
        .find(|s| s.step == step)
        .and_then(|s| s.log_path)
    else {
        return Ok(None);
    };
    let path = std::path::PathBuf::from(path);
    // Only files inside this data directory's logs are ever read.
    if !path.starts_with(data.logs()) {
        return Ok(None);
    }
    let text = tokio::task::spawn_blocking(move || -> std::io::Result<String> {
        let mut f = std::fs::File::open(&path)?;
        let len = f.metadata()?.len();
        let mut out = Vec::new();
        if len > LOG_PAGE_MAX {
            f.seek(SeekFrom::Start(len - LOG_PAGE_MAX))?;
            out.extend_from_slice(
                format!(
                    "[… the first {} bytes are left out …]\n",
                    len - LOG_PAGE_MAX
                )
                .as_bytes(),
            );
        }
        f.take(LOG_PAGE_MAX).read_to_end(&mut out)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    })
    .await;
    Ok(match text {
        Ok(Ok(t)) => Some(t),
        _ => None,
    })
}
