//! `mnemosynce`: the one binary of Mnemosynce.
//!
//! `serve` runs the web app with the engine; the other subcommands drive the engine from a terminal.
//! `main` prepares the process (bundle name, allocator threshold, umask `077`, logging, the data
//! directory's modes, runtime) and dispatches each subcommand to its file in `commands/`. Started
//! bare by cargo-leptos (`LEPTOS_SITE_ADDR` set) it serves; started bare by anyone else it prints
//! its help. See `cli.rs` for the options and SPEC §10 for the contract.
//!
//! Layers, each using only those below it (no import circles): `cli`, `logging`, `memory`,
//! `session_ids`, `hosts`, `auth/*` but `handlers`, `feed/hub`, `runs`, `scheduler`; then
//! `state`; then the handlers and guards (`auth/handlers`, `feed/socket`, `actions`, `health`,
//! `security`); then `routes`; then `serve`; then `commands/*`; then `main`.

// The page views are deeply nested types; laying them out in a release build needs more depth.
#![recursion_limit = "256"]

mod actions;
mod archive;
mod auth;
mod body;
mod cli;
mod commands;
mod download;
mod embedded_site;
mod feed;
mod health;
mod hosts;
mod logging;
mod memory;
mod metrics;
mod routes;
mod runs;
mod scheduler;
mod security;
mod serve;
mod session_ids;
mod state;

use clap::{CommandFactory, Parser};
use cli::{Cli, Command};
use std::process::ExitCode;

fn main() -> ExitCode {
    // Leptos reads the name of the WASM/JS bundle from LEPTOS_OUTPUT_NAME (set by cargo-leptos at
    // build time and by `cargo leptos watch` at run time). A plain `cargo build` has neither, so set it
    // here, while the process is still single-threaded.
    if std::env::var_os("LEPTOS_OUTPUT_NAME").is_none() {
        std::env::set_var(
            "LEPTOS_OUTPUT_NAME",
            option_env!("LEPTOS_OUTPUT_NAME").unwrap_or("mnemosynce"),
        );
    }
    memory::keep_big_buffers_out_of_the_heap();
    // What this process creates is its owner's alone: the data directory's database, logs, keys
    // and secrets (SPEC §11). The snapshot store keeps its modes: rsync and the native snapshotter
    // copy each file's mode, and task folders are made 0755 explicitly (engine::store).
    // SAFETY: umask only sets the process's file mode creation mask.
    unsafe {
        libc::umask(0o077);
    }
    let Some(cli) = parse_cli() else {
        let _ = Cli::command().print_help();
        return ExitCode::from(2);
    };
    logging::init(cli.log_format);
    for fix in engine::data_dir::DataDir::new(&cli.data).secure() {
        tracing::warn!("{fix}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(dispatch(cli))
}

/// The command line; `None` when it names no subcommand and cargo-leptos did not start us.
///
/// `cargo leptos watch`, `serve` and `end-to-end` run the binary without arguments, with the
/// address they chose in `LEPTOS_SITE_ADDR`: that means `serve` there (unless `MNEMOSYNCE_ADDR`
/// says otherwise), with the usual data directory (`./data`, or `MNEMOSYNCE_DATA`).
fn parse_cli() -> Option<Cli> {
    let cli = Cli::parse();
    if cli.command.is_some() {
        return Some(cli);
    }
    let site_addr = std::env::var_os("LEPTOS_SITE_ADDR")?;
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    args.push("serve".into());
    if std::env::var_os("MNEMOSYNCE_ADDR").is_none() {
        args.push("--addr".into());
        args.push(site_addr);
    }
    Some(Cli::parse_from(args))
}

/// Runs the subcommand; its exit code is the process's.
async fn dispatch(cli: Cli) -> ExitCode {
    let Some(command) = &cli.command else {
        return ExitCode::from(2);
    };
    match command {
        Command::Serve(args) => commands::serve::execute(&cli, args).await,
        Command::Run(args) => commands::run::execute(&cli, args).await,
        Command::Restore(args) => commands::restore::execute(&cli, args).await,
        Command::Check => commands::check::execute(&cli),
        Command::Plan(args) => commands::plan::execute(&cli, args).await,
        Command::Snapshots(args) => commands::snapshots::execute(&cli, args).await,
        Command::Adopt(args) => commands::adopt::execute(&cli, args).await,
        Command::Keys(cmd) => commands::keys::execute(&cli, cmd),
        Command::TestConnection(args) => commands::test_connection::execute(&cli, args).await,
        Command::TestEmail(args) => commands::test_email::execute(&cli, args).await,
        Command::Passwd => commands::passwd::execute(&cli).await,
        Command::Install(args) => commands::install::install(args),
        Command::Uninstall(args) => commands::install::uninstall(args),
        Command::Completions { shell } => print(&commands::install::completions(*shell)),
        Command::Man => match commands::install::man_page() {
            Ok(page) => print(&page),
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(commands::exit::EXIT_FAILURE)
            }
        },
    }
}

/// Writes `bytes` to stdout (a completion script, the man page).
fn print(bytes: &[u8]) -> ExitCode {
    use std::io::Write;
    match std::io::stdout().write_all(bytes) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write: {e}");
            ExitCode::from(commands::exit::EXIT_FAILURE)
        }
    }
}
