//! Sign-in for the single admin (SPEC §9.1, §11).
//!
//! - The password is stored as an argon2id hash (PHC string) in the database's `settings` table, key
//!   [`PASSWORD_KEY`]. Checking it is argon2's own constant-time comparison, on the blocking pool.
//! - First start: with no password and no `MNEMOSYNCE_ADMIN_PASSWORD`, the server makes a one-time
//!   setup code, prints it on the console and writes it to `<data>/setup-code` (mode 0600); the
//!   *create password* page (`/setup`) asks for it. With `MNEMOSYNCE_ADMIN_PASSWORD` set, the first
//!   password is that one (the variable only seeds: once a password exists it is ignored, and
//!   `mnemosynce passwd` or the web app change it).
//! - Sessions are tower-sessions rows in the same SQLite file (`sessions` table). The cookie is
//!   `HttpOnly`, `SameSite=Strict`, `Secure` when served over HTTPS (or behind a trusted proxy); the id
//!   is rotated at sign-in; a session expires after [`IDLE_EXPIRY`] without activity; sign-out is a
//!   POST.
//! - Sign-in and setup attempts are throttled per client address, counted *before* the password is
//!   checked: after [`MAX_FAILURES`] attempts within [`FAILURE_WINDOW`] (a success clears them) the
//!   answer is `429 Too Many Requests` with `Retry-After`. At most [`CONCURRENT_CHECKS`] password
//!   checks run at once, from all clients together (a semaphore; `429` when full), so a burst of
//!   parallel requests neither multiplies the guesses nor argon2's 19 MiB per check.
//!
//! The forms are plain HTML posts to `/auth/login`, `/auth/setup`, `/auth/logout` and (signed in)
//! `/auth/password`, so signing in works before (and without) the WASM. Ending a session (sign-out,
//! a new password) closes its live feeds at once ([`SessionEnd`]); session ids are stored hashed
//! (`session_ids.rs`). Errors come back as a fixed code in the query string
//! (`/login?error=wrong`), never as reflected text.

use crate::serve::AppState;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use engine::data_dir::DataDir;
use engine::history::History;
use serde::Deserialize;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tower_sessions::Session;

/// The `settings` key of the admin's password hash.
pub const PASSWORD_KEY: &str = "admin_password_argon2id";
/// The environment variable that seeds the first password.
pub const PASSWORD_ENV: &str = "MNEMOSYNCE_ADMIN_PASSWORD";
/// The session key that marks a signed-in admin (shared with the server functions' own check).
pub use app::api::backend::SESSION_ADMIN;
/// The table of the SQLite session store.
pub const SESSIONS_TABLE: &str = "sessions";
/// The session key of the last activity (Unix seconds), refreshed now and then to keep it alive.
pub const SESSION_SEEN: &str = "seen";
/// A session ends after this long without a request.
pub const IDLE_EXPIRY: Duration = Duration::from_secs(7 * 24 * 3600);
/// Sign-in attempts allowed per client address within [`FAILURE_WINDOW`] (a success clears them).
pub const MAX_FAILURES: usize = 5;
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// Password checks running at once, whoever asks: each holds argon2id's 19 MiB for ~0.1 s, so a
/// burst costs at most this many blocks; a request beyond them is answered `429` at once.
pub const CONCURRENT_CHECKS: usize = 2;
/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Why a password could not be set or checked.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the password is too short: use at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("cannot hash the password: {0}")]
    Hash(String),
    #[error("cannot read or write the password in the database: {0}")]
    Database(#[from] engine::history::HistoryError),
    #[error("cannot write {}: {source}", path.display())]
    SetupCode {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Hashes a password with argon2id (OWASP parameters: 19 MiB, 2 passes), on the blocking pool.
pub async fn hash_password(password: &str) -> Result<String, AuthError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AuthError::TooShort);
    }
    let password = password.to_string();
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        getrandom::getrandom(&mut salt).map_err(|e| AuthError::Hash(e.to_string()))?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| AuthError::Hash(e.to_string()))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AuthError::Hash(e.to_string()))
    })
    .await
    .map_err(|e| AuthError::Hash(e.to_string()))?
}

