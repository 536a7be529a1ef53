//! The server functions of the email settings page: the email keys of the configuration and the
//! write-only SMTP password (`engine::config::edit::email`, `engine::mail::settings`); the test email is `settings::send_test_email`.

// A server function takes its form's fields as arguments; the macro copies no `allow` onto the
// browser-side function it generates, so the allowance is for the module.
#![allow(clippy::too_many_arguments)]

use super::error::ApiError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The form as the page shows it. The password is not in it: only whether one is stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EmailView {
    pub enabled: bool,
    pub sender: String,
    pub report: String,
    pub admin: String,
    pub host: String,
    pub port: u16,
    pub security: String,
    pub username: String,
    /// Where the password comes from now (as the mail step resolves it), or that there is none.
    pub password_source: String,
    pub password_stored: bool,
    pub config_error: Option<String>,
    /// The version of the file this was read from; the save sends it back.
    pub version: String,
}

#[cfg(feature = "ssr")]
fn view_of(b: &super::backend::Backend) -> EmailView {
    let data = &b.data;
    let stored = engine::mail::settings::password_stored(data);
    let version = super::server_side::config_version(b);
    match super::server_side::config(b) {
        Ok((c, _)) => {
            // The engine's own order (file, environment, secrets/), as the mail step uses it.
            let source = match engine::mail::Transport::from_config(&c, data) {
                Ok(t) => t.password_source().map(str::to_string).unwrap_or_else(|| {
                    "none: the login step is skipped (fine for a LAN relay without AUTH)".into()
                }),
                Err(e) => e.to_string(),
            };
            EmailView {
                enabled: c.email.enabled,
                sender: c.email_sender.clone().unwrap_or_default(),
                report: c.email_report.clone().unwrap_or_default(),
                admin: c.email_admin.clone().unwrap_or_default(),
                host: c.smtp.host.clone(),
                port: c.smtp.port,
                security: c.smtp.security.as_str().to_string(),
                username: c.smtp.username.clone().unwrap_or_default(),
                password_source: source,
                password_stored: stored,
                config_error: None,
                version,
            }
        }
        Err(e) => EmailView {
            enabled: false,
            sender: String::new(),
            report: String::new(),
            admin: String::new(),
            host: String::new(),
            port: 465,
            security: "tls".into(),
            username: String::new(),
            password_source: String::new(),
            password_stored: stored,
            config_error: Some(e),
            version,
        },
    }
}

/// The email settings.
#[server(endpoint = "get_email")]
pub async fn get_email() -> Result<EmailView, ApiError> {
    let b = super::server_side::admin().await?;
    Ok(view_of(&b))
}

/// Saves the email settings when the file is still at `version` (what the page read); an empty
/// `password` keeps the stored one, unless the SMTP server, port, security or login changed: then the
/// stored password is deleted (it is only ever sent to the server it was typed for) and must be typed
/// again.
#[server(endpoint = "save_email")]
pub async fn save_email(
    enabled: Option<String>,
    sender: String,
    report: String,
    admin: String,
    host: String,
    port: u16,
    security: String,
    username: String,
    password: String,
    version: String,
) -> Result<EmailView, ApiError> {
    use super::server_side::{admin as session, fail, update_config, usable_config};
    let b = session().await?;
    let (c, _) = usable_config(&b)?;
    let form = engine::config::edit::email::EmailEdit {
        enabled: enabled.is_some_and(|v| v == "on" || v == "true"),
        sender: &sender,
        report: &report,
        admin: &admin,
        host: &host,
        port,
        security: &security,
        username: &username,
    };
    // The password goes only to the server it was typed for: a new server needs it typed again.
    let user = if username.trim().is_empty() {
        sender.as_str()
    } else {
        username.as_str()
    };
    let new_endpoint = engine::mail::binding::SmtpEndpoint::from_form(&host, port, &security, user);
    let moved = new_endpoint != engine::mail::binding::SmtpEndpoint::of(&c);
    let edit = engine::config::edit::email::EmailUpdate {
        form,
        current: &c.smtp,
    };
    update_config(&b, version, &edit)?;
    if !password.is_empty() {
        engine::mail::settings::store_password(&b.data, &password, &new_endpoint).map_err(|e| {
            fail(format!(
                "the settings were saved, but not the password: {e}"
            ))
        })?;
    } else if moved {
        engine::mail::settings::forget_password(&b.data).map_err(|e| {
            fail(format!(
                "the settings were saved, but the password stored for the old server could not be deleted: {e}"
            ))
        })?;
    }
    Ok(view_of(&b))
}
