//! The Mnemosynce backup engine.
//!
//! Everything that decides what happens to a user's data lives here, free of any web code, so the CLI,
//! the web server and the tests all drive the very same functions.
//!
//! - [`model`] holds the domain types (configuration, statuses, run events, retention decisions, feed
//!   messages). It compiles to wasm32 too: the browser client uses these exact types.
//! - The rest (behind the default `native` feature) touches disks, processes and the database:
//!   - [`config`] reads `backup_config.yml` and reports every problem with its line and column;
//!     [`overlap`] refuses paths that overlap (a source inside the store, …);
//!   - [`store`] is the snapshot store on disk (naming, promotion, `latest`, retiring); [`files`] reads
//!     files and folders back out of a snapshot, never following a link;
//!   - [`transfer`] fills a snapshot folder: [`transfer::native`] for local sources, [`transfer::rsync`]
//!     for SSH sources, behind one trait;
//!   - [`retention`] is the pure planner: keep (with reasons) or prune;
//!   - [`mirror`] and [`ssh`] reach the second machine and SSH sources;
//!   - [`mail`] sends the email report of a run and the test email;
//!   - [`overview`] computes what the web pages show of tasks and runs; [`metrics`] the same
//!     for Prometheus;
//!   - [`run`] orchestrates a run under the [`lock`], recording it in [`history`];
//!   - [`data_dir`] names the files of a data directory; [`atomic`] replaces a file whole;
//!   - [`schedule`] reads cron expressions and finds their times in the configured zone;
//!   - [`config::edit`] saves the configuration from the web app (validated, atomic, comments kept),
//!     [`retention_preview`] previews what an edited retention policy would keep;
//!   - [`setup`] works out how far the setup wizard is, from the disk and the database.

pub mod model;

#[cfg(feature = "native")]
pub mod atomic;
#[cfg(feature = "native")]
pub mod config;
#[cfg(feature = "native")]
pub mod data_dir;
#[cfg(feature = "native")]
pub mod files;
#[cfg(feature = "native")]
pub mod history;
#[cfg(feature = "native")]
pub mod lock;
#[cfg(feature = "native")]
pub mod mail;
#[cfg(feature = "native")]
pub mod metrics;
#[cfg(feature = "native")]
pub mod mirror;
#[cfg(feature = "native")]
pub mod overlap;
#[cfg(feature = "native")]
pub mod overview;
#[cfg(feature = "native")]
pub mod retention;
#[cfg(feature = "native")]
pub mod retention_preview;
#[cfg(feature = "native")]
pub mod run;
#[cfg(feature = "native")]
pub mod schedule;
#[cfg(feature = "native")]
pub mod setup;
#[cfg(feature = "native")]
pub mod ssh;
#[cfg(feature = "native")]
pub mod store;
#[cfg(feature = "native")]
pub mod transfer;
