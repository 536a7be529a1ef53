//! The tests of [`super`]: edits keep every other byte, the diff, and the one write path.

use super::diff::*;
use super::lines::*;
use super::save::*;
use super::schedule::*;
use super::*;
use crate::config::check_str;
use crate::model::diff::{DiffKind, DiffLine};
use serde_yaml::Value;
use std::fs;
use std::ops::Range;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::atomic::Staged;

/// The configuration editor's save of `text` over the file as it is now.
fn save(path: &Path, text: &str) -> Result<Saved, SaveError> {
    update(path, &version(path)?, &WholeText(text))
}
use std::time::{Duration, SystemTime};

/// A valid configuration (paths that exist everywhere), with comments around and inside the
/// `schedule:` block.
const BASE: &str = "\
# My backups
dir_backup_local: /var   # the store
email:
  enabled: false

# When to run
schedule:
  # nightly, after the NAS wakes up
  cron: \"0 3 * * *\"   # 03:00

  enabled: true
  # end of schedule

# Keep a week
retention:
  daily: 7
tasks:
- name: Root
  dir_source: /srv
";

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/original-configs")
        .join(name);
    fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read the fixture {} ({e})", path.display()))
}

/// `text` split as (before, the lines `lines`, after) by line numbers (0-based, end exclusive).
fn cut(text: &str, lines: Range<usize>) -> (String, String) {
    let all: Vec<&str> = text.split_inclusive('\n').collect();
    (all[..lines.start].concat(), all[lines.end..].concat())
}

fn assert_valid(text: &str) -> crate::model::config::Config {
    let c = check_str(text);
    assert!(c.is_ok(), "{text}\n{:#?}", c.problems);
    c.config.expect("a config")
}

// --- replace_block -----------------------------------------------------------------------------

#[test]
fn replace_block_keeps_comments_before_and_after_and_replaces_inside() {
    let block = "schedule:\n  cron: \"0 4 * * *\"\n  enabled: false\n";
    let new = replace_block(BASE, "schedule", block).unwrap();
    // Lines 6..12 (0-based) are the block: key line to the indented comment at its end.
    let (before, after) = cut(BASE, 6..12);
    assert!(before.ends_with("# When to run\n"), "{before}");
    assert!(after.starts_with("\n# Keep a week\nretention:"), "{after}");
    assert_eq!(new, format!("{before}{block}{after}"));
    let cfg = assert_valid(&new);
    assert_eq!(
        (cfg.schedule.cron.as_str(), cfg.schedule.enabled),
        ("0 4 * * *", false)
    );
}

#[test]
fn replace_block_handles_inline_values() {
    let block = "schedule:\n  cron: \"5 1 * * *\"\n";
    for inline in [
        "{cron: \"0 2 * * *\", enabled: true}",
        "~",
        "",
        "null   # none yet",
    ] {
        let text = format!("dir_backup_local: /var\nschedule: {inline}\nretention: {{daily: 3}}\n");
        let new = replace_block(&text, "schedule", block).unwrap();
        assert_eq!(
            new,
            format!("dir_backup_local: /var\n{block}retention: {{daily: 3}}\n"),
            "{inline}"
        );
    }
    // A flow value over several lines, its `}` at column 0.
    let text = "a: 1\nschedule: {cron: \"0 2 * * *\",\n  enabled: true\n}\nb: 2\n";
    assert_eq!(
        replace_block(text, "schedule", block).unwrap(),
        format!("a: 1\n{block}b: 2\n")
    );
}

#[test]
fn replace_block_appends_an_absent_key() {
    let block = "schedule:\n  cron: \"0 2 * * *\"\n";
    let cases = [
        ("a: 1\n", "a: 1\n\n"),
        ("a: 1", "a: 1\n\n"),
        ("a: 1\n\n", "a: 1\n\n"),
        ("a: 1\n# the end\n", "a: 1\n# the end\n\n"),
        ("", ""),
        ("# only a comment", "# only a comment\n\n"),
    ];
    for (text, head) in cases {
        assert_eq!(
            replace_block(text, "schedule", block).unwrap(),
            format!("{head}{block}"),
            "{text:?}"
        );
    }
    let crlf = replace_block("a: 1\r\n", "schedule", block).unwrap();
    assert_eq!(crlf, "a: 1\r\n\r\nschedule:\r\n  cron: \"0 2 * * *\"\r\n");
}

