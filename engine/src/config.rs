//! Reading and checking `backup_config.yml` (SPEC §2).
//!
//! # What problem does this solve?
//!
//! The configuration is a hand-edited YAML file, and a typo in it must never turn into a lost backup. So
//! the file is checked in one place, here, and every front end (the CLI's `check`, the server at start,
//! the web editor, the wizard) shows the same answer: **every** problem at once, each with its line and
//! column, a field path and a way to fix it:
//!
//! ```text
//! line 12, column 11: tasks[1].name "Photos" is used twice (first by tasks[0] on line 9): ...
//! line 14, column 5: warning: tasks[1].excludess is not a known key and is ignored; did you mean excludes?
//! ```
//!
//! A typed parser alone cannot do that: serde stops at the first error, and it happily reads things we
//! must refuse (object-building YAML tags, a "billion laughs" alias bomb).
//!
//! # How it works
//!
//! [`check_str`] runs three passes over the text:
//!
//! 1. **Parse into a positioned tree.** yaml-rust2's event parser reports each YAML event (a scalar, the
//!    start or end of a list or mapping, an alias) with its [`Marker`]. A [`MarkedEventReceiver`] builds a
//!    small tree of `Node`s out of them, each remembering its line and column. This pass also refuses
//!    what is dangerous whatever the schema says: YAML tags other than the core ones (`!!str`, `!!int`,
//!    ...), more than one document, nesting deeper than [`MAX_DEPTH`], and more than [`MAX_NODES`] nodes
//!    once aliases are expanded (so an alias bomb is an error, not a hang). A syntax error ends the
//!    pass with one problem at its position. We pull events ourselves instead of calling
//!    `Parser::load`, whose recursion could overflow the stack on hostile nesting before we get a say.
//!
//! 2. **Check the tree against the schema.** A `Checker` walks the tree the way the schema describes
//!    it: required keys, types, task names, endpoints, addresses, time zone, cron expression
//!    (`crate::schedule`), numbers in range. It never stops at the first mistake; it records a
//!    [`Problem`] and moves on. Unknown keys and paths that do not exist are warnings: a drive may be
//!    unmounted while the user edits.
//!
//! 3. **The typed parse.** Only when pass 2 found no error does `serde_yaml` read the text into the
//!    typed [`Config`] of `crate::model::config`. By then it can hardly fail, but if it does its message
//!    and position become one more problem.
//!
//! The result is a [`Checked`]: the problems, sorted by position, and the [`Config`] when there was no
//! error. [`load`] does the same for a file, and [`resolve_timezone`] answers "which zone do snapshot
//! names and the schedule use?".

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, ScanError, TScalarStyle};

use crate::model::config::{Config, Endpoint, KeepWithin, TransferEngine};

/// At most this many nodes, counting every copy an alias makes. A real configuration has a few hundred.
pub const MAX_NODES: usize = 100_000;

/// At most this many lists and mappings inside each other. A real configuration needs four.
pub const MAX_DEPTH: usize = 64;

/// The tags a plain YAML document may carry (`!!str 2024`); they build nothing.
const CORE_TAGS: [&str; 7] = ["str", "int", "bool", "null", "float", "seq", "map"];
const CORE_TAG_PREFIX: &str = "tag:yaml.org,2002:";

/// The spellings YAML reads as "no value".
const NULL_WORDS: [&str; 5] = ["", "~", "null", "Null", "NULL"];

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

// ---------------------------------------------------------------------------------------------------
// Pass 1: text -> positioned tree
// ---------------------------------------------------------------------------------------------------

/// A position in the text: 1-based line and column, and the 0-based character index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pos {
    line: usize,
    column: usize,
    index: usize,
}

impl Pos {
    const START: Pos = Pos {
        line: 1,
        column: 1,
        index: 0,
    };

    fn at(mark: &Marker) -> Pos {
        // yaml-rust2 counts lines from 1 and columns from 0.
        Pos {
            line: mark.line().max(1),
            column: mark.col() + 1,
            index: mark.index(),
        }
    }
}

/// One YAML value with where it was written.
#[derive(Clone, Debug)]
struct Node {
    pos: Pos,
    /// This node and everything under it; what an alias to it costs.
    size: usize,
    kind: Kind,
}

#[derive(Clone, Debug)]
enum Kind {
    /// `plain` is false for quoted and block scalars: those are always text to YAML.
    /// `tag` is the core tag's name (`str`, `int`, ...) when one was written.
    Scalar {
        text: String,
        plain: bool,
        tag: Option<&'static str>,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// YAML's null: nothing at all, `~` or `null` (unquoted), or `!!null`.
    fn is_null(&self) -> bool {
        match &self.kind {
            Kind::Scalar {
                text,
                plain: true,
                tag: None,
            } => NULL_WORDS.contains(&text.as_str()),
            Kind::Scalar {
                tag: Some("null"), ..
            } => true,
            _ => false,
        }
    }

    /// "a list", "a mapping", "empty" or the quoted value, for messages.
    fn describe(&self) -> String {
        match &self.kind {
            Kind::Seq(_) => "a list".into(),
            Kind::Map(_) => "a mapping".into(),
            Kind::Scalar { .. } if self.is_null() => "empty".into(),
            Kind::Scalar { text, .. } => shown(text),
        }
    }
}

/// What pass 1 produced.
#[derive(Default)]
struct TreeBuilder {
    /// Lists and mappings started but not yet ended, innermost last. A mapping's items alternate key
    /// and value.
    open: Vec<Open>,
    /// Finished nodes that carry an anchor (`&name`), by yaml-rust2's anchor id.
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    documents: usize,
    /// Nodes made so far, copies made by aliases and kept for anchors included.
    nodes: usize,
    problems: Vec<Problem>,
    /// Set after a problem that makes the rest of the text meaningless (syntax error, alias bomb...).
    stopped: bool,
}

struct Open {
    pos: Pos,
    anchor: usize,
    is_map: bool,
    items: Vec<Node>,
}

/// Runs pass 1 over `text`.
fn parse(text: &str) -> TreeBuilder {
    let mut builder = TreeBuilder::default();
    // The parser is third-party code fed with whatever the user typed; should it ever panic, that is
    // one more error message, not a crashed server.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut parser = Parser::new_from_str(text);
        while !builder.stopped {
            match parser.next_token() {
                Ok((Event::StreamEnd, _)) => break,
                Ok((event, mark)) => builder.on_event(event, mark),
                Err(e) => builder.syntax_error(&e),
            }
        }
    }));
    if outcome.is_err() {
        builder.fatal(
            Pos::START,
            "the YAML parser failed on this text (an internal error); please report it with the file".into(),
        );
    }
    builder
}

impl MarkedEventReceiver for TreeBuilder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.stopped {
            return;
        }
        let pos = Pos::at(&mark);
        match event {
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents > 1 {
                    self.fatal(
                        pos,
                        "the file holds more than one YAML document: keep one, and remove the `---` line \
                         before this one"
                            .into(),
                    );
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let tag = self.core_tag(tag, pos);
                let plain = style == TScalarStyle::Plain;
                self.finish(
                    Node {
                        pos,
                        size: 1,
                        kind: Kind::Scalar { text, plain, tag },
                    },
                    anchor,
                );
            }
            Event::SequenceStart(anchor, tag) => self.start(pos, anchor, tag, false),
            Event::MappingStart(anchor, tag) => self.start(pos, anchor, tag, true),
            Event::SequenceEnd | Event::MappingEnd => self.end(),
            Event::Alias(id) => self.alias(id, pos),
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
    }
}

impl TreeBuilder {
    fn fatal(&mut self, pos: Pos, message: String) {
        self.problems.push(Problem {
            line: pos.line,
            column: pos.column,
            severity: Severity::Error,
            message,
        });
        self.stopped = true;
    }

    fn syntax_error(&mut self, e: &ScanError) {
        let info = e.info();
        let hint = if info.contains("alias") || info.contains("anchor") {
            "; a value that starts with * or & must be quoted, e.g. cron: \"* * * * *\""
        } else if info.contains("tab") {
            "; indent with spaces, not tabs"
        } else if info.contains("mapping values are not allowed") {
            "; a value that contains \": \" must be quoted"
        } else if info.contains("simple key expect") {
            "; each line of a mapping is `key: value`: is a ':' missing?"
        } else if info.contains("indentation") || info.contains("expected key") {
            "; check the indentation of this line and the line before"
        } else {
            ""
        };
        self.fatal(
            Pos::at(e.marker()),
            format!("YAML syntax error: {info}{hint}"),
        );
    }

