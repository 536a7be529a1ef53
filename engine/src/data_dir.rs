//! The data directory (SPEC §1): where the configuration, database, keys, secrets and logs live.
//!
//! Everything Mnemosynce writes, other than snapshots, goes under this one folder; nothing goes to the
//! process's working directory.

use std::path::{Path, PathBuf};

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

    /// Creates the data directory (and its parents) if missing.
    pub fn create(&self) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.root)
    }
}
