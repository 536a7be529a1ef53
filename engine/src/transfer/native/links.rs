//! Hard-link groups: files that share an inode in the source stay linked to each other in the
//! snapshot (rsync `-H`). The first name met is placed; the names met meanwhile wait for it, later
//! ones are linked to it.
//!
//! Invariants: a group whose first name was copied afresh but one of whose names is unchanged in an
//! earlier snapshot is pointed at that earlier copy after the walk ([`Job::relink_groups`]: a link
//! under a temporary name, renamed over each name), as rsync `-H --link-dest` does; a group that
//! cannot be relinked keeps its (correct) copy; a waiting name's folder is not finished before it.

use super::copy::Placed;
use super::job::{lock, show, under, DirHandles, DirNode, Fatal, Job};
use super::sys;
use crate::model::events::LogLevel;
use std::ffi::CStr;
use std::fs::{self, Metadata};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Files sharing one inode in the source (while not all their names have been met).
pub(super) enum Group {
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
pub(super) struct FreshGroup {
    pub(super) members: Vec<(Vec<u8>, Arc<DirNode>)>,
    pub(super) earlier: Option<PathBuf>,
}

impl Job {
    /// A file with several names in the source: the first one met is placed, the others become
    /// links to it. When the first name was new (a fresh copy) but a later name is found unchanged
    /// in an earlier snapshot, the whole group is pointed at that earlier copy once the walk is done
    /// ([`Job::relink_groups`]), as rsync `-H --link-dest` does.
    pub(super) fn place_linked(
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
    pub(super) fn relink_groups(&self) {
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

    pub(super) fn link_member(
        &self,
        first: &Path,
        rel: &[u8],
        meta: &Metadata,
    ) -> Result<(), Fatal> {
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
}