    /// Counts `n` more nodes; false (and an error) once the budget is spent.
    fn spend(&mut self, n: usize, pos: Pos) -> bool {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > MAX_NODES {
            self.fatal(
                pos,
                format!(
                    "the document expands to more than {MAX_NODES} values (aliases included), which no \
                     configuration needs; this looks like an alias bomb (\"billion laughs\"): remove the \
                     aliases (*name) and write the values out"
                ),
            );
            return false;
        }
        true
    }

    /// The name of a core tag, or `None` (and an error) for any other tag.
    fn core_tag(&mut self, tag: Option<Tag>, pos: Pos) -> Option<&'static str> {
        let tag = tag?;
        let full = format!("{}{}", tag.handle, tag.suffix);
        if let Some(name) = full.strip_prefix(CORE_TAG_PREFIX) {
            if let Some(core) = CORE_TAGS.iter().find(|t| **t == name) {
                return Some(core);
            }
        }
        let written = match full.strip_prefix(CORE_TAG_PREFIX) {
            Some(rest) => format!("!!{rest}"),
            None if tag.handle == "!" => format!("!{}", tag.suffix),
            None => format!("!<{full}>"),
        };
        self.problems.push(Problem {
            line: pos.line,
            column: pos.column,
            severity: Severity::Error,
            message: format!(
                "YAML tags are not allowed: remove {}; only the plain tags !!str, !!int, !!bool, !!null, \
                 !!float, !!seq and !!map are accepted",
                shown(&written)
            ),
        });
        None
    }

    fn start(&mut self, pos: Pos, anchor: usize, tag: Option<Tag>, is_map: bool) {
        self.core_tag(tag, pos);
        if self.open.len() >= MAX_DEPTH {
            self.fatal(
                pos,
                format!("lists and mappings are nested more than {MAX_DEPTH} deep here; no setting needs that"),
            );
            return;
        }
        self.open.push(Open {
            pos,
            anchor,
            is_map,
            items: Vec::new(),
        });
    }

    fn end(&mut self) {
        let Some(open) = self.open.pop() else { return };
        let size = 1 + open.items.iter().map(|n| n.size).sum::<usize>();
        let node = if open.is_map {
            let mut entries = Vec::with_capacity(open.items.len() / 2);
            let mut items = open.items.into_iter();
            while let (Some(key), Some(mut value)) = (items.next(), items.next()) {
                // `key:` with nothing after it: yaml-rust2 places the empty value where the next token
                // starts (often the next line); the key is where a reader looks.
                if matches!(&value.kind, Kind::Scalar { text, plain: true, tag: None } if text.is_empty())
                {
                    value.pos = key.pos;
                }
                entries.push((key, value));
            }
            // A block mapping's start event is marked just after its first key; point at the key.
            let pos = match entries.first() {
                Some((key, _)) if key.pos.index < open.pos.index => key.pos,
                _ => open.pos,
            };
            Node {
                pos,
                size,
                kind: Kind::Map(entries),
            }
        } else {
            Node {
                pos: open.pos,
                size,
                kind: Kind::Seq(open.items),
            }
        };
        self.finish(node, open.anchor);
    }

    fn alias(&mut self, id: usize, pos: Pos) {
        let Some(size) = self.anchors.get(&id).map(|n| n.size) else {
            self.fatal(
                pos,
                "this alias refers to a value that contains the alias itself; write the value out"
                    .into(),
            );
            return;
        };
        if !self.spend(size, pos) {
            return;
        }
        if let Some(mut node) = self.anchors.get(&id).cloned() {
            node.pos = pos;
            self.add(node);
        }
    }

    /// A node is complete: remember it under its anchor, and put it in its parent.
    fn finish(&mut self, node: Node, anchor: usize) {
        if !self.spend(1, node.pos) {
            return;
        }
        if anchor != 0 {
            // The kept copy counts too, or nested anchors could hoard memory.
            if !self.spend(node.size, node.pos) {
                return;
            }
            self.anchors.insert(anchor, node.clone());
        }
        self.add(node);
    }

    fn add(&mut self, node: Node) {
        match self.open.last_mut() {
            Some(parent) => parent.items.push(node),
            None => self.root = Some(node),
        }
    }
}

/// The first character YAML does not allow in a document (NUL, other C0/C1 controls, DEL), as a
/// problem. yaml-rust2 silently stops reading at a NUL, so this must come first.
fn control_character(text: &str) -> Option<Problem> {
    let (mut line, mut column) = (1, 1);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => (line, column) = (line + 1, 1),
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    (line, column) = (line + 1, 1);
                }
            }
            '\t' => column += 1,
            c if c.is_control() => {
                return Some(Problem {
                    line,
                    column,
                    severity: Severity::Error,
                    message: format!(
                        "the text contains the control character U+{:04X}, which YAML does not allow; remove \
                         it (was the file saved by a text editor?)",
                        u32::from(c)
                    ),
                });
            }
            _ => column += 1,
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------------
// Pass 2: the schema
// ---------------------------------------------------------------------------------------------------

const TOP_KEYS: &[&str] = &[
    "dir_backup_local",
    "dir_backup_remote",
    "email_sender",
    "email_report",
    "email_admin",
    "email",
    "timezone",
    "schedule",
    "retention",
    "smtp",
    "report",
    "history",
    "tasks",
];
const TASK_KEYS: &[&str] = &[
    "name",
    "dir_source",
    "excludes",
    "one_file_system",
    "allow_empty_source",
    "acls_xattrs",
    "retention",
    "bwlimit_kbps",
    "engine",
];
const RETENTION_COUNTS: &[&str] = &[
    "keep_last",
    "hourly",
    "daily",
    "weekly",
    "monthly",
    "yearly",
];
/// The keys of a retention policy, in the order SPEC §2 lists them (also the order
/// [`crate::retention_edit`] writes them).
pub(crate) const RETENTION_KEYS: [&str; 7] = [
    "keep_last",
    "hourly",
    "daily",
    "weekly",
    "monthly",
    "yearly",
    "keep_within",
];
const SMTP_KEYS: &[&str] = &[
    "host",
    "port",
    "security",
    "username",
    "password_file",
    "ca_file",
    "timeout_secs",
];

/// Walks the tree and collects problems.
struct Checker {
    problems: Vec<Problem>,
}

/// A mapping's known keys (first occurrence each) after [`Checker::mapping`] reported the rest.
struct Fields<'a> {
    pos: Pos,
    entries: Vec<(&'a str, &'a Node)>,
}

impl<'a> Fields<'a> {
    fn get(&self, key: &str) -> Option<&'a Node> {
        self.entries
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }

    /// The value, unless absent or null.
    fn optional(&self, key: &str) -> Option<&'a Node> {
        self.get(key).filter(|n| !n.is_null())
    }
}