#[test]
fn replace_block_keeps_crlf_a_missing_final_newline_and_a_bom() {
    let crlf = BASE.replace('\n', "\r\n");
    let new = replace_block(&crlf, "schedule", "schedule:\n  cron: \"1 1 * * *\"\n").unwrap();
    assert_eq!(
        new,
        BASE.replace(
            &BASE[BASE.find("schedule:").unwrap()..BASE.find("\n# Keep").unwrap()],
            "schedule:\n  cron: \"1 1 * * *\"\n"
        )
        .replace('\n', "\r\n")
    );
    assert!(
        !new.replace("\r\n", "").contains('\n'),
        "a bare \\n slipped in"
    );

    // The block is the last thing in a file without a final newline: still none after the edit.
    let text = "a: 1\nschedule:\n  cron: \"0 2 * * *\"";
    assert_eq!(
        replace_block(text, "schedule", "schedule:\n  cron: \"9 9 * * *\"\n").unwrap(),
        "a: 1\nschedule:\n  cron: \"9 9 * * *\""
    );
    let text = "\u{feff}schedule: ~\nb: 2\n";
    assert_eq!(
        replace_block(text, "schedule", "schedule:\n  enabled: false\n").unwrap(),
        "\u{feff}schedule:\n  enabled: false\nb: 2\n"
    );
}

#[test]
fn the_next_keys_leading_comments_stay_with_it() {
    let text = "\
schedule:
  cron: \"0 2 * * *\"
# Column-0 comments right before the next key
# belong to that key.

# Even after a blank line.
tasks:
- name: A
  dir_source: /srv
# trailing comment of the file
";
    let new = replace_block(text, "schedule", "schedule:\n  enabled: true\n").unwrap();
    assert_eq!(
        new,
        text.replace("  cron: \"0 2 * * *\"\n", "  enabled: true\n")
    );

    // `tasks:` with unindented list items: the items are part of it, the comment after them is not.
    let new = replace_block(text, "tasks", "tasks:\n  - name: B\n    dir_source: /srv\n").unwrap();
    assert!(
        new.ends_with(
            "tasks:\n  - name: B\n    dir_source: /srv\n# trailing comment of the file\n"
        ),
        "{new}"
    );
    // A column-0 comment between indented lines of the block is inside it.
    let text = "schedule:\n# inside\n  cron: \"0 2 * * *\"\nb: 1\n";
    assert_eq!(
        replace_block(text, "schedule", "schedule: ~\n").unwrap(),
        "schedule: ~\nb: 1\n"
    );
}

#[test]
fn keys_are_matched_exactly_and_quoted_keys_are_found() {
    let text = "schedule_old: 1\n\"schedule\": {cron: x}\nxschedule: 2\n";
    assert_eq!(
        replace_block(text, "schedule", "schedule: ~\n").unwrap(),
        "schedule_old: 1\nschedule: ~\nxschedule: 2\n"
    );
    let text = "'schedule' : ~\n";
    assert_eq!(
        replace_block(text, "schedule", "schedule: {}\n").unwrap(),
        "schedule: {}\n"
    );
    // A `schedule:` inside another entry is not the top-level one.
    let text = "tasks:\n  schedule: 1\n";
    assert_eq!(
        replace_block(text, "schedule", "schedule: ~\n").unwrap(),
        "tasks:\n  schedule: 1\n\nschedule: ~\n"
    );
}

