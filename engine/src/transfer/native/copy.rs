//! Placing one non-directory entry: a hard link to an unchanged earlier copy, or a new copy (file
//! data with its holes via `copy_file_range`, symlinks, FIFOs, sockets, device files as root), with
//! owner, mode, attributes and time; the bandwidth limit.
//!
//! Invariants: a copy is written to a temporary name in the same folder and renamed, so a
//! half-written file never carries a real name; a copy never writes into a file an older snapshot
//! owns; a file that changed while it was copied keeps the time it had *before* (the next run
//! copies it again) and is reported as vanished; a write error of the snapshot's disk is [`Fatal`],
//! a read error of the source is a source problem.

use super::job::{kind_of, lock, mtime_of, show, under, DirHandles, Fatal, Job};
use super::sys;
use crate::model::events::LogLevel;
use std::ffi::CStr;
use std::fs::{self, File, Metadata};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How an entry got into the snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Placed {
    Linked,
    Copied,
    /// It could not be read (reported); nothing was made.
    Missing,
}

/// Errors that mean the snapshot's disk cannot take more, as opposed to a source file being
/// unreadable.
pub(super) fn is_dest_error(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENOSPC) | Some(libc::EDQUOT) | Some(libc::EROFS) | Some(libc::EFBIG)
    )
}

impl Job {
    /// Puts one non-directory entry into the snapshot: a link to an unchanged earlier copy, or a
    /// new copy.
    pub(super) fn place(
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

    pub(super) fn placed(&self, size: u64) {
        self.count.done.fetch_add(1, Ordering::Relaxed);
        self.count.bytes_done.fetch_add(size, Ordering::Relaxed);
    }

    pub(super) fn copy_xattrs(&self, rel: &[u8], to: &Path) -> Result<(), Fatal> {
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
    pub(super) fn temp_file(&self, dir: &Path) -> Result<(PathBuf, File), Fatal> {
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

    pub(super) fn copy_file(
        &self,
        rel: &[u8],
        dest: &Path,
        listed: &Metadata,
    ) -> Result<bool, Fatal> {
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
    pub(super) fn throttle(&self, limit: u64, bytes: u64) {
        let total = self.limited_bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        let due = Duration::from_secs_f64(total as f64 / limit as f64);
        let elapsed = self.started.elapsed();
        if due > elapsed {
            std::thread::sleep(due - elapsed);
        }
    }

    pub(super) fn copy_symlink(
        &self,
        rel: &[u8],
        dest: &Path,
        meta: &Metadata,
    ) -> Result<bool, Fatal> {
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
    pub(super) fn copy_node(
        &self,
        rel: &[u8],
        dest: &Path,
        meta: &Metadata,
    ) -> Result<bool, Fatal> {
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
}
