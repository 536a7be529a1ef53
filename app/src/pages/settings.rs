//! The settings pages and the panels the setup wizard reuses: configuration editor, SSH keys,
//! connections (SSH endpoints and the test email) and schedule. Every decision (validation, saving,
//! key handling, host trust, cron meaning) is the engine's; these components only show it. The
//! retention and email pages are `retention.rs` and `email.rs`.
//!
//! The configuration editor is a textarea beside a line gutter: no editor library to ship or keep
//! up to date, it works with a phone's keyboard and the browser's own undo, and the gutter marks the
//! lines with problems. YAML colours come from a `<pre>` under the textarea (whose own text turns
//! transparent once the page is hydrated), filled by a small line tokenizer ([`yaml_spans`]). The
//! textarea grows with the text, so the page scrolls gutter and text together. "Check" shows every
//! problem and the change against the file; "Save" is offered once the text has been checked
//! without errors, and the server validates again before writing.

use super::parts::clean_error;
use crate::api::settings::*;
use engine::model::connection::{CheckStep, Verdict};
use engine::model::diff::{DiffKind, DiffLine};
use leptos::prelude::*;

/// Bumped after anything that can change the setup's readiness (the wizard refetches on it).
#[derive(Clone, Copy)]
pub struct SetupChanged(pub RwSignal<u32>);

fn bump_setup() {
    if let Some(SetupChanged(v)) = use_context::<SetupChanged>() {
        v.update(|n| *n += 1);
    }
}

fn error_line(e: ServerFnError) -> AnyView {
    view! { <p class="form-error" role="alert">{clean_error(&e.to_string())}</p> }.into_any()
}

fn loading() -> impl IntoView {
    view! { <p class="muted">"Loading…"</p> }
}

/// The settings overview.
#[component]
pub fn Settings() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Settings"</h1>
            <ul class="settings-links">
                <li><a href="/settings/config">"Configuration"</a><span class="muted">" backup_config.yml: tasks, store, mirror, retention, email"</span></li>
                <li><a href="/settings/keys">"SSH keys"</a><span class="muted">" key pairs this server logs in with"</span></li>
                <li><a href="/settings/connections">"Connections"</a><span class="muted">" test SSH endpoints and email, trust host keys"</span></li>
                <li><a href="/settings/schedule">"Schedule"</a><span class="muted">" when backups run"</span></li>
                <li><a href="/settings/retention">"Retention"</a><span class="muted">" which snapshots are kept, with a preview before saving"</span></li>
                <li><a href="/settings/email">"Email"</a><span class="muted">" report addresses, SMTP server and password, test email"</span></li>
                <li><a href="/settings/password">"Password"</a><span class="muted">" change the admin password, sign out every other browser"</span></li>
                <li><a href="/welcome">"Setup wizard"</a><span class="muted">" the first-time steps, with what is still missing"</span></li>
            </ul>
        </section>
    }
}

/// A page around one panel, with a way back to the overview.
#[component]
fn SettingsPage(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <section class="page">
            <p class="crumbs"><a href="/settings">"Settings"</a> " / " {title}</p>
            <h1>{title}</h1>
            {children()}
        </section>
    }
}

#[component]
pub fn ConfigPage() -> impl IntoView {
    view! { <SettingsPage title="Configuration"><ConfigEditor/></SettingsPage> }
}

#[component]
pub fn KeysPage() -> impl IntoView {
    view! { <SettingsPage title="SSH keys"><KeysPanel/></SettingsPage> }
}

#[component]
pub fn ConnectionsPage() -> impl IntoView {
    view! { <SettingsPage title="Connections"><ConnectionsPanel/></SettingsPage> }
}

#[component]
pub fn SchedulePage() -> impl IntoView {
    view! { <SettingsPage title="Schedule"><SchedulePanel/></SettingsPage> }
}

// ---------------------------------------------------------------------------------------------------
// Configuration editor
// ---------------------------------------------------------------------------------------------------

