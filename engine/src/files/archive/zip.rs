//! [`ZipSink`]: a zip archive written front to back, for a writer that cannot seek (a download).
//!
//! Every file is *stored* (photos and videos do not compress, and the archive goes out at disk
//! speed) with a data descriptor after its bytes (general flag bit 3: the CRC-32 is known only once
//! the file is read). ZIP64 records appear only where a size, an offset or the entry count needs
//! them (≥ 4 GiB, ≥ 65 535 entries), so small archives stay plain zip for old readers. Unix mode and
//! file type go in the external attributes (links: `S_IFLNK`, the target as the content, as
//! Info-ZIP does), the time as DOS time (UTC) and as an extended timestamp; names are the raw bytes,
//! flagged UTF-8 when they are. The central directory — one small record per entry — is the only
//! thing kept until the end (APPNOTE 6.3.10, §4.3).

use super::{Meta, Sink};
use chrono::{DateTime, Datelike, Timelike};
use std::io::{self, Read, Write};

const LOCAL: u32 = 0x0403_4b50;
const DESCRIPTOR: u32 = 0x0807_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const END: u32 = 0x0605_4b50;
const END64: u32 = 0x0606_4b50;
const LOCATOR64: u32 = 0x0706_4b50;
const MADE_BY_UNIX: u16 = (3 << 8) | 45;
const FLAG_DESCRIPTOR: u16 = 1 << 3;
const FLAG_UTF8: u16 = 1 << 11;
const MAX32: u64 = 0xFFFF_FFFF;

/// What the central directory needs of an entry.
struct Record {
    name: Vec<u8>,
    flags: u16,
    dos_time: u16,
    dos_date: u16,
    modified: u32,
    crc: u32,
    size: u64,
    offset: u64,
    /// Unix type and mode (`st_mode`), high half of the external attributes.
    unix_mode: u32,
    folder: bool,
    zip64: bool,
}

/// A writer that counts what went through it (the offsets zip records).
struct Counted<W> {
    inner: W,
    written: u64,
}

impl<W: Write> Counted<W> {
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.inner.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }
}

pub struct ZipSink<W: Write> {
    out: Counted<W>,
    records: Vec<Record>,
    buffer: Vec<u8>,
}

impl<W: Write> ZipSink<W> {
    pub fn new(out: W) -> ZipSink<W> {
        ZipSink {
            out: Counted {
                inner: out,
                written: 0,
            },
            records: Vec::new(),
            buffer: vec![0; 64 * 1024],
        }
    }

    /// Starts entry `name`: its local header. `zip64` when its size may not fit 32 bits.
    fn start(&mut self, name: &[u8], meta: &Meta, unix_mode: u32, folder: bool) -> Record {
        let (dos_time, dos_date) = dos_time(meta.modified);
        let mut flags = if folder { 0 } else { FLAG_DESCRIPTOR };
        if std::str::from_utf8(name).is_ok() {
            flags |= FLAG_UTF8;
        }
        Record {
            name: name.to_vec(),
            flags,
            dos_time,
            dos_date,
            modified: u32::try_from(meta.modified.max(0)).unwrap_or(u32::MAX),
            crc: 0,
            size: 0,
            offset: self.out.written,
            unix_mode,
            folder,
            zip64: !folder && meta.size >= MAX32,
        }
    }

    fn local_header(&mut self, r: &Record) -> io::Result<()> {
        let mut h = Vec::with_capacity(30 + r.name.len() + 29);
        h.extend_from_slice(&LOCAL.to_le_bytes());
        h.extend_from_slice(&needed(r.zip64).to_le_bytes());
        h.extend_from_slice(&r.flags.to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes()); // stored
        h.extend_from_slice(&r.dos_time.to_le_bytes());
        h.extend_from_slice(&r.dos_date.to_le_bytes());
        // CRC and sizes: in the data descriptor (folders: zero, and no descriptor).
        h.extend_from_slice(&0u32.to_le_bytes());
        let size = if r.zip64 { u32::MAX } else { 0 };
        h.extend_from_slice(&size.to_le_bytes());
        h.extend_from_slice(&size.to_le_bytes());
        h.extend_from_slice(&(r.name.len() as u16).to_le_bytes());
        let extra_len: u16 = 9 + if r.zip64 { 20 } else { 0 };
        h.extend_from_slice(&extra_len.to_le_bytes());
        h.extend_from_slice(&r.name);
        if r.zip64 {
            h.extend_from_slice(&1u16.to_le_bytes());
            h.extend_from_slice(&16u16.to_le_bytes());
            h.extend_from_slice(&0u64.to_le_bytes());
            h.extend_from_slice(&0u64.to_le_bytes());
        }
        timestamp(&mut h, r.modified);
        self.out.put(&h)
    }