#[test]
fn documents_this_page_cannot_edit_are_refused() {
    for (text, line) in [
        ("{dir_backup_local: /var, tasks: []}\n", 1),
        ("# a comment\n---\n  dir_backup_local: /var\n", 3),
        ("- a\n- b\n", 1),
        ("--- {a: 1}\n", 1),
        ("just text\n", 1),
    ] {
        match replace_block(text, "schedule", "schedule: ~\n") {
            Err(EditError::NotBlockMapping { line: l, .. }) => assert_eq!(l, line, "{text:?}"),
            other => panic!("{text:?}: {other:?}"),
        }
    }
    let e = set_schedule("{a: 1}", "0 2 * * *", true).unwrap_err();
    assert!(e.to_string().contains("configuration editor"), "{e}");
    // `---` and a directive before the mapping are fine.
    assert!(replace_block("%YAML 1.2\n---\na: 1\n", "b", "b: 2\n").is_ok());

    let e = replace_block(
        "schedule: ~\na: 1\nschedule: {}\n",
        "schedule",
        "schedule: ~\n",
    )
    .unwrap_err();
    assert_eq!(
        e,
        EditError::DuplicateKey {
            key: "schedule".into(),
            lines: vec![1, 3]
        }
    );
    assert!(e.to_string().contains("lines 1, 3"), "{e}");
}

#[test]
fn a_bad_block_is_refused() {
    for (key, block) in [
        ("schedule", "retention: {}\n"),
        ("schedule", "# comment\nschedule: ~\n"),
        ("schedule", "schedule: [\n"),
        ("schedule", "schedule: ~\nother: 1\n"),
        ("bad key", "bad key: 1\n"),
        ("", ": 1\n"),
    ] {
        assert!(
            matches!(
                replace_block("a: 1\n", key, block),
                Err(EditError::BadInput { .. })
            ),
            "{block:?}"
        );
    }
    // A block without a final newline gets one.
    assert_eq!(replace_block("a: 1\n", "a", "a: 2").unwrap(), "a: 2\n");
}

#[test]
fn an_edit_that_would_change_other_keys_is_refused() {
    // `port: 25}` at column 0 looks like a key of its own, so the text edit would cut the flow
    // mapping in two; the check sees it and nothing changes.
    let text = "smtp: {host: a,\nport: 25}\nb: 1\n";
    assert_eq!(
        replace_block(text, "smtp", "smtp: ~\n"),
        Err(EditError::Unverified { key: "smtp".into() })
    );
}

// --- set_schedule and set_top_level_scalar -------------------------------------------------------

#[test]
fn set_schedule_changes_only_the_values_and_keeps_their_comments() {
    let new = set_schedule(BASE, "30 1 * * 0", false).unwrap();
    assert_eq!(
        new,
        BASE.replace(
            "cron: \"0 3 * * *\"   # 03:00",
            "cron: \"30 1 * * 0\"   # 03:00"
        )
        .replace("  enabled: true", "  enabled: false")
    );
    let cfg = assert_valid(&new);
    assert_eq!(
        (cfg.schedule.cron.as_str(), cfg.schedule.enabled),
        ("30 1 * * 0", false)
    );

    // Unquoted and single-quoted values, other spacing, a value-less `enabled:`.
    let text =
        "dir_backup_local: /var\nschedule:   # when\n    enabled:\n    cron:     '0 2 * * *'\n";
    assert_eq!(
            set_schedule(text, "0 5 * * *", true).unwrap(),
            "dir_backup_local: /var\nschedule:   # when\n    enabled: true\n    cron:     \"0 5 * * *\"\n"
        );
}

#[test]
fn set_schedule_replaces_or_adds_the_block_when_it_is_not_simple() {
    let block = schedule_block("0 4 * * *", true);
    for (text, expected) in [
        (
            "a: 1\nschedule: {cron: \"0 2 * * *\"}\nb: 2\n".to_string(),
            format!("a: 1\n{block}b: 2\n"),
        ),
        (
            "a: 1\nschedule:\n  cron: \"0 2 * * *\"\nb: 2\n".to_string(),
            format!("a: 1\n{block}b: 2\n"),
        ),
        ("a: 1\n".to_string(), format!("a: 1\n\n{block}")),
    ] {
        assert_eq!(
            set_schedule(&text, "0 4 * * *", true).unwrap(),
            expected,
            "{text}"
        );
    }
}

