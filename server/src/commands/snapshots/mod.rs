//! `mnemosynce snapshots` and its subcommands, one file each: the list of snapshots (`list.rs`), a
//! folder of one (`ls.rs`), pins (`pin.rs`).

mod list;
mod ls;
mod pin;

use crate::cli::{Cli, SnapshotsArgs, SnapshotsCommand};
use std::process::ExitCode;

/// `mnemosynce snapshots [ls|pin|unpin]`
pub async fn execute(cli: &Cli, args: &SnapshotsArgs) -> ExitCode {
    match &args.command {
        None => list::execute(cli, args).await,
        Some(SnapshotsCommand::Ls(a)) => ls::execute(cli, a).await,
        Some(SnapshotsCommand::Pin(a)) => {
            pin::execute(cli, &a.task, &a.snapshot, true, a.note.as_deref()).await
        }
        Some(SnapshotsCommand::Unpin(a)) => {
            pin::execute(cli, &a.task, &a.snapshot, false, None).await
        }
    }
}
