//! One run: per task and step its status and timing; while it runs, live progress and the live log
//! (coloured by level, a *follow* switch, at most `LOG_DOM_CAP` lines in the page) and *Cancel*;
//! afterwards the recorded run with each step's log on demand.

use super::parts::{clean_error, took, utc, ProgressBar, StatusBadge};
use crate::api::{get_run, get_step_log, CancelRun};
use crate::feed::FeedState;
use engine::model::feed::ActiveRun;
use engine::model::overview::RunDetail;
use engine::model::units::{human_bytes, human_count};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn Run() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|s| s.parse::<i64>().ok()));
    let feed = FeedState::shared();
    // The live state of this run, while the feed has it.
    let live = move || feed.active_run.get().filter(|r| Some(r.run_id) == id());
    let running = move || live().is_some_and(|r| r.is_running());
    // The recorded run; fetched again whenever the feed changes this run's status. Keyed on the
    // status itself, not on "running or not": a short run can start and end within one batch of
    // events, and must still be fetched again once it has ended.
    let live_status = move || live().map(|r| r.status);
    let recorded = Resource::new(
        move || (id(), live_status()),
        |(id, _)| async move {
            match id {
                Some(id) => get_run(id).await,
                None => Ok(None),
            }
        },
    );
    let cancel = ServerAction::<CancelRun>::new();

    view! {
        <section class="page">
            <div class="page-head">
                <h1>{move || id().map(|i| format!("Run {i}")).unwrap_or_else(|| "Run".into())}</h1>
                <Show when=running>
                    <ActionForm action=cancel attr:class="inline">
                        <input type="hidden" name="run_id" value=move || id().unwrap_or(0).to_string()/>
                        <button type="submit" class="danger">"Cancel"</button>
                    </ActionForm>
                </Show>
            </div>
            {move || running().then(|| live().map(|r| view! { <LiveRun run=r/> }))}
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match recorded.await {
                        Err(e) => view! { <p class="form-error" role="alert">{clean_error(&e.to_string())}</p> }.into_any(),
                        Ok(None) => view! { <p>"There is no such run. " <a href="/history">"See all runs"</a></p> }.into_any(),
                        Ok(Some(d)) => view! { <Recorded d/> }.into_any(),
                    }
                })}
            </Suspense>
            <Show when=running>
                <LiveLog/>
            </Show>
        </section>
    }
}

#[component]
fn LiveRun(run: ActiveRun) -> impl IntoView {
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
                    <h3>{t.name.clone()} " " {status.map(|s| view! { <StatusBadge status=s/> })}
                        {status.is_none().then(|| view! { <span class="muted">"waiting"</span> })}</h3>
                    <ul class="steps">{steps}</ul>
                    {t.progress.map(|p| view! { <ProgressBar progress=p/> })}
                </div>
            }
        })
        .collect_view();
    view! { <div class="live">{tasks}</div> }
}

/// The live log: the newest lines, coloured by level, following the end unless switched off.
#[component]
fn LiveLog() -> impl IntoView {
    let feed = FeedState::shared();
    let follow = RwSignal::new(true);
    let list = NodeRef::<leptos::html::Ol>::new();
    Effect::new(move |_| {
        feed.log.track();
        if follow.get() {
            if let Some(el) = list.get() {
                el.set_scroll_top(el.scroll_height());
            }
        }
    });
    view! {
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
                <li data-level=format!("{:?}", item.1.level).to_lowercase()>
                    {item.1.task.clone().map(|t| format!("{t}: ")).unwrap_or_default()}
                    {item.1.line.clone()}
                </li>
            </For>
        </ol>
        <p class="muted">"The page keeps the newest lines; every step's full log is kept on the server."</p>
    }
}

#[component]
fn Recorded(d: RunDetail) -> impl IntoView {
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
                    let task = task.clone();
                    let step = s.step.as_str().to_string();
                    let log = RwSignal::new(None::<String>);
                    let load = move |_| {
                        let (task, step) = (task.clone(), step.clone());
                        leptos::task::spawn_local(async move {
                            let text = match get_step_log(run_id, task, step).await {
                                Ok(Some(t)) => t,
                                Ok(None) => "No log was kept for this step.".into(),
                                Err(e) => clean_error(&e.to_string()),
                            };
                            log.set(Some(text));
                        });
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
                            <td>{s.has_log.then(|| view! { <button type="button" on:click=load.clone()>"Show log"</button> })}</td>
                        </tr>
                        {move || log.get().map(|text| view! { <tr><td colspan="5"><pre class="step-log">{text}</pre></td></tr> })}
                    }
                })
                .collect_view();
            view! {
                <div class="task-run" data-task=t.task.clone()>
                    <h3>{t.task.clone()} " " <StatusBadge status=t.status/></h3>
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
