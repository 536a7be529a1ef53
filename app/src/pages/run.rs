//! One run: per task and step its status and timing; while it runs, live progress and the live log
//! (coloured by level, a *follow* switch, at most `LOG_DOM_CAP` lines in the page) and *Cancel*;
//! afterwards the recorded run with each step's log on demand.
//!
//! Rendered on the server. The live parts (steps and progress, the log, *Cancel*) are islands that
//! follow the feed; when the run ends the page refreshes in place and the server renders the
//! recorded run.
//! A step's log opens through the address (`?task=…&step=…`), a plain link that needs no WASM.

use super::parts::{loading, took, urlencode, utc, ErrorLine, ProgressBar, StatusBadge};
use crate::api::{get_run, get_step_log};
use crate::feed::{refresh_when_a_run_ends, FeedState, Link};
use crate::navigation::{Island, IslandRoot};
use engine::model::feed::ActiveRun;
use engine::model::overview::RunDetail;
use engine::model::units::{human_bytes, human_count};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

/// The run page, rendered on the server. `?task=…&step=…` opens that step's log under its row.
#[component]
pub fn Run() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = params.with_untracked(|p| p.get("id").and_then(|s| s.parse::<i64>().ok()));
    let open_log = query.with_untracked(|q| q.get("task").zip(q.get("step")));
    let recorded = Resource::new(
        || (),
        move |_| async move {
            match id {
                Some(id) => get_run(id).await,
                None => Ok(None),
            }
        },
    );
    let log = Resource::new(
        || (),
        move |_| {
            let open_log = open_log.clone();
            async move {
                let (Some(id), Some((task, step))) = (id, open_log) else {
                    return None;
                };
                let text = match get_step_log(id, task.clone(), step.clone()).await {
                    Ok(Some(t)) => t,
                    Ok(None) => "No log was kept for this step.".into(),
                    Err(e) => e.to_string(),
                };
                Some(OpenLog { task, step, text })
            }
        },
    );

    view! {
        <section class="page">
            <Suspense fallback=loading>
                {move || Suspend::new(async move {
                    let head = id.map(|i| format!("Run {i}")).unwrap_or_else(|| "Run".into());
                    match (recorded.await, id) {
                        (Ok(Some(d)), Some(id)) => {
                            let rendered_running = d.run.status == engine::model::Status::Running;
                            let log = log.await;
                            view! {
                                <div class="page-head">
                                    <h1>{head}</h1>
                                    <CancelRun run_id=id rendered_running/>
                                </div>
                                <LiveRun run_id=id rendered_running/>
                                <Recorded d log/>
                                <LiveLog run_id=id/>
                            }.into_any()
                        }
                        (Err(e), _) => view! {
                            <h1>{head}</h1>
                            <ErrorLine error=e/>
                        }.into_any(),
                        _ => view! {
                            <h1>{head}</h1>
                            <p>"There is no such run. " <a href="/history">"See all runs"</a></p>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// A step's log opened on the page.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct OpenLog {
    task: String,
    step: String,
    text: String,
}

/// Whether the run is still going: the feed says once it is live; until then (and without
/// JavaScript) what the server rendered.
fn still_running(feed: FeedState, run_id: i64, rendered_running: bool) -> bool {
    match feed.active_run.get().filter(|r| r.run_id == run_id) {
        Some(r) => r.is_running(),
        None if feed.link.get() == Link::Live => false,
        None => rendered_running,
    }
}

/// *Cancel* while the run is going: a plain form to the server (server/src/actions.rs), which asks
/// the run to stop and shows this page again.
#[island]
pub fn CancelRun(run_id: i64, rendered_running: bool) -> impl IntoView {
    let island = Island::start();
    let feed = FeedState::shared();
    let shown = move || {
        if island.live() {
            still_running(feed, run_id, rendered_running)
        } else {
            island.present() && rendered_running
        }
    };
    view! {
        <IslandRoot island>
        <Show when=shown>
            <form method="post" action=format!("/runs/{run_id}/cancel") class="inline" data-navigate="">
                <button type="submit" class="danger">"Cancel"</button>
            </form>
        </Show>
        </IslandRoot>
    }
}

/// Each task's steps and progress while the run is going; when the run ends, the page refreshes to
/// show the recorded run.
#[island]
pub fn LiveRun(run_id: i64, rendered_running: bool) -> impl IntoView {
    let island = Island::start();
    let feed = FeedState::shared();
    refresh_when_a_run_ends(
        island,
        feed,
        rendered_running.then_some(run_id),
        Some(run_id),
    );
    let tasks = move || {
        if !island.live() {
            return None;
        }
        let run = feed
            .active_run
            .get()
            .filter(|r| r.run_id == run_id && r.is_running())?;
        Some(view! { <LiveTasks run/> })
    };
    view! { <IslandRoot island>{tasks}</IslandRoot> }
}

/// Each task of a run in progress: its steps with their status, and its progress.
#[component]
pub fn LiveTasks(run: ActiveRun) -> impl IntoView {
    let tasks = run
        .tasks
        .into_iter()
        .map(|t| {
            let steps = t
                .steps
                .iter()
                .map(|s| view! { <li><StatusBadge status=s.status/> " " {s.step.as_str()}</li> })
                .collect_view();
            let status = t.status;
            view! {
                <div class="live-task" data-task=t.name.clone()>
                    <h2>{t.name.clone()} " " {status.map(|s| view! { <StatusBadge status=s/> })}
                        {status.is_none().then(|| view! { <span class="muted">"waiting"</span> })}</h2>
                    <ul class="steps">{steps}</ul>
                    {t.progress.map(|p| view! { <ProgressBar progress=p/> })}
                </div>
            }
        })
        .collect_view();
    view! { <div class="live">{tasks}</div> }
}

/// The live log while the run is going: the newest lines, coloured by level, following the end
/// unless switched off.
#[island]
pub fn LiveLog(run_id: i64) -> impl IntoView {
    let island = Island::start();
    let feed = FeedState::shared();
    let running = move || {
        island.live()
            && feed.active_run.with(|r| {
                r.as_ref()
                    .is_some_and(|r| r.run_id == run_id && r.is_running())
            })
    };
    let follow = RwSignal::new(true);
    let list = NodeRef::<leptos::html::Ol>::new();
    Effect::new(move |_| {
        if !island.present() {
            return;
        }
        feed.log.track();
        if follow.get() {
            if let Some(el) = list.get() {
                el.set_scroll_top(el.scroll_height());
            }
        }
    });
    view! {
        <IslandRoot island>
        <Show when=running>
        <div class="log-head">
            <h2>"Log"</h2>
            <label class="switch">
                <input type="checkbox" prop:checked=move || follow.get()
                    on:change=move |ev| follow.set(event_target_checked(&ev))/>
                " Follow"
            </label>
        </div>
        <ol class="log" node_ref=list aria-live="off">
            <For each=move || feed.log.get() key=|(n, _)| *n let:item>
                <li data-level=item.1.level.as_str()>
                    {item.1.task.clone().map(|t| format!("{t}: ")).unwrap_or_default()}
                    {item.1.line.clone()}
                </li>
            </For>
        </ol>
        <p class="muted">"The page keeps the newest lines; every step's full log is kept on the server."</p>
        </Show>
        </IslandRoot>
    }
}

#[component]
fn Recorded(d: RunDetail, log: Option<OpenLog>) -> impl IntoView {
    let run = d.run.clone();
    let end = run.finished_at.unwrap_or(run.started_at);
    let report = match (run.report_status, &run.report_error) {
        (Some(engine::model::report::ReportStatus::Failed), Some(e)) => {
            Some(format!("Report email NOT sent: {e}"))
        }
        (Some(engine::model::report::ReportStatus::Sent), _) => {
            Some("Report email sent.".to_string())
        }
        _ => None,
    };
    let tasks = d
        .tasks
        .into_iter()
        .map(|t| {
            let run_id = run.id;
            let task = t.task.clone();
            let steps = t
                .steps
                .into_iter()
                .map(|s| {
                    let step = s.step.as_str();
                    let here = log
                        .as_ref()
                        .filter(|l| l.task == task && l.step == step)
                        .map(|l| l.text.clone());
                    let toggle = if here.is_some() {
                        view! { <a class="button" href=format!("/runs/{run_id}")>"Hide log"</a> }.into_any()
                    } else {
                        let href = format!(
                            "/runs/{run_id}?task={}&step={step}#step-log",
                            urlencode(&task)
                        );
                        view! { <a class="button" href=href>"Show log"</a> }.into_any()
                    };
                    let figures = (s.stats.files_total > 0).then(|| format!(
                        "{} of {} files, {} copied",
                        human_count(s.stats.files_transferred),
                        human_count(s.stats.files_total),
                        human_bytes(s.stats.bytes_transferred)
                    ));
                    view! {
                        <tr>
                            <td>{s.step.as_str()}</td>
                            <td><StatusBadge status=s.status/></td>
                            <td>{took(s.started_at, s.finished_at, s.finished_at.unwrap_or(s.started_at))}</td>
                            <td>{s.message.clone().unwrap_or_default()} " " <span class="muted">{figures}</span></td>
                            <td>{s.has_log.then_some(toggle)}</td>
                        </tr>
                        {here.map(|text| view! { <tr><td colspan="5"><pre class="step-log" id="step-log">{text}</pre></td></tr> })}
                    }
                })
                .collect_view();
            view! {
                <div class="task-run" data-task=t.task.clone()>
                    <h2>{t.task.clone()} " " <StatusBadge status=t.status/></h2>
                    <p class="muted">
                        {t.snapshot.clone().map(|s| format!("snapshot {s} · ")).unwrap_or_default()}
                        {format!("took {}", took(t.started_at, t.finished_at, t.finished_at.unwrap_or(t.started_at)))}
                        {t.message.clone().map(|m| format!(" · {m}")).unwrap_or_default()}
                    </p>
                    <div class="table-scroll">
                        <table class="list steps">
                            <thead><tr><th>"Step"</th><th>"Status"</th><th>"Took"</th><th>"What happened"</th><th></th></tr></thead>
                            <tbody>{steps}</tbody>
                        </table>
                    </div>
                </div>
            }
        })
        .collect_view();
    view! {
        <p class="run-meta">
            <StatusBadge status=run.status/>
            {format!(" started {} by {}, took {}", utc(run.started_at), run.trigger.as_str(), took(run.started_at, run.finished_at, end))}
        </p>
        {run.message.clone().map(|m| view! { <p>{m}</p> })}
        {report.map(|r| view! { <p class="muted report-status">{r}</p> })}
        {tasks}
    }
}
