//! [`AppState`]: what every handler, guard and the feed share, built once by `serve.rs`.
//!
//! Cheap to clone (everything heavy is behind an `Arc` or is a pool handle). This file sits below
//! every HTTP handler: it names the things the server holds (sign-in, the run manager and its feed,
//! the session store, the host names) and nothing that reads requests, so the handlers, the guards
//! (`security.rs`) and the router (`routes.rs`) all depend on it and it on none of them.

use crate::auth::session::SessionEnd;
use crate::auth::signin::Auth;
use crate::feed::hub::FeedHub;
use crate::hosts::AllowedHosts;
use crate::runs::RunManager;
use crate::session_ids::HashedIds;
use leptos::config::LeptosOptions;
use std::sync::Arc;
use std::time::Instant;
use tokio_util::sync::CancellationToken;
use tower_sessions_sqlx_store::SqliteStore;

/// Everything the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub started: Instant,
    pub feed: Arc<FeedHub>,
    pub shutdown: CancellationToken,
    pub auth: Arc<Auth>,
    /// What the server functions get (data, history, run manager).
    pub backend: app::api::backend::Backend,
    pub runs: Arc<RunManager>,
    pub sessions: SqliteStore,
    /// Session cookies get `Secure` (served over HTTPS, or behind a trusted proxy).
    pub secure_cookies: bool,
    /// Served over HTTPS by this process (`--tls-cert`): answers carry HSTS.
    pub tls: bool,
    /// The host names this server answers to (`hosts.rs`).
    pub allowed_hosts: AllowedHosts,
    /// Told when a session ends (sign-out, new password): its feeds close at once.
    pub session_ends: tokio::sync::broadcast::Sender<SessionEnd>,
}

impl AppState {
    /// The session store as the session layer sees it (ids hashed, see `session_ids.rs`).
    pub fn session_store(&self) -> HashedIds<SqliteStore> {
        HashedIds::new(self.sessions.clone())
    }
}

impl axum::extract::FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
