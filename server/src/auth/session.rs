//! The admin's browser session: its keys, its expiry, its table, and how it ends.
//!
//! Sessions are tower-sessions rows in the same SQLite file ([`SESSIONS_TABLE`]; ids stored
//! hashed, see `session_ids.rs`). The cookie is `HttpOnly`, `SameSite=Strict`, `Secure` over HTTPS
//! (or behind a trusted proxy), set up by `routes.rs`; the id is rotated at sign-in
//! ([`sign_in`]); a session expires after [`IDLE_EXPIRY`] without activity. Ending a session
//! (sign-out, a new password) closes its live feeds at once ([`SessionEnd`], see `feed/socket.rs`).

use engine::history::History;
use std::time::Duration;
use tower_sessions::Session;

/// The session key that marks a signed-in admin (shared with the server functions' own check).
pub use app::api::backend::SESSION_ADMIN;
/// The table of the SQLite session store.
pub const SESSIONS_TABLE: &str = "sessions";
/// The session key of the last activity (Unix seconds), refreshed now and then to keep it alive.
pub const SESSION_SEEN: &str = "seen";
/// A session ends after this long without a request.
pub const IDLE_EXPIRY: Duration = Duration::from_secs(7 * 24 * 3600);

/// A session that ended, for the feeds that belong to it (see `feed/socket.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEnd {
    /// This session signed out.
    One(tower_sessions::session::Id),
    /// The password changed: every session ended.
    All,
}

/// True when the session belongs to the signed-in admin.
pub async fn is_signed_in(session: &Session) -> bool {
    matches!(session.get::<bool>(SESSION_ADMIN).await, Ok(Some(true)))
}

/// Marks the session signed in, under a new id.
pub async fn sign_in(session: &Session) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    session.insert(SESSION_ADMIN, true).await?;
    session.insert(SESSION_SEEN, unix_now()).await?;
    Ok(())
}

/// Deletes every session: every browser must sign in again.
pub async fn end_all_sessions(
    history: &History,
) -> Result<(), tower_sessions_sqlx_store::sqlx::Error> {
    tower_sessions_sqlx_store::sqlx::query(&format!("DELETE FROM {SESSIONS_TABLE}"))
        .execute(history.pool())
        .await
        .map(|_| ())
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
