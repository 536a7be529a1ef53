//! `mnemosynce check`: checks the configuration and prints every problem with its line and column.

use super::exit::EXIT_CONFIG;
use super::load::load_config;
use crate::cli::Cli;
use std::process::ExitCode;

/// `mnemosynce check`
pub fn execute(cli: &Cli) -> ExitCode {
    match load_config(cli) {
        Ok(c) => {
            println!(
                "{}: OK ({} task(s))",
                cli.config_path().display(),
                c.tasks.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_CONFIG)
        }
    }
}
