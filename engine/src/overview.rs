//! The figures the web pages show, computed from the store and the history: the dashboard's task
//! cards ([`task_overviews`]), a run's detail ([`run_detail`]) and its step logs ([`step_log`]), and
//! each task's disk space, measured by the server after each run ([`record_task_size`]) because a
//! walk of the whole folder is too slow for a page load.
//!
//! Invariants: the figures come from the same store listing and history the CLI and the email
//! report read, so a page shows what they would; a step's log file is found through the history,
//! never from a path built out of what the browser sent. The history pages read
//! [`crate::history::History::runs`] directly.

use crate::data_dir::DataDir;
use crate::history::{History, HistoryError};
use crate::model::config::Config;
use crate::model::events::StepKind;
use crate::model::overview::{RunDetail, StepDetail, TaskOverview, TaskRunDetail, TrendPoint};
use crate::model::snapshot::Completeness;
use crate::model::Status;
use crate::store::{listing, local_to_utc, TaskStore};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// At most this much of the end of a step's log is sent to a page.
pub const LOG_PAGE_MAX: u64 = 512 * 1024;

/// Every configured task at a glance, in config order.
pub async fn task_overviews(
    config: &Config,
    history: &History,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<Vec<TaskOverview>, HistoryError> {
    let stale_hours = i64::from(config.report.stale_after_days) * 24;
    let mut out = Vec::with_capacity(config.tasks.len());
    for task in &config.tasks {
        let store = TaskStore::new(&config.dir_backup_local, &task.name);
        let snaps = listing(&store, history, &task.name)
            .await
            .map(|l| l.all())
            .unwrap_or_default();
        let newest = snaps
            .iter()
            .rev()
            .find(|c| c.completeness == Completeness::Complete);
        let last_snapshot_at = newest.map(|c| local_to_utc(tz, &c.name));
        let recent = history.recent_task_runs(&task.name, 10).await?;
        // A task that never ran is new, not stale; one that ran without ever making a snapshot is.
        let stale = config.report.stale_after_days > 0
            && match last_snapshot_at {
                Some(t) => (now - t).num_hours() > stale_hours,
                None => !recent.is_empty(),
            };
        out.push(TaskOverview {
            name: task.name.clone(),
            source: task.dir_source.to_string(),
            last_snapshot: newest.map(|c| c.name.to_string()),
            last_snapshot_at,
            snapshot_count: snaps.len(),
            store_bytes: task_size(history, &task.name).await,
            last_status: recent.first().map(|r| r.status),
            last_run_at: recent.first().map(|r| r.started_at),
            stale,
            trend: recent
                .iter()
                .rev()
                .filter(|r| r.status != Status::Running)
                .map(|r| TrendPoint {
                    run_id: r.run_id,
                    seconds: r
                        .finished_at
                        .map(|f| (f - r.started_at).num_seconds().max(0) as u64)
                        .unwrap_or(0),
                    bytes: r.stats.bytes_transferred,
                    status: r.status,
                })
                .collect(),
        });
    }
    Ok(out)
}

/// A run with its tasks and steps; `None` for an unknown id.
pub async fn run_detail(history: &History, id: i64) -> Result<Option<RunDetail>, HistoryError> {
    let Some(row) = history.run(id).await? else {
        return Ok(None);
    };
    let mut tasks = Vec::new();
    for t in history.task_runs(id).await? {
        let steps = history
            .steps(t.id)
            .await?
            .into_iter()
            .map(|s| StepDetail {
                step: s.step,
                status: s.status,
                message: s.message,
                started_at: s.started_at,
                finished_at: s.finished_at,
                stats: s.stats,
                has_log: s
                    .log_path
                    .as_deref()
                    .is_some_and(|p| Path::new(p).is_file()),
            })
            .collect();
        tasks.push(TaskRunDetail {
            task: t.task,
            status: t.status,
            started_at: t.started_at,
            finished_at: t.finished_at,
            snapshot: t.snapshot,
            message: t.message,
            stats: t.stats,
            steps,
        });
    }
    Ok(Some(RunDetail { run: row, tasks }))
}

/// The end of one step's log (at most [`LOG_PAGE_MAX`] bytes; the first line says when cut). The
/// file is found through the history, never from a path built out of what the browser sent.
pub async fn step_log(
    history: &History,
    data: &DataDir,
    run_id: i64,
    task: &str,
    step: StepKind,
) -> Result<Option<String>, HistoryError> {
    let Some(task_run) = history
        .task_runs(run_id)
        .await?
        .into_iter()
        .find(|t| t.task == task)
    else {
        return Ok(None);
    };
    let Some(path) = history
        .steps(task_run.id)
        .await?
        .into_iter()
        .find(|s| s.step == step)
        .and_then(|s| s.log_path)
    else {
        return Ok(None);
    };
    let path = std::path::PathBuf::from(path);
    // Only files inside this data directory's logs are ever read.
    if !path.starts_with(data.logs()) {
        return Ok(None);
    }
    let text = tokio::task::spawn_blocking(move || -> std::io::Result<String> {
        let mut f = std::fs::File::open(&path)?;
        let len = f.metadata()?.len();
        let mut out = Vec::new();
        if len > LOG_PAGE_MAX {
            f.seek(SeekFrom::Start(len - LOG_PAGE_MAX))?;
            out.extend_from_slice(
                format!(
                    "[… the first {} bytes are left out …]\n",
                    len - LOG_PAGE_MAX
                )
                .as_bytes(),
            );
        }
        f.take(LOG_PAGE_MAX).read_to_end(&mut out)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    })
    .await;
    Ok(match text {
        Ok(Ok(t)) => Some(t),
        _ => None,
    })
}

/// The disk space a task's folder takes: every inode counted once (snapshots share unchanged files
/// by hard link), by allocated blocks. Walks the whole folder (about 0.3 s per 100 000 files), so the
/// server measures it after each run and the dashboard shows the stored figure.
pub fn measure_task_size(dir: &Path) -> std::io::Result<u64> {
    use std::collections::HashSet;
    use std::os::unix::fs::MetadataExt;
    let mut seen: HashSet<(u64, u64)> = HashSet::new();
    let mut total = 0u64;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) if d == dir => return Err(e),
            Err(_) => continue,
        };
        for entry in entries.flatten() {
            // symlink_metadata: never follow a link out of the store.
            let Ok(meta) = std::fs::symlink_metadata(entry.path()) else {
                continue;
            };
            if seen.insert((meta.dev(), meta.ino())) {
                total += meta.blocks() * 512;
            }
            if meta.is_dir() {
                stack.push(entry.path());
            }
        }
    }
    Ok(total)
}

