//! Deterministic fuzzing of the configuration checker (`engine::config::check_str`).
//!
//! A small seeded PRNG generates several hundred malformed or hostile documents: truncations and
//! character-level mutations of the original fixtures, wrong types and hostile values put into every
//! field, duplicate task names, alias bombs, deep nesting and odd top levels. For each document we check:
//!
//! - `check_str` never panics;
//! - every problem has a line and column >= 1, and a line no further than the document's end;
//! - `config` is `Some` exactly when there is no error, and a returned config really is valid;
//! - every document built to be invalid gets at least one error.
//!
//! The seed is fixed, so a failure reproduces; the failing document is printed.

use engine::config::{check_str, check_task_name, Checked};
use engine::model::config::Config;
use std::path::Path;
use testkit::Rng;

fn fixtures() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/original-configs");
    ["minimal.yml", "full.yml"]
        .iter()
        .map(|name| {
            let path = dir.join(name);
            std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read the fixture {} ({e})", path.display()))
        })
        .collect()
}

/// Lines as an editor counts them (`\n`, `\r\n` and a lone `\r` end a line).
fn line_count(doc: &str) -> usize {
    let mut breaks = 0;
    let mut chars = doc.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\n' || (c == '\r' && chars.peek() != Some(&'\n')) {
            breaks += 1;
        }
    }
    let last_line_has_text = !(doc.is_empty() || doc.ends_with('\n') || doc.ends_with('\r'));
    breaks + usize::from(last_line_has_text)
}

fn short(doc: &str) -> String {
    let head: String = doc.chars().take(600).collect();
    format!(
        "{head:?}{}",
        if head.len() < doc.len() { " ..." } else { "" }
    )
}

/// What a config that came out of `check_str` must satisfy, checked independently.
fn assert_really_valid(cfg: &Config, doc: &str) {
    assert!(!cfg.tasks.is_empty(), "no tasks accepted: {}", short(doc));
    let mut names = std::collections::HashSet::new();
    for task in &cfg.tasks {
        assert!(
            check_task_name(&task.name).is_ok(),
            "bad name {:?} accepted: {}",
            task.name,
            short(doc)
        );
        assert!(
            names.insert(task.name.clone()),
            "duplicate {:?} accepted: {}",
            task.name,
            short(doc)
        );
    }
    assert!(
        cfg.dir_backup_local.is_absolute(),
        "relative store accepted: {}",
        short(doc)
    );
    if cfg.email.enabled {
        for address in [&cfg.email_sender, &cfg.email_report] {
            assert!(
                address.as_deref().is_some_and(|a| a.contains('@')),
                "address {address:?} accepted: {}",
                short(doc)
            );
        }
    }
    assert!(
        engine::schedule::Cron::parse(&cfg.schedule.cron).is_ok(),
        "cron accepted: {}",
        short(doc)
    );
    assert!(cfg.smtp.port >= 1);
    if let Some(zone) = &cfg.timezone {
        assert!(
            zone.trim().is_empty() || zone.parse::<chrono_tz::Tz>().is_ok(),
            "zone accepted: {}",
            short(doc)
        );
    }
}

