//! [`versions`]: the distinct versions of one file across a task's snapshots, oldest first.
//!
//! Each snapshot's copy is looked at beneath its snapshot (links never followed). Consecutive
//! snapshots that hard-link one inode hold one version without reading a byte; a new inode is
//! compared with the version before it (size, then bytes), so a copy made only because the mode
//! changed is not counted as new content. Snapshots without the file are skipped (a version then
//! continues across the gap only if its bytes are the same).

use super::beneath::{open_folder, open_snapshot};
use super::diff::same_content;
use super::{FilesError, InnerPath};
use crate::model::files::FileVersion;
use rustix::fs::{statat, AtFlags, FileType};
use std::os::fd::OwnedFd;
use std::path::Path;

/// The versions of file `path` in `snapshots` (names, oldest first) of `task`.
pub fn versions(
    store_root: &Path,
    task: &str,
    snapshots: &[String],
    path: &InnerPath,
) -> Result<Vec<FileVersion>, FilesError> {
    let Some(name) = path.components().last() else {
        return Ok(Vec::new());
    };
    let mut out: Vec<FileVersion> = Vec::new();
    // The folder and inode of the last version seen, to compare the next copy with.
    let mut last: Option<(OwnedFd, u64, u64)> = None;
    for snapshot in snapshots {
        let Ok(top) = open_snapshot(store_root, task, snapshot) else {
            continue;
        };
        let folder = match open_folder(&top, snapshot, &path.parent()) {
            Ok(f) => f,
            Err(
                FilesError::NotFound { .. }
                | FilesError::NotAFolder { .. }
                | FilesError::Symlink { .. },
            ) => continue,
            Err(e) => return Err(e),
        };
        let Ok(st) = statat(&folder, name.as_slice(), AtFlags::SYMLINK_NOFOLLOW) else {
            continue;
        };
        if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
            continue;
        }
        let size = u64::try_from(st.st_size).unwrap_or(0);
        let same = match (&last, out.last()) {
            (Some((dir, dev, ino)), Some(v)) => {
                (st.st_dev == *dev && st.st_ino == *ino)
                    || (v.size == size && same_content(Some(dir), Some(&folder), name))
            }
            _ => false,
        };
        match out.last_mut() {
            Some(v) if same => {
                v.last = snapshot.clone();
                v.snapshots += 1;
            }
            _ => out.push(FileVersion {
                first: snapshot.clone(),
                last: snapshot.clone(),
                snapshots: 1,
                size,
                modified: st.st_mtime,
            }),
        }
        last = Some((folder, st.st_dev, st.st_ino));
    }
    Ok(out)
}
