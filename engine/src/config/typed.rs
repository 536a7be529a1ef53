//! Pass 3 of [`super::check_str`]: only when the schema check found no error, `serde_yaml` reads the
//! text into the typed [`Config`]. By then it can hardly fail; if it does, its message and position
//! become one more problem.

use super::tree::{Kind, Node, Pos};
use super::{Problem, Severity, NULL_WORDS};
use crate::model::config::Config;

/// Reads the (already checked) text into a [`Config`] with serde_yaml.
pub(super) fn typed(text: &str, root: &Node) -> Result<Config, Problem> {
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
pub(super) fn overlap_pos(root: &Node, field: crate::overlap::Field) -> Pos {
    use crate::overlap::Field;
    pub(super) fn value<'a>(map: &'a Node, key: &str) -> Option<&'a Node> {
        match &map.kind {
            Kind::Map(entries) => entries.iter().find_map(|(k, v)| match &k.kind {
                Kind::Scalar { text, .. } if text == key => Some(v),
                _ => None,
            }),
            _ => None,
        }
    }
    pub(super) fn task(root: &Node, i: usize) -> Option<&Node> {
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
pub(super) fn blank_spelled_nulls(text: &str, root: &Node) -> String {
    pub(super) fn collect(node: &Node, spots: &mut Vec<(usize, &'static str)>) {
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
