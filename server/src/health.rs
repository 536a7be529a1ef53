//! `GET /healthz`: is the server up, for monitors and the service manager.
//!
//! No session needed: the answer is the status and the uptime. The version only with a session
//! (it tells an attacker which holes to try). `GET /healthz?tasks` also asks whether the backups
//! are current: `503` with the stale tasks (no good snapshot within `report.stale_after_days`, as
//! the dashboard marks them) or an unusable configuration, `200` otherwise — for Uptime Kuma and
//! friends, which alert on the status code. Public by `security::is_public`.

use crate::auth::session::is_signed_in;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::{response::IntoResponse, Json};
use std::collections::HashMap;

/// `GET /healthz[?tasks]` (see the module documentation).
pub async fn healthz(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    session: tower_sessions::Session,
) -> impl IntoResponse {
    let mut body = serde_json::json!({
        "status": "ok",
        "uptime_seconds": state.started.elapsed().as_secs(),
    });
    if is_signed_in(&session).await {
        body["version"] = engine::model::VERSION.into();
    }
    let mut code = StatusCode::OK;
    if query.contains_key("tasks") {
        match tasks_current(&state).await {
            Ok(stale) if stale.is_empty() => body["stale_tasks"] = serde_json::json!([]),
            Ok(stale) => {
                code = StatusCode::SERVICE_UNAVAILABLE;
                body["status"] = "stale".into();
                body["stale_tasks"] = stale.into();
            }
            Err(why) => {
                code = StatusCode::SERVICE_UNAVAILABLE;
                body["status"] = why.into();
            }
        }
    }
    (code, Json(body))
}

/// The stale tasks, or why the backups' state cannot be told (a short word: no details for a
/// caller without a session).
async fn tasks_current(state: &AppState) -> Result<Vec<String>, &'static str> {
    let config = engine::config::load_usable(&state.backend.config_path)
        .map_err(|_| "configuration error")?;
    let tz = engine::config::resolve_timezone(&config).map_err(|_| "configuration error")?;
    let tasks =
        engine::overview::task_overviews(&config, &state.backend.history, tz, chrono::Utc::now())
            .await
            .map_err(|_| "history unreadable")?;
    Ok(tasks
        .into_iter()
        .filter(|t| t.stale)
        .map(|t| t.name)
        .collect())
}
