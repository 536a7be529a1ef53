//! The setup wizard (`/welcome`): 1 Configuration → 2 SSH keys → 3 Connections → 4 Schedule →
//! Dashboard, with the same panels as the settings pages. Which steps are done is the engine's
//! readiness (derived from the disk and the database), so the wizard picks up where the owner left
//! it after a restart or on another device. Steps 2 and 3 show as "not needed" when the
//! configuration has no SSH endpoint. "Finish setup anyway" hides it (and the dashboard's strip)
//! without marking anything done.
//!
//! Decision: the wizard is offered, not forced — the dashboard shows a strip with what is missing
//! and a link here, so bookmarks and the history stay reachable during setup.

use super::parts::clean_error;
use super::settings::{ConfigEditor, ConnectionsPanel, KeysPanel, SchedulePanel, SetupChanged};
use crate::api::settings::{get_readiness, FinishSetup};
use engine::model::setup::{Readiness, SetupStep};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

#[component]
pub fn Wizard() -> impl IntoView {
    let changed = SetupChanged(RwSignal::new(0));
    provide_context(changed);
    let query = use_query_map();
    let asked = move || query.with(|q| q.get("step").and_then(|s| SetupStep::parse(&s)));
    // Two reads of the same readiness: `live` follows every save (for the step list), `opened`
    // only the address — the panel it chooses must not be rebuilt under the owner's hands (a
    // connection test's result, text being typed) each time something is saved.
    let live = Resource::new(move || (changed.0.get(), asked()), |_| get_readiness());
    let opened = Resource::new(asked, |_| get_readiness());
    let finish = ServerAction::<FinishSetup>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = finish.value().get() {
            navigate("/", Default::default());
        }
    });
    // The step shown: the one asked for, else the first that is missing.
    let current = move |opened: &Readiness| {
        asked()
            .or_else(|| opened.next_step())
            .unwrap_or(SetupStep::Schedule)
    };

    view! {
        <section class="page wizard">
            <div class="page-head">
                <h1>"Set up Mnemosynce"</h1>
                <ActionForm action=finish attr:class="inline">
                    <button type="submit">"Finish setup anyway"</button>
                </ActionForm>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match (live.await, opened.await) {
                        (Ok(r), Ok(o)) => {
                            let step = current(&o);
                            view! { <StepList r=r.clone() current=step/> <StepNav r current=step/> }.into_any()
                        }
                        (Err(e), _) | (_, Err(e)) => view! { <p class="form-error" role="alert">{clean_error(&e.to_string())}</p> }.into_any(),
                    }
                })}
            </Transition>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    opened.await.ok().map(|o| view! { <StepPanel step=current(&o)/> })
                })}
            </Suspense>
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
    let finish = ServerAction::<FinishSetup>::new();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let r = readiness.await.ok()?;
                if !r.show_wizard() || matches!(finish.value().get(), Some(Ok(()))) {
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
                        <ActionForm action=finish attr:class="inline">
                            <button type="submit">"Finish setup anyway"</button>
                        </ActionForm>
                    </aside>
                })
            })}
        </Suspense>
    }
}
