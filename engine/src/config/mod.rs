//! Reading and checking `backup_config.yml` (SPEC §2): every problem at once, each with its line,
//! column, field path and a way to fix it, the same answer for the CLI's `check`, the server at start,
//! the web editor and the wizard.
//!
//! [`check_str`] runs three passes over the text, one module each:
//! 1. [`tree`]: text → a tree of positioned nodes, refusing what is dangerous whatever the schema says
//!    (tags, several documents, deep nesting, alias bombs);
//! 2. [`check`]: the tree against the schema, recording every [`Problem`] and moving on (unknown keys
//!    and missing folders are warnings);
//! 3. [`typed`]: only without errors, `serde_yaml` reads the text into the typed [`Config`].
//!
//! The result is a [`Checked`]: the problems sorted by position, and the [`Config`] when there was no
//! error. [`load`] does the same for a file, [`resolve_timezone`] names the zone snapshot names and the
//! schedule use. [`edit`] changes the file from the web app.

use std::fmt;
use std::path::{Path, PathBuf};

use chrono_tz::Tz;

use crate::model::config::Config;

/// At most this many nodes, counting every copy an alias makes. A real configuration has a few hundred.
pub const MAX_NODES: usize = 100_000;

/// At most this many lists and mappings inside each other. A real configuration needs four.
pub const MAX_DEPTH: usize = 64;

/// The tags a plain YAML document may carry (`!!str 2024`); they build nothing.
const CORE_TAGS: [&str; 7] = ["str", "int", "bool", "null", "float", "seq", "map"];
const CORE_TAG_PREFIX: &str = "tag:yaml.org,2002:";

/// The spellings YAML reads as "no value".
const NULL_WORDS: [&str; 5] = ["", "~", "null", "Null", "NULL"];

mod check;
pub mod edit;

mod tree;
mod typed;

pub(crate) use check::RETENTION_KEYS;
use check::{unknown_zone_message, Checker};
use tree::{control_character, parse, Kind, Pos};
use typed::overlap_pos;
use typed::typed;

// ---------------------------------------------------------------------------------------------------
// Problems and results
// ---------------------------------------------------------------------------------------------------

/// How bad a [`Problem`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// The configuration cannot be used until this is fixed.
    Error,
    /// Worth a look, but the configuration works (an unknown key, a folder that is not there yet).
    Warning,
}

/// One thing wrong with the configuration, at a 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub column: usize,
    pub severity: Severity,
    /// Names the field (`tasks[0].dir_source`) and says how to fix it.
    pub message: String,
}

impl Problem {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}: ", self.line, self.column)?;
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        f.write_str(&self.message)
    }
}

/// What [`check_str`] found: every problem, and the typed configuration when none is an error.
#[derive(Clone, Debug)]
pub struct Checked {
    /// `Some` exactly when there are no errors (warnings are allowed).
    pub config: Option<Config>,
    /// Sorted by position.
    pub problems: Vec<Problem>,
}

impl Checked {
    pub fn errors(&self) -> impl Iterator<Item = &Problem> + '_ {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Problem> + '_ {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Warning)
    }

    /// No errors: the configuration can be used.
    pub fn is_ok(&self) -> bool {
        self.errors().next().is_none()
    }

    /// The configuration, or one sentence saying why it cannot be used (how many errors, and the
    /// first with its line). Warnings do not stop it.
    pub fn usable(self, path: &Path) -> Result<Config, String> {
        let errors = self.errors().count();
        let first = self
            .errors()
            .next()
            .map(|p| p.to_string())
            .unwrap_or_default();
        match self.config {
            Some(c) if errors == 0 => Ok(c),
            _ => Err(format!(
                "{} has {errors} error(s); the first: {first}",
                path.display()
            )),
        }
    }
}

/// Reads the configuration file and returns it when it can be used, else one sentence saying why
/// (for the server's runs and pages; the CLI prints every problem with [`load`] first).
pub fn load_usable(path: &Path) -> Result<Config, String> {
    load(path).map_err(|e| e.to_string())?.usable(path)
}

/// The configuration file could not be read at all (its content is judged by [`check_str`]).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {}: {source}; {hint}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
        /// What to do about it.
        hint: &'static str,
    },
}

/// Reads and checks the configuration file at `path`.
pub fn load(path: &Path) -> Result<Checked, ConfigError> {
    use std::io::ErrorKind;
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(check_str(&text)),
        Err(source) => {
            let hint = match source.kind() {
                ErrorKind::NotFound => "create it, or point to another file with --config FILE",
                ErrorKind::PermissionDenied => {
                    "make it readable by the user running Mnemosynce, or pass --config FILE"
                }
                ErrorKind::InvalidData => "save it as UTF-8 text",
                ErrorKind::IsADirectory => {
                    "pass the file itself with --config FILE, not its folder"
                }
                _ => "check the path, or pass another file with --config FILE",
            };
            Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
                hint,
            })
        }
    }
}

