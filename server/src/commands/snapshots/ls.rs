//! `mnemosynce snapshots ls TASK SNAPSHOT [PATH]`: one folder of a snapshot, through
//! `engine::files` (beneath the snapshot, links never followed). Text: one line an entry — kind,
//! mode, size, time in the configured zone, the name as shown (`name/` for a folder, `name -> target`
//! for a link); `--json`: the engine's `FolderListing`.

use super::common::print_json;
use crate::cli::{Cli, LsArgs};
use crate::commands::exit::{EXIT_CONFIG, EXIT_FAILURE};
use crate::commands::load::read_side;
use engine::files::{list_folder, FilesError, InnerPath, Window};
use engine::model::files::{mode_text, EntryKind, FileEntry, SortBy};
use engine::model::units::human_bytes;
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

/// `mnemosynce snapshots ls`
pub async fn execute(cli: &Cli, args: &LsArgs) -> ExitCode {
    let (config, tz, _history) = match read_side(cli, Some(&args.task)).await {
        Ok(v) => v,
        Err(code) => return code,
    };
    let path = match &args.path {
        Some(p) => match InnerPath::parse(p.as_bytes()) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_CONFIG);
            }
        },
        None => InnerPath::top(),
    };
    let sort = SortBy::parse(&args.sort).unwrap_or_default();
    let window = Window {
        sort,
        descending: args.reverse,
        offset: 0,
        limit: usize::MAX,
    };
    let listing = match list_folder(
        &config.dir_backup_local,
        &args.task,
        &args.snapshot,
        &path,
        window,
    ) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(match e {
                FilesError::BadPath(_) => EXIT_CONFIG,
                _ => EXIT_FAILURE,
            });
        }
    };
    if args.json {
        return print_json(&listing);
    }
    println!(
        "{} {} {}  ({} entries)",
        listing.task, listing.snapshot, listing.path, listing.total
    );
    for e in &listing.entries {
        println!("{}", line(e, tz));
    }
    ExitCode::SUCCESS
}

/// One entry as a line: `d rwxr-xr-x        -  2026-12-07 02:00  albums/`.
fn line(e: &FileEntry, tz: chrono_tz::Tz) -> String {
    let (kind, suffix) = match e.kind {
        EntryKind::Folder => ('d', "/".to_string()),
        EntryKind::File => ('-', String::new()),
        EntryKind::Symlink => ('l', format!(" -> {}", e.target.as_deref().unwrap_or("?"))),
        EntryKind::Other => ('?', String::new()),
    };
    let size = match e.kind {
        EntryKind::Folder => "-".to_string(),
        _ => human_bytes(e.size),
    };
    let time = chrono::DateTime::from_timestamp(e.modified, 0)
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "-".into());
    format!(
        "{kind} {} {size:>10}  {time}  {}{suffix}",
        mode_text(e.mode),
        e.name
    )
}
