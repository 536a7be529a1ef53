//! The restore form (`/snapshots/restore?task=&snapshot=&path=`): where the item goes — next to the
//! original (the path shown exactly) or into a folder of this server — and whether it may replace
//! what is there (the replaced files' folder named). It posts to `/runs/restore`, which starts the
//! restore as a run and opens its page: live progress and *Cancel* over the feed, like a backup. A
//! download of the same item is offered beside it. Rendered on the server only (a plain form).

use super::parts::{error_line, loading, urlencode, urlencode_path};
use crate::api::restore::{get_restore, RestorePreview};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// `/snapshots/restore`
#[component]
pub fn Restore() -> impl IntoView {
    let query = use_query_map();
    let wanted = move || {
        query.with(|q| {
            (
                q.get("task").unwrap_or_default(),
                q.get("snapshot").unwrap_or_default(),
                q.get("path").unwrap_or_default(),
            )
        })
    };
    let preview = Resource::new(wanted, |(task, snapshot, path)| {
        get_restore(task, snapshot, path)
    });
    view! {
        <section class="page restore">
            <p class="crumbs"><a href="/snapshots">"Snapshots"</a></p>
            <Suspense fallback=loading>
                {move || Suspend::new(async move {
                    match preview.await {
                        Ok(p) => view! { <RestoreForm p/> }.into_any(),
                        Err(e) => view! { <h1>"Restore"</h1> {error_line(e)} }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn RestoreForm(p: RestorePreview) -> impl IntoView {
    let what = if p.folder { "folder" } else { "file" };
    let query = format!(
        "task={}&snapshot={}&path={}",
        urlencode(&p.task),
        urlencode(&p.snapshot),
        urlencode_path(&p.key)
    );
    let download = if p.folder {
        view! {
            "Or download it: "
            <a href=format!("/snapshots/archive?{query}&format=zip") download="">"zip"</a> " · "
            <a href=format!("/snapshots/archive?{query}&format=tar.gz") download="">"tar.gz"</a>
        }
        .into_any()
    } else {
        view! { "Or " <a href=format!("/snapshots/download?{query}") download="">"download it"</a> "." }
            .into_any()
    };
    view! {
        <h1>"Restore " <code>{p.shown.clone()}</code></h1>
        <p class="muted">{format!("The {what} as it was in snapshot {} of {}.", p.snapshot, p.task)}</p>
        {p.notice.map(|n| view! { <p class="form-error" role="alert">"Not started: " {n}</p> })}
        <form method="post" action="/runs/restore" class="restore-form">
            <input type="hidden" name="task" value=p.task.clone()/>
            <input type="hidden" name="snapshot" value=p.snapshot.clone()/>
            <input type="hidden" name="path" value=p.key.clone()/>
            <fieldset>
                <legend>"Where to"</legend>
                <label>
                    <input type="radio" name="place" value="original" checked/>
                    " Next to the original, as " <code>{p.next_to.clone()}</code>
                </label>
                <label>
                    <input type="radio" name="place" value="folder"/>
                    " Into this folder on the Mnemosynce server: "
                    <input type="text" name="to" placeholder="/srv/restored" aria-label="Folder to restore into"/>
                </label>
            </fieldset>
            <label>
                <input type="checkbox" name="replace"/>
                " Replace what is there (onto " <code>{p.original.clone()}</code>
                " or into the folder above); every file it replaces is kept in "
                <code>{p.kept_aside.clone()}</code> ", never deleted"
            </label>
            <p class="muted">"Owner, mode, times and attributes come back as they were saved. Nothing that exists is overwritten unless you tick replace."</p>
            <button type="submit">"Restore"</button>
        </form>
        <p>{download}</p>
    }
}
