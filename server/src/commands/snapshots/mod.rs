//! `mnemosynce snapshots` and its subcommands, one file each: the list of snapshots (`list.rs`), a
//! folder of one (`ls.rs`), what changed between two (`diff.rs`), a file's versions
//! (`versions.rs`), files found by name (`find.rs`), pins (`pin.rs`).

mod common;
mod diff;
mod find;
mod list;
mod ls;
mod pin;
mod versions;

use crate::cli::{Cli, SnapshotsArgs, SnapshotsCommand};
use std::process::ExitCode;

/// `mnemosynce snapshots [ls|pin|unpin]`
pub async fn execute(cli: &Cli, args: &SnapshotsArgs) -> ExitCode {
    match &args.command {
        None => list::execute(cli, args).await,
        Some(SnapshotsCommand::Ls(a)) => ls::execute(cli, a).await,
        Some(SnapshotsCommand::Diff(a)) => diff::execute(cli, a).await,
        Some(SnapshotsCommand::Versions(a)) => versions::execute(cli, a).await,
        Some(SnapshotsCommand::Find(a)) => find::execute(cli, a).await,
        Some(SnapshotsCommand::Pin(a)) => {
            pin::execute(cli, &a.task, &a.snapshot, true, a.note.as_deref()).await
        }
        Some(SnapshotsCommand::Unpin(a)) => {
            pin::execute(cli, &a.task, &a.snapshot, false, None).await
        }
    }
}