/// `path.key`, or `key` at the top level.
fn at(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// How a path is named in a sentence.
fn name(path: &str) -> &str {
    if path.is_empty() {
        "the top level"
    } else {
        path
    }
}

/// A value quoted for a message, shortened when long.
fn shown(text: &str) -> String {
    if text.chars().count() > 60 {
        let head: String = text.chars().take(57).collect();
        format!("{:?}", head + "...")
    } else {
        format!("{text:?}")
    }
}

impl Checker {
    fn push(&mut self, pos: Pos, severity: Severity, message: String) {
        self.problems.push(Problem {
            line: pos.line,
            column: pos.column,
            severity,
            message,
        });
    }

    fn error(&mut self, pos: Pos, message: String) {
        self.push(pos, Severity::Error, message);
    }

    fn warning(&mut self, pos: Pos, message: String) {
        self.push(pos, Severity::Warning, message);
    }

    // --- generic shapes -----------------------------------------------------------------------------

    /// Checks that `node` is a mapping (null counts as an empty one), reports duplicate, odd and
    /// unknown keys, and returns the known ones.
    fn mapping<'a>(&mut self, node: &'a Node, path: &str, known: &[&str]) -> Option<Fields<'a>> {
        let mut fields = Fields {
            pos: node.pos,
            entries: Vec::new(),
        };
        let entries = match &node.kind {
            Kind::Map(entries) => entries,
            _ if node.is_null() => return Some(fields),
            _ => {
                self.error(
                    node.pos,
                    format!(
                        "{} must be a mapping of `key: value` lines, but it is {}",
                        name(path),
                        node.describe()
                    ),
                );
                return None;
            }
        };
        let mut seen: HashMap<&str, Pos> = HashMap::new();
        for (key, value) in entries {
            let Kind::Scalar { text: key_text, .. } = &key.kind else {
                self.error(
                    key.pos,
                    format!(
                        "{} has a key that is {}; keys are plain names such as dir_source",
                        name(path),
                        key.describe()
                    ),
                );
                continue;
            };
            let key_text = key_text.as_str();
            let simple = !key_text.is_empty()
                && key_text.len() <= 40
                && key_text
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
            let field = at(
                path,
                &if simple {
                    key_text.to_string()
                } else {
                    shown(key_text)
                },
            );
            if let Some(first) = seen.get(key_text) {
                self.error(
                    key.pos,
                    format!(
                        "{field} is set twice (first on line {}); remove one of them",
                        first.line
                    ),
                );
                continue;
            }
            seen.insert(key_text, key.pos);
            if known.contains(&key_text) {
                fields.entries.push((key_text, value));
            } else if key_text == "<<" {
                self.error(
                    key.pos,
                    format!(
                        "{}: merge keys (<<) are not supported; write the settings out in full",
                        name(path)
                    ),
                );
            } else {
                let hint = match closest(key_text, known.iter().copied()) {
                    Some(k) => format!("; did you mean {k}?"),
                    None => format!("; the known keys here are {}", known.join(", ")),
                };
                self.warning(
                    key.pos,
                    format!("{field} is not a known key and is ignored{hint}"),
                );
            }
        }
        Some(fields)
    }

    /// The value of a required key; reports it when absent or null.
    fn required<'a>(
        &mut self,
        fields: &Fields<'a>,
        key: &str,
        path: &str,
        fix: &str,
    ) -> Option<&'a Node> {
        match fields.get(key) {
            None => {
                self.error(fields.pos, format!("{} is missing: {fix}", at(path, key)));
                None
            }
            Some(node) if node.is_null() => {
                self.error(node.pos, format!("{} is empty: {fix}", at(path, key)));
                None
            }
            Some(node) => Some(node),
        }
    }

    /// The text of a scalar. Plain scalars YAML would read as numbers or booleans (`name: 2024`) are
    /// text here, as they are to serde. `None` for null (no report) and for lists and mappings (reported).
    fn text<'a>(&mut self, node: &'a Node, path: &str) -> Option<&'a str> {
        match &node.kind {
            Kind::Scalar { .. } if node.is_null() => None,
            Kind::Scalar { text, .. } => Some(text),
            _ => {
                self.error(
                    node.pos,
                    format!(
                        "{path} must be a single value (text), but it is {}",
                        node.describe()
                    ),
                );
                None
            }
        }
    }

    /// A whole number from `min` to `max`.
    fn number(
        &mut self,
        node: &Node,
        path: &str,
        min: u64,
        max: u64,
        example: &str,
    ) -> Option<u64> {
        let text = match &node.kind {
            _ if node.is_null() => {
                self.error(
                    node.pos,
                    format!("{path} is empty: write a whole number such as {example}, or remove the line to use the default"),
                );
                return None;
            }
            Kind::Scalar {
                plain: false, text, ..
            }
            | Kind::Scalar {
                tag: Some("str"),
                text,
                ..
            } => {
                self.error(
                    node.pos,
                    format!(
                        "{path} must be a number, but {} is quoted text: remove the quotes",
                        shown(text)
                    ),
                );
                return None;
            }
            Kind::Scalar { text, .. } => text.trim(),
            _ => {
                self.error(
                    node.pos,
                    format!(
                        "{path} must be a whole number such as {example}, but it is {}",
                        node.describe()
                    ),
                );
                return None;
            }
        };
        // How the number is echoed in a message: a 100-digit number needs no full echo.
        let short = match text.get(..20) {
            Some(head) if text.len() > 24 => format!("{head}..."),
            _ => text.to_string(),
        };
        let digits = text.strip_prefix('+').unwrap_or(text);
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let range = format!("use a whole number from {min} to {max}");
        if all_digits(digits) {
            if digits.len() > 1 && digits.starts_with('0') {
                self.error(node.pos, format!("{path} {short} starts with 0, which YAML reads as text: write it without leading zeros"));
                return None;
            }
            match digits.parse::<u64>() {
                Ok(n) if (min..=max).contains(&n) => return Some(n),
                _ => self.error(node.pos, format!("{path} {short} is out of range: {range}")),
            }
        } else if text.strip_prefix('-').is_some_and(all_digits) {
            self.error(node.pos, format!("{path} {short} is negative: {range}"));
        } else {
            self.error(
                node.pos,
                format!(
                    "{path} must be a whole number such as {example}, but it is {}",
                    shown(text)
                ),
            );
        }
        None
    }

    fn boolean(&mut self, node: &Node, path: &str) -> Option<bool> {
        let fix = "write true or false";
        match &node.kind {
            _ if node.is_null() => self.error(
                node.pos,
                format!("{path} is empty: {fix}, or remove the line to use the default"),
            ),
            Kind::Scalar {
                plain: false, text, ..
            }
            | Kind::Scalar {
                tag: Some("str"),
                text,
                ..
            } => self.error(
                node.pos,
                format!(
                    "{path} must be true or false, but {} is quoted text: remove the quotes",
                    shown(text)
                ),
            ),
            Kind::Scalar { text, .. } => match text.as_str() {
                "true" | "True" | "TRUE" => return Some(true),
                "false" | "False" | "FALSE" => return Some(false),
                t if ["yes", "no", "on", "off", "y", "n"]
                    .contains(&t.to_ascii_lowercase().as_str()) =>
                {
                    self.error(
                        node.pos,
                        format!(
                            "{path} {} is not read as a yes/no answer here: {fix}",
                            shown(t)
                        ),
                    )
                }
                t => self.error(
                    node.pos,
                    format!("{path} must be true or false, but it is {}", shown(t)),
                ),
            },
            _ => self.error(
                node.pos,
                format!(
                    "{path} must be true or false, but it is {}",
                    node.describe()
                ),
            ),
        }
        None
    }

    /// One of a few words (`tls`, `starttls`, `none`); the word when it is one of them.
    fn choice<'a>(&mut self, node: &'a Node, path: &str, options: &[&str]) -> Option<&'a str> {
        let list = options.join(", ");
        if node.is_null() {
            self.error(
                node.pos,
                format!(
                    "{path} is empty: choose one of {list}, or remove the line to use the default"
                ),
            );
            return None;
        }
        let text = self.text(node, path)?;
        if options.contains(&text) {
            return Some(text);
        }
        let hint = if options.contains(&text.to_ascii_lowercase().as_str()) {
            " (in lowercase)"
        } else {
            ""
        };
        self.error(
            node.pos,
            format!(
                "{path} {} is not one of {list}; write one of them{hint}",
                shown(text)
            ),
        );
        None
    }

    /// A warning when a local path is not there (a drive may be unmounted while the user edits).
    fn path_exists(&mut self, path_text: &str, pos: Pos, field: &str, consequence: &str) {
        match std::fs::metadata(path_text) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => self.warning(
                pos,
                format!(
                    "{field} {} does not exist on this machine (yet); {consequence}",
                    shown(path_text)
                ),
            ),
            Err(e) => self.warning(
                pos,
                format!(
                    "{field} {} cannot be looked at ({e}); {consequence}",
                    shown(path_text)
                ),
            ),
        }
    }

    // --- the schema ---------------------------------------------------------------------------------

    fn config(&mut self, root: &Node) {
        let Some(top) = self.mapping(root, "", TOP_KEYS) else {
            return;
        };

        let email_on = match top.get("email") {
            Some(node) => self.email_settings(node),
            None => true,
        };

        let fix =
            "add the folder that holds the snapshots, e.g. `dir_backup_local: /mnt/backup/local`";
        if let Some(node) = self.required(&top, "dir_backup_local", "", fix) {
            self.store_folder(node);
        }
        if let Some(node) = top.optional("dir_backup_remote") {
            self.endpoint(
                node,
                "dir_backup_remote",
                "the mirror step fails until it exists (is the drive mounted?)",
            );
        }

        for (key, example) in [
            ("email_sender", "you@gmail.com"),
            ("email_report", "you@example.com"),
        ] {
            let node = if email_on {
                let fix = format!(
                    "add `{key}: {example}`, or turn reports off with `email: {{enabled: false}}`"
                );
                self.required(&top, key, "", &fix)
            } else {
                top.optional(key)
            };
            if let Some(node) = node {
                self.email_address(node, key, false);
            }
        }
        if let Some(node) = top.optional("email_admin") {
            self.email_address(node, "email_admin", true);
        }

        if let Some(node) = top.optional("timezone") {
            if let Some(name) = self
                .text(node, "timezone")
                .map(str::trim)
                .filter(|n| !n.is_empty())
            {
                if name.parse::<Tz>().is_err() {
                    self.error(node.pos, unknown_zone_message("timezone", name));
                }
            }
        }
        if let Some(node) = top.get("schedule") {
            self.schedule(node);
        }
        if let Some(node) = top.get("retention") {
            self.retention(node, "retention", false);
        }
        if let Some(node) = top.get("smtp") {
            self.smtp(node);
        }
        if let Some(fields) = top
            .get("report")
            .and_then(|node| self.mapping(node, "report", &["when", "stale_after_days"]))
        {
            if let Some(node) = fields.get("when") {
                self.choice(node, "report.when", &["always", "failures"]);
            }
            if let Some(node) = fields.get("stale_after_days") {
                self.number(node, "report.stale_after_days", 0, u32::MAX.into(), "3");
            }
        }
        if let Some(fields) = top
            .get("history")
            .and_then(|node| self.mapping(node, "history", &["keep_days"]))
        {
            if let Some(node) = fields.get("keep_days") {
                self.number(node, "history.keep_days", 0, u32::MAX.into(), "365");
            }
        }

        let fix = "add at least one task, e.g. `tasks: [{name: Photos, dir_source: /srv/photos}]`";
        if let Some(node) = self.required(&top, "tasks", "", fix) {
            self.tasks(node, fix);
        }
    }

    /// `email: {enabled: ...}`; whether reports are on.
    fn email_settings(&mut self, node: &Node) -> bool {
        let Some(fields) = self.mapping(node, "email", &["enabled"]) else {
            return true;
        };
        match fields.get("enabled") {
            Some(node) => self.boolean(node, "email.enabled").unwrap_or(true),
            None => true,
        }
    }

    fn store_folder(&mut self, node: &Node) {
        let field = "dir_backup_local";
        let Some(dir) = self.text(node, field) else {
            return;
        };
        if !dir.starts_with('/') {
            self.error(
                node.pos,
                format!(
                    "{field} {} must be an absolute path on this machine, starting with '/', e.g. /mnt/backup/local",
                    shown(dir)
                ),
            );
        } else if dir.chars().any(char::is_control) {
            self.error(
                node.pos,
                format!(
                    "{field} {} contains a control character (newline, tab, ...)",
                    shown(dir)
                ),
            );
        } else {
            self.path_exists(
                dir,
                node.pos,
                field,
                "create it or mount the drive: backups fail until it exists",
            );
        }
    }

    /// A local folder or an SSH address (`dir_source`, `dir_backup_remote`).
    fn endpoint(&mut self, node: &Node, field: &str, consequence: &str) {
        let Some(text) = self.text(node, field) else {
            return;
        };
        match text.parse::<Endpoint>() {
            Ok(Endpoint::Local(dir)) => self.path_exists(&dir.to_string_lossy(), node.pos, field, consequence),
            Ok(Endpoint::Ssh(_)) => {}
            Err(e) => self.error(
                node.pos,
                format!(
                    "{field} is not valid: {e}; write an absolute path, user@host:/path or ssh://user@host:port/path"
                ),
            ),
        }
    }

    /// `allow_empty`: `""` means "none" (as the original allowed for `email_admin`).
    fn email_address(&mut self, node: &Node, field: &str, allow_empty: bool) {
        let Some(text) = self.text(node, field) else {
            return;
        };
        if allow_empty && text.trim().is_empty() {
            return;
        }
        if !looks_like_email(text) {
            self.error(
                node.pos,
                format!(
                    "{field} {} does not look like an email address; write it as name@example.com",
                    shown(text)
                ),
            );
        }
    }

    fn schedule(&mut self, node: &Node) {
        let Some(fields) = self.mapping(node, "schedule", &["cron", "enabled"]) else {
            return;
        };
        if let Some(node) = fields.get("cron") {
            if node.is_null() {
                self.error(
                    node.pos,
                    "schedule.cron is empty: write a 5-field cron expression such as \"0 2 * * *\", or remove the \
                     line to use that default"
                        .into(),
                );
            } else if let Some(cron) = self.text(node, "schedule.cron") {
                if let Err(e) = crate::schedule::Cron::parse(cron) {
                    self.error(node.pos, e.to_string());
                }
            }
        }
        if let Some(node) = fields.get("enabled") {
            self.boolean(node, "schedule.enabled");
        }
    }

    /// The global policy, or a task's override (whose fields may be null: "not overridden").
    fn retention(&mut self, node: &Node, path: &str, is_override: bool) {
        let Some(fields) = self.mapping(node, path, &RETENTION_KEYS) else {
            return;
        };
        for key in RETENTION_COUNTS {
            if let Some(node) = fields.get(key) {
                if !(is_override && node.is_null()) {
                    self.number(node, &at(path, key), 0, u32::MAX.into(), "7");
                }
            }
        }
        if let Some(node) = fields.optional("keep_within") {
            let field = at(path, "keep_within");
            if let Some(text) = self.text(node, &field) {
                if let Err(e) = text.parse::<KeepWithin>() {
                    self.error(node.pos, format!("{field} is not valid: {e}"));
                }
            }
        }
    }

    fn smtp(&mut self, node: &Node) {
        let Some(fields) = self.mapping(node, "smtp", SMTP_KEYS) else {
            return;
        };
        if let Some(node) = fields.get("host") {
            if node.is_null() {
                self.error(node.pos, "smtp.host is empty: write the mail server's name, or remove the line to use smtp.gmail.com".into());
            } else if let Some(host) = self.text(node, "smtp.host") {
                if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    self.error(
                        node.pos,
                        format!(
                            "smtp.host {} is not a host name; write e.g. smtp.example.com",
                            shown(host)
                        ),
                    );
                }
            }
        }
        if let Some(node) = fields.get("port") {
            self.number(node, "smtp.port", 1, 65_535, "465");
        }
        if let Some(node) = fields.get("security") {
            self.choice(node, "smtp.security", &["tls", "starttls", "none"]);
        }
        if let Some(node) = fields.optional("username") {
            if self
                .text(node, "smtp.username")
                .is_some_and(|u| u.trim().is_empty())
            {
                self.error(
                    node.pos,
                    "smtp.username is empty: remove the line to log in as email_sender".into(),
                );
            }
        }
        if let Some(node) = fields.optional("password_file") {
            let field = "smtp.password_file";
            match self.text(node, field) {
                Some(file) if file.trim().is_empty() => self.error(
                    node.pos,
                    format!("{field} is empty: remove the line, or write the path of a file that holds the password"),
                ),
                Some(file) => self.path_exists(
                    file,
                    node.pos,
                    field,
                    "create it (the password on one line) or remove the line to use MNEMOSYNCE_SMTP_PASSWORD or \
                     secrets/smtp_password",
                ),
                None => {}
            }
        }
        if let Some(node) = fields.optional("ca_file") {
            let field = "smtp.ca_file";
            match self.text(node, field) {
                Some(file) if file.trim().is_empty() => self.error(
                    node.pos,
                    format!("{field} is empty: remove the line, or write the path of a PEM file with the CA certificate"),
                ),
                Some(file) => self.path_exists(
                    file,
                    node.pos,
                    field,
                    "write the path of the PEM file that holds your mail server's CA certificate",
                ),
                None => {}
            }
        }
        if let Some(node) = fields.get("timeout_secs") {
            self.number(node, "smtp.timeout_secs", 1, 600, "30");
        }
    }

    fn tasks(&mut self, node: &Node, fix: &str) {
        let Kind::Seq(items) = &node.kind else {
            self.error(
                node.pos,
                format!(
                    "tasks must be a list, one `- name: ...` entry per task, but it is {}; {fix}",
                    node.describe()
                ),
            );
            return;
        };
        if items.is_empty() {
            self.error(node.pos, format!("tasks is an empty list: {fix}"));
        }
        // name -> (the task that has it, where)
        let mut names: HashMap<&str, (String, Pos)> = HashMap::new();
        for (i, item) in items.iter().enumerate() {
            let path = format!("tasks[{i}]");
            self.task(item, &path, &mut names);
        }
    }

    fn task<'a>(
        &mut self,
        node: &'a Node,
        path: &str,
        names: &mut HashMap<&'a str, (String, Pos)>,
    ) {
        let Some(fields) = self.mapping(node, path, TASK_KEYS) else {
            return;
        };

        let fix =
            "give the task a name such as `name: Photos`; it is the name of the task's folder";
        if let Some(node) = self.required(&fields, "name", path, fix) {
            let field = at(path, "name");
            if let Some(name) = self.text(node, &field) {
                if let Err(why) = check_task_name(name) {
                    self.error(
                        node.pos,
                        format!("{field} {} is not a valid task name: {why}", shown(name)),
                    );
                } else if let Some((first, pos)) = names.get(name) {
                    self.error(
                        node.pos,
                        format!(
                            "{field} {} is used twice (first by {first} on line {}): each task needs its own name, \
                             because the name is its folder; rename one of them",
                            shown(name),
                            pos.line
                        ),
                    );
                } else {
                    names.insert(name, (path.to_string(), node.pos));
                }
            }
        }

        let fix = "add where to back up from, e.g. `dir_source: /srv/photos` or `dir_source: user@host:/home/user`";
        let source = self.required(&fields, "dir_source", path, fix);
        if let Some(node) = source {
            let consequence = "this task fails until it exists (a drive may be unmounted)";
            self.endpoint(node, &at(path, "dir_source"), consequence);
        }

        if let Some(node) = fields.optional("excludes") {
            let field = at(path, "excludes");
            match &node.kind {
                Kind::Seq(items) => {
                    for (i, item) in items.iter().enumerate() {
                        let item_path = format!("{field}[{i}]");
                        if item.is_null() {
                            self.error(item.pos, format!("{item_path} is empty: remove it, or write a pattern such as \"*.tmp\""));
                        } else {
                            self.text(item, &item_path);
                        }
                    }
                }
                _ => self.error(
                    node.pos,
                    format!("{field} must be a list of patterns, e.g. `excludes: [\"*.tmp\", .cache/]`, but it is {}", node.describe()),
                ),
            }
        }
        for key in ["one_file_system", "allow_empty_source", "acls_xattrs"] {
            if let Some(node) = fields.get(key) {
                self.boolean(node, &at(path, key));
            }
        }
        if let Some(node) = fields.get("retention") {
            self.retention(node, &at(path, "retention"), true);
        }
        if let Some(node) = fields.optional("bwlimit_kbps") {
            self.number(node, &at(path, "bwlimit_kbps"), 1, 100_000_000, "10000");
        }
        if let Some(node) = fields.optional("engine") {
            self.engine(node, path, source);
        }
    }

    /// `tasks[].engine`: a known engine, and `native` only for a local source.
    fn engine(&mut self, node: &Node, path: &str, source: Option<&Node>) {
        let field = at(path, "engine");
        let options = TransferEngine::ALL.map(TransferEngine::as_str);
        if self.choice(node, &field, &options) != Some(TransferEngine::Native.as_str()) {
            return;
        }
        // An invalid or missing dir_source is reported on its own line already.
        let Some(source) = source else { return };
        let Kind::Scalar { text, .. } = &source.kind else {
            return;
        };
        if let Ok(Endpoint::Ssh(_)) = text.parse::<Endpoint>() {
            self.error(
                node.pos,
                format!(
                    "{field} is native, but {} {} (line {}) is an SSH source: native snapshots only \
                     local folders; use engine: rsync or remove the key",
                    at(path, "dir_source"),
                    shown(text.trim()),
                    source.pos.line
                ),
            );
        }
    }
}

