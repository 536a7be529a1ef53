//! Changing and saving `backup_config.yml` from the web app without losing what the user wrote
//! (SPEC §2).
//!
//! # What problem does this solve?
//!
//! The configuration is a file people edit by hand. They leave comments in it ("the NAS is only on at
//! night"), line things up, keep tasks in their own order. The web app edits the same file: the
//! configuration editor saves the whole text, the schedule page changes `schedule:`, the email
//! settings change `email_sender:` and friends. SPEC §2 promises three things about those saves:
//!
//! 1. **Comments and formatting survive.** So we never load the YAML into a tree and write the tree
//!    back out (every YAML library drops comments that way). We edit the *text*: find the lines of one
//!    top-level entry and replace only those, or only one value on one line.
//! 2. **A bad save is impossible.** [`update`] runs [`check_str`] first and writes nothing when there is
//!    any error. The edit functions also check their own work (see "Trust, but verify" below).
//! 3. **The last good file is never lost.** [`update`] writes a new file next to the old one and
//!    renames it into place, so a crash or a full disk leaves either the old file or the new one, never
//!    half of each. The version it replaces is kept as `backup_config.yml.prev`.
//!
//! # Editing text: the top-level entry
//!
//! Everything the web app changes is a *top-level entry*: a line that starts at column 0 with `key:`,
//! plus the lines that belong to it. [`replace_block`] finds the entry like this:
//!
//! ```text
//! # Where snapshots go              <- belongs to nothing we edit: kept
//! schedule:                          <- the entry starts at its key line
//!   # at night                       <- indented comment: part of the entry (replaced)
//!   cron: "0 2 * * *"
//!
//!   enabled: true                    <- the last indented line: the entry ends here
//!
//! # How long snapshots are kept      <- column-0 comments (and blank lines) right before the next
//! retention:                            key belong to that key: kept
//! ```
//!
//! - The entry runs until the next line that starts another top-level key (or a `---`/`...` document
//!   marker). Lines at column 0 that are not keys stay in the entry: `- name: A` list items written
//!   without indentation (`tasks:\n- name: A`) and the closing `}` of a flow mapping.
//! - Then the blank lines and column-0 comments at its end are given back: they are the heading of
//!   the next key, or the end of the file.
//! - A key that is not there is appended at the end of the file, after a blank line.
//! - The file's line endings are kept (`\r\n` if it uses them; the new lines get them too), and so is
//!   a byte-order mark, and a missing newline at the very end when the last entry is replaced.
//! - What cannot be done safely is an [`EditError`] whose message sends the user to the
//!   configuration editor; the text is then unchanged.
//!
//! The gentler edits go one step further: [`set_schedule`] and [`set_top_level_scalar`] change only
//! the *value* on the `cron:`/`enabled:` line (or the `key: value` line) when the entry has that
//! simple shape, so even a comment at the end of that line stays (`cron: "0 3 * * *"  # after the
//! NAS wakes up`). Any other shape (a flow mapping `schedule: {cron: ...}`, a value over several
//! lines, an anchor) falls back to replacing the whole entry.
//!
//! # Trust, but verify
//!
//! A text edit that misreads the file could, in theory, produce a *valid* file in which something
//! else changed: a task lost, an exclude gone. `check_str` cannot notice that, so every edit function
//! checks it: it reads the old and the new text with `serde_yaml` into plain YAML values, and the new
//! one must equal the old one in every top-level key but the one edited, and that key must hold
//! exactly the new value. If not, the edit fails with [`EditError::Unverified`] and nothing changes.
//! (When the old text is not readable YAML at all, there is nothing to compare; [`update`]'s check
//! then has the last word.) `serde_yaml` has its own limits against alias bombs and deep nesting.
//!
//! # The diff
//!
//! Before a save the editor shows what will change. [`line_diff`] is a classic longest-common-
//! subsequence diff on lines, so it is minimal (the fewest added + removed lines), with two things
//! that keep it cheap on a server that should idle in a few MB:
//!
//! - the common first and last lines are matched first and never enter the quadratic part, so a
//!   2 000-line file with one change costs one comparison per line;
//! - what remains in the middle costs one *bit* per pair of lines (2 MB at most) and is only computed
//!   up to [`MAX_DIFF_CELLS`] pairs (4 000 × 4 000 lines). Beyond that the middle is shown as "all
//!   old lines removed, all new lines added": still correct, just not minimal. No configuration is
//!   that big.
//!
//! Lines are compared without their line endings. [`diff_hunks`] cuts a diff into the hunks the page
//! shows, the changed lines with [`DIFF_CONTEXT`] unchanged lines around them, and
//! [`line_diff_context`] gives those hunks as one list (the line numbers jump between hunks).
//!
//! # Saving
//!
//! [`update`] is the one write path of every page (editor, schedule, retention, email). It does, in
//! this order:
//!
//! 0. Refuse with [`SaveError::ChangedOnDisk`] when the file is no longer at the [`Version`] the page
//!    read (a hand edit made meanwhile is never overwritten), then apply the page's [`Edit`].
//! 1. `check_str(text)`; any error → [`SaveError::Invalid`] with every problem, nothing written.
//! 2. If the text is byte-for-byte the file's current content, nothing is written either (so a
//!    second click on Save does not turn `.prev` into a copy of the current file).
//! 3. Write `.<name>.tmp-<pid>-<n>` in the same folder (created with `create_new`, with the mode and,
//!    when allowed, the owner of the file it replaces; `0640` for a new file) and `fsync` it.
//! 4. Keep the current file as `<name>.prev`, via its own temporary file and a rename, so an older
//!    `.prev` is replaced atomically too. It is a copy, not a hard link: an editor that writes files in
//!    place (nano does) would otherwise change `.prev` together with the file.
//! 5. Rename the temporary file over the file, then `fsync` the folder.
//!
//! Any failure before step 5 removes the temporary files and leaves the file as it was; the error says
//! what failed and what to do about it.
//!
//! Decisions:
//! - **A symbolic link is followed**: the file it points to is replaced (in that file's folder), and
//!   the link stays a link. People keep configurations in a dotfiles repository and link them; turning
//!   their link into a plain file would silently cut that tie. A link to nothing is an error.
//! - **A read-only file is refused** (no write permission for anyone, e.g. `chmod 444`): that is how
//!   people say "do not touch", and renaming a new file over it would ignore them.
//! - **A file that cannot be renamed over** (a single file bind-mounted into a container: `EBUSY`) is
//!   refused with a hint to mount its folder instead. We never fall back to rewriting the file in
//!   place, which a crash could leave half-written.
//!
//! # Limits
//!
//! - The document's top level must be a block mapping written from column 0 (`key: value` lines), as
//!   every configuration in SPEC §2 is. A document written as one flow mapping (`{dir_backup_local:
//!   ..., tasks: [...]}`) or indented as a whole is refused with [`EditError::NotBlockMapping`]: the user
//!   can still change it in the configuration editor, which saves the text as written.
//! - A key written twice at the top level is refused with [`EditError::DuplicateKey`] (it is an error
//!   for `check_str` too). A key in a spelling we do not recognise (an escaped `"sch\u0065dule"`) is
//!   not found: the appended entry makes a duplicate, which `check_str` reports, so the save is refused.
//! - Content after a `...` end-of-document marker is not supported (an appended key would start a
//!   second document; `check_str` refuses that save).
//! - Stale temporary files of a process killed in the middle of a save (`.backup_config.yml.tmp-*`)
//!   are left where they are; they are hidden and harmless.

use std::collections::HashMap;
use std::fs;
use std::io::{self, ErrorKind};
use std::ops::Range;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde_yaml::{Mapping, Value};

use crate::atomic::{folder_of, sync_dir, Staged};
use crate::config::{check_str, Checked, Problem};
use crate::model::diff::{DiffKind, DiffLine};

/// The commented configuration a new install starts from (the wizard's editor is pre-filled with it).
/// It passes [`check_str`] with warnings only: its example folders may not exist yet.
pub const TEMPLATE: &str = include_str!("../templates/backup_config.yml");

/// Unchanged lines shown before and after each change in [`diff_hunks`], as `diff -u` does.
pub const DIFF_CONTEXT: usize = 3;

/// The largest middle part (old lines × new lines, after the common first and last lines are taken
/// off) that [`line_diff`] diffs minimally; beyond it the middle is shown as removed + added.
pub const MAX_DIFF_CELLS: usize = 4_000 * 4_000;

/// The mode of a configuration file [`update`] creates (one that replaces a file keeps that file's mode).
const NEW_FILE_MODE: u32 = 0o640;

// ---------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------

/// Why an edit of the configuration text was not made. The text is then unchanged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error(
        "line {line}: this page can only change a configuration whose top level is written as \
         `key: value` lines starting at the left margin, but this one starts with {found}; make the \
         change in the configuration editor instead"
    )]
    NotBlockMapping { line: usize, found: String },

    #[error(
        "`{key}:` is written {} times at the top level (lines {}), so it is unclear which one to change; \
         keep one of them in the configuration editor, then try again",
        .lines.len(),
        list(.lines)
    )]
    DuplicateKey { key: String, lines: Vec<usize> },

    /// The caller passed something this module cannot write (a bug in the caller, not the user's).
    #[error("cannot change `{key}:` in the configuration: {reason}")]
    BadInput { key: String, reason: String },

    #[error(
        "changing `{key}:` would have changed other settings too, so nothing was changed; please make \
         the change in the configuration editor (and report this as a bug in Mnemosynce)"
    )]
    Unverified { key: String },

    /// A page that changes one entry needs a file to change it in.
    #[error("there is no configuration file yet: save one in the configuration editor first")]
    NoFile,
}

