//! [`TarSink`]: a gzip-compressed GNU tar archive (`tar` crate: long names and link targets as GNU
//! extensions, raw bytes on Unix). Gzip level 1: photos and videos do not compress, and the archive
//! should go out at disk speed. Mode, owner ids and modification times are kept.

use super::{Meta, Sink};
use flate2::write::GzEncoder;
use flate2::Compression;
use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;

pub struct TarSink<W: Write> {
    builder: ::tar::Builder<GzEncoder<W>>,
}

impl<W: Write> TarSink<W> {
    pub fn new(out: W) -> TarSink<W> {
        let mut builder = ::tar::Builder::new(GzEncoder::new(out, Compression::fast()));
        builder.mode(::tar::HeaderMode::Complete);
        TarSink { builder }
    }

    /// The two zero blocks that end a tar archive, then the gzip trailer; returns the writer.
    pub fn finish(self) -> io::Result<W> {
        self.builder.into_inner()?.finish()
    }
}

fn header(kind: ::tar::EntryType, meta: &Meta, size: u64) -> ::tar::Header {
    let mut h = ::tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(meta.mode);
    h.set_uid(u64::from(meta.uid));
    h.set_gid(u64::from(meta.gid));
    h.set_mtime(u64::try_from(meta.modified).unwrap_or(0));
    h.set_size(size);
    h
}

impl<W: Write> Sink for TarSink<W> {
    fn folder(&mut self, name: &[u8], meta: &Meta) -> io::Result<()> {
        let mut h = header(::tar::EntryType::Directory, meta, 0);
        self.builder
            .append_data(&mut h, OsStr::from_bytes(name), io::empty())
    }

    fn file(&mut self, name: &[u8], meta: &Meta, content: &mut dyn Read) -> io::Result<()> {
        let mut h = header(::tar::EntryType::Regular, meta, meta.size);
        // Exactly the size in the header, even if the file changed since it was looked at.
        let mut exact = content.take(meta.size).chain(io::repeat(0).take(meta.size));
        let mut exact = (&mut exact).take(meta.size);
        self.builder
            .append_data(&mut h, OsStr::from_bytes(name), &mut exact)
    }

    fn link(&mut self, name: &[u8], meta: &Meta, target: &[u8]) -> io::Result<()> {
        let mut h = header(::tar::EntryType::Symlink, meta, 0);
        self.builder
            .append_link(&mut h, OsStr::from_bytes(name), OsStr::from_bytes(target))
    }
}
