//! The server functions of the SSH keys page (and the wizard's second step): the app's key pairs,
//! generated and deleted by `engine::ssh::keys`; only public data leaves the server.

use super::error::ApiError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A key pair as the keys page shows it: public data only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyView {
    pub name: String,
    pub algorithm: String,
    pub fingerprint: String,
    pub comment: String,
    /// The line for `~/.ssh/authorized_keys`.
    pub public_line: String,
    pub problem: Option<String>,
}

impl KeyView {
    /// A command to run on the remote machine that adds the key (what `ssh-copy-id` does): the key
    /// line is shell-quoted whole, so even a comment with quotes from an older key stays data.
    pub fn install_command(&self) -> String {
        engine::model::connection::key_install_command(&self.public_line)
    }
}

/// The engine's key as the page shows it (public data only).
#[cfg(feature = "ssr")]
fn key_view(k: engine::ssh::keys::KeyInfo) -> KeyView {
    KeyView {
        name: k.name,
        algorithm: k.algorithm,
        fingerprint: k.fingerprint,
        comment: k.comment,
        public_line: k.public_line,
        problem: k.problem,
    }
}

/// The app's key pairs.
#[server(endpoint = "get_keys")]
pub async fn get_keys() -> Result<Vec<KeyView>, ApiError> {
    use crate::api::server_side::{admin, fail};
    let b = admin().await?;
    Ok(engine::ssh::keys::list(&b.data.ssh())
        .map_err(fail)?
        .into_iter()
        .map(key_view)
        .collect())
}

/// Generates an ed25519 key pair.
#[server(endpoint = "generate_key")]
pub async fn generate_key(name: String, comment: String) -> Result<KeyView, ApiError> {
    use crate::api::server_side::{admin, fail};
    let b = admin().await?;
    let comment = if comment.trim().is_empty() {
        format!("mnemosynce@{name}")
    } else {
        comment
    };
    engine::ssh::keys::generate(&b.data.ssh(), name.trim(), comment.trim())
        .map(key_view)
        .map_err(fail)
}

/// Deletes a key pair.
#[server(endpoint = "delete_key")]
pub async fn delete_key(name: String) -> Result<(), ApiError> {
    use crate::api::server_side::{admin, fail};
    let b = admin().await?;
    engine::ssh::keys::delete(&b.data.ssh(), &name).map_err(fail)
}