#[test]
fn set_schedule_result_checks_and_the_rest_is_byte_identical() {
    let text = BASE.replace(
            "# When to run\nschedule:\n  # nightly, after the NAS wakes up\n  cron: \"0 3 * * *\"   # 03:00\n\n  enabled: true\n  # end of schedule\n",
            "# When to run\nschedule: {cron: \"0 3 * * *\"}\n",
        );
    let new = set_schedule(&text, "15 23 * * 1-5", false).unwrap();
    let (before, after) = cut(&text, 6..7);
    assert_eq!(
        new,
        format!("{before}{}{after}", schedule_block("15 23 * * 1-5", false))
    );
    let cfg = assert_valid(&new);
    assert_eq!(cfg.schedule.cron, "15 23 * * 1-5");
    assert!(!cfg.schedule.enabled);
}

#[test]
fn the_original_configs_survive_set_schedule() {
    for name in ["minimal.yml", "full.yml"] {
        let text = fixture(name);
        let new = set_schedule(&text, "45 5 * * 6", false).unwrap();
        let checked = check_str(&new);
        assert!(checked.is_ok(), "{name}: {:#?}", checked.problems);
        let cfg = checked.config.unwrap();
        assert_eq!(
            (cfg.schedule.cron.as_str(), cfg.schedule.enabled),
            ("45 5 * * 6", false)
        );
        // Every changed line is in the schedule block (the old one, or the new one with the blank
        // line that separates an appended block).
        let block_of = |text: &str| -> Option<Range<u32>> {
            let start = text.lines().position(|l| l == "schedule:")?;
            Some(number(start + 1)..number(start + 4))
        };
        let new_block = block_of(&new).unwrap();
        let new_block = match block_of(&text) {
            Some(_) => new_block,
            None => new_block.start - 1..new_block.end,
        };
        let diff = line_diff(&text, &new);
        for d in diff.iter().filter(|d| d.is_change()) {
            if let Some(n) = d.new_line {
                assert!(new_block.contains(&n), "{name}: {d:?}");
            }
            if let Some(n) = d.old_line {
                assert!(
                    block_of(&text).is_some_and(|b| b.contains(&n)),
                    "{name}: {d:?}"
                );
            }
        }
        let changes = diff.iter().filter(|d| d.is_change()).count();
        assert_eq!(
            changes, 4,
            "{name}: 2 lines changed in place, or 3 appended after a blank line"
        );
        // And the text around the block is byte-identical.
        let before = &new[..new.find("schedule:").unwrap()];
        assert!(text.starts_with(before.trim_end_matches('\n')), "{name}");
    }
}

#[test]
fn set_top_level_scalar_edits_in_place_or_appends() {
    let text = "email_sender: old@example.com   # Gmail\nemail_report: 'r@example.com'\n";
    assert_eq!(
        set_top_level_scalar(text, "email_sender", "new@example.com").unwrap(),
        "email_sender: \"new@example.com\"   # Gmail\nemail_report: 'r@example.com'\n"
    );
    assert_eq!(
        set_top_level_scalar(text, "email_report", "x@y.z").unwrap(),
        "email_sender: old@example.com   # Gmail\nemail_report: \"x@y.z\"\n"
    );
    assert_eq!(
        set_top_level_scalar("email_admin: # odd\n", "email_admin", "").unwrap(),
        "email_admin: \"\" # odd\n"
    );
    assert_eq!(
        set_top_level_scalar(text, "email_admin", "a@b.c").unwrap(),
        format!("{text}\nemail_admin: \"a@b.c\"\n")
    );
    // A value over two lines: the entry is replaced.
    assert_eq!(
        set_top_level_scalar("a: one\n  two\nb: 1\n", "a", "x").unwrap(),
        "a: \"x\"\nb: 1\n"
    );
    // The template has the addresses commented out: they are added at the end, and check.
    let mut t = set_top_level_scalar(TEMPLATE, "email_sender", "me@gmail.com").unwrap();
    t = set_top_level_scalar(&t, "email_report", "me@example.com").unwrap();
    t = replace_block(&t, "email", "email:\n  enabled: true\n").unwrap();
    let cfg = assert_valid(&t);
    assert!(cfg.email.enabled);
    assert_eq!(cfg.email_sender.as_deref(), Some("me@gmail.com"));
}

