//! What the Snapshots pages read and do: every task's snapshots with what retention says of each
//! (`engine::store`), one page of a folder of a snapshot (`engine::files`, beneath the snapshot,
//! links never followed), what changed between two snapshots, a file's versions (server-side
//! loaders, see [`load`]), and pins (`engine::store::set_pin`, as the CLI's `snapshots pin`; a server
//! function, the page's forms post to it). File and folder downloads are plain routes of the
//! server (`server/src/download.rs`, `archive.rs`): they stream; restore and find have their own
//! loaders (`restore.rs`, `find.rs`). Server only (feature `ssr`), like the pages that use it.

use super::error::ApiError;
use engine::model::snapshot::SnapshotInfo;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Entries a page of the browser shows.
pub const FOLDER_PAGE: usize = 200;

/// What the snapshot browser's address asks for: a folder (its key, empty for the top) of a
/// snapshot, in an order (`name`, `size`, `modified`), one page of [`FOLDER_PAGE`] entries.
#[derive(Clone, Debug, PartialEq)]
pub struct FolderQuery {
    pub task: String,
    pub snapshot: String,
    pub path: String,
    pub sort: String,
    pub descending: bool,
    pub page: usize,
}

/// One snapshot as the Snapshots page lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnapshotRow {
    pub info: SnapshotInfo,
    /// Why retention keeps it (`newest, daily 2026-12-07`), or `None`: pruned at the next run.
    pub kept_for: Option<String>,
}

/// A task and its snapshots, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskSnapshots {
    pub task: String,
    pub snapshots: Vec<SnapshotRow>,
    /// Why this task's snapshots could not be listed.
    pub problem: Option<String>,
}

/// The Snapshots page: every task's snapshots, or why the configuration cannot be used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnapshotsPage {
    pub tasks: Vec<TaskSnapshots>,
    pub config_error: Option<String>,
    /// The server's clock when this was made: ages are computed from it.
    pub now: chrono::DateTime<chrono::Utc>,
}

/// Pins (`pin` = true, with `note`) or unpins a snapshot. Also works as a plain form post (the
/// Snapshots page's buttons): the server then sends the browser back to the page.
#[server(endpoint = "set_pin")]
pub async fn set_pin(
    task: String,
    snapshot: String,
    pin: bool,
    note: Option<String>,
) -> Result<(), ApiError> {
    use crate::api::server_side::{admin, fail, invalid, task_of, usable_config};
    use engine::store::PinError;
    let b = admin().await?;
    let (config, tz) = usable_config(&b)?;
    let t = task_of(&config, &task)?;
    engine::store::set_pin(&config, &b.history, tz, t, &snapshot, pin, note.as_deref())
        .await
        .map_err(|e| match e {
            PinError::NoSuchSnapshot { .. } => invalid(e),
            _ => fail(e),
        })
}

/// The loaders of the Snapshots pages, which are rendered on the server only (they have no
/// islands): plain functions, not server functions — nothing else calls them. The pin form's target
/// stays a server function.
mod load {
    use super::*;
    use engine::model::files::FolderListing;

    /// Every task's snapshots, with the retention plan's verdict on each.
    pub async fn get_snapshots() -> Result<SnapshotsPage, ApiError> {
        use crate::api::server_side::{admin, config};
        let b = admin().await?;
        let (config, tz) = match config(&b) {
            Ok(v) => v,
            Err(e) => {
                return Ok(SnapshotsPage {
                    tasks: Vec::new(),
                    config_error: Some(e),
                    now: chrono::Utc::now(),
                })
            }
        };
        let mut out = Vec::new();
        for task in &config.tasks {
            let listed = engine::store::list_snapshots(&config, &b.history, tz, task).await;
            let plan = engine::store::plan_task(&config, &b.history, tz, task).await;
            out.push(match (listed, plan) {
                (Ok(list), Ok(plan)) => TaskSnapshots {
                    task: task.name.clone(),
                    snapshots: list
                        .into_iter()
                        .map(|info| {
                            let kept_for = plan
                                .iter()
                                .find(|d| d.name == info.name)
                                .filter(|d| d.keep())
                                .map(|d| {
                                    let reasons: Vec<String> =
                                        d.reasons.iter().map(|r| r.to_string()).collect();
                                    reasons.join(", ")
                                });
                            SnapshotRow { info, kept_for }
                        })
                        .collect(),
                    problem: None,
                },
                (Err(e), _) | (_, Err(e)) => TaskSnapshots {
                    task: task.name.clone(),
                    snapshots: Vec::new(),
                    problem: Some(e.to_string()),
                },
            });
        }
        Ok(SnapshotsPage {
            tasks: out,
            config_error: None,
            now: chrono::Utc::now(),
        })
    }

