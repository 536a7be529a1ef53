//! The native local-to-local snapshotter: Mnemosynce makes the snapshot itself instead of running
//! `rsync --link-dest`, for the common case of a source folder on the same machine.
//!
//! # How a snapshot is made
//!
//! The source is walked by a few worker threads sharing a stack of directories to read (depth
//! first, so memory follows the tree's depth and width, never its size: no file list is held). For
//! each entry the earlier trees of the request (`link_dests`: the newest snapshot, then interrupted
//! transfers) are asked in order for the same path; when one holds an entry that matches in
//! **everything** — type, size, modification time to the nanosecond, permission bits, owner and
//! group (when running as root, the only case in which they can be kept), symlink target, device
//! number, and the extended attributes and ACLs when they are kept — the new snapshot gets a hard
//! link to it. Anything else is copied: to a temporary name in the same folder, then renamed, so a
//! half-written file never carries a real name. A copy never writes into a file an older snapshot
//! owns, which is why a metadata-only change (a `chmod`) gives the new snapshot its own copy and
//! leaves the old one as it was — the mistake `cp -al` followed by `rsync` makes.
//!
//! Directories are created when they are met and get their owner, mode, attributes and
//! modification time only after all their children are in place (a counter of unfinished children
//! per directory), since adding a child changes a directory's time and a read-only mode would stop
//! the children being written. Files that share an inode inside the source stay linked to each
//! other in the snapshot (rsync `-H`). Sparse files keep their holes (`SEEK_DATA`/`SEEK_HOLE`), and
//! data is copied with `copy_file_range`, which lets a filesystem that can clone (btrfs, XFS) do so.
//!
//! # Problems along the way
//!
//! As with rsync (SPEC §4.2): an entry that disappears between being listed and being read, or that
//! changes while it is copied, makes the transfer end as [`TransferEnd::Vanished`] (a success with
//! a warning; a file copied while it changed keeps the time it had *before*, so the next run copies
//! it again); an entry that cannot be read (permission denied) is reported and the rest goes on,
//! ending as [`TransferEnd::Partial`]; a failure to write the snapshot (disk full, read-only store)
//! stops everything and ends as [`TransferEnd::Failed`]. Cancelling stops the workers at the next
//! entry and leaves `.incomplete/` to be resumed.
//!
//! Excludes follow rsync's pattern rules ([`exclude::ExcludeSet`]); `one_file_system` keeps a mount
//! point as an empty folder, as `rsync -x` does.

pub mod exclude;
mod sys;

use super::{StepSink, Transfer, TransferEnd, TransferFuture, TransferOutcome, TransferRequest};
use crate::model::config::Endpoint;
use crate::model::events::{LogLevel, Progress, TransferStats};
use exclude::ExcludeSet;
use std::collections::HashMap;
use std::ffi::{CStr, CString, OsStr};
use std::fs::{self, File, Metadata};
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use sys::Time;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Progress events are sent at most this often.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// The native implementation of [`Transfer`], for local sources only.
#[derive(Clone, Debug, Default)]
pub struct NativeTransfer {
    /// Worker threads; 0 = one per core (at least 2, at most 8).
    pub threads: usize,
}

impl Transfer for NativeTransfer {
    fn name(&self) -> &'static str {
        "native"
    }

    fn transfer<'a>(
        &'a self,
        request: &'a TransferRequest,
        sink: &'a dyn StepSink,
        cancel: &'a CancellationToken,
    ) -> TransferFuture<'a> {
        Box::pin(run(self.threads, request, sink, cancel))
    }
}

fn failed(message: String) -> TransferOutcome {
    TransferOutcome {
        end: TransferEnd::Failed { message },
        stats: TransferStats::default(),
    }
}

async fn run(
    threads: usize,
    request: &TransferRequest,
    sink: &dyn StepSink,
    cancel: &CancellationToken,
) -> TransferOutcome {
    let source = match &request.source {
        Endpoint::Local(path) => path.clone(),
        Endpoint::Ssh(e) => {
            return failed(format!(
                "the native snapshotter copies local folders only; {e} needs engine: rsync"
            ))
        }
    };
    let excludes = match ExcludeSet::new(&request.excludes) {
        Ok(x) => x,
        Err(m) => return failed(m),
    };
    let root_meta = match fs::metadata(&source) {
        Ok(m) if m.is_dir() => m,
        Ok(_) => return failed(format!("the source {} is not a folder", source.display())),
        Err(e) => return failed(format!("cannot read the source {}: {e}", source.display())),
    };
    let threads = if threads == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .clamp(2, 8)
    } else {
        threads
    };
    let (log_tx, mut log_rx) = mpsc::unbounded_channel();
    let job = Arc::new(Job {
        src: source,
        dest: request.dest.clone(),
        link_dests: request.link_dests.clone(),
        excludes,
        root_dev: request.one_file_system.then(|| root_meta.dev()),
        store_dirs: store_dirs(&request.dest),
        xattrs: request.acls_xattrs,
        dry_run: request.dry_run,
        // SAFETY: geteuid has no preconditions and cannot fail.
        as_root: unsafe { libc::geteuid() } == 0,
        cancel: cancel.clone(),
        stop: AtomicBool::new(false),
        queue: Mutex::new(Queue::default()),
        wake: Condvar::new(),
        groups: Mutex::new(HashMap::new()),
        relinks: Mutex::new(Vec::new()),
        temp_names: AtomicU64::new(0),
        bwlimit: request.bwlimit_kbps.map(|k| u64::from(k.max(1)) * 1024),
        limited_bytes: AtomicU64::new(0),
        started: Instant::now(),
        count: Counters::default(),
        problems: Mutex::new(Problems::default()),
        log: log_tx,
    });
    let started = Instant::now();
    let worker = job.clone();
    let root = DirNode::new(Vec::new(), None, &root_meta);
    let mut work = tokio::task::spawn_blocking(move || worker.run(root, threads));
    let mut tick = tokio::time::interval(PROGRESS_EVERY);
    tick.tick().await;
    let joined = loop {
        tokio::select! {
            joined = &mut work => break joined,
            Some((level, line)) = log_rx.recv() => sink.log(level, &line),
            _ = tick.tick() => sink.progress(job.progress(started)),
        }
    };
    while let Ok((level, line)) = log_rx.try_recv() {
        sink.log(level, &line);
    }
    if let Err(e) = joined {
        job.fatal(format!("the snapshot workers stopped unexpectedly: {e}"));
    }
    sink.progress(job.progress(started));
    job.outcome(started, sink)
}

