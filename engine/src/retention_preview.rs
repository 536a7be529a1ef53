//! Previewing what an edited retention policy *would* keep and prune, before anyone saves it
//! (SPEC §9.1): the run's own listing ([`store::listing`]) and planner ([`store::Listing::plan`]), with the
//! policy being edited instead of the saved one, so the preview cannot drift from what a run does.
//! The policy itself is written by [`crate::config::edit::retention`].
//!
//!
//! [`compare`] plans a task twice from one listing: with the edited policy, and with the policy in
//! force today ([`Config::policy_for`] of the saved configuration). The page shows the first, and marks
//! the snapshots whose fate the edit changes: "pruned by this change" is the warning an owner needs
//! before lowering a number. A task's own `retention:` fields are merged over the *edited* global
//! policy by the caller, with the very function the engine uses ([`Config::policy_for`] on a copy of
//! the configuration whose `retention` is the edited one).
//!
//! The preview plans without `protect` (no run is in progress) and "now" plays no part in the
//! planner, so the plan shown is what the next run's retention step decides for these snapshots;
//! that run adds one snapshot of its own first, which becomes the newest.

use std::collections::BTreeMap;

use chrono_tz::Tz;

use crate::history::History;
use crate::model::config::{Config, RetentionPolicy, Task};
use crate::model::retention::Decision;
use crate::model::snapshot::SnapshotName;
use crate::store::{self, TaskStore};

// ---------------------------------------------------------------------------------------------------
// The preview
// ---------------------------------------------------------------------------------------------------

/// One snapshot of a preview: the verdict under the edited policy, and whether the policy in force
/// today keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compared {
    pub decision: Decision,
    /// The saved configuration's policy for the task keeps this snapshot.
    pub kept_now: bool,
}

/// The task called `name`, or the engine's sentence naming the tasks there are.
fn task<'c>(config: &'c Config, name: &str) -> Result<&'c Task, String> {
    config
        .task(name)
        .ok_or_else(|| match config.select_tasks(&[name.to_string()]) {
            Err(e) => e.to_string(),
            Ok(_) => format!("no task is called {name:?}"),
        })
}

/// A task's snapshots as a run's retention step lists them.
async fn task_listing(
    config: &Config,
    history: &History,
    task: &Task,
) -> Result<store::Listing, String> {
    let task_store = TaskStore::new(&config.dir_backup_local, &task.name);
    store::listing(&task_store, history, &task.name)
        .await
        .map_err(|e| e.to_string())
}

/// What `policy` would decide for each snapshot of `task` (newest first), changing nothing: the same
/// listing and planner as [`store::plan_task`], with the policy being edited instead of the saved one.
/// `policy` is the task's effective policy (its override already merged, see the module docs).
pub async fn preview(
    config: &Config,
    history: &History,
    tz: Tz,
    task: &str,
    policy: &RetentionPolicy,
) -> Result<Vec<Decision>, String> {
    let task = self::task(config, task)?;
    let listing = task_listing(config, history, task).await?;
    Ok(listing.plan(policy, tz, None))
}

/// Like [`preview`], and for each snapshot also whether the policy in force today
/// ([`Config::policy_for`] of `config`) keeps it, from the same listing.
pub async fn compare(
    config: &Config,
    history: &History,
    tz: Tz,
    task: &str,
    policy: &RetentionPolicy,
) -> Result<Vec<Compared>, String> {
    let task = self::task(config, task)?;
    let listing = task_listing(config, history, task).await?;
    let today: BTreeMap<SnapshotName, bool> = listing
        .plan(&config.policy_for(task), tz, None)
        .into_iter()
        .map(|d| {
            let keep = d.keep();
            (d.name, keep)
        })
        .collect();
    Ok(listing
        .plan(policy, tz, None)
        .into_iter()
        .map(|decision| Compared {
            kept_now: today.get(&decision.name).copied().unwrap_or(false),
            decision,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::edit::retention::tests::{policy, valid};
    use std::fs;

    #[tokio::test]
    async fn the_preview_plans_the_folders_on_disk_with_the_edited_policy() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        let photos = store.join("Photos");
        let names = [
            "2026-11-03_140000",
            "2026-11-03_020000",
            "2026-11-02_020000",
            "2026-11-01_020000",
            "2026-10-15_020000",
        ];
        for n in names {
            fs::create_dir_all(photos.join(n)).unwrap();
        }
        // Not a snapshot: never a candidate.
        fs::create_dir_all(photos.join("notes")).unwrap();
        let history = History::open(&dir.path().join("db.sqlite")).await.unwrap();
        for n in names {
            let now = chrono::Utc::now();
            history.adopt_snapshot("Photos", n, now, now).await.unwrap();
        }
        history
            .set_pinned(
                "Photos",
                "2026-10-15_020000",
                chrono::Utc::now(),
                true,
                None,
            )
            .await
            .unwrap();
        let config = valid(&format!(
            "dir_backup_local: {}\nemail: {{enabled: false}}\ntimezone: UTC\ntasks:\n  - name: Photos\n    dir_source: /srv\n  - name: Empty\n    dir_source: /srv\n",
            store.display()
        ));
        let tz = chrono_tz::UTC;
        let edited = policy([1, 0, 1, 0, 0, 0], None);

        let decisions = preview(&config, &history, tz, "Photos", &edited)
            .await
            .unwrap();
        let shown: Vec<(String, Vec<String>)> = decisions
            .iter()
            .map(|d| {
                (
                    d.name.to_string(),
                    d.reasons.iter().map(|r| r.to_string()).collect(),
                )
            })
            .collect();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            shown,
            vec![
                (
                    names[0].to_string(),
                    s(&["last", "daily 2026-11-03", "newest"])
                ),
                (names[1].to_string(), s(&[])),
                (names[2].to_string(), s(&[])),
                (names[3].to_string(), s(&[])),
                (names[4].to_string(), s(&["pinned"])),
            ]
        );
        // It is the run's own plan when the policy is the saved one.
        let saved = config.policy_for(&config.tasks[0]);
        assert_eq!(
            preview(&config, &history, tz, "Photos", &saved)
                .await
                .unwrap(),
            store::plan_task(&config, &history, tz, &config.tasks[0])
                .await
                .unwrap()
        );

        // Compared with today's (default) policy, which keeps every one of these but the second.
        let compared = compare(&config, &history, tz, "Photos", &edited)
            .await
            .unwrap();
        let kept_now: Vec<bool> = compared.iter().map(|c| c.kept_now).collect();
        assert_eq!(kept_now, [true, false, true, true, true]);
        assert_eq!(compared[2].decision, decisions[2]);

        // A task without a folder yet has nothing to plan; an unknown task is named.
        assert!(preview(&config, &history, tz, "Empty", &edited)
            .await
            .unwrap()
            .is_empty());
        let e = preview(&config, &history, tz, "Nope", &edited)
            .await
            .unwrap_err();
        assert!(e.contains("Photos, Empty"), "{e}");
        // Nothing was deleted.
        assert_eq!(fs::read_dir(&photos).unwrap().count(), names.len() + 1);
    }
}