    /// The page of a folder that `q` asks for, folders first.
    pub async fn get_folder(q: FolderQuery) -> Result<FolderListing, ApiError> {
        let FolderQuery {
            task,
            snapshot,
            path,
            sort,
            descending,
            page,
        } = q;
        use crate::api::server_side::{admin, fail, invalid, task_of, usable_config};
        use engine::files::{list_folder, FilesError, InnerPath, Window};
        use engine::model::files::SortBy;
        let b = admin().await?;
        let (config, _) = usable_config(&b)?;
        task_of(&config, &task)?;
        let inner = InnerPath::from_key(&path).map_err(invalid)?;
        let sort = SortBy::parse(&sort).unwrap_or_default();
        let window = Window {
            sort,
            descending,
            offset: page.saturating_mul(FOLDER_PAGE),
            limit: FOLDER_PAGE,
        };
        list_folder(&config.dir_backup_local, &task, &snapshot, &inner, window).map_err(|e| match e
        {
            FilesError::Io { .. } => fail(e),
            _ => invalid(e),
        })
    }

    /// What changed from `older` to `newer` of `task`; an empty `older` means the snapshot before
    /// `newer`. At most 2 000 entries listed (the counts cover all).
    pub async fn get_diff(
        task: String,
        older: String,
        newer: String,
    ) -> Result<engine::model::files::SnapshotDiff, ApiError> {
        use crate::api::server_side::{admin, fail, invalid, task_of, usable_config};
        let b = admin().await?;
        let (config, _) = usable_config(&b)?;
        let t = task_of(&config, &task)?;
        let older = if older.is_empty() {
            let store = engine::store::TaskStore::new(&config.dir_backup_local, &t.name);
            let before = engine::model::snapshot::SnapshotName::parse(&newer)
                .map(|n| store.before(&n))
                .transpose()
                .map_err(fail)?
                .flatten();
            match before {
                Some(s) => s.to_string(),
                None => {
                    return Err(invalid(format!(
                        "{newer} is the oldest snapshot of {task}: there is nothing before it to compare with"
                    )))
                }
            }
        } else {
            older
        };
        let root = config.dir_backup_local.clone();
        tokio::task::spawn_blocking(move || engine::files::diff(&root, &task, &older, &newer, 2000))
            .await
            .map_err(fail)?
            .map_err(invalid)
    }

    /// The versions of file `path` (its key) across the snapshots of `task`, oldest first.
    pub async fn get_versions(
        task: String,
        path: String,
    ) -> Result<Vec<engine::model::files::FileVersion>, ApiError> {
        use crate::api::server_side::{admin, fail, invalid, task_of, usable_config};
        let b = admin().await?;
        let (config, _) = usable_config(&b)?;
        let t = task_of(&config, &task)?;
        let inner = engine::files::InnerPath::from_key(&path).map_err(invalid)?;
        let names: Vec<String> = engine::store::TaskStore::new(&config.dir_backup_local, &t.name)
            .snapshots()
            .map_err(fail)?
            .iter()
            .map(ToString::to_string)
            .collect();
        let root = config.dir_backup_local.clone();
        tokio::task::spawn_blocking(move || engine::files::versions(&root, &task, &names, &inner))
            .await
            .map_err(fail)?
            .map_err(invalid)
    }
}

pub use load::{get_diff, get_folder, get_snapshots, get_versions};
