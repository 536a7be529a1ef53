//! Whether an earlier tree (`link_dests`: the newest snapshot, then interrupted transfers) holds an
//! entry unchanged, so the new snapshot may hard-link to it instead of copying.
//!
//! Invariant: unchanged means equal in **everything** the snapshot keeps — type, size, modification
//! time to the nanosecond, permission bits, owner and group (when running as root), symlink
//! target, device number, and the extended attributes and ACLs when they are kept. Anything less
//! is a copy: a metadata-only change never shares an inode with an older snapshot.

use super::job::{under, DirHandles, Job};
use super::sys;
use std::ffi::CStr;
use std::fs::{self, Metadata};
use std::path::PathBuf;

impl Job {
    /// The first earlier tree (its index in `link_dests`) holding this entry unchanged in every
    /// respect.
    pub(super) fn unchanged_in_link_dests(
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
    pub(super) fn unchanged_by_path(&self, rel: &[u8], meta: &Metadata) -> Option<PathBuf> {
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

    pub(super) fn same_entry(&self, new: &sys::Attrs, old: &sys::Attrs) -> bool {
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
}