/// Why [`update`] did not save. In every case the file on disk is as it was.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// The text has errors; they are all in the [`Checked`], with lines and columns.
    #[error("{}", invalid_message(.0))]
    Invalid(Checked),

    /// The file is not what the page read (a hand edit, another tab): saving would undo that change.
    #[error(
        "{} changed since this page read it, so your changes were not saved (that would undo the other \
         change); reload the page to see the file as it is now, then make your change again",
        .path.display()
    )]
    ChangedOnDisk { path: PathBuf },

    /// The edit could not be made on the file's text.
    #[error(transparent)]
    Edit(#[from] EditError),

    #[error("cannot save the configuration as {}: that is {what}, not a file; point --config to a file", .path.display())]
    NotAFile { path: PathBuf, what: &'static str },

    #[error(
        "{} is read-only (mode {mode:04o}), so it was not changed; make it writable (chmod u+w) to save it \
         from the web app",
        .path.display()
    )]
    ReadOnly { path: PathBuf, mode: u32 },

    #[error("cannot save {}: could not {action}: {source}; {hint}. The file was not changed", .path.display())]
    Io {
        path: PathBuf,
        /// What was being done, e.g. "write the new version to a temporary file".
        action: &'static str,
        #[source]
        source: io::Error,
        /// What to do about it.
        hint: &'static str,
    },
}

fn invalid_message(checked: &Checked) -> String {
    let count = checked.errors().count();
    match checked.errors().next() {
        Some(first) => format!(
            "the configuration would have {count} error(s), so nothing was saved; fix them in the \
             configuration editor first. The first: {first}"
        ),
        None => "the configuration was not saved".into(),
    }
}

fn list(lines: &[usize]) -> String {
    let parts: Vec<String> = lines.iter().map(usize::to_string).collect();
    parts.join(", ")
}

/// What [`update`] did.
#[derive(Clone, Debug)]
pub struct Saved {
    /// The file written: the path given, or the file its symbolic link points to.
    pub path: PathBuf,
    /// Where the version it replaced is kept (`<name>.prev`); `None` when there was no file before or
    /// nothing changed.
    pub previous: Option<PathBuf>,
    /// `false` when the text was already the file's content, and nothing was written.
    pub changed: bool,
    /// The warnings of [`check_str`] (unknown keys, folders that do not exist): worth showing.
    pub warnings: Vec<Problem>,
    /// The version of the file as it is now, for the page's next save.
    pub version: Version,
}

// ---------------------------------------------------------------------------------------------------
// Versions and edits
// ---------------------------------------------------------------------------------------------------

/// What a page read of the configuration file: the SHA-256 of its bytes (of no bytes when there is no
/// file). The page sends it back with its save, and [`update`] refuses when the file is no longer that.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Version(String);

impl Version {
    /// The version of a file holding `bytes`.
    pub fn of(bytes: &[u8]) -> Version {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(bytes);
        Version(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The hexadecimal text the page carries.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for Version {
    fn from(text: String) -> Version {
        Version(text)
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The version of the file at `path` now (a symbolic link is followed). A page reads it *before* it
/// reads the configuration it shows: if the file changes in between, its save is refused, never the
/// other way round.
pub fn version(path: &Path) -> Result<Version, SaveError> {
    let target = resolve(path)?;
    Ok(Version::of(
        read_current(&target)?.as_deref().unwrap_or(&[]),
    ))
}

/// One change a page makes to the configuration text. `current` is the file's text, `None` when there
/// is no file; the result is the whole new text.
pub trait Edit {
    fn apply(&self, current: Option<&str>) -> Result<String, EditError>;
}

/// The configuration editor's edit: the whole text, as typed (a missing file is created).
pub struct WholeText<'a>(pub &'a str);

impl Edit for WholeText<'_> {
    fn apply(&self, _current: Option<&str>) -> Result<String, EditError> {
        Ok(self.0.to_string())
    }
}

/// The schedule page's edit: `schedule:` set with [`set_schedule`].
pub struct ScheduleEdit<'a> {
    pub cron: &'a str,
    pub enabled: bool,
}

impl Edit for ScheduleEdit<'_> {
    fn apply(&self, current: Option<&str>) -> Result<String, EditError> {
        set_schedule(current.ok_or(EditError::NoFile)?, self.cron, self.enabled)
    }
}

// ---------------------------------------------------------------------------------------------------
// The line diff
// ---------------------------------------------------------------------------------------------------

/// Every line of `old` and `new`, each as [`DiffKind::Same`], [`DiffKind::Removed`] or
/// [`DiffKind::Added`], with the fewest changed lines (see the module docs for the size limit).
/// A changed line comes out as the removed old line followed by the added new one.
pub fn line_diff(old: &str, new: &str) -> Vec<DiffLine> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (a_mid, b_mid) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);

    let mut out = Vec::with_capacity(a.len().max(b.len()) + a_mid.len().min(b_mid.len()));
    let (mut i, mut j) = (0, 0);
    let mut push = |kind: DiffKind, out: &mut Vec<DiffLine>| {
        let line = match kind {
            DiffKind::Same => {
                i += 1;
                j += 1;
                DiffLine {
                    kind,
                    old_line: Some(number(i)),
                    new_line: Some(number(j)),
                    text: a[i - 1].to_string(),
                }
            }
            DiffKind::Removed => {
                i += 1;
                DiffLine {
                    kind,
                    old_line: Some(number(i)),
                    new_line: None,
                    text: a[i - 1].to_string(),
                }
            }
            DiffKind::Added => {
                j += 1;
                DiffLine {
                    kind,
                    old_line: None,
                    new_line: Some(number(j)),
                    text: b[j - 1].to_string(),
                }
            }
        };
        out.push(line);
    };

    for _ in 0..prefix {
        push(DiffKind::Same, &mut out);
    }
    for kind in middle_diff(a_mid, b_mid) {
        push(kind, &mut out);
    }
    for _ in 0..suffix {
        push(DiffKind::Same, &mut out);
    }
    out
}

/// A 1-based line number for the page (a file of 4 billion lines shows the last number repeated).
fn number(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The edit script for the middle part: longest common subsequence by dynamic programming over the
/// suffixes, keeping only two rows of lengths and one bit per cell ("removing here is as good as
/// adding"), then one walk from the top. Equal lines are matched on the spot; on a tie the removal
/// comes first, so a changed block reads as its old lines, then its new ones.
fn middle_diff<'s>(a: &[&'s str], b: &[&'s str]) -> Vec<DiffKind> {
    let (n, m) = (a.len(), b.len());
    let all_replaced = || {
        let mut ops = vec![DiffKind::Removed; n];
        ops.extend(std::iter::repeat_n(DiffKind::Added, m));
        ops
    };
    if n == 0 || m == 0 || n.checked_mul(m).is_none_or(|cells| cells > MAX_DIFF_CELLS) {
        return all_replaced();
    }

    // Lines as small numbers, so each comparison in the n × m loop is one integer compare.
    let mut ids: HashMap<&'s str, u32> = HashMap::new();
    let mut id = |line: &'s str| -> u32 {
        let next = number(ids.len());
        *ids.entry(line).or_insert(next)
    };
    let a: Vec<u32> = a.iter().map(|l| id(l)).collect();
    let b: Vec<u32> = b.iter().map(|l| id(l)).collect();

    // below[j] = LCS(a[i+1..], b[j..]); here[j] = LCS(a[i..], b[j..]).
    let mut below = vec![0u32; m + 1];
    let mut here = vec![0u32; m + 1];
    let mut prefer_removal = vec![0u64; (n * m).div_ceil(64)];
    for i in (0..n).rev() {
        here[m] = 0;
        for j in (0..m).rev() {
            here[j] = if a[i] == b[j] {
                below[j + 1] + 1
            } else if below[j] >= here[j + 1] {
                let cell = i * m + j;
                prefer_removal[cell / 64] |= 1 << (cell % 64);
                below[j]
            } else {
                here[j + 1]
            };
        }
        std::mem::swap(&mut below, &mut here);
    }

    let mut ops = Vec::with_capacity(n + m);
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        let cell = i * m + j;
        if a[i] == b[j] {
            ops.push(DiffKind::Same);
            i += 1;
            j += 1;
        } else if prefer_removal[cell / 64] & (1 << (cell % 64)) != 0 {
            ops.push(DiffKind::Removed);
            i += 1;
        } else {
            ops.push(DiffKind::Added);
            j += 1;
        }
    }
    ops.extend(std::iter::repeat_n(DiffKind::Removed, n - i));
    ops.extend(std::iter::repeat_n(DiffKind::Added, m - j));
    ops
}

/// The hunks of a diff, as the editor shows them: each changed line with up to `context` unchanged
/// lines before and after it; hunks whose context would touch or overlap are one hunk. No changes: no
/// hunks. The page draws a "⋯" between hunks; the line numbers say how much is skipped.
pub fn diff_hunks(lines: &[DiffLine], context: usize) -> Vec<Vec<DiffLine>> {
    let mut hunks = Vec::new();
    let mut current: Option<Range<usize>> = None;
    for (k, _) in lines.iter().enumerate().filter(|(_, l)| l.is_change()) {
        let start = k.saturating_sub(context);
        let end = k.saturating_add(context).saturating_add(1).min(lines.len());
        current = match current {
            Some(r) if start <= r.end => Some(r.start..end),
            Some(r) => {
                hunks.push(lines[r].to_vec());
                Some(start..end)
            }
            None => Some(start..end),
        };
    }
    if let Some(r) = current {
        hunks.push(lines[r].to_vec());
    }
    hunks
}

