//! Checks of one value: a mapping's keys, text, numbers, booleans, choices, paths, addresses, and
//! the "did you mean" suggestion for a word that is nearly a known one.

use std::collections::HashMap;

use super::Checker;
use crate::config::tree::{shown, Kind, Node, Pos};

/// A mapping's known keys (first occurrence each) after [`Checker::mapping`] reported the rest.
pub(in crate::config) struct Fields<'a> {
    pub(in crate::config) pos: Pos,
    pub(in crate::config) entries: Vec<(&'a str, &'a Node)>,
}

impl<'a> Fields<'a> {
    pub(in crate::config) fn get(&self, key: &str) -> Option<&'a Node> {
        self.entries
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }

    /// The value, unless absent or null.
    pub(in crate::config) fn optional(&self, key: &str) -> Option<&'a Node> {
        self.get(key).filter(|n| !n.is_null())
    }
}

/// `path.key`, or `key` at the top level.
pub(in crate::config) fn at(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// How a path is named in a sentence.
pub(in crate::config) fn name(path: &str) -> &str {
    if path.is_empty() {
        "the top level"
    } else {
        path
    }
}

impl Checker {
    /// Checks that `node` is a mapping (null counts as an empty one), reports duplicate, odd and
    /// unknown keys, and returns the known ones.
    pub(in crate::config) fn mapping<'a>(
        &mut self,
        node: &'a Node,
        path: &str,
        known: &[&str],
    ) -> Option<Fields<'a>> {
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
    pub(in crate::config) fn required<'a>(
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
    pub(in crate::config) fn text<'a>(&mut self, node: &'a Node, path: &str) -> Option<&'a str> {
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
    pub(in crate::config) fn number(
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

    pub(in crate::config) fn boolean(&mut self, node: &Node, path: &str) -> Option<bool> {
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
    pub(in crate::config) fn choice<'a>(
        &mut self,
        node: &'a Node,
        path: &str,
        options: &[&str],
    ) -> Option<&'a str> {
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
    pub(in crate::config) fn path_exists(
        &mut self,
        path_text: &str,
        pos: Pos,
        field: &str,
        consequence: &str,
    ) {
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
}

/// A plausible `name@domain`: one `@`, something on both sides, no spaces or list punctuation.
pub(in crate::config) fn looks_like_email(text: &str) -> bool {
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

pub(in crate::config) fn unknown_zone_message(field: &str, name: &str) -> String {
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
pub(in crate::config) fn closest<'k>(
    word: &str,
    candidates: impl Iterator<Item = &'k str>,
) -> Option<&'k str> {
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
pub(in crate::config) fn edit_distance(a: &str, b: &str) -> usize {
    strsim::levenshtein(&a.to_ascii_lowercase(), &b.to_ascii_lowercase())
}
