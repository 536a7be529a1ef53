//! The shared state of one native snapshot ([`Job`]) and the small helpers every part of it uses:
//! the work queue of directories, a directory's pending-children counter ([`DirNode`]), the
//! per-folder handles, stopping (cancel or [`Fatal`]) and reporting source problems.
//!
//! Invariants: a [`Fatal`] error (the snapshot cannot be written) stops every worker and is the
//! transfer's end; a source problem never stops the walk (vanished: a warning; unreadable: the
//! snapshot is partial); a poisoned lock is taken over, never a panic.
//! The walk is in `walk.rs`, hard-link groups in `links.rs`, copying in `copy.rs`, the unchanged
//! test in `unchanged.rs`, counters and the end in `counters.rs`.

use super::counters::{Counters, Problems};
use super::exclude::ExcludeSet;
use super::links::{FreshGroup, Group};
use super::sys::Time;
use crate::model::events::LogLevel;
use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::{self, Metadata};
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

#[derive(Default)]
pub(super) struct Queue {
    pub(super) dirs: Vec<Arc<DirNode>>,
    /// Workers reading a directory right now (they may still add more).
    pub(super) busy: usize,
}

/// A directory of the snapshot whose metadata is set once its last child is in place.
pub(super) struct DirNode {
    pub(super) rel: Vec<u8>,
    pub(super) parent: Option<Arc<DirNode>>,
    /// 1 for the directory's own listing + 1 per child directory or hard link not finished yet.
    pub(super) pending: AtomicUsize,
    pub(super) mode: u32,
    pub(super) uid: u32,
    pub(super) gid: u32,
    pub(super) mtime: Time,
}

impl DirNode {
    pub(super) fn new(rel: Vec<u8>, parent: Option<Arc<DirNode>>, meta: &Metadata) -> Arc<Self> {
        Arc::new(DirNode {
            rel,
            parent,
            pending: AtomicUsize::new(1),
            mode: meta.mode(),
            uid: meta.uid(),
            gid: meta.gid(),
            mtime: mtime_of(meta),
        })
    }
}

/// The directory being read, in the source, the snapshot and each earlier tree: the entries' calls
/// go through these handles instead of resolving whole paths again for every file.
pub(super) struct DirHandles {
    pub(super) src: OwnedFd,
    /// `None` in a dry run.
    pub(super) dest: Option<OwnedFd>,
    /// One per `link_dests` tree; `None` where that tree has no such folder.
    pub(super) links: Vec<Option<OwnedFd>>,
}

/// A failure to write the snapshot: the whole transfer stops.
pub(super) struct Fatal(pub(super) String);

/// One snapshot being made: what the request asked for, and the state the workers share.
pub(super) struct Job {
    pub(super) src: PathBuf,
    pub(super) dest: PathBuf,
    pub(super) link_dests: Vec<PathBuf>,
    pub(super) excludes: ExcludeSet,
    pub(super) root_dev: Option<u64>,
    /// (device, inode) of the snapshot folder being filled, its task folder and the store root:
    /// never walked, even when the store lies inside the source.
    pub(super) store_dirs: Vec<(u64, u64)>,
    pub(super) xattrs: bool,
    pub(super) dry_run: bool,
    pub(super) as_root: bool,
    pub(super) cancel: CancellationToken,
    pub(super) stop: AtomicBool,
    pub(super) queue: Mutex<Queue>,
    pub(super) wake: Condvar,
    pub(super) groups: Mutex<HashMap<(u64, u64), Group>>,
    pub(super) relinks: Mutex<Vec<FreshGroup>>,
    pub(super) temp_names: AtomicU64,
    /// Bytes per second, when the task limits its transfer.
    pub(super) bwlimit: Option<u64>,
    pub(super) limited_bytes: AtomicU64,
    pub(super) started: Instant,
    pub(super) count: Counters,
    pub(super) problems: Mutex<Problems>,
    pub(super) log: mpsc::UnboundedSender<(LogLevel, String)>,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(super) fn mtime_of(meta: &Metadata) -> Time {
    Time {
        sec: meta.mtime(),
        nsec: meta.mtime_nsec(),
    }
}

/// The folders of the store around `dest` (`<root>/<task>/.incomplete`): itself, its task folder and
/// the store root.
pub(super) fn store_dirs(dest: &Path) -> Vec<(u64, u64)> {
    dest.ancestors()
        .take(3)
        .filter_map(|dir| fs::metadata(dir).ok())
        .map(|m| (m.dev(), m.ino()))
        .collect()
}

pub(super) fn child(rel: &[u8], name: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rel.len() + 1 + name.len());
    if !rel.is_empty() {
        out.extend_from_slice(rel);
        out.push(b'/');
    }
    out.extend_from_slice(name);
    out
}

pub(super) fn under(root: &Path, rel: &[u8]) -> PathBuf {
    if rel.is_empty() {
        root.to_path_buf()
    } else {
        root.join(OsStr::from_bytes(rel))
    }
}

pub(super) fn show(rel: &[u8]) -> String {
    String::from_utf8_lossy(rel).into_owned()
}

pub(super) fn kind_of(meta: &Metadata) -> u32 {
    meta.mode() & libc::S_IFMT
}

impl Job {
    pub(super) fn run(&self, root: Arc<DirNode>, threads: usize) {
        lock(&self.queue).dirs.push(root);
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| self.worker());
            }
        });
        self.relink_groups();
    }

    /// Whether the workers should stop (a fatal error, or the run was cancelled). Never takes the
    /// queue's lock, so it may be called with it held.
    pub(super) fn stopped(&self) -> bool {
        if self.stop.load(Ordering::Relaxed) {
            return true;
        }
        if self.cancel.is_cancelled() {
            self.stop.store(true, Ordering::Relaxed);
            self.wake.notify_all();
            return true;
        }
        false
    }

    pub(super) fn halt(&self) {
        self.stop.store(true, Ordering::Relaxed);
        self.wake.notify_all();
    }

    pub(super) fn fatal(&self, message: String) {
        lock(&self.problems).fatal.get_or_insert(message);
        self.halt();
    }

    pub(super) fn say(&self, level: LogLevel, line: String) {
        let _ = self.log.send((level, line));
    }

    /// Something in the source could not be read: vanished entries are a warning, anything else
    /// makes the snapshot partial. The walk goes on either way.
    pub(super) fn source_problem(&self, rel: &[u8], e: &io::Error) {
        // The whole source path, as rsync names it: the user can paste it into `ls -l`.
        let path = under(&self.src, rel).display().to_string();
        let gone = matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::ELOOP));
        if gone {
            self.say(LogLevel::Warn, format!("file has vanished: {path}"));
            lock(&self.problems).vanished.push(path);
        } else {
            self.say(LogLevel::Error, format!("cannot read {path}: {e}"));
            lock(&self.problems).unreadable.push(path);
        }
    }
}