/// The diff as the editor shows it in one list: only the hunks of [`diff_hunks`] (changed lines with
/// `context` unchanged lines around them), one after the other. Where a hunk ends and the next begins,
/// the line numbers jump; the page may draw a "⋯" there. Empty when nothing changed.
pub fn line_diff_context(old: &str, new: &str, context: usize) -> Vec<DiffLine> {
    diff_hunks(&line_diff(old, new), context)
        .into_iter()
        .flatten()
        .collect()
}

// ---------------------------------------------------------------------------------------------------
// Reading the text as lines
// ---------------------------------------------------------------------------------------------------

/// What one line is, as far as finding top-level entries goes.
#[derive(Clone, Debug, PartialEq, Eq)]
enum LineKind {
    /// Nothing but spaces and tabs.
    Blank,
    /// `# ...`; `margin` when the `#` is in column 0.
    Comment { margin: bool },
    /// Starts with a space or tab and has content: part of the entry above.
    Indented,
    /// `---` or `...` (document start or end), or a `%` directive.
    Marker,
    /// A top-level `key:`; the key when it is written plainly or quoted (`None` for `? key`, `&anchor
    /// key:` and the like), and the byte index just after its `:`.
    Entry {
        key: Option<String>,
        after_colon: usize,
    },
    /// Column 0 but no key: `- item`, a closing `}`, the rest of a flow value. Part of the entry above.
    Other,
}

/// One line of the text: its bytes (`range`, with the line ending) and its content (without).
#[derive(Clone, Debug)]
struct Line<'t> {
    range: Range<usize>,
    content: &'t str,
    kind: LineKind,
}

impl Line<'_> {
    /// The line ending (`"\n"`, `"\r\n"`, or `""` on a last line without one).
    fn ending<'t>(&self, text: &'t str) -> &'t str {
        &text[self.range.start + self.content.len()..self.range.end]
    }
}

/// The text cut into classified lines.
struct Doc<'t> {
    text: &'t str,
    /// Where the content starts: after a byte-order mark, if any.
    body_start: usize,
    lines: Vec<Line<'t>>,
    /// The line ending new lines get: the file's first one, `"\n"` for a file without any.
    eol: &'static str,
}

impl<'t> Doc<'t> {
    /// Cuts the text into lines and makes sure its top level is a block mapping.
    fn read(text: &'t str) -> Result<Doc<'t>, EditError> {
        let body_start = if text.starts_with('\u{feff}') {
            '\u{feff}'.len_utf8()
        } else {
            0
        };
        let mut lines = Vec::new();
        let mut at = body_start;
        for raw in text[body_start..].split_inclusive('\n') {
            let content = raw.strip_suffix('\n').unwrap_or(raw);
            let content = content.strip_suffix('\r').unwrap_or(content);
            lines.push(Line {
                range: at..at + raw.len(),
                content,
                kind: classify(content),
            });
            at += raw.len();
        }
        let eol = match text.find('\n') {
            Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
            _ => "\n",
        };
        let doc = Doc {
            text,
            body_start,
            lines,
            eol,
        };
        if let Some((k, line)) = doc.lines.iter().enumerate().find(|(_, l)| {
            !matches!(
                l.kind,
                LineKind::Blank | LineKind::Comment { .. } | LineKind::Marker
            )
        }) {
            if !matches!(line.kind, LineKind::Entry { .. }) {
                return Err(EditError::NotBlockMapping {
                    line: k + 1,
                    found: describe_start(line.content),
                });
            }
        }
        Ok(doc)
    }

    /// The lines (indices) of the top-level entry `key`, or `None` when the key is not there.
    fn find(&self, key: &str) -> Result<Option<Range<usize>>, EditError> {
        let starts: Vec<usize> = self
            .lines
            .iter()
            .enumerate()
            .filter(|(_, l)| matches!(&l.kind, LineKind::Entry { key: Some(k), .. } if k == key))
            .map(|(k, _)| k)
            .collect();
        let start = match starts.as_slice() {
            [] => return Ok(None),
            [one] => *one,
            _ => {
                return Err(EditError::DuplicateKey {
                    key: key.into(),
                    lines: starts.iter().map(|k| k + 1).collect(),
                })
            }
        };
        let mut end = self.lines[start + 1..]
            .iter()
            .position(|l| matches!(l.kind, LineKind::Entry { .. } | LineKind::Marker))
            .map_or(self.lines.len(), |p| start + 1 + p);
        while end > start + 1
            && matches!(
                self.lines[end - 1].kind,
                LineKind::Blank | LineKind::Comment { margin: true }
            )
        {
            end -= 1;
        }
        Ok(Some(start..end))
    }

    /// The text with the lines `lines` replaced by `replacement` (which ends with a line ending).
    /// When those lines end the file without a final newline, the replacement's final newline is left
    /// out too.
    fn splice(&self, lines: Range<usize>, replacement: &str) -> String {
        let from = self.lines[lines.start].range.start;
        let last = &self.lines[lines.end - 1];
        let to = last.range.end;
        let replacement = if last.ending(self.text).is_empty() {
            replacement.strip_suffix(self.eol).unwrap_or(replacement)
        } else {
            replacement
        };
        let mut out = String::with_capacity(self.text.len() + replacement.len());
        out.push_str(&self.text[..from]);
        out.push_str(replacement);
        out.push_str(&self.text[to..]);
        out
    }

    /// The text with `block` added as the last entry, after a blank line.
    fn append(&self, block: &str) -> String {
        let mut out = String::with_capacity(self.text.len() + block.len() + 4);
        out.push_str(self.text);
        if let Some(last) = self.lines.last() {
            if last.ending(self.text).is_empty() {
                out.push_str(self.eol);
            }
            if last.kind != LineKind::Blank {
                out.push_str(self.eol);
            }
        }
        out.push_str(block);
        out
    }

    /// The text with the content of some lines replaced (their line endings stay).
    fn with_lines(&self, changed: &HashMap<usize, String>) -> String {
        let mut out = String::with_capacity(self.text.len() + 64);
        out.push_str(&self.text[..self.body_start]);
        for (k, line) in self.lines.iter().enumerate() {
            match changed.get(&k) {
                Some(content) => {
                    out.push_str(content);
                    out.push_str(line.ending(self.text));
                }
                None => out.push_str(&self.text[line.range.clone()]),
            }
        }
        out
    }
}

fn classify(content: &str) -> LineKind {
    let trimmed = content.trim_start_matches([' ', '\t']);
    if trimmed.is_empty() {
        return LineKind::Blank;
    }
    if trimmed.starts_with('#') {
        return LineKind::Comment {
            margin: trimmed.len() == content.len(),
        };
    }
    if trimmed.len() != content.len() {
        return LineKind::Indented;
    }
    for marker in ["---", "..."] {
        if let Some(rest) = content.strip_prefix(marker) {
            if rest.is_empty() {
                return LineKind::Marker;
            }
            if rest.starts_with([' ', '\t']) {
                // `---` followed by a comment is a marker; `--- text` starts the document's content.
                let rest = rest.trim_start_matches([' ', '\t']);
                return if rest.is_empty() || rest.starts_with('#') {
                    LineKind::Marker
                } else {
                    LineKind::Other
                };
            }
        }
    }
    if content.starts_with('%') {
        return LineKind::Marker;
    }
    match entry_key(content) {
        Some((key, after_colon)) => LineKind::Entry { key, after_colon },
        None => LineKind::Other,
    }
}

/// `Some((key, index after the colon))` when the line (content at column 0) starts a mapping entry.
/// The key is `None` when it is not a plain or quoted scalar (`? complex`, `&anchor key`, `!!str key`).
fn entry_key(content: &str) -> Option<(Option<String>, usize)> {
    let first = content.chars().next()?;
    let followed_by_space = |at: usize| {
        content[at..]
            .chars()
            .next()
            .is_none_or(|c| c == ' ' || c == '\t')
    };
    match first {
        '"' | '\'' => quoted_key(content, first),
        '?' if followed_by_space(1) => Some((None, 1)),
        '-' | '?' | ':' if followed_by_space(1) => None,
        '[' | '{' | ']' | '}' | ',' | '#' | '|' | '>' | '%' | '@' | '`' => None,
        '&' | '!' | '*' => colon_of_plain_key(content).map(|(_, after)| (None, after)),
        _ => colon_of_plain_key(content).map(|(key, after)| (Some(key), after)),
    }
}

/// A plain key ends at the first `:` followed by a space, a tab or the end of the line (and not
/// inside a comment).
fn colon_of_plain_key(content: &str) -> Option<(String, usize)> {
    let bytes = content.as_bytes();
    for (i, c) in content.char_indices() {
        if c == '#' && i > 0 && matches!(bytes[i - 1], b' ' | b'\t') {
            return None;
        }
        if c == ':' && matches!(bytes.get(i + 1), None | Some(b' ' | b'\t')) {
            let key = content[..i].trim_end_matches([' ', '\t']);
            return (!key.is_empty()).then(|| (key.to_string(), i + 1));
        }
    }
    None
}

/// `"key":` or `'key':`. A double-quoted key with escapes is returned raw: it never equals one of the
/// simple keys this module edits (see the limits in the module docs).
fn quoted_key(content: &str, quote: char) -> Option<(Option<String>, usize)> {
    let end = closing_quote(content, 0, quote)?;
    let inner = &content[1..end - 1];
    let key = if quote == '\'' {
        inner.replace("''", "'")
    } else {
        inner.to_string()
    };
    let rest = &content[end..];
    let after_spaces = rest.trim_start_matches([' ', '\t']);
    let colon = end + (rest.len() - after_spaces.len());
    after_spaces.strip_prefix(':').and_then(|after| {
        after
            .chars()
            .next()
            .is_none_or(|c| c == ' ' || c == '\t')
            .then_some((Some(key), colon + 1))
    })
}

/// The index just after the quote that closes the quoted scalar starting at `start`, on this line.
fn closing_quote(content: &str, start: usize, quote: char) -> Option<usize> {
    let mut chars = content[start..].char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        if quote == '"' && c == '\\' {
            chars.next();
        } else if c == quote {
            if quote == '\'' && content[start + i + 1..].starts_with('\'') {
                chars.next();
            } else {
                return Some(start + i + 1);
            }
        }
    }
    None
}

