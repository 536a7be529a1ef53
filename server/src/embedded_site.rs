//! The built site (WASM, JS, CSS, icons, manifest, service worker, each also brotli and gzip)
//! inside the binary, for the release archive: `serve` needs no `target/site` beside it.
//!
//! `build.rs` packs the folder into `site.bin` when `MNEMOSYNCE_EMBED_SITE` is set
//! (`scripts/package` does). At start, [`unpack`] writes it once into
//! `<data>/site/<commit>-<size>/` (owner-only, like the rest of the data directory; written to a
//! temporary folder and renamed, older versions removed) and the server serves that folder as it
//! would `target/site`: the same precompressed files, the same caching. Leptos reads the build's
//! file hashes (`hash.txt`) from beside the binary unless told an absolute path, so the unpacked
//! `hash.txt` is named to it that way (`serve.rs`). Paths in the pack are checked (relative, no
//! `..`) before anything is written.

use std::path::{Component, Path, PathBuf};

#[cfg(embedded_site)]
static SITE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/site.bin"));
#[cfg(not(embedded_site))]
static SITE: &[u8] = &[];

/// The unpacked site.
pub struct Unpacked {
    /// The folder to serve.
    pub root: PathBuf,
    /// Its `hash.txt`, when the build hashed its file names.
    pub hash_file: Option<PathBuf>,
}

/// Why the embedded site could not be unpacked.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("cannot write the web app's files into {0}: {1}")]
    Write(PathBuf, std::io::Error),
    #[error("the web app packed into this binary is damaged ({0}): download the release again")]
    Damaged(&'static str),
}

/// Whether this binary carries the site.
pub fn present() -> bool {
    !SITE.is_empty()
}

/// Unpacks the site under `<data>/site/` (see the module documentation); `None` when the binary
/// carries none.
pub fn unpack(data: &Path) -> Result<Option<Unpacked>, UnpackError> {
    if !present() {
        return Ok(None);
    }
    // Absolute: Leptos finds hash.txt by joining its path to the binary's folder.
    let data = std::path::absolute(data).map_err(|e| UnpackError::Write(data.to_path_buf(), e))?;
    let parent = data.join("site");
    let name = format!("{}-{}", env!("MNEMOSYNCE_COMMIT"), SITE.len());
    let root = parent.join(&name);
    let write = |path: &Path, e| UnpackError::Write(path.to_path_buf(), e);
    let hash_file = root.join("hash.txt");
    if !root.is_dir() {
        std::fs::create_dir_all(&parent).map_err(|e| write(&parent, e))?;
        let temp = parent.join(format!(".{name}.unpacking"));
        if temp.exists() {
            std::fs::remove_dir_all(&temp).map_err(|e| write(&temp, e))?;
        }
        for (rel, content) in records(SITE)? {
            let path = temp.join(rel);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| write(dir, e))?;
            }
            std::fs::write(&path, content).map_err(|e| write(&path, e))?;
        }
        std::fs::rename(&temp, &root).map_err(|e| write(&root, e))?;
    }
    // Older versions' files are of no use any more.
    if let Ok(entries) = std::fs::read_dir(&parent) {
        for entry in entries.flatten() {
            if entry.file_name() != name.as_str() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    Ok(Some(Unpacked {
        hash_file: hash_file.is_file().then_some(hash_file),
        root,
    }))
}

/// The records of a pack: (relative path, content); see `build.rs` for the format.
fn records(mut pack: &[u8]) -> Result<Vec<(&Path, &[u8])>, UnpackError> {
    fn take<'a>(pack: &mut &'a [u8], n: usize) -> Result<&'a [u8], UnpackError> {
        if pack.len() < n {
            return Err(UnpackError::Damaged("cut short"));
        }
        let (head, rest) = pack.split_at(n);
        *pack = rest;
        Ok(head)
    }
    let mut out = Vec::new();
    while !pack.is_empty() {
        let len = u32::from_le_bytes(
            take(&mut pack, 4)?
                .try_into()
                .map_err(|_| UnpackError::Damaged("length"))?,
        ) as usize;
        let name = std::str::from_utf8(take(&mut pack, len)?)
            .map_err(|_| UnpackError::Damaged("a name is not UTF-8"))?;
        let path = Path::new(name);
        if !path.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(UnpackError::Damaged("a path leaves the site folder"));
        }
        let size = u64::from_le_bytes(
            take(&mut pack, 8)?
                .try_into()
                .map_err(|_| UnpackError::Damaged("length"))?,
        );
        let size = usize::try_from(size).map_err(|_| UnpackError::Damaged("length"))?;
        out.push((path, take(&mut pack, size)?));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(out: &mut Vec<u8>, name: &str, content: &[u8]) {
        out.extend_from_slice(&(name.len() as u32).to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&(content.len() as u64).to_le_bytes());
        out.extend_from_slice(content);
    }

    #[test]
    fn a_pack_reads_back_and_a_path_out_of_the_folder_or_a_cut_is_refused() {
        let mut pack = Vec::new();
        record(&mut pack, "pkg/app.js", b"js");
        record(&mut pack, "sw.js", b"");
        let r = records(&pack).unwrap();
        assert_eq!(
            r,
            vec![
                (Path::new("pkg/app.js"), &b"js"[..]),
                (Path::new("sw.js"), &b""[..])
            ]
        );

        let mut evil = Vec::new();
        record(&mut evil, "../etc/passwd", b"x");
        assert!(matches!(records(&evil), Err(UnpackError::Damaged(_))));
        let mut absolute = Vec::new();
        record(&mut absolute, "/etc/passwd", b"x");
        assert!(matches!(records(&absolute), Err(UnpackError::Damaged(_))));
        assert!(matches!(
            records(&pack[..pack.len() - 1]),
            Err(UnpackError::Damaged(_))
        ));
    }
}
