//! The transfer: how the files of a source get into a new snapshot folder.
//!
//! [`Transfer`] is the one replaceable part of the backup step (SPEC §4.1). The backup step prepares
//! `.incomplete/` and the `--link-dest` folders, calls a transfer, and promotes the folder when the
//! transfer says it is complete. [`rsync::RsyncTransfer`] reads every kind of source (and is the
//! only one for SSH); [`native::NativeTransfer`] snapshots local folders itself and is their default
//! (`tasks[].engine`, see `Task::effective_engine`).

pub mod native;
pub mod rsync;

use crate::model::config::Endpoint;
use crate::model::events::{LogLevel, Progress, TransferStats};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use tokio_util::sync::CancellationToken;

/// What to copy where.
#[derive(Clone, Debug)]
pub struct TransferRequest {
    pub source: Endpoint,
    /// The folder to fill (`<task>/.incomplete/`).
    pub dest: PathBuf,
    /// Earlier trees to hard-link unchanged files from, best first (the newest snapshot, then
    /// interrupted transfers).
    pub link_dests: Vec<PathBuf>,
    pub excludes: Vec<String>,
    pub one_file_system: bool,
    /// Preserve ACLs and extended attributes.
    pub acls_xattrs: bool,
    /// Report what would be transferred, change nothing.
    pub dry_run: bool,
    /// For an SSH source: the ssh command line rsync runs (`-e`), see `ssh::SshDir::rsync_rsh`.
    pub rsh: Option<String>,
    /// The folder rsync starts in: for an SSH source, the ssh folder, from which a shared
    /// connection's socket may be named (`ssh::SshDir::workdir`).
    pub workdir: Option<PathBuf>,
    /// KiB/s, when the task limits its transfer.
    pub bwlimit_kbps: Option<u32>,
}

/// How a transfer ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransferEnd {
    /// Every file is in the snapshot.
    Complete,
    /// Complete, but some files vanished from the source while it was read (rsync exit 24).
    Vanished { paths: Vec<String> },
    /// Some files could not be read (rsync exit 23): the snapshot is kept but marked partial.
    Partial { paths: Vec<String> },
    /// Nothing usable: the message says why and how to fix it.
    Failed { message: String },
    /// Stopped on request; `.incomplete/` stays for the next run to resume.
    Cancelled,
}

/// The end of a transfer and its figures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferOutcome {
    pub end: TransferEnd,
    pub stats: TransferStats,
}

/// Where a running step reports to (the run writes it to the log file and publishes events).
pub trait StepSink: Send + Sync {
    fn progress(&self, progress: Progress);
    fn log(&self, level: LogLevel, line: &str);
}

/// The boxed future a [`Transfer`] returns (so the trait can be used as `dyn Transfer`).
pub type TransferFuture<'a> = Pin<Box<dyn Future<Output = TransferOutcome> + Send + 'a>>;

/// A way to fill a snapshot folder.
pub trait Transfer: Send + Sync {
    /// Short name for logs ("rsync").
    fn name(&self) -> &'static str;

    /// Runs the transfer. Must stop promptly when `cancel` fires, and never modify anything in the
    /// `link_dests` folders (they are shared, by hard link, with older snapshots).
    fn transfer<'a>(
        &'a self,
        request: &'a TransferRequest,
        sink: &'a dyn StepSink,
        cancel: &'a CancellationToken,
    ) -> TransferFuture<'a>;
}
