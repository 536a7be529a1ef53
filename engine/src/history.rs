//! Run history, the snapshot index and the settings table in SQLite (SPEC §8), through sqlx with
//! embedded migrations (`engine/migrations/`).
//!
//! The database is `<data>/mnemosynce.db`, in WAL mode with a busy timeout, so the server and a CLI
//! run can use it at the same time. Times are stored as Unix milliseconds. Queries use the runtime
//! `sqlx::query` API, so building needs no database.
//!
//! Invariants: a run left `running` by a dead process is closed as failed only under the run lock
//! ([`History::close_interrupted`]); old runs are deleted only once finished
//! ([`History::prune_runs`], `history.keep_days`); only the snapshot index makes a folder
//! Mnemosynce's to delete (made by a run or adopted; read through `store::listing`).

use crate::model::events::{StepKind, TransferStats, Trigger};
use crate::model::report::ReportStatus;
use crate::model::snapshot::Completeness;
use crate::model::Status;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, SqlitePool};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

/// A database problem, with the file named.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("cannot open the database {path}: {source}")]
    Open { path: String, source: sqlx::Error },
    #[error("cannot update the database schema of {path}: {source}")]
    Migrate {
        path: String,
        source: sqlx::migrate::MigrateError,
    },
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
}

/// One run as listed in the history: the model's type, so the pages get exactly what is stored.
pub use crate::model::overview::RunSummary as RunRow;

/// One task of one run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TaskRunRow {
    pub id: i64,
    pub run_id: i64,
    pub task: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub status: Status,
    pub message: Option<String>,
    pub snapshot: Option<String>,
    pub stats: TransferStats,
}

/// One step of a task run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepRow {
    pub id: i64,
    pub task_run_id: i64,
    pub step: StepKind,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub status: Status,
    pub message: Option<String>,
    pub stats: TransferStats,
    pub log_path: Option<String>,
}

/// What the snapshot index knows of one snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexEntry {
    pub completeness: Completeness,
    pub pinned: bool,
    /// Why the owner pinned it, when they said.
    pub pin_note: Option<String>,
    /// Its files, total and unique size, once measured.
    pub sizes: Option<crate::model::files::SnapshotSize>,
    /// Mnemosynce made it (a run promoted it) or the owner adopted it: retention may prune it.
    /// False for a row that only holds a pin of a folder Mnemosynce did not make.
    pub owned: bool,
}

