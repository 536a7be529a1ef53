//! What the Find page (`/snapshots/find`) reads: the search's plan ([`get_find_plan`]: the task's
//! snapshots newest first, the pattern checked) and then the search itself ([`start_search`]), which
//! walks the snapshots one after the other on a blocking thread (`engine::files::Finder`) and hands
//! each snapshot's results over as soon as that snapshot is done — the page streams them in, in
//! order. At most [`FIND_LIMIT`] results. Server only, like the page.

use super::error::ApiError;
use engine::model::files::FoundFile;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Results a search shows at most.
pub const FIND_LIMIT: usize = 1000;

/// A search about to run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FindPlan {
    pub task: String,
    pub pattern: String,
    /// Newest first.
    pub snapshots: Vec<String>,
    /// The store root (the search reads it on the server; never sent to the browser's code).
    pub root: String,
}

/// What one snapshot gave.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnapshotFound {
    pub files: Vec<FoundFile>,
    /// The search stopped at [`FIND_LIMIT`] before or in this snapshot.
    pub stopped: bool,
}

/// One snapshot's results, once they are there (taken once).
pub type Pending = Arc<Mutex<Option<oneshot::Receiver<Result<SnapshotFound, String>>>>>;

/// The plan of a search for `pattern` in `task`'s snapshots.
pub async fn get_find_plan(task: String, pattern: String) -> Result<FindPlan, ApiError> {
    use crate::api::server_side::{admin, fail, invalid, task_of, usable_config};
    let b = admin().await?;
    let (config, _) = usable_config(&b)?;
    let t = task_of(&config, &task)?;
    engine::files::Pattern::parse(&pattern).map_err(invalid)?;
    let mut snapshots: Vec<String> =
        engine::store::TaskStore::new(&config.dir_backup_local, &t.name)
            .snapshots()
            .map_err(fail)?
            .iter()
            .map(ToString::to_string)
            .collect();
    snapshots.reverse();
    Ok(FindPlan {
        task,
        pattern,
        snapshots,
        root: config.dir_backup_local.display().to_string(),
    })
}

/// Starts `plan`'s search; one [`Pending`] per snapshot, in the plan's order.
pub fn start_search(plan: &FindPlan) -> Vec<Pending> {
    let mut senders = Vec::new();
    let mut pending = Vec::new();
    for _ in &plan.snapshots {
        let (tx, rx) = oneshot::channel();
        senders.push(tx);
        pending.push(Arc::new(Mutex::new(Some(rx))));
    }
    let plan = plan.clone();
    tokio::task::spawn_blocking(move || {
        let Ok(pattern) = engine::files::Pattern::parse(&plan.pattern) else {
            return;
        };
        let root = std::path::PathBuf::from(&plan.root);
        let mut finder = engine::files::Finder::new(&root, &plan.task, pattern, FIND_LIMIT);
        for (snapshot, tx) in plan.snapshots.iter().zip(senders) {
            if finder.full() {
                let _ = tx.send(Ok(SnapshotFound {
                    files: Vec::new(),
                    stopped: true,
                }));
                continue;
            }
            let mut files = Vec::new();
            let done = finder.search(snapshot, &mut |f| files.push(f));
            let _ = tx.send(done.map_err(|e| e.to_string()).map(|()| SnapshotFound {
                files,
                stopped: finder.full(),
            }));
        }
    });
    pending
}

/// The results of one snapshot, waited for.
pub async fn wait_for(pending: Pending) -> Result<SnapshotFound, ApiError> {
    let rx = pending.lock().ok().and_then(|mut p| p.take());
    match rx {
        Some(rx) => match rx.await {
            Ok(r) => r.map_err(ApiError::failed),
            Err(_) => Err(ApiError::failed("the search stopped")),
        },
        None => Err(ApiError::failed("these results were already shown")),
    }
}

/// The configured tasks' names, for the page's task choice.
pub async fn get_task_names() -> Result<Vec<String>, ApiError> {
    use crate::api::server_side::{admin, usable_config};
    let b = admin().await?;
    let (config, _) = usable_config(&b)?;
    Ok(config.tasks.iter().map(|t| t.name.clone()).collect())
}
