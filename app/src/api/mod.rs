//! The server functions the pages call, one file per page (or group of pages), with the types they
//! return. Each one is thin: it checks the session, asks the engine (or the server's run manager,
//! through [`backend::Backend`]) and answers with the engine's result or an [`ApiError`] — the one
//! error type, the same on both ends. The helpers every one of them uses are in `server_side`.

pub mod config;
pub mod connections;
pub mod email;
pub mod error;
#[cfg(feature = "ssr")]
pub mod find;
pub mod keys;
#[cfg(feature = "ssr")]
pub mod restore;
pub mod retention;
pub mod runs;
pub mod schedule;
pub mod setup;
#[cfg(feature = "ssr")]
pub mod snapshots;

#[cfg(feature = "ssr")]
pub mod backend;
#[cfg(feature = "ssr")]
pub(crate) mod server_side;

pub use error::ApiError;
pub use runs::{get_dashboard, get_run, get_runs, get_step_log, Dashboard, RunPage, PAGE_SIZE};
