//! A restore: one file or folder of a snapshot copied back, as a run of its own (`restore` step).
//!
//! Where to: a folder the owner names (`to`, on this machine: the item lands in it under its own
//! name), or next to the original as `<name>.restored-YYYY-MM-DD_HHMMSS` (on the source's machine —
//! for an SSH source over the task's managed key and known host key). With `replace` it goes onto
//! the original (or into `to`) and every file it replaces is moved aside to
//! `<name>.replaced-YYYY-MM-DD_HHMMSS` (rsync `--backup-dir`), never deleted; without it nothing
//! that exists is touched (a destination that exists is refused before the run starts, and rsync
//! runs with `--ignore-existing`).
//!
//! Invariants: the item is found beneath its snapshot without following links (`files::beneath`);
//! the copy is rsync (`--archive --hard-links --numeric-ids`, ACLs and xattrs when the task keeps
//! them), an argv list, so owner, mode, times and attributes come back as they were saved; the
//! run holds the run lock like a backup, is recorded (`runs.kind = 'restore'`, which the task's
//! backup figures leave out) with what was restored where, and can be cancelled (what was copied
//! so far stays). A request that cannot be done is refused before anything is recorded.

use super::context::{RunContext, StepEnd};
use super::EventSink;
use crate::data_dir::DataDir;
use crate::files::beneath::{open_folder, open_snapshot};
use crate::files::{FilesError, InnerPath};
use crate::history::{History, HistoryError};
use crate::lock::{LockError, RunLock};
use crate::model::config::{Config, Endpoint, SshEndpoint, Task};
use crate::model::events::{LogLevel, RunEvent, StepKind, TransferStats, Trigger};
use crate::model::units::human_bytes;
use crate::model::Status;
use crate::transfer::rsync::{exit_message, run_rsync};
use crate::transfer::StepSink;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rustix::fs::{statat, AtFlags, FileType};
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use tokio_util::sync::CancellationToken;

/// What to restore, and where.
#[derive(Clone, Debug)]
pub struct RestoreRequest {
    pub trigger: Trigger,
    pub task: String,
    pub snapshot: String,
    pub path: InnerPath,
    /// A folder on this machine to restore into; `None`: next to the original.
    pub to: Option<PathBuf>,
    /// Write onto what exists (moving each replaced file aside).
    pub replace: bool,
}

/// Where the restored item goes.
#[derive(Clone, Debug, PartialEq)]
pub enum Destination {
    Local(PathBuf),
    /// A path on the task's SSH source machine.
    Remote(SshEndpoint, Vec<u8>),
}

impl Destination {
    /// As the owner reads it: a path, or `user@host:/path`.
    pub fn shown(&self) -> String {
        match self {
            Destination::Local(p) => p.display().to_string(),
            Destination::Remote(e, p) => {
                format!("{}@{}:{}", e.user, e.host, String::from_utf8_lossy(p))
            }
        }
    }

    fn with_suffix(&self, suffix: &str) -> Destination {
        match self {
            Destination::Local(p) => {
                let mut s = p.clone().into_os_string();
                s.push(suffix);
                Destination::Local(PathBuf::from(s))
            }
            Destination::Remote(e, p) => {
                let mut p = p.clone();
                p.extend_from_slice(suffix.as_bytes());
                Destination::Remote(e.clone(), p)
            }
        }
    }

    fn path_bytes(&self) -> Vec<u8> {
        match self {
            Destination::Local(p) => p.as_os_str().as_bytes().to_vec(),
            Destination::Remote(_, p) => p.clone(),
        }
    }

    /// The rsync argument, `/` ended for a folder's contents.
    fn rsync_arg(&self, folder: bool) -> OsString {
        let mut arg = match self {
            Destination::Local(p) => p.as_os_str().as_bytes().to_vec(),
            Destination::Remote(e, p) => {
                let mut a = format!("{}@{}:", e.user, e.host).into_bytes();
                a.extend_from_slice(p);
                a
            }
        };
        if folder && arg.last() != Some(&b'/') {
            arg.push(b'/');
        }
        OsString::from_vec(arg)
    }
}

