//! The email settings page's two writes: the email keys of `backup_config.yml`, and the SMTP password
//! in `<data>/secrets/smtp_password`.
//!
//! What changes in the file: `email_sender`, `email_report` and `email_admin` (each its own line,
//! edited in place when it is there), the `email:` entry (`enabled`) and the `smtp:` entry, which is
//! written anew from the form — the keys the page does not show (`password_file`, `ca_file`,
//! `timeout_secs`) are carried over from the file, but comments inside the `smtp:` block are not.
//! Everything else in the file stays byte for byte (see [`crate::config::edit`]), and saving goes
//! through [`crate::config::edit::update`], so a form that makes the configuration invalid writes
//! nothing.
//!
//! The password is never in the configuration and never goes back to the browser: the page only
//! learns *whether* one is stored. It is written whole ([`crate::atomic`], mode 0600) into
//! `secrets/` (0700), bound to the SMTP server it was typed
//! for ([`crate::mail::binding`]).

use crate::config::edit::{replace_block, set_top_level_scalar, yaml_quote, EditError};
use crate::data_dir::DataDir;
use crate::model::config::SmtpSettings;
use std::path::PathBuf;

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

impl crate::config::edit::Edit for EmailUpdate<'_> {
    fn apply(&self, current: Option<&str>) -> Result<String, EditError> {
        apply(current.ok_or(EditError::NoFile)?, &self.form, self.current)
    }
}

/// Where the stored password lives.
pub fn password_path(data: &DataDir) -> PathBuf {
    data.secrets().join("smtp_password")
}

/// Whether a password is stored in `secrets/`.
pub fn password_stored(data: &DataDir) -> bool {
    std::fs::metadata(password_path(data)).is_ok_and(|m| m.is_file() && m.len() > 0)
}

/// Stores the SMTP password (replacing the one stored), bound to `endpoint`: it is only ever sent
/// there (see [`crate::mail::binding`]). Refuses an empty one and one with a line break (the file
/// holds one line).
pub fn store_password(
    data: &DataDir,
    password: &str,
    endpoint: &crate::mail::binding::SmtpEndpoint,
) -> std::io::Result<()> {
    if password.is_empty() || password.contains(['\n', '\r']) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the password must be one line and not empty",
        ));
    }
    write_secret(data, "smtp_password", &format!("{password}\n"))?;
    crate::mail::binding::bind(data, endpoint)
}

/// Deletes the stored password and its binding (the SMTP server changed and no new password was
/// given: the old one must not follow it there).
pub fn forget_password(data: &DataDir) -> std::io::Result<()> {
    match std::fs::remove_file(password_path(data)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    crate::mail::binding::forget(data)
}

/// Writes `<data>/secrets/<name>` whole ([`crate::atomic::write`], mode 0600 from its creation) into
/// `secrets/` (0700).
pub(crate) fn write_secret(data: &DataDir, name: &str, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let dir = data.secrets();
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
    crate::atomic::write(&dir.join(name), text.as_bytes(), 0o600)
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

    #[test]
    fn the_password_is_stored_0600_and_never_empty() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path());
        let at =
            crate::mail::binding::SmtpEndpoint::from_form("smtp.example.com", 465, "tls", "me");
        assert!(!password_stored(&data));
        assert!(store_password(&data, "", &at).is_err());
        assert!(store_password(&data, "a\nb", &at).is_err());
        store_password(&data, "s3cret pass", &at).unwrap();
        assert_eq!(crate::mail::binding::bound(&data).unwrap(), Some(at));
        assert!(password_stored(&data));
        let meta = std::fs::metadata(password_path(&data)).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let dir_mode = std::fs::metadata(data.secrets())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        assert_eq!(
            std::fs::read_to_string(password_path(&data)).unwrap(),
            "s3cret pass\n"
        );
    }
}
