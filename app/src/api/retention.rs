//! The server functions of the retention page: the policy in force (global and per task), a preview
//! of what an edited policy would keep and prune, and saving it. Thin, like every server function:
//! the plan is the engine's (`engine::retention_preview::compare`, the run's own planner on the run's
//! own snapshot listing) and so is the edit of the file (`engine::config::edit::retention::set_retention`,
//! through `engine::config::edit::update`, against the version the page read).
//!
//! The policy travels as seven plain arguments (six counts and `keep_within` as text, empty for
//! "off") rather than as one struct: server function arguments are URL-encoded, where flat values
//! are the safe shape, and a `keep_within` the owner is still typing is checked by the engine's own
//! parser with its own sentence.

// A server function takes its form's fields as arguments; the macro copies no `allow` onto the
// browser-side function it generates, so the allowance is for the module.
#![allow(clippy::too_many_arguments)]

use super::error::ApiError;
use engine::model::config::{KeepWithin, RetentionOverride, RetentionPolicy};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A task's retention as the configuration sets it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskRetention {
    pub task: String,
    /// The task's own `retention:` fields, merged over the global policy; `None`: it has none.
    pub overrides: Option<RetentionOverride>,
    /// The policy in force for the task (its fields merged over the saved global policy).
    pub effective: RetentionPolicy,
}

/// The planner's verdict on one snapshot, as the page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PreviewRow {
    /// The snapshot folder's name, `2026-11-26_020000`.
    pub name: String,
    pub keep: bool,
    /// Why it is kept (`daily 2026-11-26`, `pinned`, `newest` …); empty when it is pruned.
    pub reasons: Vec<String>,
    /// Whether the policy saved in the file keeps it today (so the page can mark what the edit
    /// changes).
    pub kept_now: bool,
}

/// The preview of one task, newest snapshot first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskPreview {
    pub task: String,
    /// The policy the preview was planned with: the task's fields over the edited global policy.
    pub effective: RetentionPolicy,
    pub rows: Vec<PreviewRow>,
    pub kept: usize,
    pub pruned: usize,
    /// Snapshots the saved policy keeps that the edited one would prune.
    pub newly_pruned: usize,
    /// Why this task's snapshots could not be listed (the store is not readable …).
    pub error: Option<String>,
}

/// The retention page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RetentionView {
    /// The global policy saved in the file (the default when the configuration cannot be used).
    pub global: RetentionPolicy,
    pub tasks: Vec<TaskRetention>,
    /// The plan of the saved policy, so the page shows it before any change (and without JavaScript).
    pub preview: Vec<TaskPreview>,
    /// The zone the periods (days, weeks …) are counted in.
    pub zone: String,
    /// Why the configuration cannot be used (the policy cannot be saved then).
    pub config_error: Option<String>,
    /// The version of the file this was read from; the save sends it back.
    pub version: String,
}

/// `keep_within` as the form and the arguments carry it: its text, or empty for "off".
pub fn within_text(policy: &RetentionPolicy) -> String {
    policy
        .keep_within
        .as_ref()
        .map(|w| w.as_str().to_string())
        .unwrap_or_default()
}

/// The policy of the seven arguments, or the engine's sentence on why `keep_within` is not a
/// duration. Used by the page (to check as the owner types) and by the server (which never trusts it).
pub fn policy_from_parts(counts: [u32; 6], keep_within: &str) -> Result<RetentionPolicy, String> {
    let keep_within = match keep_within.trim() {
        "" => None,
        text => Some(
            text.parse::<KeepWithin>()
                .map_err(|e| format!("keep within: {e}"))?,
        ),
    };
    let [keep_last, hourly, daily, weekly, monthly, yearly] = counts;
    Ok(RetentionPolicy {
        keep_last,
        hourly,
        daily,
        weekly,
        monthly,
        yearly,
        keep_within,
    })
}

#[cfg(feature = "ssr")]
mod imp {
    use super::*;
    use crate::api::backend::Backend;
    use engine::model::config::Config;

    pub fn policy(counts: [u32; 6], keep_within: &str) -> Result<RetentionPolicy, ApiError> {
        policy_from_parts(counts, keep_within).map_err(crate::api::server_side::invalid)
    }

