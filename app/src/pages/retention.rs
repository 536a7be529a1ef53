//! The retention page (Settings › Retention): the global policy as a form, and under it, for every
//! task, what that policy would keep (with each reason) and prune, updated on every change and
//! before anything is saved.
//!
//! Every decision is the engine's: the plan comes from the run's own planner on the run's own snapshot
//! listing (`preview_retention`), the edit of the file and its validation from `engine::config::edit::retention`
//! and `engine::config::edit` (`save_retention`). The page only checks that each field is a number (and
//! `keep_within` a duration, with the engine's parser) before it asks, so a half-typed value never
//! reaches the server.
//!
//! A task's own `retention:` fields are shown, not edited here: they live inside the task's entry in
//! the file, and the configuration editor is the place for them. The preview merges them over the
//! edited global policy, as a run would.

use super::panel::Loaded;
use super::parts::{error_line, ErrorLine};
use crate::api::retention::*;
use crate::api::ApiError;
use engine::model::config::{RetentionOverride, RetentionPolicy};
use leptos::prelude::*;

/// One count of the policy as the form shows it.
struct Count {
    id: &'static str,
    label: &'static str,
    help: &'static str,
}

/// The six counts, in the order of the policy (keep_last, hourly, daily, weekly, monthly, yearly).
const COUNTS: [Count; 6] = [
    Count {
        id: "ret-keep-last",
        label: "Keep last",
        help: "the newest N snapshots, whatever their age",
    },
    Count {
        id: "ret-hourly",
        label: "Hourly",
        help: "the newest snapshot of each of the last N hours that have one",
    },
    Count {
        id: "ret-daily",
        label: "Daily",
        help: "the newest snapshot of each of the last N days that have one",
    },
    Count {
        id: "ret-weekly",
        label: "Weekly",
        help:
            "the newest snapshot of each of the last N weeks (ISO, Monday to Sunday) that have one",
    },
    Count {
        id: "ret-monthly",
        label: "Monthly",
        help: "the newest snapshot of each of the last N months that have one",
    },
    Count {
        id: "ret-yearly",
        label: "Yearly",
        help: "the newest snapshot of each of the last N years that have one",
    },
];

fn counts_of(p: &RetentionPolicy) -> [u32; 6] {
    [
        p.keep_last,
        p.hourly,
        p.daily,
        p.weekly,
        p.monthly,
        p.yearly,
    ]
}

/// A count as typed, or the sentence saying what is wrong with it.
fn parse_count(label: &str, text: &str) -> Result<u32, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err(format!(
            "{label} is empty: write a whole number (0 turns this rule off)"
        ));
    }
    t.parse::<u32>()
        .map_err(|_| format!("{label} must be a whole number from 0 to {}", u32::MAX))
}

/// Settings › Retention: the policy form and the plan per task, from `retention` as the server
/// read it.
#[component]
pub fn RetentionPanel(retention: Loaded<RetentionView>) -> impl IntoView {
    match retention {
        Ok(v) => view! { <RetentionBody v/> }.into_any(),
        Err(e) => error_line(e),
    }
}

