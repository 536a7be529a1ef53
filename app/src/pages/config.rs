//! The configuration page (`/settings/config`, and the wizard's first step): the editor.
//!
//! A textarea beside a line gutter: no editor library to ship or keep up to date, it works with a
//! phone's keyboard and the browser's own undo, and the gutter marks the lines with problems. YAML
//! colours come from a `<pre>` under the textarea (whose own text turns transparent once the page is
//! hydrated), filled by [`super::yaml::yaml_html`]. The textarea grows with the text, so the page
//! scrolls gutter and text together. "Check" shows every problem and the change against the file;
//! "Save" is offered once the text has been checked without errors, and the server validates again
//! (and refuses a file changed since the editor opened it) before writing.

use super::panel::Loaded;
use super::parts::{error_line, ErrorLine};
use super::settings::bump_setup;
use super::yaml::{escape_into, yaml_html};
use crate::api::config::*;
use crate::api::ApiError;
use engine::model::diff::{DiffKind, DiffLine};
use leptos::prelude::*;

/// The configuration editor: the file (or the template) as the server read it, check, diff, save.
#[component]
pub fn ConfigEditor(file: Loaded<ConfigFile>) -> impl IntoView {
    match file {
        Ok(f) => view! { <EditorBody f/> }.into_any(),
        Err(e) => error_line(e),
    }
}

