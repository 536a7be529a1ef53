//! Every run, newest first: filter by task and status, 50 a page (keyset paging by run id, so page
//! 2 000 costs what page 1 costs). The filter is a plain GET form: it works without JavaScript.
//! When a run ends, the page refreshes in place (an empty island, [`RefreshWhenRunEnds`]).

use super::parts::{error_line, took, urlencode, utc, StatusBadge};
use crate::api::get_runs;
use crate::feed::RefreshWhenRunEnds;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

const STATUSES: [&str; 5] = ["success", "warning", "failed", "cancelled", "running"];

#[component]
pub fn History() -> impl IntoView {
    let query = use_query_map();
    let params = move || {
        query.with(|q| {
            (
                q.get("task").filter(|s| !s.is_empty()),
                q.get("status").filter(|s| !s.is_empty()),
                q.get("before").and_then(|b| b.parse::<i64>().ok()),
            )
        })
    };
    let page = Resource::new(params, |(task, status, before)| {
        get_runs(task, status, before)
    });

    view! {
        <section class="page">
            <h1>"History"</h1>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let (task, status, before) = params();
                    match page.await {
                        Err(e) => error_line(e),
                        Ok(p) => {
                            let task_options = p.tasks.iter().map(|t| {
                                let selected = task.as_deref() == Some(t.as_str());
                                view! { <option value=t.clone() selected=selected>{t.clone()}</option> }
                            }).collect_view();
                            let status_options = STATUSES.iter().map(|s| {
                                let selected = status.as_deref() == Some(*s);
                                view! { <option value=*s selected=selected>{*s}</option> }
                            }).collect_view();
                            let rows = p.runs.iter().map(|r| {
                                let end = r.finished_at.unwrap_or(r.started_at);
                                view! {
                                    <tr>
                                        <td><a href=format!("/runs/{}", r.id)>{format!("#{}", r.id)}</a></td>
                                        <td><StatusBadge status=r.status/></td>
                                        <td>{utc(r.started_at)}</td>
                                        <td>{took(r.started_at, r.finished_at, end)}</td>
                                        <td>{r.trigger.as_str()}</td>
                                        <td class="muted">{r.message.clone().unwrap_or_default()}</td>
                                    </tr>
                                }
                            }).collect_view();
                            let empty = p.runs.is_empty();
                            let rendered_running = p
                                .runs
                                .iter()
                                .find(|r| r.status == engine::model::Status::Running)
                                .map(|r| r.id);
                            let filtered = task.is_some() || status.is_some() || before.is_some();
                            let next = p.next.map(|n| {
                                let mut q = format!("/history?before={n}");
                                if let Some(t) = &task { q.push_str(&format!("&task={}", urlencode(t))); }
                                if let Some(s) = &status { q.push_str(&format!("&status={s}")); }
                                view! { <a class="button" href=q>"Older runs"</a> }
                            });
                            view! {
                                <RefreshWhenRunEnds rendered_running/>
                                <form method="get" action="/history" class="filters">
                                    <label for="f-task">"Task"</label>
                                    <select id="f-task" name="task">
                                        <option value="">"all"</option>
                                        {task_options}
                                    </select>
                                    <label for="f-status">"Status"</label>
                                    <select id="f-status" name="status">
                                        <option value="">"all"</option>
                                        {status_options}
                                    </select>
                                    <button type="submit">"Filter"</button>
                                    {filtered.then(|| view! { <a href="/history">"Clear"</a> })}
                                </form>
                                {if empty {
                                    view! { <p class="muted">{if filtered { "No runs match this filter." } else { "No runs recorded yet. Start one with Run now on the dashboard." }}</p> }.into_any()
                                } else {
                                    view! {
                                        <div class="table-scroll">
                                            <table class="list runs">
                                                <thead><tr><th>"Run"</th><th>"Status"</th><th>"Started"</th><th>"Took"</th><th>"By"</th><th>"Note"</th></tr></thead>
                                                <tbody>{rows}</tbody>
                                            </table>
                                        </div>
                                    }.into_any()
                                }}
                                <nav class="pager" aria-label="Pages">
                                    {before.map(|_| view! { <a href="/history">"Newest runs"</a> })}
                                    {next}
                                </nav>
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}
