//! The setup wizard (`/welcome`): 1 Configuration → 2 SSH keys → 3 Connections → 4 Schedule →
//! Dashboard, with the same panels as the settings pages. Which steps are done is the engine's
//! readiness (derived from the disk and the database), so the wizard picks up where the owner left
//! it after a restart or on another device. Steps 2 and 3 show as "not needed" when the
//! configuration has no SSH endpoint. "Finish setup anyway" hides it (and the dashboard's strip)
//! without marking anything done.
//!
//! Decision: the wizard is offered, not forced — the dashboard shows a strip with what is missing
//! and a link here, so bookmarks and the history stay reachable during setup.

use super::config::ConfigEditor;
use super::connections::ConnectionsPanel;
use super::keys::KeysPanel;
use super::parts::ErrorLine;
use super::schedule::SchedulePanel;
use super::settings::SetupChanged;
use crate::api::setup::get_readiness;
use crate::api::ApiError;
use engine::model::setup::{Readiness, SetupStep};
use leptos::prelude::*;

/// The wizard at the step asked for in the address (`?step=keys`), or at the first one missing.
/// Where the setup stands (`readiness`) is read on the server as the page is made and handed to the
/// island with the step: its links are ordinary page loads. The step list follows every save.
#[component]
pub fn Wizard(step: Option<String>, readiness: Readiness) -> impl IntoView {
    let changed = SetupChanged(RwSignal::new(0));
    provide_context(changed);
    // The panel is chosen once, from the address: it must not be rebuilt under the owner's hands
    // (a connection test's result, text being typed) each time something is saved.
    let current = step
        .as_deref()
        .and_then(SetupStep::parse)
        .or_else(|| readiness.next_step())
        .unwrap_or(SetupStep::Schedule);
    let live = RwSignal::new(readiness);
    let problem = RwSignal::new(None::<ApiError>);
    Effect::new(move |_| {
        if changed.0.get() == 0 {
            return;
        }
        leptos::task::spawn_local(async move {
            match get_readiness().await {
                Ok(r) => {
                    live.set(r);
                    problem.set(None);
                }
                Err(e) => problem.set(Some(e)),
            }
        });
    });

    view! {
        <section class="page wizard">
            <div class="page-head">
                <h1>"Set up Mnemosynce"</h1>
                <FinishSetup/>
            </div>
            {move || problem.get().map(|error| view! { <ErrorLine error/> })}
            {move || {
                let r = live.get();
                view! { <StepList r=r.clone() current/> <StepNav r current/> }
            }}
            <StepPanel step=current/>
        </section>
    }
}

#[component]
fn StepPanel(step: SetupStep) -> impl IntoView {
    let (title, intro) = match step {
        SetupStep::Config => ("1. Configuration", "What to back up, where the snapshots go, how long they are kept. Check shows every problem at its line; save writes the file."),
        SetupStep::Keys => ("2. SSH keys", "Your configuration reaches other machines over SSH. Generate a key here and add its line to the other machine's authorized_keys."),
        SetupStep::Connections => ("3. Connections", "Test each SSH endpoint: trust its host key after comparing the fingerprint, and make sure the login works."),
        SetupStep::Schedule => ("4. Schedule", "When backups run by themselves. Pick a preset or write a cron expression, then save."),
    };
    view! {
        <div class="wizard-step" data-step=step.as_str()>
            <h2>{title}</h2>
            <p>{intro}</p>
            {match step {
                SetupStep::Config => view! { <ConfigEditor/> }.into_any(),
                SetupStep::Keys => view! { <KeysPanel/> }.into_any(),
                SetupStep::Connections => view! { <ConnectionsPanel/> }.into_any(),
                SetupStep::Schedule => view! { <SchedulePanel/> }.into_any(),
            }}
        </div>
    }
}

/// The four steps with their state; each links to its step.
#[component]
fn StepList(r: Readiness, current: SetupStep) -> impl IntoView {
    view! {
        <ol class="wizard-steps" aria-label="Setup steps">
            {r.steps.into_iter().map(|s| {
                let state = if s.done { "done" } else if s.skipped { "skipped" } else { "todo" };
                let note = if s.done {
                    "done".to_string()
                } else if s.skipped {
                    "not needed: no SSH endpoint".to_string()
                } else {
                    s.missing.clone().unwrap_or_default()
                };
                let here = s.step == current;
                view! {
                    <li data-state=state aria-current=here.then_some("step")>
                        <a href=format!("/welcome?step={}", s.step.as_str())>{s.step.title()}</a>
                        <span class="muted">{note}</span>
                    </li>
                }
            }).collect_view()}
        </ol>
    }
}

/// Back / Next between the steps that apply; after the last one, the dashboard.
#[component]
fn StepNav(r: Readiness, current: SetupStep) -> impl IntoView {
    let applies: Vec<SetupStep> = r
        .steps
        .iter()
        .filter(|s| !s.skipped)
        .map(|s| s.step)
        .collect();
    let at = applies.iter().position(|s| *s == current);
    let back = at
        .and_then(|i| i.checked_sub(1))
        .and_then(|i| applies.get(i))
        .copied();
    let next = at.and_then(|i| applies.get(i + 1)).copied();
    let complete = r.complete();
    view! {
        <nav class="wizard-nav" aria-label="Setup navigation">
            {back.map(|b| view! { <a class="button" href=format!("/welcome?step={}", b.as_str())>"Back"</a> })}
            {match next {
                Some(n) => view! { <a class="button primary" href=format!("/welcome?step={}", n.as_str())>"Next: " {n.title()}</a> }.into_any(),
                None => view! {
                    <a class="button primary" href="/">{if complete { "Done: go to the dashboard" } else { "Go to the dashboard" }}</a>
                }.into_any(),
            }}
        </nav>
    }
}

/// The dashboard's strip while the setup is not finished: what is missing, with links.
#[component]
pub fn SetupStrip() -> impl IntoView {
    let readiness = Resource::new(|| (), |_| get_readiness());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let r = readiness.await.ok()?;
                if !r.show_wizard() {
                    return None;
                }
                let missing = r.steps.iter().filter(|s| !s.done && !s.skipped).map(|s| {
                    view! {
                        <li><a href=format!("/welcome?step={}", s.step.as_str())>{s.step.title()}</a>
                            ": " {s.missing.clone().unwrap_or_default()}</li>
                    }
                }).collect_view();
                Some(view! {
                    <aside class="notice setup-strip" aria-label="Setup">
                        <p><strong>"Setup is not finished."</strong> " " <a class="button primary" href="/welcome">"Continue setup"</a></p>
                        <ul>{missing}</ul>
                        <FinishSetup/>
                    </aside>
                })
            })}
        </Suspense>
    }
}

/// "Finish setup anyway": a plain form to the server (server/src/actions.rs), which hides the
/// wizard and the strip and opens the dashboard.
#[component]
fn FinishSetup() -> impl IntoView {
    view! {
        <form method="post" action="/setup/finish" class="inline">
            <button type="submit">"Finish setup anyway"</button>
        </form>
    }
}