#[test]
fn quoting_reads_back_exactly() {
    for value in [
        "plain",
        "with \"quotes\" and \\",
        "tab\tnew\nline",
        "\u{1}\u{7f}\u{85}\u{2028}\u{feff}é",
        "# not a comment",
        "",
    ] {
        let text = set_top_level_scalar("a: 1\n", "k", value).unwrap();
        assert_eq!(text.lines().count(), 3, "{text:?}");
        let map = top_level(&text).unwrap();
        assert_eq!(map.get("k"), Some(&Value::String(value.into())), "{text:?}");
    }
    assert_eq!(
        schedule_block("0 2 * * *", true),
        "schedule:\n  cron: \"0 2 * * *\"\n  enabled: true\n"
    );
}

// --- the diff ----------------------------------------------------------------------------------

fn kinds(diff: &[DiffLine]) -> String {
    diff.iter()
        .map(|d| match d.kind {
            DiffKind::Same => format!("={}", d.text),
            DiffKind::Added => format!("+{}", d.text),
            DiffKind::Removed => format!("-{}", d.text),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn line_diff_small_examples() {
    assert_eq!(kinds(&line_diff("a\nb\nc\n", "a\nb\nc\n")), "=a =b =c");
    assert_eq!(kinds(&line_diff("a\nc\n", "a\nb\nc\n")), "=a +b =c");
    assert_eq!(kinds(&line_diff("a\nb\nc\n", "a\nc\n")), "=a -b =c");
    assert_eq!(kinds(&line_diff("a\nb\nc\n", "a\nB\nc\n")), "=a -b +B =c");
    assert_eq!(kinds(&line_diff("", "x\n")), "+x");
    assert_eq!(kinds(&line_diff("x", "")), "-x");
    assert_eq!(kinds(&line_diff("a\r\nb", "a\nb\n")), "=a =b");
    assert_eq!(
        kinds(&line_diff("a\nb\nc\nd\ne\n", "b\nc\nX\ne\nf\n")),
        "-a =b =c -d +X =e +f"
    );
    let d = line_diff("a\nb\nc\n", "a\nB\nc\nd\n");
    let numbers: Vec<_> = d.iter().map(|l| (l.old_line, l.new_line)).collect();
    assert_eq!(
        numbers,
        [
            (Some(1), Some(1)),
            (Some(2), None),
            (None, Some(2)),
            (Some(3), Some(3)),
            (None, Some(4))
        ]
    );
}

#[test]
fn line_diff_is_minimal_on_repeated_lines() {
    let old = "x\na\nx\nb\nx\n";
    let new = "a\nx\nb\nx\nc\n";
    let changes = line_diff(old, new).iter().filter(|d| d.is_change()).count();
    assert_eq!(changes, 2, "{}", kinds(&line_diff(old, new)));
}

#[test]
fn line_diff_of_a_big_file_with_one_change() {
    let old: String = (0..5_000).map(|i| format!("line {i}\n")).collect();
    let new = old.replace("line 2500\n", "line 2500 changed\n");
    let started = std::time::Instant::now();
    let diff = line_diff(&old, &new);
    let changes: Vec<&DiffLine> = diff.iter().filter(|d| d.is_change()).collect();
    assert_eq!(changes.len(), 2);
    assert_eq!(
        (
            changes[0].kind,
            changes[0].old_line,
            changes[0].text.as_str()
        ),
        (DiffKind::Removed, Some(2501), "line 2500")
    );
    assert_eq!(
        (
            changes[1].kind,
            changes[1].new_line,
            changes[1].text.as_str()
        ),
        (DiffKind::Added, Some(2501), "line 2500 changed")
    );
    assert_eq!(diff.len(), 5_001);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn line_diff_falls_back_beyond_the_limit() {
    // 4 001 × 4 001 different lines in the middle: shown as all removed, then all added.
    let old: String = (0..4_001).map(|i| format!("o{i}\n")).collect();
    let new: String = (0..4_001).map(|i| format!("n{i}\n")).collect();
    let diff = line_diff(&format!("top\n{old}end\n"), &format!("top\n{new}end\n"));
    assert_eq!(diff.len(), 2 + 2 * 4_001);
    assert!(diff[1..4_002].iter().all(|d| d.kind == DiffKind::Removed));
    assert!(diff[4_002..8_003].iter().all(|d| d.kind == DiffKind::Added));
    assert_eq!(
        (diff[8_003].old_line, diff[8_003].new_line),
        (Some(4_003), Some(4_003))
    );
}

#[test]
fn hunks_show_changes_with_context() {
    let old: String = (1..=20).map(|i| format!("{i}\n")).collect();
    let new: String = (1..=20)
        .filter(|i| *i != 18)
        .map(|i| match i {
            5 => "five\n".to_string(),
            8 => "eight\n".to_string(),
            i => format!("{i}\n"),
        })
        .collect();
    let hunks = diff_hunks(&line_diff(&old, &new), DIFF_CONTEXT);
    assert_eq!(hunks.len(), 2);
    // 5 and 8 are close: one hunk from 2 to 11.
    assert_eq!(hunks[0].first().unwrap().old_line, Some(2));
    assert_eq!(hunks[0].last().unwrap().old_line, Some(11));
    assert_eq!(kinds(&hunks[1]), "=15 =16 =17 -18 =19 =20");
    assert!(diff_hunks(&line_diff("a\n", "a\n"), 3).is_empty());
    assert!(line_diff_context("a\n", "a\n", 3).is_empty());
    let flat = line_diff_context(&old, &new, DIFF_CONTEXT);
    assert_eq!(flat, hunks.concat());
    assert_eq!(diff_hunks(&line_diff("a\nb\n", "a\nc\n"), 0).len(), 1);
}

// --- the template --------------------------------------------------------------------------------

#[test]
fn the_template_has_no_errors() {
    let c = check_str(TEMPLATE);
    assert!(c.is_ok(), "{:#?}", c.problems);
    for w in c.warnings() {
        assert!(
            w.message.contains("does not exist"),
            "unexpected warning {w}"
        );
    }
    let cfg = c.config.unwrap();
    assert_eq!(cfg.tasks.len(), 1);
    assert_eq!(cfg.tasks[0].name, "Documents");
    assert_eq!(cfg.tasks[0].excludes, ["*.tmp", ".cache/"]);
    assert!(!cfg.email.enabled);
    assert_eq!(cfg.schedule, crate::model::config::Schedule::default());
    assert_eq!(
        cfg.retention,
        crate::model::config::RetentionPolicy::default()
    );
    // The schedule page edits it in place.
    let new = set_schedule(TEMPLATE, "0 3 * * *", true).unwrap();
    assert_eq!(
        new,
        TEMPLATE.replace("cron: \"0 2 * * *\"", "cron: \"0 3 * * *\"")
    );
}

// --- save ----------------------------------------------------------------------------------------

const VALID: &str =
    "dir_backup_local: /var\nemail: {enabled: false}\ntasks: [{name: A, dir_source: /srv}]\n";

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn an_invalid_text_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("backup_config.yml");
    fs::write(&path, VALID).unwrap();
    let old_time = SystemTime::now() - Duration::from_secs(3600);
    fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(old_time)
        .unwrap();
    let mtime = fs::metadata(&path).unwrap().modified().unwrap();

    let bad = VALID.replace("dir_source: /srv", "dir_source: relative");
    let Err(SaveError::Invalid(checked)) = save(&path, &bad) else {
        panic!("an invalid text was saved")
    };
    assert_eq!(checked.errors().count(), 1);
    let e = SaveError::Invalid(checked).to_string();
    assert!(e.contains("1 error(s)") && e.contains("line 3"), "{e}");

    assert_eq!(fs::read_to_string(&path).unwrap(), VALID);
    assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), mtime);
    assert_eq!(names(dir.path()), ["backup_config.yml"]);
}

#[test]
fn a_valid_text_replaces_the_file_and_keeps_the_old_one_as_prev() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("backup_config.yml");
    fs::write(&path, VALID).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();

    let new = set_schedule(VALID, "0 4 * * *", true).unwrap();
    let saved = save(&path, &new).unwrap();
    assert!(saved.changed);
    assert_eq!(saved.path, path);
    let prev = dir.path().join("backup_config.yml.prev");
    assert_eq!(saved.previous.as_deref(), Some(prev.as_path()));
    assert_eq!(fs::read_to_string(&path).unwrap(), new);
    assert_eq!(fs::read_to_string(&prev).unwrap(), VALID);
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        fs::metadata(&prev).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        names(dir.path()),
        ["backup_config.yml", "backup_config.yml.prev"]
    );

    // Saving the same text again changes nothing, and .prev still holds the version before.
    let again = save(&path, &new).unwrap();
    assert!(!again.changed && again.previous.is_none());
    assert_eq!(fs::read_to_string(&prev).unwrap(), VALID);

    // A third version: .prev is replaced by the second.
    let third = set_schedule(&new, "0 5 * * *", false).unwrap();
    save(&path, &third).unwrap();
    assert_eq!(fs::read_to_string(&prev).unwrap(), new);
    assert_eq!(fs::read_to_string(&path).unwrap(), third);
    assert_eq!(
        names(dir.path()),
        ["backup_config.yml", "backup_config.yml.prev"]
    );
}

