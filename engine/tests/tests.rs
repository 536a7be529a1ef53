//! The engine's integration tests, one binary (ripgrep's `tests/tests.rs` shape): each module is a
//! part of the engine driven through its public API against real things — rsync, an OpenSSH server
//! and an SMTP server on loopback (`testkit`), SQLite files and folders in temporary directories.
//! Shared helpers are in `util`; the original-format configuration files in `fixtures/`.

mod util;

mod config_fuzz;
mod email;
mod native_vs_rsync;
mod retention_props;
mod run;
mod ssh;
