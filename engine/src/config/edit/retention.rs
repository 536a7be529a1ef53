//! The retention page's block: the global policy written into `retention:` of `backup_config.yml`
//! (SPEC §2, §5). Saving deletes nothing: the next run's retention step applies the policy.
//!
//! [`set_retention`] first tries the gentle edit: when the entry is a plain block of `name: value`
//! lines, only the values change (the comments of the template stay) and missing fields are added
//! after the last one. Anything else falls back to [`replace_block`] with a freshly rendered
//! [`retention_block`]. Either way the result is verified as every edit is (`super::lines`): the
//! other top-level keys unchanged, `retention` exactly the new policy.
//!
//! The walk, step by step: README, "How the web app changes the configuration".

use std::collections::HashMap;

use super::{replace_block, scalar_value, top_level, with_value, yaml_quote, Edit, EditError};
use crate::model::config::RetentionPolicy;

/// The top-level key this module edits.
const KEY: &str = "retention";

/// The policy's fields in the order the block lists them, the same order as SPEC §2.
const FIELDS: [&str; 7] = crate::config::RETENTION_KEYS;

// ---------------------------------------------------------------------------------------------------
// Writing the policy
// ---------------------------------------------------------------------------------------------------

/// Each field's YAML value text: the counts as numbers, `keep_within` quoted (`"2d"`) or `null`.
fn values(policy: &RetentionPolicy) -> [(&'static str, String); 7] {
    let within = policy
        .keep_within
        .as_ref()
        .map_or_else(|| "null".to_string(), |w| yaml_quote(w.as_str()));
    [
        (FIELDS[0], policy.keep_last.to_string()),
        (FIELDS[1], policy.hourly.to_string()),
        (FIELDS[2], policy.daily.to_string()),
        (FIELDS[3], policy.weekly.to_string()),
        (FIELDS[4], policy.monthly.to_string()),
        (FIELDS[5], policy.yearly.to_string()),
        (FIELDS[6], within),
    ]
}

/// The top-level `retention:` entry for `policy`: every count, and `keep_within` (as its text, e.g.
/// `"2d"`) only when it is set. Ends with a newline.
///
/// ```text
/// retention:
///   keep_last: 1
///   hourly: 0
///   daily: 7
///   weekly: 4
///   monthly: 12
///   yearly: 5
///   keep_within: "2d"
/// ```
pub fn retention_block(policy: &RetentionPolicy) -> String {
    let mut out = format!("{KEY}:\n");
    for (name, value) in values(policy) {
        if name == "keep_within" && policy.keep_within.is_none() {
            continue;
        }
        out.push_str("  ");
        out.push_str(name);
        out.push_str(": ");
        out.push_str(&value);
        out.push('\n');
    }
    out
}

/// Sets the file's global retention policy to `policy`; every byte outside the `retention:` entry
/// stays as it was. Values are changed in place when the entry is a plain block (comments on its lines
/// stay), otherwise the entry is replaced with [`retention_block`], or appended when there is none
/// (see the module docs). The result is not validated as a whole here: [`super::update`] does
/// that before writing.
pub fn set_retention(text: &str, policy: &RetentionPolicy) -> Result<String, EditError> {
    if let Some(new) = edit_in_place(text, policy) {
        if verified(text, &new, policy) {
            return Ok(new);
        }
    }
    replace_block(text, KEY, &retention_block(policy))
}

/// The retention page's edit: the global policy set with [`set_retention`].
pub struct RetentionEdit<'a>(pub &'a RetentionPolicy);

impl Edit for RetentionEdit<'_> {
    fn apply(&self, current: Option<&str>) -> Result<String, EditError> {
        set_retention(current.ok_or(EditError::NoFile)?, self.0)
    }
}

/// One line of the text: its content (without the line ending) and its ending (`""` on a last line
/// without one).
struct Line<'t> {
    content: &'t str,
    ending: &'t str,
}

fn lines(text: &str) -> Vec<Line<'_>> {
    text.split_inclusive('\n')
        .map(|raw| {
            let without_lf = raw.strip_suffix('\n').unwrap_or(raw);
            let content = without_lf.strip_suffix('\r').unwrap_or(without_lf);
            Line {
                content,
                ending: &raw[content.len()..],
            }
        })
        .collect()
}

