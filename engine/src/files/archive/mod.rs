//! A folder of a snapshot as one archive, written as it is read: [`write_archive`] walks the folder
//! beneath its snapshot (descriptors, `O_NOFOLLOW`, as everywhere in `files`) and hands each entry
//! to a [`Sink`]: [`zip`] (stored, ZIP64 when needed: it opens on every phone and Windows) or
//! [`tar`] (GNU tar, gzip level 1).
//!
//! Invariants: nothing is buffered beyond one read block (64 KiB) and, for zip, the central
//! directory (a few dozen bytes per entry, written at the end as the format wants); file contents
//! never touch a temporary file. Links are stored as links (their target text), never followed;
//! devices, pipes and sockets are left out. Names are the raw bytes under one top folder named
//! after the archived folder (the snapshot root: `<task>-<snapshot>`); mode, owner (tar), and
//! modification times are kept. A write error (the client went away) stops the walk.

pub mod tar;
pub mod zip;

use super::beneath::{open_folder, open_snapshot, DIR_FLAGS};
use super::{FilesError, InnerPath};
use rustix::fs::{openat, readlinkat, statat, AtFlags, Dir, FileType, Mode, OFlags};
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::path::Path;

/// Which kind of archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchiveFormat {
    Zip,
    TarGz,
}

impl ArchiveFormat {
    /// `zip` or `tar.gz`, as in URLs and on the command line.
    pub fn parse(s: &str) -> Option<ArchiveFormat> {
        match s {
            "zip" => Some(ArchiveFormat::Zip),
            "tar.gz" | "tgz" => Some(ArchiveFormat::TarGz),
            _ => None,
        }
    }

    /// The file name extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ArchiveFormat::Zip => "zip",
            ArchiveFormat::TarGz => "tar.gz",
        }
    }

    /// The media type an archive of this kind is sent with.
    pub fn media_type(self) -> &'static str {
        match self {
            ArchiveFormat::Zip => "application/zip",
            ArchiveFormat::TarGz => "application/gzip",
        }
    }
}

/// What every entry carries into the archive.
#[derive(Clone, Copy, Debug)]
pub struct Meta {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// Seconds since the epoch.
    pub modified: i64,
    pub size: u64,
}

/// One kind of archive being written; names are `/`-joined raw bytes, folders without the slash.
pub trait Sink {
    fn folder(&mut self, name: &[u8], meta: &Meta) -> io::Result<()>;
    fn file(&mut self, name: &[u8], meta: &Meta, content: &mut dyn Read) -> io::Result<()>;
    fn link(&mut self, name: &[u8], meta: &Meta, target: &[u8]) -> io::Result<()>;
}

/// The name of the archive's top folder (and of the file, with the extension): the folder's own
/// name, or `<task>-<snapshot>` for a whole snapshot.
pub fn archive_name(task: &str, snapshot: &str, path: &InnerPath) -> Vec<u8> {
    match path.components().last() {
        Some(name) => name.clone(),
        None => format!("{task}-{snapshot}").into_bytes(),
    }
}

/// Folder `path` of snapshot `snapshot` of `task` as an archive of `format`, written to `out`;
/// returns how many files went in. Opening the folder comes first, so a missing snapshot or folder
/// is an error before a byte is written.
pub fn write_archive<W: Write>(
    store_root: &Path,
    task: &str,
    snapshot: &str,
    path: &InnerPath,
    format: ArchiveFormat,
    out: W,
) -> Result<u64, FilesError> {
    let top = open_snapshot(store_root, task, snapshot)?;
    let folder = open_folder(&top, snapshot, path)?;
    let prefix = archive_name(task, snapshot, path);
    let mut walk = Walk { snapshot, files: 0 };
    let io = |source: io::Error| FilesError::Io {
        snapshot: snapshot.to_string(),
        path: path.display(),
        source,
    };
    let st = rustix::fs::fstat(&folder).map_err(|e| io(e.into()))?;
    let meta = meta_of(&st);
    match format {
        ArchiveFormat::Zip => {
            let mut sink = zip::ZipSink::new(out);
            sink.folder(&prefix, &meta).map_err(io)?;
            walk.folder(&mut sink, &folder, path, &prefix)?;
            sink.finish().and_then(|mut w| w.flush()).map_err(io)?;
        }
        ArchiveFormat::TarGz => {
            let mut sink = tar::TarSink::new(out);
            sink.folder(&prefix, &meta).map_err(io)?;
            walk.folder(&mut sink, &folder, path, &prefix)?;
            sink.finish().and_then(|mut w| w.flush()).map_err(io)?;
        }
    }
    Ok(walk.files)
}

fn meta_of(st: &rustix::fs::Stat) -> Meta {
    Meta {
        mode: st.st_mode & 0o7777,
        uid: st.st_uid,
        gid: st.st_gid,
        modified: st.st_mtime,
        size: u64::try_from(st.st_size).unwrap_or(0),
    }
}

struct Walk<'a> {
    snapshot: &'a str,
    files: u64,
}

impl Walk<'_> {
    /// Everything inside folder `dir` (at `path`, named `name` in the archive), sorted by name so
    /// an archive of the same folder is the same archive.
    fn folder(
        &mut self,
        sink: &mut dyn Sink,
        dir: &OwnedFd,
        path: &InnerPath,
        name: &[u8],
    ) -> Result<(), FilesError> {
        let io = |source: io::Error, path: &InnerPath| FilesError::Io {
            snapshot: self.snapshot.to_string(),
            path: path.display(),
            source,
        };
        let mut names = Vec::new();
        for entry in Dir::read_from(dir).map_err(|e| io(e.into(), path))? {
            let entry = entry.map_err(|e| io(e.into(), path))?;
            let n = entry.file_name().to_bytes();
            if n != b"." && n != b".." {
                names.push(n.to_vec());
            }
        }
        names.sort();
        for n in names {
            let inner = path.join(&n);
            let mut full = name.to_vec();
            full.push(b'/');
            full.extend_from_slice(&n);
            // Gone since the listing: left out.
            let Ok(st) = statat(dir, n.as_slice(), AtFlags::SYMLINK_NOFOLLOW) else {
                continue;
            };
            let meta = meta_of(&st);
            match FileType::from_raw_mode(st.st_mode) {
                FileType::Directory => {
                    let Ok(sub) = openat(dir, n.as_slice(), DIR_FLAGS, Mode::empty()) else {
                        continue;
                    };
                    sink.folder(&full, &meta).map_err(|e| io(e, &inner))?;
                    self.folder(sink, &sub, &inner, &full)?;
                }
                FileType::RegularFile => {
                    let flags =
                        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
                    let Ok(fd) = openat(dir, n.as_slice(), flags, Mode::empty()) else {
                        continue;
                    };
                    let mut file = std::fs::File::from(fd);
                    sink.file(&full, &meta, &mut file)
                        .map_err(|e| io(e, &inner))?;
                    self.files += 1;
                }
                FileType::Symlink => {
                    let Ok(target) = readlinkat(dir, n.as_slice(), Vec::new()) else {
                        continue;
                    };
                    sink.link(&full, &meta, target.as_bytes())
                        .map_err(|e| io(e, &inner))?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}