/// Files and bytes counted so far (shared by the workers, read for progress events).
#[derive(Default)]
struct Counters {
    /// Entries listed in the source (excluded ones not counted).
    seen: AtomicU64,
    /// Entries placed in the snapshot.
    done: AtomicU64,
    files_copied: AtomicU64,
    files_linked: AtomicU64,
    bytes_total: AtomicU64,
    /// Bytes of the files placed (linked or copied).
    bytes_done: AtomicU64,
    bytes_copied: AtomicU64,
}

#[derive(Default)]
struct Problems {
    vanished: Vec<String>,
    unreadable: Vec<String>,
    fatal: Option<String>,
}

#[derive(Default)]
struct Queue {
    dirs: Vec<Arc<DirNode>>,
    /// Workers reading a directory right now (they may still add more).
    busy: usize,
}

/// A directory of the snapshot whose metadata is set once its last child is in place.
struct DirNode {
    rel: Vec<u8>,
    parent: Option<Arc<DirNode>>,
    /// 1 for the directory's own listing + 1 per child directory or hard link not finished yet.
    pending: AtomicUsize,
    mode: u32,
    uid: u32,
    gid: u32,
    mtime: Time,
}

impl DirNode {
    fn new(rel: Vec<u8>, parent: Option<Arc<DirNode>>, meta: &Metadata) -> Arc<Self> {
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

/// Files sharing one inode in the source (while not all their names have been met).
enum Group {
    /// The first name is being placed; the others met meanwhile wait for it.
    Busy {
        waiters: Vec<(Vec<u8>, Arc<DirNode>)>,
        seen: u64,
    },
    /// Placed as `first`; later names are linked to it.
    Done {
        first: PathBuf,
        seen: u64,
        /// Set when `first` is a fresh copy rather than a link to an earlier snapshot.
        fresh: Option<Box<FreshGroup>>,
    },
}

/// A group placed as a fresh copy: its names so far, and an unchanged earlier copy found under one
/// of its later names.
struct FreshGroup {
    members: Vec<(Vec<u8>, Arc<DirNode>)>,
    earlier: Option<PathBuf>,
}

/// How an entry got into the snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Placed {
    Linked,
    Copied,
    /// It could not be read (reported); nothing was made.
    Missing,
}

/// The directory being read, in the source, the snapshot and each earlier tree: the entries' calls
/// go through these handles instead of resolving whole paths again for every file.
struct DirHandles {
    src: OwnedFd,
    /// `None` in a dry run.
    dest: Option<OwnedFd>,
    /// One per `link_dests` tree; `None` where that tree has no such folder.
    links: Vec<Option<OwnedFd>>,
}

/// A failure to write the snapshot: the whole transfer stops.
struct Fatal(String);

struct Job {
    src: PathBuf,
    dest: PathBuf,
    link_dests: Vec<PathBuf>,
    excludes: ExcludeSet,
    root_dev: Option<u64>,
    /// (device, inode) of the snapshot folder being filled, its task folder and the store root:
    /// never walked, even when the store lies inside the source.
    store_dirs: Vec<(u64, u64)>,
    xattrs: bool,
    dry_run: bool,
    as_root: bool,
    cancel: CancellationToken,
    stop: AtomicBool,
    queue: Mutex<Queue>,
    wake: Condvar,
    groups: Mutex<HashMap<(u64, u64), Group>>,
    relinks: Mutex<Vec<FreshGroup>>,
    temp_names: AtomicU64,
    /// Bytes per second, when the task limits its transfer.
    bwlimit: Option<u64>,
    limited_bytes: AtomicU64,
    started: Instant,
    count: Counters,
    problems: Mutex<Problems>,
    log: mpsc::UnboundedSender<(LogLevel, String)>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn mtime_of(meta: &Metadata) -> Time {
    Time {
        sec: meta.mtime(),
        nsec: meta.mtime_nsec(),
    }
}

/// The folders of the store around `dest` (`<root>/<task>/.incomplete`): itself, its task folder and
/// the store root.
fn store_dirs(dest: &Path) -> Vec<(u64, u64)> {
    dest.ancestors()
        .take(3)
        .filter_map(|dir| fs::metadata(dir).ok())
        .map(|m| (m.dev(), m.ino()))
        .collect()
}

fn child(rel: &[u8], name: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rel.len() + 1 + name.len());
    if !rel.is_empty() {
        out.extend_from_slice(rel);
        out.push(b'/');
    }
    out.extend_from_slice(name);
    out
}

fn under(root: &Path, rel: &[u8]) -> PathBuf {
    if rel.is_empty() {
        root.to_path_buf()
    } else {
        root.join(OsStr::from_bytes(rel))
    }
}

fn show(rel: &[u8]) -> String {
    String::from_utf8_lossy(rel).into_owned()
}

fn kind_of(meta: &Metadata) -> u32 {
    meta.mode() & libc::S_IFMT
}

/// Errors that mean the snapshot's disk cannot take more, as opposed to a source file being
/// unreadable.
fn is_dest_error(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENOSPC) | Some(libc::EDQUOT) | Some(libc::EROFS) | Some(libc::EFBIG)
    )
}

