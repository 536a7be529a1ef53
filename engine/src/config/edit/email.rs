//! The email page's block: `email_sender`, `email_report` and `email_admin` (each its own line,
//! edited in place when it is there), the `email:` entry (`enabled`) and the `smtp:` entry, written
//! anew from the form. The `smtp:` keys the page does not show (`password_file`, `ca_file`,
//! `timeout_secs`) are carried over from the file, but comments inside the `smtp:` block are not.
//! The password is not here: it lives in `secrets/` ([`crate::mail::settings`]).

use super::{replace_block, set_top_level_scalar, yaml_quote, Edit, EditError};
use crate::model::config::SmtpSettings;

/// The fields of the email settings form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailEdit<'a> {
    pub enabled: bool,
    pub sender: &'a str,
    pub report: &'a str,
    /// Empty: nobody besides `report`.
    pub admin: &'a str,
    pub host: &'a str,
    pub port: u16,
    /// `tls`, `starttls` or `none`.
    pub security: &'a str,
    /// Empty: log in as `sender`.
    pub username: &'a str,
}

/// The configuration text with the form's values; `current` is the file's `smtp:` as read, for the
/// keys the form does not show.
pub fn apply(
    text: &str,
    form: &EmailEdit<'_>,
    current: &SmtpSettings,
) -> Result<String, EditError> {
    if !matches!(form.security, "tls" | "starttls" | "none") {
        return Err(EditError::BadInput {
            key: "smtp".into(),
            reason: format!(
                "security {:?} is not one of tls, starttls, none",
                form.security
            ),
        });
    }
    let mut text = text.to_string();
    for (key, value) in [
        ("email_sender", form.sender),
        ("email_report", form.report),
        ("email_admin", form.admin),
    ] {
        text = set_top_level_scalar(&text, key, value.trim())?;
    }
    text = replace_block(
        &text,
        "email",
        &format!("email:\n  enabled: {}\n", form.enabled),
    )?;
    let mut smtp = format!(
        "smtp:\n  host: {}\n  port: {}\n  security: {}\n",
        yaml_quote(form.host.trim()),
        form.port,
        form.security
    );
    if !form.username.trim().is_empty() {
        smtp.push_str(&format!(
            "  username: {}\n",
            yaml_quote(form.username.trim())
        ));
    }
    for (key, path) in [
        ("password_file", &current.password_file),
        ("ca_file", &current.ca_file),
    ] {
        if let Some(p) = path {
            smtp.push_str(&format!("  {key}: {}\n", yaml_quote(&p.to_string_lossy())));
        }
    }
    smtp.push_str(&format!("  timeout_secs: {}\n", current.timeout_secs));
    replace_block(&text, "smtp", &smtp)
}

/// The email page's edit for [`crate::config::edit::update`]: [`apply`] of the form, with `current`
/// the `smtp:` settings of the configuration the page read.
pub struct EmailUpdate<'a> {
    pub form: EmailEdit<'a>,
    pub current: &'a SmtpSettings,
}

impl Edit for EmailUpdate<'_> {
    fn apply(&self, current: Option<&str>) -> Result<String, EditError> {
        apply(current.ok_or(EditError::NoFile)?, &self.form, self.current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::check_str;
    const FILE: &str = "# my config\ndir_backup_local: /srv/b   # the store\nemail_sender: old@example.com\n\
        email_report: me@example.com\nsmtp:\n  host: smtp.example.com\n  password_file: /etc/pw\n  timeout_secs: 12\n\
        tasks:\n  - name: A   # keep me\n    dir_source: /srv/a\n";

    fn form() -> EmailEdit<'static> {
        EmailEdit {
            enabled: true,
            sender: "new@example.com",
            report: "me@example.com",
            admin: "",
            host: "mail.example.net",
            port: 587,
            security: "starttls",
            username: "",
        }
    }

    #[test]
    fn the_form_lands_in_the_file_and_the_rest_stays() {
        let current = check_str(FILE).config.unwrap().smtp;
        let out = apply(FILE, &form(), &current).unwrap();
        let c = check_str(&out).config.expect("still valid");
        assert_eq!(c.email_sender.as_deref(), Some("new@example.com"));
        assert_eq!(c.smtp.host, "mail.example.net");
        assert_eq!(c.smtp.port, 587);
        // Keys the page does not show are carried over.
        assert_eq!(
            c.smtp.password_file.as_deref(),
            Some(std::path::Path::new("/etc/pw"))
        );
        assert_eq!(c.smtp.timeout_secs, 12);
        assert!(out.starts_with("# my config\ndir_backup_local: /srv/b   # the store\n"));
        assert!(out.contains("  - name: A   # keep me\n"));
    }

    #[test]
    fn a_value_cannot_smuggle_yaml() {
        let current = check_str(FILE).config.unwrap().smtp;
        let mut f = form();
        f.host = "x\"\nevil: 1";
        let out = apply(FILE, &f, &current).unwrap();
        let checked = check_str(&out);
        assert!(!out.contains("\nevil: 1"), "{out}");
        // The host is one (bad) value, reported as such; no key `evil` appeared.
        assert!(
            checked
                .problems
                .iter()
                .any(|p| p.is_error() && p.message.starts_with("smtp.host")),
            "{:?}",
            checked.problems
        );
        assert!(
            checked
                .problems
                .iter()
                .all(|p| !p.message.contains("not a known key")),
            "{:?}",
            checked.problems
        );
        f.security = "ssl";
        assert!(apply(FILE, &f, &current).is_err());
    }
}
