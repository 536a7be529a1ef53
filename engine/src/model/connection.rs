//! The result of a connection test: one verdict per step, each with a hint how to fix it.

use serde::{Deserialize, Serialize};

/// How one step of a connection test went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    /// Works, but needs a look (e.g. an unknown host key to trust).
    Warn,
    Fail,
    /// Not tried because an earlier step failed.
    Skipped,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Fail => "fail",
            Verdict::Skipped => "skipped",
        }
    }
}

/// One step of a connection test.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckStep {
    /// What was checked, e.g. "TCP connect to nas:22".
    pub name: String,
    pub verdict: Verdict,
    /// What was found.
    pub detail: String,
    /// How to fix it, when it is not a pass.
    pub hint: Option<String>,
}

/// An unknown or changed host key, offered for trust.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferedHostKey {
    pub algorithm: String,
    /// `SHA256:...`, as `ssh-keygen -lf` prints it.
    pub fingerprint: String,
    /// True when the host had another key before: never trust this with one click.
    pub changed: bool,
}
