//! Changing `backup_config.yml` from the web app without losing what the user wrote (SPEC §2).
//!
//! The file is edited as *text*, never as a YAML tree written back out, so comments and formatting
//! survive ([`lines`]); one module a block the web app edits ([`schedule`], [`retention`],
//! [`email`]). Every page saves through [`save::update`]: refused when the file changed since the
//! page read it ([`Version`]), checked with [`crate::config::check_str`], written atomically with a
//! `.prev` copy.
//! [`diff`] shows the editor what a save will change.

use std::io;
use std::path::PathBuf;

use crate::config::{Checked, Problem};

pub mod diff;
pub mod email;
pub mod lines;
pub mod retention;
pub mod save;
pub mod schedule;

pub use diff::{diff_hunks, line_diff, line_diff_context, DIFF_CONTEXT, MAX_DIFF_CELLS};
pub use lines::{replace_block, set_top_level_scalar, yaml_quote};
pub(crate) use lines::{scalar_value, top_level, with_value};
pub use save::{update, version};
pub use schedule::{schedule_block, set_schedule, ScheduleEdit};

/// The commented configuration a new install starts from (the wizard's editor is pre-filled with it).
/// It passes [`check_str`] with warnings only: its example folders may not exist yet.
pub const TEMPLATE: &str = include_str!("../../../templates/backup_config.yml");

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
    Invalid(Box<Checked>),

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

#[cfg(test)]
mod tests;
