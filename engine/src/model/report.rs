//! What became of a run's email report (SPEC §7), as the history records it and the CLI and the web
//! pages show it. Sending never decides a run's status: a report that could not be sent is a note on
//! the run, with the reason and a fix.

use serde::{Deserialize, Serialize};

/// Whether the report of one run went out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    /// Accepted by the mail server for every recipient.
    Sent,
    /// Not due: `report.when: failures` and nothing needed attention.
    NotDue,
    /// Email is off (`email: {enabled: false}`).
    Disabled,
    /// Sending failed; the run's `report_error` says why.
    Failed,
}

impl ReportStatus {
    /// The word stored in the database and shown in the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Sent => "sent",
            ReportStatus::NotDue => "not_due",
            ReportStatus::Disabled => "disabled",
            ReportStatus::Failed => "failed",
        }
    }

    /// Parses the word written by [`ReportStatus::as_str`].
    pub fn parse(s: &str) -> Option<ReportStatus> {
        Some(match s {
            "sent" => ReportStatus::Sent,
            "not_due" => ReportStatus::NotDue,
            "disabled" => ReportStatus::Disabled,
            "failed" => ReportStatus::Failed,
            _ => return None,
        })
    }
}