#[component]
fn RetentionBody(v: RetentionView) -> impl IntoView {
    if let Some(e) = v.config_error.clone() {
        return view! {
            <p class="form-error" role="alert">
                {e} " " <a href="/settings/config">"Open the configuration"</a>
            </p>
            <p class="muted">"The retention policy can be previewed and saved once the configuration has no errors."</p>
        }
        .into_any();
    }

    // The form's fields as typed: text, so a half-typed value is kept as it is.
    let counts = counts_of(&v.global).map(|n| RwSignal::new(n.to_string()));
    let within = RwSignal::new(within_text(&v.global));
    // The policy saved in the file (to tell whether the form differs from it).
    let saved = RwSignal::new(v.global.clone());
    let shown = RwSignal::new(v.preview.clone());
    let preview_error = RwSignal::new(None::<ApiError>);
    let note = RwSignal::new(None::<Result<String, ApiError>>);

    // The form as a policy; `None` while any field is not valid.
    let policy = Memo::new(move |_| {
        let mut n = [0u32; 6];
        for (slot, (count, signal)) in n.iter_mut().zip(COUNTS.iter().zip(counts)) {
            *slot = parse_count(count.label, &signal.get()).ok()?;
        }
        policy_from_parts(n, &within.get()).ok()
    });
    let count_error = move |i: usize| parse_count(COUNTS[i].label, &counts[i].get()).err();
    let within_error = move || policy_from_parts([0; 6], &within.get()).err();
    let dirty = move || policy.get().is_some_and(|p| p != saved.get());

    // Previews are numbered: a slow answer to an older request never replaces a newer one (an
    // action keeps whichever answer arrives last).
    let latest = StoredValue::new(0u64);
    let preview = Action::new(|(seq, p): &(u64, RetentionPolicy)| {
        let seq = *seq;
        let call = preview_retention(
            p.keep_last,
            p.hourly,
            p.daily,
            p.weekly,
            p.monthly,
            p.yearly,
            within_text(p),
        );
        async move { (seq, call.await) }
    });
    // The version of the file the page read: a save over a file changed since then is refused.
    let version = RwSignal::new(v.version.clone());
    let save = Action::new(|(p, v): &(RetentionPolicy, String)| {
        save_retention(
            p.keep_last,
            p.hourly,
            p.daily,
            p.weekly,
            p.monthly,
            p.yearly,
            within_text(p),
            v.clone(),
        )
    });
    // Every change of a valid policy asks the engine for its plan.
    Effect::new(move |first: Option<()>| {
        let p = policy.get();
        if first.is_some() {
            note.set(None);
            if let Some(p) = p {
                let seq = latest.get_value() + 1;
                latest.set_value(seq);
                preview.dispatch((seq, p));
            }
        }
    });
    Effect::new(move |_| {
        if let Some((seq, r)) = preview.value().get() {
            if seq != latest.get_value() {
                return;
            }
            match r {
                Ok(list) => {
                    shown.set(list);
                    preview_error.set(None);
                }
                Err(e) => preview_error.set(Some(e)),
            }
        }
    });
    Effect::new(move |_| {
        if let Some(r) = save.value().get() {
            match r {
                Ok(v) => {
                    // A preview still on its way was planned against the file before this save.
                    latest.update_value(|n| *n += 1);
                    version.set(v.version.clone());
                    saved.set(v.global.clone());
                    shown.set(v.preview);
                    note.set(Some(Ok("Saved: only the retention block of backup_config.yml changed. \
                         Nothing was deleted now; the next run's retention step applies the policy."
                        .into())));
                }
                Err(e) => note.set(Some(Err(e))),
            }
        }
    });

    let count_fields = COUNTS
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let error_id = format!("{}-error", c.id);
            let described = error_id.clone();
            let initial = counts[i].get_untracked();
            view! {
                <label for=c.id>{c.label} " " <span class="muted">{format!("({})", c.help)}</span></label>
                <input id=c.id type="number" min="0" step="1" inputmode="numeric" required
                    value=initial
                    aria-describedby=described
                    aria-invalid=move || count_error(i).is_some().to_string()
                    prop:value=move || counts[i].get()
                    on:input=move |ev| counts[i].set(event_target_value(&ev))/>
                {move || count_error(i).map(|e| view! { <p class="form-error" id=error_id.clone() role="alert">{e}</p> })}
            }
        })
        .collect_view();

    let overrides = v.tasks.clone();
    let plans = move || {
        let list = shown.get();
        if list.is_empty() {
            return view! { <p class="empty">"The configuration has no tasks."</p> }.into_any();
        }
        list.into_iter()
            .map(|p| {
                let o = overrides
                    .iter()
                    .find(|t| t.task == p.task)
                    .and_then(|t| t.overrides.clone());
                task_plan(p, o)
            })
            .collect_view()
            .into_any()
    };

    let zone = v.zone.clone();
    view! {
        <p>
            "After every successful backup, the retention step deletes the snapshots this policy does not keep. "
            "The newest complete snapshot and pinned snapshots are always kept, and nothing but snapshot folders is ever deleted. "
            "Days, weeks, months and years are counted in the configured time zone (" {zone} ")."
        </p>
        <form class="stack retention-form" aria-label="Retention policy" on:submit=move |ev| {
            ev.prevent_default();
            match policy.get_untracked() {
                Some(p) => {
                    save.dispatch((p, version.get_untracked()));
                }
                None => note.set(Some(Err(ApiError::Invalid("fix the marked fields first".into())))),
            }
        }>
            {count_fields}
            <label for="ret-keep-within">"Keep within " <span class="muted">"(every snapshot younger than this, counted from the newest one: 36h, 2d, 1w, 6m, 1y2m; empty: off)"</span></label>
            <input id="ret-keep-within" type="text" autocomplete="off" spellcheck="false" placeholder="off"
                value=within.get_untracked()
                aria-describedby="ret-keep-within-error"
                aria-invalid=move || within_error().is_some().to_string()
                prop:value=move || within.get()
                on:input=move |ev| within.set(event_target_value(&ev))/>
            {move || within_error().map(|e| view! { <p class="form-error" id="ret-keep-within-error" role="alert">{e}</p> })}
            <button type="submit" class="primary" disabled=move || save.pending().get() || policy.get().is_none()>
                "Save policy"
            </button>
        </form>
        {move || note.get().map(|r| match r {
            Ok(m) => view! { <p class="form-note" role="status">{m}</p> }.into_any(),
            Err(error) => view! { <ErrorLine error prefix="Not saved: "/> }.into_any(),
        })}
        <h2>"Preview"</h2>
        <p class="muted">
            {move || if dirty() {
                "Not saved yet: this is what the edited policy would keep and prune. The file still holds the saved policy."
            } else {
                "What the saved policy keeps and prunes today."
            }}
            {move || (preview.pending().get()).then_some(" Updating…")}
        </p>
        {move || preview_error.get().map(|error| view! { <ErrorLine error/> })}
        <div class="retention-plans" aria-busy=move || preview.pending().get().to_string()>
            {plans}
        </div>
    }
    .into_any()
}

