//! What the `snapshots` subcommands share: a task and its snapshots' names ([`task_snapshots`]), an
//! engine walk of snapshot folders run on a blocking thread ([`on_disk`]), and `--json` output
//! ([`print_json`]). Errors are printed here as one
//! `error:` line; the exit code is [`EXIT_FAILURE`].

use crate::cli::Cli;
use crate::commands::exit::{EXIT_CONFIG, EXIT_FAILURE};
use crate::commands::load::{read_side, select_tasks};
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

/// The configuration (read-side checks done), its zone, task `name` of it and its snapshots' names,
/// oldest first; what went wrong is printed, as `Err(exit code)`.
pub async fn task_snapshots(
    cli: &Cli,
    name: &str,
) -> Result<
    (
        engine::model::config::Config,
        chrono_tz::Tz,
        String,
        Vec<String>,
    ),
    ExitCode,
> {
    let (config, tz, _history) = read_side(cli, Some(name)).await?;
    let task = select_tasks(&config, Some(name))
        .unwrap_or_default()
        .first()
        .map(|t| t.name.clone())
        .ok_or(ExitCode::from(EXIT_CONFIG))?;
    let names = match engine::store::TaskStore::new(&config.dir_backup_local, &task).snapshots() {
        Ok(l) => l.iter().map(ToString::to_string).collect(),
        Err(e) => {
            eprintln!("error: {task}: {e}");
            return Err(ExitCode::from(EXIT_FAILURE));
        }
    };
    Ok((config, tz, task, names))
}