/// The start of a line, for a message: `"{dir_backup_local: /x, ..."`.
fn describe_start(content: &str) -> String {
    let shown: String = content.trim().chars().take(30).collect();
    if shown.chars().count() < content.trim().chars().count() {
        format!("{shown:?}...")
    } else {
        format!("{shown:?}")
    }
}

/// The byte range of the single-line scalar value that follows a key's colon at `after_colon`, and
/// after which only spaces and a comment may come; `None` for anything else (a flow collection, a
/// block scalar, an anchor, alias or tag, a quoted value that goes on on the next line). An empty
/// range means no value (YAML's null).
pub(crate) fn scalar_value(content: &str, after_colon: usize) -> Option<Range<usize>> {
    let rest = &content[after_colon..];
    let start = after_colon + (rest.len() - rest.trim_start_matches([' ', '\t']).len());
    let end = match content[start..].chars().next() {
        None | Some('#') => start,
        Some(q @ ('"' | '\'')) => closing_quote(content, start, q)?,
        Some('{' | '[' | '|' | '>' | '&' | '*' | '!' | '%' | '@' | '`') => return None,
        Some(_) => {
            let bytes = content.as_bytes();
            let comment = (start..content.len())
                .find(|&i| bytes[i] == b'#' && matches!(bytes[i - 1], b' ' | b'\t'))
                .unwrap_or(content.len());
            start + content[start..comment].trim_end_matches([' ', '\t']).len()
        }
    };
    let after = &content[end..];
    let trimmed = after.trim_start_matches([' ', '\t']);
    let ok = trimmed.is_empty()
        || (trimmed.starts_with('#') && (end == start || trimmed.len() < after.len()));
    ok.then_some(start..end)
}

/// `content` with the value at `value` replaced by `new` (the spacing before it and a comment after
/// it stay).
pub(crate) fn with_value(
    content: &str,
    after_colon: usize,
    value: Range<usize>,
    new: &str,
) -> String {
    let spacing = if value.start > after_colon {
        &content[after_colon..value.start]
    } else {
        " "
    };
    let after = &content[value.end..];
    let gap = if after.is_empty() || after.starts_with([' ', '\t']) {
        ""
    } else {
        " "
    };
    format!("{}{spacing}{new}{gap}{after}", &content[..after_colon])
}

// ---------------------------------------------------------------------------------------------------
// Edits
// ---------------------------------------------------------------------------------------------------

/// `value` as a YAML double-quoted scalar: `"` and `\` escaped, and so are control characters and the
/// characters YAML 1.1 reads as line breaks, so the value is always one line and reads back exactly.
pub fn yaml_quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                out.push_str(&format!("\\u{:04X}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The `schedule:` entry for `cron` (quoted with [`yaml_quote`]) and `enabled`.
pub fn schedule_block(cron: &str, enabled: bool) -> String {
    format!(
        "schedule:\n  cron: {}\n  enabled: {enabled}\n",
        yaml_quote(cron)
    )
}

/// Replaces the top-level entry `key` with `block`, or appends `block` when there is no such key;
/// every other byte of the text stays as it was (see the module docs for what belongs to an entry).
///
/// `block` must be one top-level entry for `key`: it starts with `key:` at column 0 and is valid YAML
/// (a missing final newline is added; its line endings become the file's).
pub fn replace_block(text: &str, key: &str, block: &str) -> Result<String, EditError> {
    check_key(key)?;
    let bad = |reason: String| EditError::BadInput {
        key: key.into(),
        reason,
    };
    let first_line = block.lines().next().unwrap_or("");
    if !matches!(entry_key(first_line), Some((Some(k), _)) if k == key) {
        return Err(bad(format!(
            "the new text must start with `{key}:` at the left margin, but it starts with {}",
            describe_start(first_line)
        )));
    }
    let expected = match serde_yaml::from_str::<Value>(block) {
        Ok(Value::Mapping(map)) if map.len() == 1 => map.get(key).cloned().unwrap_or(Value::Null),
        Ok(_) => {
            return Err(bad(
                "the new text must hold exactly one top-level key".into()
            ))
        }
        Err(e) => return Err(bad(format!("the new text is not valid YAML: {e}"))),
    };

    let doc = Doc::read(text)?;
    let mut block = block.replace("\r\n", "\n");
    if !block.ends_with('\n') {
        block.push('\n');
    }
    if doc.eol == "\r\n" {
        block = block.replace('\n', "\r\n");
    }
    let new = match doc.find(key)? {
        Some(lines) => doc.splice(lines, &block),
        None => doc.append(&block),
    };
    verify(text, &new, key, |value| value == Some(&expected))?;
    Ok(new)
}

/// Sets `schedule:` to `cron` and `enabled`. When the entry is a plain block with one `cron:` and one
/// `enabled:` line, only their values change (comments on those lines stay); otherwise the whole entry
/// is replaced with [`schedule_block`], or appended when there is none.
///
/// The cron expression is not checked here: [`update`] does that, with the same message as everywhere.
pub fn set_schedule(text: &str, cron: &str, enabled: bool) -> Result<String, EditError> {
    let key = "schedule";
    let cron_value = Value::String(cron.into());
    let holds_new_values = |value: Option<&Value>| {
        value.and_then(|v| v.get("cron")) == Some(&cron_value)
            && value.and_then(|v| v.get("enabled")) == Some(&Value::Bool(enabled))
    };
    let doc = Doc::read(text)?;
    if let Some(lines) = doc.find(key)? {
        let fields = [("cron", yaml_quote(cron)), ("enabled", enabled.to_string())];
        if let Some(new) = edit_fields(&doc, lines, &fields) {
            if verify(text, &new, key, holds_new_values).is_ok() {
                return Ok(new);
            }
        }
    }
    replace_block(text, key, &schedule_block(cron, enabled))
}

/// Sets the top-level `key` to the text `value`, written as a quoted one-line scalar
/// (`email_sender: "me@example.com"`). When the key is on one line with a plain or quoted value, only
/// the value changes (a comment after it stays); otherwise the entry is replaced, or appended when the
/// key is not there.
pub fn set_top_level_scalar(text: &str, key: &str, value: &str) -> Result<String, EditError> {
    check_key(key)?;
    let quoted = yaml_quote(value);
    let wanted = Value::String(value.into());
    let doc = Doc::read(text)?;
    if let Some(lines) = doc.find(key)? {
        let first = &doc.lines[lines.start];
        let only_comments_after = doc.lines[lines.start + 1..lines.end]
            .iter()
            .all(|l| matches!(l.kind, LineKind::Blank | LineKind::Comment { .. }));
        if let (LineKind::Entry { after_colon, .. }, true) = (&first.kind, only_comments_after) {
            if let Some(range) = scalar_value(first.content, *after_colon) {
                let content = with_value(first.content, *after_colon, range, &quoted);
                let new = doc.with_lines(&HashMap::from([(lines.start, content)]));
                if verify(text, &new, key, |v| v == Some(&wanted)).is_ok() {
                    return Ok(new);
                }
            }
        }
    }
    replace_block(text, key, &format!("{key}: {quoted}\n"))
}

/// Changes the values of `fields` (name, new YAML text) in the block entry at `lines`, in place.
/// `None` unless the entry is `key:` (maybe with a comment) followed by `name: value` lines at one
/// indentation, each field exactly once with a one-line scalar value (other keys may be there too).
fn edit_fields(doc: &Doc<'_>, lines: Range<usize>, fields: &[(&str, String)]) -> Option<String> {
    let key_line = &doc.lines[lines.start];
    let LineKind::Entry { after_colon, .. } = key_line.kind else {
        return None;
    };
    if !scalar_value(key_line.content, after_colon)?.is_empty() {
        return None; // `schedule: ~` and the like: not a block
    }

    let mut indent = None;
    let mut found: HashMap<usize, String> = HashMap::new();
    let mut seen = vec![false; fields.len()];
    for k in lines.start + 1..lines.end {
        let line = &doc.lines[k];
        match line.kind {
            LineKind::Blank | LineKind::Comment { .. } => continue,
            LineKind::Indented => {}
            _ => return None,
        }
        let spaces = line.content.len() - line.content.trim_start_matches(' ').len();
        if line.content[spaces..].starts_with('\t') || *indent.get_or_insert(spaces) != spaces {
            return None;
        }
        let child = &line.content[spaces..];
        let (Some(name), after) = entry_key(child)? else {
            return None;
        };
        if let Some(f) = fields.iter().position(|(n, _)| *n == name) {
            if seen[f] {
                return None;
            }
            seen[f] = true;
            let range = scalar_value(child, after)?;
            let content = format!(
                "{}{}",
                &line.content[..spaces],
                with_value(child, after, range, &fields[f].1)
            );
            found.insert(k, content);
        }
    }
    seen.iter().all(|s| *s).then(|| doc.with_lines(&found))
}

/// Keys this module edits are plain words: letters, digits, `_`, `-`, `.`.
fn check_key(key: &str) -> Result<(), EditError> {
    let ok = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(EditError::BadInput {
            key: key.into(),
            reason: "a top-level key is a word of letters, digits, '_', '-' and '.'".into(),
        })
    }
}

/// Checks an edit (see "Trust, but verify" in the module docs): apart from `key`, the new text holds
/// the same YAML values as the old one, and `key` holds what `holds_new_value` expects. Without a
/// readable old text there is nothing to compare, and the check passes.
fn verify(
    old: &str,
    new: &str,
    key: &str,
    holds_new_value: impl Fn(Option<&Value>) -> bool,
) -> Result<(), EditError> {
    let Some(mut before) = top_level(old) else {
        return Ok(());
    };
    let ok = match top_level(new) {
        Some(mut after) => {
            let value = after.shift_remove(key);
            before.shift_remove(key);
            holds_new_value(value.as_ref()) && before == after
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(EditError::Unverified { key: key.into() })
    }
}

/// The top-level mapping of a YAML text (an empty text is an empty mapping).
pub(crate) fn top_level(text: &str) -> Option<Mapping> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match serde_yaml::from_str::<Value>(text) {
        Ok(Value::Mapping(map)) => Some(map),
        Ok(Value::Null) => Some(Mapping::new()),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------------
// Saving
// ---------------------------------------------------------------------------------------------------

/// The one way the web app changes the configuration: when the file is still at `read` (the version
/// the page was shown), applies `edit` to its text, checks the result with [`check_str`] and, when it
/// has no errors, writes it atomically, keeping the version it replaces as `<name>.prev` (see
/// "Saving" in the module docs). A file changed since the page read it is
/// [`SaveError::ChangedOnDisk`]: a hand edit made while the page was open is never overwritten.
pub fn update(path: &Path, read: &Version, edit: &dyn Edit) -> Result<Saved, SaveError> {
    let target = resolve(path)?;
    let current = read_current(&target)?;
    if Version::of(current.as_deref().unwrap_or(&[])) != *read {
        return Err(SaveError::ChangedOnDisk { path: target });
    }
    let current = match current {
        Some(bytes) => Some(String::from_utf8(bytes).map_err(|e| SaveError::Io {
            path: target.clone(),
            action: "read the file as text",
            source: io::Error::new(ErrorKind::InvalidData, e),
            hint: "the file is not UTF-8 text; fix it in the configuration editor or by hand",
        })?),
        None => None,
    };
    let text = edit.apply(current.as_deref())?;
    // The bytes are compared once more just before writing: the edit took a moment.
    save_checked(&target, &text, current.as_deref().unwrap_or(""))
}

/// The bytes of the file at `target` (already resolved), `None` when there is none.
fn read_current(target: &Path) -> Result<Option<Vec<u8>>, SaveError> {
    match fs::read(target) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(SaveError::Io {
            path: target.to_path_buf(),
            action: "read the current file",
            hint: hint(&e),
            source: e,
        }),
    }
}

/// Writes `text` when the file still holds `opened` (empty also matches no file).
fn save_checked(path: &Path, text: &str, opened: &str) -> Result<Saved, SaveError> {
    let checked = check_str(text);
    if !checked.is_ok() {
        return Err(SaveError::Invalid(checked));
    }
    let warnings: Vec<Problem> = checked.warnings().cloned().collect();

    let target = resolve(path)?;
    let io = |action: &'static str| {
        let target = target.clone();
        move |source: io::Error| SaveError::Io {
            hint: hint(&source),
            path: target,
            action,
            source,
        }
    };
    let current = match fs::read(&target) {
        Ok(bytes) => {
            let meta = fs::metadata(&target).map_err(io("read the file's permissions"))?;
            Some((bytes, meta))
        }
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        Err(e) => return Err(io("read the current file (to keep it as .prev)")(e)),
    };
    let now: &[u8] = current.as_ref().map_or(&[], |(bytes, _)| bytes);
    if now != opened.as_bytes() {
        return Err(SaveError::ChangedOnDisk { path: target });
    }
    if let Some((bytes, meta)) = &current {
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o222 == 0 {
            return Err(SaveError::ReadOnly { path: target, mode });
        }
        if bytes == text.as_bytes() {
            return Ok(Saved {
                path: target,
                previous: None,
                changed: false,
                warnings,
                version: Version::of(text.as_bytes()),
            });
        }
    }

    let dir = folder_of(&target);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "backup_config.yml".into());
    let (mode, owner) = match &current {
        Some((_, meta)) => (
            meta.permissions().mode() & 0o7777,
            Some((meta.uid(), meta.gid())),
        ),
        None => (NEW_FILE_MODE, None),
    };

    let new = Staged::write(&dir, &name, text.as_bytes(), mode, owner)
        .map_err(io("write the new version to a temporary file"))?;
    let previous = match &current {
        Some((bytes, _)) => {
            let prev = dir.join(format!("{name}.prev"));
            let tmp = Staged::write(&dir, &format!("{name}.prev"), bytes, mode, owner)
                .map_err(io("keep the current version as .prev"))?;
            tmp.rename_to(&prev)
                .map_err(io("keep the current version as .prev"))?;
            Some(prev)
        }
        None => None,
    };
    new.rename_to(&target)
        .map_err(io("replace the file with the new version"))?;
    // The file is replaced; only its durability across a power cut is in doubt if this fails.
    sync_dir(&dir);
    Ok(Saved {
        path: target,
        previous,
        changed: true,
        warnings,
        version: Version::of(text.as_bytes()),
    })
}

