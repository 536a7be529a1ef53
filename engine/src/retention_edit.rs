//! The retention page's engine side: writing a policy into `backup_config.yml`, and previewing what a
//! policy *would* keep before anyone saves it (SPEC §2, §5, §9.1).
//!
//! # What problem does this solve?
//!
//! Retention is the one setting that deletes data. Changing `daily: 7` to `daily: 1` is a one-character
//! edit whose effect (six snapshots gone at the next run) is invisible in the file. So the web app
//! shows, for every task, which snapshots the edited policy would keep, why, and which it would prune,
//! *before* the owner saves it. Two things make that trustworthy:
//!
//! 1. **The preview is the run's own plan.** [`preview`] and [`compare`] list a task's snapshots with
//!    [`run::listing`] (the folders on disk, with partial/pinned/owned from the index) and decide with
//!    [`run::Listing::plan`], exactly the two calls the run's retention step and [`run::plan_task`] make.
//!    The only difference is the policy: the one being edited instead of the saved one. Nothing is
//!    re-implemented here, so the preview cannot drift from what a run does.
//! 2. **Saving changes only `retention:`.** [`set_retention`] edits the text of the file (never a
//!    YAML tree written back out, which would drop every comment), and [`edit::update`] then
//!    validates and writes it atomically. Saving deletes nothing: the policy is applied by the
//!    retention step of the next run.
//!
//! # Writing the policy: in place first, the whole block otherwise
//!
//! The commented template every new install starts from explains each number on its own line:
//!
//! ```text
//! retention:
//!   keep_last: 1                  # the newest N snapshots, always
//!   daily: 7
//!   weekly: 4                     # ISO weeks
//! ```
//!
//! Replacing that entry with a freshly rendered [`retention_block`] would lose those comments, so
//! [`set_retention`] first tries the gentler edit that `edit::set_schedule` makes for
//! `schedule:`: when the entry is a plain block (the `retention:` line, then `name: value` lines at one
//! indentation, comments and blank lines anywhere), only the *values* change, and fields the block does
//! not have yet are added after its last field, at the same indentation. The walk, step by step:
//!
//! 1. Find the one line that starts at column 0 with `retention:` and has nothing after the colon but
//!    spaces and maybe a comment. None, or more than one: go to the fallback.
//! 2. The entry's lines follow until the next line that has content at column 0 and is not a comment.
//! 3. Every such line that is not blank and not a comment must be `name: value` at the same number of
//!    spaces (no tabs), with a one-line value: a number, `null`, a quoted or plain word, or nothing.
//!    Anything else (a nested mapping, a flow value, an anchor, a value over two lines) goes to the
//!    fallback.
//! 4. Change each known field's value (the spacing before it and a comment after it stay); add the
//!    missing ones. `keep_within` is written only when set, or set to `null` where a line for it
//!    exists (the template has one).
//!
//! **Trust, but verify**, as `config::edit` does: the result is read back with `serde_yaml`; every
//! top-level key but `retention` must hold exactly what it held before, and `retention` must read as
//! the new policy. If not (or if any step above said no), the fallback runs:
//! [`edit::replace_block`] replaces the whole entry with [`retention_block`] (or appends it
//! when the file has none), with its own verification and its own clear errors (a key written twice,
//! a file that is not a `key: value` mapping). Comments outside the entry stay byte for byte either
//! way.
//!
//! # The preview
//!
//! [`compare`] plans a task twice from one listing: with the edited policy, and with the policy in
//! force today ([`Config::policy_for`] of the saved configuration). The page shows the first, and marks
//! the snapshots whose fate the edit changes: "pruned by this change" is the warning an owner needs
//! before lowering a number. A task's own `retention:` fields are merged over the *edited* global
//! policy by the caller, with the very function the engine uses ([`Config::policy_for`] on a copy of
//! the configuration whose `retention` is the edited one).
//!
//! The preview plans without `protect` (no run is in progress) and "now" plays no part in the
//! planner, so the plan shown is what the next run's retention step decides for these snapshots;
//! that run adds one snapshot of its own first, which becomes the newest.

use std::collections::BTreeMap;
use std::collections::HashMap;

use chrono_tz::Tz;

