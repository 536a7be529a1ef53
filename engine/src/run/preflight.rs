//! The preflight step: the source is reachable and the store root is present, writable and able to
//! hard-link (SPEC §4.4, §6), before anything is written.
//!
//! Invariants: preflight changes nothing on disk (the store's probe file is removed again); a
//! missing local source is only a warning here — the backup step's empty-source guard judges it; an
//! SSH source is proved by logging in (the connection stays open for the transfer), or by a listing
//! where connections cannot be shared.

use super::context::RunContext;
use super::step_log::StepReporter;
use crate::model::config::{Endpoint, SshEndpoint, Task};
use crate::model::events::LogLevel;
use crate::store::{self, StoreError};
use crate::transfer::StepSink;
use std::path::PathBuf;

/// What preflight found out, for the later steps.
#[derive(Clone, Debug, Default)]
pub(super) struct Preflight {
    /// Copy ACLs and xattrs (the task wants them and the store keeps them).
    pub(super) xattrs: bool,
    /// The source has no entries (or is missing); `None` for an SSH source preflight only logged
    /// in to (its emptiness is judged from what the transfer brought).
    pub(super) source_empty: Option<bool>,
}

/// Why the source or the store is not ready.
#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    /// The store root is missing, not a folder, not writable or without hard links.
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot read the source {}: {source}", path.display())]
    SourceUnreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the source {} is not a folder", .0.display())]
    SourceNotAFolder(PathBuf),
    #[error("{endpoint} needs an SSH key and there is none yet: generate one (mnemosynce keys generate NAME) and add its public line to ~/.ssh/authorized_keys on {}", endpoint.host)]
    NoSshKey { endpoint: SshEndpoint },
    /// Logging in to the SSH source failed (the ssh module's one-line explanation with its fix).
    #[error("{0}")]
    Ssh(String),
}

impl RunContext {
    /// Source reachable, store root present, writable and able to hard-link.
    pub(super) async fn preflight(
        &self,
        task: &Task,
        out: &StepReporter,
    ) -> Result<Preflight, PreflightError> {
        let xattrs = store::check_root(&self.config.dir_backup_local)?;
        let source_empty = match &task.dir_source {
            Endpoint::Local(path) => match std::fs::metadata(path) {
                Ok(m) if m.is_dir() => {
                    let mut entries = std::fs::read_dir(path).map_err(|source| {
                        PreflightError::SourceUnreadable {
                            path: path.clone(),
                            source,
                        }
                    })?;
                    Some(entries.next().is_none())
                }
                Ok(_) => return Err(PreflightError::SourceNotAFolder(path.clone())),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    // A missing source is judged by the empty-source guard of the backup step.
                    out.log(
                        LogLevel::Warn,
                        &format!("the source {} does not exist", path.display()),
                    );
                    Some(true)
                }
                Err(source) => {
                    return Err(PreflightError::SourceUnreadable {
                        path: path.clone(),
                        source,
                    })
                }
            },
            Endpoint::Ssh(e) => {
                let ssh = self.ssh();
                if ssh.keys().is_empty() {
                    return Err(PreflightError::NoSshKey {
                        endpoint: e.clone(),
                    });
                }
                // Logging in proves connection, host key and key, and leaves the connection open
                // for the transfer: a missing path or rsync shows in the transfer itself, and an
                // empty source in what it brought. Where connections cannot be shared, a listing
                // proves all of it in one go.
                match ssh.open_shared(e).await {
                    Ok(true) => None,
                    Ok(false) => match crate::ssh::list_remote(&ssh, e, None).await {
                        Ok(entries) => Some(entries.is_empty()),
                        Err(crate::ssh::RemoteError::Missing) => {
                            out.log(
                                LogLevel::Warn,
                                &format!("the source {} does not exist on {}", e.path, e.host),
                            );
                            Some(true)
                        }
                        Err(crate::ssh::RemoteError::Failed(m)) => {
                            return Err(PreflightError::Ssh(m))
                        }
                    },
                    Err(m) => return Err(PreflightError::Ssh(m)),
                }
            }
        };
        if task.acls_xattrs && !xattrs {
            out.log(
                LogLevel::Warn,
                "the store's filesystem does not keep extended attributes; ACLs and xattrs are not copied",
            );
        }
        Ok(Preflight {
            xattrs: xattrs && task.acls_xattrs,
            source_empty,
        })
    }
}
