//! The dashboard: a live banner while a run is active, every task at a glance, the recent runs, and
//! *Run now* for all tasks or one.
//!
//! Rendered on the server; only the banner is an island (it follows the feed, and refreshes the
//! page in place when a run ends). *Run now* is a plain form (server/src/actions.rs).

use super::parts::{ago, error_line, took, utc, ProgressBar, StatusBadge};
use crate::api::{get_dashboard, Dashboard};
use crate::feed::{refresh_when_a_run_ends, FeedState};
use crate::navigation::{Island, IslandRoot};
use engine::model::overview::TaskOverview;
use engine::model::units::{human_bytes, human_duration};
use leptos::prelude::*;

/// Start page, rendered on the server; the live banner is an island.
#[component]
pub fn Dashboard() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_dashboard());

    view! {
        <section class="page">
            <div class="page-head">
                <h1>"Dashboard"</h1>
                <RunNow task=None/>
            </div>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(d) => view! { <DashboardBody d/> }.into_any(),
                        Err(e) => error_line(e),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// *Run now* (every task) or *Run this task*: a plain form to the server, which opens the new run's
/// page, or comes back here with why it could not start.
#[component]
fn RunNow(task: Option<String>) -> impl IntoView {
    let all = task.is_none();
    view! {
        <form method="post" action="/runs/start" class="inline">
            {task.map(|t| view! { <input type="hidden" name="task" value=t/> })}
            <button type="submit" class:primary=all>{if all { "Run now" } else { "Run this task" }}</button>
        </form>
    }
}

/// The active run: task, step, progress, rate, ETA, link to its page. When a run ends, the page
/// refreshes to show what it left.
#[island]
pub fn LiveBanner(rendered_running: Option<i64>) -> impl IntoView {
    let island = Island::start();
    let feed = FeedState::shared();
    refresh_when_a_run_ends(island, feed, rendered_running, None);
    let banner = move || {
        if !island.live() {
            return None;
        }
        let run = feed.active_run.get().filter(|r| r.is_running())?;
        let task = run
            .tasks
            .iter()
            .find(|t| t.status == Some(engine::model::Status::Running))
            .cloned();
        let (task_name, step, progress) = match &task {
            Some(t) => (
                t.name.clone(),
                t.current_step().map(|s| s.as_str()).unwrap_or("starting"),
                t.progress.clone(),
            ),
            None => ("—".to_string(), "starting", None),
        };
        let done = run
            .tasks
            .iter()
            .filter(|t| {
                t.status
                    .is_some_and(|s| s != engine::model::Status::Running)
            })
            .count();
        let total = run.tasks.len();
        Some(view! {
            <div class="banner" role="status">
                <div class="banner-line">
                    <strong>{format!("Run {} in progress", run.run_id)}</strong>
                    <span>{format!("task {task_name} ({} of {total}), step {step}", (done + 1).min(total))}</span>
                    <a href=format!("/runs/{}", run.run_id)>"Open the run"</a>
                </div>
                {progress.map(|p| view! { <ProgressBar progress=p/> })}
            </div>
        })
    };
    view! { <IslandRoot island>{banner}</IslandRoot> }
}

#[component]
fn DashboardBody(d: Dashboard) -> impl IntoView {
    let now = d.now;
    let rendered_running = d
        .active
        .as_ref()
        .filter(|r| r.is_running())
        .map(|r| r.run_id);
    let notice = d
        .notice
        .clone()
        .map(|n| view! { <p class="form-error" role="alert">{n}</p> });
    let config_error = d.config_error.clone().map(|e| {
        view! {
            <div class="notice error" role="alert">
                <strong>"The configuration cannot be used. "</strong>{e}
            </div>
        }
    });
    let empty = d.tasks.is_empty() && d.config_error.is_none();
    let tasks = d
        .tasks
        .into_iter()
        .map(|t| view! { <TaskCard t now/> })
        .collect_view();
    let runs_empty = d.recent_runs.is_empty();
    let runs = d
        .recent_runs
        .into_iter()
        .map(|r| {
            view! {
                <tr>
                    <td><a href=format!("/runs/{}", r.id)>{format!("#{}", r.id)}</a></td>
                    <td><StatusBadge status=r.status/></td>
                    <td>{utc(r.started_at)}</td>
                    <td>{took(r.started_at, r.finished_at, now)}</td>
                    <td>{r.trigger.as_str()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        {notice}
        <super::wizard::SetupStrip/>
        <LiveBanner rendered_running/>
        {config_error}
        <Show when=move || empty>
            <div class="notice">
                "No tasks yet. Write your tasks in backup_config.yml in the data directory "
                "(the Settings page will edit it), then press Run now."
            </div>
        </Show>
        <div class="cards">{tasks}</div>
        <h2>"Recent runs"</h2>
        {if runs_empty {
            view! { <p class="muted">"No runs yet. Press Run now to make the first snapshot."</p> }.into_any()
        } else {
            view! {
                <div class="table-scroll">
                    <table class="list">
                        <thead><tr><th>"Run"</th><th>"Status"</th><th>"Started"</th><th>"Took"</th><th>"By"</th></tr></thead>
                        <tbody>{runs}</tbody>
                    </table>
                </div>
                <p><a href="/history">"All runs"</a></p>
            }.into_any()
        }}
    }
}

#[component]
fn TaskCard(t: TaskOverview, now: chrono::DateTime<chrono::Utc>) -> impl IntoView {
    let last = match (&t.last_snapshot, t.last_snapshot_at) {
        (Some(name), Some(at)) => format!("{name} ({})", ago(now, at)),
        _ => "none yet".into(),
    };
    // A small bar chart: one bar per run, height by duration; hover for duration and bytes.
    let max_secs = t.trend.iter().map(|p| p.seconds).max().unwrap_or(0).max(1);
    let bars = t
        .trend
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let h = ((p.seconds * 28) / max_secs).max(2);
            let title = format!(
                "run {}: {}, {} copied",
                p.run_id,
                human_duration(p.seconds),
                human_bytes(p.bytes)
            );
            view! {
                <rect class="bar" data-status=p.status.as_str() x=(i * 10 + 1).to_string()
                    y=(30 - h).to_string() width="8" height=h.to_string()>
                    <title>{title}</title>
                </rect>
            }
        })
        .collect_view();
    let trend = (!t.trend.is_empty()).then(|| view! {
        <svg class="trend" viewBox="0 0 100 30" role="img" aria-label="Duration of the last runs">
            {bars}
        </svg>
    });
    let name = t.name.clone();
    view! {
        <article class="card" data-task=t.name.clone()>
            <header class="card-head">
                <h2>{t.name.clone()}</h2>
                {t.last_status.map(|s| view! { <StatusBadge status=s/> })}
            </header>
            <p class="muted source">{t.source.clone()}</p>
            <dl class="facts">
                <dt>"Last snapshot"</dt><dd class="last-snapshot">{last}</dd>
                <dt>"Snapshots"</dt><dd class="snapshot-count">{t.snapshot_count}</dd>
                <dt>"Store size"</dt><dd class="store-size">{t.store_bytes.map(human_bytes).unwrap_or_else(|| "not measured yet".into())}</dd>
                <dt>"Last run"</dt><dd>{t.last_run_at.map(|at| ago(now, at)).unwrap_or_else(|| "never".into())}</dd>
            </dl>
            {t.stale.then(|| view! { <p class="stale" role="alert">"⚠ No good snapshot for too long: check this task."</p> })}
            {trend}
            <RunNow task=Some(name)/>
        </article>
    }
}
