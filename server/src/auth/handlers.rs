//! The sign-in forms: `POST /auth/login`, `/auth/setup` (the first password, with the setup
//! code), `/auth/logout` and (signed in) `/auth/password`.
//!
//! They are plain HTML posts, so signing in works before (and without) the WASM. Each password
//! check takes a slot of the semaphore first (a busy server answers `429` without counting the
//! attempt), then counts the attempt against the client's throttle, then checks. Errors come back
//! as a fixed code in the query string (`/login?error=wrong`), never as reflected text. Ending a
//! session (sign-out, a new password) tells its feeds through `AppState::session_ends`.
//! The password logic itself is `password.rs`; these only read the form and answer.

use super::next::{safe_next, with_next};
use super::password::{
    has_password, set_password, verify_password, MIN_PASSWORD_CHARS, PASSWORD_KEY,
};
use super::session::{sign_in, SessionEnd};
use super::signin::Auth;
use crate::state::AppState;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::sync::SemaphorePermit;
use tower_sessions::Session;

fn too_many(wait: Duration) -> Response {
    let secs = wait.as_secs().max(1);
    let mut resp = (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Too many attempts</title></head>\
             <body><h1>Too many attempts</h1><p>Wait {secs} seconds, then <a href=\"/login\">try again</a>.</p></body></html>"
        ),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

/// The gate before every password or setup-code check: a check slot first (a busy server turns a
/// request away without counting it), then the attempt is counted against the client. `Err` is how
/// long the client should wait (a `429`); the slot is held until the returned permit drops.
fn admit(auth: &Auth, client: IpAddr) -> Result<SemaphorePermit<'_>, Duration> {
    let Ok(slot) = auth.checks.try_acquire() else {
        return Err(Duration::from_secs(1));
    };
    auth.throttle.attempt(client)?;
    Ok(slot)
}

/// What is wrong with a new password and its confirmation, as the `?error=` code the form shows.
fn new_password_problem(password: &str, confirm: &str) -> Option<&'static str> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        Some("short")
    } else if password != confirm {
        Some("mismatch")
    } else {
        None
    }
}

fn server_error(e: impl std::fmt::Display) -> Response {
    tracing::error!("sign-in: {e}");
    (StatusCode::INTERNAL_SERVER_ERROR, format!("error: {e}")).into_response()
}

#[derive(Deserialize)]
pub struct LoginForm {
    password: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /auth/login`
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Response {
    let auth = &state.auth;
    let client = auth.client_ip(peer, &headers);
    let next = safe_next(form.next.as_deref());
    let _slot = match admit(auth, client) {
        Ok(slot) => slot,
        Err(wait) => return too_many(wait),
    };
    let hash = match auth.history.setting(PASSWORD_KEY).await {
        Ok(Some(h)) => h,
        Ok(None) => return Redirect::to("/setup").into_response(),
        Err(e) => return server_error(e),
    };
    if !verify_password(&form.password, &hash).await {
        tracing::warn!(%client, "sign-in failed: wrong password");
        return Redirect::to(&with_next("/login?error=wrong", &next)).into_response();
    }
    auth.throttle.clear(client);
    if let Err(e) = sign_in(&session).await {
        return server_error(e);
    }
    tracing::info!(%client, "signed in");
    Redirect::to(&next).into_response()
}

#[derive(Deserialize)]
pub struct SetupForm {
    code: String,
    password: String,
    confirm: String,
}

/// `POST /auth/setup`: the first password, with the setup code.
pub async fn setup(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    session: Session,
    Form(form): Form<SetupForm>,
) -> Response {
    let auth = &state.auth;
    let client = auth.client_ip(peer, &headers);
    match has_password(&auth.history).await {
        Ok(true) => return Redirect::to("/login").into_response(),
        Ok(false) => {}
        Err(e) => return server_error(e),
    }
    let _slot = match admit(auth, client) {
        Ok(slot) => slot,
        Err(wait) => return too_many(wait),
    };
    if !auth.setup_code_matches(&form.code) {
        tracing::warn!(%client, "setup: wrong setup code");
        return Redirect::to("/setup?error=code").into_response();
    }
    if let Some(code) = new_password_problem(&form.password, &form.confirm) {
        return Redirect::to(&format!("/setup?error={code}")).into_response();
    }
    if let Err(e) = set_password(&auth.history, &auth.data, &form.password).await {
        return server_error(e);
    }
    auth.throttle.clear(client);
    if let Err(e) = sign_in(&session).await {
        return server_error(e);
    }
    tracing::info!(%client, "admin password created");
    Redirect::to("/").into_response()
}

/// `POST /auth/logout`
pub async fn logout(State(state): State<AppState>, session: Session) -> Response {
    let id = session.id();
    if let Err(e) = session.flush().await {
        return server_error(e);
    }
    if let Some(id) = id {
        // No feed listening is fine.
        let _ = state.session_ends.send(SessionEnd::One(id));
    }
    Redirect::to("/login?signed_out=1").into_response()
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current: String,
    password: String,
    confirm: String,
}

/// `POST /auth/password`: a new admin password from the web app. The current one is asked (and
/// throttled like a sign-in); every other session ends with its feeds; this browser stays signed in
/// under a new session id.
pub async fn change_password(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    session: Session,
    Form(form): Form<PasswordForm>,
) -> Response {
    let auth = &state.auth;
    let client = auth.client_ip(peer, &headers);
    let back =
        |code: &str| Redirect::to(&format!("/settings/password?error={code}")).into_response();
    let _slot = match admit(auth, client) {
        Ok(slot) => slot,
        Err(wait) => return too_many(wait),
    };
    let hash = match auth.history.setting(PASSWORD_KEY).await {
        Ok(Some(h)) => h,
        Ok(None) => return Redirect::to("/setup").into_response(),
        Err(e) => return server_error(e),
    };
    if !verify_password(&form.current, &hash).await {
        tracing::warn!(%client, "password change refused: wrong current password");
        return back("wrong");
    }
    if let Some(code) = new_password_problem(&form.password, &form.confirm) {
        return back(code);
    }
    if let Err(e) = set_password(&auth.history, &auth.data, &form.password).await {
        return server_error(e);
    }
    let _ = state.session_ends.send(SessionEnd::All);
    auth.throttle.clear(client);
    // set_password ended every session, this one's row too: sign this browser in again.
    if let Err(e) = sign_in(&session).await {
        return server_error(e);
    }
    tracing::info!(%client, "admin password changed from the web app; every other session ended");
    Redirect::to("/settings/password?changed=1").into_response()
}