#[component]
fn EditorBody(f: ConfigFile) -> impl IntoView {
    let text = RwSignal::new(f.text.clone());
    let problems = RwSignal::new(f.problems.clone());
    // The text the last check was for, and its diff: Save is offered for exactly that text.
    let checked = RwSignal::new(None::<(String, Vec<DiffLine>)>);
    let note = RwSignal::new(if f.exists {
        None
    } else {
        Some("There is no configuration yet: this is a commented template. Change the paths and tasks, then check and save.".to_string())
    });
    // Why the last check or save did not happen (the session ended, the file changed meanwhile).
    let failed = RwSignal::new(None::<(ApiError, &'static str)>);
    // The version of the file the editor holds: a save over a file changed since then is refused.
    let version = RwSignal::new(f.version.clone());
    let check = Action::new(|t: &String| check_config(t.clone()));
    let save = Action::new(|(t, v): &(String, String)| save_config(t.clone(), v.clone()));

    Effect::new(move |_| {
        if let Some(r) = check.value().get() {
            failed.set(None);
            match r {
                Ok(c) => {
                    let errors = c.errors();
                    problems.set(c.problems.clone());
                    note.set(Some(if errors > 0 {
                        format!("{errors} error(s): fix the marked lines; nothing was saved.")
                    } else if c.diff.is_empty() {
                        "No errors, and no change against the file.".into()
                    } else {
                        "No errors. Review the change below, then save it.".into()
                    }));
                    checked.set(
                        (errors == 0 && !c.diff.is_empty()).then(|| (text.get_untracked(), c.diff)),
                    );
                }
                Err(e) => {
                    note.set(None);
                    failed.set(Some((e, "")));
                }
            }
        }
    });
    Effect::new(move |_| {
        if let Some(r) = save.value().get() {
            failed.set(None);
            match r {
                Ok(c) if c.saved => {
                    version.set(c.version);
                    problems.set(c.problems);
                    checked.set(None);
                    note.set(Some("Saved. The next run uses it; the file it replaced is kept as backup_config.yml.prev.".into()));
                    bump_setup();
                }
                Ok(c) => {
                    let errors = c.errors();
                    problems.set(c.problems);
                    checked.set(None);
                    note.set(Some(format!("Not saved: {errors} error(s).")));
                }
                Err(e) => {
                    note.set(None);
                    failed.set(Some((e, "Not saved: ")));
                }
            }
        }
    });

    let line_count = move || text.with(|t| t.split('\n').count());
    // The gutter and the colours are HTML strings (see `yaml.rs`: one node each to hydrate).
    let gutter = move || {
        let marks = problems.get();
        let mut html = String::new();
        for n in 1..=line_count() {
            let here: Vec<&ConfigProblem> = marks.iter().filter(|p| p.line == n).collect();
            let mark = if here.iter().any(|p| p.error) {
                "error"
            } else if !here.is_empty() {
                "warning"
            } else {
                ""
            };
            let title = here
                .iter()
                .map(|p| p.message.clone())
                .collect::<Vec<_>>()
                .join("\n");
            html.push_str("<span data-mark=\"");
            html.push_str(mark);
            html.push_str("\" title=\"");
            escape_into(&mut html, &title);
            html.push_str(&format!("\">{n}</span>"));
        }
        html
    };
    let stale =
        move || checked.with(|c| c.as_ref().is_some_and(|(t, _)| text.with(|now| now != t)));
    // Colours come with hydration: until then (and without JavaScript) the textarea shows its own
    // text, so nothing typed is ever invisible.
    let coloured = RwSignal::new(false);
    Effect::new(move |_| coloured.set(true));
    let highlighted = move || text.with(|t| yaml_html(t));

    view! {
        <p class="muted">"File: " <code>{f.path.clone()}</code></p>
        <div class="editor" class:coloured=move || coloured.get()>
            <div class="gutter" aria-hidden="true" inner_html=gutter></div>
            <div class="code">
                <pre class="highlight" aria-hidden="true" inner_html=highlighted></pre>
                <textarea
                    id="config-text"
                    aria-label="backup_config.yml"
                    spellcheck="false"
                    autocapitalize="off"
                    wrap="off"
                    rows=move || line_count() + 1
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                >
                    {f.text.clone()}
                </textarea>
            </div>
        </div>
        <div class="actions">
            <button type="button" on:click=move |_| { check.dispatch(text.get_untracked()); }>
                "Check"
            </button>
            <Show when=move || checked.with(|c| c.is_some()) && !stale()>
                <button type="button" class="primary" on:click=move |_| {
                    if let Some((t, _)) = checked.get_untracked() { save.dispatch((t, version.get_untracked())); }
                }>"Save"</button>
            </Show>
            {move || (check.pending().get() || save.pending().get()).then(|| view! { <span class="muted">"Working…"</span> })}
        </div>
        {move || note.get().map(|n| view! { <p class="form-note" role="status">{n}</p> })}
        {move || failed.get().map(|(error, prefix)| view! { <ErrorLine error prefix/> })}
        <ProblemList problems/>
        <Show when=move || checked.with(|c| c.is_some()) && !stale()>
            <h2>"Change"</h2>
            <DiffView lines=Signal::derive(move || checked.get().map(|(_, d)| d).unwrap_or_default())/>
        </Show>
    }
}

#[component]
fn ProblemList(problems: RwSignal<Vec<ConfigProblem>>) -> impl IntoView {
    move || {
        let list = problems.get();
        (!list.is_empty()).then(|| {
            let items = list
                .into_iter()
                .map(|p| {
                    let kind = if p.error { "error" } else { "warning" };
                    view! {
                        <li data-kind=kind>
                            <strong>{format!("line {}, column {}", p.line, p.column)}</strong>
                            {if p.error { ": " } else { ": warning: " }}
                            {p.message}
                        </li>
                    }
                })
                .collect_view();
            view! { <ul class="problems" aria-label="Problems">{items}</ul> }
        })
    }
}

#[component]
fn DiffView(lines: Signal<Vec<DiffLine>>) -> impl IntoView {
    view! {
        <pre class="diff" aria-label="Change against the file">
            {move || lines.get().into_iter().map(|l| {
                let (kind, sign) = match l.kind {
                    DiffKind::Added => ("added", "+"),
                    DiffKind::Removed => ("removed", "-"),
                    DiffKind::Same => ("same", " "),
                };
                let no = l.new_line.or(l.old_line).map(|n| n.to_string()).unwrap_or_default();
                view! { <span data-kind=kind><i>{no}</i>{sign} {l.text}"\n"</span> }
            }).collect_view()}
        </pre>
    }
}
