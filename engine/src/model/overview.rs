//! What the web pages show of tasks and runs: the dashboard's task cards, history rows and a run's
//! detail. Built on the server from the store and the history (`engine::overview`,
//! `engine::history`); rendered by the app on both ends, so these types compile to wasm32 too.

use super::events::{StepKind, TransferStats, Trigger};
use super::report::ReportStatus;
use super::Status;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One run of a task, for a task's small trend chart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrendPoint {
    pub run_id: i64,
    pub seconds: u64,
    pub bytes: u64,
    pub status: Status,
}

/// A task at a glance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskOverview {
    pub name: String,
    /// `dir_source` as written in the configuration.
    pub source: String,
    /// The newest complete snapshot and when it was taken.
    pub last_snapshot: Option<String>,
    pub last_snapshot_at: Option<DateTime<Utc>>,
    pub snapshot_count: usize,
    /// Disk space of the task's folder (every inode once), as measured after its last run.
    pub store_bytes: Option<u64>,
    /// The status of the task's last run, and when it started.
    pub last_status: Option<Status>,
    pub last_run_at: Option<DateTime<Utc>>,
    /// No good snapshot for more than `report.stale_after_days`.
    pub stale: bool,
    /// Oldest first, at most the last ten runs.
    pub trend: Vec<TrendPoint>,
}

/// One run in a list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub id: i64,
    pub trigger: Trigger,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub status: Status,
    pub message: Option<String>,
    pub report_status: Option<ReportStatus>,
    pub report_error: Option<String>,
}

/// One step of a recorded task run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepDetail {
    pub step: StepKind,
    pub status: Status,
    pub message: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub stats: TransferStats,
    /// Whether a log file exists for this step.
    pub has_log: bool,
}

/// One task of a recorded run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskRunDetail {
    pub task: String,
    pub status: Status,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub snapshot: Option<String>,
    pub message: Option<String>,
    pub stats: TransferStats,
    pub steps: Vec<StepDetail>,
}

/// A recorded run with its tasks and steps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunDetail {
    pub run: RunSummary,
    pub tasks: Vec<TaskRunDetail>,
}