/// What a request comes to, decided before the run starts.
#[derive(Clone, Debug)]
pub struct RestorePlan {
    /// The item inside the store.
    pub source: PathBuf,
    pub folder: bool,
    pub destination: Destination,
    /// Where replaced files go (`replace` only).
    pub kept_aside: Option<Destination>,
}

/// Why a restore cannot start.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error(transparent)]
    UnknownTask(#[from] crate::model::config::UnknownTask),
    #[error(transparent)]
    Files(#[from] FilesError),
    #[error("the folder to restore into must be an absolute path, not {0:?}")]
    RelativeTo(PathBuf),
    #[error("{0} already exists and restoring never overwrites: choose another folder, or restore with replace (the files it replaces are then kept aside in {1})")]
    Exists(String, String),
    #[error("{0} is a symbolic link: a restore never writes through one; choose another folder")]
    LinkInTheWay(String),
    #[error(transparent)]
    Busy(#[from] LockError),
    #[error(transparent)]
    DataDir(#[from] crate::data_dir::CreateError),
    #[error(transparent)]
    History(#[from] HistoryError),
}

/// How a restore ended.
#[derive(Clone, Debug, PartialEq)]
pub struct RestoreReport {
    pub run_id: i64,
    pub status: Status,
    pub message: String,
    pub destination: String,
    pub stats: TransferStats,
}

/// Decides where `request` goes (`now` names the `.restored-` and `.replaced-` folders).
pub fn plan_restore(
    config: &Config,
    tz: Tz,
    request: &RestoreRequest,
    now: DateTime<Utc>,
) -> Result<RestorePlan, RestoreError> {
    let task = config.select_tasks(std::slice::from_ref(&request.task))?[0];
    let root = &config.dir_backup_local;
    let top = open_snapshot(root, &task.name, &request.snapshot)?;
    let snapshot_dir = root.join(&task.name).join(&request.snapshot);
    let path = &request.path;
    let folder = match path.components().last() {
        None => true,
        Some(name) => {
            let parent = open_folder(&top, &request.snapshot, &path.parent())?;
            let st = statat(&parent, name.as_slice(), AtFlags::SYMLINK_NOFOLLOW).map_err(|_| {
                FilesError::NotFound {
                    snapshot: request.snapshot.clone(),
                    path: path.display(),
                }
            })?;
            FileType::from_raw_mode(st.st_mode) == FileType::Directory
        }
    };
    let mut source = snapshot_dir.into_os_string().into_vec();
    for part in path.components() {
        source.push(b'/');
        source.extend_from_slice(part);
    }
    let stamp = now.with_timezone(&tz).format("%Y-%m-%d_%H%M%S").to_string();
    let destination = match &request.to {
        Some(to) => {
            if !to.is_absolute() {
                return Err(RestoreError::RelativeTo(to.clone()));
            }
            let name = match path.components().last() {
                Some(n) => n.clone(),
                None => format!("{}-{}", task.name, request.snapshot).into_bytes(),
            };
            Destination::Local(to.join(std::ffi::OsStr::from_bytes(&name)))
        }
        None => {
            let original = original(task, path);
            if request.replace {
                original
            } else {
                original.with_suffix(&format!(".restored-{stamp}"))
            }
        }
    };
    let kept_aside = request
        .replace
        .then(|| destination.with_suffix(&format!(".replaced-{stamp}")));
    if let Destination::Local(p) = &destination {
        match std::fs::symlink_metadata(p) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(RestoreError::LinkInTheWay(p.display().to_string()))
            }
            Ok(_) if !request.replace => {
                return Err(RestoreError::Exists(
                    p.display().to_string(),
                    destination
                        .with_suffix(&format!(".replaced-{stamp}"))
                        .shown(),
                ))
            }
            _ => {}
        }
    }
    Ok(RestorePlan {
        source: PathBuf::from(OsString::from_vec(source)),
        folder,
        destination,
        kept_aside,
    })
}

/// Where `path` of `task`'s snapshots came from.
fn original(task: &Task, path: &InnerPath) -> Destination {
    let join = |base: &[u8]| {
        let mut p = base.to_vec();
        while p.len() > 1 && p.last() == Some(&b'/') {
            p.pop();
        }
        for part in path.components() {
            if p.last() != Some(&b'/') {
                p.push(b'/');
            }
            p.extend_from_slice(part);
        }
        p
    };
    match &task.dir_source {
        Endpoint::Local(dir) => Destination::Local(PathBuf::from(OsString::from_vec(join(
            dir.as_os_str().as_bytes(),
        )))),
        Endpoint::Ssh(e) => Destination::Remote(e.clone(), join(e.path.as_bytes())),
    }
}

/// Restores as `request` says: plans, takes the run lock, records the run, copies, records the end.
pub async fn restore(
    data: &DataDir,
    history: &History,
    config: &Config,
    tz: Tz,
    request: RestoreRequest,
    events: EventSink,
    cancel: CancellationToken,
) -> Result<RestoreReport, RestoreError> {
    let plan = plan_restore(config, tz, &request, Utc::now())?;
    data.create()?;
    let _lock = RunLock::acquire(&data.run_lock())?;
    let started = Utc::now();
    history.close_interrupted(started).await?;
    let run_id = history.start_restore_run(request.trigger, started).await?;
    let task = request.task.clone();
    events(RunEvent::RunStarted {
        run_id,
        trigger: request.trigger,
        tasks: vec![task.clone()],
        at: started,
    });
    let ctx = RunContext {
        data: data.clone(),
        history: history.clone(),
        config: config.clone(),
        tz,
        run_id: Some(run_id),
        dry_run: false,
        events,
        cancel,
    };
    (ctx.events)(RunEvent::TaskStarted {
        run_id,
        task: task.clone(),
        at: started,
    });
    let task_run = ctx
        .db(
            "the task start",
            history.start_task(run_id, &task, 0, started),
        )
        .await;
    (ctx.events)(RunEvent::StepStarted {
        run_id,
        task: task.clone(),
        step: StepKind::Restore,
        at: started,
    });
    let (reporter, log_path) = ctx.reporter(&task, StepKind::Restore);
    let log_path = log_path.map(|p| p.display().to_string());
    let step_id = match task_run {
        Some(tr) => {
            ctx.db(
                "the step start",
                history.start_step(tr, StepKind::Restore, started, log_path.as_deref()),
            )
            .await
        }
        None => None,
    };

    let what = format!("{}:{}", request.snapshot, request.path.display());
    reporter.log(
        LogLevel::Info,
        &format!(
            "restoring {what} of task {task} to {}",
            plan.destination.shown()
        ),
    );
    let end = ctx.copy_back(config, &task, &plan, &what, &reporter).await;
    reporter.log(
        match end.status {
            Status::Success => LogLevel::Info,
            Status::Failed => LogLevel::Error,
            _ => LogLevel::Warn,
        },
        end.message.as_deref().unwrap_or_default(),
    );
    let now = Utc::now();
    if let Some(id) = step_id {
        ctx.db(
            "the step end",
            history.finish_step(
                id,
                end.status,
                end.message.as_deref(),
                end.stats.as_ref(),
                now,
            ),
        )
        .await;
    }
    ctx.step_finished(&task, StepKind::Restore, &end);
    let message = end.message.clone().unwrap_or_default();
    if let Some(tr) = task_run {
        ctx.db(
            "the task end",
            history.finish_task(
                tr,
                end.status,
                Some(&message),
                None,
                end.stats.as_ref(),
                now,
            ),
        )
        .await;
    }
    (ctx.events)(RunEvent::TaskFinished {
        run_id,
        task: task.clone(),
        status: end.status,
        snapshot: None,
        message: Some(message.clone()),
        at: now,
    });
    ctx.db(
        "the end of the run",
        history.finish_run(
            run_id,
            end.status,
            Some(&format!("restore: {message}")),
            now,
        ),
    )
    .await;
    (ctx.events)(RunEvent::RunFinished {
        run_id,
        status: end.status,
        at: now,
    });
    Ok(RestoreReport {
        run_id,
        status: end.status,
        message,
        destination: plan.destination.shown(),
        stats: end.stats.unwrap_or_default(),
    })
}

impl RunContext {
    /// The rsync of a restore, and what its end means.
    async fn copy_back(
        &self,
        config: &Config,
        task: &str,
        plan: &RestorePlan,
        what: &str,
        out: &dyn StepSink,
    ) -> StepEnd {
        let keeps_attributes = config.task(task).is_some_and(|t| t.acls_xattrs);
        let mut args: Vec<OsString> = [
            "--archive",
            "--hard-links",
            "--numeric-ids",
            "--mkpath",
            "--info=progress2",
            "--stats",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        if keeps_attributes {
            args.push("--acls".into());
            args.push("--xattrs".into());
        }
        match &plan.kept_aside {
            Some(aside) => {
                args.push("--backup".into());
                let mut a = OsString::from("--backup-dir=");
                a.push(std::ffi::OsStr::from_bytes(&aside.path_bytes()));
                args.push(a);
            }
            None => args.push("--ignore-existing".into()),
        }
        let ssh = self.data.ssh();
        let mut workdir = None;
        if let Destination::Remote(e, _) = &plan.destination {
            match ssh.rsync_rsh(e.port) {
                Ok(rsh) => {
                    args.push("--protect-args".into());
                    args.push("-e".into());
                    args.push(rsh.into());
                    workdir = ssh.workdir().map(Path::to_path_buf);
                }
                Err(e) => return StepEnd::failed(e),
            }
        }
        let mut source = plan.source.clone().into_os_string();
        if plan.folder {
            source.push("/");
        }
        args.push(source);
        args.push(plan.destination.rsync_arg(plan.folder));
        let run = run_rsync(
            std::ffi::OsStr::new("rsync"),
            &args,
            workdir.as_deref(),
            out,
            &self.cancel,
        )
        .await;
        let dest = plan.destination.shown();
        let stats = run.stats.clone();
        let counted = format!(
            "{} file(s), {}",
            stats.files_transferred,
            human_bytes(stats.bytes_transferred)
        );
        let aside = plan
            .kept_aside
            .as_ref()
            .map(|a| format!("; replaced files are kept in {}", a.shown()))
            .unwrap_or_default();
        let (status, message) = if run.cancelled {
            (
                Status::Cancelled,
                format!("cancelled: {dest} holds what was restored so far{aside}"),
            )
        } else if let Some(e) = run.spawn_error {
            (Status::Failed, e)
        } else {
            match run.code {
                Some(0) => (
                    Status::Success,
                    format!("restored {what} to {dest} ({counted}){aside}"),
                ),
                Some(23) | Some(24) => (
                    Status::Warning,
                    format!(
                        "restored {what} to {dest} ({counted}), but some files or attributes could not be written: {}{aside}",
                        run.last_error.as_deref().unwrap_or("see the log")
                    ),
                ),
                code => {
                    let denied = run
                        .stderr
                        .iter()
                        .any(|l| l.contains("Permission denied") || l.contains("Read-only file system"));
                    let why = exit_message(code, run.last_error.as_deref());
                    let message = match &plan.destination {
                        Destination::Remote(e, _) if denied => format!(
                            "the login {}@{} cannot write to {dest}: {why}. Download it instead (Snapshots → Browse → the file, or the folder as zip or tar.gz), or restore it to a folder on this server",
                            e.user, e.host
                        ),
                        _ if denied => format!("cannot write to {dest}: {why}. Restore it to another folder, or download it instead"),
                        _ => format!("the restore to {dest} failed: {why}"),
                    };
                    (Status::Failed, message)
                }
            }
        };
        StepEnd {
            status,
            message: Some(message),
            stats: Some(stats),
        }
    }
}
