//! The mechanics of the mirror (SPEC §6.1): where a task's mirror lives ([`MirrorTarget`]: a local
//! folder or `<endpoint>/<task>` over SSH), how to prepare it, list its snapshots and name it to
//! rsync, and the filter rules of the transfer ([`filter_args`]). The step itself, with its two
//! safety valves, is `run/mirror.rs`.
//!
//! Invariants: the mirror's root is never created (an unmounted NAS must not fill the local disk).
//! Only `latest`, names of the form Mnemosynce writes (`YYYY-MM-DD_HHMMSS`) and the `YYYY-MM-DD`
//! folders the owner adopted (`mnemosynce adopt`) at the top of the mirror's task folder are
//! subject to `--delete`; anything else there, an unadopted date folder included, is protected, and
//! Mnemosynce's own working folders are excluded.

use crate::model::config::{Endpoint, SshEndpoint};
use crate::model::snapshot::SnapshotName;
use crate::ssh::{list_remote, rsync_remote_arg, RemoteError, SshDir};
use crate::store::{TaskStore, INCOMPLETE, PRUNING, RESUME};
use std::ffi::OsString;
use std::path::PathBuf;

/// The rsync filter rules of a mirror transfer, in order (the first matching rule wins).
/// `adopted` are the task's adopted names (`History::adopted_names`); only those that are
/// `YYYY-MM-DD` snapshot names become rules, so nothing else can reach the filter.
pub fn filter_args(adopted: &[String]) -> Vec<OsString> {
    let d = "[0-9]";
    let date = format!("{d}{d}{d}{d}-{d}{d}-{d}{d}");
    let time = format!("{d}{d}{d}{d}{d}{d}");
    let mut rules = vec![
        format!("--exclude=/{INCOMPLETE}/"),
        format!("--exclude=/{RESUME}/"),
        format!("--exclude=/{PRUNING}/"),
        "--exclude=/.latest.tmp".to_string(),
        format!("--filter=risk /{date}_{time}"),
    ];
    for name in adopted {
        if SnapshotName::parse(name).is_some_and(|n| n.is_legacy()) {
            rules.push(format!("--filter=risk /{name}"));
        }
    }
    rules.push("--filter=risk /latest".to_string());
    rules.push("--filter=protect /*".to_string());
    rules.into_iter().map(OsString::from).collect()
}

/// Where the mirror of one task lives.
#[derive(Clone, Debug)]
pub enum MirrorTarget {
    /// A local folder (e.g. a mounted NAS): `<root>/<task>`.
    Local { root: PathBuf, task_dir: PathBuf },
    /// A folder on another machine: `<endpoint path>/<task>` over SSH.
    Ssh { endpoint: SshEndpoint, task: String },
}

impl MirrorTarget {
    /// The target for `task` (a validated task name).
    pub fn for_task(remote: &Endpoint, task: &str) -> MirrorTarget {
        match remote {
            Endpoint::Local(root) => MirrorTarget::Local {
                root: root.clone(),
                task_dir: root.join(task),
            },
            Endpoint::Ssh(e) => MirrorTarget::Ssh {
                endpoint: e.clone(),
                task: task.to_string(),
            },
        }
    }

    /// Checks the target's root is there. Its root is never created: an unmounted NAS must not be
    /// filled on the local disk, and a typo must not scatter folders on a remote machine. A local
    /// task folder is created here; a remote one by rsync.
    pub async fn prepare(&self, ssh: &SshDir) -> Result<(), String> {
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
            MirrorTarget::Ssh { endpoint, .. } => match list_remote(ssh, endpoint, None).await {
                Ok(_) => Ok(()),
                Err(RemoteError::Missing) => Err(format!(
                    "the mirror folder {} does not exist on {} — create it there (Mnemosynce never creates it)",
                    endpoint.path, endpoint.host
                )),
                Err(RemoteError::Failed(m)) => Err(m),
            },
        }
    }

    /// The snapshots the mirror holds for this task.
    pub async fn snapshots(&self, ssh: &SshDir) -> Result<Vec<SnapshotName>, String> {
        match self {
            MirrorTarget::Local { task_dir, root } => TaskStore::new(root, "")
                .snapshots_in(task_dir)
                .map_err(|e| format!("cannot list the mirror: {e}")),
            MirrorTarget::Ssh { endpoint, task } => {
                match list_remote(ssh, endpoint, Some(task)).await {
                    Ok(names) => {
                        let mut v: Vec<SnapshotName> = names
                            .iter()
                            .filter_map(|n| SnapshotName::parse(n))
                            .collect();
                        v.sort();
                        Ok(v)
                    }
                    Err(RemoteError::Missing) => Ok(Vec::new()),
                    Err(RemoteError::Failed(m)) => Err(format!("cannot list the mirror: {m}")),
                }
            }
        }
    }

    /// The rsync arguments that name the destination (and, over SSH, how to get there).
    pub fn rsync_dest_args(&self, ssh: &SshDir) -> Result<Vec<OsString>, String> {
        match self {
            MirrorTarget::Local { task_dir, .. } => {
                let mut s = task_dir.clone().into_os_string();
                s.push("/");
                Ok(vec![s])
            }
            MirrorTarget::Ssh { endpoint, task } => Ok(vec![
                "--protect-args".into(),
                "-e".into(),
                ssh.rsync_rsh(endpoint.port)?.into(),
                rsync_remote_arg(endpoint, Some(task)),
            ]),
        }
    }
}
