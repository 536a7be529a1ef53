//! The way into a snapshot: [`open_snapshot`] opens `<store root>/<task>/<snapshot>`,
//! [`open_folder`] a folder inside it and [`open_file`] a regular file, one component at a time, each with `O_NOFOLLOW` relative to
//! the file descriptor of the one before. So no symbolic link is ever followed (one met on the way
//! is reported as such), a folder swapped for a link during a request cannot redirect it, and since
//! an [`InnerPath`] holds no `..`, nothing outside the snapshot is reachable.

use super::{FilesError, InnerPath};
use crate::model::snapshot::SnapshotName;
use rustix::fs::{openat, statat, AtFlags, FileType, Mode, OFlags, CWD};
use rustix::io::Errno;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

/// How every folder inside a snapshot is opened: never through a link.
pub(crate) const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

/// The top folder of snapshot `snapshot` of `task`. The task folder and the snapshot folder must be
/// real folders (not links); anything else is [`FilesError::NoSuchSnapshot`].
pub fn open_snapshot(store_root: &Path, task: &str, snapshot: &str) -> Result<OwnedFd, FilesError> {
    let missing = || FilesError::NoSuchSnapshot {
        task: task.to_string(),
        snapshot: snapshot.to_string(),
    };
    // Only names Mnemosynce gives snapshots; a task name is one plain component.
    let name = SnapshotName::parse(snapshot).ok_or_else(missing)?;
    if task.is_empty() || task == "." || task == ".." || task.contains(['/', '\0']) {
        return Err(missing());
    }
    let root = openat(
        CWD,
        store_root,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| FilesError::Io {
        snapshot: snapshot.to_string(),
        path: store_root.display().to_string(),
        source: e.into(),
    })?;
    let task_dir = openat(&root, task, DIR_FLAGS, Mode::empty()).map_err(|_| missing())?;
    openat(
        &task_dir,
        name.to_string().as_str(),
        DIR_FLAGS,
        Mode::empty(),
    )
    .map_err(|_| missing())
}

/// Folder `path` of the snapshot whose top folder is `top` (`snapshot` names it in errors).
pub fn open_folder(top: &OwnedFd, snapshot: &str, path: &InnerPath) -> Result<OwnedFd, FilesError> {
    let mut here = top.try_clone().map_err(|e| FilesError::Io {
        snapshot: snapshot.to_string(),
        path: "/".into(),
        source: e,
    })?;
    let mut walked = InnerPath::top();
    for part in path.components() {
        walked = walked.join(part);
        here = match openat(&here, part.as_slice(), DIR_FLAGS, Mode::empty()) {
            Ok(fd) => fd,
            Err(e) => return Err(why_not(&here, part, e, snapshot, &walked)),
        };
    }
    Ok(here)
}

/// Regular file `path` of snapshot `snapshot` of `task`, open for reading, with its size. A link,
/// a folder, a device or a pipe is refused (opened with `O_NONBLOCK`, so a pipe cannot hang it).
pub fn open_file(
    store_root: &Path,
    task: &str,
    snapshot: &str,
    path: &InnerPath,
) -> Result<(std::fs::File, u64), FilesError> {
    let not_a_file = || FilesError::NotAFile {
        snapshot: snapshot.to_string(),
        path: path.display(),
    };
    let Some(name) = path.components().last() else {
        return Err(not_a_file());
    };
    let top = open_snapshot(store_root, task, snapshot)?;
    let folder = open_folder(&top, snapshot, &path.parent())?;
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let fd = match openat(&folder, name.as_slice(), flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(e) => return Err(why_not(&folder, name, e, snapshot, path)),
    };
    let st = rustix::fs::fstat(&fd).map_err(|e| FilesError::Io {
        snapshot: snapshot.to_string(),
        path: path.display(),
        source: e.into(),
    })?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return Err(not_a_file());
    }
    Ok((
        std::fs::File::from(fd),
        u64::try_from(st.st_size).unwrap_or(0),
    ))
}

/// What stopped the walk at `part` of folder `dir`: looked up again without following it, so a link
/// is called a link whatever the kernel's error was.
fn why_not(
    dir: impl AsFd,
    part: &[u8],
    err: Errno,
    snapshot: &str,
    walked: &InnerPath,
) -> FilesError {
    let snapshot = snapshot.to_string();
    let path = walked.display();
    match statat(dir, part, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => match FileType::from_raw_mode(st.st_mode) {
            FileType::Symlink => FilesError::Symlink { snapshot, path },
            FileType::Directory => FilesError::Io {
                snapshot,
                path,
                source: err.into(),
            },
            _ => FilesError::NotAFolder { snapshot, path },
        },
        Err(Errno::NOENT) => FilesError::NotFound { snapshot, path },
        Err(e) => FilesError::Io {
            snapshot,
            path,
            source: e.into(),
        },
    }
}