/// A plausible `name@domain`: one `@`, something on both sides, no spaces or list punctuation.
fn looks_like_email(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>(),;:\"[]\\".contains(c))
        && !local.contains('@')
}

fn unknown_zone_message(field: &str, name: &str) -> String {
    let hint = match closest(name, chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())) {
        Some(zone) => format!("; did you mean {zone}?"),
        None => String::new(),
    };
    format!(
        "{field} {} is not a known IANA time zone name (e.g. Europe/Amsterdam, America/New_York, UTC){hint}; \
         remove the line to use the server's zone",
        shown(name)
    )
}

/// The candidate nearest to `word` (edit distance, ignoring case), if it is near enough to be a typo:
/// one edit in a short word, up to a quarter of the letters in a longer one.
fn closest<'k>(word: &str, candidates: impl Iterator<Item = &'k str>) -> Option<&'k str> {
    let len = word.chars().count();
    if len == 0 || len > 64 {
        return None;
    }
    candidates
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, c)| *d <= (len.min(c.chars().count()) / 4).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance between `a` and `b`, ignoring ASCII case.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().map(|c| c.to_ascii_lowercase()).collect();
    let b: Vec<char> = b.chars().map(|c| c.to_ascii_lowercase()).collect();
    // prev[j]: distance between the first i chars of a and the first j chars of b.
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut row = Vec::with_capacity(b.len() + 1);
        row.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != cb);
            row.push(substitute.min(prev[j + 1] + 1).min(row[j] + 1));
        }
        prev = row;
    }
    prev[b.len()]
}

