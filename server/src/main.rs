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
mod logging;
mod memory;
mod runs;
mod scheduler;
mod security;
mod serve;

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
    let cli = cli::Cli::parse();
    logging::init(cli.log_format);
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
