//! What every server function does first and last, on the server: check the session and get the
//! [`Backend`] ([`admin`]), read the configuration, save it through the engine's one write path
//! ([`update_config`]), and turn a failure into an [`ApiError`] with its HTTP status ([`reject`]).
//! Server only (feature `ssr`).

use super::backend::Backend;
use super::error::ApiError;
use leptos::prelude::*;

/// `e`, with the response's status set to match it (401, 400, 409, 500).
pub fn reject(e: ApiError) -> ApiError {
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(status) = http::StatusCode::from_u16(e.status()) {
            resp.set_status(status);
        }
    }
    e
}

/// A failure of the engine (the disk, the database, a process), in its words.
pub fn fail(e: impl std::fmt::Display) -> ApiError {
    reject(ApiError::failed(e))
}

/// A value refused as it is, in the engine's words.
pub fn invalid(e: impl std::fmt::Display) -> ApiError {
    reject(ApiError::invalid(e))
}

/// The backend, after checking that the request belongs to the signed-in admin. (The server's
/// session guard already answers a signed-out call; this is the second lock.)
pub async fn admin() -> Result<Backend, ApiError> {
    let session: tower_sessions::Session = leptos_axum::extract()
        .await
        .map_err(|_| reject(ApiError::SignedOut))?;
    if !matches!(
        session.get::<bool>(super::backend::SESSION_ADMIN).await,
        Ok(Some(true))
    ) {
        return Err(reject(ApiError::SignedOut));
    }
    use_context::<Backend>().ok_or_else(|| fail("the server is still starting; try again"))
}

/// The one-time notice the session holds for the dashboard, removed as it is read.
pub async fn take_notice() -> Option<String> {
    let session: tower_sessions::Session = leptos_axum::extract().await.ok()?;
    session
        .remove::<String>(super::backend::SESSION_NOTICE)
        .await
        .ok()
        .flatten()
}

/// The version of the configuration file a page shows, read *before* the configuration itself
/// (so a change in between makes the page's save refused, never silently undone); empty when the
/// file cannot be read (the save then says why).
pub fn config_version(b: &Backend) -> String {
    engine::config::edit::version(&b.config_path)
        .map(|v| v.to_string())
        .unwrap_or_default()
}

/// A page's save of the configuration: [`engine::config::edit::update`] against the version the
/// page read, its failures in the engine's words ([`save_error`]).
pub fn update_config(
    b: &Backend,
    read: String,
    edit: &dyn engine::config::edit::Edit,
) -> Result<engine::config::edit::Saved, ApiError> {
    engine::config::edit::update(&b.config_path, &read.into(), edit).map_err(save_error)
}

/// Why a save did not happen: a changed file is a [`ApiError::Conflict`], a text that does not
/// validate [`ApiError::Invalid`], the rest (the disk) [`ApiError::Failed`].
pub fn save_error(e: engine::config::edit::SaveError) -> ApiError {
    use engine::config::edit::SaveError;
    match e {
        SaveError::ChangedOnDisk { .. } => reject(ApiError::Conflict(e.to_string())),
        SaveError::Invalid(_) | SaveError::Edit(_) => invalid(e),
        _ => fail(e),
    }
}

/// The configuration, or why it cannot be used.
pub fn config(b: &Backend) -> Result<(engine::model::config::Config, chrono_tz::Tz), String> {
    let c = engine::config::load_usable(&b.config_path)?;
    let tz = engine::config::resolve_timezone(&c).map_err(|e| e.to_string())?;
    Ok((c, tz))
}

/// Task `name` of the configuration, or why not.
pub fn task_of<'a>(
    config: &'a engine::model::config::Config,
    name: &str,
) -> Result<&'a engine::model::config::Task, ApiError> {
    config
        .tasks
        .iter()
        .find(|t| t.name == name)
        .ok_or_else(|| invalid(format!("there is no task {name:?} in the configuration")))
}

/// The configuration for a server function that cannot do without it.
pub fn usable_config(
    b: &Backend,
) -> Result<(engine::model::config::Config, chrono_tz::Tz), ApiError> {
    config(b).map_err(|e| {
        invalid(format!(
            "the configuration cannot be used ({e}); fix it in the configuration editor first"
        ))
    })
}
