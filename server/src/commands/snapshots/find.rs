//! `mnemosynce snapshots find TASK PATTERN`: files whose name matches PATTERN across the task's
//! snapshots, newest snapshot first, each version once (`engine::files::Finder`), printed as they
//! are found. `--json`: one `FoundFile` per line (so a pipe sees them as they come).

use super::common::task_snapshots;
use crate::cli::{Cli, FindArgs};
use crate::commands::exit::{EXIT_CONFIG, EXIT_FAILURE};
use engine::files::{Finder, Pattern};
use engine::model::units::human_bytes;
use std::io::Write;
use std::process::ExitCode;

/// `mnemosynce snapshots find`
pub async fn execute(cli: &Cli, args: &FindArgs) -> ExitCode {
    let (config, _tz, task_name, mut names) = match task_snapshots(cli, &args.task).await {
        Ok(v) => v,
        Err(code) => return code,
    };
    let pattern = match Pattern::parse(&args.pattern) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    names.reverse();
    let (root, json, limit) = (config.dir_backup_local.clone(), args.json, args.limit);
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
