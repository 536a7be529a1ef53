//! How fast the dashboard's history queries stay with 100 000 runs in the database (SPEC §8).
//!
//! Fills a fresh SQLite file with 100 000 runs of three tasks (each with its task runs and steps,
//! written through the same `History` functions a run uses), then measures the queries the dashboard
//! and the history page make. Run with `scripts/bench history`.

use chrono::{Duration, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use engine::history::{History, RunFilter};
use engine::model::events::{StepKind, Trigger};
use engine::model::Status;

const RUNS: i64 = 100_000;
const TASKS: [&str; 3] = ["Photos", "Documents", "ServerData"];

async fn fill(history: &History) {
    let pool = history.pool();
    let t0 = Utc
        .with_ymd_and_hms(2020, 1, 1, 2, 0, 0)
        .single()
        .unwrap_or_default();
    let mut tx = pool.begin().await.expect("begin");
    for i in 0..RUNS {
        let at = (t0 + Duration::hours(i)).timestamp_millis();
        // Mostly success, some warnings and failures, like a real history.
        let status = match i % 50 {
            0 => Status::Failed,
            1..=3 => Status::Warning,
            _ => Status::Success,
        };
        let run_id: i64 = sqlx::query(
            "INSERT INTO runs (trigger, started_at, finished_at, status) VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(Trigger::Schedule.as_str())
        .bind(at)
        .bind(at + 60_000)
        .bind(status.as_str())
        .execute(&mut *tx)
        .await
        .expect("insert run")
        .last_insert_rowid();
        for (pos, task) in TASKS.iter().enumerate() {
            let ok = status != Status::Failed || pos != 0;
            let task_run: i64 = sqlx::query(
                "INSERT INTO task_runs (run_id, task, position, started_at, finished_at, status, snapshot, files_total, files_transferred, bytes_total, bytes_transferred)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1000, 10, 1000000, 10000)",
            )
            .bind(run_id)
            .bind(task)
            .bind(pos as i64)
            .bind(at)
            .bind(at + 20_000)
            .bind(if ok { "success" } else { "failed" })
            .bind(ok.then(|| format!("snap-{i}")))
            .execute(&mut *tx)
            .await
            .expect("insert task run")
            .last_insert_rowid();
            for step in StepKind::ALL {
                sqlx::query("INSERT INTO steps (task_run_id, step, started_at, finished_at, status) VALUES (?1, ?2, ?3, ?3, 'success')")
                    .bind(task_run)
                    .bind(step.as_str())
                    .bind(at)
                    .execute(&mut *tx)
                    .await
                    .expect("insert step");
            }
        }
    }
    tx.commit().await.expect("commit");
}

fn queries(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let history = rt.block_on(async {
        let h = History::open(&dir.path().join("mnemosynce.db"))
            .await
            .expect("open");
        fill(&h).await;
        sqlx::query("ANALYZE")
            .execute(h.pool())
            .await
            .expect("analyze");
        h
    });

    let mut g = c.benchmark_group("history with 100000 runs");
    g.bench_function("last run of each task", |b| {
        b.iter(|| {
            rt.block_on(async {
                for t in TASKS {
                    history.last_task_run(t).await.expect("q");
                }
            })
        })
    });
    g.bench_function("last good snapshot of each task", |b| {
        b.iter(|| {
            rt.block_on(async {
                for t in TASKS {
                    history.last_good(t).await.expect("q");
                }
            })
        })
    });
    g.bench_function("history page 1", |b| {
        b.iter(|| {
            rt.block_on(history.runs(&RunFilter {
                limit: 50,
                ..Default::default()
            }))
            .expect("q")
        })
    });
    g.bench_function("history page deep (keyset)", |b| {
        b.iter(|| {
            rt.block_on(history.runs(&RunFilter {
                limit: 50,
                before: Some(1_000),
                ..Default::default()
            }))
            .expect("q")
        })
    });
    g.bench_function("history filtered by status failed", |b| {
        b.iter(|| {
            rt.block_on(history.runs(&RunFilter {
                limit: 50,
                status: Some(Status::Failed),
                ..Default::default()
            }))
            .expect("q")
        })
    });
    g.bench_function("history filtered by task and status", |b| {
        b.iter(|| {
            rt.block_on(history.runs(&RunFilter {
                limit: 50,
                task: Some("Photos".into()),
                status: Some(Status::Failed),
                ..Default::default()
            }))
            .expect("q")
        })
    });
    g.finish();
}

criterion_group!(benches, queries);
criterion_main!(benches);
