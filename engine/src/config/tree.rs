//! Pass 1 of [`super::check_str`]: text → a tree of `Node`s, each remembering its line and column.
//!
//! yaml-rust2's event parser reports each YAML event with its [`Marker`]; a [`MarkedEventReceiver`]
//! builds the tree. This pass refuses what is dangerous whatever the schema says: tags other than the
//! core ones, more than one document, nesting deeper than [`super::MAX_DEPTH`], and more than
//! [`super::MAX_NODES`] nodes once aliases are expanded (an alias bomb is an error, not a hang). A
//! syntax error ends the pass with one problem at its position. Events are pulled one by one rather
//! than through `Parser::load`, whose recursion could overflow the stack on hostile nesting.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, ScanError, TScalarStyle};

use super::{Problem, Severity, CORE_TAGS, CORE_TAG_PREFIX, MAX_DEPTH, MAX_NODES, NULL_WORDS};

/// A position in the text: 1-based line and column, and the 0-based character index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Pos {
    pub(super) line: usize,
    pub(super) column: usize,
    pub(super) index: usize,
}

impl Pos {
    pub(super) const START: Pos = Pos {
        line: 1,
        column: 1,
        index: 0,
    };

    pub(super) fn at(mark: &Marker) -> Pos {
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
pub(super) struct Node {
    pub(super) pos: Pos,
    /// This node and everything under it; what an alias to it costs.
    pub(super) size: usize,
    pub(super) kind: Kind,
}

#[derive(Clone, Debug)]
pub(super) enum Kind {
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
    pub(super) fn is_null(&self) -> bool {
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
    pub(super) fn describe(&self) -> String {
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
pub(super) struct TreeBuilder {
    /// Lists and mappings started but not yet ended, innermost last. A mapping's items alternate key
    /// and value.
    pub(super) open: Vec<Open>,
    /// Finished nodes that carry an anchor (`&name`), by yaml-rust2's anchor id.
    pub(super) anchors: HashMap<usize, Node>,
    pub(super) root: Option<Node>,
    pub(super) documents: usize,
    /// Nodes made so far, copies made by aliases and kept for anchors included.
    pub(super) nodes: usize,
    pub(super) problems: Vec<Problem>,
    /// Set after a problem that makes the rest of the text meaningless (syntax error, alias bomb...).
    pub(super) stopped: bool,
}

pub(super) struct Open {
    pub(super) pos: Pos,
    pub(super) anchor: usize,
    pub(super) is_map: bool,
    pub(super) items: Vec<Node>,
}

/// Runs pass 1 over `text`.
pub(super) fn parse(text: &str) -> TreeBuilder {
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
    pub(super) fn fatal(&mut self, pos: Pos, message: String) {
        self.problems.push(Problem {
            line: pos.line,
            column: pos.column,
            severity: Severity::Error,
            message,
        });
        self.stopped = true;
    }

    pub(super) fn syntax_error(&mut self, e: &ScanError) {
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
    pub(super) fn spend(&mut self, n: usize, pos: Pos) -> bool {
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
    pub(super) fn core_tag(&mut self, tag: Option<Tag>, pos: Pos) -> Option<&'static str> {
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

    pub(super) fn start(&mut self, pos: Pos, anchor: usize, tag: Option<Tag>, is_map: bool) {
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

    pub(super) fn end(&mut self) {
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

    pub(super) fn alias(&mut self, id: usize, pos: Pos) {
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
    pub(super) fn finish(&mut self, node: Node, anchor: usize) {
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

    pub(super) fn add(&mut self, node: Node) {
        match self.open.last_mut() {
            Some(parent) => parent.items.push(node),
            None => self.root = Some(node),
        }
    }
}

/// The first character YAML does not allow in a document (NUL, other C0/C1 controls, DEL), as a
/// problem. yaml-rust2 silently stops reading at a NUL, so this must come first.
pub(super) fn control_character(text: &str) -> Option<Problem> {
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

/// A value quoted for a message, shortened when long.
pub(super) fn shown(text: &str) -> String {
    if text.chars().count() > 60 {
        let head: String = text.chars().take(57).collect();
        format!("{:?}", head + "...")
    } else {
        format!("{text:?}")
    }
}
