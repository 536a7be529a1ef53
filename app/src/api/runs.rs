//! The server functions of the dashboard, the history and the run page: what the history database
//! and the run manager say about runs (`engine::overview`, [`super::backend::RunControl`]).

use super::error::ApiError;
use engine::model::feed::ActiveRun;
use engine::model::overview::{RunDetail, RunSummary, TaskOverview};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the dashboard shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    pub tasks: Vec<TaskOverview>,
    pub recent_runs: Vec<RunSummary>,
    /// Why the configuration cannot be used, if it cannot.
    pub config_error: Option<String>,
    pub stale_after_days: u32,
    /// The run in progress (or the last one since the server started).
    pub active: Option<ActiveRun>,
    /// The server's clock when this was made: ages are computed from it, the same on both ends.
    pub now: chrono::DateTime<chrono::Utc>,
    /// Why the last *Run now* could not start, shown once (see `server/src/actions.rs`).
    pub notice: Option<String>,
}

/// One page of the history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunPage {
    pub runs: Vec<RunSummary>,
    /// The `before` of the next page, when there is one.
    pub next: Option<i64>,
    /// Task names for the filter.
    pub tasks: Vec<String>,
}

/// Rows per history page.
pub const PAGE_SIZE: u32 = 50;

/// The dashboard: every task at a glance, the recent runs, the active run.
#[server(endpoint = "get_dashboard")]
pub async fn get_dashboard() -> Result<Dashboard, ApiError> {
    use super::server_side::*;
    let b = admin().await?;
    let notice = take_notice().await;
    let recent_runs = b
        .history
        .runs(&engine::history::RunFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .map_err(fail)?;
    let (tasks, config_error, stale_after_days) = match config(&b) {
        Ok((c, tz)) => (
            engine::overview::task_overviews(&c, &b.history, tz, chrono::Utc::now())
                .await
                .map_err(fail)?,
            None,
            c.report.stale_after_days,
        ),
        Err(e) => (Vec::new(), Some(e), 0),
    };
    Ok(Dashboard {
        tasks,
        recent_runs,
        config_error,
        stale_after_days,
        active: b.runs.state(),
        now: chrono::Utc::now(),
        notice,
    })
}

/// One page of the history, filtered by task and status; `before` is the last id of the page before.
#[server(endpoint = "get_runs")]
pub async fn get_runs(
    task: Option<String>,
    status: Option<String>,
    before: Option<i64>,
) -> Result<RunPage, ApiError> {
    use super::server_side::*;
    let b = admin().await?;
    let status = match status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(
            engine::model::Status::parse(s)
                .ok_or_else(|| invalid(format!("unknown status {s:?}")))?,
        ),
        None => None,
    };
    let filter = engine::history::RunFilter {
        task: task.filter(|t| !t.is_empty()),
        status,
        before,
        limit: PAGE_SIZE + 1,
    };
    let mut runs = b.history.runs(&filter).await.map_err(fail)?;
    let next = if runs.len() > PAGE_SIZE as usize {
        runs.truncate(PAGE_SIZE as usize);
        runs.last().map(|r| r.id)
    } else {
        None
    };
    let tasks = config(&b)
        .map(|(c, _)| c.tasks.iter().map(|t| t.name.clone()).collect())
        .unwrap_or_default();
    Ok(RunPage { runs, next, tasks })
}

/// A run with its tasks and steps.
#[server(endpoint = "get_run")]
pub async fn get_run(id: i64) -> Result<Option<RunDetail>, ApiError> {
    use super::server_side::*;
    let b = admin().await?;
    engine::overview::run_detail(&b.history, id)
        .await
        .map_err(fail)
}

/// The end of one step's log.
#[server(endpoint = "get_step_log")]
pub async fn get_step_log(
    run_id: i64,
    task: String,
    step: String,
) -> Result<Option<String>, ApiError> {
    use super::server_side::*;
    let b = admin().await?;
    let step = engine::model::events::StepKind::parse(&step)
        .ok_or_else(|| invalid(format!("unknown step {step:?}")))?;
    engine::overview::step_log(&b.history, &b.data, run_id, &task, step)
        .await
        .map_err(fail)
}
