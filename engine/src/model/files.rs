//! What a snapshot's folder looks like from outside: [`FolderListing`] and its [`FileEntry`]s, as the
//! CLI prints them and the web app shows them (`engine::files` makes them, on the server).
//!
//! A file name on Linux is any bytes but `/` and NUL: not always UTF-8, possibly with a newline. Each
//! entry carries two forms of it: [`FileEntry::name`], safe to show (control characters and bytes
//! that are not UTF-8 written as escapes), and [`FileEntry::key`], the exact bytes percent-encoded,
//! which [`decode_key`] turns back into the name (links and requests use it, so every file stays
//! reachable whatever its name).

use serde::{Deserialize, Serialize};

/// What kind of thing an entry is. Symbolic links are shown, never followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    Folder,
    File,
    Symlink,
    /// A device, socket or pipe (kept by the snapshot as it was).
    Other,
}

/// One entry of a snapshot folder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// The name as shown: UTF-8 kept, control characters and other bytes as escapes (`\n`, `\xff`).
    pub name: String,
    /// The name's exact bytes, percent-encoded ([`encode_key`]).
    pub key: String,
    pub kind: EntryKind,
    /// Bytes (of the link text, for a symlink).
    pub size: u64,
    /// Last modification, seconds since 1970 (UTC).
    pub modified: i64,
    /// Permission bits (`0o755`).
    pub mode: u32,
    /// A symlink's target, as shown (never resolved).
    pub target: Option<String>,
}

/// How a listing is ordered. Folders always come first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortBy {
    #[default]
    Name,
    Size,
    Modified,
}

impl SortBy {
    pub fn parse(s: &str) -> Option<SortBy> {
        match s {
            "name" => Some(SortBy::Name),
            "size" => Some(SortBy::Size),
            "modified" => Some(SortBy::Modified),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SortBy::Name => "name",
            SortBy::Size => "size",
            SortBy::Modified => "modified",
        }
    }
}

/// One page of a folder of a snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderListing {
    pub task: String,
    pub snapshot: String,
    /// The folder's path inside the snapshot, as shown (`/` for the top).
    pub path: String,
    /// The folder's path, each component's key joined by `/` (empty for the top).
    pub key: String,
    /// Entries in the whole folder.
    pub total: usize,
    /// Index of the first entry of this page.
    pub offset: usize,
    pub entries: Vec<FileEntry>,
}

/// How an entry differs between two snapshots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Removed,
    /// Other bytes (or another link target, or another kind of entry).
    Content,
    /// The same bytes; mode, owner or time changed.
    Metadata,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Content => "changed",
            Change::Metadata => "metadata",
        }
    }
}

/// One entry that differs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffEntry {
    /// Its path inside the snapshots, as shown (`/albums/beach.jpg`).
    pub path: String,
    /// Its path's key, for links.
    pub key: String,
    pub kind: EntryKind,
    pub change: Change,
    /// Bytes of the newer version (of the older one when removed).
    pub size: u64,
}

/// Counts of one folder's differences (its own entries, not its subfolders').
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderChanges {
    pub path: String,
    pub added: u64,
    pub removed: u64,
    pub changed: u64,
    pub metadata: u64,
    /// Bytes added or changed (newer sizes) and removed (older sizes).
    pub bytes: u64,
}

/// What changed from snapshot `older` to snapshot `newer` of a task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotDiff {
    pub task: String,
    pub older: String,
    pub newer: String,
    /// Entries that differ, in path order; at most `limit` of them (the counts cover all).
    pub entries: Vec<DiffEntry>,
    /// More entries differ than are listed.
    pub truncated: bool,
    /// Per folder that has differences, in path order.
    pub folders: Vec<FolderChanges>,
    /// The sums over every folder.
    pub total: FolderChanges,
    /// Entries compared without reading a byte because both snapshots share the inode.
    pub same_inode: u64,
}

