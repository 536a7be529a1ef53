//! `mnemosynce`: the one binary of Mnemosynce.
//!
//! `serve` runs the web app with the engine; the other subcommands drive the engine from a terminal.
//! See `cli.rs` for the options and SPEC §10 for the contract.

// The page views are deeply nested types; laying them out in a release build needs more depth.
#![recursion_limit = "256"]

mod actions;
mod auth;
mod cli;
mod commands;
mod feed;
mod hosts;
mod logging;
mod memory;
mod runs;
mod scheduler;
mod security;
mod serve;
mod session_ids;

use clap::Parser;
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
    let cli = cli::Cli::parse();
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
    runtime.block_on(cli::dispatch(cli))
}