use crate::config::edit::{self, scalar_value, top_level, with_value, yaml_quote, EditError};
use crate::history::History;
use crate::model::config::{Config, RetentionPolicy, Task};
use crate::model::retention::Decision;
use crate::model::snapshot::SnapshotName;
use crate::run;
use crate::store::TaskStore;

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
/// (see the module docs). The result is not validated as a whole here: [`edit::update`] does
/// that before writing.
pub fn set_retention(text: &str, policy: &RetentionPolicy) -> Result<String, EditError> {
    if let Some(new) = edit_in_place(text, policy) {
        if verified(text, &new, policy) {
            return Ok(new);
        }
    }
    edit::replace_block(text, KEY, &retention_block(policy))
}

/// The retention page's edit: the global policy set with [`set_retention`].
pub struct RetentionEdit<'a>(pub &'a RetentionPolicy);

impl edit::Edit for RetentionEdit<'_> {
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

// ---------------------------------------------------------------------------------------------------
// The preview
// ---------------------------------------------------------------------------------------------------

/// One snapshot of a preview: the verdict under the edited policy, and whether the policy in force
/// today keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compared {
    pub decision: Decision,
    /// The saved configuration's policy for the task keeps this snapshot.
    pub kept_now: bool,
}

/// The task called `name`, or the engine's sentence naming the tasks there are.
fn task<'c>(config: &'c Config, name: &str) -> Result<&'c Task, String> {
    config
        .task(name)
        .ok_or_else(|| match config.select_tasks(&[name.to_string()]) {
            Err(e) => e.to_string(),
            Ok(_) => format!("no task is called {name:?}"),
        })
}

/// A task's snapshots as a run's retention step lists them.
async fn task_listing(
    config: &Config,
    history: &History,
    task: &Task,
) -> Result<run::Listing, String> {
    let store = TaskStore::new(&config.dir_backup_local, &task.name);
    run::listing(&store, history, &task.name).await
}

/// What `policy` would decide for each snapshot of `task` (newest first), changing nothing: the same
/// listing and planner as [`run::plan_task`], with the policy being edited instead of the saved one.
/// `policy` is the task's effective policy (its override already merged, see the module docs).
pub async fn preview(
    config: &Config,
    history: &History,
    tz: Tz,
    task: &str,
    policy: &RetentionPolicy,
) -> Result<Vec<Decision>, String> {
    let task = self::task(config, task)?;
    let listing = task_listing(config, history, task).await?;
    Ok(listing.plan(policy, tz, None))
}

