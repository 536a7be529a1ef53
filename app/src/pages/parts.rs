//! Small pieces the pages share: status badges, error lines, times, ages, sizes, the live progress
//! bar, query encoding.

use crate::api::ApiError;
use chrono::{DateTime, Utc};
use engine::model::events::Progress;
use engine::model::units::{human_bytes, human_duration};
use engine::model::Status;
use leptos::prelude::*;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// A status word with its colour (and an icon, so colour is never the only signal).
#[component]
pub fn StatusBadge(status: Status) -> impl IntoView {
    let icon = match status {
        Status::Success => "✔",
        Status::Warning => "⚠",
        Status::Failed => "✘",
        Status::Cancelled => "■",
        Status::Running => "●",
        Status::Skipped => "–",
    };
    view! { <span class="badge" data-status=status.as_str()>{icon} " " {status.as_str()}</span> }
}

/// A server function's error as the page shows it: the sentence (the engine's words), after
/// `prefix` ("Not saved: "), and what to do next when there is something to do — sign in again when
/// the session ended, reload when the file changed since the page read it.
#[component]
pub fn ErrorLine(error: ApiError, #[prop(optional)] prefix: &'static str) -> impl IntoView {
    let next = match &error {
        ApiError::SignedOut => Some(view! { " " <a href="/login">"Sign in"</a> }.into_any()),
        ApiError::Conflict(_) => Some(view! { " " <a href="">"Reload the page"</a> }.into_any()),
        _ => None,
    };
    view! { <p class="form-error" role="alert">{prefix}{error.to_string()}{next}</p> }
}

/// [`ErrorLine`] as a view of its own, for a `match` arm.
pub fn error_line(error: ApiError) -> AnyView {
    view! { <ErrorLine error/> }.into_any()
}

/// What a page shows while its data loads.
pub fn loading() -> impl IntoView {
    view! { <p class="muted">"Loading…"</p> }
}

/// The bytes a query value keeps as they are: the unreserved ones (RFC 3986 `A-Z a-z 0-9 - _ . ~`).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A path carried in a query value (`?next=/history`) keeps its `/` too: readable, and still one value.
const PATH_IN_QUERY: &AsciiSet = &QUERY_VALUE.remove(b'/');

/// A value for a link's query string (`?task=…`): every byte but the unreserved ones
/// percent-encoded.
pub fn urlencode(s: &str) -> String {
    utf8_percent_encode(s, QUERY_VALUE).to_string()
}

/// A path for a query value (`?next=…`): like [`urlencode`], but `/` stays.
pub fn urlencode_path(s: &str) -> String {
    utf8_percent_encode(s, PATH_IN_QUERY).to_string()
}

/// A time in UTC, the same in the server's HTML and in the browser.
pub fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// "just now", "5 min ago", "3 h ago", "2 days ago".
pub fn ago(now: DateTime<Utc>, t: DateTime<Utc>) -> String {
    let s = (now - t).num_seconds().max(0);
    match s {
        0..=59 => "just now".into(),
        60..=3599 => format!("{} min ago", s / 60),
        3600..=86_399 => format!("{} h ago", s / 3600),
        _ => match s / 86_400 {
            1 => "1 day ago".into(),
            d => format!("{d} days ago"),
        },
    }
}

/// How long something took (or has been running, when it has not finished by `now`).
pub fn took(start: DateTime<Utc>, end: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    human_duration((end.unwrap_or(now) - start).num_seconds().max(0) as u64)
}

/// A progress bar with files, bytes, rate and ETA. Without a known percentage (the native
/// snapshotter walks the tree as it goes, so it has no total up front) the bar is indeterminate and
/// the counts carry the news.
#[component]
pub fn ProgressBar(progress: Progress) -> impl IntoView {
    let pct = progress.percent.map(|p| p.min(100));
    let files = match (progress.files_done, progress.files_total) {
        (Some(d), Some(t)) => format!("{d} of {t} files"),
        (Some(d), None) => format!("{d} files"),
        _ => String::new(),
    };
    let rate = progress
        .rate
        .map(|r| format!("{}/s", human_bytes(r)))
        .unwrap_or_default();
    let eta = progress
        .eta_seconds
        .map(|s| format!("{} left", human_duration(s)))
        .unwrap_or_default();
    view! {
        <div class="progress">
            // A <progress> element: no inline style, which the CSP would refuse.
            <progress max="100" value=pct.map(|p| p.to_string()) aria-label="Progress"></progress>
            <div class="progress-text">
                <span>{pct.map(|p| format!("{p}%"))}</span>
                <span>{files}</span>
                <span>{human_bytes(progress.bytes)}</span>
                <span>{rate}</span>
                <span>{eta}</span>
            </div>
        </div>
    }
}