/// One task's plan: its override (if any), the summary, and a row per snapshot.
fn task_plan(p: TaskPreview, overrides: Option<RetentionOverride>) -> AnyView {
    let TaskPreview {
        task,
        effective,
        rows,
        kept,
        pruned,
        newly_pruned,
        error,
    } = p;
    let heading = format!("plan-{task}");
    let override_note = overrides.map(|o| {
        view! {
            <p class="notice retention-override">
                "Per-task override from the configuration: " <strong>{describe_override(&o)}</strong>
                " — edit it in the " <a href="/settings/config">"configuration editor"</a> ". "
                <span class="muted">{format!("Planned with: {}.", describe_policy(&effective))}</span>
            </p>
        }
    });
    let body = if let Some(e) = error {
        view! { <p class="form-error" role="alert">{e}</p> }.into_any()
    } else if rows.is_empty() {
        view! { <p class="empty">"No snapshots yet: the first run of this task makes one."</p> }
            .into_any()
    } else {
        let mut summary = format!("{kept} kept, {pruned} pruned");
        if newly_pruned > 0 {
            summary.push_str(&format!(
                " ({newly_pruned} of them kept by the saved policy)"
            ));
        }
        view! {
            <p class="retention-summary">{summary}</p>
            <div class="table-scroll">
                <table class="list retention-plan" aria-labelledby=heading.clone()>
                    <thead>
                        <tr><th scope="col">"Snapshot"</th><th scope="col">"Verdict"</th><th scope="col">"Why"</th></tr>
                    </thead>
                    <tbody>{rows.into_iter().map(plan_row).collect_view()}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    let task_attr = task.clone();
    view! {
        <section class="card retention-task" data-task=task_attr>
            <h3 id=heading>{task}</h3>
            {override_note}
            {body}
        </section>
    }
    .into_any()
}

/// One snapshot: its name, keep or prune, and why (or what the edit changes for it).
fn plan_row(r: PreviewRow) -> impl IntoView {
    // (token for the stylesheet, words for the reader)
    let change = match (r.kept_now, r.keep) {
        (true, false) => Some(("pruned", "pruned by this change")),
        (false, true) => Some(("kept", "kept by this change")),
        _ => None,
    };
    let verdict = if r.keep {
        view! { <span class="badge" data-status="success">"✔ keep"</span> }.into_any()
    } else {
        view! { <span class="badge" data-status="failed">"✘ prune"</span> }.into_any()
    };
    let name_attr = r.name.clone();
    let keep_attr = r.keep.to_string();
    let why = if r.reasons.is_empty() {
        "no rule keeps it".to_string()
    } else {
        r.reasons.join(", ")
    };
    view! {
        <tr data-snapshot=name_attr data-keep=keep_attr data-change=change.map(|(token, _)| token)>
            <td><code>{r.name}</code></td>
            <td>{verdict}</td>
            <td>
                <span class="reasons">{why}</span>
                {change.map(|(_, words)| view! { " " <strong class="retention-change">{format!("({words})")}</strong> })}
            </td>
        </tr>
    }
}

/// `daily 14, keep within 2d`: the fields a task sets itself.
fn describe_override(o: &RetentionOverride) -> String {
    let mut parts: Vec<String> = [
        ("keep last", o.keep_last),
        ("hourly", o.hourly),
        ("daily", o.daily),
        ("weekly", o.weekly),
        ("monthly", o.monthly),
        ("yearly", o.yearly),
    ]
    .into_iter()
    .filter_map(|(name, n)| n.map(|n| format!("{name} {n}")))
    .collect();
    if let Some(w) = &o.keep_within {
        parts.push(format!("keep within {}", w.as_str()));
    }
    if parts.is_empty() {
        "no fields (the global policy applies)".into()
    } else {
        parts.join(", ")
    }
}

/// `keep last 1, hourly 0, daily 7, …`: a whole policy.
fn describe_policy(p: &RetentionPolicy) -> String {
    let names = [
        "keep last",
        "hourly",
        "daily",
        "weekly",
        "monthly",
        "yearly",
    ];
    let mut parts: Vec<String> = names
        .iter()
        .zip(counts_of(p))
        .map(|(name, n)| format!("{name} {n}"))
        .collect();
    parts.push(match &p.keep_within {
        Some(w) => format!("keep within {}", w.as_str()),
        None => "keep within off".into(),
    });
    parts.join(", ")
}
