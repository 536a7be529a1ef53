//! The SMTP password of the email settings page, in `<data>/secrets/smtp_password`; the email keys
//! of the configuration are [`crate::config::edit::email`].
//!
//! The password is never in the configuration and never goes back to the browser: the page only
//! learns *whether* one is stored. It is written whole ([`crate::atomic`], mode 0600) into
//! `secrets/` (0700), bound to the SMTP server it was typed for ([`crate::mail::binding`]).

use crate::data_dir::DataDir;
use std::path::PathBuf;

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
