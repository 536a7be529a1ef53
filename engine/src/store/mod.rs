//! The snapshot store on disk (SPEC §3): `<dir_backup_local>/<task>/`.
//!
//! ```text
//! <root>/<task>/
//!     2026-11-26_020000/     a complete snapshot (plain folder; unchanged files hard-linked)
//!     latest -> 2026-11-26_020000
//!     .incomplete/           the transfer in progress, or an interrupted one
//!     .resume/<n>/           earlier interrupted transfers, used as --link-dest when resuming
//!     .pruning/<name>/       snapshots retention has pruned, waiting to be deleted
//! ```
//!
//! Invariants: a folder gets a snapshot name only once its content is complete and flushed to disk
//! ([`TaskStore::promote`]), and names never go backwards ([`TaskStore::next_name`]); `latest` is
//! swapped atomically; a pruned snapshot leaves the listing by one atomic rename into `.pruning/`
//! ([`TaskStore::retire`]) before its files are deleted; nothing else in the task folder is touched.
//! The working folders are never followed: a symlink or file in their place fails the step with
//! [`StoreError::NotAWorkingFolder`], and a symlink among their entries is never used.
//!
//! `listing.rs` joins the folders with the history's snapshot index ([`Listing`]): what every caller
//! that shows or plans a task's snapshots reads; `pins.rs` pins and unpins ([`set_pin`]);
//! `sizes.rs` measures snapshots and keeps their sizes ([`record_sizes`]). Unit tests are in
//! `tests.rs`.

mod listing;
mod pins;
mod sizes;

pub use listing::{list_snapshots, listing, local_to_utc, plan_task, Listing, ListingError};
pub use pins::{set_pin, PinError};
pub use sizes::{record_sizes, SizesError};

use crate::model::snapshot::SnapshotName;
use std::ffi::OsStr;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Name of the folder a transfer writes into.
pub const INCOMPLETE: &str = ".incomplete";
/// Folder of earlier interrupted transfers.
pub const RESUME: &str = ".resume";
/// Folder of pruned snapshots waiting for deletion.
pub const PRUNING: &str = ".pruning";
/// The symlink to the newest complete snapshot.
pub const LATEST: &str = "latest";
/// rsync accepts at most 20 `--link-dest` folders; one is the newest snapshot.
const MAX_RESUME: usize = 19;

/// Why the store cannot take a snapshot, or an I/O step failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the store root {} does not exist — is the backup drive mounted? (Mnemosynce never creates it, so an unmounted drive cannot fill the system disk)", .0.display())]
    RootMissing(PathBuf),
    #[error("the store root {} is not a folder", .0.display())]
    RootNotDir(PathBuf),
    #[error("the store root {} is not writable: {source} (check its owner and mount options, e.g. a read-only mount)", path.display())]
    NotWritable { path: PathBuf, source: io::Error },
    #[error("the store root {} is on a filesystem without hard links ({source}); snapshots need hard links (use ext4, xfs, btrfs, zfs or a NAS share that supports them)", path.display())]
    NoHardLinks { path: PathBuf, source: io::Error },
    #[error("{} is a symlink or not a folder; Mnemosynce keeps its working folder there and never follows or deletes through such a name: remove it (rm {}) and run again", .0.display(), .0.display())]
    NotAWorkingFolder(PathBuf),
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
}

fn io_err<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// Checks that the store root exists, is writable and supports hard links (SPEC §4.4), without
/// creating it. Returns whether it also supports extended attributes.
pub fn check_root(root: &Path) -> Result<bool, StoreError> {
    let meta = match fs::metadata(root) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(StoreError::RootMissing(root.into()))
        }
        Err(source) => {
            return Err(StoreError::NotWritable {
                path: root.into(),
                source,
            })
        }
    };
    if !meta.is_dir() {
        return Err(StoreError::RootNotDir(root.into()));
    }
    let probe = root.join(format!(".mnemosynce-probe-{}", std::process::id()));
    let link = root.join(format!(".mnemosynce-probe-{}-link", std::process::id()));
    let _ = fs::remove_file(&link);
    fs::write(&probe, b"probe").map_err(|source| StoreError::NotWritable {
        path: root.into(),
        source,
    })?;
    let linked = fs::hard_link(&probe, &link);
    let xattrs = supports_xattrs(&probe);
    let _ = fs::remove_file(&link);
    let _ = fs::remove_file(&probe);
    linked.map_err(|source| StoreError::NoHardLinks {
        path: root.into(),
        source,
    })?;
    Ok(xattrs)
}

