//! The subcommands, one file each (the shape of mini-redis's `cmd/`); `main.rs` dispatches.
//!
//! Each file's `execute` takes the parsed command line and returns the process's exit code
//! ([`exit`]). The engine's subcommands (`run`, `restore`, `check`, `plan`, `snapshots`, `adopt`) load and
//! check the configuration through the engine first ([`load`]: problems go to stderr with their line
//! and column), then call one engine function and print its result: for people by default, as JSON
//! with `--json`. `serve` starts the web server (`crate::serve`); `passwd` sets the admin password
//! through `crate::auth::password`, never through the HTTP handlers. `install`, `uninstall`,
//! `completions` and `man` put the program on a system (`install`). SPEC §10.

pub mod adopt;
pub mod check;
pub mod exit;
pub mod install;
pub mod keys;
pub mod load;
pub mod passwd;
pub mod plan;
pub mod printer;
pub mod restore;
pub mod run;
pub mod serve;
pub mod snapshots;
pub mod test_connection;
pub mod test_email;
