//! Checks of each part of the schema: email, the store folder, endpoints, schedule, retention, smtp,
//! tasks and their transfer engine.

use std::collections::HashMap;

use super::values::{at, looks_like_email};
use super::{Checker, RETENTION_COUNTS, RETENTION_KEYS, SMTP_KEYS, TASK_KEYS};
use crate::config::check_task_name;
use crate::config::tree::{shown, Kind, Node, Pos};
use crate::model::config::{Endpoint, KeepWithin, TransferEngine};

impl Checker {
    /// `email: {enabled: ...}`; whether reports are on.
    pub(in crate::config) fn email_settings(&mut self, node: &Node) -> bool {
        let Some(fields) = self.mapping(node, "email", &["enabled"]) else {
            return true;
        };
        match fields.get("enabled") {
            Some(node) => self.boolean(node, "email.enabled").unwrap_or(true),
            None => true,
        }
    }

    pub(in crate::config) fn store_folder(&mut self, node: &Node) {
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
    pub(in crate::config) fn endpoint(&mut self, node: &Node, field: &str, consequence: &str) {
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
    pub(in crate::config) fn email_address(&mut self, node: &Node, field: &str, allow_empty: bool) {
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

    pub(in crate::config) fn schedule(&mut self, node: &Node) {
        let Some(fields) = self.mapping(node, "schedule", &["cron", "enabled", "catch_up"]) else {
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
        if let Some(node) = fields.get("catch_up") {
            self.boolean(node, "schedule.catch_up");
        }
    }

    /// The global policy, or a task's override (whose fields may be null: "not overridden").
    pub(in crate::config) fn retention(&mut self, node: &Node, path: &str, is_override: bool) {
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

    pub(in crate::config) fn smtp(&mut self, node: &Node) {
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

    pub(in crate::config) fn tasks(&mut self, node: &Node, fix: &str) {
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

    pub(in crate::config) fn task<'a>(
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
    pub(in crate::config) fn engine(&mut self, node: &Node, path: &str, source: Option<&Node>) {
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