// ---------------------------------------------------------------------------------------------------
// Pass 3: the typed parse
// ---------------------------------------------------------------------------------------------------

/// Reads the (already checked) text into a [`Config`] with serde_yaml.
fn typed(text: &str, root: &Node) -> Result<Config, Problem> {
    let text = blank_spelled_nulls(text, root);
    serde_yaml::from_str::<Config>(&text).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line().max(1), l.column().max(1)))
            .unwrap_or((1, 1));
        let mut message = e.to_string();
        // serde_yaml appends " at line L column C"; the position is ours to show.
        if e.location().is_some() {
            if let Some(i) = message.rfind(" at line ") {
                message.truncate(i);
            }
        }
        if message.contains("invalid type") {
            message.push_str("; if this value is meant as text, put it in quotes");
        }
        Problem {
            line,
            column,
            severity: Severity::Error,
            message,
        }
    })
}

/// Where the field an overlap is reported on was written (the value's position; the document's
/// start if the tree does not have it, which cannot happen for a config that parsed).
fn overlap_pos(root: &Node, field: crate::overlap::Field) -> Pos {
    use crate::overlap::Field;
    fn value<'a>(map: &'a Node, key: &str) -> Option<&'a Node> {
        match &map.kind {
            Kind::Map(entries) => entries.iter().find_map(|(k, v)| match &k.kind {
                Kind::Scalar { text, .. } if text == key => Some(v),
                _ => None,
            }),
            _ => None,
        }
    }
    fn task(root: &Node, i: usize) -> Option<&Node> {
        match &value(root, "tasks")?.kind {
            Kind::Seq(items) => items.get(i),
            _ => None,
        }
    }
    let node = match field {
        Field::Remote => value(root, "dir_backup_remote"),
        Field::TaskSource(i) => task(root, i).and_then(|t| value(t, "dir_source")),
        Field::TaskName(i) => task(root, i).and_then(|t| value(t, "name")),
    };
    node.map(|n| n.pos).unwrap_or(Pos::START)
}