#[test]
fn save_reports_warnings_and_creates_a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("backup_config.yml");
    let text = VALID.replace("tasks:", "frobnicate: 1\ntasks:");
    let saved = save(&path, &text).unwrap();
    assert!(saved.changed && saved.previous.is_none());
    assert_eq!(saved.warnings.len(), 1, "{:?}", saved.warnings);
    assert_eq!(fs::read_to_string(&path).unwrap(), text);
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        NEW_FILE_MODE
    );
    assert_eq!(names(dir.path()), ["backup_config.yml"]);
}

#[test]
fn update_refuses_a_file_changed_since_the_page_read_it_and_leaves_it_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("backup_config.yml");
    fs::write(&path, VALID).unwrap();
    let read = version(&path).unwrap();
    assert_eq!(read, Version::of(VALID.as_bytes()));
    let by_hand = format!("# edited by hand\n{VALID}");
    fs::write(&path, &by_hand).unwrap();

    // Every kind of page edit is refused the same way, and nothing is written.
    let schedule = ScheduleEdit {
        cron: "0 4 * * *",
        enabled: true,
    };
    for edit in [&schedule as &dyn Edit, &WholeText(VALID)] {
        let e = update(&path, &read, edit).unwrap_err();
        assert!(matches!(e, SaveError::ChangedOnDisk { .. }), "{e}");
        assert!(e.to_string().contains("reload the page"), "{e}");
        assert!(e.to_string().contains("not saved"), "{e}");
        assert_eq!(fs::read_to_string(&path).unwrap(), by_hand);
        assert!(!dir.path().join("backup_config.yml.prev").exists());
    }

    // With the version of the hand-edited file, the edit is made on top of the hand edit.
    let saved = update(&path, &version(&path).unwrap(), &schedule).unwrap();
    assert!(saved.changed);
    let now = fs::read_to_string(&path).unwrap();
    assert!(now.starts_with("# edited by hand\n"), "{now}");
    assert!(now.contains("\"0 4 * * *\""), "{now}");
    assert_eq!(saved.version, Version::of(now.as_bytes()));
    assert_eq!(
        fs::read_to_string(dir.path().join("backup_config.yml.prev")).unwrap(),
        by_hand
    );

    // A file that is not there has the version of no bytes: the editor may create it, a page
    // that changes one entry may not.
    let fresh = dir.path().join("new.yml");
    let none = version(&fresh).unwrap();
    assert_eq!(none, Version::of(b""));
    let e = update(&fresh, &none, &schedule).unwrap_err();
    assert!(matches!(e, SaveError::Edit(EditError::NoFile)), "{e}");
    assert!(!fresh.exists());
    assert!(update(&fresh, &none, &WholeText(VALID)).unwrap().changed);
    let e = update(&dir.path().join("other.yml"), &read, &WholeText(VALID)).unwrap_err();
    assert!(matches!(e, SaveError::ChangedOnDisk { .. }), "{e}");
}

