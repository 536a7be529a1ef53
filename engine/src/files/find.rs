//! Find: files whose *name* matches a pattern, across a task's snapshots, newest snapshot first,
//! each version once. A [`Pattern`] is a shell-style glob (`*`, `?`, `[a-z]`, `[!x]`) matched
//! against the whole name, ignoring ASCII case (`*.XLSX` finds `budget.xlsx`); a pattern without
//! wildcards matches names that contain it (`taxes` finds `2024-taxes.pdf`). Folders are walked,
//! not matched; links are never followed.
//!
//! [`Finder`] keeps, per path found, the inodes already reported: the same inode in an older
//! snapshot is the same version (hard-linked, unchanged), so each version of each file is reported
//! once, in the newest snapshot that holds it, as soon as it is found ([`Finder::search`] calls back
//! per file: the CLI prints it, the web page streams it).

use super::beneath::{open_snapshot, DIR_FLAGS};
use super::{FilesError, InnerPath};
use crate::model::files::FoundFile;
use rustix::fs::{openat, statat, AtFlags, Dir, FileType, Mode};
use std::collections::{HashMap, HashSet};
use std::os::fd::OwnedFd;
use std::path::Path;

/// Why a pattern cannot be used.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("the pattern is empty: give a name or a part of one, e.g. *.xlsx or taxes")]
    Empty,
    #[error("the pattern {0:?} has a `/`: it matches names, not paths; leave out the folders")]
    Slash(String),
    #[error("the pattern {0:?} has a `[` without its `]`")]
    OpenBracket(String),
}

/// A name pattern (see the module docs).
#[derive(Clone, Debug)]
pub struct Pattern {
    glob: Vec<u8>,
}

impl Pattern {
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(PatternError::Empty);
        }
        if text.contains('/') {
            return Err(PatternError::Slash(text.to_string()));
        }
        let mut glob = text.as_bytes().to_ascii_lowercase();
        if !glob.iter().any(|b| matches!(b, b'*' | b'?' | b'[')) {
            glob.insert(0, b'*');
            glob.push(b'*');
        }
        // Every `[` must close, so matching never meets a broken class.
        let mut i = 0;
        while i < glob.len() {
            if glob[i] == b'[' {
                match class_end(&glob, i) {
                    Some(end) => i = end,
                    None => return Err(PatternError::OpenBracket(text.to_string())),
                }
            }
            i += 1;
        }
        Ok(Pattern { glob })
    }

    /// Whether `name` matches, ignoring ASCII case.
    pub fn matches(&self, name: &[u8]) -> bool {
        glob_match(&self.glob, &name.to_ascii_lowercase())
    }
}

