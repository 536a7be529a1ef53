//! The server functions of the connections page (and the wizard's third step): the SSH endpoints of
//! the configuration, each tested step by step (`engine::ssh::connection`, streamed as it runs), the
//! host key trusted by the fingerprint the owner saw, and the test email (`engine::mail`). Tests run
//! only against endpoints the configuration names.

use super::error::ApiError;
use engine::model::connection::{CheckStep, OfferedHostKey};
use engine::model::setup::EndpointUse;
use leptos::prelude::*;
use leptos::server_fn::codec::{StreamingText, TextStream};
use serde::{Deserialize, Serialize};

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

#[cfg(feature = "ssr")]
mod imp {
    use super::*;
    use crate::api::backend::Backend;
    use crate::api::server_side::{fail, invalid, usable_config};
    use engine::model::config::Endpoint;

    /// The SSH endpoint of the configuration written as `endpoint` (tests run only against those).
    pub fn configured_endpoint(
        b: &Backend,
        endpoint: &str,
    ) -> Result<(EndpointUse, engine::model::config::SshEndpoint), ApiError> {
        let (config, _) = usable_config(b)?;
        engine::setup::ssh_endpoints(&config)
            .into_iter()
            .find(|(u, _)| u.endpoint == endpoint)
            .ok_or_else(|| {
                invalid(format!(
                    "{endpoint} is not an SSH endpoint of the configuration"
                ))
            })
    }

    pub async fn run_test(b: &Backend, endpoint: &str) -> Result<ConnectionTest, ApiError> {
        let (u, e) = configured_endpoint(b, endpoint)?;
        let report = engine::ssh::connection::test(&b.data.ssh(), &e, u.for_mirror).await;
        finish_test(b, u, report).await
    }

    /// Records the outcome (for the wizard) and makes the page's view of it.
    pub async fn finish_test(
        b: &Backend,
        u: EndpointUse,
        report: engine::ssh::connection::ConnectionReport,
    ) -> Result<ConnectionTest, ApiError> {
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

    pub fn is_ssh(endpoint: &str) -> bool {
        matches!(endpoint.parse::<Endpoint>(), Ok(Endpoint::Ssh(_)))
    }
}

/// The SSH endpoints of the configuration and the email server.
#[server(endpoint = "get_connections")]
pub async fn get_connections() -> Result<Connections, ApiError> {
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
pub async fn test_connection_live(endpoint: String) -> Result<TextStream<ApiError>, ApiError> {
    use crate::api::server_side::admin;
    use futures::StreamExt;
    let b = admin().await?;
    if !imp::is_ssh(&endpoint) {
        return Err(crate::api::server_side::invalid(format!(
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
pub async fn trust_host(endpoint: String, fingerprint: String) -> Result<ConnectionTest, ApiError> {
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
pub async fn send_test_email(to: Option<String>) -> Result<Vec<CheckStep>, ApiError> {
    use crate::api::server_side::{admin, usable_config};
    let b = admin().await?;
    let (c, _) = usable_config(&b)?;
    let to = to.filter(|t| !t.trim().is_empty());
    Ok(engine::mail::test_email(&c, &b.data, to.as_deref()).await)
}
