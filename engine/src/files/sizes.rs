//! [`measure`]: a snapshot's file count, total size and unique size, in one walk of that snapshot
//! alone (links never followed, as everywhere in `files`).
//!
//! Hard links make the unique size cheap: an inode holds bytes only this snapshot can free exactly
//! when every one of its links (`st_nlink`) is inside this snapshot. So no other snapshot is read,
//! and after a run only the new snapshot and the one before it (whose files the new one now shares)
//! change. Sizes are allocated bytes (`st_blocks × 512`); a folder's own blocks belong to its
//! snapshot alone. Links from outside the store into it (a hand-made `cp -al`) make a file count as
//! shared, never the other way round, so the unique size never promises more than deleting frees.

use super::beneath::{open_snapshot, DIR_FLAGS};
use super::{FilesError, InnerPath};
use crate::model::files::SnapshotSize;
use rustix::fs::{openat, statat, AtFlags, Dir, FileType, Mode};
use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::path::Path;

/// The sizes of snapshot `snapshot` of `task`.
pub fn measure(store_root: &Path, task: &str, snapshot: &str) -> Result<SnapshotSize, FilesError> {
    let top = open_snapshot(store_root, task, snapshot)?;
    let mut m = Measure {
        snapshot: snapshot.to_string(),
        inodes: HashMap::new(),
        files: 0,
        folders: 0,
    };
    m.walk(&top, &InnerPath::top())?;
    let mut size = SnapshotSize {
        files: m.files,
        total: m.folders,
        unique: m.folders,
    };
    for (bytes, nlink, seen) in m.inodes.into_values() {
        size.total += bytes;
        if seen >= nlink {
            size.unique += bytes;
        }
    }
    Ok(size)
}

struct Measure {
    snapshot: String,
    /// inode → (allocated bytes, links in all, links seen in this snapshot)
    inodes: HashMap<(u64, u64), (u64, u64, u64)>,
    files: u64,
    /// Allocated bytes of the folders themselves.
    folders: u64,
}

impl Measure {
    fn walk(&mut self, dir: &OwnedFd, path: &InnerPath) -> Result<(), FilesError> {
        let io = |e: rustix::io::Errno| FilesError::Io {
            snapshot: self.snapshot.clone(),
            path: path.display(),
            source: e.into(),
        };
        let mut subfolders = Vec::new();
        for entry in Dir::read_from(dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            let Ok(st) = statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) else {
                continue;
            };
            let bytes = u64::try_from(st.st_blocks).unwrap_or(0) * 512;
            if FileType::from_raw_mode(st.st_mode) == FileType::Directory {
                self.folders += bytes;
                subfolders.push(name.to_vec());
                continue;
            }
            self.files += 1;
            // `nlink_t` is u64 on x86_64 and u32 on aarch64.
            #[allow(clippy::useless_conversion)]
            let nlink = u64::from(st.st_nlink);
            let e = self
                .inodes
                .entry((st.st_dev, st.st_ino))
                .or_insert((bytes, nlink, 0));
            e.2 += 1;
        }
        for name in subfolders {
            // A folder that vanished or turned into a link since it was listed is skipped.
            if let Ok(sub) = openat(dir, name.as_slice(), DIR_FLAGS, Mode::empty()) {
                self.walk(&sub, &path.join(&name))?;
            }
        }
        Ok(())
    }
}