/// The configuration editor: the file (or the template), check, diff, save.
#[component]
pub fn ConfigEditor() -> impl IntoView {
    let file = Resource::new(|| (), |_| get_config());
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match file.await {
                    Ok(f) => view! { <EditorBody f/> }.into_any(),
                    Err(e) => error_line(e),
                }
            })}
        </Suspense>
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
    // The version of the file the editor holds: a save over a file changed since then is refused.
    let version = RwSignal::new(f.version.clone());
    let check = Action::new(|t: &String| check_config(t.clone()));
    let save = Action::new(|(t, v): &(String, String)| save_config(t.clone(), v.clone()));

    Effect::new(move |_| {
        if let Some(r) = check.value().get() {
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
                Err(e) => note.set(Some(clean_error(&e.to_string()))),
            }
        }
    });
    Effect::new(move |_| {
        if let Some(r) = save.value().get() {
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
                Err(e) => note.set(Some(format!("Not saved: {}", clean_error(&e.to_string())))),
            }
        }
    });

    let line_count = move || text.with(|t| t.split('\n').count());
    let gutter = move || {
        let marks = problems.get();
        (1..=line_count())
            .map(|n| {
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
                view! { <span data-mark=mark title=title>{n}</span> }
            })
            .collect_view()
    };
    let stale =
        move || checked.with(|c| c.as_ref().is_some_and(|(t, _)| text.with(|now| now != t)));
    // Colours come with hydration: until then (and without JavaScript) the textarea shows its own
    // text, so nothing typed is ever invisible.
    let coloured = RwSignal::new(false);
    Effect::new(move |_| coloured.set(true));
    let highlighted = move || {
        text.with(|t| {
            t.split('\n')
                .map(|line| {
                    let spans = yaml_spans(line)
                        .into_iter()
                        .map(|(class, piece)| view! { <span class=class>{piece}</span> })
                        .collect_view();
                    view! { {spans} "\n" }
                })
                .collect_view()
        })
    };

    view! {
        <p class="muted">"File: " <code>{f.path.clone()}</code></p>
        <div class="editor" class:coloured=move || coloured.get()>
            <div class="gutter" aria-hidden="true">{gutter}</div>
            <div class="code">
                <pre class="highlight" aria-hidden="true">{highlighted}</pre>
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
        <ProblemList problems/>
        <Show when=move || checked.with(|c| c.is_some()) && !stale()>
            <h2>"Change"</h2>
            <DiffView lines=Signal::derive(move || checked.get().map(|(_, d)| d).unwrap_or_default())/>
        </Show>
    }
}

/// Splits one line of YAML into `(class, text)` pieces for the editor's colours: comments, keys, list
/// dashes, quoted strings, the rest. Display only (the engine validates): a light tokenizer that
/// colours what a reader sees, never a second YAML parser.
pub fn yaml_spans(line: &str) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    let trimmed = line.trim_start();
    let indent = &line[..line.len() - trimmed.len()];
    if !indent.is_empty() {
        out.push(("", indent.to_string()));
    }
    let mut rest = trimmed;
    if rest.starts_with('#') {
        out.push(("comment", rest.to_string()));
        return out;
    }
    while let Some(after) = rest.strip_prefix("- ") {
        out.push(("punct", "- ".into()));
        rest = after;
    }
    // A key: text up to the first `: ` (or a final `:`), not starting with a quote, bracket or `#`.
    if !rest.starts_with(['"', '\'', '{', '[', '#']) {
        let colon = rest
            .char_indices()
            .find(|&(i, c)| {
                c == ':' && rest[i + 1..].chars().next().is_none_or(char::is_whitespace)
            })
            .map(|(i, _)| i);
        if let Some(i) = colon.filter(|&i| !rest[..i].contains(" #")) {
            out.push(("key", rest[..i].to_string()));
            out.push(("punct", ":".into()));
            rest = &rest[i + 1..];
        }
    }
    // The value: quoted strings, a comment after whitespace, the rest plain.
    let mut plain = String::new();
    let mut chars = rest.char_indices().peekable();
    let mut prev_space = true;
    while let Some((i, c)) = chars.next() {
        if c == '#' && prev_space {
            if !plain.is_empty() {
                out.push(("", std::mem::take(&mut plain)));
            }
            out.push(("comment", rest[i..].to_string()));
            return out;
        }
        if (c == '"' || c == '\'') && prev_space {
            if !plain.is_empty() {
                out.push(("", std::mem::take(&mut plain)));
            }
            let mut end = rest.len();
            let mut escaped = false;
            for (j, d) in rest[i + 1..].char_indices() {
                if c == '"' && d == '\\' && !escaped {
                    escaped = true;
                    continue;
                }
                if d == c && !escaped {
                    end = i + 1 + j + 1;
                    break;
                }
                escaped = false;
            }
            out.push(("string", rest[i..end].to_string()));
            while chars.peek().is_some_and(|&(j, _)| j < end) {
                chars.next();
            }
            prev_space = false;
            continue;
        }
        prev_space = c.is_whitespace() || c == '[' || c == '{' || c == ',';
        plain.push(c);
    }
    if !plain.is_empty() {
        out.push(("", plain));
    }
    out
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