/// The file to replace: `path`, or the file its symbolic link points to.
fn resolve(path: &Path) -> Result<PathBuf, SaveError> {
    let io = |action: &'static str, hint: &'static str| {
        move |source: io::Error| SaveError::Io {
            path: path.to_path_buf(),
            action,
            source,
            hint,
        }
    };
    let target = match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => fs::canonicalize(path).map_err(io(
            "follow the symbolic link",
            "the link points to a file that is not there; fix the link, or replace it with the file",
        ))?,
        Ok(_) => path.to_path_buf(),
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(path.to_path_buf()),
        Err(e) => {
            let hint = hint(&e);
            return Err(io("look at the file", hint)(e));
        }
    };
    match fs::metadata(&target) {
        Ok(meta) if meta.is_file() => Ok(target),
        Ok(meta) => Err(SaveError::NotAFile {
            path: target,
            what: if meta.is_dir() {
                "a folder"
            } else {
                "a device, pipe or socket"
            },
        }),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(target),
        Err(e) => {
            let hint = hint(&e);
            Err(io("look at the file", hint)(e))
        }
    }
}

/// What to do about an I/O error while saving.
fn hint(e: &io::Error) -> &'static str {
    match e.kind() {
        ErrorKind::PermissionDenied => {
            "the user running Mnemosynce needs write permission on the file's folder (the file is replaced \
             by renaming a new file over it)"
        }
        ErrorKind::StorageFull => "the disk is full; free some space and save again",
        ErrorKind::ReadOnlyFilesystem => {
            "the folder is on a read-only filesystem; mount it writable (in Docker: the data volume \
             without :ro)"
        }
        ErrorKind::ResourceBusy | ErrorKind::CrossesDevices => {
            "the file is a mount point of its own (a single file bind-mounted into a container?); mount \
             the folder that holds it instead, so the file can be replaced safely"
        }
        ErrorKind::NotFound => "the folder is not there; create it, or check the --config path",
        _ => "check the folder and the disk, then save again",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The configuration editor's save of `text` over the file as it is now.
    fn save(path: &Path, text: &str) -> Result<Saved, SaveError> {
        update(path, &version(path)?, &WholeText(text))
    }
    use std::time::{Duration, SystemTime};

    /// A valid configuration (paths that exist everywhere), with comments around and inside the
    /// `schedule:` block.
    const BASE: &str = "\
# My backups
dir_backup_local: /var   # the store
email:
  enabled: false

# When to run
schedule:
  # nightly, after the NAS wakes up
  cron: \"0 3 * * *\"   # 03:00

  enabled: true
  # end of schedule

# Keep a week
retention:
  daily: 7
tasks:
- name: Root
  dir_source: /srv
";

    fn fixture(name: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/original-configs")
            .join(name);
        fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read the fixture {} ({e})", path.display()))
    }

    /// `text` split as (before, the lines `lines`, after) by line numbers (0-based, end exclusive).
    fn cut(text: &str, lines: Range<usize>) -> (String, String) {
        let all: Vec<&str> = text.split_inclusive('\n').collect();
        (all[..lines.start].concat(), all[lines.end..].concat())
    }

    fn assert_valid(text: &str) -> crate::model::config::Config {
        let c = check_str(text);
        assert!(c.is_ok(), "{text}\n{:#?}", c.problems);
        c.config.expect("a config")
    }

    // --- replace_block -----------------------------------------------------------------------------

    #[test]
    fn replace_block_keeps_comments_before_and_after_and_replaces_inside() {
        let block = "schedule:\n  cron: \"0 4 * * *\"\n  enabled: false\n";
        let new = replace_block(BASE, "schedule", block).unwrap();
        // Lines 6..12 (0-based) are the block: key line to the indented comment at its end.
        let (before, after) = cut(BASE, 6..12);
        assert!(before.ends_with("# When to run\n"), "{before}");
        assert!(after.starts_with("\n# Keep a week\nretention:"), "{after}");
        assert_eq!(new, format!("{before}{block}{after}"));
        let cfg = assert_valid(&new);
        assert_eq!(
            (cfg.schedule.cron.as_str(), cfg.schedule.enabled),
            ("0 4 * * *", false)
        );
    }

    #[test]
    fn replace_block_handles_inline_values() {
        let block = "schedule:\n  cron: \"5 1 * * *\"\n";
        for inline in [
            "{cron: \"0 2 * * *\", enabled: true}",
            "~",
            "",
            "null   # none yet",
        ] {
            let text =
                format!("dir_backup_local: /var\nschedule: {inline}\nretention: {{daily: 3}}\n");
            let new = replace_block(&text, "schedule", block).unwrap();
            assert_eq!(
                new,
                format!("dir_backup_local: /var\n{block}retention: {{daily: 3}}\n"),
                "{inline}"
            );
        }
        // A flow value over several lines, its `}` at column 0.
        let text = "a: 1\nschedule: {cron: \"0 2 * * *\",\n  enabled: true\n}\nb: 2\n";
        assert_eq!(
            replace_block(text, "schedule", block).unwrap(),
            format!("a: 1\n{block}b: 2\n")
        );
    }

    #[test]
    fn replace_block_appends_an_absent_key() {
        let block = "schedule:\n  cron: \"0 2 * * *\"\n";
        let cases = [
            ("a: 1\n", "a: 1\n\n"),
            ("a: 1", "a: 1\n\n"),
            ("a: 1\n\n", "a: 1\n\n"),
            ("a: 1\n# the end\n", "a: 1\n# the end\n\n"),
            ("", ""),
            ("# only a comment", "# only a comment\n\n"),
        ];
        for (text, head) in cases {
            assert_eq!(
                replace_block(text, "schedule", block).unwrap(),
                format!("{head}{block}"),
                "{text:?}"
            );
        }
        let crlf = replace_block("a: 1\r\n", "schedule", block).unwrap();
        assert_eq!(crlf, "a: 1\r\n\r\nschedule:\r\n  cron: \"0 2 * * *\"\r\n");
    }

    #[test]
    fn replace_block_keeps_crlf_a_missing_final_newline_and_a_bom() {
        let crlf = BASE.replace('\n', "\r\n");
        let new = replace_block(&crlf, "schedule", "schedule:\n  cron: \"1 1 * * *\"\n").unwrap();
        assert_eq!(
            new,
            BASE.replace(
                &BASE[BASE.find("schedule:").unwrap()..BASE.find("\n# Keep").unwrap()],
                "schedule:\n  cron: \"1 1 * * *\"\n"
            )
            .replace('\n', "\r\n")
        );
        assert!(
            !new.replace("\r\n", "").contains('\n'),
            "a bare \\n slipped in"
        );

        // The block is the last thing in a file without a final newline: still none after the edit.
        let text = "a: 1\nschedule:\n  cron: \"0 2 * * *\"";
        assert_eq!(
            replace_block(text, "schedule", "schedule:\n  cron: \"9 9 * * *\"\n").unwrap(),
            "a: 1\nschedule:\n  cron: \"9 9 * * *\""
        );
        let text = "\u{feff}schedule: ~\nb: 2\n";
        assert_eq!(
            replace_block(text, "schedule", "schedule:\n  enabled: false\n").unwrap(),
            "\u{feff}schedule:\n  enabled: false\nb: 2\n"
        );
    }

    #[test]
    fn the_next_keys_leading_comments_stay_with_it() {
        let text = "\
schedule:
  cron: \"0 2 * * *\"
# Column-0 comments right before the next key
# belong to that key.

# Even after a blank line.
tasks:
- name: A
  dir_source: /srv
# trailing comment of the file
";
        let new = replace_block(text, "schedule", "schedule:\n  enabled: true\n").unwrap();
        assert_eq!(
            new,
            text.replace("  cron: \"0 2 * * *\"\n", "  enabled: true\n")
        );

        // `tasks:` with unindented list items: the items are part of it, the comment after them is not.
        let new =
            replace_block(text, "tasks", "tasks:\n  - name: B\n    dir_source: /srv\n").unwrap();
        assert!(
            new.ends_with(
                "tasks:\n  - name: B\n    dir_source: /srv\n# trailing comment of the file\n"
            ),
            "{new}"
        );
        // A column-0 comment between indented lines of the block is inside it.
        let text = "schedule:\n# inside\n  cron: \"0 2 * * *\"\nb: 1\n";
        assert_eq!(
            replace_block(text, "schedule", "schedule: ~\n").unwrap(),
            "schedule: ~\nb: 1\n"
        );
    }

    #[test]
    fn keys_are_matched_exactly_and_quoted_keys_are_found() {
        let text = "schedule_old: 1\n\"schedule\": {cron: x}\nxschedule: 2\n";
        assert_eq!(
            replace_block(text, "schedule", "schedule: ~\n").unwrap(),
            "schedule_old: 1\nschedule: ~\nxschedule: 2\n"
        );
        let text = "'schedule' : ~\n";
        assert_eq!(
            replace_block(text, "schedule", "schedule: {}\n").unwrap(),
            "schedule: {}\n"
        );
        // A `schedule:` inside another entry is not the top-level one.
        let text = "tasks:\n  schedule: 1\n";
        assert_eq!(
            replace_block(text, "schedule", "schedule: ~\n").unwrap(),
            "tasks:\n  schedule: 1\n\nschedule: ~\n"
        );
    }

    #[test]
    fn documents_this_page_cannot_edit_are_refused() {
        for (text, line) in [
            ("{dir_backup_local: /var, tasks: []}\n", 1),
            ("# a comment\n---\n  dir_backup_local: /var\n", 3),
            ("- a\n- b\n", 1),
            ("--- {a: 1}\n", 1),
            ("just text\n", 1),
        ] {
            match replace_block(text, "schedule", "schedule: ~\n") {
                Err(EditError::NotBlockMapping { line: l, .. }) => assert_eq!(l, line, "{text:?}"),
                other => panic!("{text:?}: {other:?}"),
            }
        }
        let e = set_schedule("{a: 1}", "0 2 * * *", true).unwrap_err();
        assert!(e.to_string().contains("configuration editor"), "{e}");
        // `---` and a directive before the mapping are fine.
        assert!(replace_block("%YAML 1.2\n---\na: 1\n", "b", "b: 2\n").is_ok());

        let e = replace_block(
            "schedule: ~\na: 1\nschedule: {}\n",
            "schedule",
            "schedule: ~\n",
        )
        .unwrap_err();
        assert_eq!(
            e,
            EditError::DuplicateKey {
                key: "schedule".into(),
                lines: vec![1, 3]
            }
        );
        assert!(e.to_string().contains("lines 1, 3"), "{e}");
    }

    #[test]
    fn a_bad_block_is_refused() {
        for (key, block) in [
            ("schedule", "retention: {}\n"),
            ("schedule", "# comment\nschedule: ~\n"),
            ("schedule", "schedule: [\n"),
            ("schedule", "schedule: ~\nother: 1\n"),
            ("bad key", "bad key: 1\n"),
            ("", ": 1\n"),
        ] {
            assert!(
                matches!(
                    replace_block("a: 1\n", key, block),
                    Err(EditError::BadInput { .. })
                ),
                "{block:?}"
            );
        }
        // A block without a final newline gets one.
        assert_eq!(replace_block("a: 1\n", "a", "a: 2").unwrap(), "a: 2\n");
    }

    #[test]
    fn an_edit_that_would_change_other_keys_is_refused() {
        // `port: 25}` at column 0 looks like a key of its own, so the text edit would cut the flow
        // mapping in two; the check sees it and nothing changes.
        let text = "smtp: {host: a,\nport: 25}\nb: 1\n";
        assert_eq!(
            replace_block(text, "smtp", "smtp: ~\n"),
            Err(EditError::Unverified { key: "smtp".into() })
        );
    }

    // --- set_schedule and set_top_level_scalar -------------------------------------------------------

    #[test]
    fn set_schedule_changes_only_the_values_and_keeps_their_comments() {
        let new = set_schedule(BASE, "30 1 * * 0", false).unwrap();
        assert_eq!(
            new,
            BASE.replace(
                "cron: \"0 3 * * *\"   # 03:00",
                "cron: \"30 1 * * 0\"   # 03:00"
            )
            .replace("  enabled: true", "  enabled: false")
        );
        let cfg = assert_valid(&new);
        assert_eq!(
            (cfg.schedule.cron.as_str(), cfg.schedule.enabled),
            ("30 1 * * 0", false)
        );

        // Unquoted and single-quoted values, other spacing, a value-less `enabled:`.
        let text =
            "dir_backup_local: /var\nschedule:   # when\n    enabled:\n    cron:     '0 2 * * *'\n";
        assert_eq!(
            set_schedule(text, "0 5 * * *", true).unwrap(),
            "dir_backup_local: /var\nschedule:   # when\n    enabled: true\n    cron:     \"0 5 * * *\"\n"
        );
    }

    #[test]
    fn set_schedule_replaces_or_adds_the_block_when_it_is_not_simple() {
        let block = schedule_block("0 4 * * *", true);
        for (text, expected) in [
            (
                "a: 1\nschedule: {cron: \"0 2 * * *\"}\nb: 2\n".to_string(),
                format!("a: 1\n{block}b: 2\n"),
            ),
            (
                "a: 1\nschedule:\n  cron: \"0 2 * * *\"\nb: 2\n".to_string(),
                format!("a: 1\n{block}b: 2\n"),
            ),
            ("a: 1\n".to_string(), format!("a: 1\n\n{block}")),
        ] {
            assert_eq!(
                set_schedule(&text, "0 4 * * *", true).unwrap(),
                expected,
                "{text}"
            );
        }
    }

    #[test]
    fn set_schedule_result_checks_and_the_rest_is_byte_identical() {
        let text = BASE.replace(
            "# When to run\nschedule:\n  # nightly, after the NAS wakes up\n  cron: \"0 3 * * *\"   # 03:00\n\n  enabled: true\n  # end of schedule\n",
            "# When to run\nschedule: {cron: \"0 3 * * *\"}\n",
        );
        let new = set_schedule(&text, "15 23 * * 1-5", false).unwrap();
        let (before, after) = cut(&text, 6..7);
        assert_eq!(
            new,
            format!("{before}{}{after}", schedule_block("15 23 * * 1-5", false))
        );
        let cfg = assert_valid(&new);
        assert_eq!(cfg.schedule.cron, "15 23 * * 1-5");
        assert!(!cfg.schedule.enabled);
    }

    #[test]
    fn the_original_configs_survive_set_schedule() {
        for name in ["minimal.yml", "full.yml"] {
            let text = fixture(name);
            let new = set_schedule(&text, "45 5 * * 6", false).unwrap();
            let checked = check_str(&new);
            assert!(checked.is_ok(), "{name}: {:#?}", checked.problems);
            let cfg = checked.config.unwrap();
            assert_eq!(
                (cfg.schedule.cron.as_str(), cfg.schedule.enabled),
                ("45 5 * * 6", false)
            );
            // Every changed line is in the schedule block (the old one, or the new one with the blank
            // line that separates an appended block).
            let block_of = |text: &str| -> Option<Range<u32>> {
                let start = text.lines().position(|l| l == "schedule:")?;
                Some(number(start + 1)..number(start + 4))
            };
            let new_block = block_of(&new).unwrap();
            let new_block = match block_of(&text) {
                Some(_) => new_block,
                None => new_block.start - 1..new_block.end,
            };
            let diff = line_diff(&text, &new);
            for d in diff.iter().filter(|d| d.is_change()) {
                if let Some(n) = d.new_line {
                    assert!(new_block.contains(&n), "{name}: {d:?}");
                }
                if let Some(n) = d.old_line {
                    assert!(
                        block_of(&text).is_some_and(|b| b.contains(&n)),
                        "{name}: {d:?}"
                    );
                }
            }
            let changes = diff.iter().filter(|d| d.is_change()).count();
            assert_eq!(
                changes, 4,
                "{name}: 2 lines changed in place, or 3 appended after a blank line"
            );
            // And the text around the block is byte-identical.
            let before = &new[..new.find("schedule:").unwrap()];
            assert!(text.starts_with(before.trim_end_matches('\n')), "{name}");
        }
    }

    #[test]
    fn set_top_level_scalar_edits_in_place_or_appends() {
        let text = "email_sender: old@example.com   # Gmail\nemail_report: 'r@example.com'\n";
        assert_eq!(
            set_top_level_scalar(text, "email_sender", "new@example.com").unwrap(),
            "email_sender: \"new@example.com\"   # Gmail\nemail_report: 'r@example.com'\n"
        );
        assert_eq!(
            set_top_level_scalar(text, "email_report", "x@y.z").unwrap(),
            "email_sender: old@example.com   # Gmail\nemail_report: \"x@y.z\"\n"
        );
        assert_eq!(
            set_top_level_scalar("email_admin: # odd\n", "email_admin", "").unwrap(),
            "email_admin: \"\" # odd\n"
        );
        assert_eq!(
            set_top_level_scalar(text, "email_admin", "a@b.c").unwrap(),
            format!("{text}\nemail_admin: \"a@b.c\"\n")
        );
        // A value over two lines: the entry is replaced.
        assert_eq!(
            set_top_level_scalar("a: one\n  two\nb: 1\n", "a", "x").unwrap(),
            "a: \"x\"\nb: 1\n"
        );
        // The template has the addresses commented out: they are added at the end, and check.
        let mut t = set_top_level_scalar(TEMPLATE, "email_sender", "me@gmail.com").unwrap();
        t = set_top_level_scalar(&t, "email_report", "me@example.com").unwrap();
        t = replace_block(&t, "email", "email:\n  enabled: true\n").unwrap();
        let cfg = assert_valid(&t);
        assert!(cfg.email.enabled);
        assert_eq!(cfg.email_sender.as_deref(), Some("me@gmail.com"));
    }

    #[test]
    fn quoting_reads_back_exactly() {
        for value in [
            "plain",
            "with \"quotes\" and \\",
            "tab\tnew\nline",
            "\u{1}\u{7f}\u{85}\u{2028}\u{feff}é",
            "# not a comment",
            "",
        ] {
            let text = set_top_level_scalar("a: 1\n", "k", value).unwrap();
            assert_eq!(text.lines().count(), 3, "{text:?}");
            let map = top_level(&text).unwrap();
            assert_eq!(map.get("k"), Some(&Value::String(value.into())), "{text:?}");
        }
        assert_eq!(
            schedule_block("0 2 * * *", true),
            "schedule:\n  cron: \"0 2 * * *\"\n  enabled: true\n"
        );
    }

    // --- the diff ----------------------------------------------------------------------------------

    fn kinds(diff: &[DiffLine]) -> String {
        diff.iter()
            .map(|d| match d.kind {
                DiffKind::Same => format!("={}", d.text),
                DiffKind::Added => format!("+{}", d.text),
                DiffKind::Removed => format!("-{}", d.text),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn line_diff_small_examples() {
        assert_eq!(kinds(&line_diff("a\nb\nc\n", "a\nb\nc\n")), "=a =b =c");
        assert_eq!(kinds(&line_diff("a\nc\n", "a\nb\nc\n")), "=a +b =c");
        assert_eq!(kinds(&line_diff("a\nb\nc\n", "a\nc\n")), "=a -b =c");
        assert_eq!(kinds(&line_diff("a\nb\nc\n", "a\nB\nc\n")), "=a -b +B =c");
        assert_eq!(kinds(&line_diff("", "x\n")), "+x");
        assert_eq!(kinds(&line_diff("x", "")), "-x");
        assert_eq!(kinds(&line_diff("a\r\nb", "a\nb\n")), "=a =b");
        assert_eq!(
            kinds(&line_diff("a\nb\nc\nd\ne\n", "b\nc\nX\ne\nf\n")),
            "-a =b =c -d +X =e +f"
        );
        let d = line_diff("a\nb\nc\n", "a\nB\nc\nd\n");
        let numbers: Vec<_> = d.iter().map(|l| (l.old_line, l.new_line)).collect();
        assert_eq!(
            numbers,
            [
                (Some(1), Some(1)),
                (Some(2), None),
                (None, Some(2)),
                (Some(3), Some(3)),
                (None, Some(4))
            ]
        );
    }

    #[test]
    fn line_diff_is_minimal_on_repeated_lines() {
        let old = "x\na\nx\nb\nx\n";
        let new = "a\nx\nb\nx\nc\n";
        let changes = line_diff(old, new).iter().filter(|d| d.is_change()).count();
        assert_eq!(changes, 2, "{}", kinds(&line_diff(old, new)));
    }

    #[test]
    fn line_diff_of_a_big_file_with_one_change() {
        let old: String = (0..5_000).map(|i| format!("line {i}\n")).collect();
        let new = old.replace("line 2500\n", "line 2500 changed\n");
        let started = std::time::Instant::now();
        let diff = line_diff(&old, &new);
        let changes: Vec<&DiffLine> = diff.iter().filter(|d| d.is_change()).collect();
        assert_eq!(changes.len(), 2);
        assert_eq!(
            (
                changes[0].kind,
                changes[0].old_line,
                changes[0].text.as_str()
            ),
            (DiffKind::Removed, Some(2501), "line 2500")
        );
        assert_eq!(
            (
                changes[1].kind,
                changes[1].new_line,
                changes[1].text.as_str()
            ),
            (DiffKind::Added, Some(2501), "line 2500 changed")
        );
        assert_eq!(diff.len(), 5_001);
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn line_diff_falls_back_beyond_the_limit() {
        // 4 001 × 4 001 different lines in the middle: shown as all removed, then all added.
        let old: String = (0..4_001).map(|i| format!("o{i}\n")).collect();
        let new: String = (0..4_001).map(|i| format!("n{i}\n")).collect();
        let diff = line_diff(&format!("top\n{old}end\n"), &format!("top\n{new}end\n"));
        assert_eq!(diff.len(), 2 + 2 * 4_001);
        assert!(diff[1..4_002].iter().all(|d| d.kind == DiffKind::Removed));
        assert!(diff[4_002..8_003].iter().all(|d| d.kind == DiffKind::Added));
        assert_eq!(
            (diff[8_003].old_line, diff[8_003].new_line),
            (Some(4_003), Some(4_003))
        );
    }

    #[test]
    fn hunks_show_changes_with_context() {
        let old: String = (1..=20).map(|i| format!("{i}\n")).collect();
        let new: String = (1..=20)
            .filter(|i| *i != 18)
            .map(|i| match i {
                5 => "five\n".to_string(),
                8 => "eight\n".to_string(),
                i => format!("{i}\n"),
            })
            .collect();
        let hunks = diff_hunks(&line_diff(&old, &new), DIFF_CONTEXT);
        assert_eq!(hunks.len(), 2);
        // 5 and 8 are close: one hunk from 2 to 11.
        assert_eq!(hunks[0].first().unwrap().old_line, Some(2));
        assert_eq!(hunks[0].last().unwrap().old_line, Some(11));
        assert_eq!(kinds(&hunks[1]), "=15 =16 =17 -18 =19 =20");
        assert!(diff_hunks(&line_diff("a\n", "a\n"), 3).is_empty());
        assert!(line_diff_context("a\n", "a\n", 3).is_empty());
        let flat = line_diff_context(&old, &new, DIFF_CONTEXT);
        assert_eq!(flat, hunks.concat());
        assert_eq!(diff_hunks(&line_diff("a\nb\n", "a\nc\n"), 0).len(), 1);
    }

    // --- the template --------------------------------------------------------------------------------

    #[test]
    fn the_template_has_no_errors() {
        let c = check_str(TEMPLATE);
        assert!(c.is_ok(), "{:#?}", c.problems);
        for w in c.warnings() {
            assert!(
                w.message.contains("does not exist"),
                "unexpected warning {w}"
            );
        }
        let cfg = c.config.unwrap();
        assert_eq!(cfg.tasks.len(), 1);
        assert_eq!(cfg.tasks[0].name, "Documents");
        assert_eq!(cfg.tasks[0].excludes, ["*.tmp", ".cache/"]);
        assert!(!cfg.email.enabled);
        assert_eq!(cfg.schedule, crate::model::config::Schedule::default());
        assert_eq!(
            cfg.retention,
            crate::model::config::RetentionPolicy::default()
        );
        // The schedule page edits it in place.
        let new = set_schedule(TEMPLATE, "0 3 * * *", true).unwrap();
        assert_eq!(
            new,
            TEMPLATE.replace("cron: \"0 2 * * *\"", "cron: \"0 3 * * *\"")
        );
    }

    // --- save ----------------------------------------------------------------------------------------

    const VALID: &str =
        "dir_backup_local: /var\nemail: {enabled: false}\ntasks: [{name: A, dir_source: /srv}]\n";

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn an_invalid_text_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("backup_config.yml");
        fs::write(&path, VALID).unwrap();
        let old_time = SystemTime::now() - Duration::from_secs(3600);
        fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(old_time)
            .unwrap();
        let mtime = fs::metadata(&path).unwrap().modified().unwrap();

        let bad = VALID.replace("dir_source: /srv", "dir_source: relative");
        let Err(SaveError::Invalid(checked)) = save(&path, &bad) else {
            panic!("an invalid text was saved")
        };
        assert_eq!(checked.errors().count(), 1);
        let e = SaveError::Invalid(checked).to_string();
        assert!(e.contains("1 error(s)") && e.contains("line 3"), "{e}");

        assert_eq!(fs::read_to_string(&path).unwrap(), VALID);
        assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), mtime);
        assert_eq!(names(dir.path()), ["backup_config.yml"]);
    }

    #[test]
    fn a_valid_text_replaces_the_file_and_keeps_the_old_one_as_prev() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("backup_config.yml");
        fs::write(&path, VALID).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();

        let new = set_schedule(VALID, "0 4 * * *", true).unwrap();
        let saved = save(&path, &new).unwrap();
        assert!(saved.changed);
        assert_eq!(saved.path, path);
        let prev = dir.path().join("backup_config.yml.prev");
        assert_eq!(saved.previous.as_deref(), Some(prev.as_path()));
        assert_eq!(fs::read_to_string(&path).unwrap(), new);
        assert_eq!(fs::read_to_string(&prev).unwrap(), VALID);
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            fs::metadata(&prev).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            names(dir.path()),
            ["backup_config.yml", "backup_config.yml.prev"]
        );

        // Saving the same text again changes nothing, and .prev still holds the version before.
        let again = save(&path, &new).unwrap();
        assert!(!again.changed && again.previous.is_none());
        assert_eq!(fs::read_to_string(&prev).unwrap(), VALID);

        // A third version: .prev is replaced by the second.
        let third = set_schedule(&new, "0 5 * * *", false).unwrap();
        save(&path, &third).unwrap();
        assert_eq!(fs::read_to_string(&prev).unwrap(), new);
        assert_eq!(fs::read_to_string(&path).unwrap(), third);
        assert_eq!(
            names(dir.path()),
            ["backup_config.yml", "backup_config.yml.prev"]
        );
    }

    #[test]
    fn save_reports_warnings_and_creates_a_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("backup_config.yml");
        let text = VALID.replace("tasks:", "frobnicate: 1\ntasks:");
        let saved = save(&path, &text).unwrap();
        assert!(saved.changed && saved.previous.is_none());
        assert_eq!(saved.warnings.len(), 1, "{:?}", saved.warnings);
        assert_eq!(fs::read_to_string(&path).unwrap(), text);
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            NEW_FILE_MODE
        );
        assert_eq!(names(dir.path()), ["backup_config.yml"]);
    }

    #[test]
    fn update_refuses_a_file_changed_since_the_page_read_it_and_leaves_it_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("backup_config.yml");
        fs::write(&path, VALID).unwrap();
        let read = version(&path).unwrap();
        assert_eq!(read, Version::of(VALID.as_bytes()));
        let by_hand = format!("# edited by hand\n{VALID}");
        fs::write(&path, &by_hand).unwrap();

        // Every kind of page edit is refused the same way, and nothing is written.
        let schedule = ScheduleEdit {
            cron: "0 4 * * *",
            enabled: true,
        };
        for edit in [&schedule as &dyn Edit, &WholeText(VALID)] {
            let e = update(&path, &read, edit).unwrap_err();
            assert!(matches!(e, SaveError::ChangedOnDisk { .. }), "{e}");
            assert!(e.to_string().contains("reload the page"), "{e}");
            assert!(e.to_string().contains("not saved"), "{e}");
            assert_eq!(fs::read_to_string(&path).unwrap(), by_hand);
            assert!(!dir.path().join("backup_config.yml.prev").exists());
        }

        // With the version of the hand-edited file, the edit is made on top of the hand edit.
        let saved = update(&path, &version(&path).unwrap(), &schedule).unwrap();
        assert!(saved.changed);
        let now = fs::read_to_string(&path).unwrap();
        assert!(now.starts_with("# edited by hand\n"), "{now}");
        assert!(now.contains("\"0 4 * * *\""), "{now}");
        assert_eq!(saved.version, Version::of(now.as_bytes()));
        assert_eq!(
            fs::read_to_string(dir.path().join("backup_config.yml.prev")).unwrap(),
            by_hand
        );

        // A file that is not there has the version of no bytes: the editor may create it, a page
        // that changes one entry may not.
        let fresh = dir.path().join("new.yml");
        let none = version(&fresh).unwrap();
        assert_eq!(none, Version::of(b""));
        let e = update(&fresh, &none, &schedule).unwrap_err();
        assert!(matches!(e, SaveError::Edit(EditError::NoFile)), "{e}");
        assert!(!fresh.exists());
        assert!(update(&fresh, &none, &WholeText(VALID)).unwrap().changed);
        let e = update(&dir.path().join("other.yml"), &read, &WholeText(VALID)).unwrap_err();
        assert!(matches!(e, SaveError::ChangedOnDisk { .. }), "{e}");
    }

    #[test]
    fn a_symlink_is_followed_and_stays_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let real_dir = dir.path().join("dotfiles");
        fs::create_dir(&real_dir).unwrap();
        let real = real_dir.join("mnemosynce.yml");
        fs::write(&real, VALID).unwrap();
        let link = dir.path().join("backup_config.yml");
        std::os::unix::fs::symlink(&real, &link).unwrap();

        let new = set_schedule(VALID, "0 6 * * *", true).unwrap();
        let saved = save(&link, &new).unwrap();
        assert_eq!(saved.path, fs::canonicalize(&real).unwrap());
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read_to_string(&link).unwrap(), new);
        assert_eq!(
            fs::read_to_string(real_dir.join("mnemosynce.yml.prev")).unwrap(),
            VALID
        );

        let dangling = dir.path().join("dangling.yml");
        std::os::unix::fs::symlink(dir.path().join("nowhere.yml"), &dangling).unwrap();
        let e = save(&dangling, VALID).unwrap_err();
        assert!(e.to_string().contains("fix the link"), "{e}");
    }

    #[test]
    fn save_refuses_folders_read_only_files_and_reports_io_failures() {
        let dir = tempfile::tempdir().unwrap();
        let e = save(dir.path(), VALID).unwrap_err();
        assert!(
            matches!(
                e,
                SaveError::NotAFile {
                    what: "a folder",
                    ..
                }
            ),
            "{e}"
        );

        let path = dir.path().join("backup_config.yml");
        fs::write(&path, "# locked\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).unwrap();
        let e = save(&path, VALID).unwrap_err();
        assert!(e.to_string().contains("chmod u+w"), "{e}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "# locked\n");

        let missing = dir.path().join("no/such/folder/backup_config.yml");
        let e = save(&missing, VALID).unwrap_err();
        assert!(matches!(e, SaveError::Io { .. }), "{e}");
        assert!(e.to_string().contains("The file was not changed"), "{e}");
    }

    #[test]
    fn a_folder_we_may_not_write_is_reported_with_its_fix() {
        // Root may write anyway (then the save simply succeeds); anyone else gets the hint.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("backup_config.yml");
        fs::write(&path, VALID).unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o555)).unwrap();
        let new = VALID.replace("A", "B");
        let result = save(&path, &new);
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        match result {
            Err(e) => {
                assert!(e.to_string().contains("write permission"), "{e}");
                assert_eq!(fs::read_to_string(&path).unwrap(), VALID);
                assert_eq!(names(dir.path()), ["backup_config.yml"]);
            }
            // Running as root: the folder's mode does not stop us.
            Ok(saved) => assert!(saved.changed),
        }
    }

    #[test]
    fn a_failure_before_the_rename_leaves_the_file_and_removes_the_temporary_files() {
        // `.prev` cannot be replaced (a folder with something in it has its name): the save stops
        // before the file is touched, whoever we run as.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("backup_config.yml");
        fs::write(&path, VALID).unwrap();
        let prev = dir.path().join("backup_config.yml.prev");
        fs::create_dir(&prev).unwrap();
        fs::write(prev.join("keep"), "x").unwrap();

        let e = save(&path, &VALID.replace("name: A", "name: B")).unwrap_err();
        let message = e.to_string();
        assert!(
            message.contains("keep the current version as .prev")
                && message.contains("The file was not changed"),
            "{message}"
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), VALID);
        assert_eq!(
            names(dir.path()),
            ["backup_config.yml", "backup_config.yml.prev"]
        );
    }

    #[test]
    fn temporary_files_go_away_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let t = Staged::write(dir.path(), "x.yml", b"abc", 0o600, None).unwrap();
        assert_eq!(names(dir.path()).len(), 1);
        assert!(names(dir.path())[0].starts_with(".x.yml.tmp-"));
        drop(t);
        assert!(names(dir.path()).is_empty());
    }
}
