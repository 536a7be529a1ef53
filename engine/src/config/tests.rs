//! The tests of [`super::check_str`] and [`super::load`]: fixtures, every schema rule, the limits.

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
    assert!(
        message_at(1).starts_with("dir_backup_local \"relative/store\" must be an absolute path")
    );
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
    assert!(
        e.to_string().starts_with(
            "line 7, column 11: tasks[1].name \"P\" is used twice (first by tasks[0] on line 5)"
        ),
        "{e}"
    );
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
    assert!(
        e.message.starts_with(
            "tasks[1].engine is native, but tasks[1].dir_source \"ssh://bob@nas:2222/v\" (line 7)"
        ),
        "{e}"
    );

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
            e.message.starts_with("tasks[0].name") && e.message.contains("not a valid task name"),
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
    let (store, mirror, file, source) = (gone("store"), gone("mirror"), gone("pw"), gone("src"));
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
        (
            "retention: {daily: many}",
            "retention.daily must be a whole number such as 7, but it is \"many\"",
        ),
        ("retention: {daily: -1}", "negative"),
        ("retention: {daily: 1.5}", "must be a whole number"),
        (
            "retention: {daily: 99999999999999999999999999}",
            "out of range",
        ),
        (
            "retention: {daily: 4294967296}",
            "retention.daily 4294967296 is out of range: use a whole number from 0 to 4294967295",
        ),
        (
            "retention: {daily: \"7\"}",
            "quoted text: remove the quotes",
        ),
        ("retention: {daily: 07}", "leading zeros"),
        ("retention: {daily: }", "retention.daily is empty"),
        (
            "smtp: {port: 0}",
            "smtp.port 0 is out of range: use a whole number from 1 to 65535",
        ),
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