// ---------------------------------------------------------------------------------------------------
// SSH keys
// ---------------------------------------------------------------------------------------------------

/// List, generate, delete and copy the app's key pairs.
#[component]
pub fn KeysPanel() -> impl IntoView {
    let generate = ServerAction::<GenerateKey>::new();
    let delete = ServerAction::<DeleteKey>::new();
    let keys = Resource::new(
        move || (generate.version().get(), delete.version().get()),
        |_| get_keys(),
    );
    Effect::new(move |_| {
        if matches!(generate.value().get(), Some(Ok(_)))
            || matches!(delete.value().get(), Some(Ok(_)))
        {
            bump_setup();
        }
    });
    view! {
        <p>"The server logs in to SSH sources and the mirror with these keys. Add a key's line to "
           <code>"~/.ssh/authorized_keys"</code> " of the account on the other machine."</p>
        <ActionForm action=generate attr:class="stack key-form">
            <label for="key-name">"Name"</label>
            <input id="key-name" name="name" required pattern="[A-Za-z0-9_-]{1,64}" placeholder="nas" autocomplete="off"/>
            <label for="key-comment">"Comment " <span class="muted">"(optional)"</span></label>
            <input id="key-comment" name="comment" placeholder="mnemosynce@homeserver" autocomplete="off"/>
            <button type="submit" class="primary">"Generate key"</button>
        </ActionForm>
        {move || generate.value().get().and_then(|r| r.err()).map(error_line)}
        {move || delete.value().get().and_then(|r| r.err()).map(error_line)}
        <Transition fallback=loading>
            {move || Suspend::new(async move {
                match keys.await {
                    Err(e) => error_line(e),
                    Ok(list) if list.is_empty() => view! {
                        <p class="empty">"No keys yet. Generate one above."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <ul class="keys">
                            {list.into_iter().map(|k| view! { <KeyItem k delete/> }).collect_view()}
                        </ul>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn KeyItem(k: KeyView, delete: ServerAction<DeleteKey>) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let copied = RwSignal::new(None::<&'static str>);
    let line = k.public_line.clone();
    let command = k.install_command();
    let name = k.name.clone();
    let line_for_copy = line.clone();
    let cmd_for_copy = command.clone();
    view! {
        <li class="key card" data-key=k.name.clone()>
            <h3>{k.name.clone()}</h3>
            <p class="muted">{k.algorithm.clone()} " " <code>{k.fingerprint.clone()}</code> " " {k.comment.clone()}</p>
            {k.problem.clone().map(|p| view! { <p class="form-error">{p}</p> })}
            <label>"Line for authorized_keys"
                <input class="copyable" readonly value=line.clone() on:focus=select_all/>
            </label>
            <label>"Or run this on the other machine, as the account the backup uses"
                <input class="copyable" readonly value=command.clone() on:focus=select_all/>
            </label>
            <div class="actions">
                <button type="button" on:click=move |_| copied.set(Some(copy_text(&line_for_copy)))>"Copy line"</button>
                <button type="button" on:click=move |_| copied.set(Some(copy_text(&cmd_for_copy)))>"Copy command"</button>
                <Show when=move || !confirming.get()>
                    <button type="button" class="danger" on:click=move |_| confirming.set(true)>"Delete…"</button>
                </Show>
                {move || copied.get().map(|c| view! { <span class="muted" role="status">{c}</span> })}
            </div>
            <Show when=move || confirming.get()>
                {
                    let name = name.clone();
                    view! {
                        <div class="notice error" role="alert">
                            <p>"Delete the key " <strong>{name.clone()}</strong> "? Machines that only accept this key will refuse the next backup."</p>
                            <ActionForm action=delete attr:class="inline">
                                <input type="hidden" name="name" value=name.clone()/>
                                <button type="submit" class="danger">"Delete key"</button>
                                <button type="button" on:click=move |_| confirming.set(false)>"Keep it"</button>
                            </ActionForm>
                        </div>
                    }
                }
            </Show>
        </li>
    }
}

fn select_all(ev: leptos::ev::FocusEvent) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        {
            input.select();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}

/// Copies text with the browser's clipboard API (only on HTTPS or localhost); says what happened.
fn copy_text(text: &str) -> &'static str {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let call = || -> Option<()> {
            let nav = web_sys::window()?.navigator();
            let clipboard = js_sys::Reflect::get(&nav, &"clipboard".into()).ok()?;
            let write = js_sys::Reflect::get(&clipboard, &"writeText".into()).ok()?;
            let write = write.dyn_ref::<js_sys::Function>()?;
            write.call1(&clipboard, &text.into()).ok()?;
            Some(())
        };
        if call().is_some() {
            return "Copied.";
        }
    }
    let _ = text;
    "This browser allows copying only over HTTPS: select the text and copy it."
}

// ---------------------------------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------------------------------

/// One row per SSH endpoint of the configuration, and the email server.
#[component]
pub fn ConnectionsPanel() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_connections());
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => error_line(e),
                    Ok(c) => {
                        let endpoints = c.endpoints.clone();
                        view! {
                            {c.config_error.clone().map(|e| view! {
                                <p class="form-error" role="alert">{e} " " <a href="/settings/config">"Open the configuration"</a></p>
                            })}
                            {(endpoints.is_empty() && c.config_error.is_none()).then(|| view! {
                                <p class="empty">"No SSH endpoints in the configuration: every source and the mirror are local folders."</p>
                            })}
                            <ul class="connections">
                                {endpoints.into_iter().map(|u| view! { <EndpointRow u/> }).collect_view()}
                            </ul>
                            <EmailRow smtp=c.smtp.clone()/>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn EndpointRow(u: engine::model::setup::EndpointUse) -> impl IntoView {
    let endpoint = u.endpoint.clone();
    let trust = {
        let endpoint = endpoint.clone();
        Action::new(move |fp: &String| trust_host(endpoint.clone(), fp.clone()))
    };
    // The newest result of either action.
    let result = RwSignal::new(None::<Result<ConnectionTest, String>>);
    // A test streams its steps (shown while the next one runs), then the whole result.
    let live = RwSignal::new(Vec::<CheckStep>::new());
    let testing = RwSignal::new(false);
    let start_test = {
        let endpoint = endpoint.clone();
        move |_| {
            if testing.get_untracked() {
                return;
            }
            testing.set(true);
            live.set(Vec::new());
            result.set(None);
            let endpoint = endpoint.clone();
            leptos::task::spawn_local(async move {
                let outcome = read_live_test(endpoint, live).await;
                if let Some(r) = outcome {
                    result.set(Some(r));
                }
                testing.set(false);
                bump_setup();
            });
        }
    };
    Effect::new(move |_| {
        if let Some(r) = trust.value().get() {
            result.set(Some(r.map_err(|e| clean_error(&e.to_string()))));
            bump_setup();
        }
    });
    let busy = move || testing.get() || trust.pending().get();
    view! {
        <li class="card connection" data-endpoint=endpoint.clone()>
            <h3><code>{endpoint.clone()}</code></h3>
            <p class="muted">{u.label.clone()} {u.for_mirror.then_some(" — checked for writing")}</p>
            <div class="actions">
                <button type="button" class="primary" disabled=busy on:click=start_test>"Test connection"</button>
                {move || busy().then(|| view! { <span class="muted" role="status">"Testing… (each step gives up after 8 s)"</span> })}
            </div>
            {move || testing.get().then(|| view! { <Steps steps=live.get()/> })}
            {move || result.get().map(|r| match r {
                Err(e) => view! { <p class="form-error" role="alert">{e}</p> }.into_any(),
                Ok(t) => {
                    let offered = t.offered.clone();
                    let changed = offered.iter().any(|k| k.changed);
                    view! {
                        <p class="verdict" data-ok=t.ok.to_string()>{if t.ok { "✔ Connection works" } else { "✘ Not working yet" }}</p>
                        <Steps steps=t.steps.clone()/>
                        {(!offered.is_empty() && changed).then(|| view! {
                            <div class="notice error" role="alert">
                                <p><strong>"The host key has CHANGED."</strong> " This happens when the server was reinstalled — or when someone is in between. "
                                   "It is never replaced with one click: check the new fingerprint with the server's owner, then run "
                                   <code>{format!("mnemosynce test-connection {} --replace-changed-host-key", t.endpoint)}</code> " on this server."</p>
                            </div>
                        })}
                        {(!offered.is_empty() && !changed).then(|| view! {
                            <div class="notice">
                                <p>"The host is not trusted yet. Compare the fingerprint with the one the server shows ("
                                   <code>"ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub"</code> " on it):"</p>
                                <ul class="fingerprints">
                                    {offered.into_iter().map(|k| {
                                        let fp = k.fingerprint.clone();
                                        view! {
                                            <li>
                                                <code>{k.algorithm.clone()} " " {k.fingerprint.clone()}</code> " "
                                                <button type="button" class="primary" on:click=move |_| { trust.dispatch(fp.clone()); }>"Trust this host"</button>
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            </div>
                        })}
                    }.into_any()
                }
            })}
        </li>
    }
}

/// Reads a live connection test: each step into `live` as it arrives; the whole result at the end
/// (`None` when the stream ended without one).
async fn read_live_test(
    endpoint: String,
    live: RwSignal<Vec<CheckStep>>,
) -> Option<Result<ConnectionTest, String>> {
    use futures::StreamExt;
    let mut stream = match test_connection_live(endpoint).await {
        Ok(s) => s.into_inner(),
        Err(e) => return Some(Err(clean_error(&e.to_string()))),
    };
    let mut pending = String::new();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Err(e) => return Some(Err(clean_error(&e.to_string()))),
            Ok(text) => pending.push_str(&text),
        }
        while let Some(end) = pending.find('\n') {
            let line: String = pending.drain(..=end).collect();
            match serde_json::from_str::<LiveCheck>(line.trim()) {
                Ok(LiveCheck::Step(s)) => live.update(|l| l.push(s)),
                Ok(LiveCheck::Done(t)) => return Some(Ok(t)),
                Err(_) => {}
            }
        }
    }
    None
}

#[component]
fn EmailRow(smtp: Result<String, String>) -> impl IntoView {
    let usable = smtp.is_ok();
    view! {
        <section class="card connection">
            <h3>"Email"</h3>
            <p class="muted">{match &smtp { Ok(s) => format!("SMTP server {s}"), Err(e) => e.clone() }}
                " " <a href="/settings/email">"Email settings"</a></p>
            <Show when=move || usable>
                <EmailTest/>
            </Show>
        </section>
    }
}

/// *Send test email*: connect, TLS, login, send, each with its verdict.
#[component]
pub fn EmailTest() -> impl IntoView {
    let send = Action::new(|to: &String| send_test_email(Some(to.clone())));
    let to = RwSignal::new(String::new());
    view! {
        <div class="actions email-test">
            <label for="test-to">"Send a test email to " <span class="muted">"(empty: the report address)"</span></label>
            <input id="test-to" type="email" prop:value=move || to.get() on:input=move |ev| to.set(event_target_value(&ev))/>
            <button type="button" disabled=move || send.pending().get() on:click=move |_| { send.dispatch(to.get_untracked()); }>"Send test email"</button>
            {move || send.pending().get().then(|| view! { <span class="muted" role="status">"Sending…"</span> })}
        </div>
        {move || send.value().get().map(|r| match r {
            Ok(steps) => view! { <Steps steps/> }.into_any(),
            Err(e) => error_line(e),
        })}
    }
}

/// Verdicts of a test, one line a step, with the fix under a step that did not pass.
#[component]
fn Steps(steps: Vec<CheckStep>) -> impl IntoView {
    view! {
        <ol class="checks">
            {steps.into_iter().map(|s| {
                let icon = match s.verdict {
                    Verdict::Pass => "✔",
                    Verdict::Warn => "⚠",
                    Verdict::Fail => "✘",
                    Verdict::Skipped => "–",
                };
                let hint = s.hint.clone().filter(|_| matches!(s.verdict, Verdict::Warn | Verdict::Fail));
                view! {
                    <li data-verdict=s.verdict.as_str()>
                        <span class="verdict-icon">{icon}</span> " "
                        <strong>{s.name.clone()}</strong> ": " {s.detail.clone()}
                        {hint.map(|h| view! { <div class="hint">"Fix: " {h}</div> })}
                    </li>
                }
            }).collect_view()}
        </ol>
    }
}

// ---------------------------------------------------------------------------------------------------
// Schedule
// ---------------------------------------------------------------------------------------------------

/// The cron expression with presets, what it means, the next runs, the switch, save.
#[component]
pub fn SchedulePanel() -> impl IntoView {
    let current = Resource::new(|| (), |_| get_schedule());
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match current.await {
                    Ok(v) => view! { <ScheduleBody v/> }.into_any(),
                    Err(e) => error_line(e),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ScheduleBody(v: ScheduleView) -> impl IntoView {
    let cron = RwSignal::new(v.cron.clone());
    let enabled = RwSignal::new(v.enabled);
    let shown = RwSignal::new(v.clone());
    let saved_note = RwSignal::new(None::<Result<String, String>>);
    let preview = Action::new(|(c, e): &(String, bool)| preview_schedule(c.clone(), *e));
    // The version of the file the page read: a save over a file changed since then is refused.
    let version = RwSignal::new(v.version.clone());
    let save =
        Action::new(|(c, e, v): &(String, bool, String)| save_schedule(c.clone(), *e, v.clone()));
    // Every change of the expression asks the engine what it means.
    Effect::new(move |first: Option<()>| {
        let c = cron.get();
        let e = enabled.get();
        if first.is_some() {
            saved_note.set(None);
            preview.dispatch((c, e));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(v)) = preview.value().get() {
            shown.set(v);
        }
    });
    Effect::new(move |_| {
        if let Some(r) = save.value().get() {
            match r {
                Ok(v) => {
                    version.set(v.version.clone());
                    shown.set(v);
                    saved_note.set(Some(Ok(
                        "Saved: only the schedule block of backup_config.yml changed.".into(),
                    )));
                    bump_setup();
                }
                Err(e) => saved_note.set(Some(Err(clean_error(&e.to_string())))),
            }
        }
    });
    let presets = v.presets.clone();
    view! {
        {v.config_error.clone().map(|e| view! {
            <p class="form-error" role="alert">{e} " " <a href="/settings/config">"Open the configuration"</a></p>
        })}
        <div class="presets" role="group" aria-label="Presets">
            {presets.into_iter().map(|(label, expr)| {
                let e2 = expr.clone();
                view! {
                    <button type="button" aria-pressed=move || (cron.get() == e2).to_string()
                        on:click=move |_| cron.set(expr.clone())>{label}</button>
                }
            }).collect_view()}
        </div>
        <form class="stack schedule-form" on:submit=move |ev| {
            ev.prevent_default();
            save.dispatch((cron.get_untracked(), enabled.get_untracked(), version.get_untracked()));
        }>
            <label for="cron">"Cron expression " <span class="muted">"(minute hour day-of-month month day-of-week; Sunday is 0 or 7)"</span></label>
            <input id="cron" name="cron" autocomplete="off" spellcheck="false"
                prop:value=move || cron.get() on:input=move |ev| cron.set(event_target_value(&ev))/>
            <label class="check">
                <input type="checkbox" name="enabled" prop:checked=move || enabled.get()
                    on:change=move |ev| enabled.set(event_target_checked(&ev))/>
                " Run backups on this schedule"
            </label>
            <button type="submit" class="primary" disabled=move || save.pending().get()>"Save schedule"</button>
        </form>
        {move || saved_note.get().map(|r| match r {
            Ok(m) => view! { <p class="form-note" role="status">{m}</p> }.into_any(),
            Err(m) => view! { <p class="form-error" role="alert">{m}</p> }.into_any(),
        })}
        {move || {
            let v = shown.get();
            let next = v.next.clone();
            view! {
                <div class="schedule-meaning" aria-live="polite">
                    {match v.description.clone() {
                        Ok(d) => view! { <p class="description">{if v.enabled { "Runs " } else { "Disabled; would run " }} <strong>{d}</strong> " (" {v.zone.clone()} ")."</p> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e}</p> }.into_any(),
                    }}
                    {(!next.is_empty()).then(|| view! {
                        <h2>"Next runs"</h2>
                        <ol class="next-runs">{next.into_iter().map(|t| view! { <li>{t}</li> }).collect_view()}</ol>
                    })}
                </div>
            }
        }}
    }
}

#[cfg(test)]
mod tests {
    use super::yaml_spans;

    #[test]
    fn a_yaml_line_is_split_into_what_a_reader_sees() {
        assert_eq!(
            yaml_spans("  - name: Photos   # the family"),
            vec![
                ("", "  ".to_string()),
                ("punct", "- ".into()),
                ("key", "name".into()),
                ("punct", ":".into()),
                ("", " Photos   ".into()),
                ("comment", "# the family".into()),
            ]
        );
        assert_eq!(
            yaml_spans("  cron: \"0 2 * * *\" # nightly"),
            vec![
                ("", "  ".to_string()),
                ("key", "cron".into()),
                ("punct", ":".into()),
                ("", " ".into()),
                ("string", "\"0 2 * * *\"".into()),
                ("", " ".into()),
                ("comment", "# nightly".into()),
            ]
        );
        assert_eq!(
            yaml_spans("# only a comment"),
            vec![("comment", "# only a comment".to_string())]
        );
        // A `#` inside a value, or a colon inside a word, is neither a comment nor a key.
        assert_eq!(
            yaml_spans("dir_source: me@nas:/srv/a#b"),
            vec![
                ("key", "dir_source".to_string()),
                ("punct", ":".into()),
                ("", " me@nas:/srv/a#b".into()),
            ]
        );
        // Every byte of the line is in exactly one piece, in order.
        for line in [
            "a: 'it''s'",
            "- [1, \"x\"]",
            "key:",
            "  ",
            "x: \"unterminated",
            "é: \"\\\"\"",
        ] {
            let joined: String = yaml_spans(line).into_iter().map(|(_, t)| t).collect();
            assert_eq!(joined, line);
        }
    }
}