/// True when a `user.` extended attribute can be set on `file`.
fn supports_xattrs(file: &Path) -> bool {
    let Ok(c_path) = std::ffi::CString::new(file.as_os_str().as_bytes()) else {
        return false;
    };
    let name = c"user.mnemosynce.probe";
    // SAFETY: both pointers are valid NUL-terminated strings and the value is a valid 1-byte buffer.
    let rc = unsafe { libc::setxattr(c_path.as_ptr(), name.as_ptr(), b"1".as_ptr().cast(), 1, 0) };
    rc == 0
}

/// One task's folder in the store.
#[derive(Clone, Debug)]
pub struct TaskStore {
    dir: PathBuf,
}

impl TaskStore {
    /// The folder of `task` under `root`. The task name must already be validated by the config.
    pub fn new(root: &Path, task: &str) -> TaskStore {
        TaskStore {
            dir: root.join(task),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn incomplete(&self) -> PathBuf {
        self.dir.join(INCOMPLETE)
    }

    /// The working folder `name` (`.incomplete`, `.resume`, `.pruning`) of the task folder: `None`
    /// when it does not exist, its path when it is a real folder, and
    /// [`StoreError::NotAWorkingFolder`] when the name is a symlink (even to a folder) or a file.
    fn working_dir(&self, name: &str) -> Result<Option<PathBuf>, StoreError> {
        let path = self.dir.join(name);
        match fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_dir() => Ok(Some(path)),
            Ok(_) => Err(StoreError::NotAWorkingFolder(path)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::Io {
                what: "cannot inspect",
                path,
                source: e,
            }),
        }
    }

    /// The working folder `name`, created when missing (never through a symlink: see
    /// [`TaskStore::working_dir`]).
    fn ensure_working_dir(&self, name: &str) -> Result<PathBuf, StoreError> {
        if let Some(p) = self.working_dir(name)? {
            return Ok(p);
        }
        let path = self.dir.join(name);
        match fs::create_dir(&path) {
            Ok(()) => Ok(path),
            // Made meanwhile: checked again, so a symlink planted in between is refused too.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => self
                .working_dir(name)?
                .ok_or(StoreError::NotAWorkingFolder(path)),
            Err(e) => Err(StoreError::Io {
                what: "cannot create",
                path,
                source: e,
            }),
        }
    }

    pub fn snapshot_path(&self, name: &SnapshotName) -> PathBuf {
        self.dir.join(name.to_string())
    }

    /// Creates the task folder (not the root) if it is missing, mode 0755 whatever the process's
    /// umask (the binary runs with 077 to keep its data directory private; the store stays
    /// readable for restores with `cp`, like the snapshots in it).
    pub fn ensure_dir(&self) -> Result<(), StoreError> {
        use std::os::unix::fs::PermissionsExt;
        match fs::create_dir(&self.dir) {
            Ok(()) => fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o755))
                .map_err(io_err("cannot set the mode of", &self.dir)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(StoreError::Io {
                what: "cannot create the task folder",
                path: self.dir.clone(),
                source: e,
            }),
        }
    }

    /// The snapshots in this task folder, oldest first. Only real folders (not symlinks) whose names
    /// parse as snapshot names count. A missing task folder has no snapshots.
    pub fn snapshots(&self) -> Result<Vec<SnapshotName>, StoreError> {
        self.snapshots_in(&self.dir)
    }

