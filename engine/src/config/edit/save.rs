//! The one write path of the configuration: [`update`], used by every page (editor, schedule,
//! retention, email).
//!
//! In order: refuse with [`SaveError::ChangedOnDisk`] when the file is no longer at the
//! [`Version`] the page read; apply the page's [`Edit`]; validate (any error: nothing written);
//! skip the write when nothing changed; write a temporary file beside it and `fsync` it; keep the
//! current file as `<name>.prev` (a copy, replaced atomically); rename over the file and `fsync`
//! the folder. Any failure before the rename leaves the file as it was.
//!
//! Decisions (a symbolic link is followed, a read-only file refused, a file that cannot be renamed
//! over refused, never rewritten in place) and their reasons: README, "How the web app changes the
//! configuration".

use std::fs;
use std::io::{self, ErrorKind};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::{Edit, SaveError, Saved, Version};
use crate::atomic::{folder_of, sync_dir, Staged};
use crate::config::{check_str, Problem};

/// The mode of a configuration file [`update`] creates (one that replaces a file keeps that file's mode).
pub(super) const NEW_FILE_MODE: u32 = 0o640;

/// The version of the file at `path` now (a symbolic link is followed). A page reads it *before* it
/// reads the configuration it shows: if the file changes in between, its save is refused, never the
/// other way round.
pub fn version(path: &Path) -> Result<Version, SaveError> {
    let target = resolve(path)?;
    Ok(Version::of(
        read_current(&target)?.as_deref().unwrap_or(&[]),
    ))
}

// ---------------------------------------------------------------------------------------------------
// Saving
// ---------------------------------------------------------------------------------------------------

/// The one way the web app changes the configuration: when the file is still at `read` (the version
/// the page was shown), applies `edit` to its text, checks the result with [`check_str`] and, when it
/// has no errors, writes it atomically, keeping the version it replaces as `<name>.prev` (see
/// "Saving" in the module docs). A file changed since the page read it is
/// [`SaveError::ChangedOnDisk`]: a hand edit made while the page was open is never overwritten.
pub fn update(path: &Path, read: &Version, edit: &dyn Edit) -> Result<Saved, SaveError> {
    let target = resolve(path)?;
    let current = read_current(&target)?;
    if Version::of(current.as_deref().unwrap_or(&[])) != *read {
        return Err(SaveError::ChangedOnDisk { path: target });
    }
    let current = match current {
        Some(bytes) => Some(String::from_utf8(bytes).map_err(|e| SaveError::Io {
            path: target.clone(),
            action: "read the file as text",
            source: io::Error::new(ErrorKind::InvalidData, e),
            hint: "the file is not UTF-8 text; fix it in the configuration editor or by hand",
        })?),
        None => None,
    };
    let text = edit.apply(current.as_deref())?;
    // The bytes are compared once more just before writing: the edit took a moment.
    save_checked(&target, &text, current.as_deref().unwrap_or(""))
}

/// The bytes of the file at `target` (already resolved), `None` when there is none.
pub(super) fn read_current(target: &Path) -> Result<Option<Vec<u8>>, SaveError> {
    match fs::read(target) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(SaveError::Io {
            path: target.to_path_buf(),
            action: "read the current file",
            hint: hint(&e),
            source: e,
        }),
    }
}

