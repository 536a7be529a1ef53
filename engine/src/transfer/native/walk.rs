//! The walk: worker threads share a stack of directories to read (depth first, so memory follows
//! the tree's depth and width, never its size); each entry of a directory is excluded, entered
//! (a directory) or placed (anything else: see `copy.rs` and `links.rs`).
//!
//! Invariants: a directory gets its owner, mode, attributes and time only once all its children
//! are in place (its pending counter reaches zero), since adding a child changes a directory's time
//! and a read-only mode would stop the children being written; the snapshot store itself is never
//! walked, even inside its source; with `one_file_system` a mount point stays an empty folder.

use super::job::{child, lock, under, DirHandles, DirNode, Fatal, Job};
use super::sys;
use crate::model::events::LogLevel;
use std::ffi::CString;
use std::fs::{self, Metadata};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

impl Job {
    pub(super) fn worker(&self) {
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

    pub(super) fn push(&self, node: Arc<DirNode>) {
        lock(&self.queue).dirs.push(node);
        self.wake.notify_one();
    }

    /// One child of `node` is done (or its own listing is): when nothing is left, its metadata is
    /// set and its parent is told.
    pub(super) fn finish(&self, node: Arc<DirNode>) {
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

    pub(super) fn set_dir_metadata(&self, node: &DirNode) -> Result<(), Fatal> {
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

    pub(super) fn read_dir(&self, node: &Arc<DirNode>) -> Result<(), Fatal> {
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

    pub(super) fn enter_dir(
        &self,
        parent: &Arc<DirNode>,
        rel: Vec<u8>,
        meta: &Metadata,
    ) -> Result<(), Fatal> {
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
}