#[test]
fn a_symlink_is_followed_and_stays_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let real_dir = dir.path().join("dotfiles");
    fs::create_dir(&real_dir).unwrap();
    let real = real_dir.join("mnemosynce.yml");
    fs::write(&real, VALID).unwrap();
    let link = dir.path().join("backup_config.yml");
    std::os::unix::fs::symlink(&real, &link).unwrap();

    let new = set_schedule(VALID, "0 6 * * *", true).unwrap();
    let saved = save(&link, &new).unwrap();
    assert_eq!(saved.path, fs::canonicalize(&real).unwrap());
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::read_to_string(&link).unwrap(), new);
    assert_eq!(
        fs::read_to_string(real_dir.join("mnemosynce.yml.prev")).unwrap(),
        VALID
    );

    let dangling = dir.path().join("dangling.yml");
    std::os::unix::fs::symlink(dir.path().join("nowhere.yml"), &dangling).unwrap();
    let e = save(&dangling, VALID).unwrap_err();
    assert!(e.to_string().contains("fix the link"), "{e}");
}

#[test]
fn save_refuses_folders_read_only_files_and_reports_io_failures() {
    let dir = tempfile::tempdir().unwrap();
    let e = save(dir.path(), VALID).unwrap_err();
    assert!(
        matches!(
            e,
            SaveError::NotAFile {
                what: "a folder",
                ..
            }
        ),
        "{e}"
    );

    let path = dir.path().join("backup_config.yml");
    fs::write(&path, "# locked\n").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).unwrap();
    let e = save(&path, VALID).unwrap_err();
    assert!(e.to_string().contains("chmod u+w"), "{e}");
    assert_eq!(fs::read_to_string(&path).unwrap(), "# locked\n");

    let missing = dir.path().join("no/such/folder/backup_config.yml");
    let e = save(&missing, VALID).unwrap_err();
    assert!(matches!(e, SaveError::Io { .. }), "{e}");
    assert!(e.to_string().contains("The file was not changed"), "{e}");
}