/// Like [`preview`], and for each snapshot also whether the policy in force today
/// ([`Config::policy_for`] of `config`) keeps it, from the same listing.
pub async fn compare(
    config: &Config,
    history: &History,
    tz: Tz,
    task: &str,
    policy: &RetentionPolicy,
) -> Result<Vec<Compared>, String> {
    let task = self::task(config, task)?;
    let listing = task_listing(config, history, task).await?;
    let today: BTreeMap<SnapshotName, bool> = listing
        .plan(&config.policy_for(task), tz, None)
        .into_iter()
        .map(|d| {
            let keep = d.keep();
            (d.name, keep)
        })
        .collect();
    Ok(listing
        .plan(policy, tz, None)
        .into_iter()
        .map(|decision| Compared {
            kept_now: today.get(&decision.name).copied().unwrap_or(false),
            decision,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::check_str;
    use crate::config::edit::TEMPLATE;
    use crate::model::config::KeepWithin;
    use std::fs;

    fn policy(counts: [u32; 6], within: Option<&str>) -> RetentionPolicy {
        RetentionPolicy {
            keep_last: counts[0],
            hourly: counts[1],
            daily: counts[2],
            weekly: counts[3],
            monthly: counts[4],
            yearly: counts[5],
            keep_within: within.map(|w| w.parse::<KeepWithin>().expect("a test duration")),
        }
    }

    /// Checks `text` and returns its configuration; panics with every problem otherwise.
    fn valid(text: &str) -> Config {
        let c = check_str(text);
        assert!(c.is_ok(), "{text}\n{:#?}", c.problems);
        c.config.expect("a config")
    }

    /// A valid configuration (paths that exist everywhere) with comments around and inside
    /// `retention:`, and a task override that must not be touched.
    const BASE: &str = "\
# My backups
dir_backup_local: /var   # the store
email:
  enabled: false

# How long snapshots are kept
retention:
  # the newest, always
  keep_last: 1          # newest
  hourly: 0

  daily: 7              # a week
  weekly: 4
  monthly: 12
  yearly: 5
  keep_within: null     # off
# Tasks
tasks:
- name: Root
  dir_source: /srv
  retention: {daily: 14}   # this one longer
";

    #[test]
    fn the_block_lists_every_count_and_keep_within_only_when_set() {
        assert_eq!(
            retention_block(&RetentionPolicy::default()),
            "retention:\n  keep_last: 1\n  hourly: 0\n  daily: 7\n  weekly: 4\n  monthly: 12\n  yearly: 5\n"
        );
        let p = policy([2, 24, 10, 0, 6, 1], Some("1y2m"));
        let block = retention_block(&p);
        assert!(
            block.ends_with("  yearly: 1\n  keep_within: \"1y2m\"\n"),
            "{block}"
        );
        // It reads back as the same policy.
        let value: serde_yaml::Value = serde_yaml::from_str(&block).unwrap();
        let read: RetentionPolicy = serde_yaml::from_value(value["retention"].clone()).unwrap();
        assert_eq!(read, p);
    }

    #[test]
    fn values_change_in_place_and_every_comment_stays() {
        let p = policy([3, 0, 1, 0, 0, 2], Some("2d"));
        let new = set_retention(BASE, &p).unwrap();
        let expected = BASE
            .replace(
                "keep_last: 1          # newest",
                "keep_last: 3          # newest",
            )
            .replace(
                "daily: 7              # a week",
                "daily: 1              # a week",
            )
            .replace("  weekly: 4\n", "  weekly: 0\n")
            .replace("  monthly: 12\n", "  monthly: 0\n")
            .replace("  yearly: 5\n", "  yearly: 2\n")
            .replace(
                "keep_within: null     # off",
                "keep_within: \"2d\"     # off",
            );
        assert_eq!(new, expected);
        let cfg = valid(&new);
        assert_eq!(cfg.retention, p);
        // The task's own override is untouched, and still merges over the new policy.
        assert_eq!(cfg.policy_for(&cfg.tasks[0]).daily, 14);
        assert_eq!(cfg.policy_for(&cfg.tasks[0]).yearly, 2);

        // Unsetting keep_within writes null on its line.
        let off = set_retention(&new, &policy([3, 0, 1, 0, 0, 2], None)).unwrap();
        assert_eq!(off, expected.replace("\"2d\"", "null"));
        assert_eq!(valid(&off).retention.keep_within, None);
    }

    #[test]
    fn the_template_keeps_its_explanations() {
        let p = policy([1, 0, 1, 0, 0, 0], Some("36h"));
        let new = set_retention(TEMPLATE, &p).unwrap();
        let changed: Vec<_> = edit::line_diff(TEMPLATE, &new)
            .into_iter()
            .filter(|d| d.is_change())
            .collect();
        // daily, weekly, monthly, yearly and keep_within: each one line out, one line in.
        assert_eq!(changed.len(), 10, "{changed:#?}");
        let line_of = |text: &str, start: &str| -> String {
            text.lines()
                .find(|l| l.starts_with(start))
                .unwrap_or_default()
                .to_string()
        };
        // The comments at the end of the changed lines are still there.
        assert_eq!(
            line_of(&new, "  weekly:"),
            line_of(TEMPLATE, "  weekly:").replacen("weekly: 4", "weekly: 0", 1)
        );
        assert!(line_of(&new, "  weekly:").ends_with("# ISO weeks"));
        assert_eq!(
            line_of(&new, "  keep_within:"),
            line_of(TEMPLATE, "  keep_within:").replacen("null", "\"36h\"", 1)
        );
        let cfg = check_str(&new);
        assert!(cfg.is_ok(), "{:#?}", cfg.problems);
        assert_eq!(cfg.config.unwrap().retention, p);
    }

    #[test]
    fn missing_fields_are_added_after_the_last_one() {
        let text = "dir_backup_local: /var\nemail: {enabled: false}\nretention:\n  daily: 3   # short\ntasks: [{name: A, dir_source: /srv}]\n";
        let p = policy([1, 0, 5, 4, 12, 5], None);
        let new = set_retention(text, &p).unwrap();
        assert_eq!(
            new,
            "dir_backup_local: /var\nemail: {enabled: false}\nretention:\n  daily: 5   # short\n  keep_last: 1\n  hourly: 0\n  weekly: 4\n  monthly: 12\n  yearly: 5\ntasks: [{name: A, dir_source: /srv}]\n"
        );
        assert_eq!(valid(&new).retention, p);

        // The same at the end of a file without a final newline, with CRLF line endings.
        let text = "dir_backup_local: /var\r\nemail: {enabled: false}\r\ntasks: [{name: A, dir_source: /srv}]\r\nretention:\r\n    daily: 3";
        let new = set_retention(text, &p).unwrap();
        assert!(new.ends_with("retention:\r\n    daily: 5\r\n    keep_last: 1\r\n    hourly: 0\r\n    weekly: 4\r\n    monthly: 12\r\n    yearly: 5"), "{new:?}");
        assert!(
            !new.replace("\r\n", "").contains('\n'),
            "a bare \\n slipped in"
        );
        assert_eq!(valid(&new).retention, p);
    }

    #[test]
    fn other_shapes_are_replaced_as_a_whole_and_the_rest_stays_byte_for_byte() {
        let p = policy([1, 0, 2, 1, 0, 0], None);
        let block = retention_block(&p);
        for (shape, entry) in [
            ("flow", "retention: {daily: 3}   # inline\n"),
            ("null", "retention: ~\n"),
            (
                "nested",
                "retention:\n  daily: 3\n  extra:\n    deeper: 1\n",
            ),
            ("tabs", "retention:\n\tdaily: 3\n"),
            ("two lines", "retention:\n  daily: 3\n  weekly:\n    4\n"),
        ] {
            let head =
                "# top comment\ndir_backup_local: /var\nemail: {enabled: false}\n\n# Retention\n";
            let tail = "\n# Tasks\ntasks:\n  - name: A\n    dir_source: /srv\n";
            let text = format!("{head}{entry}{tail}");
            let Ok(new) = set_retention(&text, &p) else {
                // Tabs are not YAML indentation: nothing to compare with, but never a silent change.
                assert_eq!(shape, "tabs");
                continue;
            };
            assert_eq!(new, format!("{head}{block}{tail}"), "{shape}");
            assert_eq!(valid(&new).retention, p, "{shape}");
        }
    }

    #[test]
    fn an_absent_block_is_appended() {
        let text = "# mine\ndir_backup_local: /var   # here\nemail: {enabled: false}\ntasks:\n  - name: A\n    dir_source: /srv\n";
        let p = policy([1, 2, 3, 4, 5, 6], Some("1w"));
        let new = set_retention(text, &p).unwrap();
        assert_eq!(new, format!("{text}\n{}", retention_block(&p)));
        assert_eq!(valid(&new).retention, p);
    }

    #[test]
    fn the_original_configs_get_a_block_and_keep_every_line() {
        for name in ["minimal.yml", "full.yml"] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/original-configs")
                .join(name);
            let Ok(text) = fs::read_to_string(&path) else {
                panic!("cannot read the fixture {}", path.display())
            };
            let p = policy([1, 0, 14, 8, 6, 2], None);
            let new = set_retention(&text, &p).unwrap();
            assert!(new.starts_with(text.trim_end_matches('\n')), "{name}");
            let checked = check_str(&new);
            assert!(checked.is_ok(), "{name}: {:#?}", checked.problems);
            assert_eq!(checked.config.unwrap().retention, p, "{name}");
        }
    }

    #[test]
    fn what_cannot_be_edited_safely_is_refused() {
        let twice = "dir_backup_local: /var\nretention:\n  daily: 1\nretention:\n  daily: 2\n";
        let e = set_retention(twice, &RetentionPolicy::default()).unwrap_err();
        assert!(matches!(e, EditError::DuplicateKey { .. }), "{e}");
        let flow = "{dir_backup_local: /var, tasks: []}\n";
        let e = set_retention(flow, &RetentionPolicy::default()).unwrap_err();
        assert!(matches!(e, EditError::NotBlockMapping { .. }), "{e}");
    }

    #[test]
    fn lines_that_only_look_like_the_entry_are_left_alone() {
        // A comment that mentions `retention:` and a key that starts with it are not the entry.
        let text = "dir_backup_local: /var\n# retention: {daily: 1}\nretention_notes: keep\nemail: {enabled: false}\ntasks: [{name: A, dir_source: /srv}]\n";
        let p = RetentionPolicy::default();
        let new = set_retention(text, &p).unwrap();
        assert_eq!(new, format!("{text}\n{}", retention_block(&p)));
    }

    #[test]
    fn the_in_place_edit_reads_values_as_yaml_does() {
        for (line, value) in [
            ("  daily: 7", Some(9..10)),
            ("  daily:", Some(8..8)),
            ("  daily:   # none", Some(11..11)),
            ("  daily: \"7\"  # q", Some(9..12)),
            ("  daily: 'it''s'", Some(9..16)),
            ("  daily: 7#x", Some(9..12)),
            ("  daily: [7]", None),
            ("  daily: \"open", None),
        ] {
            let child = line.trim_start();
            let (_, after) = child_key(child).unwrap();
            let shift = line.len() - child.len();
            let got = scalar_value(child, after).map(|r| r.start + shift..r.end + shift);
            assert_eq!(got, value, "{line:?}");
        }
        assert_eq!(with_value("daily: # none", 6, 7..7, "3"), "daily: 3 # none");
        assert_eq!(with_value("daily:", 6, 6..6, "3"), "daily: 3");
        assert!(child_key("\"daily\": 3").is_none());
        assert!(child_key("- daily: 3").is_none());
        assert!(is_entry_line("retention:   # policy"));
        assert!(!is_entry_line("retention: {daily: 1}"));
        assert!(!is_entry_line("retention_x: 1"));
    }

    // --- the preview ---------------------------------------------------------------------------------

    #[tokio::test]
    async fn the_preview_plans_the_folders_on_disk_with_the_edited_policy() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        let photos = store.join("Photos");
        let names = [
            "2026-11-03_140000",
            "2026-11-03_020000",
            "2026-11-02_020000",
            "2026-11-01_020000",
            "2026-10-15_020000",
        ];
        for n in names {
            fs::create_dir_all(photos.join(n)).unwrap();
        }
        // Not a snapshot: never a candidate.
        fs::create_dir_all(photos.join("notes")).unwrap();
        let history = History::open(&dir.path().join("db.sqlite")).await.unwrap();
        for n in names {
            let now = chrono::Utc::now();
            history.adopt_snapshot("Photos", n, now, now).await.unwrap();
        }
        history
            .set_pinned("Photos", "2026-10-15_020000", chrono::Utc::now(), true)
            .await
            .unwrap();
        let config = valid(&format!(
            "dir_backup_local: {}\nemail: {{enabled: false}}\ntimezone: UTC\ntasks:\n  - name: Photos\n    dir_source: /srv\n  - name: Empty\n    dir_source: /srv\n",
            store.display()
        ));
        let tz = chrono_tz::UTC;
        let edited = policy([1, 0, 1, 0, 0, 0], None);

        let decisions = preview(&config, &history, tz, "Photos", &edited)
            .await
            .unwrap();
        let shown: Vec<(String, Vec<String>)> = decisions
            .iter()
            .map(|d| {
                (
                    d.name.to_string(),
                    d.reasons.iter().map(|r| r.to_string()).collect(),
                )
            })
            .collect();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            shown,
            vec![
                (
                    names[0].to_string(),
                    s(&["last", "daily 2026-11-03", "newest"])
                ),
                (names[1].to_string(), s(&[])),
                (names[2].to_string(), s(&[])),
                (names[3].to_string(), s(&[])),
                (names[4].to_string(), s(&["pinned"])),
            ]
        );
        // It is the run's own plan when the policy is the saved one.
        let saved = config.policy_for(&config.tasks[0]);
        assert_eq!(
            preview(&config, &history, tz, "Photos", &saved)
                .await
                .unwrap(),
            run::plan_task(&config, &history, tz, &config.tasks[0])
                .await
                .unwrap()
        );

        // Compared with today's (default) policy, which keeps every one of these but the second.
        let compared = compare(&config, &history, tz, "Photos", &edited)
            .await
            .unwrap();
        let kept_now: Vec<bool> = compared.iter().map(|c| c.kept_now).collect();
        assert_eq!(kept_now, [true, false, true, true, true]);
        assert_eq!(compared[2].decision, decisions[2]);

        // A task without a folder yet has nothing to plan; an unknown task is named.
        assert!(preview(&config, &history, tz, "Empty", &edited)
            .await
            .unwrap()
            .is_empty());
        let e = preview(&config, &history, tz, "Nope", &edited)
            .await
            .unwrap_err();
        assert!(e.contains("Photos, Empty"), "{e}");
        // Nothing was deleted.
        assert_eq!(fs::read_dir(&photos).unwrap().count(), names.len() + 1);
    }
}
