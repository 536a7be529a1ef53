//! [`diff`]: what changed between two snapshots of a task, both trees walked side by side through
//! their folders' descriptors (links never followed, as everywhere in `files`).
//!
//! An entry both snapshots hard-link to one inode is unchanged without reading a byte — for the
//! snapshots Mnemosynce makes, that is nearly every file, which is what makes this fast. Otherwise a
//! file of another size has changed; one of the same size is compared byte by byte, and when the
//! bytes are the same only its metadata (mode, owner, time) can have changed. A link compares its
//! target. An entry that turned into another kind is one change. Counts and bytes are kept per
//! folder for all differences; the list of entries stops at `limit`.

use super::beneath::{open_snapshot, DIR_FLAGS};
use super::{FilesError, InnerPath};
use crate::model::files::{Change, DiffEntry, EntryKind, FolderChanges, SnapshotDiff};
use rustix::fs::{openat, statat, AtFlags, Dir, FileType, Mode, OFlags, Stat};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::Path;

/// What changed from snapshot `older` to `newer` of `task`; at most `limit` entries listed.
pub fn diff(
    store_root: &Path,
    task: &str,
    older: &str,
    newer: &str,
    limit: usize,
) -> Result<SnapshotDiff, FilesError> {
    let a = open_snapshot(store_root, task, older)?;
    let b = open_snapshot(store_root, task, newer)?;
    let mut walk = Walk {
        snapshot: newer.to_string(),
        limit,
        entries: Vec::new(),
        truncated: false,
        folders: BTreeMap::new(),
        total: FolderChanges::default(),
        same_inode: 0,
    };
    walk.walk(Some(&a), Some(&b), &InnerPath::top())?;
    let total = FolderChanges {
        path: "/".into(),
        ..walk.total
    };
    Ok(SnapshotDiff {
        task: task.to_string(),
        older: older.to_string(),
        newer: newer.to_string(),
        entries: walk.entries,
        truncated: walk.truncated,
        folders: walk.folders.into_values().collect(),
        total,
        same_inode: walk.same_inode,
    })
}

struct Walk {
    snapshot: String,
    limit: usize,
    entries: Vec<DiffEntry>,
    truncated: bool,
    folders: BTreeMap<String, FolderChanges>,
    total: FolderChanges,
    same_inode: u64,
}

fn kind_of(st: &Stat) -> EntryKind {
    match FileType::from_raw_mode(st.st_mode) {
        FileType::Directory => EntryKind::Folder,
        FileType::RegularFile => EntryKind::File,
        FileType::Symlink => EntryKind::Symlink,
        _ => EntryKind::Other,
    }
}

fn size_of(st: &Stat) -> u64 {
    u64::try_from(st.st_size).unwrap_or(0)
}

/// Mode, owner and modification time.
fn same_metadata(a: &Stat, b: &Stat) -> bool {
    a.st_mode == b.st_mode
        && a.st_uid == b.st_uid
        && a.st_gid == b.st_gid
        && a.st_mtime == b.st_mtime
        && a.st_mtime_nsec == b.st_mtime_nsec
}

impl Walk {
    fn io(&self, path: &InnerPath, e: impl Into<std::io::Error>) -> FilesError {
        FilesError::Io {
            snapshot: self.snapshot.clone(),
            path: path.display(),
            source: e.into(),
        }
    }

    /// The names in a folder (none for a side that has no such folder).
    fn names(
        &self,
        dir: Option<&OwnedFd>,
        path: &InnerPath,
    ) -> Result<BTreeSet<Vec<u8>>, FilesError> {
        let mut out = BTreeSet::new();
        let Some(dir) = dir else { return Ok(out) };
        for entry in Dir::read_from(dir).map_err(|e| self.io(path, e))? {
            let entry = entry.map_err(|e| self.io(path, e))?;
            let name = entry.file_name().to_bytes();
            if name != b"." && name != b".." {
                out.insert(name.to_vec());
            }
        }
        Ok(out)
    }

