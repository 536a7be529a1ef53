//! The page forms that change state: *Run now* (all tasks or one), *Restore*, *Cancel* and *Finish
//! setup anyway*. They are plain HTML forms posting here, so they work before (and without) any WASM and
//! cost the first download nothing; each answers with a `303 See Other` to the page to show next.
//!
//! Sign-in and the Origin check are the router's layers (`security::require_session`,
//! `security::same_origin`), as for every other state-changing request. When a run cannot start
//! (one is already running, the configuration cannot be used), the sentence saying why is kept in
//! the session as a one-time notice ([`SESSION_NOTICE`]) that the page it returns to (the dashboard,
//! the restore form) shows once and drops.

use crate::state::AppState;
use app::api::backend::SESSION_NOTICE;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use engine::model::events::Trigger;
use serde::Deserialize;
use tower_sessions::Session;

/// Where a run form answers to: the run's page, or (`then=wizard`) back to the setup wizard's
/// last step, which follows the run itself. A fixed choice, never an address from the form.
const WIZARD_STEP: &str = "/welcome?step=first-run";

fn back_to(then: Option<&str>, run_page: String) -> String {
    match then {
        Some("wizard") => WIZARD_STEP.to_string(),
        _ => run_page,
    }
}

/// The *Run now* form: no task for every task, or one task's name.
#[derive(Debug, Deserialize)]
pub struct StartForm {
    #[serde(default)]
    task: Option<String>,
    #[serde(default)]
    then: Option<String>,
}

/// `POST /runs/start`: starts a manual run and opens its page (or the wizard's step); when it cannot
/// start, back to the dashboard with the reason.
pub async fn start(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<StartForm>,
) -> Response {
    let tasks = form.task.filter(|t| !t.is_empty()).into_iter().collect();
    match state.backend.runs.start(Trigger::Manual, tasks).await {
        Ok(id) => {
            Redirect::to(&back_to(form.then.as_deref(), format!("/runs/{id}"))).into_response()
        }
        Err(why) => notice_and_go(&session, why.to_string(), "/").await,
    }
}

/// The restore form of `/snapshots/restore`.
#[derive(Debug, Deserialize)]
pub struct RestoreForm {
    task: String,
    snapshot: String,
    /// The item's key (empty: the whole snapshot).
    #[serde(default)]
    path: String,
    /// `original` (next to it) or `folder` (into `to`).
    #[serde(default)]
    place: String,
    #[serde(default)]
    to: String,
    /// A ticked checkbox sends `on`.
    #[serde(default)]
    replace: Option<String>,
}

/// `POST /runs/restore`: starts a restore and opens its run page (live progress, *Cancel*); when it
/// cannot start, back to the restore form with the reason.
pub async fn restore(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<RestoreForm>,
) -> Response {
    let back = format!(
        "/snapshots/restore?task={}&snapshot={}&path={}",
        app::pages::parts::urlencode(&form.task),
        app::pages::parts::urlencode(&form.snapshot),
        app::pages::parts::urlencode_path(&form.path)
    );
    let to = (form.place == "folder").then(|| std::path::PathBuf::from(form.to.trim()));
    let started = match engine::files::InnerPath::from_key(&form.path) {
        Ok(path) => {
            let request = engine::run::RestoreRequest {
                trigger: Trigger::Manual,
                task: form.task,
                snapshot: form.snapshot,
                path,
                to,
                replace: form.replace.is_some(),
            };
            state
                .backend
                .runs
                .restore(request)
                .await
                .map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    };
    match started {
        Ok(id) => Redirect::to(&format!("/runs/{id}")).into_response(),
        Err(why) => notice_and_go(&session, why, &back).await,
    }
}

/// Keeps `why` as the one-time notice and sends the browser to `to` (which shows it); when the
/// session cannot keep it, says it right here.
async fn notice_and_go(session: &Session, why: String, to: &str) -> Response {
    if let Err(e) = session.insert(SESSION_NOTICE, why.clone()).await {
        tracing::warn!("cannot keep the notice in the session: {e}");
        return (axum::http::StatusCode::CONFLICT, why).into_response();
    }
    Redirect::to(to).into_response()
}

/// The *Cancel* form: nothing, or `then=wizard`.
#[derive(Debug, Default, Deserialize)]
pub struct CancelForm {
    #[serde(default)]
    then: Option<String>,
}

/// `POST /runs/{id}/cancel`: asks the run to stop (it stops at its next check, within a second or
/// so) and shows its page (or the wizard's step) again, which follows it to its end.
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<CancelForm>,
) -> Response {
    if !state.backend.runs.cancel(id) {
        tracing::info!(run = id, "cancel: that run is not running (any more)");
    }
    Redirect::to(&back_to(form.then.as_deref(), format!("/runs/{id}"))).into_response()
}

/// `POST /setup/finish`: hides the setup wizard and the dashboard's strip without marking anything
/// done.
pub async fn finish_setup(State(state): State<AppState>) -> Response {
    match engine::setup::dismiss(&state.backend.history).await {
        Ok(()) => Redirect::to("/").into_response(),
        Err(e) => {
            tracing::error!("finish setup: {e}");
            (
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                format!("error: cannot record that the setup is finished: {e}"),
            )
                .into_response()
        }
    }
}