/// Checks a configuration text and, when it has no errors, returns the typed [`Config`].
///
/// Pure except for one thing: local paths (`dir_backup_local`, local `dir_source`s and
/// `dir_backup_remote`, `smtp.password_file`) are looked up on this machine, and a missing one is a
/// warning.
pub fn check_str(text: &str) -> Checked {
    // A byte-order mark is invisible in editors; yaml-rust2 would glue it to the first key.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let fail = |problems: Vec<Problem>| Checked {
        config: None,
        problems,
    };

    if let Some(problem) = control_character(text) {
        return fail(vec![problem]);
    }
    let tree = parse(text);
    if tree.stopped {
        return fail(tree.problems);
    }
    let mut checker = Checker {
        problems: tree.problems,
    };
    match &tree.root {
        Some(root) if matches!(root.kind, Kind::Map(_)) => checker.config(root),
        Some(root) if !root.is_null() => checker.error(
            Pos::START,
            format!(
                "the top level must be a mapping of `key: value` lines (dir_backup_local: ..., tasks: ...), \
                 but it is {}",
                root.describe()
            ),
        ),
        _ => checker.error(
            Pos::START,
            "the configuration is empty: it needs at least `dir_backup_local:` and `tasks:`"
                .into(),
        ),
    }

    let mut problems = checker.problems;
    let has_errors = problems.iter().any(Problem::is_error);
    let config = match (&tree.root, has_errors) {
        (Some(root), false) => match typed(text, root) {
            Ok(config) => {
                let overlaps = crate::overlap::overlaps(&config);
                for o in &overlaps {
                    let pos = overlap_pos(root, o.field);
                    problems.push(Problem {
                        line: pos.line,
                        column: pos.column,
                        severity: Severity::Error,
                        message: o.message.clone(),
                    });
                }
                overlaps.is_empty().then_some(config)
            }
            Err(problem) => {
                problems.push(problem);
                None
            }
        },
        _ => None,
    };
    problems.sort_by_key(|p| (p.line, p.column));
    Checked { config, problems }
}

/// The zone snapshot names, retention calendars and the schedule use: the configured IANA zone, else
/// the server's local zone, else UTC. Fails only when the configured name is unknown (which
/// [`check_str`] reports first).
pub fn resolve_timezone(cfg: &Config) -> Result<Tz, String> {
    if let Some(name) = cfg
        .timezone
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        return name
            .parse::<Tz>()
            .map_err(|_| unknown_zone_message("timezone", name));
    }
    match iana_time_zone::get_timezone() {
        Ok(local) => match local.parse::<Tz>() {
            Ok(tz) => Ok(tz),
            Err(_) => {
                tracing::warn!(zone = %local, "the server's time zone is unknown to chrono-tz; using UTC");
                Ok(Tz::UTC)
            }
        },
        Err(e) => {
            tracing::warn!(error = %e, "cannot tell the server's time zone; using UTC (set `timezone:`)");
            Ok(Tz::UTC)
        }
    }
}

/// The longest task name, in bytes: a folder name's limit on Linux filesystems.
pub const MAX_TASK_NAME_BYTES: usize = 255;

/// Whether `name` may name a task: any safe single folder name, as files written for the original
/// Mnemosynce have them (`My Photos`, UTF-8): 1 to 255 bytes, no `/`, no NUL or other control
/// character (nor the invisible Unicode ones that make a name display as another), not `.` or `..`,
/// not starting with `.` (the store's working folders and hidden files) or `-` (an option to a
/// command), and no space at either end (a name that looks the same as another). Task names become
/// folder names (store, mirror) and parts of log file names, so this is also what keeps `..` and
/// `a/b` out of the store. The error says why, as a sentence starting with "it".
pub fn check_task_name(name: &str) -> Result<(), String> {
    const FIX: &str = "a task name is a folder name: use letters, digits, spaces and punctuation other than '/', e.g. Photos or My Photos";
    if name.is_empty() {
        return Err(format!("it is empty; {FIX}"));
    }
    if name.contains('/') {
        return Err(format!("it contains '/'; {FIX}"));
    }
    if let Some(c) = name
        .chars()
        .find(|&c| c.is_control() || is_invisible_format_char(c))
    {
        return Err(format!(
            "it contains the control or invisible character {c:?}; {FIX}"
        ));
    }
    if name.len() > MAX_TASK_NAME_BYTES {
        return Err(format!(
            "it is {} bytes long; a folder name may have at most {MAX_TASK_NAME_BYTES} (a letter such as ü takes 2)",
            name.len()
        ));
    }
    if let Some(c) = name.chars().next().filter(|c| matches!(c, '.' | '-')) {
        return Err(format!(
            "it starts with {c:?}; a task name is a folder name and must not start with '.' (hidden, and the store's own folders) or '-' (read as an option by commands)"
        ));
    }
    if name.trim() != name {
        return Err(format!(
            "it starts or ends with a space, which is easy to miss; remove it (write `name: \"{}\"`)",
            name.trim()
        ));
    }
    Ok(())
}

/// Characters that display as nothing or change the direction of the text around them.
fn is_invisible_format_char(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{00AD}')
}

#[cfg(test)]
mod tests;
