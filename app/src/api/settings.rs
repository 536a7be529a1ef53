//! The server functions of the setup wizard and the settings pages: configuration, SSH keys,
//! connections, email test and schedule. Each checks the session and calls the engine function the
//! CLI uses (`engine::config::edit`, `engine::ssh`, `engine::schedule`, `engine::mail`,
//! `engine::setup`); nothing is decided here.

use engine::model::connection::{CheckStep, OfferedHostKey};
use engine::model::diff::DiffLine;
use engine::model::setup::{EndpointUse, Readiness};
use leptos::prelude::*;
use leptos::server_fn::codec::{StreamingText, TextStream};
use serde::{Deserialize, Serialize};

/// One problem of a configuration text, at a 1-based line and column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfigProblem {
    pub line: usize,
    pub column: usize,
    /// An error blocks saving; a warning (a folder that is not there yet) does not.
    pub error: bool,
    pub message: String,
}

/// The configuration file as the editor opens it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfigFile {
    /// The file's text, or the commented template when there is no file yet.
    pub text: String,
    pub exists: bool,
    pub path: String,
    pub problems: Vec<ConfigProblem>,
    /// The version of the file this text is (of no file for the template); the save sends it back.
    pub version: String,
}

/// What checking (or saving) a text found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfigCheck {
    pub problems: Vec<ConfigProblem>,
    /// The change against the file on disk, changed lines with 3 lines of context.
    pub diff: Vec<DiffLine>,
    /// The text was written (it had no errors).
    pub saved: bool,
    /// The version of the file after the save, for the next one (empty when nothing was saved).
    pub version: String,
}

impl ConfigCheck {
    pub fn errors(&self) -> usize {
        self.problems.iter().filter(|p| p.error).count()
    }
}

/// A key pair as the keys page shows it: public data only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyView {
    pub name: String,
    pub algorithm: String,
    pub fingerprint: String,
    pub comment: String,
    /// The line for `~/.ssh/authorized_keys`.
    pub public_line: String,
    pub problem: Option<String>,
}

impl KeyView {
    /// A command to run on the remote machine that adds the key (what `ssh-copy-id` does): the key
    /// line is shell-quoted whole, so even a comment with quotes from an older key stays data.
    pub fn install_command(&self) -> String {
        engine::model::connection::key_install_command(&self.public_line)
    }
}

/// The connections page: SSH endpoints of the configuration, and the email settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Connections {
    pub endpoints: Vec<EndpointUse>,
    /// `smtp.gmail.com:465 (tls)`, or why email is not set up.
    pub smtp: Result<String, String>,
    pub config_error: Option<String>,
}

/// The result of one connection test.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectionTest {
    pub endpoint: String,
    pub steps: Vec<CheckStep>,
    /// The host's keys when they are not trusted (or changed): shown with their fingerprints.
    pub offered: Vec<OfferedHostKey>,
    pub ok: bool,
}

/// The schedule page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScheduleView {
    pub cron: String,
    pub enabled: bool,
    /// "every day at 02:00", or why the expression is wrong.
    pub description: Result<String, String>,
    /// The next start times, formatted in the configured zone.
    pub next: Vec<String>,
    pub zone: String,
    /// (label, expression).
    pub presets: Vec<(String, String)>,
    /// Why the configuration cannot be used (the schedule cannot be saved then).
    pub config_error: Option<String>,
    /// The version of the file this was read from; the save sends it back.
    pub version: String,
}

#[cfg(feature = "ssr")]
mod imp {
    use super::*;
    use crate::api::backend::Backend;
    use crate::api::server_side::fail;
    use engine::model::config::Endpoint;

    pub fn problems(checked: &engine::config::Checked) -> Vec<ConfigProblem> {
        checked
            .problems
            .iter()
            .map(|p| ConfigProblem {
                line: p.line,
                column: p.column,
                error: p.is_error(),
                message: p.message.clone(),
            })
            .collect()
    }

    pub fn current_text(b: &Backend) -> Option<String> {
        std::fs::read_to_string(&b.config_path).ok()
    }

    pub fn key_view(k: engine::ssh::keys::KeyInfo) -> KeyView {
        KeyView {
            name: k.name,
            algorithm: k.algorithm,
            fingerprint: k.fingerprint,
            comment: k.comment,
            public_line: k.public_line,
            problem: k.problem,
        }
    }

