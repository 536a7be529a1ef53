//! The server functions the pages call. Each one is thin: it checks the session, asks the engine (or
//! the server's run manager, through [`backend::Backend`]), and maps errors to a sentence for the page.

use engine::model::feed::ActiveRun;
use engine::model::overview::{RunDetail, RunSummary, TaskOverview};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub mod email;
pub mod retention;
pub mod settings;

/// What the dashboard shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    pub tasks: Vec<TaskOverview>,
    pub recent_runs: Vec<RunSummary>,
    /// Why the configuration cannot be used, if it cannot.
    pub config_error: Option<String>,
    pub stale_after_days: u32,
    /// The run in progress (or the last one since the server started).
    pub active: Option<ActiveRun>,
    /// The server's clock when this was made: ages are computed from it, the same on both ends.
    pub now: chrono::DateTime<chrono::Utc>,
    /// Why the last *Run now* could not start, shown once (see `server/src/actions.rs`).
    pub notice: Option<String>,
}

/// One page of the history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunPage {
    pub runs: Vec<RunSummary>,
    /// The `before` of the next page, when there is one.
    pub next: Option<i64>,
    /// Task names for the filter.
    pub tasks: Vec<String>,
}

/// Rows per history page.
pub const PAGE_SIZE: u32 = 50;

#[cfg(feature = "ssr")]
pub mod backend {
    //! What the server provides to the server functions (as a Leptos context).

    use engine::data_dir::DataDir;
    use engine::history::History;
    use engine::model::events::Trigger;
    use engine::model::feed::ActiveRun;
    use std::future::Future;
    use std::path::PathBuf;
    use std::pin::Pin;
    use std::sync::Arc;

    /// The session key that marks the signed-in admin (set by the server's sign-in).
    pub const SESSION_ADMIN: &str = "admin";
    /// The session key of a one-time notice for the dashboard (why *Run now* could not start).
    pub const SESSION_NOTICE: &str = "notice";

    /// Why a run could not start. The texts are the sentences users see (the dashboard's notice,
    /// the log of a scheduled start).
    #[derive(Debug, thiserror::Error)]
    pub enum StartError {
        /// Another run is active (started here, by the scheduler, or a CLI run holding the lock).
        #[error("a run is already in progress: wait for it to finish, or cancel it first")]
        Busy,
        /// The configuration cannot be used (the engine's sentence: the first problem, or the time
        /// zone). The run manager records it as a failed run when the file does not validate.
        #[error("{0}")]
        Config(String),
        /// The engine refused the run (an unknown task, the data directory, the database).
        #[error(transparent)]
        Run(engine::run::RunError),
        /// The run ended before it was recorded.
        #[error("the run stopped before it started")]
        Stopped,
    }

    /// Starting and cancelling runs: implemented by the server's run manager.
    pub trait RunControl: Send + Sync + 'static {
        /// Starts a run; `Ok(run id)` once it is recorded, `Err` when it cannot start.
        fn start(
            &self,
            trigger: Trigger,
            tasks: Vec<String>,
        ) -> Pin<Box<dyn Future<Output = Result<i64, StartError>> + Send + '_>>;
        /// Cancels the run with this id if it is the active one.
        fn cancel(&self, run_id: i64) -> bool;
        /// The active run (or the last one since the server started).
        fn state(&self) -> Option<ActiveRun>;
    }

    #[derive(Clone)]
    pub struct Backend {
        pub data: DataDir,
        pub history: History,
        pub config_path: PathBuf,
        pub runs: Arc<dyn RunControl>,
    }
}

#[cfg(feature = "ssr")]
pub(crate) mod server_side {
    use super::backend::Backend;
    use leptos::prelude::*;

