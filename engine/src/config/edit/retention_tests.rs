//! The tests of [`super`]: the policy written in place or as a block, every other byte kept.

use super::*;
use crate::config::check_str;
use crate::config::edit::TEMPLATE;
use crate::model::config::{Config, KeepWithin};
use std::fs;

/// A policy from its six counts and an optional `keep_within` (also used by `retention_preview`).
pub(crate) fn policy(counts: [u32; 6], within: Option<&str>) -> RetentionPolicy {
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
pub(crate) fn valid(text: &str) -> Config {
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
    let changed: Vec<_> = crate::config::edit::line_diff(TEMPLATE, &new)
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