    /// The SSH endpoint of the configuration written as `endpoint` (tests run only against those).
    pub fn configured_endpoint(
        b: &Backend,
        endpoint: &str,
    ) -> Result<(EndpointUse, engine::model::config::SshEndpoint), ServerFnError> {
        let (config, _) = crate::api::server_side::config(b).map_err(ServerFnError::new)?;
        engine::setup::ssh_endpoints(&config)
            .into_iter()
            .find(|(u, _)| u.endpoint == endpoint)
            .ok_or_else(|| {
                ServerFnError::new(format!(
                    "{endpoint} is not an SSH endpoint of the configuration"
                ))
            })
    }

    pub async fn run_test(b: &Backend, endpoint: &str) -> Result<ConnectionTest, ServerFnError> {
        let (u, e) = configured_endpoint(b, endpoint)?;
        let report = engine::ssh::connection::test(&b.data.ssh(), &e, u.for_mirror).await;
        finish_test(b, u, report).await
    }

    /// Records the outcome (for the wizard) and makes the page's view of it.
    pub async fn finish_test(
        b: &Backend,
        u: EndpointUse,
        report: engine::ssh::connection::ConnectionReport,
    ) -> Result<ConnectionTest, ServerFnError> {
        let ok = report.ok();
        engine::setup::record_connection_test(&b.history, &u.endpoint, ok)
            .await
            .map_err(fail)?;
        Ok(ConnectionTest {
            endpoint: u.endpoint,
            ok,
            offered: report
                .offered
                .iter()
                .map(|k| OfferedHostKey {
                    algorithm: k.algorithm.clone(),
                    fingerprint: k.fingerprint.clone(),
                    changed: report.host_key_changed,
                })
                .collect(),
            steps: report.steps,
        })
    }

    pub fn schedule_view(b: &Backend, cron: Option<String>, enabled: Option<bool>) -> ScheduleView {
        let version = crate::api::server_side::config_version(b);
        let presets = engine::schedule::PRESETS
            .iter()
            .map(|(l, c)| (l.to_string(), c.to_string()))
            .collect();
        let (config, tz, config_error) = match crate::api::server_side::config(b) {
            Ok((c, tz)) => (Some(c), tz, None),
            Err(e) => (None, chrono_tz::UTC, Some(e)),
        };
        let cron = cron
            .or_else(|| config.as_ref().map(|c| c.schedule.cron.clone()))
            .unwrap_or_else(|| "0 2 * * *".into());
        let enabled = enabled
            .or_else(|| config.as_ref().map(|c| c.schedule.enabled))
            .unwrap_or(true);
        let (description, next) = match engine::schedule::Cron::parse(&cron) {
            Ok(c) => (
                Ok(c.describe()),
                c.upcoming(tz, chrono::Utc::now(), 5)
                    .iter()
                    .map(|t| t.format("%a %Y-%m-%d %H:%M %Z").to_string())
                    .collect(),
            ),
            Err(e) => (Err(e.to_string()), Vec::new()),
        };
        ScheduleView {
            cron,
            enabled,
            description,
            next,
            zone: tz.name().to_string(),
            presets,
            config_error,
            version,
        }
    }

    pub fn is_ssh(endpoint: &str) -> bool {
        matches!(endpoint.parse::<Endpoint>(), Ok(Endpoint::Ssh(_)))
    }
}

/// The configuration file (or the template for a new install) and its problems.
#[server(endpoint = "get_config")]
pub async fn get_config() -> Result<ConfigFile, ServerFnError> {
    use crate::api::server_side::admin;
    let b = admin().await?;
    let version = crate::api::server_side::config_version(&b);
    let current = imp::current_text(&b);
    let exists = current.is_some();
    let text = current.unwrap_or_else(|| engine::config::edit::TEMPLATE.to_string());
    let problems = imp::problems(&engine::config::check_str(&text));
    Ok(ConfigFile {
        text,
        exists,
        path: b.config_path.display().to_string(),
        problems,
        version,
    })
}

