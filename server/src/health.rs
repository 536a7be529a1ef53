//! `GET /healthz`: is the server up, for monitors and the container's health check.
//!
//! No session needed: the answer is the status and the uptime. The version only with a session
//! (it tells an attacker which holes to try). Public by `security::is_public`.

use crate::auth::session::is_signed_in;
use crate::state::AppState;
use axum::{extract::State, response::IntoResponse, Json};

/// `GET /healthz`: 200 with the uptime; no session needed. The version only with a session (it
/// tells an attacker which holes to try).
pub async fn healthz(
    State(state): State<AppState>,
    session: tower_sessions::Session,
) -> impl IntoResponse {
    let mut body = serde_json::json!({
        "status": "ok",
        "uptime_seconds": state.started.elapsed().as_secs(),
    });
    if is_signed_in(&session).await {
        body["version"] = engine::model::VERSION.into();
    }
    Json(body)
}
