//! What the `snapshots` subcommands share: an engine walk of snapshot folders run on a blocking
//! thread ([`on_disk`]), and `--json` output ([`print_json`]). Errors are printed here as one
//! `error:` line; the exit code is [`EXIT_FAILURE`].

use crate::commands::exit::EXIT_FAILURE;
use std::fmt::Display;
use std::process::ExitCode;

/// Runs `walk` (which reads the disk) on a blocking thread; its error printed, as `Err(exit code)`.
pub async fn on_disk<T, E>(
    walk: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, ExitCode>
where
    T: Send + 'static,
    E: Display + Send + 'static,
{
    match tokio::task::spawn_blocking(walk).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            eprintln!("error: {e}");
            Err(ExitCode::from(EXIT_FAILURE))
        }
        Err(e) => {
            eprintln!("error: {e}");
            Err(ExitCode::from(EXIT_FAILURE))
        }
    }
}

/// Prints `value` as one line of JSON.
pub fn print_json<T: serde::Serialize>(value: &T) -> ExitCode {
    match serde_json::to_string(value) {
        Ok(s) => {
            println!("{s}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}
