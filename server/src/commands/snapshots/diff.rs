//! `mnemosynce snapshots diff TASK [OLDER] NEWER`: what changed between two snapshots
//! (`engine::files::diff`). With one snapshot, it is compared with the snapshot before it. Text: a
//! summary line, the differing entries (`added`, `removed`, `changed`, `metadata`), then the counts
//! per folder; `--json`: the engine's `SnapshotDiff`.

use super::common::{on_disk, print_json};
use crate::cli::{Cli, DiffArgs};
use crate::commands::exit::{EXIT_CONFIG, EXIT_FAILURE};
use crate::commands::load::read_side;
use engine::model::files::{EntryKind, FolderChanges};
use engine::model::snapshot::SnapshotName;
use engine::model::units::human_bytes;
use engine::store;
use std::process::ExitCode;

/// `mnemosynce snapshots diff`
pub async fn execute(cli: &Cli, args: &DiffArgs) -> ExitCode {
    let (config, _tz, _history) = match read_side(cli, Some(&args.task)).await {
        Ok(v) => v,
        Err(code) => return code,
    };
    let (older, newer) = match &args.newer {
        Some(newer) => (args.older.clone(), newer.clone()),
        None => {
            // The snapshot before the one named.
            let store = store::TaskStore::new(&config.dir_backup_local, &args.task);
            let before = match SnapshotName::parse(&args.older).map(|n| store.before(&n)) {
                Some(Ok(b)) => b,
                Some(Err(e)) => {
                    eprintln!("error: {}: {e}", args.task);
                    return ExitCode::from(EXIT_FAILURE);
                }
                None => None,
            };
            match before {
                Some(before) => (before.to_string(), args.older.clone()),
                None => {
                    eprintln!(
                        "error: task {:?} has no snapshot before {:?} to compare it with; name two snapshots (`mnemosynce snapshots --task {:?}` lists them)",
                        args.task, args.older, args.task
                    );
                    return ExitCode::from(EXIT_CONFIG);
                }
            }
        }
    };
    let root = config.dir_backup_local.clone();
    let (task, limit) = (args.task.clone(), args.limit);
    let (o, n) = (older.clone(), newer.clone());
    let d = match on_disk(move || engine::files::diff(&root, &task, &o, &n, limit)).await {
        Ok(d) => d,
        Err(code) => return code,
    };
    if args.json {
        return print_json(&d);
    }
    println!(
        "{} {older} -> {newer}: {}; {} unchanged (same inode)",
        d.task,
        counts(&d.total),
        d.same_inode
    );
    for e in &d.entries {
        let slash = if e.kind == EntryKind::Folder { "/" } else { "" };
        let size = match e.kind {
            EntryKind::Folder => String::new(),
            _ => human_bytes(e.size),
        };
        println!("  {:<8} {}{slash}  {size}", e.change.as_str(), e.path);
    }
    if d.truncated {
        println!("  … more (raise --limit to list them)");
    }
    if !d.folders.is_empty() {
        println!("per folder:");
        for f in &d.folders {
            println!("  {}  {}", f.path, counts(f));
        }
    }
    ExitCode::SUCCESS
}

/// `3 added, 1 removed, 2 changed, 0 metadata only, 1.2 MB`
fn counts(c: &FolderChanges) -> String {
    format!(
        "{} added, {} removed, {} changed, {} metadata only, {}",
        c.added,
        c.removed,
        c.changed,
        c.metadata,
        human_bytes(c.bytes)
    )
}
