//! Replacing a file so that a crash, a kill or a full disk leaves the old content or the new one,
//! never half of each: a fresh temporary file in the same folder (`create_new`, its final mode from
//! the start), written and `fsync`ed, renamed over the file, then the folder `fsync`ed.
//!
//! Every file Mnemosynce replaces goes through here: the configuration and its `.prev`
//! ([`crate::config::edit`]), the secrets of `secrets/` ([`crate::mail`]), `known_hosts`
//! ([`crate::ssh`]) and the server's setup code. [`Staged`] is the two-step form for a caller that
//! must prepare several files before it replaces any (the configuration writes the new text before it
//! touches `.prev`); [`write`] is the one-step form.
//!
//! Invariants: a temporary file is named `.<name>.tmp-<pid>-<n>` (hidden, never an existing file) and
//! is removed when anything fails before its rename; a rename never crosses folders.

use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Replaces (or creates) the file at `path` with `bytes`, with `mode`, atomically and durably.
pub fn write(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let dir = folder_of(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    Staged::write(&dir, &name, bytes, mode, None)?.rename_to(path)?;
    sync_dir(&dir);
    Ok(())
}

/// The folder `path` is in (`.` for a bare name).
pub fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Syncs a folder so that a rename into it survives a power cut. Best effort: some filesystems refuse
/// `fsync` on folders, and the file is already in place; a failure is logged.
pub fn sync_dir(dir: &Path) {
    if let Err(e) = File::open(dir).and_then(|d| d.sync_all()) {
        tracing::warn!(folder = %dir.display(), error = %e, "cannot fsync the folder");
    }
}

/// A written and synced temporary file next to the one it will replace; removed when dropped unless
/// renamed into place with [`Staged::rename_to`].
pub struct Staged {
    path: Option<PathBuf>,
}

impl Staged {
    /// Creates `.<name>.tmp-<pid>-<n>` in `dir`, writes `bytes` and fsyncs it, with `mode` and (best
    /// effort: only root may give a file away) `owner` as (uid, gid).
    pub fn write(
        dir: &Path,
        name: &str,
        bytes: &[u8],
        mode: u32,
        owner: Option<(u32, u32)>,
    ) -> io::Result<Staged> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let mut attempts = 0;
        let (mut file, staged) = loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!(".{name}.tmp-{}-{n}", std::process::id()));
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(mode)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(&path)
            {
                Ok(file) => break (file, Staged { path: Some(path) }),
                // Left by a killed process that had our pid: take the next number.
                Err(e) if e.kind() == ErrorKind::AlreadyExists && attempts < 100 => attempts += 1,
                Err(e) => return Err(e),
            }
        };
        if let Some((uid, gid)) = owner {
            let _ = std::os::unix::fs::fchown(&file, Some(uid), Some(gid));
        }
        // The umask may have taken bits off at creation.
        file.set_permissions(fs::Permissions::from_mode(mode))?;
        file.write_all(bytes)?;
        file.sync_all()?;
        Ok(staged)
    }

    /// Renames the file to `to`, atomically replacing what is there (the caller syncs the folder).
    pub fn rename_to(mut self, to: &Path) -> io::Result<()> {
        if let Some(path) = self.path.take() {
            if let Err(e) = fs::rename(&path, to) {
                self.path = Some(path);
                return Err(e);
            }
        }
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            let _ = fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_replaced_whole_with_its_mode_and_no_temporary_file_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        fs::write(&path, "old").unwrap();
        write(&path, b"new\n", 0o600).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new\n");
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn a_failed_replacement_leaves_the_file_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a-folder");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("inside"), "x").unwrap();
        assert!(write(&target, b"new", 0o600).is_err());
        assert!(target.join("inside").exists());
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }
}
