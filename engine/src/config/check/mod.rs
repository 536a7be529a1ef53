//! Pass 2 of [`super::check_str`]: the tree against the schema.
//!
//! A `Checker` walks the tree the way the schema describes it: required keys, types, task names,
//! endpoints, addresses, time zone, cron expression (`crate::schedule`), numbers in range. It never
//! stops at the first mistake: it records a [`Problem`] and moves on. Unknown keys and paths that do
//! not exist are warnings (a drive may be unmounted while the user edits); an unknown key gets a "did
//! you mean" suggestion. [`values`] checks one value of a type (text, number, choice, path);
//! [`sections`] checks each part of the schema (email, store, schedule, retention, smtp, tasks).

use chrono_tz::Tz;

use super::tree::{Node, Pos};
use super::{Problem, Severity};

mod sections;
mod values;

pub(super) use values::unknown_zone_message;

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
    "metrics",
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
/// The counting keys of a retention policy: all of [`RETENTION_KEYS`] but `keep_within`.
pub(super) const RETENTION_COUNTS: &[&str] = RETENTION_KEYS.split_at(6).0;
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

        if let Some(fields) = top
            .get("metrics")
            .and_then(|node| self.mapping(node, "metrics", &["token_file"]))
        {
            if let Some(node) = fields.optional("token_file") {
                let field = "metrics.token_file";
                match self.text(node, field) {
                    Some(file) if file.trim().is_empty() => self.error(
                        node.pos,
                        format!("{field} is empty: remove the line (metrics for signed-in browsers only), or write the path of a file that holds the token"),
                    ),
                    Some(file) => self.path_exists(
                        file,
                        node.pos,
                        field,
                        "create it (a long random token on one line, e.g. `openssl rand -hex 32`), or remove the line",
                    ),
                    None => {}
                }
            }
        }

        let fix = "add at least one task, e.g. `tasks: [{name: Photos, dir_source: /srv/photos}]`";
        if let Some(node) = self.required(&top, "tasks", "", fix) {
            self.tasks(node, fix);
        }
    }
}
