//! [`list_folder`]: one page of a folder of a snapshot, folders first, sorted by name, size or time.
//!
//! Each entry is looked at with `fstatat(AT_SYMLINK_NOFOLLOW)` relative to the folder's descriptor;
//! a symbolic link is listed with its target text (`readlinkat`), never followed. The whole folder is
//! read to sort it (a name, a few numbers per entry), but only the requested page is built into
//! entries and returned, so a page of a 100 000-entry folder stays small.

use super::beneath::{open_folder, open_snapshot};
use super::{FilesError, InnerPath};
use crate::model::files::{display_name, encode_key, EntryKind, FileEntry, FolderListing, SortBy};
use rustix::fs::{readlinkat, statat, AtFlags, Dir, FileType};
use std::cmp::Ordering;
use std::path::Path;

/// What one entry of the folder is, before it becomes a page entry.
struct Raw {
    name: Vec<u8>,
    kind: EntryKind,
    size: u64,
    modified: i64,
    mode: u32,
}

/// Which entries of a folder, in which order: `offset..offset + limit` in `sort` order
/// (`descending` reverses it within the folders and within the rest).
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub sort: SortBy,
    pub descending: bool,
    pub offset: usize,
    pub limit: usize,
}

/// The `window` of folder `path` of a snapshot.
pub fn list_folder(
    store_root: &Path,
    task: &str,
    snapshot: &str,
    path: &InnerPath,
    window: Window,
) -> Result<FolderListing, FilesError> {
    let Window {
        sort,
        descending,
        offset,
        limit,
    } = window;
    let top = open_snapshot(store_root, task, snapshot)?;
    let folder = open_folder(&top, snapshot, path)?;
    let io = |source: std::io::Error| FilesError::Io {
        snapshot: snapshot.to_string(),
        path: path.display(),
        source,
    };
    let mut raw = Vec::new();
    for entry in Dir::read_from(&folder).map_err(|e| io(e.into()))? {
        let entry = entry.map_err(|e| io(e.into()))?;
        let name = entry.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        // Gone between the listing and the look: not listed.
        let Ok(st) = statat(&folder, name, AtFlags::SYMLINK_NOFOLLOW) else {
            continue;
        };
        let kind = match FileType::from_raw_mode(st.st_mode) {
            FileType::Directory => EntryKind::Folder,
            FileType::RegularFile => EntryKind::File,
            FileType::Symlink => EntryKind::Symlink,
            _ => EntryKind::Other,
        };
        raw.push(Raw {
            name: name.to_vec(),
            kind,
            size: u64::try_from(st.st_size).unwrap_or(0),
            modified: st.st_mtime,
            mode: st.st_mode & 0o7777,
        });
    }
    raw.sort_by(|a, b| {
        let folders_first = (b.kind == EntryKind::Folder).cmp(&(a.kind == EntryKind::Folder));
        let by = match sort {
            SortBy::Name => Ordering::Equal,
            SortBy::Size => a.size.cmp(&b.size),
            SortBy::Modified => a.modified.cmp(&b.modified),
        }
        .then_with(|| a.name.cmp(&b.name));
        folders_first.then(if descending { by.reverse() } else { by })
    });
    let total = raw.len();
    let entries = raw
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|r| {
            let target = (r.kind == EntryKind::Symlink)
                .then(|| readlinkat(&folder, r.name.as_slice(), Vec::new()).ok())
                .flatten()
                .map(|t| display_name(t.as_bytes()));
            FileEntry {
                name: display_name(&r.name),
                key: encode_key(&r.name),
                kind: r.kind,
                size: r.size,
                modified: r.modified,
                mode: r.mode,
                target,
            }
        })
        .collect();
    Ok(FolderListing {
        task: task.to_string(),
        snapshot: snapshot.to_string(),
        path: path.display(),
        key: path.key(),
        total,
        offset,
        entries,
    })
}
