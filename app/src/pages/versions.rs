//! The versions of one file (`/snapshots/versions?task=&path=`): each distinct version across the
//! task's snapshots, oldest first — which snapshots hold it, its size and time — with a download and a
//! restore of each (`engine::files::versions`). Rendered on the server only.

use super::parts::{error_line, loading, urlencode, urlencode_path, utc};
use crate::api::snapshots::get_versions;
use engine::model::units::human_bytes;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// `/snapshots/versions`
#[component]
pub fn Versions() -> impl IntoView {
    let query = use_query_map();
    let wanted = move || {
        query.with(|q| {
            (
                q.get("task").unwrap_or_default(),
                q.get("path").unwrap_or_default(),
            )
        })
    };
    let versions = Resource::new(wanted, |(task, path)| get_versions(task, path));
    view! {
        <section class="page versions">
            <p class="crumbs"><a href="/snapshots">"Snapshots"</a></p>
            <Suspense fallback=loading>
                {move || Suspend::new(async move {
                    let (task, path) = wanted();
                    let shown = engine::model::files::display_key_path(&path);
                    match versions.await {
                        Err(e) => view! { <h1>"Versions"</h1> {error_line(e)} }.into_any(),
                        Ok(list) => {
                            let count = list.len();
                            let rows = list.into_iter().rev().map(|v| {
                                let download = format!(
                                    "/snapshots/download?task={}&snapshot={}&path={}",
                                    urlencode(&task), urlencode(&v.last), urlencode_path(&path)
                                );
                                let restore = format!(
                                    "/snapshots/restore?task={}&snapshot={}&path={}",
                                    urlencode(&task), urlencode(&v.last), urlencode_path(&path)
                                );
                                let modified = chrono::DateTime::from_timestamp(v.modified, 0).map(utc).unwrap_or_default();
                                view! {
                                    <tr>
                                        <td>{format!("{} … {}", v.first, v.last)}</td>
                                        <td>{v.snapshots}</td>
                                        <td>{human_bytes(v.size)}</td>
                                        <td>{modified}</td>
                                        <td><a href=download download="">"Download"</a> " · " <a href=restore>"Restore…"</a></td>
                                    </tr>
                                }
                            }).collect_view();
                            view! {
                                <h1>"Versions of " <code>{shown}</code></h1>
                                <p class="muted">{format!("{count} version(s) in the snapshots of {task}, newest first.")}</p>
                                <div class="table-scroll"><table class="list file-versions">
                                    <thead><tr>
                                        <th scope="col">"In snapshots"</th><th scope="col">"Snapshots"</th>
                                        <th scope="col">"Size"</th><th scope="col">"Modified"</th><th scope="col">"Get it"</th>
                                    </tr></thead>
                                    <tbody>{rows}</tbody>
                                </table></div>
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}