/// serde_yaml reads `excludes:` (nothing) as an empty list but `excludes: ~` as an error, and the same
/// for every list and section. To YAML both are null, and pass 2 accepted both, so this overwrites the
/// spelled-out nulls that are mapping values (`~`, `null`) with spaces. Lines and columns stay put.
fn blank_spelled_nulls(text: &str, root: &Node) -> String {
    fn collect(node: &Node, spots: &mut Vec<(usize, &'static str)>) {
        match &node.kind {
            Kind::Map(entries) => {
                for (_, value) in entries {
                    if let Kind::Scalar {
                        text,
                        plain: true,
                        tag: None,
                    } = &value.kind
                    {
                        if let Some(word) = NULL_WORDS
                            .iter()
                            .find(|w| !w.is_empty() && **w == text.as_str())
                        {
                            spots.push((value.pos.index, word));
                        }
                    }
                    collect(value, spots);
                }
            }
            Kind::Seq(items) => items.iter().for_each(|item| collect(item, spots)),
            Kind::Scalar { .. } => {}
        }
    }
    let mut spots = Vec::new();
    collect(root, &mut spots);
    if spots.is_empty() {
        return text.to_string();
    }
    spots.sort_unstable();
    // Marker indexes count characters; find their byte offsets in one walk.
    let mut out = text.to_string();
    let mut spots = spots.into_iter().peekable();
    for (char_index, (byte, _)) in text.char_indices().enumerate() {
        while let Some(&(index, word)) = spots.peek() {
            if index > char_index {
                break;
            }
            spots.next();
            let range = byte..byte + word.len();
            // Only where the word really is (an alias's copy points at the alias, not at a `~`).
            if index == char_index && text.get(range.clone()) == Some(word) {
                out.replace_range(range, &" ".repeat(word.len()));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::config::{ReportWhen, SmtpSecurity, TransferEngine};

    fn fixture(name: &str) -> String {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/original-configs");
        let path = dir.join(name);
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read the fixture {} ({e})", path.display()))
    }

    /// Lines and columns of the errors, sorted.
    fn error_positions(c: &Checked) -> Vec<(usize, usize)> {
        c.errors().map(|p| (p.line, p.column)).collect()
    }

    fn only_error(text: &str) -> Problem {
        let c = check_str(text);
        let errors: Vec<_> = c.errors().cloned().collect();
        assert_eq!(errors.len(), 1, "{text}\n{errors:#?}");
        assert!(c.config.is_none());
        errors[0].clone()
    }

    const BASE: &str =
        "dir_backup_local: /var\nemail_sender: a@example.com\nemail_report: b@example.com\n";

    fn with_tasks(tasks: &str) -> String {
        format!("{BASE}tasks:\n{tasks}")
    }

    #[test]
    fn the_original_fixtures_load_with_at_most_path_warnings() {
        for name in ["minimal.yml", "full.yml"] {
            let c = check_str(&fixture(name));
            assert!(c.is_ok(), "{name}: {:#?}", c.problems);
            for w in c.warnings() {
                assert!(
                    w.message.contains("does not exist"),
                    "{name}: unexpected warning {w}"
                );
            }
            let cfg = c.config.expect("a config");
            assert_eq!(cfg.dir_backup_local, PathBuf::from("/mnt/backup/local"));
            assert_eq!(cfg.tasks[0].name, "ServerData");
            assert_eq!(
                cfg.dir_backup_remote.map(|e| e.to_string()).as_deref(),
                Some("user@backup-host:/mnt/backup/remote")
            );
        }
        let full = check_str(&fixture("full.yml")).config.unwrap();
        assert_eq!(full.tasks.len(), 3);
        assert_eq!(full.tasks[2].name, "My Photos");
        assert_eq!(
            full.tasks[1].excludes,
            ["Downloads/*", ".cache", ".Trash", ".DS_Store"]
        );
        assert_eq!(full.schedule.cron, "0 4 * * *");
        assert_eq!(full.email_admin.as_deref(), Some("admin@example.com"));
    }

    #[test]
    fn every_mistake_is_reported_at_once_with_its_position() {
        let text = "\
dir_backup_local: relative/store
email_sender: not-an-address
email_report: you@example.com
timezone: Europe/Amsterdma
retention:
  daily: many
  weekly: -3
smtp:
  port: 70000
  security: ssl
tasks:
  - name: Photos
    dir_source: /srv
    excludess: [\"*.tmp\"]
  - name: Photos
    dir_source: [a, b]
  - name: a/b
    dir_source: relative
";
        let c = check_str(text);
        assert!(c.config.is_none());
        assert_eq!(
            error_positions(&c),
            [
                (1, 19),
                (2, 15),
                (4, 11),
                (6, 10),
                (7, 11),
                (9, 9),
                (10, 13),
                (15, 11),
                (16, 17),
                (17, 11),
                (18, 17)
            ],
            "{:#?}",
            c.problems
        );
        let message_at = |line| {
            c.problems
                .iter()
                .find(|p| p.line == line)
                .unwrap()
                .message
                .clone()
        };
        assert!(message_at(1)
            .starts_with("dir_backup_local \"relative/store\" must be an absolute path"));
        assert!(
            message_at(4).contains("did you mean Europe/Amsterdam?"),
            "{}",
            message_at(4)
        );
        assert!(message_at(6).starts_with("retention.daily must be a whole number"));
        assert!(message_at(7).contains("negative"));
        assert!(message_at(9).contains("out of range"));
        assert!(message_at(10).contains("tls, starttls, none"));
        assert!(message_at(15)
            .starts_with("tasks[1].name \"Photos\" is used twice (first by tasks[0] on line 12)"));
        assert!(message_at(16).starts_with("tasks[1].dir_source must be a single value"));
        assert!(message_at(17).starts_with("tasks[2].name \"a/b\" is not a valid task name"));
        assert!(message_at(18).starts_with("tasks[2].dir_source is not valid"));
        let warnings: Vec<_> = c.warnings().map(|w| (w.line, w.column)).collect();
        assert_eq!(warnings, [(14, 5)]);
    }

    #[test]
    fn overlapping_paths_are_errors_at_their_line_with_the_fix() {
        let e = only_error(
            "dir_backup_local: /mnt/nas\nemail: {enabled: false}\ntasks:\n  - name: Photos\n    dir_source: /mnt/nas/Photos\n",
        );
        assert_eq!((e.line, e.column), (5, 17), "{e}");
        assert!(e.message.contains("inside the snapshot store"), "{e}");
        let e = only_error(
            "dir_backup_local: /mnt/nas\ndir_backup_remote: /mnt/nas/mirror\nemail: {enabled: false}\ntasks: [{name: A, dir_source: /srv}]\n",
        );
        assert_eq!(e.line, 2, "{e}");
        let e = only_error(
            "dir_backup_local: /srv/backup\nemail: {enabled: false}\ntasks:\n  - name: A\n    dir_source: /srv\n",
        );
        assert_eq!(e.line, 5, "{e}");
        assert!(e.message.contains(r#"add `excludes: ["/backup/"]`"#), "{e}");
        let e = only_error(
            "dir_backup_local: /mnt/nas\nemail: {enabled: false}\ntasks:\n  - {name: Photos, dir_source: /srv/a}\n  - {name: photos, dir_source: /srv/b}\n",
        );
        assert_eq!(e.line, 5, "{e}");
    }

    #[test]
    fn display_names_the_position_and_severity() {
        let c = check_str(&with_tasks(
            "  - name: P\n    dir_source: /srv\n    excludess: []\n",
        ));
        let w = c.warnings().next().unwrap();
        assert_eq!(w.to_string(), "line 7, column 5: warning: tasks[0].excludess is not a known key and is ignored; did you mean excludes?");
        assert!(c.is_ok() && c.config.is_some());

        let e = only_error(&with_tasks(
            "  - name: P\n    dir_source: /srv\n  - name: P\n    dir_source: /srv\n",
        ));
        assert!(e.to_string().starts_with("line 7, column 11: tasks[1].name \"P\" is used twice (first by tasks[0] on line 5)"), "{e}");
    }

    #[test]
    fn unknown_keys_are_warnings_with_a_suggestion() {
        let text = format!("{BASE}dir_backup_locl: /x\nfrobnicate: 1\nschedule:\n  crn: \"0 3 * * *\"\ntasks:\n  - name: A\n    dir_source: /srv\n");
        let c = check_str(&text);
        assert!(c.is_ok(), "{:#?}", c.problems);
        let messages: Vec<_> = c.warnings().map(|w| w.message.as_str()).collect();
        assert!(
            messages[0].contains("dir_backup_locl is not a known key")
                && messages[0].ends_with("did you mean dir_backup_local?")
        );
        assert!(
            messages[1].starts_with("frobnicate is not a known key")
                && messages[1].contains("the known keys here are")
        );
        assert!(
            messages[2].ends_with("did you mean cron?"),
            "{}",
            messages[2]
        );
    }

    #[test]
    fn the_engine_defaults_by_the_kind_of_source() {
        use crate::model::config::default_engine_for_local;
        let c = check_str(&with_tasks(
            "  - name: L\n    dir_source: /srv\n  - name: R\n    dir_source: bob@nas:/home/bob\n\
             \x20 - name: S\n    dir_source: \"ssh://bob@nas:2222/v\"\n    engine: ~\n",
        ));
        assert!(
            c.is_ok() && c.warnings().next().is_none(),
            "{:#?}",
            c.problems
        );
        let cfg = c.config.unwrap();
        let engines: Vec<_> = cfg
            .tasks
            .iter()
            .map(|t| (t.engine, t.effective_engine()))
            .collect();
        assert_eq!(
            engines,
            [
                (None, default_engine_for_local()),
                (None, TransferEngine::Rsync),
                (None, TransferEngine::Rsync)
            ]
        );
        // Left out, it stays out when a task is written back.
        let yaml = serde_yaml::to_string(&cfg.tasks[0]).unwrap();
        assert!(!yaml.contains("engine"), "{yaml}");
    }

    #[test]
    fn an_explicit_engine_is_used() {
        for (written, engine) in [
            ("rsync", TransferEngine::Rsync),
            ("\"rsync\"", TransferEngine::Rsync),
            ("native", TransferEngine::Native),
        ] {
            let c = check_str(&with_tasks(&format!(
                "  - name: L\n    dir_source: /srv\n    engine: {written}\n"
            )));
            assert!(
                c.is_ok() && c.warnings().next().is_none(),
                "{written}: {:#?}",
                c.problems
            );
            let task = &c.config.unwrap().tasks[0];
            assert_eq!(
                (task.engine, task.effective_engine()),
                (Some(engine), engine)
            );
            let yaml = serde_yaml::to_string(task).unwrap();
            assert!(yaml.contains(&format!("engine: {engine}")), "{yaml}");
        }
        // rsync on an SSH source is what it would be anyway, and fine.
        let c = check_str(&with_tasks(
            "  - name: R\n    dir_source: bob@nas:/v\n    engine: rsync\n",
        ));
        assert!(c.is_ok(), "{:#?}", c.problems);
    }

    #[test]
    fn native_on_an_ssh_source_and_unknown_engines_are_errors_on_their_line() {
        let e = only_error(&with_tasks(
            "  - name: R\n    dir_source: bob@nas:/home/bob\n    engine: native\n",
        ));
        assert_eq!(
            e.to_string(),
            "line 7, column 13: tasks[0].engine is native, but tasks[0].dir_source \"bob@nas:/home/bob\" \
             (line 6) is an SSH source: native snapshots only local folders; use engine: rsync or remove the key"
        );
        let e = only_error(&with_tasks(
            "  - name: A\n    dir_source: /srv\n  - {name: R, engine: native, dir_source: \"ssh://bob@nas:2222/v\"}\n",
        ));
        assert_eq!((e.line, e.column), (7, 23), "{e}");
        assert!(e.message.starts_with("tasks[1].engine is native, but tasks[1].dir_source \"ssh://bob@nas:2222/v\" (line 7)"), "{e}");

        for (written, expected) in [
            (
                "fast",
                "tasks[0].engine \"fast\" is not one of rsync, native; write one of them",
            ),
            (
                "Native",
                "is not one of rsync, native; write one of them (in lowercase)",
            ),
            ("[rsync]", "tasks[0].engine must be a single value"),
        ] {
            let e = only_error(&with_tasks(&format!(
                "  - name: L\n    dir_source: /srv\n    engine: {written}\n"
            )));
            assert!(
                e.line == 7 && e.message.contains(expected),
                "{written}: {e}"
            );
        }
        // A typo in the key is a warning that names the key.
        let c = check_str(&with_tasks(
            "  - name: L\n    dir_source: /srv\n    engin: native\n",
        ));
        let w = c.warnings().next().unwrap();
        assert!(
            w.line == 7 && w.message.ends_with("did you mean engine?"),
            "{w}"
        );
    }

    #[test]
    fn hostile_and_odd_task_names() {
        for bad in [
            "..",
            ".",
            "a/b",
            "/",
            "-x",
            "\"\"",
            ".hidden",
            "\"x\\ny\"",
            "\"tab\\there\"",
            "\"nul\\0\"",
            "\"del\\x7f\"",
            "\"rtl\\u202Eexe.gpj\"",
            "\"zero\\u200Bwidth\"",
            "\" lead\"",
            "\"trail \"",
            &"n".repeat(256),
            &"ü".repeat(128),
        ] {
            let e = only_error(&with_tasks(&format!(
                "  - name: {bad}\n    dir_source: /srv\n"
            )));
            assert!(
                e.message.starts_with("tasks[0].name")
                    && e.message.contains("not a valid task name"),
                "{bad}: {e}"
            );
            assert_eq!(e.line, 5, "{bad}");
        }
        for (good, name) in [
            ("2024", "2024"),
            ("true", "true"),
            ("Photos_2024-v1.0", "Photos_2024-v1.0"),
            ("!!str 12", "12"),
            ("My Photos", "My Photos"),
            ("a b", "a b"),
            ("ü", "ü"),
            ("Fotos für Oma 写真", "Fotos für Oma 写真"),
            ("'a\\b'", "a\\b"),
            ("\"it's (2024) [old] *?&$;\"", "it's (2024) [old] *?&$;"),
            ("a..b", "a..b"),
            ("x.", "x."),
        ] {
            let c = check_str(&with_tasks(&format!(
                "  - name: {good}\n    dir_source: /srv\n"
            )));
            assert!(c.is_ok(), "{good}: {:#?}", c.problems);
            assert_eq!(c.config.unwrap().tasks[0].name, name);
        }
        assert!(check_task_name(&"n".repeat(255)).is_ok());
        assert!(check_task_name(&format!("{}n", "ü".repeat(127))).is_ok());
    }

    #[test]
    fn yaml_tags_are_rejected() {
        for (tagged, line) in [
            (
                "  - name: !!python/object/apply:os.system [\"rm -rf /\"]\n    dir_source: /srv\n",
                5,
            ),
            ("  - name: x\n    dir_source: !foo /\n", 6),
            ("  - !!python/object:Task {name: x, dir_source: /srv}\n", 5),
            (
                "  - name: x\n    dir_source: !<tag:example.com,2000:x> /\n",
                6,
            ),
        ] {
            let c = check_str(&with_tasks(tagged));
            let tag_errors: Vec<_> = c
                .errors()
                .filter(|p| p.message.starts_with("YAML tags are not allowed"))
                .collect();
            assert_eq!(tag_errors.len(), 1, "{tagged}: {:#?}", c.problems);
            assert_eq!(tag_errors[0].line, line);
            assert!(c.config.is_none());
        }
        let e = only_error(&format!(
            "{BASE}email_admin: !!binary a@b.c\ntasks: [{{name: a, dir_source: /srv}}]\n"
        ));
        assert!(
            e.message.contains("remove \"!!binary\"") && e.line == 4,
            "{e}"
        );
        // The core tags build nothing and are fine, the typed parse included.
        let c = check_str(&format!("!!map\n{BASE}history: {{keep_days: !!int 30}}\ntasks: !!seq [{{name: !!str 7, dir_source: /srv}}]\n"));
        assert!(c.is_ok(), "{:#?}", c.problems);
        assert_eq!(c.config.unwrap().history.keep_days, 30);
    }

    #[test]
    fn an_alias_bomb_is_an_error_not_a_hang() {
        let mut text = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        for (i, prev) in ('b'..='i').zip('a'..) {
            let row = vec![format!("*{prev}"); 9].join(",");
            text.push_str(&format!("{i}: &{i} [{row}]\n"));
        }
        let started = std::time::Instant::now();
        let e = only_error(&text);
        assert!(e.message.contains("billion laughs"), "{e}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn small_aliases_are_resolved() {
        let text = format!("{BASE}tasks:\n  - name: A\n    dir_source: &src /srv\n    excludes: &ex [\"*.tmp\"]\n  - name: B\n    dir_source: *src\n    excludes: *ex\n");
        let c = check_str(&text);
        assert!(c.is_ok(), "{:#?}", c.problems);
        assert_eq!(c.config.unwrap().tasks[1].excludes, ["*.tmp"]);
    }

    #[test]
    fn missing_paths_are_warnings_not_errors() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("there")).unwrap();
        let there = dir.path().join("there");
        let there = there.to_str().unwrap();
        let gone = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
        let (store, mirror, file, source) =
            (gone("store"), gone("mirror"), gone("pw"), gone("src"));
        let text = format!(
            "dir_backup_local: {store}\ndir_backup_remote: {mirror}\nemail: {{enabled: false}}\n\
             smtp: {{password_file: {file}}}\ntasks:\n  - name: A\n    dir_source: {source}\n  - name: B\n    dir_source: {there}\n"
        );
        let c = check_str(&text);
        assert!(c.is_ok() && c.config.is_some(), "{:#?}", c.problems);
        let lines: Vec<_> = c.warnings().map(|w| w.line).collect();
        assert_eq!(lines, [1, 2, 4, 7]);
        assert!(c.warnings().all(|w| w.message.contains("does not exist")));
    }

    #[test]
    fn required_fields_are_named_when_missing() {
        let c = check_str("# nothing useful\ntimezone: UTC\n");
        let messages: Vec<_> = c
            .errors()
            .map(|p| (p.line, p.message.split(':').next().unwrap().to_string()))
            .collect();
        assert_eq!(
            messages,
            [
                (2, "dir_backup_local is missing".to_string()),
                (2, "email_sender is missing".into()),
                (2, "email_report is missing".into()),
                (2, "tasks is missing".into())
            ]
        );
        let c = check_str(&format!("{BASE}tasks:\n  - excludes: []\n  -\n"));
        let messages: Vec<_> = c
            .errors()
            .map(|p| p.message.split(':').next().unwrap().to_string())
            .collect();
        assert_eq!(
            messages,
            [
                "tasks[0].name is missing",
                "tasks[0].dir_source is missing",
                "tasks[1].name is missing",
                "tasks[1].dir_source is missing"
            ]
        );
        assert!(only_error(&format!("{BASE}tasks: []\n"))
            .message
            .starts_with("tasks is an empty list"));
        assert!(only_error(&format!("{BASE}tasks:\n"))
            .message
            .starts_with("tasks is empty"));
    }

    #[test]
    fn email_can_be_turned_off() {
        let c = check_str(
            "dir_backup_local: /var\nemail: {enabled: false}\ntasks: [{name: A, dir_source: /srv}]\n",
        );
        assert!(c.is_ok(), "{:#?}", c.problems);
        assert!(!c.config.unwrap().email.enabled);
        let e = only_error("dir_backup_local: /var\nemail: {enabled: false}\nemail_report: nobody\ntasks: [{name: A, dir_source: /srv}]\n");
        assert!(e
            .message
            .starts_with("email_report \"nobody\" does not look like an email address"));
    }

    #[test]
    fn empty_and_null_values_mean_none() {
        let text = format!(
            "{BASE}email_admin: \"\"\ndir_backup_remote:\ntimezone: ~\nschedule: ~\nretention: null\nsmtp:\nreport: ~\n\
             tasks:\n  - name: A\n    dir_source: /srv\n    excludes: ~\n    retention: ~\n  - name: B\n    dir_source: /srv\n    excludes:\n\
             \x20   retention: {{daily: ~, weekly: 2}}\n"
        );
        let c = check_str(&text);
        assert!(c.is_ok(), "{:#?}", c.problems);
        let cfg = c.config.unwrap();
        assert_eq!(cfg.email_admin.as_deref(), Some(""));
        assert_eq!(cfg.dir_backup_remote, None);
        assert_eq!(cfg.schedule.cron, "0 2 * * *");
        assert_eq!(cfg.retention.daily, 7);
        assert!(cfg.tasks[0].excludes.is_empty() && cfg.tasks[0].retention.is_none());
        assert_eq!(cfg.policy_for(&cfg.tasks[1]).weekly, 2);
        let c = check_str(&format!(
            "{BASE}email_admin: null\ntasks: [{{name: A, dir_source: /srv}}]\n"
        ));
        assert_eq!(c.config.unwrap().email_admin, None);
    }

    #[test]
    fn numbers_are_whole_non_negative_and_in_range() {
        let cases = [
            ("retention: {daily: many}", "retention.daily must be a whole number such as 7, but it is \"many\""),
            ("retention: {daily: -1}", "negative"),
            ("retention: {daily: 1.5}", "must be a whole number"),
            ("retention: {daily: 99999999999999999999999999}", "out of range"),
            ("retention: {daily: 4294967296}", "retention.daily 4294967296 is out of range: use a whole number from 0 to 4294967295"),
            ("retention: {daily: \"7\"}", "quoted text: remove the quotes"),
            ("retention: {daily: 07}", "leading zeros"),
            ("retention: {daily: }", "retention.daily is empty"),
            ("smtp: {port: 0}", "smtp.port 0 is out of range: use a whole number from 1 to 65535"),
            ("smtp: {port: 65536}", "out of range"),
            ("history: {keep_days: [1]}", "but it is a list"),
            ("report: {stale_after_days: yes}", "must be a whole number"),
        ];
        for (line, expected) in cases {
            let e = only_error(&format!(
                "{BASE}{line}\ntasks: [{{name: A, dir_source: /srv}}]\n"
            ));
            assert_eq!(
                (e.line, e.message.contains(expected)),
                (4, true),
                "{line}: {e}"
            );
        }
        let c = check_str(&format!("{BASE}retention: {{daily: 4294967295, keep_last: +3}}\nsmtp: {{port: 587, security: starttls}}\ntasks: [{{name: A, dir_source: /srv}}]\n"));
        let cfg = c.config.unwrap();
        assert_eq!(
            (cfg.retention.daily, cfg.retention.keep_last, cfg.smtp.port),
            (u32::MAX, 3, 587)
        );
        assert_eq!(cfg.smtp.security, SmtpSecurity::Starttls);
    }

    #[test]
    fn words_booleans_zones_cron_and_durations() {
        let cases = [
            ("smtp: {security: TLS}", "(in lowercase)"),
            (
                "report: {when: sometimes}",
                "report.when \"sometimes\" is not one of always, failures",
            ),
            (
                "schedule: {cron: \"0 2 * *\"}",
                "has 4 field(s) but needs 5",
            ),
            (
                "schedule: {cron: \"0 25 * * *\"}",
                "schedule.cron \"0 25 * * *\": hour 25 is out of range 0-23",
            ),
            (
                "schedule: {cron: \"0 0 30 2 *\"}",
                "never runs: February has no day 30",
            ),
            ("schedule: {cron: \"@sometimes\"}", "not a known shorthand"),
            ("schedule: {enabled: yes}", "write true or false"),
            ("schedule: {enabled: \"true\"}", "remove the quotes"),
            ("timezone: Mars/Olympus", "is not a known IANA time zone"),
            (
                "timezone: europe/amsterdam",
                "did you mean Europe/Amsterdam?",
            ),
            (
                "retention: {keep_within: 2x}",
                "retention.keep_within is not valid",
            ),
            ("retention: {keep_within: [2d]}", "must be a single value"),
            ("email_admin: admin", "does not look like an email address"),
            (
                "dir_backup_remote: relative/dir",
                "dir_backup_remote is not valid",
            ),
            ("dir_backup_remote: \"\"", "the path is empty"),
            ("smtp: {username: \"\"}", "smtp.username is empty"),
            ("smtp: [a]", "smtp must be a mapping"),
            ("<<: {a: 1}", "merge keys (<<) are not supported"),
        ];
        for (line, expected) in cases {
            let e = only_error(&format!(
                "{BASE}{line}\ntasks: [{{name: A, dir_source: /srv}}]\n"
            ));
            assert_eq!(
                (e.line, e.message.contains(expected)),
                (4, true),
                "{line}: {e}"
            );
        }
        let c = check_str(&format!(
            "{BASE}timezone: Europe/Amsterdam\nreport: {{when: failures}}\nretention: {{keep_within: 1y2m}}\n\
             schedule: {{cron: \"*/15 * * * 0\", enabled: false}}\ntasks: [{{name: A, dir_source: \"ssh://bob@nas:2222/v\"}}]\n"
        ));
        let cfg = c.config.unwrap();
        assert_eq!(cfg.report.when, ReportWhen::Failures);
        assert_eq!(
            resolve_timezone(&cfg).unwrap(),
            chrono_tz::Europe::Amsterdam
        );
    }

    #[test]
    fn yaml_level_problems_are_single_positioned_errors() {
        let e = only_error("dir_backup_local: /var\ntasks: [a, b\n");
        assert!(
            e.message.starts_with("YAML syntax error") && e.line == 3,
            "{e}"
        );
        let e = only_error("dir_backup_local: /var\nschedule:\n  cron: * * * * *\n");
        assert!(
            e.message.contains("must be quoted") && (e.line, e.column) == (3, 9),
            "{e}"
        );
        let e = only_error("a: 1\n---\nb: 2\n");
        assert!(
            e.message.contains("more than one YAML document") && e.line == 2,
            "{e}"
        );
        for empty in ["", "# just a comment\n", "---\n", "~\n"] {
            let e = only_error(empty);
            assert!(
                e.message.starts_with("the configuration is empty") && (e.line, e.column) == (1, 1),
                "{empty:?}"
            );
        }
        for other in ["- a\n- b\n", "just text\n", "\n\n42\n"] {
            let e = only_error(other);
            assert!(
                e.message.starts_with("the top level must be a mapping")
                    && (e.line, e.column) == (1, 1),
                "{other:?}"
            );
        }
        let e = only_error("dir_backup_local: /var\ntasks: x\x00y\n");
        assert!(
            e.message.contains("U+0000") && (e.line, e.column) == (2, 9),
            "{e}"
        );
        let e = only_error(&format!(
            "{BASE}email_report: x@y.z\ntasks: [{{name: A, dir_source: /srv}}]\n"
        ));
        assert!(
            e.message
                .starts_with("email_report is set twice (first on line 3)")
                && e.line == 4,
            "{e}"
        );
    }

    #[test]
    fn deep_nesting_is_refused_without_crashing() {
        for text in [
            "- ".repeat(20_000),
            format!("a: {}", "[".repeat(20_000)),
            format!("a: {}1{}", "[".repeat(100), "]".repeat(100)),
        ] {
            let c = check_str(&text);
            assert!(c.errors().count() >= 1 && c.config.is_none());
        }
    }

    #[test]
    fn windows_line_ends_and_a_byte_order_mark_are_fine() {
        let crlf = fixture("full.yml").replace('\n', "\r\n");
        let c = check_str(&crlf);
        assert!(c.is_ok(), "{:#?}", c.problems);
        assert_eq!(c.config.unwrap().tasks[1].name, "DesktopHome");

        let c = check_str(&format!(
            "\u{feff}{BASE}tasks: [{{name: A, dir_source: /srv}}]\n"
        ));
        assert!(
            c.is_ok() && c.warnings().next().is_none(),
            "{:#?}",
            c.problems
        );
    }

    #[test]
    fn load_reports_an_unreadable_file_with_its_fix() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("backup_config.yml");
        let e = load(&missing).unwrap_err().to_string();
        assert!(
            e.contains(&missing.display().to_string()) && e.contains("--config"),
            "{e}"
        );
        std::fs::write(
            &missing,
            format!("{BASE}tasks: [{{name: A, dir_source: /srv}}]\n"),
        )
        .unwrap();
        assert!(load(&missing).unwrap().is_ok());
    }

    #[test]
    fn the_server_zone_is_the_fallback() {
        let mut cfg = check_str(&format!("{BASE}tasks: [{{name: A, dir_source: /srv}}]\n"))
            .config
            .unwrap();
        assert!(resolve_timezone(&cfg).is_ok());
        cfg.timezone = Some("Nowhere/Atall".into());
        assert!(resolve_timezone(&cfg).is_err());
    }
}
