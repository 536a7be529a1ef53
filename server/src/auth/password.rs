//! The admin password: an argon2id hash (PHC string) in the database's `settings` table, key
//! [`PASSWORD_KEY`].
//!
//! Hashing and checking run on the blocking pool; checking is argon2's own constant-time
//! comparison. Setting a password removes the setup code and ends every session (a new password
//! signs out every browser). `MNEMOSYNCE_ADMIN_PASSWORD` ([`PASSWORD_ENV`]) only seeds the first
//! password (see `signin.rs`). Used by the web forms (`handlers.rs`) and `mnemosynce passwd`.

use super::session::end_all_sessions;
use super::setup_code::setup_code_file;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use engine::data_dir::DataDir;
use engine::history::History;
use std::path::PathBuf;

/// The `settings` key of the admin's password hash.
pub const PASSWORD_KEY: &str = "admin_password_argon2id";
/// The environment variable that seeds the first password.
pub const PASSWORD_ENV: &str = "MNEMOSYNCE_ADMIN_PASSWORD";
/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Why a password could not be set or checked.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the password is too short: use at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("cannot hash the password: {0}")]
    Hash(String),
    #[error("cannot read or write the password in the database: {0}")]
    Database(#[from] engine::history::HistoryError),
    #[error("cannot write {}: {source}", path.display())]
    SetupCode {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Hashes a password with argon2id (OWASP parameters: 19 MiB, 2 passes), on the blocking pool.
pub async fn hash_password(password: &str) -> Result<String, AuthError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AuthError::TooShort);
    }
    let password = password.to_string();
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        getrandom::getrandom(&mut salt).map_err(|e| AuthError::Hash(e.to_string()))?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| AuthError::Hash(e.to_string()))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AuthError::Hash(e.to_string()))
    })
    .await
    .map_err(|e| AuthError::Hash(e.to_string()))?
}

/// Checks a password against a stored hash (false for a malformed hash).
pub async fn verify_password(password: &str, hash: &str) -> bool {
    let (password, hash) = (password.to_string(), hash.to_string());
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// Sets the admin password: stores its hash, removes the setup code and ends every session (a new
/// password signs out every browser).
pub async fn set_password(
    history: &History,
    data: &DataDir,
    password: &str,
) -> Result<(), AuthError> {
    let hash = hash_password(password).await?;
    history.set_setting(PASSWORD_KEY, &hash).await?;
    let _ = std::fs::remove_file(setup_code_file(data));
    // The sessions table exists once a server has run; before that there is nothing to end.
    let _ = end_all_sessions(history).await;
    Ok(())
}

/// True once an admin password exists.
pub async fn has_password(history: &History) -> Result<bool, AuthError> {
    Ok(history.setting(PASSWORD_KEY).await?.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_are_argon2id_and_checked() {
        let hash = hash_password("correct horse battery").await.unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse battery", &hash).await);
        assert!(!verify_password("correct horse batterY", &hash).await);
        assert!(!verify_password("x", "not a hash").await);
        assert!(matches!(
            hash_password("short").await,
            Err(AuthError::TooShort)
        ));
    }
}
