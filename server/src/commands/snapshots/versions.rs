//! `mnemosynce snapshots versions TASK PATH`: the distinct versions of one file across the task's
//! snapshots, oldest first (`engine::files::versions`): which snapshots hold each, its size and
//! modification time. `--json`: the engine's `FileVersion`s.

use super::common::{on_disk, print_json, task_snapshots};
use crate::cli::{Cli, VersionsArgs};
use crate::commands::exit::EXIT_CONFIG;
use engine::files::InnerPath;
use engine::model::units::human_bytes;
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

/// `mnemosynce snapshots versions`
pub async fn execute(cli: &Cli, args: &VersionsArgs) -> ExitCode {
    let (config, tz, task_name, names) = match task_snapshots(cli, &args.task).await {
        Ok(v) => v,
        Err(code) => return code,
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
    let root = config.dir_backup_local.clone();
    let inner = path.clone();
    let walked_task = task_name.clone();
    let found = on_disk(move || engine::files::versions(&root, &walked_task, &names, &inner)).await;
    let versions = match found {
        Ok(v) => v,
        Err(code) => return code,
    };
    if args.json {
        return print_json(&versions);
    }
    if versions.is_empty() {
        println!("{task_name} {}: in no snapshot", path.display());
        return ExitCode::SUCCESS;
    }
    println!(
        "{} {}: {} version(s)",
        task_name,
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
