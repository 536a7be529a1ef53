//! Find (`/snapshots/find?task=&pattern=`): files whose name matches a pattern across a task's
//! snapshots, newest snapshot first, each version once. The page is streamed in order
//! (`SsrMode::InOrder`): each snapshot's results are a `Suspense` of their own, sent as soon as
//! that snapshot is searched, so the first results show while older snapshots are still read — no
//! JavaScript needed. Each result links to its download, its versions and its restore. Rendered
//! on the server only. The search form is a document load (`data-reload`): client-side navigation
//! would wait for the whole answer before showing any of it.

use super::parts::{error_line, loading, urlencode, urlencode_path, utc};
use crate::api::find::{
    get_find_plan, get_task_names, start_search, wait_for, FindPlan, SnapshotFound, FIND_LIMIT,
};
use engine::model::units::human_bytes;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// `/snapshots/find`
#[component]
pub fn Find() -> impl IntoView {
    // Streamed as it is searched: no proxy (nor the server's own compression, which would hold the
    // chunks back until its buffer fills) may buffer this page.
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.insert_header(
            http::HeaderName::from_static("x-accel-buffering"),
            http::HeaderValue::from_static("no"),
        );
    }
    let query = use_query_map();
    let wanted = move || {
        query.with(|q| {
            (
                q.get("task").unwrap_or_default(),
                q.get("pattern").unwrap_or_default(),
            )
        })
    };
    let tasks = Resource::new(|| (), |_| get_task_names());
    let plan = Resource::new(wanted, |(task, pattern)| async move {
        if pattern.trim().is_empty() {
            return Ok(None);
        }
        get_find_plan(task, pattern).await.map(Some)
    });
    view! {
        <section class="page find">
            <p class="crumbs"><a href="/snapshots">"Snapshots"</a></p>
            <h1>"Find files"</h1>
            <Suspense fallback=loading>
                {move || Suspend::new(async move {
                    let (task, pattern) = wanted();
                    match tasks.await {
                        Err(e) => error_line(e),
                        Ok(names) => view! { <SearchForm names task pattern/> }.into_any(),
                    }
                })}
            </Suspense>
            <Suspense fallback=loading>
                {move || Suspend::new(async move {
                    match plan.await {
                        Err(e) => error_line(e),
                        Ok(None) => view! {
                            <p class="muted">"A name or a pattern: *.xlsx, taxes*, IMG_????.jpg (case does not matter; a plain word finds names containing it)."</p>
                        }.into_any(),
                        Ok(Some(p)) => view! { <Results p/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn SearchForm(names: Vec<String>, task: String, pattern: String) -> impl IntoView {
    let options = names
        .into_iter()
        .map(|n| {
            let selected = n == task;
            view! { <option value=n.clone() selected=selected>{n.clone()}</option> }
        })
        .collect_view();
    view! {
        <form method="get" action="/snapshots/find" class="find-form" role="search" data-reload="">
            <label>"Task " <select name="task">{options}</select></label>
            " "
            <label>"Name " <input type="search" name="pattern" value=pattern placeholder="*.xlsx" required/></label>
            " "
            <button type="submit">"Find"</button>
        </form>
    }
}

/// The search's results, one streamed section per snapshot.
#[component]
fn Results(p: FindPlan) -> impl IntoView {
    if p.snapshots.is_empty() {
        return view! { <p class="empty">"This task has no snapshots yet."</p> }.into_any();
    }
    let pending = start_search(&p);
    let sections = p
        .snapshots
        .iter()
        .cloned()
        .zip(pending)
        .map(|(snapshot, pending)| {
            let found = Resource::new(|| (), move |_| wait_for(pending.clone()));
            let task = p.task.clone();
            let waiting = format!("Searching {snapshot}…");
            view! {
                <Suspense fallback=move || view! { <p class="muted">{waiting.clone()}</p> }>
                    {move || {
                        let (task, snapshot) = (task.clone(), snapshot.clone());
                        Suspend::new(async move {
                            match found.await {
                                Err(e) => error_line(e),
                                Ok(f) => view! { <Found task snapshot f/> }.into_any(),
                            }
                        })
                    }}
                </Suspense>
            }
        })
        .collect_view();
    view! {
        <p class="muted">{format!(
            "{} in the {} snapshot(s) of {}, newest first; each version once (at most {FIND_LIMIT}).",
            p.pattern, p.snapshots.len(), p.task
        )}</p>
        <div class="find-results">{sections}</div>
    }
    .into_any()
}

/// What one snapshot gave: the versions not in any newer snapshot.
#[component]
fn Found(task: String, snapshot: String, f: SnapshotFound) -> impl IntoView {
    if f.files.is_empty() {
        return f
            .stopped
            .then(|| view! { <p class="muted">{format!("{snapshot}: not searched (the result limit was reached).")}</p> })
            .into_any();
    }
    let rows = f
        .files
        .into_iter()
        .map(|file| {
            let q = format!(
                "task={}&snapshot={}&path={}",
                urlencode(&task),
                urlencode(&snapshot),
                urlencode_path(&file.key)
            );
            let versions = format!(
                "/snapshots/versions?task={}&path={}",
                urlencode(&task),
                urlencode_path(&file.key)
            );
            let modified = chrono::DateTime::from_timestamp(file.modified, 0)
                .map(utc)
                .unwrap_or_default();
            let which = if file.newest {
                "newest"
            } else {
                "older version"
            };
            view! {
                <tr>
                    <td><code>{file.path.clone()}</code></td>
                    <td>{which}</td>
                    <td>{human_bytes(file.size)}</td>
                    <td>{modified}</td>
                    <td>
                        <a href=format!("/snapshots/download?{q}") download="">"Download"</a> " · "
                        <a href=versions>"Versions"</a> " · "
                        <a href=format!("/snapshots/restore?{q}")>"Restore…"</a>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h2>{snapshot.clone()}</h2>
        <div class="table-scroll"><table class="list found">
            <thead><tr>
                <th scope="col">"File"</th><th scope="col">"Version"</th><th scope="col">"Size"</th>
                <th scope="col">"Modified"</th><th scope="col">"Get it"</th>
            </tr></thead>
            <tbody>{rows}</tbody>
        </table></div>
    }
    .into_any()
}