/// Writes `text` when the file still holds `opened` (empty also matches no file).
pub(super) fn save_checked(path: &Path, text: &str, opened: &str) -> Result<Saved, SaveError> {
    let checked = check_str(text);
    if !checked.is_ok() {
        return Err(SaveError::Invalid(Box::new(checked)));
    }
    let warnings: Vec<Problem> = checked.warnings().cloned().collect();

    let target = resolve(path)?;
    let io = |action: &'static str| {
        let target = target.clone();
        move |source: io::Error| SaveError::Io {
            hint: hint(&source),
            path: target,
            action,
            source,
        }
    };
    let current = match fs::read(&target) {
        Ok(bytes) => {
            let meta = fs::metadata(&target).map_err(io("read the file's permissions"))?;
            Some((bytes, meta))
        }
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        Err(e) => return Err(io("read the current file (to keep it as .prev)")(e)),
    };
    let now: &[u8] = current.as_ref().map_or(&[], |(bytes, _)| bytes);
    if now != opened.as_bytes() {
        return Err(SaveError::ChangedOnDisk { path: target });
    }
    if let Some((bytes, meta)) = &current {
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o222 == 0 {
            return Err(SaveError::ReadOnly { path: target, mode });
        }
        if bytes == text.as_bytes() {
            return Ok(Saved {
                path: target,
                previous: None,
                changed: false,
                warnings,
                version: Version::of(text.as_bytes()),
            });
        }
    }

    let dir = folder_of(&target);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "backup_config.yml".into());
    let (mode, owner) = match &current {
        Some((_, meta)) => (
            meta.permissions().mode() & 0o7777,
            Some((meta.uid(), meta.gid())),
        ),
        None => (NEW_FILE_MODE, None),
    };

    let new = Staged::write(&dir, &name, text.as_bytes(), mode, owner)
        .map_err(io("write the new version to a temporary file"))?;
    let previous = match &current {
        Some((bytes, _)) => {
            let prev = dir.join(format!("{name}.prev"));
            let tmp = Staged::write(&dir, &format!("{name}.prev"), bytes, mode, owner)
                .map_err(io("keep the current version as .prev"))?;
            tmp.rename_to(&prev)
                .map_err(io("keep the current version as .prev"))?;
            Some(prev)
        }
        None => None,
    };
    new.rename_to(&target)
        .map_err(io("replace the file with the new version"))?;
    // The file is replaced; only its durability across a power cut is in doubt if this fails.
    sync_dir(&dir);
    Ok(Saved {
        path: target,
        previous,
        changed: true,
        warnings,
        version: Version::of(text.as_bytes()),
    })
}

/// The file to replace: `path`, or the file its symbolic link points to.
pub(super) fn resolve(path: &Path) -> Result<PathBuf, SaveError> {
    let io = |action: &'static str, hint: &'static str| {
        move |source: io::Error| SaveError::Io {
            path: path.to_path_buf(),
            action,
            source,
            hint,
        }
    };
    let target = match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => fs::canonicalize(path).map_err(io(
            "follow the symbolic link",
            "the link points to a file that is not there; fix the link, or replace it with the file",
        ))?,
        Ok(_) => path.to_path_buf(),
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(path.to_path_buf()),
        Err(e) => {
            let hint = hint(&e);
            return Err(io("look at the file", hint)(e));
        }
    };
    match fs::metadata(&target) {
        Ok(meta) if meta.is_file() => Ok(target),
        Ok(meta) => Err(SaveError::NotAFile {
            path: target,
            what: if meta.is_dir() {
                "a folder"
            } else {
                "a device, pipe or socket"
            },
        }),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(target),
        Err(e) => {
            let hint = hint(&e);
            Err(io("look at the file", hint)(e))
        }
    }
}

/// What to do about an I/O error while saving.
pub(super) fn hint(e: &io::Error) -> &'static str {
    match e.kind() {
        ErrorKind::PermissionDenied => {
            "the user running Mnemosynce needs write permission on the file's folder (the file is replaced \
             by renaming a new file over it)"
        }
        ErrorKind::StorageFull => "the disk is full; free some space and save again",
        ErrorKind::ReadOnlyFilesystem => {
            "the folder is on a read-only filesystem; mount it writable (in Docker: the data volume \
             without :ro)"
        }
        ErrorKind::ResourceBusy | ErrorKind::CrossesDevices => {
            "the file is a mount point of its own (a single file bind-mounted into a container?); mount \
             the folder that holds it instead, so the file can be replaced safely"
        }
        ErrorKind::NotFound => "the folder is not there; create it, or check the --config path",
        _ => "check the folder and the disk, then save again",
    }
}