/// Filters of the paged history; `before` is the id of the last run of the previous page.
#[derive(Clone, Debug, Default)]
pub struct RunFilter {
    pub task: Option<String>,
    pub status: Option<Status>,
    pub before: Option<i64>,
    pub limit: u32,
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_ms(v: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(v).unwrap_or(DateTime::UNIX_EPOCH)
}

fn status_of(s: &str) -> Status {
    Status::parse(s).unwrap_or(Status::Failed)
}

fn stats_of(row: &SqliteRow) -> TransferStats {
    let get = |c: &str| {
        row.try_get::<Option<i64>, _>(c)
            .ok()
            .flatten()
            .unwrap_or(0)
            .max(0) as u64
    };
    TransferStats {
        files_total: get("files_total"),
        files_transferred: get("files_transferred"),
        bytes_total: get("bytes_total"),
        bytes_transferred: get("bytes_transferred"),
    }
}

/// The four figure columns (files total/transferred, bytes total/transferred); NULL when unknown.
fn stat_columns(stats: Option<&TransferStats>) -> [Option<i64>; 4] {
    let col = |v: u64| i64::try_from(v).ok();
    match stats {
        Some(s) => [
            col(s.files_total),
            col(s.files_transferred),
            col(s.bytes_total),
            col(s.bytes_transferred),
        ],
        None => [None; 4],
    }
}

fn run_row(row: &SqliteRow) -> Result<RunRow, sqlx::Error> {
    Ok(RunRow {
        id: row.try_get("id")?,
        trigger: Trigger::parse(row.try_get::<&str, _>("trigger")?).unwrap_or(Trigger::Manual),
        started_at: from_ms(row.try_get("started_at")?),
        finished_at: row.try_get::<Option<i64>, _>("finished_at")?.map(from_ms),
        status: status_of(row.try_get::<&str, _>("status")?),
        message: row.try_get("message")?,
        report_status: row
            .try_get::<Option<&str>, _>("report_status")?
            .and_then(ReportStatus::parse),
        report_error: row.try_get("report_error")?,
    })
}

fn task_run_row(row: &SqliteRow) -> Result<TaskRunRow, sqlx::Error> {
    Ok(TaskRunRow {
        id: row.try_get("id")?,
        run_id: row.try_get("run_id")?,
        task: row.try_get("task")?,
        started_at: from_ms(row.try_get("started_at")?),
        finished_at: row.try_get::<Option<i64>, _>("finished_at")?.map(from_ms),
        status: status_of(row.try_get::<&str, _>("status")?),
        message: row.try_get("message")?,
        snapshot: row.try_get("snapshot")?,
        stats: stats_of(row),
    })
}

/// The run history of one data directory.
#[derive(Clone, Debug)]
pub struct History {
    pool: SqlitePool,
}

impl History {
    /// Opens (creating if needed) the database and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<History, HistoryError> {
        let shown = path.display().to_string();
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(15));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|source| HistoryError::Open {
                path: shown.clone(),
                source,
            })?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(|source| HistoryError::Migrate {
                path: shown,
                source,
            })?;
        Ok(History { pool })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A value of the `settings` table (e.g. the admin's password hash).
    pub async fn setting(&self, key: &str) -> Result<Option<String>, HistoryError> {
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE key = ?1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Sets (or replaces) a value of the `settings` table.
    pub async fn set_setting(&self, key: &str, value: &str) -> Result<(), HistoryError> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES (?1, ?2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Removes a value of the `settings` table (nothing happens when it is not there).
    pub async fn delete_setting(&self, key: &str) -> Result<(), HistoryError> {
        sqlx::query("DELETE FROM settings WHERE key = ?1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Marks runs left `running` by a process that died as failed. Call only while holding the run
    /// lock (otherwise a live run of another process would be marked).
    pub async fn close_interrupted(&self, now: DateTime<Utc>) -> Result<u64, HistoryError> {
        let msg = "interrupted: the process running it stopped (crash, kill or power loss); the next run resumes";
        let mut tx = self.pool.begin().await?;
        for table in ["steps", "task_runs", "runs"] {
            sqlx::query(&format!(
                "UPDATE {table} SET status = 'failed', finished_at = ?1, message = coalesce(message, ?2) WHERE status = 'running'"
            ))
            .bind(ms(now))
            .bind(msg)
            .execute(&mut *tx)
            .await?;
        }
        let n = sqlx::query("SELECT changes()")
            .fetch_one(&mut *tx)
            .await?
            .try_get::<i64, _>(0)?;
        tx.commit().await?;
        Ok(n.max(0) as u64)
    }

    /// Records the start of a backup run.
    pub async fn start_run(
        &self,
        trigger: Trigger,
        at: DateTime<Utc>,
    ) -> Result<i64, HistoryError> {
        self.insert_run(trigger, at, "backup").await
    }

    /// Records the start of a restore (a run of kind `restore`, which the task's backup figures
    /// leave out).
    pub async fn start_restore_run(
        &self,
        trigger: Trigger,
        at: DateTime<Utc>,
    ) -> Result<i64, HistoryError> {
        self.insert_run(trigger, at, "restore").await
    }

    async fn insert_run(
        &self,
        trigger: Trigger,
        at: DateTime<Utc>,
        kind: &str,
    ) -> Result<i64, HistoryError> {
        let id = sqlx::query(
            "INSERT INTO runs (trigger, started_at, status, kind) VALUES (?1, ?2, 'running', ?3)",
        )
        .bind(trigger.as_str())
        .bind(ms(at))
        .bind(kind)
        .execute(&self.pool)
        .await?
        .last_insert_rowid();
        Ok(id)
    }

    pub async fn finish_run(
        &self,
        id: i64,
        status: Status,
        message: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), HistoryError> {
        sqlx::query("UPDATE runs SET status = ?2, message = ?3, finished_at = ?4 WHERE id = ?1")
            .bind(id)
            .bind(status.as_str())
            .bind(message)
            .bind(ms(at))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records what became of a run's email report; `error` is the reason when it failed.
    pub async fn set_report(
        &self,
        id: i64,
        status: ReportStatus,
        error: Option<&str>,
    ) -> Result<(), HistoryError> {
        sqlx::query("UPDATE runs SET report_status = ?2, report_error = ?3 WHERE id = ?1")
            .bind(id)
            .bind(status.as_str())
            .bind(error)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn start_task(
        &self,
        run_id: i64,
        task: &str,
        position: usize,
        at: DateTime<Utc>,
    ) -> Result<i64, HistoryError> {
        let id = sqlx::query(
            "INSERT INTO task_runs (run_id, task, position, started_at, status) VALUES (?1, ?2, ?3, ?4, 'running')",
        )
        .bind(run_id)
        .bind(task)
        .bind(position as i64)
        .bind(ms(at))
        .execute(&self.pool)
        .await?
        .last_insert_rowid();
        Ok(id)
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn finish_task(
        &self,
        id: i64,
        status: Status,
        message: Option<&str>,
        snapshot: Option<&str>,
        stats: Option<&TransferStats>,
        at: DateTime<Utc>,
    ) -> Result<(), HistoryError> {
        let [ft, fx, bt, bx] = stat_columns(stats);
        sqlx::query(
            "UPDATE task_runs SET status = ?2, message = ?3, snapshot = ?4, finished_at = ?5,
             files_total = ?6, files_transferred = ?7, bytes_total = ?8, bytes_transferred = ?9 WHERE id = ?1",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(message)
        .bind(snapshot)
        .bind(ms(at))
        .bind(ft)
        .bind(fx)
        .bind(bt)
        .bind(bx)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn start_step(
        &self,
        task_run_id: i64,
        step: StepKind,
        at: DateTime<Utc>,
        log_path: Option<&str>,
    ) -> Result<i64, HistoryError> {
        let id = sqlx::query(
            "INSERT INTO steps (task_run_id, step, started_at, status, log_path) VALUES (?1, ?2, ?3, 'running', ?4)",
        )
        .bind(task_run_id)
        .bind(step.as_str())
        .bind(ms(at))
        .bind(log_path)
        .execute(&self.pool)
        .await?
        .last_insert_rowid();
        Ok(id)
    }

    /// Records a step that never ran (a skipped step after a failure).
    pub async fn skipped_step(
        &self,
        task_run_id: i64,
        step: StepKind,
        message: &str,
        at: DateTime<Utc>,
    ) -> Result<(), HistoryError> {
        sqlx::query(
            "INSERT INTO steps (task_run_id, step, started_at, finished_at, status, message) VALUES (?1, ?2, ?3, ?3, 'skipped', ?4)",
        )
        .bind(task_run_id)
        .bind(step.as_str())
        .bind(ms(at))
        .bind(message)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn finish_step(
        &self,
        id: i64,
        status: Status,
        message: Option<&str>,
        stats: Option<&TransferStats>,
        at: DateTime<Utc>,
    ) -> Result<(), HistoryError> {
        let [ft, fx, bt, bx] = stat_columns(stats);
        sqlx::query(
            "UPDATE steps SET status = ?2, message = ?3, finished_at = ?4,
             files_total = ?5, files_transferred = ?6, bytes_total = ?7, bytes_transferred = ?8 WHERE id = ?1",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(message)
        .bind(ms(at))
        .bind(ft)
        .bind(fx)
        .bind(bt)
        .bind(bx)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Adds a snapshot to the index (or updates it, keeping its pin).
    pub async fn record_snapshot(
        &self,
        task: &str,
        name: &str,
        taken_at: DateTime<Utc>,
        completeness: Completeness,
        run_id: Option<i64>,
    ) -> Result<(), HistoryError> {
        let status = match completeness {
            Completeness::Complete => "complete",
            Completeness::Partial => "partial",
        };
        sqlx::query(
            "INSERT INTO snapshots (task, name, taken_at, status, run_id, origin) VALUES (?1, ?2, ?3, ?4, ?5, 'run')
             ON CONFLICT (task, name) DO UPDATE SET status = excluded.status, run_id = excluded.run_id, origin = 'run'",
        )
        .bind(task)
        .bind(name)
        .bind(ms(taken_at))
        .bind(status)
        .bind(run_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Completeness, pins and ownership of a task's snapshots, by name. Snapshots on disk that the
    /// index does not know (e.g. written by the original Mnemosynce) are complete, unpinned and not
    /// owned.
    pub async fn snapshot_index(
        &self,
        task: &str,
    ) -> Result<HashMap<String, IndexEntry>, HistoryError> {
        let rows = sqlx::query(
            "SELECT name, status, pinned, pin_note, origin, size_files, size_total, size_unique
             FROM snapshots WHERE task = ?1",
        )
        .bind(task)
        .fetch_all(&self.pool)
        .await?;
        let mut out = HashMap::new();
        for row in rows {
            let name: String = row.try_get("name")?;
            let status: String = row.try_get("status")?;
            let pinned: i64 = row.try_get("pinned")?;
            let origin: Option<String> = row.try_get("origin")?;
            let pin_note: Option<String> = row.try_get("pin_note")?;
            let files: Option<i64> = row.try_get("size_files")?;
            let total: Option<i64> = row.try_get("size_total")?;
            let unique: Option<i64> = row.try_get("size_unique")?;
            let sizes = match (files, total, unique) {
                (Some(f), Some(t), Some(u)) => Some(crate::model::files::SnapshotSize {
                    files: u64::try_from(f).unwrap_or(0),
                    total: u64::try_from(t).unwrap_or(0),
                    unique: u64::try_from(u).unwrap_or(0),
                }),
                _ => None,
            };
            let completeness = if status == "partial" {
                Completeness::Partial
            } else {
                Completeness::Complete
            };
            out.insert(
                name,
                IndexEntry {
                    completeness,
                    pinned: pinned != 0,
                    pin_note: pin_note.filter(|_| pinned != 0),
                    sizes,
                    owned: origin.is_some(),
                },
            );
        }
        Ok(out)
    }

    /// Stores a snapshot's measured sizes (a row is made for a snapshot the index did not know:
    /// unpinned, not owned).
    pub async fn set_snapshot_sizes(
        &self,
        task: &str,
        name: &str,
        taken_at: DateTime<Utc>,
        sizes: &crate::model::files::SnapshotSize,
    ) -> Result<(), HistoryError> {
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        sqlx::query(
            "INSERT INTO snapshots (task, name, taken_at, size_files, size_total, size_unique)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (task, name) DO UPDATE SET size_files = excluded.size_files,
                 size_total = excluded.size_total, size_unique = excluded.size_unique",
        )
        .bind(task)
        .bind(name)
        .bind(ms(taken_at))
        .bind(n(sizes.files))
        .bind(n(sizes.total))
        .bind(n(sizes.unique))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Pins (with the owner's note) or unpins a snapshot: pinned snapshots are never pruned.
    pub async fn set_pinned(
        &self,
        task: &str,
        name: &str,
        taken_at: DateTime<Utc>,
        pinned: bool,
        note: Option<&str>,
    ) -> Result<(), HistoryError> {
        sqlx::query(
            "INSERT INTO snapshots (task, name, taken_at, pinned, pin_note) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (task, name) DO UPDATE SET pinned = excluded.pinned, pin_note = excluded.pin_note",
        )
        .bind(task)
        .bind(name)
        .bind(ms(taken_at))
        .bind(pinned as i64)
        .bind(note.filter(|_| pinned))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records that the owner adopted `name` (a folder Mnemosynce did not make, e.g. a `YYYY-MM-DD`
    /// snapshot of the original Mnemosynce): from now on retention manages it like its own, and the
    /// mirror may delete its copy once it is pruned. Keeps a pin the folder already had.
    pub async fn adopt_snapshot(
        &self,
        task: &str,
        name: &str,
        taken_at: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<(), HistoryError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO snapshots (task, name, taken_at, origin) VALUES (?1, ?2, ?3, 'adopted')
             ON CONFLICT (task, name) DO UPDATE SET origin = COALESCE(snapshots.origin, 'adopted')",
        )
        .bind(task)
        .bind(name)
        .bind(ms(taken_at))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO adoptions (task, name, adopted_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (task, name) DO NOTHING",
        )
        .bind(task)
        .bind(name)
        .bind(ms(at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every name the owner ever adopted for `task` (also those pruned since), sorted.
    pub async fn adopted_names(&self, task: &str) -> Result<Vec<String>, HistoryError> {
        let rows = sqlx::query("SELECT name FROM adoptions WHERE task = ?1 ORDER BY name")
            .bind(task)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| r.try_get("name").map_err(HistoryError::from))
            .collect()
    }

    /// Drops a pruned snapshot from the index.
    pub async fn forget_snapshot(&self, task: &str, name: &str) -> Result<(), HistoryError> {
        sqlx::query("DELETE FROM snapshots WHERE task = ?1 AND name = ?2")
            .bind(task)
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The newest task run of `task`.
    pub async fn last_task_run(&self, task: &str) -> Result<Option<TaskRunRow>, HistoryError> {
        let row = sqlx::query("SELECT * FROM task_runs WHERE task = ?1 AND run_id IN (SELECT id FROM runs WHERE kind = 'backup') ORDER BY id DESC LIMIT 1")
            .bind(task)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(task_run_row).transpose()?)
    }

    /// The newest task run of `task` that produced a snapshot.
    pub async fn last_good(&self, task: &str) -> Result<Option<TaskRunRow>, HistoryError> {
        let row = sqlx::query("SELECT * FROM task_runs WHERE task = ?1 AND snapshot IS NOT NULL AND run_id IN (SELECT id FROM runs WHERE kind = 'backup') ORDER BY id DESC LIMIT 1")
            .bind(task)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(task_run_row).transpose()?)
    }

    /// How many backup runs the history holds, by status.
    pub async fn backup_run_counts(&self) -> Result<Vec<(Status, u64)>, HistoryError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT status, COUNT(*) FROM runs WHERE kind = 'backup' GROUP BY status",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(s, n)| (status_of(&s), n.max(0) as u64))
            .collect())
    }

    /// When the newest backup run started (skipped ones included: their start was not missed).
    pub async fn newest_backup_started(&self) -> Result<Option<DateTime<Utc>>, HistoryError> {
        let newest: Option<i64> =
            sqlx::query_scalar("SELECT MAX(started_at) FROM runs WHERE kind = 'backup'")
                .fetch_one(&self.pool)
                .await?;
        Ok(newest.map(from_ms))
    }

    /// The newest task run, of any task, that made a snapshot in a backup run.
    pub async fn newest_snapshot_made(&self) -> Result<Option<TaskRunRow>, HistoryError> {
        let row = sqlx::query("SELECT * FROM task_runs WHERE snapshot IS NOT NULL AND run_id IN (SELECT id FROM runs WHERE kind = 'backup') ORDER BY id DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(task_run_row).transpose()?)
    }

    /// The newest `limit` runs of `task`, newest first.
    pub async fn recent_task_runs(
        &self,
        task: &str,
        limit: u32,
    ) -> Result<Vec<TaskRunRow>, HistoryError> {
        let rows = sqlx::query("SELECT * FROM task_runs WHERE task = ?1 AND run_id IN (SELECT id FROM runs WHERE kind = 'backup') ORDER BY id DESC LIMIT ?2")
            .bind(task)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(task_run_row).collect::<Result<_, _>>()?)
    }

    /// One page of runs, newest first.
    pub async fn runs(&self, filter: &RunFilter) -> Result<Vec<RunRow>, HistoryError> {
        let limit = filter.limit.clamp(1, 500) as i64;
        let before = filter.before.unwrap_or(i64::MAX);
        let status = filter.status.map(|s| s.as_str());
        let rows = match &filter.task {
            None => {
                sqlx::query(
                    "SELECT * FROM runs WHERE id < ?1 AND (?2 IS NULL OR status = ?2) ORDER BY id DESC LIMIT ?3",
                )
                .bind(before)
                .bind(status)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
            Some(task) => {
                // Walk the task's own index, newest first, then join the run.
                sqlx::query(
                    "SELECT r.* FROM task_runs t JOIN runs r ON r.id = t.run_id
                     WHERE t.task = ?1 AND t.run_id < ?2 AND (?3 IS NULL OR r.status = ?3)
                     GROUP BY r.id ORDER BY r.id DESC LIMIT ?4",
                )
                .bind(task)
                .bind(before)
                .bind(status)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
        };
        Ok(rows.iter().map(run_row).collect::<Result<_, _>>()?)
    }

    pub async fn run(&self, id: i64) -> Result<Option<RunRow>, HistoryError> {
        let row = sqlx::query("SELECT * FROM runs WHERE id = ?1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(run_row).transpose()?)
    }

    pub async fn task_runs(&self, run_id: i64) -> Result<Vec<TaskRunRow>, HistoryError> {
        let rows = sqlx::query("SELECT * FROM task_runs WHERE run_id = ?1 ORDER BY position")
            .bind(run_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(task_run_row).collect::<Result<_, _>>()?)
    }

    pub async fn steps(&self, task_run_id: i64) -> Result<Vec<StepRow>, HistoryError> {
        let rows = sqlx::query("SELECT * FROM steps WHERE task_run_id = ?1 ORDER BY id")
            .bind(task_run_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(StepRow {
                    id: row.try_get("id")?,
                    task_run_id: row.try_get("task_run_id")?,
                    step: StepKind::parse(row.try_get::<&str, _>("step")?)
                        .unwrap_or(StepKind::Preflight),
                    started_at: from_ms(row.try_get("started_at")?),
                    finished_at: row.try_get::<Option<i64>, _>("finished_at")?.map(from_ms),
                    status: status_of(row.try_get::<&str, _>("status")?),
                    message: row.try_get("message")?,
                    stats: stats_of(row),
                    log_path: row.try_get("log_path")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(HistoryError::from)
    }

    /// Deletes runs that started before `cutoff`; returns their ids so their log folders can go too.
    pub async fn prune_runs(&self, cutoff: DateTime<Utc>) -> Result<Vec<i64>, HistoryError> {
        let ids: Vec<i64> =
            sqlx::query("SELECT id FROM runs WHERE started_at < ?1 AND status != 'running'")
                .bind(ms(cutoff))
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?;
        sqlx::query("DELETE FROM runs WHERE started_at < ?1 AND status != 'running'")
            .bind(ms(cutoff))
            .execute(&self.pool)
            .await?;
        Ok(ids)
    }
}
