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
                body["status"] = why.to_string().into();
            }
        }
    }
    (code, Json(body))
}

/// Why the backups' state cannot be told: a short phrase, no details for a caller without a session.
#[derive(Debug, thiserror::Error)]
enum Untold {
    #[error("configuration error")]
    Config,
    #[error("history unreadable")]
    History,
}

/// The stale tasks, or why they cannot be told.
async fn tasks_current(state: &AppState) -> Result<Vec<String>, Untold> {
    let config =
        engine::config::load_usable(&state.backend.config_path).map_err(|_| Untold::Config)?;
    let tz = engine::config::resolve_timezone(&config).map_err(|_| Untold::Config)?;
    let tasks =
        engine::overview::task_overviews(&config, &state.backend.history, tz, chrono::Utc::now())
            .await
            .map_err(|_| Untold::History)?;
    Ok(tasks
        .into_iter()
        .filter(|t| t.stale)
        .map(|t| t.name)
        .collect())
}