impl Job {
    fn run(&self, root: Arc<DirNode>, threads: usize) {
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
    fn stopped(&self) -> bool {
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

    fn halt(&self) {
        self.stop.store(true, Ordering::Relaxed);
        self.wake.notify_all();
    }

    fn fatal(&self, message: String) {
        lock(&self.problems).fatal.get_or_insert(message);
        self.halt();
    }

    fn say(&self, level: LogLevel, line: String) {
        let _ = self.log.send((level, line));
    }

    fn worker(&self) {
        loop {
            let node = {
                let mut queue = lock(&self.queue);
                loop {
                    if self.stopped() {
                        return;
                    }
                    if let Some(node) = queue.dirs.pop() {
                        queue.busy += 1;
                        break node;
                    }
                    if queue.busy == 0 {
                        self.wake.notify_all();
                        return;
                    }
                    // With a timeout: a stop signalled between the check above and this wait is
                    // still seen promptly.
                    queue = match self.wake.wait_timeout(queue, Duration::from_millis(100)) {
                        Ok((queue, _)) => queue,
                        Err(poisoned) => poisoned.into_inner().0,
                    };
                }
            };
            match self.read_dir(&node) {
                Ok(()) => self.finish(node),
                Err(Fatal(message)) => self.fatal(message),
            }
            let mut queue = lock(&self.queue);
            queue.busy -= 1;
            if queue.busy == 0 && queue.dirs.is_empty() {
                self.wake.notify_all();
            }
        }
    }

    fn push(&self, node: Arc<DirNode>) {
        lock(&self.queue).dirs.push(node);
        self.wake.notify_one();
    }

    /// One child of `node` is done (or its own listing is): when nothing is left, its metadata is
    /// set and its parent is told.
    fn finish(&self, node: Arc<DirNode>) {
        let mut node = node;
        loop {
            if node.pending.fetch_sub(1, Ordering::AcqRel) != 1 {
                return;
            }
            if let Err(Fatal(message)) = self.set_dir_metadata(&node) {
                self.fatal(message);
                return;
            }
            match node.parent.clone() {
                Some(parent) => node = parent,
                None => return,
            }
        }
    }

    fn set_dir_metadata(&self, node: &DirNode) -> Result<(), Fatal> {
        if self.dry_run || self.stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let path = under(&self.dest, &node.rel);
        let fail =
            |what: &str, e: io::Error| Fatal(format!("cannot {what} {}: {e}", path.display()));
        if self.as_root {
            sys::lchown(&path, node.uid, node.gid).map_err(|e| fail("set the owner of", e))?;
        }
        if self.xattrs {
            self.copy_xattrs(&node.rel, &path)?;
        }
        sys::chmod(&path, node.mode).map_err(|e| fail("set the mode of", e))?;
        sys::set_mtime_nofollow(&path, node.mtime).map_err(|e| fail("set the time of", e))
    }

    /// Something in the source could not be read: vanished entries are a warning, anything else
    /// makes the snapshot partial. The walk goes on either way.
    fn source_problem(&self, rel: &[u8], e: &io::Error) {
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

    fn read_dir(&self, node: &Arc<DirNode>) -> Result<(), Fatal> {
        let dir = under(&self.src, &node.rel);
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) => {
                self.source_problem(&node.rel, &e);
                return Ok(());
            }
        };
        let src = match sys::open_dir_handle(&dir) {
            Ok(h) => h,
            Err(e) => {
                self.source_problem(&node.rel, &e);
                return Ok(());
            }
        };
        let dest = if self.dry_run {
            None
        } else {
            let path = under(&self.dest, &node.rel);
            Some(
                sys::open_dir_handle(&path)
                    .map_err(|e| Fatal(format!("cannot open {}: {e}", path.display())))?,
            )
        };
        let handles = DirHandles {
            src,
            dest,
            links: self
                .link_dests
                .iter()
                .map(|tree| sys::open_dir_handle(&under(tree, &node.rel)).ok())
                .collect(),
        };
        for entry in entries {
            if self.stopped() {
                return Ok(());
            }
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    self.source_problem(&node.rel, &e);
                    return Ok(());
                }
            };
            let file_name = entry.file_name();
            let rel = child(&node.rel, file_name.as_bytes());
            let meta = match entry.metadata() {
                Ok(meta) => meta,
                Err(e) => {
                    self.source_problem(&rel, &e);
                    continue;
                }
            };
            if self.excludes.is_excluded(&rel, meta.is_dir()) {
                continue;
            }
            self.count.seen.fetch_add(1, Ordering::Relaxed);
            if meta.is_dir() {
                self.enter_dir(node, rel, &meta)?;
            } else {
                let Ok(name) = CString::new(file_name.as_bytes()) else {
                    continue; // a directory entry never holds a NUL byte
                };
                if meta.nlink() > 1 {
                    self.place_linked(&handles, &name, node, &rel, &meta)?;
                } else {
                    self.place(&handles, &name, &rel, &meta)?;
                }
            }
        }
        Ok(())
    }

    fn enter_dir(&self, parent: &Arc<DirNode>, rel: Vec<u8>, meta: &Metadata) -> Result<(), Fatal> {
        if self.store_dirs.contains(&(meta.dev(), meta.ino())) {
            self.say(
                LogLevel::Warn,
                format!(
                    "skipping {}: it is the snapshot store itself (a store inside its source would copy itself into every snapshot)",
                    under(&self.src, &rel).display()
                ),
            );
            return Ok(());
        }
        if !self.dry_run {
            let path = under(&self.dest, &rel);
            let made = fs::DirBuilder::new().mode(0o700).create(&path);
            if let Err(e) = made {
                return Err(Fatal(format!("cannot create {}: {e}", path.display())));
            }
        }
        self.count.done.fetch_add(1, Ordering::Relaxed);
        parent.pending.fetch_add(1, Ordering::AcqRel);
        let node = DirNode::new(rel, Some(parent.clone()), meta);
        match self.root_dev {
            // A mount point: kept as an empty folder, like rsync -x.
            Some(dev) if meta.dev() != dev => self.finish(node),
            _ => self.push(node),
        }
        Ok(())
    }

    /// A file with several names in the source: the first one met is placed, the others become
    /// links to it. When the first name was new (a fresh copy) but a later name is found unchanged
    /// in an earlier snapshot, the whole group is pointed at that earlier copy once the walk is done
    /// ([`Job::relink_groups`]), as rsync `-H --link-dest` does.
    fn place_linked(
        &self,
        dir: &DirHandles,
        name: &CStr,
        node: &Arc<DirNode>,
        rel: &[u8],
        meta: &Metadata,
    ) -> Result<(), Fatal> {
        let key = (meta.dev(), meta.ino());
        {
            let mut groups = lock(&self.groups);
            match groups.get_mut(&key) {
                None => {
                    groups.insert(
                        key,
                        Group::Busy {
                            waiters: Vec::new(),
                            seen: 1,
                        },
                    );
                }
                Some(Group::Busy { waiters, seen }) => {
                    *seen += 1;
                    node.pending.fetch_add(1, Ordering::AcqRel);
                    waiters.push((rel.to_vec(), node.clone()));
                    return Ok(());
                }
                Some(Group::Done { first, seen, fresh }) => {
                    *seen += 1;
                    let first = first.clone();
                    let complete = *seen >= meta.nlink();
                    if let Some(fresh) = fresh {
                        if fresh.earlier.is_none() {
                            fresh.earlier = self
                                .unchanged_in_link_dests(dir, name, rel, meta)
                                .map(|tree| under(&self.link_dests[tree], rel));
                        }
                        fresh.members.push((rel.to_vec(), node.clone()));
                    }
                    if complete {
                        if let Some(Group::Done {
                            fresh: Some(fresh), ..
                        }) = groups.remove(&key)
                        {
                            if fresh.earlier.is_some() {
                                lock(&self.relinks).push(*fresh);
                            }
                        }
                    }
                    drop(groups);
                    return self.link_member(&first, rel, meta);
                }
            }
        }
        let placed = self.place(dir, name, rel, meta);
        let first = under(&self.dest, rel);
        let waiters = {
            let mut groups = lock(&self.groups);
            let Some(Group::Busy { waiters, seen }) = groups.remove(&key) else {
                return placed.map(|_| ());
            };
            if let Ok(how @ (Placed::Linked | Placed::Copied)) = placed {
                let fresh = (how == Placed::Copied).then(|| {
                    let mut members = vec![(rel.to_vec(), node.clone())];
                    members.extend(waiters.iter().cloned());
                    // Names met while the copy was made may be unchanged in an earlier snapshot.
                    let earlier = waiters
                        .iter()
                        .find_map(|(wrel, _)| self.unchanged_by_path(wrel, meta));
                    Box::new(FreshGroup { members, earlier })
                });
                if seen < meta.nlink() {
                    groups.insert(
                        key,
                        Group::Done {
                            first: first.clone(),
                            seen,
                            fresh,
                        },
                    );
                } else if let Some(fresh) = fresh.filter(|f| f.earlier.is_some()) {
                    lock(&self.relinks).push(*fresh);
                }
            }
            waiters
        };
        let first_placed = matches!(placed, Ok(Placed::Linked | Placed::Copied));
        let mut result = placed.map(|_| ());
        for (wrel, wnode) in waiters {
            if result.is_ok() {
                result = if first_placed {
                    self.link_member(&first, &wrel, meta)
                } else {
                    // The first name could not be read: the others are the same file.
                    self.source_problem(&wrel, &io::Error::from_raw_os_error(libc::EACCES));
                    Ok(())
                };
            }
            self.finish(wnode);
        }
        result
    }

    /// After the walk: groups of linked names that were copied afresh although one of their names
    /// is unchanged in an earlier snapshot get that earlier copy instead (a link made under a
    /// temporary name, then renamed over each name), and their folders get their times back. A
    /// group that cannot be relinked keeps its (correct) copy.
    fn relink_groups(&self) {
        if self.dry_run || self.stop.load(Ordering::Relaxed) {
            return;
        }
        let mut relinks = std::mem::take(&mut *lock(&self.relinks));
        for (_, group) in lock(&self.groups).drain() {
            if let Group::Done {
                fresh: Some(fresh), ..
            } = group
            {
                if fresh.earlier.is_some() {
                    relinks.push(*fresh);
                }
            }
        }
        for group in relinks {
            let Some(earlier) = group.earlier else {
                continue;
            };
            let mut touched: Vec<&Arc<DirNode>> = Vec::new();
            for (rel, node) in &group.members {
                let path = under(&self.dest, rel);
                let dir = path.parent().unwrap_or(&self.dest);
                let temp = dir.join(format!(
                    ".mnemosynce-{}.tmp",
                    self.temp_names.fetch_add(1, Ordering::Relaxed)
                ));
                let relinked =
                    fs::hard_link(&earlier, &temp).and_then(|()| fs::rename(&temp, &path));
                if let Err(e) = relinked {
                    let _ = fs::remove_file(&temp);
                    self.say(
                        LogLevel::Warn,
                        format!(
                            "{} keeps its own copy (cannot link it to {}: {e})",
                            show(rel),
                            earlier.display()
                        ),
                    );
                    break;
                }
                if !touched.iter().any(|n| Arc::ptr_eq(n, node)) {
                    touched.push(node);
                }
            }
            for node in touched {
                let path = under(&self.dest, &node.rel);
                if let Err(e) = sys::set_mtime_nofollow(&path, node.mtime) {
                    self.fatal(format!("cannot set the time of {}: {e}", path.display()));
                }
            }
        }
    }

    fn link_member(&self, first: &Path, rel: &[u8], meta: &Metadata) -> Result<(), Fatal> {
        self.count.done.fetch_add(1, Ordering::Relaxed);
        self.count
            .bytes_total
            .fetch_add(meta.len(), Ordering::Relaxed);
        self.count
            .bytes_done
            .fetch_add(meta.len(), Ordering::Relaxed);
        if self.dry_run {
            return Ok(());
        }
        let path = under(&self.dest, rel);
        fs::hard_link(first, &path).map_err(|e| {
            Fatal(format!(
                "cannot link {} to {}: {e}",
                path.display(),
                first.display()
            ))
        })
    }

    /// Puts one non-directory entry into the snapshot: a link to an unchanged earlier copy, or a
    /// new copy.
    fn place(
        &self,
        dir: &DirHandles,
        name: &CStr,
        rel: &[u8],
        meta: &Metadata,
    ) -> Result<Placed, Fatal> {
        let is_file = meta.is_file();
        let size = if is_file { meta.len() } else { 0 };
        self.count.bytes_total.fetch_add(size, Ordering::Relaxed);
        let dest = under(&self.dest, rel);
        if let Some(tree) = self.unchanged_in_link_dests(dir, name, rel, meta) {
            let (Some(from), Some(to)) = (&dir.links[tree], &dir.dest) else {
                // Dry run: it would be linked.
                self.count.files_linked.fetch_add(1, Ordering::Relaxed);
                self.placed(size);
                return Ok(Placed::Linked);
            };
            match sys::link_at(from, name, to) {
                Ok(()) => {
                    self.count.files_linked.fetch_add(1, Ordering::Relaxed);
                    self.placed(size);
                    return Ok(Placed::Linked);
                }
                // Too many links on this inode: this snapshot gets its own copy.
                Err(e) if e.raw_os_error() == Some(libc::EMLINK) => {}
                Err(e) => {
                    return Err(Fatal(format!(
                        "cannot link {} to {}: {e}",
                        dest.display(),
                        under(&self.link_dests[tree], rel).display()
                    )))
                }
            }
        }
        let done = if is_file {
            self.copy_file(rel, &dest, meta)?
        } else if meta.file_type().is_symlink() {
            self.copy_symlink(rel, &dest, meta)?
        } else {
            self.copy_node(rel, &dest, meta)?
        };
        if done {
            // (A copied file's bytes were counted while it was copied.)
            self.count.done.fetch_add(1, Ordering::Relaxed);
            Ok(Placed::Copied)
        } else {
            Ok(Placed::Missing)
        }
    }

    fn placed(&self, size: u64) {
        self.count.done.fetch_add(1, Ordering::Relaxed);
        self.count.bytes_done.fetch_add(size, Ordering::Relaxed);
    }

    /// The first earlier tree (its index in `link_dests`) holding this entry unchanged in every
    /// respect.
    fn unchanged_in_link_dests(
        &self,
        dir: &DirHandles,
        name: &CStr,
        rel: &[u8],
        meta: &Metadata,
    ) -> Option<usize> {
        let new = sys::Attrs::of(meta);
        for (tree, handle) in dir.links.iter().enumerate() {
            let Some(handle) = handle else {
                continue;
            };
            let Ok(old) = sys::stat_at(handle, name) else {
                continue;
            };
            if !self.same_entry(&new, &old) {
                continue;
            }
            if meta.file_type().is_symlink() {
                match (
                    sys::read_link_at(&dir.src, name),
                    sys::read_link_at(handle, name),
                ) {
                    (Ok(a), Ok(b)) if a == b => {}
                    _ => continue,
                }
            }
            if self.xattrs {
                let src = under(&self.src, rel);
                let old_path = under(&self.link_dests[tree], rel);
                match (
                    sys::xattrs_at(&dir.src, name, &src),
                    sys::xattrs_at(handle, name, &old_path),
                ) {
                    (Ok(a), Ok(b)) if a == b => {}
                    _ => continue,
                }
            }
            return Some(tree);
        }
        None
    }

    /// [`Self::unchanged_in_link_dests`] by whole paths, for a name met in another folder than the
    /// one being read (a hard-link group's waiting names). Returns the earlier entry's path.
    fn unchanged_by_path(&self, rel: &[u8], meta: &Metadata) -> Option<PathBuf> {
        let new = sys::Attrs::of(meta);
        let src = under(&self.src, rel);
        for tree in &self.link_dests {
            let path = under(tree, rel);
            let Ok(old) = fs::symlink_metadata(&path) else {
                continue;
            };
            if !self.same_entry(&new, &sys::Attrs::of(&old)) {
                continue;
            }
            if meta.file_type().is_symlink() {
                match (fs::read_link(&src), fs::read_link(&path)) {
                    (Ok(a), Ok(b)) if a == b => {}
                    _ => continue,
                }
            }
            if self.xattrs {
                match (sys::xattrs(&src), sys::xattrs(&path)) {
                    (Ok(a), Ok(b)) if a == b => {}
                    _ => continue,
                }
            }
            return Some(path);
        }
        None
    }

    fn same_entry(&self, new: &sys::Attrs, old: &sys::Attrs) -> bool {
        if new.mode != old.mode {
            return false; // the type is part of the mode
        }
        if self.as_root && (new.uid != old.uid || new.gid != old.gid) {
            return false;
        }
        match new.mode & libc::S_IFMT {
            libc::S_IFREG => new.size == old.size && new.mtime == old.mtime,
            libc::S_IFLNK => true, // the target is compared by the caller
            _ => new.rdev == old.rdev && new.mtime == old.mtime,
        }
    }

    fn copy_xattrs(&self, rel: &[u8], to: &Path) -> Result<(), Fatal> {
        let from = under(&self.src, rel);
        let attrs = match sys::xattrs(&from) {
            Ok(a) => a,
            Err(e) => {
                self.source_problem(rel, &e);
                return Ok(());
            }
        };
        match sys::set_xattrs(to, &attrs) {
            Ok(()) => Ok(()),
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTSUP) | Some(libc::EPERM)) => {
                self.say(
                    LogLevel::Warn,
                    format!("extended attributes of {} not kept: {e}", show(rel)),
                );
                Ok(())
            }
            Err(e) => Err(Fatal(format!(
                "cannot set the extended attributes of {}: {e}",
                to.display()
            ))),
        }
    }

    /// A fresh, exclusive temporary file in `dir` (the snapshot's own folder: the rename is atomic).
    fn temp_file(&self, dir: &Path) -> Result<(PathBuf, File), Fatal> {
        loop {
            let n = self.temp_names.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!(".mnemosynce-{n}.tmp"));
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
            {
                Ok(file) => return Ok((path, file)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(Fatal(format!(
                        "cannot create a file in {}: {e}",
                        dir.display()
                    )))
                }
            }
        }
    }

    fn copy_file(&self, rel: &[u8], dest: &Path, listed: &Metadata) -> Result<bool, Fatal> {
        let src_path = under(&self.src, rel);
        let src = match sys::open_source(&src_path) {
            Ok(f) => f,
            Err(e) => {
                self.source_problem(rel, &e);
                return Ok(false);
            }
        };
        let before = match src.metadata() {
            Ok(m) if m.is_file() => m,
            Ok(_) => {
                self.source_problem(rel, &io::Error::from_raw_os_error(libc::ENOENT));
                return Ok(false);
            }
            Err(e) => {
                self.source_problem(rel, &e);
                return Ok(false);
            }
        };
        if self.dry_run {
            self.count.files_copied.fetch_add(1, Ordering::Relaxed);
            self.count
                .bytes_copied
                .fetch_add(before.len(), Ordering::Relaxed);
            self.count
                .bytes_done
                .fetch_add(before.len(), Ordering::Relaxed);
            return Ok(true);
        }
        let dir = dest.parent().unwrap_or(&self.dest);
        let (temp, out) = self.temp_file(dir)?;
        let cleanup = |temp: &Path| {
            let _ = fs::remove_file(temp);
        };
        let sparse = before.blocks().saturating_mul(512) < before.len();
        // Chunks small enough for a cancel or a bandwidth limit to act within a big file, and for
        // its progress to move.
        let chunk = if self.bwlimit.is_some() {
            64 << 10
        } else {
            64 << 20
        };
        let mut streamed = 0u64;
        let mut after_chunk = |bytes: u64| -> io::Result<()> {
            streamed += bytes;
            self.count.bytes_done.fetch_add(bytes, Ordering::Relaxed);
            if let Some(limit) = self.bwlimit {
                self.throttle(limit, bytes);
            }
            if self.stopped() {
                return Err(io::Error::from(io::ErrorKind::Interrupted));
            }
            Ok(())
        };
        let copied = sys::copy_contents(&src, &out, before.len(), sparse, chunk, &mut after_chunk);
        let copied = match copied {
            Ok(n) => n,
            Err(e) => {
                cleanup(&temp);
                self.count.bytes_done.fetch_sub(streamed, Ordering::Relaxed);
                if self.stopped() {
                    return Ok(false);
                }
                if is_dest_error(&e) {
                    return Err(Fatal(format!("cannot write {}: {e}", dest.display())));
                }
                self.source_problem(rel, &e);
                return Ok(false);
            }
        };
        // Holes count as done too.
        self.count
            .bytes_done
            .fetch_add(before.len().saturating_sub(streamed), Ordering::Relaxed);
        let changed = match src.metadata() {
            Ok(after) => after.len() != before.len() || mtime_of(&after) != mtime_of(&before),
            Err(_) => true,
        } || before.ino() != listed.ino();
        let finish = || -> io::Result<()> {
            if self.as_root {
                std::os::unix::fs::fchown(&out, Some(before.uid()), Some(before.gid()))?;
            }
            sys::fchmod(&out, before.mode())?;
            Ok(())
        };
        if let Err(e) = finish() {
            cleanup(&temp);
            return Err(Fatal(format!(
                "cannot set the owner or mode of {}: {e}",
                dest.display()
            )));
        }
        if self.xattrs {
            if let Err(f) = self.copy_xattrs(rel, &temp) {
                cleanup(&temp);
                return Err(f);
            }
        }
        if let Err(e) = sys::set_mtime_fd(&out, mtime_of(&before)) {
            cleanup(&temp);
            return Err(Fatal(format!(
                "cannot set the time of {}: {e}",
                dest.display()
            )));
        }
        drop(out);
        if let Err(e) = fs::rename(&temp, dest) {
            cleanup(&temp);
            return Err(Fatal(format!(
                "cannot rename a copy to {}: {e}",
                dest.display()
            )));
        }
        self.count.files_copied.fetch_add(1, Ordering::Relaxed);
        self.count.bytes_copied.fetch_add(copied, Ordering::Relaxed);
        if changed {
            let path = src_path.display().to_string();
            self.say(
                LogLevel::Warn,
                format!("file changed while it was copied (the next run copies it again): {path}"),
            );
            lock(&self.problems).vanished.push(path);
        }
        Ok(true)
    }

    /// `bwlimit_kbps`: after each chunk, sleeps until the bytes copied so far fit the limit (an
    /// average over the whole transfer, as rsync's `--bwlimit` is).
    fn throttle(&self, limit: u64, bytes: u64) {
        let total = self.limited_bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        let due = Duration::from_secs_f64(total as f64 / limit as f64);
        let elapsed = self.started.elapsed();
        if due > elapsed {
            std::thread::sleep(due - elapsed);
        }
    }

    fn copy_symlink(&self, rel: &[u8], dest: &Path, meta: &Metadata) -> Result<bool, Fatal> {
        let target = match fs::read_link(under(&self.src, rel)) {
            Ok(t) => t,
            Err(e) => {
                self.source_problem(rel, &e);
                return Ok(false);
            }
        };
        if self.dry_run {
            return Ok(true);
        }
        let fail = |e: io::Error| Fatal(format!("cannot create {}: {e}", dest.display()));
        std::os::unix::fs::symlink(&target, dest).map_err(fail)?;
        if self.as_root {
            sys::lchown(dest, meta.uid(), meta.gid()).map_err(fail)?;
        }
        sys::set_mtime_nofollow(dest, mtime_of(meta)).map_err(fail)?;
        Ok(true)
    }

    /// FIFOs, sockets and device files (the latter only as root, as with rsync).
    fn copy_node(&self, rel: &[u8], dest: &Path, meta: &Metadata) -> Result<bool, Fatal> {
        let kind = kind_of(meta);
        let device = kind == libc::S_IFCHR || kind == libc::S_IFBLK;
        if device && !self.as_root {
            self.say(
                LogLevel::Warn,
                format!(
                    "skipping device file {} (only root can create one)",
                    show(rel)
                ),
            );
            return Ok(true);
        }
        if self.dry_run {
            return Ok(true);
        }
        let fail = |e: io::Error| Fatal(format!("cannot create {}: {e}", dest.display()));
        sys::mknod(
            dest,
            kind | (meta.mode() & 0o777),
            if device { meta.rdev() } else { 0 },
        )
        .map_err(fail)?;
        if self.as_root {
            sys::lchown(dest, meta.uid(), meta.gid()).map_err(fail)?;
        }
        if self.xattrs {
            self.copy_xattrs(rel, dest)?;
        }
        sys::chmod(dest, meta.mode()).map_err(fail)?;
        sys::set_mtime_nofollow(dest, mtime_of(meta)).map_err(fail)?;
        Ok(true)
    }

    fn progress(&self, started: Instant) -> Progress {
        let bytes = self.count.bytes_done.load(Ordering::Relaxed);
        let elapsed = started.elapsed().as_secs_f64();
        Progress {
            bytes,
            percent: None,
            rate: (elapsed > 0.0).then(|| (bytes as f64 / elapsed) as u64),
            eta_seconds: None,
            files_done: Some(self.count.done.load(Ordering::Relaxed)),
            files_total: Some(self.count.seen.load(Ordering::Relaxed)),
        }
    }

    fn outcome(&self, started: Instant, sink: &dyn StepSink) -> TransferOutcome {
        let c = &self.count;
        let stats = TransferStats {
            // Like rsync's "Number of files": every entry, the top folder included.
            files_total: c.seen.load(Ordering::Relaxed) + 1,
            files_transferred: c.files_copied.load(Ordering::Relaxed),
            bytes_total: c.bytes_total.load(Ordering::Relaxed),
            bytes_transferred: c.bytes_copied.load(Ordering::Relaxed),
        };
        sink.log(
            LogLevel::Info,
            &format!(
                "native snapshot: {} entries, {} linked to the previous snapshot, {} copied ({} bytes) in {:.2} s",
                stats.files_total,
                c.files_linked.load(Ordering::Relaxed),
                stats.files_transferred,
                stats.bytes_transferred,
                started.elapsed().as_secs_f64()
            ),
        );
        let mut problems = lock(&self.problems);
        let end = if self.cancel.is_cancelled() {
            TransferEnd::Cancelled
        } else if let Some(message) = problems.fatal.take() {
            TransferEnd::Failed { message }
        } else if !problems.unreadable.is_empty() {
            TransferEnd::Partial {
                paths: std::mem::take(&mut problems.unreadable),
            }
        } else if !problems.vanished.is_empty() {
            TransferEnd::Vanished {
                paths: std::mem::take(&mut problems.vanished),
            }
        } else {
            TransferEnd::Complete
        };
        TransferOutcome { end, stats }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[derive(Default)]
    struct Collect(Mutex<Vec<String>>);

    impl StepSink for Collect {
        fn progress(&self, _: Progress) {}
        fn log(&self, _: LogLevel, line: &str) {
            lock(&self.0).push(line.to_string());
        }
    }

    fn request(src: &Path, dest: &Path, link: Option<&Path>) -> TransferRequest {
        TransferRequest {
            source: Endpoint::Local(src.to_path_buf()),
            dest: dest.to_path_buf(),
            link_dests: link.map(Path::to_path_buf).into_iter().collect(),
            excludes: Vec::new(),
            one_file_system: false,
            acls_xattrs: true,
            dry_run: false,
            rsh: None,
            workdir: None,
            bwlimit_kbps: None,
        }
    }

    async fn snapshot(req: &TransferRequest) -> TransferOutcome {
        fs::create_dir_all(&req.dest).expect("dest");
        NativeTransfer::default()
            .transfer(req, &Collect::default(), &CancellationToken::new())
            .await
    }

    fn ino(p: &Path) -> u64 {
        fs::symlink_metadata(p).expect("stat").ino()
    }

    #[tokio::test]
    async fn unchanged_files_are_linked_and_changed_ones_copied_without_touching_the_old_snapshot()
    {
        let tmp = tempfile::tempdir().expect("tmp");
        let src = tmp.path().join("src");
        fs::create_dir_all(src.join("a/b")).expect("mkdir");
        fs::write(src.join("a/b/same.txt"), "same").expect("write");
        fs::write(src.join("a/edit.txt"), "one").expect("write");
        fs::write(src.join("mode.txt"), "mode").expect("write");
        std::os::unix::fs::symlink("a/b/same.txt", src.join("link")).expect("symlink");
        let first = tmp.path().join("s1");
        let out = snapshot(&request(&src, &first, None)).await;
        assert_eq!(out.end, TransferEnd::Complete);
        assert_eq!(out.stats.files_transferred, 3);
        assert_eq!(
            fs::read_to_string(first.join("a/b/same.txt")).expect("read"),
            "same"
        );
        assert_eq!(
            fs::read_link(first.join("link")).expect("link"),
            Path::new("a/b/same.txt")
        );

        fs::write(src.join("a/edit.txt"), "two").expect("write");
        fs::set_permissions(src.join("mode.txt"), fs::Permissions::from_mode(0o600))
            .expect("chmod");
        let second = tmp.path().join("s2");
        let out = snapshot(&request(&src, &second, Some(&first))).await;
        assert_eq!(out.end, TransferEnd::Complete);
        assert_eq!(
            ino(&first.join("a/b/same.txt")),
            ino(&second.join("a/b/same.txt"))
        );
        assert_ne!(
            ino(&first.join("a/edit.txt")),
            ino(&second.join("a/edit.txt"))
        );
        assert_eq!(
            fs::read_to_string(first.join("a/edit.txt")).expect("read"),
            "one"
        );
        assert_eq!(
            fs::read_to_string(second.join("a/edit.txt")).expect("read"),
            "two"
        );
        // chmod only: the new snapshot has its own copy, the old one keeps its mode.
        assert_ne!(ino(&first.join("mode.txt")), ino(&second.join("mode.txt")));
        let old_mode = fs::metadata(first.join("mode.txt")).expect("stat").mode() & 0o777;
        assert_ne!(old_mode, 0o600);
        assert_eq!(
            fs::metadata(second.join("mode.txt")).expect("stat").mode() & 0o777,
            0o600
        );
        // Directory times are set after their children were written.
        let src_time = fs::metadata(src.join("a"))
            .expect("stat")
            .modified()
            .expect("mtime");
        let dst_time = fs::metadata(second.join("a"))
            .expect("stat")
            .modified()
            .expect("mtime");
        assert_eq!(src_time, dst_time);
    }

    #[tokio::test]
    async fn a_cancelled_transfer_says_so() {
        let tmp = tempfile::tempdir().expect("tmp");
        let src = tmp.path().join("src");
        fs::create_dir_all(&src).expect("mkdir");
        fs::write(src.join("f"), "x").expect("write");
        let req = request(&src, &tmp.path().join("s1"), None);
        fs::create_dir_all(&req.dest).expect("dest");
        let cancel = CancellationToken::new();
        cancel.cancel();
        let out = NativeTransfer::default()
            .transfer(&req, &Collect::default(), &cancel)
            .await;
        assert_eq!(out.end, TransferEnd::Cancelled);
    }

    #[tokio::test]
    async fn an_ssh_source_is_refused_with_the_fix() {
        let tmp = tempfile::tempdir().expect("tmp");
        let mut req = request(tmp.path(), &tmp.path().join("d"), None);
        req.source = "me@nas:/srv".parse::<Endpoint>().expect("endpoint");
        let out = snapshot(&req).await;
        match out.end {
            TransferEnd::Failed { message } => {
                assert!(message.contains("engine: rsync"), "{message}")
            }
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_bandwidth_limit_slows_the_copy_to_it() {
        let tmp = tempfile::tempdir().expect("tmp");
        let src = tmp.path().join("src");
        fs::create_dir_all(&src).expect("mkdir");
        fs::write(src.join("big"), vec![7u8; 600 * 1024]).expect("write");
        let mut req = request(&src, &tmp.path().join("s1"), None);
        req.bwlimit_kbps = Some(400);
        let started = Instant::now();
        let out = snapshot(&req).await;
        assert_eq!(out.end, TransferEnd::Complete);
        // 600 KiB at 400 KiB/s: at least 1.5 s (unlimited, it takes milliseconds).
        assert!(
            started.elapsed() >= Duration::from_millis(1400),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(
            fs::read(req.dest.join("big")).expect("read").len(),
            600 * 1024
        );
    }

    #[tokio::test]
    async fn sparse_files_keep_their_holes_and_source_hard_links_stay_linked() {
        let tmp = tempfile::tempdir().expect("tmp");
        let src = tmp.path().join("src");
        fs::create_dir_all(src.join("x")).expect("mkdir");
        let sparse = File::create(src.join("disk.img")).expect("create");
        sparse.set_len(64 << 20).expect("truncate");
        use std::os::unix::fs::FileExt;
        sparse
            .write_all_at(b"data in the middle", 32 << 20)
            .expect("write");
        drop(sparse);
        fs::write(src.join("a"), "shared").expect("write");
        fs::hard_link(src.join("a"), src.join("x/b")).expect("link");
        let req = request(&src, &tmp.path().join("s1"), None);
        assert_eq!(snapshot(&req).await.end, TransferEnd::Complete);
        let copy = fs::metadata(req.dest.join("disk.img")).expect("stat");
        assert_eq!(copy.len(), 64 << 20);
        assert!(
            copy.blocks() * 512 < 1 << 20,
            "{} blocks allocated",
            copy.blocks()
        );
        let mut middle = [0u8; 18];
        File::open(req.dest.join("disk.img"))
            .expect("open")
            .read_exact_at(&mut middle, 32 << 20)
            .expect("read");
        assert_eq!(&middle, b"data in the middle");
        assert_eq!(ino(&req.dest.join("a")), ino(&req.dest.join("x/b")));
    }

    #[tokio::test]
    async fn new_names_of_an_unchanged_file_link_to_the_earlier_snapshot() {
        let tmp = tempfile::tempdir().expect("tmp");
        let src = tmp.path().join("src");
        fs::create_dir_all(src.join("d")).expect("mkdir");
        fs::write(src.join("d/one"), "photo").expect("write");
        let first = tmp.path().join("s1");
        assert_eq!(
            snapshot(&request(&src, &first, None)).await.end,
            TransferEnd::Complete
        );
        // Ten new names: the walk most likely meets a new one first, which has no earlier copy.
        for i in 0..10 {
            fs::create_dir_all(src.join(format!("n{i}"))).expect("mkdir");
            fs::hard_link(src.join("d/one"), src.join(format!("n{i}/two"))).expect("link");
        }
        let second = tmp.path().join("s2");
        let out = snapshot(&request(&src, &second, Some(&first))).await;
        assert_eq!(out.end, TransferEnd::Complete);
        let old = ino(&first.join("d/one"));
        assert_eq!(ino(&second.join("d/one")), old);
        for i in 0..10 {
            assert_eq!(ino(&second.join(format!("n{i}/two"))), old, "n{i}/two");
            let want = fs::metadata(src.join(format!("n{i}")))
                .expect("stat")
                .modified()
                .expect("t");
            let got = fs::metadata(second.join(format!("n{i}")))
                .expect("stat")
                .modified()
                .expect("t");
            assert_eq!(want, got, "time of n{i}");
        }
    }

    #[tokio::test]
    async fn a_cancel_stops_in_the_middle_of_a_big_file() {
        let tmp = tempfile::tempdir().expect("tmp");
        let src = tmp.path().join("src");
        fs::create_dir_all(&src).expect("mkdir");
        fs::write(src.join("video"), vec![1u8; 2 << 20]).expect("write");
        let mut req = request(&src, &tmp.path().join("s1"), None);
        req.bwlimit_kbps = Some(100); // 20 s for the whole file
        fs::create_dir_all(&req.dest).expect("dest");
        let cancel = CancellationToken::new();
        let later = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            later.cancel();
        });
        let started = Instant::now();
        let out = NativeTransfer::default()
            .transfer(&req, &Collect::default(), &cancel)
            .await;
        assert_eq!(out.end, TransferEnd::Cancelled);
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        let left: Vec<_> = fs::read_dir(&req.dest)
            .expect("ls")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert!(left.is_empty(), "the half copy was left behind: {left:?}");
    }

    #[tokio::test]
    async fn a_store_inside_its_source_is_not_copied_into_itself() {
        let tmp = tempfile::tempdir().expect("tmp");
        let src = tmp.path().join("home");
        fs::create_dir_all(src.join("docs")).expect("mkdir");
        fs::write(src.join("docs/a.txt"), "a").expect("write");
        let task = src.join("backups/Home");
        let req = request(&src, &task.join(".incomplete"), None);
        let out = snapshot(&req).await;
        assert_eq!(out.end, TransferEnd::Complete);
        assert_eq!(
            fs::read_to_string(req.dest.join("docs/a.txt")).expect("read"),
            "a"
        );
        assert!(
            !req.dest.join("backups").exists(),
            "the store was copied into itself"
        );
    }
}
