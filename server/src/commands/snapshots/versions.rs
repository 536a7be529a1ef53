//! `mnemosynce snapshots versions TASK PATH`: the distinct versions of one file across the task's
//! snapshots, oldest first (`engine::files::versions`): which snapshots hold each, its size and
//! modification time. `--json`: the engine's `FileVersion`s.

use super::common::{on_disk, print_json};
use crate::cli::{Cli, VersionsArgs};
use crate::commands::exit::{EXIT_CONFIG, EXIT_FAILURE};
use crate::commands::load::{read_side, select_tasks};
use engine::files::InnerPath;
use engine::model::units::human_bytes;
use engine::store;
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

/// `mnemosynce snapshots versions`
pub async fn execute(cli: &Cli, args: &VersionsArgs) -> ExitCode {
    let (config, tz, _history) = match read_side(cli, Some(&args.task)).await {
        Ok(v) => v,
        Err(code) => return code,
    };
    let Some(&task) = select_tasks(&config, Some(&args.task))
        .unwrap_or_default()
        .first()
    else {
        return ExitCode::from(EXIT_CONFIG);
    };
    let path = match InnerPath::parse(args.path.as_bytes()) {
        Ok(p) if !p.is_top() => p,
        Ok(_) => {
            eprintln!("error: name a file inside the snapshots, e.g. albums/beach.jpg");
            return ExitCode::from(EXIT_CONFIG);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let names: Vec<String> =
        match store::TaskStore::new(&config.dir_backup_local, &task.name).snapshots() {
            Ok(l) => l.iter().map(ToString::to_string).collect(),
            Err(e) => {
                eprintln!("error: {}: {e}", task.name);
                return ExitCode::from(EXIT_FAILURE);
            }
        };
    let root = config.dir_backup_local.clone();
    let task_name = task.name.clone();
    let inner = path.clone();
    let found = on_disk(move || engine::files::versions(&root, &task_name, &names, &inner)).await;
    let versions = match found {
        Ok(v) => v,
        Err(code) => return code,
    };
    if args.json {
        return print_json(&versions);
    }
    if versions.is_empty() {
        println!("{} {}: in no snapshot", task.name, path.display());
        return ExitCode::SUCCESS;
    }
    println!(
        "{} {}: {} version(s)",
        task.name,
        path.display(),
        versions.len()
    );
    for v in &versions {
        let modified = chrono::DateTime::from_timestamp(v.modified, 0)
            .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default();
        println!(
            "  {} .. {}  ({} snapshot(s))  {}  modified {modified}",
            v.first,
            v.last,
            v.snapshots,
            human_bytes(v.size)
        );
    }
    ExitCode::SUCCESS
}