/// Checks a text without saving it: every problem, and the diff against the file.
#[server(endpoint = "check_config")]
pub async fn check_config(text: String) -> Result<ConfigCheck, ServerFnError> {
    use crate::api::server_side::admin;
    let b = admin().await?;
    let old = imp::current_text(&b).unwrap_or_default();
    Ok(ConfigCheck {
        problems: imp::problems(&engine::config::check_str(&text)),
        diff: engine::config::edit::line_diff_context(&old, &text, 3),
        saved: false,
        version: String::new(),
    })
}

/// Saves a text when it has no errors and the file is still at `version`, what the editor opened
/// (atomically; the replaced file stays as `.prev`).
#[server(endpoint = "save_config")]
pub async fn save_config(text: String, version: String) -> Result<ConfigCheck, ServerFnError> {
    use crate::api::server_side::{admin, fail};
    use engine::config::edit::{update, SaveError, WholeText};
    let b = admin().await?;
    let old = imp::current_text(&b).unwrap_or_default();
    let diff = engine::config::edit::line_diff_context(&old, &text, 3);
    match update(&b.config_path, &version.into(), &WholeText(&text)) {
        Ok(saved) => Ok(ConfigCheck {
            problems: imp::problems(&engine::config::Checked {
                config: None,
                problems: saved.warnings,
            }),
            diff,
            saved: true,
            version: saved.version.to_string(),
        }),
        Err(SaveError::Invalid(checked)) => Ok(ConfigCheck {
            problems: imp::problems(&checked),
            diff,
            saved: false,
            version: String::new(),
        }),
        Err(e) => Err(fail(e)),
    }
}

/// Where the setup stands.
#[server(endpoint = "get_readiness")]
pub async fn get_readiness() -> Result<Readiness, ServerFnError> {
    use crate::api::server_side::{admin, fail};
    let b = admin().await?;
    engine::setup::readiness(&b.data, &b.config_path, &b.history)
        .await
        .map_err(fail)
}

/// The app's key pairs.
#[server(endpoint = "get_keys")]
pub async fn get_keys() -> Result<Vec<KeyView>, ServerFnError> {
    use crate::api::server_side::{admin, fail};
    let b = admin().await?;
    Ok(engine::ssh::keys::list(&b.data.ssh())
        .map_err(fail)?
        .into_iter()
        .map(imp::key_view)
        .collect())
}

/// Generates an ed25519 key pair.
#[server(endpoint = "generate_key")]
pub async fn generate_key(name: String, comment: String) -> Result<KeyView, ServerFnError> {
    use crate::api::server_side::{admin, fail};
    let b = admin().await?;
    let comment = if comment.trim().is_empty() {
        format!("mnemosynce@{name}")
    } else {
        comment
    };
    engine::ssh::keys::generate(&b.data.ssh(), name.trim(), comment.trim())
        .map(imp::key_view)
        .map_err(fail)
}

/// Deletes a key pair.
#[server(endpoint = "delete_key")]
pub async fn delete_key(name: String) -> Result<(), ServerFnError> {
    use crate::api::server_side::{admin, fail};
    let b = admin().await?;
    engine::ssh::keys::delete(&b.data.ssh(), &name).map_err(fail)
}

/// The SSH endpoints of the configuration and the email server.
#[server(endpoint = "get_connections")]
pub async fn get_connections() -> Result<Connections, ServerFnError> {
    use crate::api::server_side::{admin, config};
    let b = admin().await?;
    Ok(match config(&b) {
        Ok((c, _)) => Connections {
            endpoints: engine::setup::ssh_endpoints(&c)
                .into_iter()
                .map(|(u, _)| u)
                .collect(),
            smtp: if !c.email.enabled {
                Err("email is off (email: {enabled: false})".into())
            } else {
                engine::mail::Transport::from_config(&c, &b.data)
                    .map(|t| t.server())
                    .map_err(|e| e.to_string())
            },
            config_error: None,
        },
        Err(e) => Connections {
            endpoints: Vec::new(),
            smtp: Err("needs a valid configuration".into()),
            config_error: Some(e),
        },
    })
}

/// One line of a live connection test: each step as soon as it is decided, then the whole result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum LiveCheck {
    Step(CheckStep),
    Done(ConnectionTest),
}

