//! What a run tells the world while it happens: typed events for the CLI's progress output, the run
//! history and (through the server's feed) the browser.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

use super::Status;

/// The steps of a task, in the order they run (SPEC §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepKind {
    /// Source reachable, store present, writable and able to hard-link.
    Preflight,
    /// The snapshot itself: transfer into `.incomplete/`, then promote.
    Backup,
    /// Plan with the retention policy; pruned snapshots leave the store's listing at once.
    Retention,
    /// Mirror the task folder to `dir_backup_remote`.
    Mirror,
    /// Delete the pruned snapshots' files (slow for big hard-link trees, so it runs last).
    Cleanup,
    /// The one step of a restore run: files of a snapshot copied back (not a backup step, so not
    /// in [`StepKind::ALL`]).
    Restore,
}

impl StepKind {
    pub const ALL: [StepKind; 5] = [
        StepKind::Preflight,
        StepKind::Backup,
        StepKind::Retention,
        StepKind::Mirror,
        StepKind::Cleanup,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Preflight => "preflight",
            StepKind::Backup => "backup",
            StepKind::Retention => "retention",
            StepKind::Mirror => "mirror",
            StepKind::Cleanup => "cleanup",
            StepKind::Restore => "restore",
        }
    }

    pub fn parse(s: &str) -> Option<StepKind> {
        StepKind::ALL
            .into_iter()
            .chain([StepKind::Restore])
            .find(|k| k.as_str() == s)
    }
}

impl fmt::Display for StepKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who started a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    Schedule,
    Manual,
    Cli,
    /// A scheduled start missed while the server was down (or the machine asleep), run once when
    /// it noticed (`schedule.catch_up`).
    CatchUp,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::Manual => "manual",
            Trigger::Cli => "cli",
            Trigger::CatchUp => "catch-up",
        }
    }

    pub fn parse(s: &str) -> Option<Trigger> {
        [
            Trigger::Schedule,
            Trigger::Manual,
            Trigger::Cli,
            Trigger::CatchUp,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// Live progress of a transfer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Bytes handled so far.
    pub bytes: u64,
    /// Percent of the whole, when known.
    pub percent: Option<u8>,
    /// Bytes per second, as measured by the transfer.
    pub rate: Option<u64>,
    /// Seconds left, when known.
    pub eta_seconds: Option<u64>,
    /// Files checked so far, and the total known so far (it grows while the tree is scanned).
    pub files_done: Option<u64>,
    pub files_total: Option<u64>,
}

/// File and byte counts of a finished transfer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferStats {
    pub files_total: u64,
    pub files_transferred: u64,
    pub bytes_total: u64,
    pub bytes_transferred: u64,
}

/// Severity of a log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Info,
    Warn,
    Error,
}

impl LogLevel {
    /// `info`, `warn`, `error`: as the page marks a line (`data-level`).
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

/// One thing that happened during a run, as JSON `{"step_started": {...}}` (externally tagged, like
/// [`crate::model::feed::FeedMessage`], so the browser decodes it without buffering).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunEvent {
    RunStarted {
        run_id: i64,
        trigger: Trigger,
        tasks: Vec<String>,
        at: DateTime<Utc>,
    },
    TaskStarted {
        run_id: i64,
        task: String,
        at: DateTime<Utc>,
    },
    StepStarted {
        run_id: i64,
        task: String,
        step: StepKind,
        at: DateTime<Utc>,
    },
    Progress {
        run_id: i64,
        task: String,
        step: StepKind,
        progress: Progress,
    },
    Log {
        run_id: i64,
        task: Option<String>,
        step: Option<StepKind>,
        level: LogLevel,
        line: String,
    },
    StepFinished {
        run_id: i64,
        task: String,
        step: StepKind,
        status: Status,
        message: Option<String>,
        stats: Option<TransferStats>,
        at: DateTime<Utc>,
    },
    TaskFinished {
        run_id: i64,
        task: String,
        status: Status,
        snapshot: Option<String>,
        message: Option<String>,
        at: DateTime<Utc>,
    },
    RunFinished {
        run_id: i64,
        status: Status,
        at: DateTime<Utc>,
    },
}
