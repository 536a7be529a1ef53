//! The data directory (SPEC §1): where the configuration, database, keys, secrets and logs live.
//!
//! Everything Mnemosynce writes, other than snapshots, goes under this one folder; nothing goes to the
//! process's working directory. [`DataDir`] names every path in it.
//!
//! It holds the session store, password hash, keys and secrets, so it is the owner's alone (SPEC §11):
//! the folder and `logs/`, `ssh/`, `secrets/` are `0700`, the database, its `-wal`/`-shm`, the setup
//! code and the run lock `0600` ([`DataDir::secure`], run at every start; the binary also sets its
//! umask to `077`, so whatever it creates later is owner-only too).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The data directory could not be created (`DataDir::create`).
#[derive(Debug, thiserror::Error)]
#[error("cannot create the data directory {}: {source}", path.display())]
pub struct CreateError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// Paths inside one data directory.
#[derive(Clone, Debug)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> DataDir {
        DataDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `backup_config.yml`, unless `--config` names another file.
    pub fn config_file(&self) -> PathBuf {
        self.root.join("backup_config.yml")
    }

    /// The SQLite database.
    pub fn database(&self) -> PathBuf {
        self.root.join("mnemosynce.db")
    }

    /// The lock that keeps runs of all processes on this data directory apart.
    pub fn run_lock(&self) -> PathBuf {
        self.root.join("run.lock")
    }

    /// Per-run log folders: `logs/<run-id>/`.
    pub fn logs(&self) -> PathBuf {
        self.root.join("logs")
    }

    /// The log folder of one run.
    pub fn run_logs(&self, run_id: i64) -> PathBuf {
        self.logs().join(run_id.to_string())
    }

    /// `ssh/`: the app's key pairs and `known_hosts`.
    pub fn ssh(&self) -> crate::ssh::SshDir {
        crate::ssh::SshDir::new(self.root.join("ssh"))
    }

    /// `secrets/`: passwords kept out of the configuration (e.g. `smtp_password`).
    pub fn secrets(&self) -> PathBuf {
        self.root.join("secrets")
    }

    /// Creates the data directory (and its parents) if missing, owner-only.
    pub fn create(&self) -> Result<(), CreateError> {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.root)
            .map_err(|source| CreateError {
                path: self.root.clone(),
                source,
            })
    }

    /// Makes the data directory and what it holds owner-only where an earlier version (or a hand
    /// copy) left them readable by others: the folder and `logs/`, `ssh/`, `secrets/` `0700`; the
    /// database and its journal files, the setup code and the run lock `0600`. Symlinks are left
    /// alone. Returns what was changed, for the log.
    pub fn secure(&self) -> Vec<ModeFix> {
        let mut fixes = Vec::new();
        let dirs = [
            self.root.clone(),
            self.logs(),
            self.root.join("ssh"),
            self.secrets(),
        ];
        let db = self.database();
        let files = [
            db.clone(),
            PathBuf::from(format!("{}-wal", db.display())),
            PathBuf::from(format!("{}-shm", db.display())),
            self.root.join("setup-code"),
            self.run_lock(),
        ];
        for (path, wanted, is_dir) in dirs
            .into_iter()
            .map(|p| (p, 0o700, true))
            .chain(files.into_iter().map(|p| (p, 0o600, false)))
        {
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.is_dir() != is_dir || meta.file_type().is_symlink() {
                continue;
            }
            let mode = meta.permissions().mode() & 0o7777;
            if mode & 0o077 == 0 {
                continue;
            }
            let new = mode & !0o077 & 0o7777;
            let new = if new & 0o700 == 0 { wanted } else { new };
            let result = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(new));
            fixes.push(ModeFix {
                path,
                from: mode,
                to: new,
                error: result.err().map(|e| e.to_string()),
            });
        }
        fixes
    }
}

/// One mode [`DataDir::secure`] changed (or could not change).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModeFix {
    pub path: PathBuf,
    pub from: u32,
    pub to: u32,
    /// Why the change failed, if it did.
    pub error: Option<String>,
}

impl std::fmt::Display for ModeFix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.error {
            None => write!(
                f,
                "{} was readable by other users (mode {:o}); now owner-only ({:o})",
                self.path.display(),
                self.from,
                self.to
            ),
            Some(e) => write!(
                f,
                "{} is readable by other users (mode {:o}) and cannot be made owner-only: {e}",
                self.path.display(),
                self.from
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn secure_makes_an_old_data_directory_owner_only() {
        let tmp = tempfile::tempdir().unwrap();
        let data = DataDir::new(tmp.path().join("data"));
        data.create().unwrap();
        assert_eq!(mode(data.root()), 0o700);
        std::fs::set_permissions(data.root(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::create_dir(data.logs()).unwrap();
        std::fs::set_permissions(data.logs(), std::fs::Permissions::from_mode(0o755)).unwrap();
        for f in [data.database(), tmp.path().join("data/mnemosynce.db-wal")] {
            std::fs::write(&f, b"x").unwrap();
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        let fixes = data.secure();
        assert_eq!(fixes.len(), 4, "{fixes:?}");
        assert!(fixes.iter().all(|f| f.error.is_none()));
        assert_eq!(mode(data.root()), 0o700);
        assert_eq!(mode(&data.logs()), 0o700);
        assert_eq!(mode(&data.database()), 0o600);
        assert_eq!(mode(&tmp.path().join("data/mnemosynce.db-wal")), 0o600);
        assert!(data.secure().is_empty(), "a second start changes nothing");
    }
}