    /// Every task's preview under `edited` (the global policy being edited): each task's own fields
    /// are merged over it exactly as the engine merges them, with `Config::policy_for` on a copy of
    /// the configuration that holds the edited policy.
    pub async fn previews(
        b: &Backend,
        config: &Config,
        tz: chrono_tz::Tz,
        edited: &RetentionPolicy,
    ) -> Vec<TaskPreview> {
        let mut edited_config = config.clone();
        edited_config.retention = edited.clone();
        let mut out = Vec::with_capacity(config.tasks.len());
        for task in &config.tasks {
            let effective = edited_config.policy_for(task);
            let mut preview = TaskPreview {
                task: task.name.clone(),
                effective: effective.clone(),
                rows: Vec::new(),
                kept: 0,
                pruned: 0,
                newly_pruned: 0,
                error: None,
            };
            match engine::retention_preview::compare(config, &b.history, tz, &task.name, &effective)
                .await
            {
                Ok(compared) => {
                    preview.rows = compared
                        .into_iter()
                        .map(|c| PreviewRow {
                            name: c.decision.name.to_string(),
                            keep: c.decision.keep(),
                            reasons: c.decision.reasons.iter().map(|r| r.to_string()).collect(),
                            kept_now: c.kept_now,
                        })
                        .collect();
                    preview.kept = preview.rows.iter().filter(|r| r.keep).count();
                    preview.pruned = preview.rows.len() - preview.kept;
                    preview.newly_pruned = preview
                        .rows
                        .iter()
                        .filter(|r| r.kept_now && !r.keep)
                        .count();
                }
                Err(e) => preview.error = Some(e),
            }
            out.push(preview);
        }
        out
    }

    /// The page as the file is now.
    pub async fn view(b: &Backend) -> RetentionView {
        let version = crate::api::server_side::config_version(b);
        match crate::api::server_side::config(b) {
            Ok((config, tz)) => RetentionView {
                global: config.retention.clone(),
                tasks: config
                    .tasks
                    .iter()
                    .map(|t| TaskRetention {
                        task: t.name.clone(),
                        overrides: t.retention.clone(),
                        effective: config.policy_for(t),
                    })
                    .collect(),
                preview: previews(b, &config, tz, &config.retention).await,
                zone: tz.name().to_string(),
                config_error: None,
                version,
            },
            Err(e) => RetentionView {
                global: RetentionPolicy::default(),
                tasks: Vec::new(),
                preview: Vec::new(),
                zone: String::new(),
                config_error: Some(e),
                version,
            },
        }
    }
}

/// The policy in force, every task's override, and the plan of the saved policy.
#[server(endpoint = "get_retention")]
pub async fn get_retention() -> Result<RetentionView, ApiError> {
    use crate::api::server_side::admin;
    let b = admin().await?;
    Ok(imp::view(&b).await)
}

/// What an edited global policy would keep and prune, per task, without saving anything.
#[server(endpoint = "preview_retention")]
pub async fn preview_retention(
    keep_last: u32,
    hourly: u32,
    daily: u32,
    weekly: u32,
    monthly: u32,
    yearly: u32,
    keep_within: String,
) -> Result<Vec<TaskPreview>, ApiError> {
    use crate::api::server_side::{admin, usable_config};
    let b = admin().await?;
    let policy = imp::policy(
        [keep_last, hourly, daily, weekly, monthly, yearly],
        &keep_within,
    )?;
    let (c, tz) = usable_config(&b)?;
    Ok(imp::previews(&b, &c, tz, &policy).await)
}

/// Saves the global policy when the file is still at `version` (what the page read): only the
/// `retention:` block of the file changes, and nothing is deleted now (the next run's retention step
/// applies it).
#[server(endpoint = "save_retention")]
pub async fn save_retention(
    keep_last: u32,
    hourly: u32,
    daily: u32,
    weekly: u32,
    monthly: u32,
    yearly: u32,
    keep_within: String,
    version: String,
) -> Result<RetentionView, ApiError> {
    use crate::api::server_side::{admin, update_config};
    let b = admin().await?;
    let policy = imp::policy(
        [keep_last, hourly, daily, weekly, monthly, yearly],
        &keep_within,
    )?;
    update_config(
        &b,
        version,
        &engine::config::edit::retention::RetentionEdit(&policy),
    )?;
    Ok(imp::view(&b).await)
}
