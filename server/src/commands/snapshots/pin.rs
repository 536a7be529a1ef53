//! `mnemosynce snapshots pin|unpin TASK SNAPSHOT [--note ..]`: a pinned snapshot is never pruned by
//! retention, locally or on the mirror (the planner keeps it with the reason "pinned", which `plan`
//! shows), until it is unpinned. Only a snapshot that is on disk can be pinned.

use crate::commands::exit::{EXIT_CONFIG, EXIT_FAILURE};
use crate::commands::load::{read_side, select_tasks};
use engine::store;
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
    let snapshots = match store::list_snapshots(&config, &history, tz, task).await {
        Ok(list) => list,
        Err(e) => {
            eprintln!("error: {}: {e}", task.name);
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let Some(found) = snapshots.iter().find(|s| s.name.to_string() == snapshot) else {
        eprintln!(
            "error: task {:?} has no snapshot {snapshot:?}; list them with `mnemosynce snapshots --task {:?}`",
            task.name, task.name
        );
        return ExitCode::from(EXIT_CONFIG);
    };
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    let taken_at = store::local_to_utc(tz, &found.name);
    if let Err(e) = history
        .set_pinned(&task.name, snapshot, taken_at, pinned, note)
        .await
    {
        eprintln!("error: {e}");
        return ExitCode::from(EXIT_FAILURE);
    }
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
