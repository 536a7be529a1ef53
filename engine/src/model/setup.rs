//! How far the owner is with the setup (SPEC §9.1 wizard): shared by the server, which derives it
//! from the disk and the database, and the browser, which shows the steps.

use serde::{Deserialize, Serialize};

/// One step of the setup wizard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SetupStep {
    Config,
    Keys,
    Connections,
    Schedule,
    /// Run a backup once and see it work.
    #[serde(rename = "first-run")]
    FirstRun,
}

impl SetupStep {
    pub const ALL: [SetupStep; 5] = [
        SetupStep::Config,
        SetupStep::Keys,
        SetupStep::Connections,
        SetupStep::Schedule,
        SetupStep::FirstRun,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SetupStep::Config => "config",
            SetupStep::Keys => "keys",
            SetupStep::Connections => "connections",
            SetupStep::Schedule => "schedule",
            SetupStep::FirstRun => "first-run",
        }
    }

    pub fn parse(s: &str) -> Option<SetupStep> {
        SetupStep::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn title(self) -> &'static str {
        match self {
            SetupStep::Config => "Configuration",
            SetupStep::Keys => "SSH keys",
            SetupStep::Connections => "Connections",
            SetupStep::Schedule => "Schedule",
            SetupStep::FirstRun => "First backup",
        }
    }
}

/// Where one step stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepState {
    pub step: SetupStep,
    pub done: bool,
    /// Not needed: the configuration has no SSH endpoint (steps 2 and 3).
    pub skipped: bool,
    /// What is missing, in one sentence, when the step is not done.
    pub missing: Option<String>,
}

/// The whole setup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Readiness {
    pub steps: Vec<StepState>,
    /// The owner chose "finish setup anyway".
    pub dismissed: bool,
    /// The newest snapshot a backup run made, if any (step 5 is done once there is one).
    pub first_backup: Option<BackupDone>,
}

/// A snapshot a backup run made, as the wizard's last step shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupDone {
    pub run_id: i64,
    pub task: String,
    /// The snapshot's name (its folder in the store).
    pub snapshot: String,
    pub finished_at: chrono::DateTime<chrono::Utc>,
    /// From the task's start to its end.
    pub took_seconds: u64,
    pub files: u64,
    /// The size of the source the snapshot holds.
    pub bytes: u64,
    /// What this run copied (the rest was hard-linked from the snapshot before).
    pub bytes_copied: u64,
}

impl Readiness {
    /// Every step done or skipped.
    pub fn complete(&self) -> bool {
        self.steps.iter().all(|s| s.done || s.skipped)
    }

    /// Whether the wizard and the dashboard's strip still show.
    pub fn show_wizard(&self) -> bool {
        !self.complete() && !self.dismissed
    }

    pub fn state(&self, step: SetupStep) -> Option<&StepState> {
        self.steps.iter().find(|s| s.step == step)
    }

    /// The first step that is neither done nor skipped.
    pub fn next_step(&self) -> Option<SetupStep> {
        self.steps
            .iter()
            .find(|s| !s.done && !s.skipped)
            .map(|s| s.step)
    }
}

/// An SSH endpoint found in the configuration, as the connections page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointUse {
    /// What uses it: `task Photos (source)` or `mirror`.
    pub label: String,
    /// `user@host:/path` or `ssh://user@host:port/path`, as the configuration writes it.
    pub endpoint: String,
    /// The mirror target: the test also checks the folder is writable.
    pub for_mirror: bool,
}
