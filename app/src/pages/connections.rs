//! The connections page (`/settings/connections`, and the wizard's third step): each SSH endpoint
//! of the configuration with its live, step-by-step test and the host-key decision, and the email
//! server with a test email ([`EmailTest`], also on the email page).

use super::panel::Loaded;
use super::parts::{error_line, ErrorLine};
use super::settings::bump_setup;
use crate::api::connections::*;
use crate::api::ApiError;
use engine::model::connection::{CheckStep, Verdict};
use leptos::prelude::*;

/// One row per SSH endpoint of the configuration, and the email server, as the server read them.
#[component]
pub fn ConnectionsPanel(connections: Loaded<Connections>) -> impl IntoView {
    {
        match connections {
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
    let result = RwSignal::new(None::<Result<ConnectionTest, ApiError>>);
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
            result.set(Some(r));
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
                Err(error) => view! { <ErrorLine error/> }.into_any(),
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
) -> Option<Result<ConnectionTest, ApiError>> {
    use futures::StreamExt;
    let mut stream = match test_connection_live(endpoint).await {
        Ok(s) => s.into_inner(),
        Err(e) => return Some(Err(e)),
    };
    let mut pending = String::new();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Err(e) => return Some(Err(e)),
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