/// The value-only edit of the module docs, steps 1–4; `None` whenever the entry is not a plain block.
fn edit_in_place(text: &str, policy: &RetentionPolicy) -> Option<String> {
    let lines = lines(text);
    // Step 1: exactly one `retention:` line with nothing but a comment after the colon.
    let starts: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| is_entry_line(l.content))
        .map(|(k, _)| k)
        .collect();
    let [start] = starts.as_slice() else {
        return None;
    };
    let start = *start;

    // Step 2: the entry runs until the next content at column 0 that is not a comment.
    let end = lines[start + 1..]
        .iter()
        .position(|l| {
            let c = l.content;
            !c.is_empty() && !c.starts_with([' ', '\t']) && !c.starts_with('#')
        })
        .map_or(lines.len(), |p| start + 1 + p);

    // Step 3: `name: value` lines at one indentation.
    let wanted = values(policy);
    let mut indent: Option<usize> = None;
    let mut changed: HashMap<usize, String> = HashMap::new();
    let mut seen = [false; FIELDS.len()];
    let mut last_field = None;
    for (k, line) in lines.iter().enumerate().take(end).skip(start + 1) {
        let content = line.content;
        let trimmed = content.trim_start_matches([' ', '\t']);
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let spaces = content.len() - content.trim_start_matches(' ').len();
        if spaces == 0 || content[spaces..].starts_with('\t') {
            return None;
        }
        if *indent.get_or_insert(spaces) != spaces {
            return None;
        }
        let child = &content[spaces..];
        let (name, after_colon) = child_key(child)?;
        let value = scalar_value(child, after_colon)?;
        last_field = Some(k);
        if let Some(f) = FIELDS.iter().position(|n| *n == name) {
            if seen[f] {
                return None;
            }
            seen[f] = true;
            let new = with_value(child, after_colon, value, &wanted[f].1);
            changed.insert(k, format!("{}{new}", &content[..spaces]));
        }
    }
    let (last_field, indent) = (last_field?, indent?);

    // Step 4: the fields the block does not have yet, after its last field. An unset keep_within
    // needs no line.
    let eol = match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    };
    let missing: Vec<String> = wanted
        .iter()
        .zip(seen)
        .filter(|((name, _), seen)| {
            let needed = *name != "keep_within" || policy.keep_within.is_some();
            needed && !*seen
        })
        .map(|((name, value), _)| format!("{}{name}: {value}", " ".repeat(indent)))
        .collect();

    let mut out = String::with_capacity(text.len() + 32 * missing.len());
    for (k, line) in lines.iter().enumerate() {
        out.push_str(changed.get(&k).map_or(line.content, String::as_str));
        if k == last_field && !missing.is_empty() {
            // The inserted lines go between this line and its ending; a last line without an
            // ending stays without one.
            for m in &missing {
                out.push_str(eol);
                out.push_str(m);
            }
        }
        out.push_str(line.ending);
    }
    Some(out)
}

/// `retention:` at column 0 with nothing after the colon but spaces and maybe a comment.
fn is_entry_line(content: &str) -> bool {
    let Some(rest) = content.strip_prefix("retention:") else {
        return false;
    };
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return false; // `retention:#x` or `retention:x` is a plain word, not a key
    }
    let rest = rest.trim_start_matches([' ', '\t']);
    rest.is_empty() || rest.starts_with('#')
}

/// The plain key of a `name: value` line (a word of letters, digits, `_` and `-`) and the byte index
/// just after its colon; `None` for any other shape (a quoted key, `- item`, `? key`).
fn child_key(child: &str) -> Option<(&str, usize)> {
    let colon = child.find(':')?;
    let name = &child[..colon];
    let after = &child[colon + 1..];
    let word = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    (word && (after.is_empty() || after.starts_with([' ', '\t']))).then_some((name, colon + 1))
}

/// The in-place edit changed nothing but `retention`, and `retention` now reads as `policy`.
fn verified(old: &str, new: &str, policy: &RetentionPolicy) -> bool {
    let (Some(mut before), Some(mut after)) = (top_level(old), top_level(new)) else {
        return false;
    };
    before.shift_remove(KEY);
    let Some(value) = after.shift_remove(KEY) else {
        return false;
    };
    before == after
        && serde_yaml::from_value::<RetentionPolicy>(value).is_ok_and(|read| read == *policy)
}

#[cfg(test)]
#[path = "retention_tests.rs"]
pub(crate) mod tests;