/// The index of the `]` closing the class that opens at `start`.
fn class_end(glob: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    if glob.get(i) == Some(&b'!') {
        i += 1;
    }
    // A `]` right after the opening (or `[!`) is a member, as in the shell.
    if glob.get(i) == Some(&b']') {
        i += 1;
    }
    while i < glob.len() {
        if glob[i] == b']' {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Whether byte `c` is in the class `glob[start..=end]`.
fn in_class(glob: &[u8], start: usize, end: usize, c: u8) -> bool {
    let mut i = start + 1;
    let negate = glob.get(i) == Some(&b'!');
    if negate {
        i += 1;
    }
    let mut hit = false;
    while i < end {
        if i + 2 < end && glob[i + 1] == b'-' {
            hit |= glob[i] <= c && c <= glob[i + 2];
            i += 3;
        } else {
            hit |= glob[i] == c;
            i += 1;
        }
    }
    hit != negate
}

/// Glob matching with backtracking over the last `*` (linear in practice).
fn glob_match(glob: &[u8], name: &[u8]) -> bool {
    let (mut g, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if g < glob.len() {
            match glob[g] {
                b'*' => {
                    star = Some((g, n));
                    g += 1;
                    continue;
                }
                b'?' => {
                    g += 1;
                    n += 1;
                    continue;
                }
                b'[' => {
                    if let Some(end) = class_end(glob, g) {
                        if in_class(glob, g, end, name[n]) {
                            g = end + 1;
                            n += 1;
                            continue;
                        }
                    }
                }
                c if c == name[n] => {
                    g += 1;
                    n += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sg, sn)) => {
                g = sg + 1;
                n = sn + 1;
                star = Some((sg, sn + 1));
            }
            None => return false,
        }
    }
    glob[g..].iter().all(|&b| b == b'*')
}

/// A search across the snapshots of one task, one snapshot at a time, newest first.
pub struct Finder<'a> {
    store_root: &'a Path,
    task: &'a str,
    pattern: Pattern,
    /// Path bytes → the inodes reported for it.
    seen: HashMap<Vec<u8>, HashSet<(u64, u64)>>,
    found: usize,
    limit: usize,
}

impl<'a> Finder<'a> {
    /// A search for `pattern` that stops after `limit` results.
    pub fn new(store_root: &'a Path, task: &'a str, pattern: Pattern, limit: usize) -> Finder<'a> {
        Finder {
            store_root,
            task,
            pattern,
            seen: HashMap::new(),
            found: 0,
            limit,
        }
    }

    /// True once `limit` results were reported.
    pub fn full(&self) -> bool {
        self.found >= self.limit
    }

    /// Searches `snapshot` (call newest first), reporting each new version to `found`.
    pub fn search(
        &mut self,
        snapshot: &str,
        found: &mut dyn FnMut(FoundFile),
    ) -> Result<(), FilesError> {
        let top = open_snapshot(self.store_root, self.task, snapshot)?;
        self.walk(snapshot, &top, &InnerPath::top(), found)
    }

    fn walk(
        &mut self,
        snapshot: &str,
        dir: &OwnedFd,
        path: &InnerPath,
        found: &mut dyn FnMut(FoundFile),
    ) -> Result<(), FilesError> {
        let io = |e: rustix::io::Errno| FilesError::Io {
            snapshot: snapshot.to_string(),
            path: path.display(),
            source: e.into(),
        };
        let mut names = Vec::new();
        for entry in Dir::read_from(dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            let name = entry.file_name().to_bytes();
            if name != b"." && name != b".." {
                names.push(name.to_vec());
            }
        }
        names.sort();
        let mut folders = Vec::new();
        for name in names {
            if self.full() {
                return Ok(());
            }
            let Ok(st) = statat(dir, name.as_slice(), AtFlags::SYMLINK_NOFOLLOW) else {
                continue;
            };
            match FileType::from_raw_mode(st.st_mode) {
                FileType::Directory => folders.push(name),
                FileType::RegularFile if self.pattern.matches(&name) => {
                    let inner = path.join(&name);
                    let key = inner.components().join(&b'/');
                    let versions = self.seen.entry(key).or_default();
                    let newest = versions.is_empty();
                    if versions.insert((st.st_dev, st.st_ino)) {
                        self.found += 1;
                        found(FoundFile {
                            snapshot: snapshot.to_string(),
                            path: inner.display(),
                            key: inner.key(),
                            size: u64::try_from(st.st_size).unwrap_or(0),
                            modified: st.st_mtime,
                            newest,
                        });
                    }
                }
                _ => {}
            }
        }
        for name in folders {
            if self.full() {
                break;
            }
            if let Ok(sub) = openat(dir, name.as_slice(), DIR_FLAGS, Mode::empty()) {
                self.walk(snapshot, &sub, &path.join(&name), found)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_names_as_a_shell_would_ignoring_case() {
        let p = |s: &str| Pattern::parse(s).unwrap();
        assert!(p("*.xlsx").matches(b"Budget 2026.XLSX"));
        assert!(!p("*.xlsx").matches(b"budget.xlsx.bak"));
        assert!(p("taxes*").matches(b"Taxes-2024.pdf"));
        assert!(!p("taxes*").matches(b"my taxes.pdf"));
        assert!(p("taxes").matches(b"my taxes.pdf"));
        assert!(p("IMG_????.jpg").matches(b"img_0042.jpg"));
        assert!(!p("IMG_????.jpg").matches(b"img_42.jpg"));
        assert!(p("report[0-9].txt").matches(b"report7.txt"));
        assert!(!p("report[!0-9].txt").matches(b"report7.txt"));
        assert!(p("*a*b*c").matches(b"xxaxxbxxc"));
        assert!(p("caf*").matches(b"caf\xe9.txt"));
        assert_eq!(Pattern::parse("  ").unwrap_err(), PatternError::Empty);
        assert!(matches!(Pattern::parse("a/b"), Err(PatternError::Slash(_))));
        assert!(matches!(
            Pattern::parse("x[ab"),
            Err(PatternError::OpenBracket(_))
        ));
    }
}