/// What a snapshot holds: its files, the bytes they take, and the bytes only it holds — what
/// deleting it alone would free (files it shares with other snapshots through hard links are not).
/// Allocated bytes (`st_blocks`), as `du` counts them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotSize {
    /// Entries that are not folders.
    pub files: u64,
    pub total: u64,
    pub unique: u64,
}

/// One version of a file: the snapshots in a row that hold the same bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileVersion {
    /// The oldest snapshot that has this version.
    pub first: String,
    /// The newest snapshot that has it.
    pub last: String,
    /// How many snapshots have it.
    pub snapshots: usize,
    pub size: u64,
    /// Modification time of the file, seconds since 1970 (UTC).
    pub modified: i64,
}

/// A file whose name matched a search, in the newest snapshot that holds this version of it (a
/// file at the same path in an older snapshot with the same inode is the same version, not found
/// again).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundFile {
    pub snapshot: String,
    /// The path inside the snapshot, as shown, and its key.
    pub path: String,
    pub key: String,
    pub size: u64,
    /// Modification time, seconds since 1970 (UTC).
    pub modified: i64,
    /// True for the newest version of this path found (an older version of a path already found
    /// is false).
    pub newest: bool,
}

/// Permission bits as `ls` shows them: `0o754` is `rwxr-xr--`.
pub fn mode_text(mode: u32) -> String {
    const BITS: [(u32, char); 9] = [
        (0o400, 'r'),
        (0o200, 'w'),
        (0o100, 'x'),
        (0o040, 'r'),
        (0o020, 'w'),
        (0o010, 'x'),
        (0o004, 'r'),
        (0o002, 'w'),
        (0o001, 'x'),
    ];
    BITS.iter()
        .map(|&(bit, c)| if mode & bit != 0 { c } else { '-' })
        .collect()
}

/// The bytes of a name, made safe to show: valid UTF-8 stays as it is except control characters,
/// which become `\n`, `\t`, `\r` or `\x1b`; bytes that are not UTF-8 become `\xNN`; a backslash is
/// doubled, so the shown form is never ambiguous.
pub fn display_name(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                c if c.is_control() => {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        out.push_str(&format!("\\x{b:02x}"));
                    }
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// A path's key (components' keys joined by `/`) as shown: `/albums/two\nlines.txt`. A part that
/// is not a valid key is shown as it is.
pub fn display_key_path(key: &str) -> String {
    let parts: Vec<String> = key
        .split('/')
        .filter(|p| !p.is_empty())
        .map(|p| {
            decode_key(p)
                .map(|b| display_name(&b))
                .unwrap_or_else(|| p.to_string())
        })
        .collect();
    format!("/{}", parts.join("/"))
}

/// A name's bytes as a key: unreserved ASCII (`A-Z a-z 0-9 - . _ ~`) as it is, every other byte as
/// `%XX`. Safe in a URL path segment or query value as it is.
pub fn encode_key(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The bytes of a key made by [`encode_key`] (or any percent-encoding of them); `None` when a `%` is
/// not followed by two hex digits.
pub fn decode_key(key: &str) -> Option<Vec<u8>> {
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_shown_safely_and_its_key_gives_back_its_bytes() {
        let names: [&[u8]; 6] = [
            b"beach.jpg",
            b"two\nlines",
            b"caf\xc3\xa9 \xff.txt",
            b"<img src=x onerror=alert(1)>.html",
            b"back\\slash",
            &[b'a'; 255],
        ];
        for n in names {
            let key = encode_key(n);
            assert_eq!(decode_key(&key).as_deref(), Some(n), "{key}");
            assert!(key.bytes().all(|b| b.is_ascii_graphic() && b != b'/'));
            assert!(!display_name(n).chars().any(char::is_control));
        }
        assert_eq!(display_name(b"two\nlines"), "two\\nlines");
        assert_eq!(display_name(b"caf\xc3\xa9 \xff.txt"), "café \\xff.txt");
        assert_eq!(display_name(b"back\\slash"), "back\\\\slash");
        assert_eq!(decode_key("%4"), None);
        assert_eq!(
            display_key_path("albums/two%0Alines.txt"),
            "/albums/two\\nlines.txt"
        );
    }
}