    /// The content of an entry, its CRC and length counted on the way.
    fn content(&mut self, content: &mut dyn Read) -> io::Result<(u32, u64)> {
        let mut crc = crc32fast::Hasher::new();
        let mut size = 0u64;
        loop {
            let n = match content.read(&mut self.buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            crc.update(&self.buffer[..n]);
            self.out.inner.write_all(&self.buffer[..n])?;
            self.out.written += n as u64;
            size += n as u64;
        }
        Ok((crc.finalize(), size))
    }

    fn entry(
        &mut self,
        name: &[u8],
        meta: &Meta,
        unix_mode: u32,
        content: &mut dyn Read,
    ) -> io::Result<()> {
        let mut r = self.start(name, meta, unix_mode, false);
        self.local_header(&r)?;
        let (crc, size) = self.content(content)?;
        if size >= MAX32 && !r.zip64 {
            // The file grew past 4 GiB after it was looked at: its local header cannot say so.
            return Err(io::Error::other(
                "a file grew past 4 GiB while it was archived",
            ));
        }
        r.crc = crc;
        r.size = size;
        let mut d = Vec::with_capacity(24);
        d.extend_from_slice(&DESCRIPTOR.to_le_bytes());
        d.extend_from_slice(&crc.to_le_bytes());
        if r.zip64 {
            d.extend_from_slice(&size.to_le_bytes());
            d.extend_from_slice(&size.to_le_bytes());
        } else {
            d.extend_from_slice(&(size as u32).to_le_bytes());
            d.extend_from_slice(&(size as u32).to_le_bytes());
        }
        self.out.put(&d)?;
        self.records.push(r);
        Ok(())
    }

    /// The central directory and its end records; returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        let start = self.out.written;
        let count = self.records.len() as u64;
        for r in std::mem::take(&mut self.records) {
            let mut h = Vec::with_capacity(46 + r.name.len() + 37);
            let big_size = r.size >= MAX32;
            let big_offset = r.offset >= MAX32;
            let mut zip64 = Vec::new();
            if big_size {
                zip64.extend_from_slice(&r.size.to_le_bytes());
                zip64.extend_from_slice(&r.size.to_le_bytes());
            }
            if big_offset {
                zip64.extend_from_slice(&r.offset.to_le_bytes());
            }
            h.extend_from_slice(&CENTRAL.to_le_bytes());
            h.extend_from_slice(&MADE_BY_UNIX.to_le_bytes());
            h.extend_from_slice(&needed(r.zip64 || !zip64.is_empty()).to_le_bytes());
            h.extend_from_slice(&r.flags.to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes());
            h.extend_from_slice(&r.dos_time.to_le_bytes());
            h.extend_from_slice(&r.dos_date.to_le_bytes());
            h.extend_from_slice(&r.crc.to_le_bytes());
            let size32 = if big_size { u32::MAX } else { r.size as u32 };
            h.extend_from_slice(&size32.to_le_bytes());
            h.extend_from_slice(&size32.to_le_bytes());
            h.extend_from_slice(&(r.name.len() as u16).to_le_bytes());
            let extra_len = 9 + if zip64.is_empty() { 0 } else { 4 + zip64.len() };
            h.extend_from_slice(&(extra_len as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes()); // comment
            h.extend_from_slice(&0u16.to_le_bytes()); // disk
            h.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
            let dos_folder: u32 = if r.folder { 0x10 } else { 0 };
            h.extend_from_slice(&((r.unix_mode << 16) | dos_folder).to_le_bytes());
            let offset32 = if big_offset {
                u32::MAX
            } else {
                r.offset as u32
            };
            h.extend_from_slice(&offset32.to_le_bytes());
            h.extend_from_slice(&r.name);
            if !zip64.is_empty() {
                h.extend_from_slice(&1u16.to_le_bytes());
                h.extend_from_slice(&(zip64.len() as u16).to_le_bytes());
                h.extend_from_slice(&zip64);
            }
            timestamp(&mut h, r.modified);
            self.out.put(&h)?;
        }
        let size = self.out.written - start;
        let mut e = Vec::with_capacity(98);
        if count >= 0xFFFF || size >= MAX32 || start >= MAX32 {
            let at = self.out.written;
            e.extend_from_slice(&END64.to_le_bytes());
            e.extend_from_slice(&44u64.to_le_bytes());
            e.extend_from_slice(&MADE_BY_UNIX.to_le_bytes());
            e.extend_from_slice(&45u16.to_le_bytes());
            e.extend_from_slice(&0u32.to_le_bytes());
            e.extend_from_slice(&0u32.to_le_bytes());
            e.extend_from_slice(&count.to_le_bytes());
            e.extend_from_slice(&count.to_le_bytes());
            e.extend_from_slice(&size.to_le_bytes());
            e.extend_from_slice(&start.to_le_bytes());
            e.extend_from_slice(&LOCATOR64.to_le_bytes());
            e.extend_from_slice(&0u32.to_le_bytes());
            e.extend_from_slice(&at.to_le_bytes());
            e.extend_from_slice(&1u32.to_le_bytes());
        }
        e.extend_from_slice(&END.to_le_bytes());
        e.extend_from_slice(&0u16.to_le_bytes());
        e.extend_from_slice(&0u16.to_le_bytes());
        let count16 = u16::try_from(count).unwrap_or(0xFFFF);
        e.extend_from_slice(&count16.to_le_bytes());
        e.extend_from_slice(&count16.to_le_bytes());
        e.extend_from_slice(&u32::try_from(size).unwrap_or(u32::MAX).to_le_bytes());
        e.extend_from_slice(&u32::try_from(start).unwrap_or(u32::MAX).to_le_bytes());
        e.extend_from_slice(&0u16.to_le_bytes());
        self.out.put(&e)?;
        self.out.inner.flush()?;
        Ok(self.out.inner)
    }
}

impl<W: Write> Sink for ZipSink<W> {
    fn folder(&mut self, name: &[u8], meta: &Meta) -> io::Result<()> {
        let mut full = name.to_vec();
        full.push(b'/');
        let r = self.start(&full, meta, 0o040000 | meta.mode, true);
        self.local_header(&r)?;
        self.records.push(r);
        Ok(())
    }

