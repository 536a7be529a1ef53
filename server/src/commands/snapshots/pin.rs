//! `mnemosynce snapshots pin|unpin TASK SNAPSHOT [--note ..]`, through `engine::store::set_pin`: a
//! pinned snapshot is never pruned by retention, locally or on the mirror (`plan` shows it kept as
//! "pinned"), until it is unpinned.

use crate::commands::exit::{EXIT_CONFIG, EXIT_FAILURE};
use crate::commands::load::{read_side, select_tasks};
use engine::store::{self, PinError};
use std::process::ExitCode;

/// `mnemosynce snapshots pin` (`pinned`) or `unpin`.
pub async fn execute(
    cli: &crate::cli::Cli,
    task: &str,
    snapshot: &str,
    pinned: bool,
    note: Option<&str>,
) -> ExitCode {
    let (config, tz, history) = match read_side(cli, Some(task)).await {
        Ok(v) => v,
        Err(code) => return code,
    };
    let Some(&task) = select_tasks(&config, Some(task))
        .unwrap_or_default()
        .first()
    else {
        return ExitCode::from(EXIT_CONFIG);
    };
    match store::set_pin(&config, &history, tz, task, snapshot, pinned, note).await {
        Ok(()) => {}
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(match e {
                PinError::NoSuchSnapshot { .. } => EXIT_CONFIG,
                _ => EXIT_FAILURE,
            });
        }
    }
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if pinned {
        println!(
            "pinned {} {snapshot}{}: retention keeps it until `mnemosynce snapshots unpin {:?} {snapshot}`",
            task.name,
            note.map(|n| format!(" ({n})")).unwrap_or_default(),
            task.name
        );
    } else {
        println!(
            "unpinned {} {snapshot}: retention decides about it again at the next run",
            task.name
        );
    }
    ExitCode::SUCCESS
}