/// Checks a password against a stored hash (false for a malformed hash).
pub async fn verify_password(password: &str, hash: &str) -> bool {
    let (password, hash) = (password.to_string(), hash.to_string());
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// Sets the admin password: stores its hash, removes the setup code and ends every session (a new
/// password signs out every browser).
pub async fn set_password(
    history: &History,
    data: &DataDir,
    password: &str,
) -> Result<(), AuthError> {
    let hash = hash_password(password).await?;
    history.set_setting(PASSWORD_KEY, &hash).await?;
    let _ = std::fs::remove_file(setup_code_file(data));
    // The sessions table exists once a server has run; before that there is nothing to end.
    let _ = end_all_sessions(history).await;
    Ok(())
}

/// Deletes every session: every browser must sign in again.
async fn end_all_sessions(history: &History) -> Result<(), tower_sessions_sqlx_store::sqlx::Error> {
    tower_sessions_sqlx_store::sqlx::query(&format!("DELETE FROM {SESSIONS_TABLE}"))
        .execute(history.pool())
        .await
        .map(|_| ())
}

/// True once an admin password exists.
pub async fn has_password(history: &History) -> Result<bool, AuthError> {
    Ok(history.setting(PASSWORD_KEY).await?.is_some())
}

/// `<data>/setup-code`.
pub fn setup_code_file(data: &DataDir) -> PathBuf {
    data.root().join("setup-code")
}

/// Letters and digits that cannot be confused when read aloud or typed (no 0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// A fresh setup code, `XXXX-XXXX-XXXX` (about 59 bits).
fn new_setup_code() -> Result<String, AuthError> {
    let mut bytes = [0u8; 12];
    getrandom::getrandom(&mut bytes).map_err(|e| AuthError::Hash(e.to_string()))?;
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| CODE_ALPHABET[*b as usize % CODE_ALPHABET.len()] as char)
        .collect();
    Ok(chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

/// Upper case, no spaces or dashes: how a typed code is compared.
fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Compares without an early exit, so the time taken says nothing about how much matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    subtle::ConstantTimeEq::ct_eq(a, b).into()
}

/// Sign-in attempts per client address, counted before the password is checked, so a burst of
/// parallel guesses cannot all pass the gate while the first checks are still running.
#[derive(Debug, Default)]
pub struct Throttle {
    attempts: Mutex<HashMap<IpAddr, Vec<Instant>>>,
}

impl Throttle {
    /// Counts one attempt of `client`, or `Err(wait)` when it has used its [`MAX_FAILURES`] for
    /// this window. A successful sign-in clears the count ([`Throttle::clear`]).
    pub fn attempt(&self, client: IpAddr) -> Result<(), Duration> {
        let mut map = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        // Bounded: a flood from many addresses cannot grow the map without end.
        if map.len() > 10_000 {
            map.retain(|_, v| v.iter().any(|t| now.duration_since(*t) < FAILURE_WINDOW));
        }
        let list = map.entry(client).or_default();
        list.retain(|t| now.duration_since(*t) < FAILURE_WINDOW);
        if list.len() >= MAX_FAILURES {
            let oldest = list.iter().min().copied().unwrap_or(now);
            return Err(FAILURE_WINDOW.saturating_sub(now.duration_since(oldest)));
        }
        list.push(now);
        Ok(())
    }

    pub fn clear(&self, client: IpAddr) {
        let mut map = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&client);
    }
}

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
        let code = new_setup_code()?;
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
    fn setup_code_matches(&self, typed: &str) -> bool {
        match std::fs::read_to_string(setup_code_file(&self.data)).map(|c| normalize_code(&c)) {
            Ok(expected) if !expected.is_empty() => {
                constant_time_eq(normalize_code(typed).as_bytes(), expected.as_bytes())
            }
            _ => false,
        }
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

/// Writes a file only its owner can read (mode 0600 from its creation), whole.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    engine::atomic::write(path, text.as_bytes(), 0o600)
}

/// True when the session belongs to the signed-in admin.
pub async fn is_signed_in(session: &Session) -> bool {
    matches!(session.get::<bool>(SESSION_ADMIN).await, Ok(Some(true)))
}

/// A `next=` target that stays on this site: a path of visible ASCII (browsers drop tabs and
/// newlines from a URL and read `\\` as `/`, so `/\t/evil.example` would become
/// `//evil.example`), not `//host` or a URL. Anything else is `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && n.bytes().all(|b| b.is_ascii_graphic())
                && !n.contains('\\')
                && !n[1..].starts_with(['/', '\\']) =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

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

fn server_error(e: impl std::fmt::Display) -> Response {
    tracing::error!("sign-in: {e}");
    (StatusCode::INTERNAL_SERVER_ERROR, format!("error: {e}")).into_response()
}