/// The settings key under which a task's measured size is kept.
pub fn size_key(task: &str) -> String {
    format!("store_size:{task}")
}

/// Measures a task's folder and stores the figure (bytes, and when) for the dashboard.
pub async fn record_task_size(history: &History, store_root: &Path, task: &str) {
    let dir = store_root.join(task);
    let measured = tokio::task::spawn_blocking(move || measure_task_size(&dir)).await;
    if let Ok(Ok(bytes)) = measured {
        let value = format!("{bytes} {}", chrono::Utc::now().timestamp());
        if let Err(e) = history.set_setting(&size_key(task), &value).await {
            tracing::warn!("cannot record the size of {task}: {e}");
        }
    }
}

/// A task's last measured size in bytes, if any.
pub async fn task_size(history: &History, task: &str) -> Option<u64> {
    history
        .setting(&size_key(task))
        .await
        .ok()
        .flatten()
        .and_then(|v| v.split_whitespace().next().and_then(|b| b.parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hard_linked_file_is_counted_once() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("2026-01-01_000000");
        let b = dir.path().join("2026-01-02_000000");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(a.join("photo.jpg"), vec![1u8; 1_000_000]).unwrap();
        let one = measure_task_size(dir.path()).unwrap();
        std::fs::hard_link(a.join("photo.jpg"), b.join("photo.jpg")).unwrap();
        let linked = measure_task_size(dir.path()).unwrap();
        // The second snapshot adds a folder entry, not another megabyte.
        assert!(one >= 1_000_000, "{one}");
        assert!(linked - one < 100_000, "{one} -> {linked}");
        std::fs::write(b.join("new.jpg"), vec![2u8; 1_000_000]).unwrap();
        assert!(measure_task_size(dir.path()).unwrap() >= linked + 1_000_000);
        assert!(measure_task_size(&dir.path().join("missing")).is_err());
    }
}
