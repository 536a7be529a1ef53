//! What the engine's subcommands do first: load and check the configuration (printing every
//! problem with its line and column to stderr), select tasks, create the data directory if needed
//! and open the history.
//!
//! Problems are printed here; what stops the command comes back as a [`LoadError`] (its text is
//! the sentence to print) and the caller picks the exit code (`exit.rs`): a configuration that
//! cannot be used is [`EXIT_CONFIG`], a history that cannot be opened [`EXIT_FAILURE`].
//! [`read_side`], the common start of `plan`, `snapshots` and `adopt`, does all of it and prints
//! the error and picks the code itself.

use super::exit::{EXIT_CONFIG, EXIT_FAILURE};
use crate::cli::Cli;
use engine::config::{self, Checked};
use engine::data_dir::DataDir;
use engine::history::History;
use engine::history::HistoryError;
use engine::model::config::{Config, Task, UnknownTask};
use std::process::ExitCode;

/// Why a subcommand cannot start.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The configuration cannot be read or used: the engine's one-line summary.
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    DataDir(#[from] engine::data_dir::CreateError),
    #[error(transparent)]
    History(#[from] HistoryError),
}

/// Loads the configuration and prints its problems. `Err` carries a one-line summary of why it
/// cannot be used.
pub fn load_config(cli: &Cli) -> Result<Config, LoadError> {
    let path = cli.config_path();
    let checked = config::load(&path).map_err(|e| LoadError::Config(e.to_string()))?;
    print_problems(&path, &checked);
    checked
        .usable(&path)
        .map_err(|e| LoadError::Config(e.to_string()))
}

fn print_problems(path: &std::path::Path, checked: &Checked) {
    for p in &checked.problems {
        eprintln!("{}: {p}", path.display());
    }
}

/// Creates the data directory if needed and opens its database.
pub async fn open_history(data: &DataDir) -> Result<History, LoadError> {
    data.create()?;
    Ok(History::open(&data.database()).await?)
}

/// The tasks a `--task` option selects, or a message naming the known ones.
pub fn select_tasks<'a>(
    config: &'a Config,
    task: Option<&str>,
) -> Result<Vec<&'a Task>, UnknownTask> {
    let names: Vec<String> = task.into_iter().map(str::to_string).collect();
    config.select_tasks(&names)
}

/// Common start of `plan` and `snapshots`.
pub async fn read_side(
    cli: &Cli,
    task: Option<&str>,
) -> Result<(Config, chrono_tz::Tz, History), ExitCode> {
    let config = load_config(cli).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(EXIT_CONFIG)
    })?;
    select_tasks(&config, task).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(EXIT_CONFIG)
    })?;
    let tz = config::resolve_timezone(&config).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(EXIT_CONFIG)
    })?;
    let history = open_history(&DataDir::new(&cli.data)).await.map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(EXIT_FAILURE)
    })?;
    Ok((config, tz, history))
}
