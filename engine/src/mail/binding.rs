//! Which SMTP server the password may be sent to (SPEC §11: a stored secret only ever goes to the
//! endpoint it was stored for).
//!
//! The web app can edit the configuration, so a stolen session could point `smtp.host` at its own
//! server and press *Send test email* to collect the password in AUTH. So the password is bound to
//! an endpoint — host, port, security and user — kept in `<data>/secrets/smtp_endpoint` (0600):
//! - storing a password from the Email page binds it to the form's endpoint; changing the endpoint
//!   there without typing the password again drops the stored password;
//! - `mnemosynce test-email`, run by the owner on the server, binds the password in force to the
//!   endpoint in the file (that is how a hand edit of `smtp:` is confirmed);
//! - a password from before this file existed is bound to the endpoint it is first used with (the
//!   configuration of the day the new version starts is the owner's);
//! - any other endpoint gets no password: its login step fails and says how to confirm it.
//!
//! Whatever the binding, a password is sent in clear text (`security: none`) only to this machine
//! (see `mail::Session::open`).

use crate::data_dir::DataDir;
use crate::model::config::{Config, SmtpSecurity};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Where a password may be sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpEndpoint {
    pub host: String,
    pub port: u16,
    pub security: String,
    /// The login name (`smtp.username`, else `email_sender`).
    pub user: String,
}

impl SmtpEndpoint {
    /// The endpoint the configuration names.
    pub fn of(config: &Config) -> SmtpEndpoint {
        SmtpEndpoint::new(
            &config.smtp.host,
            config.smtp.port,
            config.smtp.security,
            config
                .smtp
                .username
                .as_deref()
                .or(config.email_sender.as_deref())
                .unwrap_or(""),
        )
    }

    pub fn new(host: &str, port: u16, security: SmtpSecurity, user: &str) -> SmtpEndpoint {
        SmtpEndpoint::from_form(host, port, security.as_str(), user)
    }

    /// As the Email page's form names it (`security` as written: `tls`, `starttls`, `none`).
    pub fn from_form(host: &str, port: u16, security: &str, user: &str) -> SmtpEndpoint {
        SmtpEndpoint {
            host: host.trim().to_ascii_lowercase(),
            port,
            security: security.trim().to_string(),
            user: user.trim().to_string(),
        }
    }
}

impl std::fmt::Display for SmtpEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{} ({}) as {}",
            self.host, self.port, self.security, self.user
        )
    }
}

/// `<data>/secrets/smtp_endpoint`.
pub fn path(data: &DataDir) -> PathBuf {
    data.secrets().join("smtp_endpoint")
}

/// The endpoint the password is bound to, if any (an unreadable file binds to nothing, so the
/// password goes nowhere).
pub fn bound(data: &DataDir) -> Result<Option<SmtpEndpoint>, String> {
    match std::fs::read_to_string(path(data)) {
        Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
            format!(
                "{} is damaged ({e}); delete it and store the password again",
                path(data).display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path(data).display())),
    }
}

/// Binds the password to `endpoint` (replacing the binding).
pub fn bind(data: &DataDir, endpoint: &SmtpEndpoint) -> std::io::Result<()> {
    let text = serde_json::to_string(endpoint).map_err(std::io::Error::other)?;
    crate::mail::settings::write_secret(data, "smtp_endpoint", &text)
}

/// Drops the binding (with the stored password).
pub fn forget(data: &DataDir) -> std::io::Result<()> {
    match std::fs::remove_file(path(data)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Whether a password may go to `here`: `Ok(())`, or `Err(the endpoint it is bound to)`. Binds an
/// unbound password to `here` on first use.
pub fn check(data: &DataDir, here: &SmtpEndpoint) -> Result<(), String> {
    match bound(data)? {
        Some(b) if &b == here => Ok(()),
        Some(b) => Err(b.to_string()),
        None => {
            bind(data, here)
                .map_err(|e| format!("cannot record where the password may go: {e}"))?;
            tracing::info!(endpoint = %here, "the SMTP password is bound to this server from now on");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_goes_only_where_it_was_bound() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path());
        let home = SmtpEndpoint::new("smtp.gmail.com", 465, SmtpSecurity::Tls, "me@gmail.com");
        // First use binds.
        assert!(check(&data, &home).is_ok());
        assert!(check(&data, &home).is_ok());
        for other in [
            SmtpEndpoint::new("evil.example", 465, SmtpSecurity::Tls, "me@gmail.com"),
            SmtpEndpoint::new("smtp.gmail.com", 25, SmtpSecurity::Tls, "me@gmail.com"),
            SmtpEndpoint::new("smtp.gmail.com", 465, SmtpSecurity::None, "me@gmail.com"),
            SmtpEndpoint::new("smtp.gmail.com", 465, SmtpSecurity::Tls, "you@gmail.com"),
        ] {
            let err = check(&data, &other).unwrap_err();
            assert!(err.contains("smtp.gmail.com:465"), "{err}");
        }
        // Host names are compared without case.
        assert!(check(
            &data,
            &SmtpEndpoint::new("SMTP.Gmail.com", 465, SmtpSecurity::Tls, "me@gmail.com")
        )
        .is_ok());
        forget(&data).unwrap();
        assert_eq!(bound(&data).unwrap(), None);
    }
}
