//! Pass 2 of [`super::check_str`]: the tree against the schema.
//!
//! A `Checker` walks the tree the way the schema describes it: required keys, types, task names,
//! endpoints, addresses, time zone, cron expression (`crate::schedule`), numbers in range. It never
//! stops at the first mistake: it records a [`Problem`] and moves on. Unknown keys and paths that do
//! not exist are warnings (a drive may be unmounted while the user edits); an unknown key gets a "did
//! you mean" suggestion.

use std::collections::HashMap;

use chrono_tz::Tz;

use super::tree::{shown, Kind, Node, Pos};
use super::{check_task_name, Problem, Severity};
use crate::model::config::{Endpoint, KeepWithin, TransferEngine};

pub(super) const TOP_KEYS: &[&str] = &[
    "dir_backup_local",
    "dir_backup_remote",
    "email_sender",
    "email_report",
    "email_admin",
    "email",
    "timezone",
    "schedule",
    "retention",
    "smtp",
    "report",
    "history",
    "tasks",
];
pub(super) const TASK_KEYS: &[&str] = &[
    "name",
    "dir_source",
    "excludes",
    "one_file_system",
    "allow_empty_source",
    "acls_xattrs",
    "retention",
    "bwlimit_kbps",
    "engine",
];
pub(super) const RETENTION_COUNTS: &[&str] = &[
    "keep_last",
    "hourly",
    "daily",
    "weekly",
    "monthly",
    "yearly",
];
/// The keys of a retention policy, in the order SPEC §2 lists them (also the order
/// [`crate::config::edit::retention`] writes them).
pub(crate) const RETENTION_KEYS: [&str; 7] = [
    "keep_last",
    "hourly",
    "daily",
    "weekly",
    "monthly",
    "yearly",
    "keep_within",
];
pub(super) const SMTP_KEYS: &[&str] = &[
    "host",
    "port",
    "security",
    "username",
    "password_file",
    "ca_file",
    "timeout_secs",
];

/// Walks the tree and collects problems.
pub(super) struct Checker {
    pub(super) problems: Vec<Problem>,
}

/// A mapping's known keys (first occurrence each) after [`Checker::mapping`] reported the rest.
pub(super) struct Fields<'a> {
    pub(super) pos: Pos,
    pub(super) entries: Vec<(&'a str, &'a Node)>,
}

impl<'a> Fields<'a> {
    pub(super) fn get(&self, key: &str) -> Option<&'a Node> {
        self.entries
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }

    /// The value, unless absent or null.
    pub(super) fn optional(&self, key: &str) -> Option<&'a Node> {
        self.get(key).filter(|n| !n.is_null())
    }
}

