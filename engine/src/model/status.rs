//! The status of a step, a task or a run, and how statuses combine.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a step, task or run stands. The order of the variants (after `Running`) is their severity:
/// a run's status is the worst of its tasks' ([`Status::worst`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Running,
    Success,
    Skipped,
    Warning,
    Cancelled,
    Failed,
}

impl Status {
    /// Severity used to combine statuses; a higher value wins.
    fn severity(self) -> u8 {
        match self {
            Status::Success => 0,
            Status::Skipped => 1,
            Status::Warning => 2,
            Status::Cancelled => 3,
            Status::Failed => 4,
            Status::Running => 5,
        }
    }

    /// The worst of two statuses (a running part keeps the whole running).
    pub fn worst(self, other: Status) -> Status {
        if other.severity() > self.severity() {
            other
        } else {
            self
        }
    }

    /// The word used in the UI, the database and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Success => "success",
            Status::Skipped => "skipped",
            Status::Warning => "warning",
            Status::Cancelled => "cancelled",
            Status::Failed => "failed",
        }
    }

    /// Parses the word written by [`Status::as_str`].
    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "running" => Status::Running,
            "success" => Status::Success,
            "skipped" => Status::Skipped,
            "warning" => Status::Warning,
            "cancelled" => Status::Cancelled,
            "failed" => Status::Failed,
            _ => return None,
        })
    }

    /// True once the part has ended, whatever the outcome.
    pub fn is_finished(self) -> bool {
        self != Status::Running
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Status::*;

    #[test]
    fn a_run_is_as_bad_as_its_worst_task() {
        assert_eq!(Success.worst(Warning), Warning);
        assert_eq!(Failed.worst(Success), Failed);
        assert_eq!(Skipped.worst(Success), Skipped);
        assert_eq!(Cancelled.worst(Warning), Cancelled);
        assert_eq!(Warning.worst(Failed), Failed);
    }
}
