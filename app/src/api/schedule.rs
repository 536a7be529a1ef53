//! The server functions of the schedule page (and the wizard's last step): what a cron expression
//! means and when it would run (`engine::schedule`), and the save of the `schedule:` block.

use super::error::ApiError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The schedule page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScheduleView {
    pub cron: String,
    pub enabled: bool,
    /// "every day at 02:00", or why the expression is wrong.
    pub description: Result<String, String>,
    /// The next start times, formatted in the configured zone.
    pub next: Vec<String>,
    pub zone: String,
    /// (label, expression).
    pub presets: Vec<(String, String)>,
    /// Why the configuration cannot be used (the schedule cannot be saved then).
    pub config_error: Option<String>,
    /// The version of the file this was read from; the save sends it back.
    pub version: String,
}

/// The schedule page for `cron`/`enabled` (or what the file holds): its meaning, the next start
/// times in the configured zone, the presets.
#[cfg(feature = "ssr")]
fn schedule_view(
    b: &super::backend::Backend,
    cron: Option<String>,
    enabled: Option<bool>,
) -> ScheduleView {
    let version = crate::api::server_side::config_version(b);
    let presets = engine::schedule::PRESETS
        .iter()
        .map(|(l, c)| (l.to_string(), c.to_string()))
        .collect();
    let (config, tz, config_error) = match crate::api::server_side::config(b) {
        Ok((c, tz)) => (Some(c), tz, None),
        Err(e) => (None, chrono_tz::UTC, Some(e)),
    };
    let cron = cron
        .or_else(|| config.as_ref().map(|c| c.schedule.cron.clone()))
        .unwrap_or_else(|| "0 2 * * *".into());
    let enabled = enabled
        .or_else(|| config.as_ref().map(|c| c.schedule.enabled))
        .unwrap_or(true);
    let (description, next) = match engine::schedule::Cron::parse(&cron) {
        Ok(c) => (
            Ok(c.describe()),
            c.upcoming(tz, chrono::Utc::now(), 5)
                .iter()
                .map(|t| t.format("%a %Y-%m-%d %H:%M %Z").to_string())
                .collect(),
        ),
        Err(e) => (Err(e.to_string()), Vec::new()),
    };
    ScheduleView {
        cron,
        enabled,
        description,
        next,
        zone: tz.name().to_string(),
        presets,
        config_error,
        version,
    }
}

/// The schedule in force.
#[server(endpoint = "get_schedule")]
pub async fn get_schedule() -> Result<ScheduleView, ApiError> {
    use crate::api::server_side::admin;
    let b = admin().await?;
    Ok(schedule_view(&b, None, None))
}

/// What an expression means and when it would run, without saving it.
#[server(endpoint = "preview_schedule")]
pub async fn preview_schedule(cron: String, enabled: bool) -> Result<ScheduleView, ApiError> {
    use crate::api::server_side::admin;
    let b = admin().await?;
    Ok(schedule_view(
        &b,
        Some(cron.trim().to_string()),
        Some(enabled),
    ))
}

/// Saves the schedule when the file is still at `version` (what the page read): only the
/// `schedule:` block of the file changes.
#[server(endpoint = "save_schedule")]
pub async fn save_schedule(
    cron: String,
    enabled: bool,
    version: String,
) -> Result<ScheduleView, ApiError> {
    use crate::api::server_side::{admin, fail, invalid, update_config};
    let b = admin().await?;
    let cron = cron.trim().to_string();
    engine::schedule::Cron::parse(&cron).map_err(invalid)?;
    let edit = engine::config::edit::ScheduleEdit {
        cron: &cron,
        enabled,
    };
    update_config(&b, version, &edit)?;
    engine::setup::record_schedule_saved(&b.history)
        .await
        .map_err(fail)?;
    Ok(schedule_view(&b, None, None))
}
