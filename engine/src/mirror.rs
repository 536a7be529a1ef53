//! The mirror step (SPEC §6.1): copy a task folder to `dir_backup_remote`, with its safety valves.
//!
//! `<root>/<task>/` is mirrored to `<remote>/<task>/` by rsync with `--hard-links` (so the mirror costs
//! no more space than the local store) and `--delete` (so pruned snapshots go away there too). Two
//! valves stand before any deletion on the mirror:
//! 1. no mirror without at least one complete local snapshot: a wiped or unmounted store must never
//!    wipe the mirror;
//! 2. a snapshot that exists only on the mirror may be deleted only if the retention policy would
//!    prune it; otherwise the step refuses and names the snapshots.
//!
//! Only snapshot-named folders and `latest` at the top of the mirror's task folder are subject to
//! `--delete`; anything else there is protected, and Mnemosynce's own working folders are excluded.

use crate::model::config::Endpoint;
use crate::model::snapshot::SnapshotName;
use crate::store::{TaskStore, INCOMPLETE, PRUNING, RESUME};
use std::ffi::OsString;
use std::path::PathBuf;

/// The rsync filter rules of a mirror transfer, in order (the first matching rule wins).
pub fn filter_args() -> Vec<OsString> {
    let d = "[0-9]";
    let date = format!("{d}{d}{d}{d}-{d}{d}-{d}{d}");
    let time = format!("{d}{d}{d}{d}{d}{d}");
    [
        format!("--exclude=/{INCOMPLETE}/"),
        format!("--exclude=/{RESUME}/"),
        format!("--exclude=/{PRUNING}/"),
        "--exclude=/.latest.tmp".to_string(),
        format!("--filter=risk /{date}_{time}"),
        format!("--filter=risk /{date}"),
        "--filter=risk /latest".to_string(),
        "--filter=protect /*".to_string(),
    ]
    .into_iter()
    .map(OsString::from)
    .collect()
}

/// Where the mirror of one task lives.
#[derive(Clone, Debug)]
pub enum MirrorTarget {
    /// A local folder (e.g. a mounted NAS): `<root>/<task>`.
    Local { root: PathBuf, task_dir: PathBuf },
}

impl MirrorTarget {
    /// Resolves the target for `task`, or says why it cannot be used.
    pub fn for_task(remote: &Endpoint, task: &str) -> Result<MirrorTarget, String> {
        match remote {
            Endpoint::Local(root) => Ok(MirrorTarget::Local { root: root.clone(), task_dir: root.join(task) }),
            Endpoint::Ssh(e) => Err(format!(
                "mirroring over SSH ({e}) is not supported by this version yet; use a mounted folder for now"
            )),
        }
    }

    /// Checks the target is there (never creates its root: an unmounted NAS must not be filled on
    /// the local disk) and creates the task folder in it.
    pub fn prepare(&self) -> Result<(), String> {
        match self {
            MirrorTarget::Local { root, task_dir } => {
                if !root.is_dir() {
                    return Err(format!(
                        "the mirror target {} does not exist — is the NAS or drive mounted? (Mnemosynce never creates it)",
                        root.display()
                    ));
                }
                std::fs::create_dir_all(task_dir)
                    .map_err(|e| format!("cannot create {} on the mirror: {e}", task_dir.display()))
            }
        }
    }

    /// The snapshots the mirror holds for this task.
    pub fn snapshots(&self) -> Result<Vec<SnapshotName>, String> {
        match self {
            MirrorTarget::Local { task_dir, root } => TaskStore::new(root, "")
                .snapshots_in(task_dir)
                .map_err(|e| format!("cannot list the mirror: {e}")),
        }
    }

    /// The rsync destination argument.
    pub fn rsync_dest(&self) -> OsString {
        match self {
            MirrorTarget::Local { task_dir, .. } => {
                let mut s = task_dir.clone().into_os_string();
                s.push("/");
                s
            }
        }
    }
}
