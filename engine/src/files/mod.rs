//! Getting files back out of a snapshot: the safe way in ([`beneath`]: folders, and files to read),
//! a path inside a snapshot ([`InnerPath`]) and a folder's listing ([`list_folder`]). The CLI's
//! `snapshots ls`, the web app's browser and its downloads use these; [`diff`] compares two
//! snapshots of a task and [`versions`] follows one file through all of them (by inode first);
//! [`measure`] counts a snapshot's files, total and unique size; [`archive`] writes a folder as one
//! zip or tar.gz as it reads it; [`find`] searches names across a task's snapshots.
//!
//! Invariants: every path a request names is resolved beneath its snapshot one component at a time
//! with `O_NOFOLLOW` on file descriptors, so a symbolic link — in the snapshot, or put in place of a
//! folder while a request runs — is never followed, and `..` never gets past the parser. The store
//! root is the only path taken as given (it comes from the configuration). Errors name the task, the
//! snapshot and the path as shown, and say what to do.

pub mod archive;
pub mod beneath;
pub mod diff;
pub mod find;
pub mod listing;
pub mod path;
pub mod sizes;
pub mod versions;

pub use archive::{write_archive, ArchiveFormat};
pub use beneath::{open_file, open_folder, open_snapshot};
pub use diff::diff;
pub use find::{Finder, Pattern, PatternError};
pub use listing::{list_folder, Window};
pub use path::InnerPath;
pub use sizes::measure;
pub use versions::versions;

use std::io;

/// Why a file or folder of a snapshot cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("task {task:?} has no snapshot {snapshot:?} (retention may have pruned it since this was listed); list them with `mnemosynce snapshots --task {task:?}`")]
    NoSuchSnapshot { task: String, snapshot: String },
    #[error("{snapshot}: there is nothing at {path} in this snapshot")]
    NotFound { snapshot: String, path: String },
    #[error("{snapshot}: {path} is not a folder")]
    NotAFolder { snapshot: String, path: String },
    #[error("{snapshot}: {path} is not a file (only files can be downloaded one by one)")]
    NotAFile { snapshot: String, path: String },
    #[error(
        "{snapshot}: {path} is a symbolic link; links are shown as they are and never followed"
    )]
    Symlink { snapshot: String, path: String },
    #[error("{0}")]
    BadPath(#[from] path::PathError),
    #[error("{snapshot}: cannot read {path}: {source}")]
    Io {
        snapshot: String,
        path: String,
        source: io::Error,
    },
}
