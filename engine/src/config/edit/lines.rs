//! Editing the configuration text: finding a top-level entry and changing it ([`replace_block`]), or
//! only the value on one line ([`set_schedule`], [`set_top_level_scalar`]), in place.
//!
//! Invariants: every byte outside the edited entry stays (comments, line endings, a byte-order
//! mark); the column-0 comments before the next key belong to that key; a key that is missing is
//! appended after a blank line. Every edit is verified: the old and new texts are read with
//! `serde_yaml`, and every top-level key but the edited one must be unchanged and that one must
//! hold exactly the new value, or the edit fails with [`EditError::Unverified`] and nothing
//! changes. What cannot be done safely (a top level that is not a block mapping, a key written
//! twice) is an [`EditError`] that sends the owner to the configuration editor.
//!
//! The walk, with a picture, and the limits: README, "How the web app changes the configuration".

use std::collections::HashMap;
use std::ops::Range;

use serde_yaml::{Mapping, Value};

use super::EditError;

// ---------------------------------------------------------------------------------------------------
// Reading the text as lines
// ---------------------------------------------------------------------------------------------------

/// What one line is, as far as finding top-level entries goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum LineKind {
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
pub(super) struct Line<'t> {
    pub(super) range: Range<usize>,
    pub(super) content: &'t str,
    pub(super) kind: LineKind,
}

impl Line<'_> {
    /// The line ending (`"\n"`, `"\r\n"`, or `""` on a last line without one).
    pub(super) fn ending<'t>(&self, text: &'t str) -> &'t str {
        &text[self.range.start + self.content.len()..self.range.end]
    }
}

/// The text cut into classified lines.
pub(super) struct Doc<'t> {
    pub(super) text: &'t str,
    /// Where the content starts: after a byte-order mark, if any.
    pub(super) body_start: usize,
    pub(super) lines: Vec<Line<'t>>,
    /// The line ending new lines get: the file's first one, `"\n"` for a file without any.
    pub(super) eol: &'static str,
}

impl<'t> Doc<'t> {
    /// Cuts the text into lines and makes sure its top level is a block mapping.
    pub(super) fn read(text: &'t str) -> Result<Doc<'t>, EditError> {
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
    pub(super) fn find(&self, key: &str) -> Result<Option<Range<usize>>, EditError> {
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
    pub(super) fn splice(&self, lines: Range<usize>, replacement: &str) -> String {
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
    pub(super) fn append(&self, block: &str) -> String {
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
    pub(super) fn with_lines(&self, changed: &HashMap<usize, String>) -> String {
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

pub(super) fn classify(content: &str) -> LineKind {
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
pub(super) fn entry_key(content: &str) -> Option<(Option<String>, usize)> {
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
pub(super) fn colon_of_plain_key(content: &str) -> Option<(String, usize)> {
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
pub(super) fn quoted_key(content: &str, quote: char) -> Option<(Option<String>, usize)> {
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
pub(super) fn closing_quote(content: &str, start: usize, quote: char) -> Option<usize> {
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
pub(super) fn describe_start(content: &str) -> String {
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
pub(super) fn edit_fields(
    doc: &Doc<'_>,
    lines: Range<usize>,
    fields: &[(&str, String)],
) -> Option<String> {
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
pub(super) fn check_key(key: &str) -> Result<(), EditError> {
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
pub(super) fn verify(
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
