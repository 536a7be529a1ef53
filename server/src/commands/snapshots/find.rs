//! `mnemosynce snapshots find TASK PATTERN`: files whose name matches PATTERN across the task's
//! snapshots, newest snapshot first, each version once (`engine::files::Finder`), printed as they
//! are found. `--json`: one `FoundFile` per line (so a pipe sees them as they come).

use crate::cli::{Cli, FindArgs};
use crate::commands::exit::{EXIT_CONFIG, EXIT_FAILURE};
use crate::commands::load::{read_side, select_tasks};
use engine::files::{Finder, Pattern};
use engine::model::units::human_bytes;
use engine::store;
use std::io::Write;
use std::process::ExitCode;

/// `mnemosynce snapshots find`
pub async fn execute(cli: &Cli, args: &FindArgs) -> ExitCode {
    let (config, _tz, _history) = match read_side(cli, Some(&args.task)).await {
        Ok(v) => v,
        Err(code) => return code,
    };
    let Some(&task) = select_tasks(&config, Some(&args.task))
        .unwrap_or_default()
        .first()
    else {
        return ExitCode::from(EXIT_CONFIG);
    };
    let pattern = match Pattern::parse(&args.pattern) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let mut names: Vec<String> =
        match store::TaskStore::new(&config.dir_backup_local, &task.name).snapshots() {
            Ok(l) => l.iter().map(ToString::to_string).collect(),
            Err(e) => {
                eprintln!("error: {}: {e}", task.name);
                return ExitCode::from(EXIT_FAILURE);
            }
        };
    names.reverse();
    let (root, task_name, json, limit) = (
        config.dir_backup_local.clone(),
        task.name.clone(),
        args.json,
        args.limit,
    );
    let searched = tokio::task::spawn_blocking(move || {
        let mut finder = Finder::new(&root, &task_name, pattern, limit);
        let mut out = std::io::stdout().lock();
        let mut count = 0usize;
        for name in &names {
            finder.search(name, &mut |f| {
                count += 1;
                let line = if json {
                    serde_json::to_string(&f).unwrap_or_default()
                } else {
                    let when = chrono::DateTime::from_timestamp(f.modified, 0)
                        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                        .unwrap_or_default();
                    let older = if f.newest { "" } else { "  (older version)" };
                    format!(
                        "{}  {:>9}  {when}  {}{older}",
                        f.snapshot,
                        human_bytes(f.size),
                        f.path
                    )
                };
                // A closed pipe (`| head`) ends the output, not the program with a panic.
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            })?;
            if finder.full() {
                break;
            }
        }
        Ok::<_, engine::files::FilesError>((count, finder.full(), names.len()))
    })
    .await;
    match searched {
        Ok(Ok((count, full, snapshots))) => {
            if !json {
                let more = if full {
                    format!(" (stopped at --limit {})", args.limit)
                } else {
                    String::new()
                };
                eprintln!("{count} version(s) found in {snapshots} snapshot(s){more}");
            }
            ExitCode::SUCCESS
        }
        Ok(Err(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}
