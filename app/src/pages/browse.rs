//! The snapshot browser (`/snapshots/browse?task=&snapshot=&path=`): one folder of a snapshot, with a
//! breadcrumb, folders first, name / size / modified / mode, sortable, 200 entries a page (a folder
//! of 100 000 entries is never sent whole). Folders link deeper, files download
//! (`/snapshots/download`, always as an attachment: nothing from a backup is rendered in the app's
//! origin), symbolic links show their target and lead nowhere. Names are shown escaped
//! (`engine::model::files::display_name`) and addressed by their keys, so every file is reachable
//! whatever bytes its name holds. The folder on show downloads as one zip or tar.gz
//! (`/snapshots/archive`). Rendered on the server only: plain links, no JavaScript needed.

use super::parts::{error_line, loading, urlencode, urlencode_path, utc};
use crate::api::snapshots::{get_folder, FolderQuery, FOLDER_PAGE};
use engine::model::files::{mode_text, EntryKind, FileEntry, FolderListing};
use engine::model::units::human_bytes;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The address of the browser at another folder (key), order or page of `w`'s snapshot.
fn href(w: &FolderQuery, path: &str, sort: &str, descending: bool, page: usize) -> String {
    format!(
        "/snapshots/browse?task={}&snapshot={}&path={}&sort={}&desc={}&page={page}",
        urlencode(&w.task),
        urlencode(&w.snapshot),
        urlencode_path(path),
        urlencode(sort),
        u8::from(descending)
    )
}

/// The download address of the file with key `path` of `w`'s snapshot.
fn download(w: &FolderQuery, path: &str) -> String {
    format!(
        "/snapshots/download?task={}&snapshot={}&path={}",
        urlencode(&w.task),
        urlencode(&w.snapshot),
        urlencode_path(path)
    )
}

/// The address of folder `path` (key) of `w`'s snapshot as one archive of `format`.
fn archive(w: &FolderQuery, path: &str, format: &str) -> String {
    format!(
        "/snapshots/archive?task={}&snapshot={}&path={}&format={format}",
        urlencode(&w.task),
        urlencode(&w.snapshot),
        urlencode_path(path)
    )
}

/// The restore form of the item with key `path` of `w`'s snapshot.
fn restore(w: &FolderQuery, path: &str) -> String {
    format!(
        "/snapshots/restore?task={}&snapshot={}&path={}",
        urlencode(&w.task),
        urlencode(&w.snapshot),
        urlencode_path(path)
    )
}

