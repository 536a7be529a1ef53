//! What the server provides to the server functions, as a Leptos context: the data directory, the
//! history, the configuration's path and the run manager ([`RunControl`], implemented by
//! `server/src/runs.rs`). Also the session keys the server's sign-in and the server functions share.
//! Server only (feature `ssr`).

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
    /// The engine refused the restore (nothing there, the destination exists, …).
    #[error(transparent)]
    Restore(engine::run::RestoreError),
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
    /// Starts a restore (a run of its own); `Ok(run id)` once it is recorded.
    fn restore(
        &self,
        request: engine::run::RestoreRequest,
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
