//! What the restore form (`/snapshots/restore`) shows before anything is done: the item (file or
//! folder), where "next to the original" puts it and where *replace* would write and keep the
//! replaced files — the engine's own plan (`engine::run::plan_restore`), so the page says exactly
//! what the run will do — and the one-time notice of a restore that could not start. The form posts
//! to the server's `/runs/restore` (`server/src/actions.rs`). Server only, like the page.

use super::error::ApiError;
use serde::{Deserialize, Serialize};

/// The restore form's facts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RestorePreview {
    pub task: String,
    pub snapshot: String,
    /// The item as shown, and its key.
    pub shown: String,
    pub key: String,
    pub folder: bool,
    /// Where "next to the original" restores it (`….restored-<time>`).
    pub next_to: String,
    /// Where *replace* writes, and where the files it replaces go.
    pub original: String,
    pub kept_aside: String,
    /// Why the last restore from this form did not start.
    pub notice: Option<String>,
}

/// The restore form of item `key` of `snapshot` of `task`.
pub async fn get_restore(
    task: String,
    snapshot: String,
    key: String,
) -> Result<RestorePreview, ApiError> {
    use crate::api::server_side::{admin, invalid, take_notice, task_of, usable_config};
    use engine::run::{plan_restore, RestoreRequest};
    let b = admin().await?;
    let notice = take_notice().await;
    let (config, tz) = usable_config(&b)?;
    task_of(&config, &task)?;
    let path = engine::files::InnerPath::from_key(&key).map_err(invalid)?;
    let mut request = RestoreRequest {
        trigger: engine::model::events::Trigger::Manual,
        task: task.clone(),
        snapshot: snapshot.clone(),
        path: path.clone(),
        to: None,
        replace: false,
    };
    let now = chrono::Utc::now();
    let next_to = plan_restore(&config, tz, &request, now).map_err(invalid)?;
    request.replace = true;
    let onto = plan_restore(&config, tz, &request, now).map_err(invalid)?;
    Ok(RestorePreview {
        task,
        snapshot,
        shown: path.display(),
        key: path.key(),
        folder: next_to.folder,
        next_to: next_to.destination.shown(),
        original: onto.destination.shown(),
        kept_aside: onto.kept_aside.map(|d| d.shown()).unwrap_or_default(),
        notice,
    })
}