/// Runs one document through every check; `must_fail` documents need at least one error.
fn check(doc: &str, must_fail: bool, stats: &mut Stats) {
    let outcome = std::panic::catch_unwind(|| check_str(doc));
    let checked: Checked = match outcome {
        Ok(c) => c,
        Err(_) => panic!("check_str panicked on {}", short(doc)),
    };
    let last_line = line_count(doc) + 1;
    for p in &checked.problems {
        assert!(
            p.line >= 1 && p.column >= 1 && p.line <= last_line,
            "problem outside the document ({} lines): {p}\n{}",
            last_line - 1,
            short(doc)
        );
        assert!(!p.message.is_empty());
        // check_str turns a panic inside yaml-rust2 into this error; none is expected.
        assert!(
            !p.message.contains("internal error"),
            "the YAML parser panicked on {}",
            short(doc)
        );
    }
    let errors = checked.errors().count();
    assert_eq!(
        checked.config.is_some(),
        errors == 0,
        "config/errors disagree: {:#?}\n{}",
        checked.problems,
        short(doc)
    );
    assert_eq!(checked.is_ok(), errors == 0);
    if must_fail {
        assert!(
            errors >= 1,
            "no error for an invalid document: {:#?}\n{}",
            checked.problems,
            short(doc)
        );
    }
    if let Some(cfg) = &checked.config {
        assert_really_valid(cfg, doc);
        stats.accepted += 1;
    }
    // serde_yaml is the typed reader; when it refuses the raw text, the checker must have said so too.
    // (Spelled-out nulls are the one thing the checker makes acceptable to it, so skip those.)
    let spelled_null = ["~", "null", "Null", "NULL"]
        .iter()
        .any(|w| doc.contains(w));
    if !spelled_null && !doc.starts_with('\u{feff}') && serde_yaml::from_str::<Config>(doc).is_err()
    {
        assert!(
            errors >= 1,
            "serde_yaml refuses what check_str accepts: {}",
            short(doc)
        );
    }
    stats.documents += 1;
}

#[derive(Default)]
struct Stats {
    documents: usize,
    accepted: usize,
}

// --- field substitution ------------------------------------------------------------------------------

const TEMPLATE: &str = "\
dir_backup_local: {dir_backup_local}
email_sender: {email_sender}
email_report: {email_report}
timezone: {timezone}
schedule:
  cron: {cron}
  enabled: {enabled}
retention:
  daily: {daily}
smtp:
  port: {port}
  security: {security}
report:
  when: {when}