    fn walk(
        &mut self,
        a: Option<&OwnedFd>,
        b: Option<&OwnedFd>,
        path: &InnerPath,
    ) -> Result<(), FilesError> {
        let mut names = self.names(a, path)?;
        names.extend(self.names(b, path)?);
        for name in names {
            let child = path.join(&name);
            let sa = a.and_then(|d| statat(d, name.as_slice(), AtFlags::SYMLINK_NOFOLLOW).ok());
            let sb = b.and_then(|d| statat(d, name.as_slice(), AtFlags::SYMLINK_NOFOLLOW).ok());
            let open = |dir: Option<&OwnedFd>, st: &Option<Stat>| -> Option<OwnedFd> {
                let is_folder = st.as_ref().is_some_and(|s| kind_of(s) == EntryKind::Folder);
                dir.filter(|_| is_folder)
                    .and_then(|d| openat(d, name.as_slice(), DIR_FLAGS, Mode::empty()).ok())
            };
            match (&sa, &sb) {
                (None, None) => {}
                (None, Some(n)) => {
                    self.record(path, &child, kind_of(n), Change::Added, size_of(n));
                    if let Some(d) = open(b, &sb) {
                        self.walk(None, Some(&d), &child)?;
                    }
                }
                (Some(o), None) => {
                    self.record(path, &child, kind_of(o), Change::Removed, size_of(o));
                    if let Some(d) = open(a, &sa) {
                        self.walk(Some(&d), None, &child)?;
                    }
                }
                (Some(o), Some(n)) => {
                    let (ko, kn) = (kind_of(o), kind_of(n));
                    if ko != kn {
                        self.record(path, &child, kn, Change::Content, size_of(n));
                        let (da, db) = (open(a, &sa), open(b, &sb));
                        if da.is_some() || db.is_some() {
                            self.walk(da.as_ref(), db.as_ref(), &child)?;
                        }
                    } else if ko == EntryKind::Folder {
                        let (da, db) = (open(a, &sa), open(b, &sb));
                        if !same_metadata(o, n) {
                            self.record(path, &child, kn, Change::Metadata, 0);
                        }
                        self.walk(da.as_ref(), db.as_ref(), &child)?;
                    } else if o.st_ino == n.st_ino && o.st_dev == n.st_dev {
                        self.same_inode += 1;
                    } else {
                        let same_bytes = match ko {
                            EntryKind::File => {
                                size_of(o) == size_of(n) && same_content(a, b, &name)
                            }
                            EntryKind::Symlink => {
                                let read = |d: Option<&OwnedFd>| {
                                    d.and_then(|d| {
                                        rustix::fs::readlinkat(d, name.as_slice(), Vec::new()).ok()
                                    })
                                };
                                read(a) == read(b)
                            }
                            _ => o.st_rdev == n.st_rdev,
                        };
                        if !same_bytes {
                            self.record(path, &child, kn, Change::Content, size_of(n));
                        } else if !same_metadata(o, n) {
                            self.record(path, &child, kn, Change::Metadata, size_of(n));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn record(
        &mut self,
        folder: &InnerPath,
        path: &InnerPath,
        kind: EntryKind,
        change: Change,
        size: u64,
    ) {
        let counts = self
            .folders
            .entry(folder.display())
            .or_insert_with(|| FolderChanges {
                path: folder.display(),
                ..FolderChanges::default()
            });
        for c in [&mut *counts, &mut self.total] {
            match change {
                Change::Added => c.added += 1,
                Change::Removed => c.removed += 1,
                Change::Content => c.changed += 1,
                Change::Metadata => c.metadata += 1,
            }
            if change != Change::Metadata && kind != EntryKind::Folder {
                c.bytes += size;
            }
        }
        if self.entries.len() < self.limit {
            self.entries.push(DiffEntry {
                path: path.display(),
                key: path.key(),
                kind,
                change,
                size,
            });
        } else {
            self.truncated = true;
        }
    }
}

/// Whether file `name` has the same bytes in both folders (read side by side, 64 KiB at a time).
pub(crate) fn same_content(a: Option<&OwnedFd>, b: Option<&OwnedFd>, name: &[u8]) -> bool {
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let open = |d: Option<&OwnedFd>| {
        d.and_then(|d| openat(d, name, flags, Mode::empty()).ok())
            .map(std::fs::File::from)
    };
    let (Some(mut fa), Some(mut fb)) = (open(a), open(b)) else {
        return false;
    };
    let mut ba = vec![0u8; 64 * 1024];
    let mut bb = vec![0u8; 64 * 1024];
    loop {
        let Ok(na) = read_full(&mut fa, &mut ba) else {
            return false;
        };
        let Ok(nb) = read_full(&mut fb, &mut bb) else {
            return false;
        };
        if na != nb || ba[..na] != bb[..nb] {
            return false;
        }
        if na == 0 {
            return true;
        }
    }
}

/// Fills `buf` as far as the file goes; the count read (less than `buf.len()` only at the end).
fn read_full(f: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}