    /// The backend, after checking that the request belongs to the signed-in admin.
    pub async fn admin() -> Result<Backend, ServerFnError> {
        let session: tower_sessions::Session = leptos_axum::extract()
            .await
            .map_err(|_| ServerFnError::new("sign in first"))?;
        if !matches!(
            session.get::<bool>(super::backend::SESSION_ADMIN).await,
            Ok(Some(true))
        ) {
            if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
                resp.set_status(http::StatusCode::UNAUTHORIZED);
            }
            return Err(ServerFnError::new("sign in first"));
        }
        use_context::<Backend>().ok_or_else(|| ServerFnError::new("the server is not ready"))
    }

    /// The one-time notice the session holds for the dashboard, removed as it is read.
    pub async fn take_notice() -> Option<String> {
        let session: tower_sessions::Session = leptos_axum::extract().await.ok()?;
        session
            .remove::<String>(super::backend::SESSION_NOTICE)
            .await
            .ok()
            .flatten()
    }

    pub fn fail(e: impl std::fmt::Display) -> ServerFnError {
        ServerFnError::new(e.to_string())
    }

    /// The version of the configuration file a page shows, read *before* the configuration itself
    /// (so a change in between makes the page's save refused, never silently undone); empty when the
    /// file cannot be read (the save then says why).
    pub fn config_version(b: &Backend) -> String {
        engine::config::edit::version(&b.config_path)
            .map(|v| v.to_string())
            .unwrap_or_default()
    }

    /// A page's save of the configuration: [`engine::config::edit::update`] against the version the
    /// page read, its failures in the engine's words.
    pub fn update_config(
        b: &Backend,
        read: String,
        edit: &dyn engine::config::edit::Edit,
    ) -> Result<engine::config::edit::Saved, ServerFnError> {
        engine::config::edit::update(&b.config_path, &read.into(), edit).map_err(fail)
    }

    /// The configuration, or why it cannot be used.
    pub fn config(b: &Backend) -> Result<(engine::model::config::Config, chrono_tz::Tz), String> {
        let c = engine::config::load_usable(&b.config_path)?;
        let tz = engine::config::resolve_timezone(&c).map_err(|e| e.to_string())?;
        Ok((c, tz))
    }
}

/// The dashboard: every task at a glance, the recent runs, the active run.
#[server(endpoint = "get_dashboard")]
pub async fn get_dashboard() -> Result<Dashboard, ServerFnError> {
    use server_side::*;
    let b = admin().await?;
    let notice = take_notice().await;
    let recent_runs = b
        .history
        .runs(&engine::history::RunFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .map_err(fail)?;
    let (tasks, config_error, stale_after_days) = match config(&b) {
        Ok((c, tz)) => (
            engine::overview::task_overviews(&c, &b.history, tz, chrono::Utc::now())
                .await
                .map_err(fail)?,
            None,
            c.report.stale_after_days,
        ),
        Err(e) => (Vec::new(), Some(e), 0),
    };
    Ok(Dashboard {
        tasks,
        recent_runs,
        config_error,
        stale_after_days,
        active: b.runs.state(),
        now: chrono::Utc::now(),
        notice,
    })
}

/// One page of the history, filtered by task and status; `before` is the last id of the page before.
#[server(endpoint = "get_runs")]
pub async fn get_runs(
    task: Option<String>,
    status: Option<String>,
    before: Option<i64>,
) -> Result<RunPage, ServerFnError> {
    use server_side::*;
    let b = admin().await?;
    let status = match status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(
            engine::model::Status::parse(s)
                .ok_or_else(|| ServerFnError::new(format!("unknown status {s:?}")))?,
        ),
        None => None,
    };
    let filter = engine::history::RunFilter {
        task: task.filter(|t| !t.is_empty()),
        status,
        before,
        limit: PAGE_SIZE + 1,
    };
    let mut runs = b.history.runs(&filter).await.map_err(fail)?;
    let next = if runs.len() > PAGE_SIZE as usize {
        runs.truncate(PAGE_SIZE as usize);
        runs.last().map(|r| r.id)
    } else {
        None
    };
    let tasks = config(&b)
        .map(|(c, _)| c.tasks.iter().map(|t| t.name.clone()).collect())
        .unwrap_or_default();
    Ok(RunPage { runs, next, tasks })
}

/// A run with its tasks and steps.
#[server(endpoint = "get_run")]
pub async fn get_run(id: i64) -> Result<Option<RunDetail>, ServerFnError> {
    use server_side::*;
    let b = admin().await?;
    engine::overview::run_detail(&b.history, id)
        .await
        .map_err(fail)
}

/// The end of one step's log.
#[server(endpoint = "get_step_log")]
pub async fn get_step_log(
    run_id: i64,
    task: String,
    step: String,
) -> Result<Option<String>, ServerFnError> {
    use server_side::*;
    let b = admin().await?;
    let step = engine::model::events::StepKind::parse(&step)
        .ok_or_else(|| ServerFnError::new(format!("unknown step {step:?}")))?;
    engine::overview::step_log(&b.history, &b.data, run_id, &task, step)
        .await
        .map_err(fail)
}
