//! The Snapshots page (`/snapshots`): every task's snapshots, newest first, with their time and age,
//! whether they are complete, their files, size and unique size (what deleting one alone frees), what retention keeps each for (or that the next run prunes it) and its
//! pin, under a chart of each task's unique size and file count over time (`size_chart.rs`); *Pin* and *Unpin* are plain forms (they work without JavaScript: the server sends the browser
//! back here). Each snapshot links to its browser (`browse.rs`). Rendered on the server only; an
//! empty island refreshes it in place when a run ends (its new snapshot, what was pruned).

use super::parts::{ago, error_line, loading, urlencode};
use super::size_chart::{Point, SizeChart};
use crate::api::snapshots::{get_snapshots, SnapshotRow, TaskSnapshots};
use crate::feed::RefreshWhenRunEnds;
use engine::model::snapshot::Completeness;
use engine::model::units::human_bytes;
use leptos::prelude::*;

/// `/snapshots`
#[component]
pub fn Snapshots() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_snapshots());
    view! {
        <section class="page">
            <h1>"Snapshots"</h1>
            <RefreshWhenRunEnds rendered_running=None/>
            <p class="muted">"Every snapshot is a plain folder of the store: open one to browse it and download its files. "
                <a href="/snapshots/find">"Find a file by name across the snapshots"</a></p>
            <Suspense fallback=loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => error_line(e),
                        Ok(p) if p.config_error.is_some() => view! {
                            <p class="form-error" role="alert">
                                {p.config_error.clone()} " " <a href="/settings/config">"Open the configuration"</a>
                            </p>
                        }.into_any(),
                        Ok(p) if p.tasks.is_empty() => view! {
                            <p class="empty">"No tasks yet. " <a href="/settings/config">"Open the configuration"</a></p>
                        }.into_any(),
                        Ok(p) => p.tasks
                            .into_iter()
                            .map(|t| view! { <TaskTable t now=p.now/> })
                            .collect_view()
                            .into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// One task's snapshots.
#[component]
fn TaskTable(t: TaskSnapshots, now: chrono::DateTime<chrono::Utc>) -> impl IntoView {
    let body = if let Some(p) = t.problem.clone() {
        view! { <p class="form-error" role="alert">{p}</p> }.into_any()
    } else if t.snapshots.is_empty() {
        view! { <p class="empty">"No snapshots yet."</p> }.into_any()
    } else {
        let task = t.task.clone();
        let count = t.snapshots.len();
        let points: Vec<Point> = t
            .snapshots
            .iter()
            .filter_map(|row| {
                let size = row.info.sizes?;
                let taken = chrono::DateTime::parse_from_rfc3339(&row.info.time).ok()?;
                Some(Point {
                    at: taken.timestamp(),
                    label: taken.format("%Y-%m-%d %H:%M").to_string(),
                    size,
                })
            })
            .collect();
        // Newest first: every snapshot but the last (the oldest) has one before it to compare with.
        let rows = t
            .snapshots
            .into_iter()
            .enumerate()
            .map(|(i, row)| {
                let has_older = i + 1 < count;
                view! { <SnapshotLine task=task.clone() row now has_older/> }
            })
            .collect_view();
        view! {
            <SizeChart task=task.clone() points/>
            <div class="table-scroll"><table class="list snapshots">
                <thead>
                    <tr>
                        <th scope="col">"Snapshot"</th>
                        <th scope="col">"Taken"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Files"</th>
                        <th scope="col">"Size"</th>
                        <th scope="col"><abbr title="What deleting this snapshot alone would free">"Unique"</abbr></th>
                        <th scope="col">"Retention"</th>
                        <th scope="col">"Pin"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table></div>
        }
        .into_any()
    };
    view! {
        <section class="task-snapshots" data-task=t.task.clone()>
            <h2>{t.task.clone()}</h2>
            {body}
        </section>
    }
}

#[component]
fn SnapshotLine(
    task: String,
    row: SnapshotRow,
    now: chrono::DateTime<chrono::Utc>,
    has_older: bool,
) -> impl IntoView {
    let info = row.info;
    let name = info.name.to_string();
    let taken = chrono::DateTime::parse_from_rfc3339(&info.time).ok();
    let when = taken
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| info.time.clone());
    let age = taken
        .map(|t| ago(now, t.with_timezone(&chrono::Utc)))
        .unwrap_or_default();
    let status = match info.status {
        Completeness::Complete => "complete",
        Completeness::Partial => "partial: some files could not be read (see the run's log)",
    };
    // Measured after the run that made it; older snapshots once `snapshots --recount` ran.
    let (files, total, unique) = match info.sizes {
        Some(z) => (
            z.files.to_string(),
            human_bytes(z.total),
            human_bytes(z.unique),
        ),
        None => ("—".to_string(), "—".to_string(), "—".to_string()),
    };
    let retention = match (&row.kept_for, info.managed) {
        (_, false) => "kept: not adopted (`mnemosynce adopt` hands it to retention)".to_string(),
        (Some(why), true) => format!("kept: {why}"),
        (None, true) => "pruned at the next run".to_string(),
    };
    let browse = format!(
        "/snapshots/browse?task={}&snapshot={}",
        urlencode(&task),
        urlencode(&name)
    );
    let changes = format!(
        "/snapshots/diff?task={}&newer={}",
        urlencode(&task),
        urlencode(&name)
    );
    let pin = if info.pinned {
        view! {
            <span class="pinned">"📌 pinned" {info.pin_note.clone().map(|n| format!(": {n}"))}</span>
            <form method="post" action="/api/set_pin" class="inline">
                <input type="hidden" name="task" value=task.clone()/>
                <input type="hidden" name="snapshot" value=name.clone()/>
                <input type="hidden" name="pin" value="false"/>
                <button type="submit">"Unpin"</button>
            </form>
        }
        .into_any()
    } else {
        let label = format!("Why pin {name}? (optional)");
        view! {
            <form method="post" action="/api/set_pin" class="inline pin-form">
                <input type="hidden" name="task" value=task.clone()/>
                <input type="hidden" name="snapshot" value=name.clone()/>
                <input type="hidden" name="pin" value="true"/>
                <input name="note" placeholder="note (optional)" aria-label=label autocomplete="off"/>
                <button type="submit">"Pin"</button>
            </form>
        }
        .into_any()
    };
    view! {
        <tr data-snapshot=name.clone()>
            <td>
                <a href=browse>{name.clone()}</a>
                {has_older.then(|| view! { " " <a class="muted" href=changes>"changes"</a> })}
            </td>
            <td>{when} " " <span class="muted">{age}</span></td>
            <td>{status}</td>
            <td>{files}</td>
            <td>{total}</td>
            <td>{unique}</td>
            <td>{retention}</td>
            <td>{pin}</td>
        </tr>
    }
}
