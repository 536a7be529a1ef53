//! The schedule page (`/settings/schedule`, and the wizard's last step): a cron expression with
//! presets, what it means and the next start times as the owner types, and the save of the
//! `schedule:` block.

use super::panel::Loaded;
use super::parts::{error_line, ErrorLine};
use super::settings::bump_setup;
use crate::api::schedule::*;
use crate::api::ApiError;
use leptos::prelude::*;

/// The cron expression with presets, what it means, the next runs, the switch, save; `schedule`
/// as the server read it.
#[component]
pub fn SchedulePanel(schedule: Loaded<ScheduleView>) -> impl IntoView {
    match schedule {
        Ok(v) => view! { <ScheduleBody v/> }.into_any(),
        Err(e) => error_line(e),
    }
}

#[component]
fn ScheduleBody(v: ScheduleView) -> impl IntoView {
    let cron = RwSignal::new(v.cron.clone());
    let enabled = RwSignal::new(v.enabled);
    let shown = RwSignal::new(v.clone());
    let saved_note = RwSignal::new(None::<Result<String, ApiError>>);
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
                Err(e) => saved_note.set(Some(Err(e))),
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
            // `value`/`checked` for the page as the server sends it (read without JavaScript), `prop:`
            // for the live form.
            <input id="cron" name="cron" autocomplete="off" spellcheck="false"
                value=cron.get_untracked()
                prop:value=move || cron.get() on:input=move |ev| cron.set(event_target_value(&ev))/>
            <label class="check">
                <input type="checkbox" name="enabled" checked=enabled.get_untracked()
                    prop:checked=move || enabled.get()
                    on:change=move |ev| enabled.set(event_target_checked(&ev))/>
                " Run backups on this schedule"
            </label>
            <button type="submit" class="primary" disabled=move || save.pending().get()>"Save schedule"</button>
        </form>
        {move || saved_note.get().map(|r| match r {
            Ok(m) => view! { <p class="form-note" role="status">{m}</p> }.into_any(),
            Err(error) => view! { <ErrorLine error prefix="Not saved: "/> }.into_any(),
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
