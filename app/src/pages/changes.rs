//! What changed between two snapshots (`/snapshots/diff?task=&newer=&older=`; without `older`, the
//! snapshot before `newer`): the totals, the counts per folder, and the entries that differ —
//! filterable by kind of change with plain links. Files both snapshots hard-link are counted as
//! unchanged without being read (`engine::files::diff`). Rendered on the server only.

use super::parts::{error_line, loading, urlencode, urlencode_path};
use crate::api::snapshots::get_diff;
use engine::model::files::{Change, EntryKind, FolderChanges, SnapshotDiff};
use engine::model::units::human_bytes;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// `/snapshots/diff`
#[component]
pub fn Changes() -> impl IntoView {
    let query = use_query_map();
    let wanted = move || {
        query.with(|q| {
            (
                q.get("task").unwrap_or_default(),
                q.get("older").unwrap_or_default(),
                q.get("newer").unwrap_or_default(),
                q.get("show").unwrap_or_default(),
            )
        })
    };
    let diff = Resource::new(wanted, |(task, older, newer, _)| {
        get_diff(task, older, newer)
    });
    view! {
        <section class="page changes">
            <p class="crumbs"><a href="/snapshots">"Snapshots"</a></p>
            <Suspense fallback=loading>
                {move || Suspend::new(async move {
                    let (_, _, _, show) = wanted();
                    match diff.await {
                        Ok(d) => view! { <DiffView d show/> }.into_any(),
                        Err(e) => view! { <h1>"Changes"</h1> {error_line(e)} }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

fn counts(c: &FolderChanges) -> String {
    format!(
        "{} added, {} removed, {} changed, {} metadata only · {}",
        c.added,
        c.removed,
        c.changed,
        c.metadata,
        human_bytes(c.bytes)
    )
}

#[component]
fn DiffView(d: SnapshotDiff, show: String) -> impl IntoView {
    let base = format!(
        "/snapshots/diff?task={}&older={}&newer={}",
        urlencode(&d.task),
        urlencode(&d.older),
        urlencode(&d.newer)
    );
    let filters = [
        ("", "all"),
        ("added", "added"),
        ("removed", "removed"),
        ("changed", "changed"),
        ("metadata", "metadata only"),
    ]
    .into_iter()
    .map(|(key, label)| {
        let href = if key.is_empty() {
            base.clone()
        } else {
            format!("{base}&show={key}")
        };
        let current = (show == key).then_some("page");
        view! { <a class="button" href=href aria-current=current>{label}</a> " " }
    })
    .collect_view();
    let browse = |snapshot: &str, key: &str| {
        format!(
            "/snapshots/browse?task={}&snapshot={}&path={}",
            urlencode(&d.task),
            urlencode(snapshot),
            urlencode_path(key)
        )
    };
    let rows = d
        .entries
        .iter()
        .filter(|e| show.is_empty() || e.change.as_str() == show)
        .map(|e| {
            // Where the entry can be seen: the newer snapshot, or the older one for a removal.
            let in_snapshot = if e.change == Change::Removed { &d.older } else { &d.newer };
            let folder_key = e.key.rsplit_once('/').map(|(f, _)| f).unwrap_or("");
            let target = if e.kind == EntryKind::Folder { e.key.as_str() } else { folder_key };
            view! {
                <tr data-change=e.change.as_str()>
                    <td>{e.change.as_str()}</td>
                    <td><a href=browse(in_snapshot, target)>{e.path.clone()}{(e.kind == EntryKind::Folder).then_some("/")}</a></td>
                    <td>{if e.kind == EntryKind::Folder { String::new() } else { human_bytes(e.size) }}</td>
                </tr>
            }
        })
        .collect_view();
    let folders = d
        .folders
        .iter()
        .map(|f| view! { <li><code>{f.path.clone()}</code> ": " {counts(f)}</li> })
        .collect_view();
    view! {
        <h1>"Changes in " {d.task.clone()}</h1>
        <p>"From " <strong>{d.older.clone()}</strong> " to " <strong>{d.newer.clone()}</strong> ": "
           {counts(&d.total)} ". " {d.same_inode} " entries unchanged (the same file in both, not read)."</p>
        <nav class="filters" aria-label="Show">{filters}</nav>
        <div class="table-scroll"><table class="list diff-entries">
            <thead><tr><th scope="col">"Change"</th><th scope="col">"Path"</th><th scope="col">"Size"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table></div>
        {d.truncated.then(|| view! { <p class="muted">"Only the first 2 000 changes are listed; the counts cover all of them."</p> })}
        <h2>"Per folder"</h2>
        <ul class="folder-changes">{folders}</ul>
    }
}
