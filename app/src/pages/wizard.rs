//! The setup wizard (`/welcome`): 1 Configuration → 2 SSH keys → 3 Connections → 4 Schedule →
//! 5 First backup → Dashboard, with the same panels as the settings pages. Step 5 starts a run (the
//! dashboard's *Run now* form, answered back here) and follows it on the tab's feed: steps,
//! progress, rate, ETA and *Cancel* in the wizard; when it ends the page refreshes in place and
//! shows what it made (snapshot, size, time). Which steps are done is the engine's
//! readiness (derived from the disk and the database), so the wizard picks up where the owner left
//! it after a restart or on another device. Steps 2 and 3 show as "not needed" when the
//! configuration has no SSH endpoint. "Finish setup anyway" hides it (and the dashboard's strip)
//! without marking anything done.
//!
//! Decision: the wizard is offered, not forced — the dashboard shows a strip with what is missing
//! and a link here, so bookmarks and the history stay reachable during setup.

use super::panel::Panel;
use super::parts::{utc, ErrorLine};
use super::run::LiveTasks;
use super::settings::SetupChanged;
use crate::api::setup::get_readiness;
use crate::api::ApiError;
use crate::feed::{refresh_when_a_run_ends, FeedState};
use crate::navigation::Island;
use engine::model::setup::{BackupDone, Readiness, SetupStep};
use engine::model::units::{human_bytes, human_count, human_duration};
use leptos::prelude::*;

/// The step the address asks for (`?step=keys`), or the first one missing.
pub fn step_asked(asked: Option<&str>, readiness: &Readiness) -> SetupStep {
    asked
        .and_then(SetupStep::parse)
        .or_else(|| readiness.next_step())
        .unwrap_or(SetupStep::FirstRun)
}

/// The wizard at step `current` ([`step_asked`]), with its `panel` (none for the first backup).
/// Where the setup stands (`readiness`) and the panel's data are read on the server as the page is
/// made and handed to the island: a link to another step brings a new page, and with it a new
/// island. The panel is not rebuilt under the owner's hands (a connection test's result, text being
/// typed) when something is saved; the step list follows every save.
#[component]
pub fn Wizard(current: SetupStep, readiness: Readiness, panel: Option<Panel>) -> impl IntoView {
    let changed = SetupChanged(RwSignal::new(0));
    provide_context(changed);
    let first_backup = readiness.first_backup.clone();
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
            <StepPanel step=current panel first_backup/>
        </section>
    }
}

#[component]
fn StepPanel(
    step: SetupStep,
    panel: Option<Panel>,
    first_backup: Option<BackupDone>,
) -> impl IntoView {
    let (title, intro) = match step {
        SetupStep::Config => ("1. Configuration", "What to back up, where the snapshots go, how long they are kept. Check shows every problem at its line; save writes the file."),
        SetupStep::Keys => ("2. SSH keys", "Your configuration reaches other machines over SSH. Generate a key here and add its line to the other machine's authorized_keys."),
        SetupStep::Connections => ("3. Connections", "Test each SSH endpoint: trust its host key after comparing the fingerprint, and make sure the login works."),
        SetupStep::Schedule => ("4. Schedule", "When backups run by themselves. Pick a preset or write a cron expression, then save."),
        SetupStep::FirstRun => ("5. First backup", "Run every task once now and watch it work: the first snapshot copies everything, the ones after copy only what changed."),
    };
    view! {
        <div class="wizard-step" data-step=step.as_str()>
            <h2>{title}</h2>
            <p>{intro}</p>
            {match panel {
                Some(panel) => panel.body(),
                None => view! { <FirstBackupPanel done=first_backup/> }.into_any(),
            }}
        </div>
    }
}

/// Step 5: *Run the first backup*; while a run goes, its steps, progress and *Cancel*; afterwards
/// the snapshot it made. The forms are the dashboard's and the run page's, answered back here
/// (`then=wizard`).
#[component]
fn FirstBackupPanel(done: Option<BackupDone>) -> impl IntoView {
    let feed = FeedState::shared();
    // Always inside the settings island. It hydrates in the server's state (no run), then shows
    // the feed's.
    let island = Island::around();
    if let Some(island) = island {
        refresh_when_a_run_ends(island, feed, None, None);
    }
    move || {
        let run = island
            .is_some_and(|i| i.live())
            .then(|| feed.active_run.get())
            .flatten();
        match (run, done.clone()) {
            (Some(run), _) if run.is_running() => {
                let id = run.run_id;
                view! {
                    <div class="first-run" data-state="running">
                        <p role="status"><strong>{format!("Run {id} in progress")}</strong>
                            " " <a href=format!("/runs/{id}")>"Open the run"</a></p>
                        <LiveTasks run/>
                        <form method="post" action=format!("/runs/{id}/cancel") class="inline" data-navigate="">
                            <input type="hidden" name="then" value="wizard"/>
                            <button type="submit" class="danger">"Cancel"</button>
                        </form>
                    </div>
                }
                .into_any()
            }
            (Some(run), None) if run.finished_at.is_some() => view! {
                <p class="first-run" data-state="ended" role="status">
                    {format!("Run {} ended ({}); reading what it left…", run.run_id, run.status.as_str())}
                </p>
            }
            .into_any(),
            (_, Some(d)) => view! { <BackupResult d/> }.into_any(),
            (_, None) => view! { <StartFirstRun label="Run the first backup"/> }.into_any(),
        }
    }
}

/// What the newest backup made, and *Run again*.
#[component]
fn BackupResult(d: BackupDone) -> impl IntoView {
    view! {
        <div class="first-run" data-state="done">
            <p role="status"><strong>"Your first snapshot is there."</strong></p>
            <dl class="facts">
                <dt>"Task"</dt><dd>{d.task.clone()}</dd>
                <dt>"Snapshot"</dt><dd><a href=format!("/snapshots/browse?task={}&snapshot={}", super::parts::urlencode(&d.task), super::parts::urlencode(&d.snapshot))>{d.snapshot.clone()}</a></dd>
                <dt>"Size"</dt><dd>{format!("{} in {} ({} copied)", human_bytes(d.bytes), files(d.files), human_bytes(d.bytes_copied))}</dd>
                <dt>"Took"</dt><dd>{human_duration(d.took_seconds)}</dd>
                <dt>"Finished"</dt><dd>{utc(d.finished_at)} " · " <a href=format!("/runs/{}", d.run_id)>{format!("run {}", d.run_id)}</a></dd>
            </dl>
            <StartFirstRun label="Run again"/>
        </div>
    }
}

fn files(n: u64) -> String {
    if n == 1 {
        "1 file".into()
    } else {
        format!("{} files", human_count(n))
    }
}

/// The *Run now* form for every task, answered back to this step.
#[component]
fn StartFirstRun(label: &'static str) -> impl IntoView {
    view! {
        <form method="post" action="/runs/start" class="inline" data-navigate="">
            <input type="hidden" name="then" value="wizard"/>
            <button type="submit" class="primary">{label}</button>
        </form>
    }
}

/// The steps with their state; each links to its step.
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
        <form method="post" action="/setup/finish" class="inline" data-navigate="">
            <button type="submit">"Finish setup anyway"</button>
        </form>
    }
}