tasks:
  - name: {name}
    dir_source: {dir_source}
    excludes: [\"*.tmp\"]
";

/// (field, a valid value, values that are wrong for it in particular)
const FIELDS: &[(&str, &str, &[&str])] = &[
    (
        "dir_backup_local",
        "/var",
        &["relative", "~", "\"\"", "user@host:/p", "\"/a\\nb\""],
    ),
    (
        "email_sender",
        "a@example.com",
        &["nobody", "~", "\"\"", "a@", "\"@b\"", "\"a b@c\""],
    ),
    (
        "email_report",
        "b@example.com",
        &["nobody", "~", "\"\"", "x@y@", "\"<a@b>\""],
    ),
    (
        "timezone",
        "UTC",
        &["Mars/Olympus", "Europe/Amsterdma", "1", "utc/x"],
    ),
    (
        "cron",
        "\"0 2 * * *\"",
        &[
            "\"0 2 * *\"",
            "\"@dayly\"",
            "\"0 25 * * *\"",
            "~",
            "\"* * * * * *\"",
            "\"\"",
        ],
    ),
    (
        "enabled",
        "true",
        &["yes", "\"true\"", "~", "1", "on", "True!"],
    ),
    (
        "daily",
        "7",
        &[
            "-1",
            "99999999999999999999",
            "4294967296",
            "1.5",
            "\"7\"",
            "07",
            "many",
            "~",
            "0x10",
            "1e3",
        ],
    ),
    ("port", "465", &["0", "65536", "-1", "~", "\"465\"", "4.65"]),
    ("security", "tls", &["TLS", "ssl", "~", "\"\"", "1"]),
    ("when", "always", &["never", "Always", "~", "0"]),
    (
        "name",
        "Photos",
        &[
            ".hidden",
            "a/b",
            "\"\"",
            "~",
            "\" lead\"",
            "\"a\\nb\"",
            "'.'",
            "-x",
            "\"a\\u202Eb\"",
            "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn",
        ],
    ),
    (
        "dir_source",
        "/srv",
        &[
            "relative",
            "~",
            "\"\"",
            "\"user@host:rel\"",
            "-oProxyCommand=x@h:/p",
            "\"ssh://h/p\"",
            "\"us;er@h:/p\"",
        ],
    ),
];

/// Wrong for every field above.
fn universally_bad() -> Vec<String> {
    let mut bad: Vec<String> = [
        "[1, 2]",
        "{a: b}",
        "!!python/object/apply:os.system [id]",
        "!!python/object:__main__.X {}",
        "!foo bar",
        "!<tag:example.com,2000:x> y",
        "*nowhere",
        "&a [*a]",
        "\"unterminated",
        "'also unterminated",
        "..",
        "a/b",
        "-x",
        "[a, b",
        "{a: [}",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    bad.push(format!("{}x{}", "[".repeat(100), "]".repeat(100)));
    bad.push(format!("{}1{}", "{a: ".repeat(80), "}".repeat(80)));
    bad
}

fn fill(values: &[(&str, String)]) -> String {
    let mut doc = TEMPLATE.to_string();
    for (field, value) in values {
        doc = doc.replace(&format!("{{{field}}}"), value);
    }
    doc
}

fn valid_values() -> Vec<(&'static str, String)> {
    FIELDS.iter().map(|(f, v, _)| (*f, v.to_string())).collect()
}

// --- text mutations ----------------------------------------------------------------------------------

const ALPHABET: &[char] = &[
    ':', '-', ' ', ' ', '\n', '\t', '[', ']', '{', '}', '&', '*', '!', '\'', '"', '#', '|', '>',
    '%', '@', '`', ',', '?', '~', '\\', '\0', '\r', 'é', 'x', '0', '9', '.', '/', '\u{1b}',
    '\u{7f}', '\u{feff}',
];

fn mutate(rng: &mut Rng, doc: &str) -> String {
    let mut chars: Vec<char> = doc.chars().collect();
    for _ in 0..1 + rng.index(4) {
        let at = rng.index(chars.len() + 1);
        match rng.index(3) {
            0 if at < chars.len() => chars[at] = *rng.pick(ALPHABET),
            1 if at < chars.len() => {
                chars.remove(at);
            }
            _ => chars.insert(at, *rng.pick(ALPHABET)),
        }
    }
    chars.into_iter().collect()
}

fn truncate(rng: &mut Rng, doc: &str) -> String {
    let n = doc.chars().count();
    doc.chars().take(rng.index(n + 1)).collect()
}

/// Deletes, duplicates, swaps or re-indents whole lines.
fn shuffle_lines(rng: &mut Rng, doc: &str) -> String {
    let mut lines: Vec<String> = doc.lines().map(str::to_string).collect();
    if lines.is_empty() {
        return String::new();
    }
    for _ in 0..1 + rng.index(3) {
        let i = rng.index(lines.len());
        match rng.index(4) {
            0 => {
                lines.remove(i);
            }
            1 => {
                let copy = lines[i].clone();
                lines.insert(i, copy);
            }
            2 => {
                let j = rng.index(lines.len());
                lines.swap(i, j);
            }
            _ => lines[i] = format!("{}{}", " ".repeat(rng.index(6)), lines[i].trim_start()),
        }
        if lines.is_empty() {
            break;
        }
    }
    lines.join("\n") + "\n"
}

// --- the test ----------------------------------------------------------------------------------------

#[test]
fn check_str_survives_hostile_documents_and_reports_them() {
    let mut rng = Rng::new(0x6d6e_656d_6f73_796e); // "mnemosyn"
    let mut stats = Stats::default();
    let fixtures = fixtures();
    let started = std::time::Instant::now();

    // The inputs themselves are valid.
    for doc in fixtures.iter().chain([&fill(&valid_values())]) {
        let c = check_str(doc);
        assert!(c.is_ok(), "{:#?}", c.problems);
    }

    // 1. Truncations, character mutations and line edits of the fixtures: anything may come out, so
    //    only the invariants are checked.
    for _ in 0..150 {
        let base = rng.pick(&fixtures).clone();
        let doc = truncate(&mut rng, &base);
        check(&doc, false, &mut stats);
    }
    for _ in 0..200 {
        let base = rng.pick(&fixtures).clone();
        let doc = mutate(&mut rng, &base);
        check(&doc, false, &mut stats);
    }
    for _ in 0..80 {
        let base = rng.pick(&fixtures).clone();
        let doc = shuffle_lines(&mut rng, &base);
        check(&doc, false, &mut stats);
    }

    // 2. One field gets a value that is wrong for it; the rest stay valid.
    let universal = universally_bad();
    for _ in 0..250 {
        let (field, _, specific) = *rng.pick(FIELDS);
        let value = if rng.index(2) == 0 {
            rng.pick(specific).to_string()
        } else {
            rng.pick(&universal).clone()
        };
        let mut values = valid_values();
        for v in values.iter_mut().filter(|(f, _)| *f == field) {
            v.1 = value.clone();
        }
        check(&fill(&values), true, &mut stats);
    }

    // 3. Duplicate task names, and duplicate keys.
    for _ in 0..30 {
        let name = rng.pick(&["Photos", "2024", "a.b", "x_y-z", "true", "My Photos ü"]);
        let others = rng.index(3);
        let mut doc = String::from("dir_backup_local: /var\nemail: {enabled: false}\ntasks:\n");
        let dup_at = rng.index(others + 1);
        for i in 0..=others {
            doc.push_str(&format!("  - name: T{i}\n    dir_source: /srv\n"));
            if i == dup_at {
                doc.push_str(&format!("  - name: {name}\n    dir_source: /srv\n"));
            }
        }
        doc.push_str(&format!("  - {{name: {name}, dir_source: /srv}}\n"));
        check(&doc, true, &mut stats);
    }
    for field in ["dir_backup_local: /var", "tasks: []", "timezone: UTC"] {
        check(
            &format!("{}{field}\n", fill(&valid_values())),
            true,
            &mut stats,
        );
    }

    // 4. Alias bombs of random shapes, each expanding to at least a million nodes.
    for _ in 0..20 {
        let width = 3 + rng.index(8);
        let mut depth = 1;
        while width.pow(depth) < 1_000_000 {
            depth += 1;
        }
        let mut doc = format!("l0: &l0 [{}]\n", vec!["lol"; width].join(", "));
        for d in 1..=depth {
            doc.push_str(&format!(
                "l{d}: &l{d} [{}]\n",
                vec![format!("*l{}", d - 1); width].join(", ")
            ));
        }
        check(&doc, true, &mut stats);
    }

    // 5. Deep nesting, block and flow.
    for _ in 0..20 {
        let depth = 65 + rng.index(5_000);
        let doc = match rng.index(4) {
            0 => format!("tasks:\n{}x\n", "- ".repeat(depth)),
            1 => format!("tasks: {}", "[".repeat(depth)),
            2 => format!("tasks: {}x{}\n", "[".repeat(depth), "]".repeat(depth)),
            _ => format!(
                "retention: {}1{}\n",
                "{a: ".repeat(depth),
                "}".repeat(depth)
            ),
        };
        check(&doc, true, &mut stats);
    }

    // 6. Odd top levels.
    let long_key = format!("{}: 1\n", "k".repeat(100_000));
    for doc in [
        "",
        "\n\n",
        "# only a comment\n",
        "---\n",
        "...\n",
        "~\n",
        "- a\n- b\n",
        "just text\n",
        "42",
        "[dir_backup_local, tasks]\n",
        "a: 1\n---\nb: 2\n",
        "--- !!python/object:os.system\n",
        "%YAML 1.2\n---\n",
        "%TAG !e! tag:example.com,2000:\n--- !e!x\na: 1\n",
        "? [complex, key]\n: value\n",
        "\u{feff}",
        "\r\r\r",
        "a:\tb\n",
        long_key.as_str(),
    ] {
        check(doc, true, &mut stats);
    }

    // Sanity: the random mutations did not all break the documents, nor all leave them intact.
    assert!(stats.documents > 700, "{} documents", stats.documents);
    assert!(
        stats.accepted > 20,
        "only {} documents were accepted",
        stats.accepted
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(120),
        "too slow: {:?}",
        started.elapsed()
    );
}
