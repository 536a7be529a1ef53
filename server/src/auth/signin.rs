//! [`Auth`]: what sign-in needs at run time, prepared at server start.
//!
//! First start: with no password and no `MNEMOSYNCE_ADMIN_PASSWORD`, [`Auth::start`] makes a
//! one-time setup code, prints it on the console and writes it to `<data>/setup-code`; with the
//! variable set, the first password is that one (it only seeds: once a password exists it is
//! ignored, and `mnemosynce passwd` or the web app change it). At run time it holds the throttle,
//! the semaphore bounding concurrent password checks, and whether to trust a proxy's
//! `X-Forwarded-*` headers for the client's address. Shared through `crate::state::AppState`.

use super::password::{has_password, set_password, AuthError, PASSWORD_ENV};
use super::setup_code::{new_setup_code, setup_code_file, setup_code_matches, write_private};
use super::throttle::{Throttle, CONCURRENT_CHECKS};
use axum::http::HeaderMap;
use engine::data_dir::DataDir;
use engine::history::History;
use std::net::{IpAddr, SocketAddr};

/// What sign-in needs at run time.
#[derive(Debug)]
pub struct Auth {
    pub history: History,
    pub data: DataDir,
    pub throttle: Throttle,
    /// Bounds the password checks running at once ([`CONCURRENT_CHECKS`]).
    pub checks: tokio::sync::Semaphore,
    /// Trust `X-Forwarded-For` / `X-Forwarded-Proto` / `X-Forwarded-Host` (behind a reverse proxy).
    pub trust_proxy: bool,
}

impl Auth {
    /// Prepares sign-in at server start: seeds the password from the environment, or makes a setup
    /// code (printed and written to `<data>/setup-code`) when there is no password at all.
    pub async fn start(
        history: History,
        data: DataDir,
        trust_proxy: bool,
    ) -> Result<Auth, AuthError> {
        let auth = Auth {
            history,
            data,
            throttle: Throttle::default(),
            checks: tokio::sync::Semaphore::new(CONCURRENT_CHECKS),
            trust_proxy,
        };
        if has_password(&auth.history).await? {
            if std::env::var_os(PASSWORD_ENV).is_some() {
                tracing::info!("{PASSWORD_ENV} is ignored: a password is already set (change it with `mnemosynce passwd`)");
            }
            return Ok(auth);
        }
        if let Some(pw) = std::env::var_os(PASSWORD_ENV) {
            set_password(&auth.history, &auth.data, &pw.to_string_lossy()).await?;
            tracing::info!("the admin password was set from {PASSWORD_ENV}");
            return Ok(auth);
        }
        let code = new_setup_code().map_err(|e| AuthError::Hash(e.to_string()))?;
        let path = setup_code_file(&auth.data);
        write_private(&path, &format!("{code}\n")).map_err(|source| AuthError::SetupCode {
            path: path.clone(),
            source,
        })?;
        println!(
            "\n  No admin password yet. Open the web app and create one with this setup code:\n\n      {code}\n\n  (also in {})\n",
            path.display()
        );
        tracing::info!(file = %path.display(), "setup code written: create the admin password at /setup");
        Ok(auth)
    }

    /// The setup code lives in `<data>/setup-code` only (setting the password removes it), so a
    /// restarted server and the file the owner reads always agree.
    pub fn setup_code_matches(&self, typed: &str) -> bool {
        setup_code_matches(&self.data, typed)
    }

    /// The client's address: the peer, or with `--trust-proxy` the address the proxy saw.
    pub fn client_ip(&self, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
        if self.trust_proxy {
            if let Some(ip) = headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|v| v.trim().parse::<IpAddr>().ok())
            {
                return ip;
            }
        }
        peer.ip()
    }
}