/// `path.key`, or `key` at the top level.
pub(super) fn at(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// How a path is named in a sentence.
pub(super) fn name(path: &str) -> &str {
    if path.is_empty() {
        "the top level"
    } else {
        path
    }
}

impl Checker {
    pub(super) fn push(&mut self, pos: Pos, severity: Severity, message: String) {
        self.problems.push(Problem {
            line: pos.line,
            column: pos.column,
            severity,
            message,
        });
    }

    pub(super) fn error(&mut self, pos: Pos, message: String) {
        self.push(pos, Severity::Error, message);
    }

    pub(super) fn warning(&mut self, pos: Pos, message: String) {
        self.push(pos, Severity::Warning, message);
    }

    // --- generic shapes -----------------------------------------------------------------------------

    /// Checks that `node` is a mapping (null counts as an empty one), reports duplicate, odd and
    /// unknown keys, and returns the known ones.
    pub(super) fn mapping<'a>(
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
    pub(super) fn required<'a>(
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
    pub(super) fn text<'a>(&mut self, node: &'a Node, path: &str) -> Option<&'a str> {
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
    pub(super) fn number(
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

    pub(super) fn boolean(&mut self, node: &Node, path: &str) -> Option<bool> {
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
    pub(super) fn choice<'a>(
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
    pub(super) fn path_exists(
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

    pub(super) fn config(&mut self, root: &Node) {
        let Some(top) = self.mapping(root, "", TOP_KEYS) else {
            return;
        };

        let email_on = match top.get("email") {
            Some(node) => self.email_settings(node),
            None => true,
        };

        let fix =
            "add the folder that holds the snapshots, e.g. `dir_backup_local: /mnt/backup/local`";
        if let Some(node) = self.required(&top, "dir_backup_local", "", fix) {
            self.store_folder(node);
        }
        if let Some(node) = top.optional("dir_backup_remote") {
            self.endpoint(
                node,
                "dir_backup_remote",
                "the mirror step fails until it exists (is the drive mounted?)",
            );
        }

        for (key, example) in [
            ("email_sender", "you@gmail.com"),
            ("email_report", "you@example.com"),
        ] {
            let node = if email_on {
                let fix = format!(
                    "add `{key}: {example}`, or turn reports off with `email: {{enabled: false}}`"
                );
                self.required(&top, key, "", &fix)
            } else {
                top.optional(key)
            };
            if let Some(node) = node {
                self.email_address(node, key, false);
            }
        }
        if let Some(node) = top.optional("email_admin") {
            self.email_address(node, "email_admin", true);
        }

        if let Some(node) = top.optional("timezone") {
            if let Some(name) = self
                .text(node, "timezone")
                .map(str::trim)
                .filter(|n| !n.is_empty())
            {
                if name.parse::<Tz>().is_err() {
                    self.error(node.pos, unknown_zone_message("timezone", name));
                }
            }
        }
        if let Some(node) = top.get("schedule") {
            self.schedule(node);
        }
        if let Some(node) = top.get("retention") {
            self.retention(node, "retention", false);
        }
        if let Some(node) = top.get("smtp") {
            self.smtp(node);
        }
        if let Some(fields) = top
            .get("report")
            .and_then(|node| self.mapping(node, "report", &["when", "stale_after_days"]))
        {
            if let Some(node) = fields.get("when") {
                self.choice(node, "report.when", &["always", "failures"]);
            }
            if let Some(node) = fields.get("stale_after_days") {
                self.number(node, "report.stale_after_days", 0, u32::MAX.into(), "3");
            }
        }
        if let Some(fields) = top
            .get("history")
            .and_then(|node| self.mapping(node, "history", &["keep_days"]))
        {
            if let Some(node) = fields.get("keep_days") {
                self.number(node, "history.keep_days", 0, u32::MAX.into(), "365");
            }
        }

        let fix = "add at least one task, e.g. `tasks: [{name: Photos, dir_source: /srv/photos}]`";
        if let Some(node) = self.required(&top, "tasks", "", fix) {
            self.tasks(node, fix);
        }
    }

    /// `email: {enabled: ...}`; whether reports are on.
    pub(super) fn email_settings(&mut self, node: &Node) -> bool {
        let Some(fields) = self.mapping(node, "email", &["enabled"]) else {
            return true;
        };
        match fields.get("enabled") {
            Some(node) => self.boolean(node, "email.enabled").unwrap_or(true),
            None => true,
        }
    }

    pub(super) fn store_folder(&mut self, node: &Node) {
        let field = "dir_backup_local";
        let Some(dir) = self.text(node, field) else {
            return;
        };
        if !dir.starts_with('/') {
            self.error(
                node.pos,
                format!(
                    "{field} {} must be an absolute path on this machine, starting with '/', e.g. /mnt/backup/local",
                    shown(dir)
                ),
            );
        } else if dir.chars().any(char::is_control) {
            self.error(
                node.pos,
                format!(
                    "{field} {} contains a control character (newline, tab, ...)",
                    shown(dir)
                ),
            );
        } else {
            self.path_exists(
                dir,
                node.pos,
                field,
                "create it or mount the drive: backups fail until it exists",
            );
        }
    }

    /// A local folder or an SSH address (`dir_source`, `dir_backup_remote`).
    pub(super) fn endpoint(&mut self, node: &Node, field: &str, consequence: &str) {
        let Some(text) = self.text(node, field) else {
            return;
        };
        match text.parse::<Endpoint>() {
            Ok(Endpoint::Local(dir)) => self.path_exists(&dir.to_string_lossy(), node.pos, field, consequence),
            Ok(Endpoint::Ssh(_)) => {}
            Err(e) => self.error(
                node.pos,
                format!(
                    "{field} is not valid: {e}; write an absolute path, user@host:/path or ssh://user@host:port/path"
                ),
            ),
        }
    }

    /// `allow_empty`: `""` means "none" (as the original allowed for `email_admin`).
    pub(super) fn email_address(&mut self, node: &Node, field: &str, allow_empty: bool) {
        let Some(text) = self.text(node, field) else {
            return;
        };
        if allow_empty && text.trim().is_empty() {
            return;
        }
        if !looks_like_email(text) {
            self.error(
                node.pos,
                format!(
                    "{field} {} does not look like an email address; write it as name@example.com",
                    shown(text)
                ),
            );
        }
    }

    pub(super) fn schedule(&mut self, node: &Node) {
        let Some(fields) = self.mapping(node, "schedule", &["cron", "enabled"]) else {
            return;
        };
        if let Some(node) = fields.get("cron") {
            if node.is_null() {
                self.error(
                    node.pos,
                    "schedule.cron is empty: write a 5-field cron expression such as \"0 2 * * *\", or remove the \
                     line to use that default"
                        .into(),
                );
            } else if let Some(cron) = self.text(node, "schedule.cron") {
                if let Err(e) = crate::schedule::Cron::parse(cron) {
                    self.error(node.pos, e.to_string());
                }
            }
        }
        if let Some(node) = fields.get("enabled") {
            self.boolean(node, "schedule.enabled");
        }
    }

    /// The global policy, or a task's override (whose fields may be null: "not overridden").
    pub(super) fn retention(&mut self, node: &Node, path: &str, is_override: bool) {
        let Some(fields) = self.mapping(node, path, &RETENTION_KEYS) else {
            return;
        };
        for key in RETENTION_COUNTS {
            if let Some(node) = fields.get(key) {
                if !(is_override && node.is_null()) {
                    self.number(node, &at(path, key), 0, u32::MAX.into(), "7");
                }
            }
        }
        if let Some(node) = fields.optional("keep_within") {
            let field = at(path, "keep_within");
            if let Some(text) = self.text(node, &field) {
                if let Err(e) = text.parse::<KeepWithin>() {
                    self.error(node.pos, format!("{field} is not valid: {e}"));
                }
            }
        }
    }

    pub(super) fn smtp(&mut self, node: &Node) {
        let Some(fields) = self.mapping(node, "smtp", SMTP_KEYS) else {
            return;
        };
        if let Some(node) = fields.get("host") {
            if node.is_null() {
                self.error(node.pos, "smtp.host is empty: write the mail server's name, or remove the line to use smtp.gmail.com".into());
            } else if let Some(host) = self.text(node, "smtp.host") {
                if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    self.error(
                        node.pos,
                        format!(
                            "smtp.host {} is not a host name; write e.g. smtp.example.com",
                            shown(host)
                        ),
                    );
                }
            }
        }
        if let Some(node) = fields.get("port") {
            self.number(node, "smtp.port", 1, 65_535, "465");
        }
        if let Some(node) = fields.get("security") {
            self.choice(node, "smtp.security", &["tls", "starttls", "none"]);
        }
        if let Some(node) = fields.optional("username") {
            if self
                .text(node, "smtp.username")
                .is_some_and(|u| u.trim().is_empty())
            {
                self.error(
                    node.pos,
                    "smtp.username is empty: remove the line to log in as email_sender".into(),
                );
            }
        }
        if let Some(node) = fields.optional("password_file") {
            let field = "smtp.password_file";
            match self.text(node, field) {
                Some(file) if file.trim().is_empty() => self.error(
                    node.pos,
                    format!("{field} is empty: remove the line, or write the path of a file that holds the password"),
                ),
                Some(file) => self.path_exists(
                    file,
                    node.pos,
                    field,
                    "create it (the password on one line) or remove the line to use MNEMOSYNCE_SMTP_PASSWORD or \
                     secrets/smtp_password",
                ),
                None => {}
            }
        }
        if let Some(node) = fields.optional("ca_file") {
            let field = "smtp.ca_file";
            match self.text(node, field) {
                Some(file) if file.trim().is_empty() => self.error(
                    node.pos,
                    format!("{field} is empty: remove the line, or write the path of a PEM file with the CA certificate"),
                ),
                Some(file) => self.path_exists(
                    file,
                    node.pos,
                    field,
                    "write the path of the PEM file that holds your mail server's CA certificate",
                ),
                None => {}
            }
        }
        if let Some(node) = fields.get("timeout_secs") {
            self.number(node, "smtp.timeout_secs", 1, 600, "30");
        }
    }

    pub(super) fn tasks(&mut self, node: &Node, fix: &str) {
        let Kind::Seq(items) = &node.kind else {
            self.error(
                node.pos,
                format!(
                    "tasks must be a list, one `- name: ...` entry per task, but it is {}; {fix}",
                    node.describe()
                ),
            );
            return;
        };
        if items.is_empty() {
            self.error(node.pos, format!("tasks is an empty list: {fix}"));
        }
        // name -> (the task that has it, where)
        let mut names: HashMap<&str, (String, Pos)> = HashMap::new();
        for (i, item) in items.iter().enumerate() {
            let path = format!("tasks[{i}]");
            self.task(item, &path, &mut names);
        }
    }

    pub(super) fn task<'a>(
        &mut self,
        node: &'a Node,
        path: &str,
        names: &mut HashMap<&'a str, (String, Pos)>,
    ) {
        let Some(fields) = self.mapping(node, path, TASK_KEYS) else {
            return;
        };

        let fix =
            "give the task a name such as `name: Photos`; it is the name of the task's folder";
        if let Some(node) = self.required(&fields, "name", path, fix) {
            let field = at(path, "name");
            if let Some(name) = self.text(node, &field) {
                if let Err(why) = check_task_name(name) {
                    self.error(
                        node.pos,
                        format!("{field} {} is not a valid task name: {why}", shown(name)),
                    );
                } else if let Some((first, pos)) = names.get(name) {
                    self.error(
                        node.pos,
                        format!(
                            "{field} {} is used twice (first by {first} on line {}): each task needs its own name, \
                             because the name is its folder; rename one of them",
                            shown(name),
                            pos.line
                        ),
                    );
                } else {
                    names.insert(name, (path.to_string(), node.pos));
                }
            }
        }

        let fix = "add where to back up from, e.g. `dir_source: /srv/photos` or `dir_source: user@host:/home/user`";
        let source = self.required(&fields, "dir_source", path, fix);
        if let Some(node) = source {
            let consequence = "this task fails until it exists (a drive may be unmounted)";
            self.endpoint(node, &at(path, "dir_source"), consequence);
        }

        if let Some(node) = fields.optional("excludes") {
            let field = at(path, "excludes");
            match &node.kind {
                Kind::Seq(items) => {
                    for (i, item) in items.iter().enumerate() {
                        let item_path = format!("{field}[{i}]");
                        if item.is_null() {
                            self.error(item.pos, format!("{item_path} is empty: remove it, or write a pattern such as \"*.tmp\""));
                        } else {
                            self.text(item, &item_path);
                        }
                    }
                }
                _ => self.error(
                    node.pos,
                    format!("{field} must be a list of patterns, e.g. `excludes: [\"*.tmp\", .cache/]`, but it is {}", node.describe()),
                ),
            }
        }
        for key in ["one_file_system", "allow_empty_source", "acls_xattrs"] {
            if let Some(node) = fields.get(key) {
                self.boolean(node, &at(path, key));
            }
        }
        if let Some(node) = fields.get("retention") {
            self.retention(node, &at(path, "retention"), true);
        }
        if let Some(node) = fields.optional("bwlimit_kbps") {
            self.number(node, &at(path, "bwlimit_kbps"), 1, 100_000_000, "10000");
        }
        if let Some(node) = fields.optional("engine") {
            self.engine(node, path, source);
        }
    }

    /// `tasks[].engine`: a known engine, and `native` only for a local source.
    pub(super) fn engine(&mut self, node: &Node, path: &str, source: Option<&Node>) {
        let field = at(path, "engine");
        let options = TransferEngine::ALL.map(TransferEngine::as_str);
        if self.choice(node, &field, &options) != Some(TransferEngine::Native.as_str()) {
            return;
        }
        // An invalid or missing dir_source is reported on its own line already.
        let Some(source) = source else { return };
        let Kind::Scalar { text, .. } = &source.kind else {
            return;
        };
        if let Ok(Endpoint::Ssh(_)) = text.parse::<Endpoint>() {
            self.error(
                node.pos,
                format!(
                    "{field} is native, but {} {} (line {}) is an SSH source: native snapshots only \
                     local folders; use engine: rsync or remove the key",
                    at(path, "dir_source"),
                    shown(text.trim()),
                    source.pos.line
                ),
            );
        }
    }
}

/// A plausible `name@domain`: one `@`, something on both sides, no spaces or list punctuation.
pub(super) fn looks_like_email(text: &str) -> bool {
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

pub(super) fn unknown_zone_message(field: &str, name: &str) -> String {
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
pub(super) fn closest<'k>(
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
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    strsim::levenshtein(&a.to_ascii_lowercase(), &b.to_ascii_lowercase())
}