#[test]
fn a_folder_we_may_not_write_is_reported_with_its_fix() {
    // Root may write anyway (then the save simply succeeds); anyone else gets the hint.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("backup_config.yml");
    fs::write(&path, VALID).unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o555)).unwrap();
    let new = VALID.replace("A", "B");
    let result = save(&path, &new);
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    match result {
        Err(e) => {
            assert!(e.to_string().contains("write permission"), "{e}");
            assert_eq!(fs::read_to_string(&path).unwrap(), VALID);
            assert_eq!(names(dir.path()), ["backup_config.yml"]);
        }
        // Running as root: the folder's mode does not stop us.
        Ok(saved) => assert!(saved.changed),
    }
}

#[test]
fn a_failure_before_the_rename_leaves_the_file_and_removes_the_temporary_files() {
    // `.prev` cannot be replaced (a folder with something in it has its name): the save stops
    // before the file is touched, whoever we run as.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("backup_config.yml");
    fs::write(&path, VALID).unwrap();
    let prev = dir.path().join("backup_config.yml.prev");
    fs::create_dir(&prev).unwrap();
    fs::write(prev.join("keep"), "x").unwrap();

    let e = save(&path, &VALID.replace("name: A", "name: B")).unwrap_err();
    let message = e.to_string();
    assert!(
        message.contains("keep the current version as .prev")
            && message.contains("The file was not changed"),
        "{message}"
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), VALID);
    assert_eq!(
        names(dir.path()),
        ["backup_config.yml", "backup_config.yml.prev"]
    );
}

#[test]
fn temporary_files_go_away_when_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let t = Staged::write(dir.path(), "x.yml", b"abc", 0o600, None).unwrap();
    assert_eq!(names(dir.path()).len(), 1);
    assert!(names(dir.path())[0].starts_with(".x.yml.tmp-"));
    drop(t);
    assert!(names(dir.path()).is_empty());
}