    fn file(&mut self, name: &[u8], meta: &Meta, content: &mut dyn Read) -> io::Result<()> {
        self.entry(name, meta, 0o100000 | meta.mode, content)
    }

    fn link(&mut self, name: &[u8], meta: &Meta, target: &[u8]) -> io::Result<()> {
        let meta = Meta {
            size: target.len() as u64,
            ..*meta
        };
        self.entry(name, &meta, 0o120000 | 0o777, &mut &target[..])
    }
}

/// 45 (ZIP64) when the entry needs it, else 20 (folders and stored files).
fn needed(zip64: bool) -> u16 {
    if zip64 {
        45
    } else {
        20
    }
}

/// The extended timestamp extra field (0x5455): the modification time, UTC seconds.
fn timestamp(h: &mut Vec<u8>, modified: u32) {
    h.extend_from_slice(&0x5455u16.to_le_bytes());
    h.extend_from_slice(&5u16.to_le_bytes());
    h.push(1);
    h.extend_from_slice(&modified.to_le_bytes());
}

/// MS-DOS time and date of `seconds` since the epoch (UTC; DOS time starts in 1980).
fn dos_time(seconds: i64) -> (u16, u16) {
    let Some(t) = DateTime::from_timestamp(seconds.max(315_532_800), 0) else {
        return (0, (1 << 5) | 1);
    };
    let year = (t.year() - 1980).clamp(0, 127) as u16;
    let time = ((t.hour() as u16) << 11) | ((t.minute() as u16) << 5) | (t.second() as u16 / 2);
    let date = (year << 9) | ((t.month() as u16) << 5) | t.day() as u16;
    (time, date)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// More entries than plain zip can count (65 535): the ZIP64 end records make Python's zipfile
    /// (a strict reader) see every one of them, with its bytes intact.
    #[test]
    fn an_archive_of_70_000_entries_is_read_whole() {
        let mut sink = ZipSink::new(Vec::new());
        let meta = Meta {
            mode: 0o644,
            uid: 0,
            gid: 0,
            modified: 1_700_000_000,
            size: 0,
        };
        sink.folder(b"top", &meta).unwrap();
        for i in 0..70_000u32 {
            let body = i.to_string();
            let meta = Meta {
                size: body.len() as u64,
                ..meta
            };
            sink.file(format!("top/{i}").as_bytes(), &meta, &mut body.as_bytes())
                .unwrap();
        }
        let bytes = sink.finish().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.zip");
        std::fs::write(&file, bytes).unwrap();
        let check = "import sys, zipfile\n\
            z = zipfile.ZipFile(sys.argv[1])\n\
            assert len(z.infolist()) == 70001, len(z.infolist())\n\
            assert z.testzip() is None\n\
            assert z.read('top/69999') == b'69999'\n\
            assert z.getinfo('top/').is_dir()\n";
        let out = std::process::Command::new("python3")
            .args(["-c", check])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
