//! A line diff, as the configuration editor shows it before a save ("what will change?").
//!
//! The diff is computed on the server by `engine::config::edit::line_diff` (and cut into hunks by
//! `engine::config::edit::diff_hunks`); these are the types that travel to the browser. Lines carry no
//! line ending: `\n` and `\r\n` end a line alike, and a missing newline at the end of the file is not a
//! change.

use serde::{Deserialize, Serialize};

/// What happened to one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiffKind {
    /// In both texts.
    Same,
    /// Only in the new text.
    Added,
    /// Only in the old text.
    Removed,
}

/// One line of a diff, with its 1-based line number in the old and/or the new text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffLine {
    pub kind: DiffKind,
    /// `None` for an added line.
    pub old_line: Option<u32>,
    /// `None` for a removed line.
    pub new_line: Option<u32>,
    /// The line without its line ending.
    pub text: String,
}

impl DiffLine {
    /// Added or removed.
    pub fn is_change(&self) -> bool {
        self.kind != DiffKind::Same
    }
}