    /// The snapshots in any folder laid out like a task folder (e.g. a mirror's), oldest first.
    pub fn snapshots_in(&self, dir: &Path) -> Result<Vec<SnapshotName>, StoreError> {
        let entries = match fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(StoreError::Io {
                    what: "cannot list the task folder",
                    path: dir.to_path_buf(),
                    source: e,
                })
            }
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_err("cannot list the task folder", dir))?;
            let Some(name) = entry.file_name().to_str().and_then(SnapshotName::parse) else {
                continue;
            };
            if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    /// The snapshot just before `name` (the one a run of `name` hard-linked against), if any.
    pub fn before(&self, name: &SnapshotName) -> Result<Option<SnapshotName>, StoreError> {
        Ok(self.snapshots()?.into_iter().rfind(|n| n < name))
    }

    /// The newest snapshot, if any.
    pub fn newest(&self) -> Result<Option<SnapshotName>, StoreError> {
        Ok(self.snapshots()?.pop())
    }

    /// Prepares `.incomplete/` for a transfer and returns the folders to pass as `--link-dest`
    /// besides the newest snapshot. An interrupted transfer is kept: it moves to `.resume/<n>/` and
    /// becomes a link source, so files it already holds are linked instead of transferred again,
    /// while nothing in it (shared by hard link with older snapshots) is ever modified in place.
    pub fn prepare_incomplete(&self) -> Result<Vec<PathBuf>, StoreError> {
        let incomplete = self.incomplete();
        self.working_dir(RESUME)?;
        if let Some(incomplete) = self.working_dir(INCOMPLETE)? {
            let resume = self.ensure_working_dir(RESUME)?;
            let next = self
                .resume_dirs()?
                .iter()
                .filter_map(|(n, _)| n.checked_add(1))
                .max()
                .unwrap_or(1);
            let target = resume.join(next.to_string());
            fs::rename(&incomplete, &target)
                .map_err(io_err("cannot move the interrupted transfer to", &target))?;
        }
        let mut dirs = self.resume_dirs()?;
        // Newest first; drop the oldest beyond rsync's limit.
        dirs.sort_by_key(|d| std::cmp::Reverse(d.0));
        for (_, old) in dirs.iter().skip(MAX_RESUME) {
            fs::remove_dir_all(old)
                .map_err(io_err("cannot delete the old interrupted transfer", old))?;
        }
        fs::create_dir(&incomplete).map_err(io_err("cannot create", &incomplete))?;
        Ok(dirs.into_iter().take(MAX_RESUME).map(|(_, p)| p).collect())
    }

    /// The numbered folders in `.resume/`; a symlink or file among them is skipped (never a link
    /// source, never deleted through).
    fn resume_dirs(&self) -> Result<Vec<(u64, PathBuf)>, StoreError> {
        let Some(resume) = self.working_dir(RESUME)? else {
            return Ok(Vec::new());
        };
        let entries = fs::read_dir(&resume).map_err(io_err("cannot list", &resume))?;
        let mut out = Vec::new();
        for entry in entries.flatten() {
            if !entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            if let Some(n) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u64>().ok())
            {
                out.push((n, entry.path()));
            }
        }
        Ok(out)
    }

    /// A free snapshot name for a snapshot taken at `now` (local time in the configured zone).
    /// Names only move forward: if the clock is behind the newest snapshot (or the name is taken),
    /// the name is one second after the newest, so `latest` and retention stay right.
    /// Returns the name and whether the clock looked wrong.
    pub fn next_name(
        &self,
        now: chrono::NaiveDateTime,
    ) -> Result<(SnapshotName, bool), StoreError> {
        let mut name = SnapshotName::at(now);
        let mut clock_behind = false;
        if let Some(newest) = self.newest()? {
            if name <= newest {
                clock_behind =
                    name.local_time() + chrono::Duration::seconds(1) < newest.local_time();
                name = newest.next_second();
            }
        }
        while fs::symlink_metadata(self.snapshot_path(&name)).is_ok() {
            name = name.next_second();
        }
        Ok((name, clock_behind))
    }

    /// Turns the finished `.incomplete/` into snapshot `name`: flush its data to disk, rename it,
    /// flush the task folder, point `latest` at it, and drop the resume folders.
    pub fn promote(&self, name: &SnapshotName) -> Result<PathBuf, StoreError> {
        let incomplete = self.incomplete();
        sync_filesystem(&incomplete)
            .map_err(io_err("cannot flush the snapshot to disk", &incomplete))?;
        let target = self.snapshot_path(name);
        if fs::symlink_metadata(&target).is_ok() {
            return Err(StoreError::Io {
                what: "refusing to overwrite the existing snapshot",
                path: target,
                source: io::Error::from(io::ErrorKind::AlreadyExists),
            });
        }
        fs::rename(&incomplete, &target)
            .map_err(io_err("cannot rename the finished snapshot to", &target))?;
        fsync_dir(&self.dir).map_err(io_err("cannot flush", &self.dir))?;
        self.point_latest_to_newest()?;
        if let Some(resume) = self.working_dir(RESUME)? {
            fs::remove_dir_all(&resume).map_err(io_err("cannot delete", &resume))?;
        }
        Ok(target)
    }

    /// Points `latest` at the newest snapshot (atomically: a new symlink renamed over the old one).
    /// Without snapshots, `latest` is left as it is.
    pub fn point_latest_to_newest(&self) -> Result<(), StoreError> {
        let Some(newest) = self.newest()? else {
            return Ok(());
        };
        let latest = self.dir.join(LATEST);
        if let Ok(meta) = fs::symlink_metadata(&latest) {
            if !meta.file_type().is_symlink() {
                // Something of the user's is called `latest`: never touch it.
                return Ok(());
            }
            if fs::read_link(&latest).ok().as_deref() == Some(Path::new(&newest.to_string())) {
                return Ok(());
            }
        }
        let tmp = self.dir.join(".latest.tmp");
        let _ = fs::remove_file(&tmp);
        std::os::unix::fs::symlink(newest.to_string(), &tmp)
            .map_err(io_err("cannot create", &tmp))?;
        fs::rename(&tmp, &latest).map_err(io_err("cannot replace", &latest))?;
        fsync_dir(&self.dir).map_err(io_err("cannot flush", &self.dir))
    }

    /// Moves pruned snapshots out of the listing into `.pruning/` (one atomic rename each).
    /// Only names that parse as snapshot names are accepted; anything else is refused.
    pub fn retire(&self, name: &SnapshotName) -> Result<(), StoreError> {
        let from = self.snapshot_path(name);
        let pruning = self.ensure_working_dir(PRUNING)?;
        let to = pruning.join(name.to_string());
        if fs::symlink_metadata(&to).is_ok() {
            fs::remove_dir_all(&to).map_err(io_err("cannot delete", &to))?;
        }
        fs::rename(&from, &to).map_err(io_err("cannot move the pruned snapshot", &from))?;
        Ok(())
    }

    /// The retired snapshots waiting to be deleted (real folders with snapshot names in
    /// `.pruning/`); an error when `.pruning` itself is a symlink or not a folder.
    pub fn retired(&self) -> Result<Vec<PathBuf>, StoreError> {
        let Some(pruning) = self.working_dir(PRUNING)? else {
            return Ok(Vec::new());
        };
        let entries = fs::read_dir(&pruning).map_err(io_err("cannot list", &pruning))?;
        let mut out: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| {
                e.file_type().is_ok_and(|t| t.is_dir())
                    && e.file_name()
                        .to_str()
                        .and_then(SnapshotName::parse)
                        .is_some()
            })
            .map(|e| e.path())
            .collect();
        out.sort();
        Ok(out)
    }

    /// The names in the task folder that are none of Mnemosynce's (not snapshot-named, not its
    /// working folders or `latest`), sorted, for the retention step to report. They are never
    /// touched.
    pub fn unexpected_entries(&self) -> Vec<String> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut out: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name())
            .filter(|n| !is_managed_name(n) && n != ".latest.tmp")
            .map(|n| n.to_string_lossy().into_owned())
            .collect();
        out.sort();
        out
    }

    /// True when `path` (a source folder or snapshot) is missing or has no entries.
    pub fn is_empty_dir(path: &Path) -> bool {
        match fs::read_dir(path) {
            Ok(mut it) => it.next().is_none(),
            Err(_) => true,
        }
    }
}

/// Flushes the whole filesystem that holds `path` (`syncfs`): the cheapest way to make sure every
/// file of a fresh snapshot is on disk before it gets its final name.
fn sync_filesystem(path: &Path) -> io::Result<()> {
    let dir = fs::File::open(path)?;
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is open for the duration of the call.
    let rc = unsafe { libc::syncfs(dir.as_raw_fd()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Makes a rename inside `dir` durable.
fn fsync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// True when a file name is one Mnemosynce manages in a task folder (snapshots and its own dot
/// folders); used to keep everything else out of deletions.
pub fn is_managed_name(name: &OsStr) -> bool {
    let s = name.to_str().unwrap_or("");
    SnapshotName::parse(s).is_some() || matches!(s, INCOMPLETE | RESUME | PRUNING | LATEST)
}

#[cfg(test)]
mod tests;
