//! `mnemosynce snapshots`: the snapshots of every task, or one, with their files, total and unique
//! size (`--recount` measures them all again first; `--json`: one array of
//! `{task, name, time, status, pinned, pin_note, managed, sizes}`).

use super::common::print_json;
use crate::cli::{Cli, SnapshotsArgs};
use crate::commands::exit::EXIT_FAILURE;
use crate::commands::load::{read_side, select_tasks};
use engine::model::units::human_bytes;
use engine::store;
use std::process::ExitCode;

/// `mnemosynce snapshots`
pub async fn execute(cli: &Cli, args: &SnapshotsArgs) -> ExitCode {
    let (config, tz, history) = match read_side(cli, args.task.as_deref()).await {
        Ok(v) => v,
        Err(code) => return code,
    };
    let mut all = Vec::new();
    for task in select_tasks(&config, args.task.as_deref()).unwrap_or_default() {
        if args.recount {
            let started = std::time::Instant::now();
            let names =
                match store::TaskStore::new(&config.dir_backup_local, &task.name).snapshots() {
                    Ok(n) => n,
                    Err(e) => {
                        eprintln!("error: {}: {e}", task.name);
                        return ExitCode::from(EXIT_FAILURE);
                    }
                };
            if let Err(e) =
                store::record_sizes(&config.dir_backup_local, &history, tz, &task.name, &names)
                    .await
            {
                eprintln!("error: {}: {e}", task.name);
                return ExitCode::from(EXIT_FAILURE);
            }
            eprintln!(
                "measured {} snapshot(s) of {} in {:.1} s",
                names.len(),
                task.name,
                started.elapsed().as_secs_f64()
            );
        }
        match store::list_snapshots(&config, &history, tz, task).await {
            Ok(list) => all.extend(list),
            Err(e) => {
                eprintln!("error: {}: {e}", task.name);
                return ExitCode::from(EXIT_FAILURE);
            }
        }
    }
    if args.json {
        return print_json(&all);
    }
    if all.is_empty() {
        println!("no snapshots yet");
    } else {
        for s in all {
            let status = match s.status {
                engine::model::snapshot::Completeness::Complete => "complete",
                engine::model::snapshot::Completeness::Partial => "partial",
            };
            let sizes = match s.sizes {
                Some(z) => format!(
                    "{:>9} files {:>10} total {:>10} unique",
                    z.files,
                    human_bytes(z.total),
                    human_bytes(z.unique)
                ),
                None => format!("{:>47}", "(not measured: --recount)"),
            };
            println!(
                "{:<20} {:<18} {:<26} {sizes}  {status}{}{}",
                s.task,
                s.name.to_string(),
                s.time,
                match (&s.pinned, &s.pin_note) {
                    (true, Some(note)) => format!(" pinned ({note})"),
                    (true, None) => " pinned".to_string(),
                    _ => String::new(),
                },
                if s.managed { "" } else { " not-adopted" }
            );
        }
    }
    ExitCode::SUCCESS
}
