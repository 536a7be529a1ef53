//! The setup wizard's state, derived from the disk and the database on every call (never stored as
//! "wizard at step N"), so it survives restarts and sign-outs and follows hand edits:
//!
//! 1. *Configuration*: `backup_config.yml` exists and has no errors (warnings are fine).
//! 2. *SSH keys*: at least one usable key pair in `ssh/`.
//! 3. *Connections*: every SSH endpoint of the configuration (task sources and the mirror) has passed a
//!    connection test since it was last changed: a pass is recorded in the settings table under the
//!    endpoint's text, a failed test removes it, and a pass also needs the host in `ssh/known_hosts`.
//! 4. *Schedule*: the owner has looked at and saved the schedule once (a settings row), since the
//!    default (daily 02:00) applies silently otherwise.
//! 5. *First backup*: a backup run has made a snapshot (the history says so); the wizard runs it and
//!    shows it live.
//!
//! Steps 2 and 3 are skipped when the configuration has no SSH endpoint. "Finish setup anyway" is a
//! settings row too; it hides the wizard without pretending the steps are done.

use crate::config;
use crate::data_dir::DataDir;
use crate::history::{History, HistoryError};
use crate::model::config::{Config, Endpoint, SshEndpoint};
use crate::model::setup::{BackupDone, EndpointUse, Readiness, SetupStep, StepState};
use std::path::Path;

const SCHEDULE_SAVED: &str = "setup:schedule_saved";
const DISMISSED: &str = "setup:dismissed";

fn connection_key(endpoint: &str) -> String {
    format!("setup:connection_ok:{endpoint}")
}

/// Every SSH endpoint the configuration uses, sources first, each once.
pub fn ssh_endpoints(config: &Config) -> Vec<(EndpointUse, SshEndpoint)> {
    let mut out: Vec<(EndpointUse, SshEndpoint)> = Vec::new();
    let mut add = |label: String, e: &Endpoint, for_mirror: bool| {
        if let Endpoint::Ssh(ssh) = e {
            let text = e.to_string();
            if let Some(existing) = out.iter_mut().find(|(u, _)| u.endpoint == text) {
                existing.0.label.push_str(&format!(", {label}"));
                existing.0.for_mirror |= for_mirror;
                return;
            }
            out.push((
                EndpointUse {
                    label,
                    endpoint: text,
                    for_mirror,
                },
                ssh.clone(),
            ));
        }
    };
    for t in &config.tasks {
        add(format!("task {} (source)", t.name), &t.dir_source, false);
    }
    if let Some(m) = &config.dir_backup_remote {
        add("mirror".to_string(), m, true);
    }
    out
}

/// Records the outcome of a connection test of `endpoint` (its configuration text).
pub async fn record_connection_test(
    history: &History,
    endpoint: &str,
    passed: bool,
) -> Result<(), HistoryError> {
    if passed {
        history
            .set_setting(&connection_key(endpoint), &chrono::Utc::now().to_rfc3339())
            .await
    } else {
        history.delete_setting(&connection_key(endpoint)).await
    }
}

/// The owner saved the schedule (wizard step 4 or the schedule page).
pub async fn record_schedule_saved(history: &History) -> Result<(), HistoryError> {
    history
        .set_setting(SCHEDULE_SAVED, &chrono::Utc::now().to_rfc3339())
        .await
}

/// "Finish setup anyway".
pub async fn dismiss(history: &History) -> Result<(), HistoryError> {
    history
        .set_setting(DISMISSED, &chrono::Utc::now().to_rfc3339())
        .await
}

/// Where the setup stands now.
pub async fn readiness(
    data: &DataDir,
    config_path: &Path,
    history: &History,
) -> Result<Readiness, HistoryError> {
    let mut steps = Vec::with_capacity(SetupStep::ALL.len());
    let usable = match config::load(config_path) {
        Err(e) => {
            let missing = if config_path.exists() {
                e.to_string()
            } else {
                "there is no configuration yet: start from the template in the editor".to_string()
            };
            steps.push(state(SetupStep::Config, false, Some(missing)));
            None
        }
        Ok(checked) => {
            let errors = checked.errors().count();
            let first = checked.errors().next().map(|p| p.to_string());
            match checked.config {
                Some(c) => {
                    steps.push(state(SetupStep::Config, true, None));
                    Some(c)
                }
                None => {
                    steps.push(state(
                        SetupStep::Config,
                        false,
                        Some(format!(
                            "the configuration has {errors} error(s); the first: {}",
                            first.unwrap_or_default()
                        )),
                    ));
                    None
                }
            }
        }
    };

    match &usable {
        None => {
            for step in [SetupStep::Keys, SetupStep::Connections] {
                steps.push(state(
                    step,
                    false,
                    Some("needs a valid configuration first".into()),
                ));
            }
        }
        Some(c) => {
            let endpoints = ssh_endpoints(c);
            if endpoints.is_empty() {
                for step in [SetupStep::Keys, SetupStep::Connections] {
                    steps.push(StepState {
                        step,
                        done: false,
                        skipped: true,
                        missing: None,
                    });
                }
            } else {
                let ssh = data.ssh();
                let usable_keys = crate::ssh::keys::list(&ssh)
                    .map(|keys| keys.iter().filter(|k| k.problem.is_none()).count())
                    .unwrap_or(0);
                steps.push(state(
                    SetupStep::Keys,
                    usable_keys > 0,
                    (usable_keys == 0).then(|| {
                        "generate a key and add it to the remote's authorized_keys".into()
                    }),
                ));
                let known = crate::ssh::known_hosts::KnownHosts::new(&ssh);
                let mut untested = Vec::new();
                for (u, e) in &endpoints {
                    let passed = history
                        .setting(&connection_key(&u.endpoint))
                        .await?
                        .is_some();
                    let host = e.address();
                    let trusted = known
                        .lookup(host, e.port.unwrap_or(22))
                        .map(|k| !k.is_empty())
                        .unwrap_or(false);
                    if !(passed && trusted) {
                        untested.push(u.endpoint.clone());
                    }
                }
                steps.push(state(
                    SetupStep::Connections,
                    untested.is_empty(),
                    (!untested.is_empty())
                        .then(|| format!("test the connection to {}", untested.join(", "))),
                ));
            }
        }
    }

    let schedule_saved = history.setting(SCHEDULE_SAVED).await?.is_some();
    steps.push(state(
        SetupStep::Schedule,
        schedule_saved,
        (!schedule_saved).then(|| "choose when backups run".into()),
    ));
    let first_backup = history.newest_snapshot_made().await?.and_then(|row| {
        Some(BackupDone {
            run_id: row.run_id,
            took_seconds: row
                .finished_at?
                .signed_duration_since(row.started_at)
                .num_seconds()
                .max(0) as u64,
            finished_at: row.finished_at?,
            task: row.task,
            snapshot: row.snapshot?,
            files: row.stats.files_total,
            bytes: row.stats.bytes_total,
            bytes_copied: row.stats.bytes_transferred,
        })
    });
    steps.push(state(
        SetupStep::FirstRun,
        first_backup.is_some(),
        first_backup.is_none().then(|| {
            if usable.is_some() {
                "run a backup once and see it work".into()
            } else {
                "needs a valid configuration first".into()
            }
        }),
    ));
    Ok(Readiness {
        steps,
        dismissed: history.setting(DISMISSED).await?.is_some(),
        first_backup,
    })
}

fn state(step: SetupStep, done: bool, missing: Option<String>) -> StepState {
    StepState {
        step,
        done,
        skipped: false,
        missing,
    }
}