/// Tests one SSH endpoint of the configuration, step by step, streaming each step (one JSON
/// [`LiveCheck`] a line) while the next one runs.
#[server(endpoint = "test_connection_live", output = StreamingText)]
pub async fn test_connection_live(endpoint: String) -> Result<TextStream, ServerFnError> {
    use crate::api::server_side::admin;
    use futures::StreamExt;
    let b = admin().await?;
    if !imp::is_ssh(&endpoint) {
        return Err(ServerFnError::new(format!(
            "{endpoint} is not an SSH endpoint"
        )));
    }
    let (u, e) = imp::configured_endpoint(&b, &endpoint)?;
    let (tx, rx) = futures::channel::mpsc::unbounded::<String>();
    let line = |m: &LiveCheck| {
        serde_json::to_string(m)
            .map(|t| t + "\n")
            .unwrap_or_default()
    };
    leptos::task::spawn(async move {
        let mut on_step = |s: &CheckStep| {
            let _ = tx.unbounded_send(line(&LiveCheck::Step(s.clone())));
        };
        let report =
            engine::ssh::connection::test_live(&b.data.ssh(), &e, u.for_mirror, &mut on_step).await;
        let done = match imp::finish_test(&b, u, report).await {
            Ok(t) => LiveCheck::Done(t),
            Err(err) => LiveCheck::Step(CheckStep {
                name: "record the result".into(),
                verdict: engine::model::connection::Verdict::Fail,
                detail: err.to_string(),
                hint: None,
            }),
        };
        let _ = tx.unbounded_send(line(&done));
    });
    Ok(TextStream::new(rx.map(Ok)))
}

/// Trusts the host key the owner was shown (by its fingerprint), then tests again.
#[server(endpoint = "trust_host")]
pub async fn trust_host(
    endpoint: String,
    fingerprint: String,
) -> Result<ConnectionTest, ServerFnError> {
    use crate::api::server_side::{admin, fail};
    let b = admin().await?;
    let (_, e) = imp::configured_endpoint(&b, &endpoint)?;
    engine::ssh::connection::trust_seen_key(&b.data.ssh(), &e, &fingerprint)
        .await
        .map_err(fail)?;
    imp::run_test(&b, &endpoint).await
}

/// Sends a test email step by step (to the report address, or `to`).
#[server(endpoint = "send_test_email")]
pub async fn send_test_email(to: Option<String>) -> Result<Vec<CheckStep>, ServerFnError> {
    use crate::api::server_side::{admin, config};
    let b = admin().await?;
    let (c, _) = config(&b).map_err(ServerFnError::new)?;
    let to = to.filter(|t| !t.trim().is_empty());
    Ok(engine::mail::test_email(&c, &b.data, to.as_deref()).await)
}

/// The schedule in force.
#[server(endpoint = "get_schedule")]
pub async fn get_schedule() -> Result<ScheduleView, ServerFnError> {
    use crate::api::server_side::admin;
    let b = admin().await?;
    Ok(imp::schedule_view(&b, None, None))
}

/// What an expression means and when it would run, without saving it.
#[server(endpoint = "preview_schedule")]
pub async fn preview_schedule(cron: String, enabled: bool) -> Result<ScheduleView, ServerFnError> {
    use crate::api::server_side::admin;
    let b = admin().await?;
    Ok(imp::schedule_view(
        &b,
        Some(cron.trim().to_string()),
        Some(enabled),
    ))
}

/// Saves the schedule when the file is still at `version` (what the page read): only the
/// `schedule:` block of the file changes.
#[server(endpoint = "save_schedule")]
pub async fn save_schedule(
    cron: String,
    enabled: bool,
    version: String,
) -> Result<ScheduleView, ServerFnError> {
    use crate::api::server_side::{admin, fail, update_config};
    let b = admin().await?;
    let cron = cron.trim().to_string();
    engine::schedule::Cron::parse(&cron).map_err(fail)?;
    let edit = engine::config::edit::ScheduleEdit {
        cron: &cron,
        enabled,
    };
    update_config(&b, version, &edit)?;
    engine::setup::record_schedule_saved(&b.history)
        .await
        .map_err(fail)?;
    Ok(imp::schedule_view(&b, None, None))
}