/// `/snapshots/browse`
#[component]
pub fn Browse() -> impl IntoView {
    let query = use_query_map();
    let wanted = move || {
        query.with(|q| FolderQuery {
            task: q.get("task").unwrap_or_default(),
            snapshot: q.get("snapshot").unwrap_or_default(),
            path: q.get("path").unwrap_or_default(),
            sort: q.get("sort").unwrap_or_else(|| "name".into()),
            descending: q.get("desc").is_some_and(|d| d == "1"),
            page: q.get("page").and_then(|p| p.parse().ok()).unwrap_or(0),
        })
    };
    let listing = Resource::new(wanted, get_folder);
    view! {
        <section class="page browse">
            <Suspense fallback=loading>
                {move || Suspend::new(async move {
                    let w = wanted();
                    match listing.await {
                        Ok(l) => view! { <Folder l w/> }.into_any(),
                        Err(e) => view! {
                            <p class="crumbs"><a href="/snapshots">"Snapshots"</a></p>
                            <h1>{w.snapshot.clone()}</h1>
                            {error_line(e)}
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Folder(l: FolderListing, w: FolderQuery) -> impl IntoView {
    // The breadcrumb: each folder on the way, by its shown name and its key.
    let mut crumbs = vec![view! { <a href="/snapshots">"Snapshots"</a> }.into_any()];
    crumbs.push(view! { <span>{l.task.clone()}</span> }.into_any());
    crumbs.push(
        view! { <a href=href(&w, "", &w.sort, w.descending, 0)>{l.snapshot.clone()}</a> }
            .into_any(),
    );
    let shown: Vec<&str> = l.path.split('/').filter(|p| !p.is_empty()).collect();
    let keys: Vec<&str> = l.key.split('/').filter(|p| !p.is_empty()).collect();
    for (i, name) in shown.iter().enumerate() {
        let key = keys.get(..=i).map(|k| k.join("/")).unwrap_or_default();
        crumbs.push(
            view! { <a href=href(&w, &key, &w.sort, w.descending, 0)>{name.to_string()}</a> }
                .into_any(),
        );
    }
    let crumbs = crumbs
        .into_iter()
        .enumerate()
        .map(|(i, c)| view! { {(i > 0).then_some(" / ")} {c} })
        .collect_view();

    let header = |label: &'static str, sort: &'static str| {
        // Clicking the column sorted by turns its order round.
        let desc = w.sort == sort && !w.descending;
        let mark = (w.sort == sort).then_some(if w.descending { " ▼" } else { " ▲" });
        let aria = match (w.sort == sort, w.descending) {
            (true, false) => "ascending",
            (true, true) => "descending",
            _ => "none",
        };
        view! {
            <th scope="col" aria-sort=aria><a href=href(&w, &l.key, sort, desc, 0)>{label}{mark}</a></th>
        }
    };
    let first = l.offset + 1;
    let last = l.offset + l.entries.len();
    let previous = (w.page > 0)
        .then(|| view! { <a class="button" href=href(&w, &l.key, &w.sort, w.descending, w.page - 1)>"Previous"</a> });
    let next = (last < l.total)
        .then(|| view! { <a class="button" href=href(&w, &l.key, &w.sort, w.descending, w.page + 1)>"Next"</a> });
    let count = if l.total == 0 {
        "This folder is empty.".to_string()
    } else if l.total <= FOLDER_PAGE {
        format!("{} entries", l.total)
    } else {
        format!("entries {first}–{last} of {}", l.total)
    };
    let rows = l
        .entries
        .iter()
        .map(|e| entry_row(e, &l.key, &w))
        .collect_view();
    view! {
        <p class="crumbs">{crumbs}</p>
        <h1>{if l.path == "/" { l.snapshot.clone() } else { shown.last().map(|s| s.to_string()).unwrap_or_default() }}</h1>
        <p class="muted">{count}</p>
        <p class="actions">
            "Download this folder as " <a class="button" href=archive(&w, &l.key, "zip") download="">"zip"</a>
            " " <a class="button" href=archive(&w, &l.key, "tar.gz") download="">"tar.gz"</a>
            " " <a class="button" href=restore(&w, &l.key)>"Restore this folder…"</a>
        </p>
        <div class="table-scroll"><table class="list files">
            <thead>
                <tr>
                    {header("Name", "name")}
                    {header("Size", "size")}
                    {header("Modified", "modified")}
                    <th scope="col">"Mode"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table></div>
        <nav class="pager" aria-label="Pages">{previous} {next}</nav>
    }
}

/// One entry: a folder links deeper, a file downloads, a link shows its target.
fn entry_row(e: &FileEntry, folder: &str, w: &FolderQuery) -> impl IntoView {
    let key = if folder.is_empty() {
        e.key.clone()
    } else {
        format!("{folder}/{}", e.key)
    };
    let name = match e.kind {
        EntryKind::Folder => {
            view! {
                <a href=href(w, &key, &w.sort, w.descending, 0)>"📁 " {e.name.clone()} "/"</a>
                " " <a class="muted" href=restore(w, &key)>"restore"</a>
            }
            .into_any()
        }
        EntryKind::File => view! {
            <a href=download(w, &key) download="">{e.name.clone()}</a>
            " " <a class="muted" href=format!("/snapshots/versions?task={}&path={}", urlencode(&w.task), urlencode_path(&key))>"versions"</a>
            " " <a class="muted" href=restore(w, &key)>"restore"</a>
        }
        .into_any(),
        EntryKind::Symlink => view! {
            <span>"🔗 " {e.name.clone()} " → " <code>{e.target.clone().unwrap_or_default()}</code></span>
        }
        .into_any(),
        EntryKind::Other => view! { <span>{e.name.clone()} " (special file)"</span> }.into_any(),
    };
    let size = match e.kind {
        EntryKind::Folder => String::new(),
        _ => human_bytes(e.size),
    };
    let modified = chrono::DateTime::from_timestamp(e.modified, 0)
        .map(utc)
        .unwrap_or_default();
    view! {
        <tr data-kind=match e.kind {
            EntryKind::Folder => "folder",
            EntryKind::File => "file",
            EntryKind::Symlink => "symlink",
            EntryKind::Other => "other",
        }>
            <td>{name}</td>
            <td>{size}</td>
            <td>{modified}</td>
            <td><code>{mode_text(e.mode)}</code></td>
        </tr>
    }
}