fn with_next(base: &str, next: &str) -> String {
    if next == "/" {
        base.to_string()
    } else {
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}next={}", urlencode(next))
    }
}

/// Percent-encodes everything but unreserved characters and `/` (for `?next=` paths).
pub fn urlencode(s: &str) -> String {
    app::pages::parts::urlencode_path(s)
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
    // A slot first (a busy server turns a request away without counting it), then the attempt is
    // counted, then the password is checked.
    let Ok(_slot) = auth.checks.try_acquire() else {
        return too_many(Duration::from_secs(1));
    };
    if let Err(wait) = auth.throttle.attempt(client) {
        return too_many(wait);
    }
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

/// Marks the session signed in, under a new id.
async fn sign_in(session: &Session) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    session.insert(SESSION_ADMIN, true).await?;
    session.insert(SESSION_SEEN, unix_now()).await?;
    Ok(())
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
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
    let Ok(_slot) = auth.checks.try_acquire() else {
        return too_many(Duration::from_secs(1));
    };
    if let Err(wait) = auth.throttle.attempt(client) {
        return too_many(wait);
    }
    if !auth.setup_code_matches(&form.code) {
        tracing::warn!(%client, "setup: wrong setup code");
        return Redirect::to("/setup?error=code").into_response();
    }
    if form.password.chars().count() < MIN_PASSWORD_CHARS {
        return Redirect::to("/setup?error=short").into_response();
    }
    if form.password != form.confirm {
        return Redirect::to("/setup?error=mismatch").into_response();
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

/// A session that ended, for the feeds that belong to it (see `feed.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEnd {
    /// This session signed out.
    One(tower_sessions::session::Id),
    /// The password changed: every session ended.
    All,
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
    let Ok(_slot) = auth.checks.try_acquire() else {
        return too_many(Duration::from_secs(1));
    };
    if let Err(wait) = auth.throttle.attempt(client) {
        return too_many(wait);
    }
    let hash = match auth.history.setting(PASSWORD_KEY).await {
        Ok(Some(h)) => h,
        Ok(None) => return Redirect::to("/setup").into_response(),
        Err(e) => return server_error(e),
    };
    if !verify_password(&form.current, &hash).await {
        tracing::warn!(%client, "password change refused: wrong current password");
        return back("wrong");
    }
    if form.password.chars().count() < MIN_PASSWORD_CHARS {
        return back("short");
    }
    if form.password != form.confirm {
        return back("mismatch");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_codes_are_unambiguous_and_compared_loosely() {
        let code = new_setup_code().unwrap();
        assert_eq!(code.len(), 14);
        assert!(code
            .chars()
            .all(|c| c == '-' || CODE_ALPHABET.contains(&(c as u8))));
        assert_eq!(normalize_code(" abcd-efgh jkmn "), "ABCDEFGHJKMN");
        assert!(constant_time_eq(b"ABC", b"ABC"));
        assert!(!constant_time_eq(b"ABC", b"ABD"));
        assert!(!constant_time_eq(b"ABC", b"ABCD"));
    }

    #[test]
    fn next_never_leaves_the_site() {
        assert_eq!(safe_next(Some("/history?page=2")), "/history?page=2");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
        // What browsers strip or rewrite must not make another origin out of a path.
        for hostile in [
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "/ /evil.example",
            "/\u{0}/evil.example",
            "/\u{a0}/evil.example",
            "/\u{2028}/evil.example",
            "/\\/evil.example",
            "\t//evil.example",
            " /x",
        ] {
            assert_eq!(safe_next(Some(hostile)), "/", "{hostile:?}");
        }
    }

    #[test]
    fn five_attempts_a_minute_then_wait() {
        let t = Throttle::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..MAX_FAILURES {
            assert!(t.attempt(ip).is_ok());
        }
        let wait = t.attempt(ip).expect_err("blocked after five attempts");
        assert!(wait <= FAILURE_WINDOW && wait > Duration::from_secs(50));
        assert!(
            t.attempt("192.0.2.2".parse().unwrap()).is_ok(),
            "per address"
        );
        t.clear(ip);
        assert!(t.attempt(ip).is_ok());
    }

    #[tokio::test]
    async fn passwords_are_argon2id_and_checked() {
        let hash = hash_password("correct horse battery").await.unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse battery", &hash).await);
        assert!(!verify_password("correct horse batterY", &hash).await);
        assert!(!verify_password("x", "not a hash").await);
        assert!(matches!(
            hash_password("short").await,
            Err(AuthError::TooShort)
        ));
    }
}
