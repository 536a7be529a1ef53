//! Build-time facts for the binary.
//!
//! - `MNEMOSYNCE_COMMIT` (shown by `--version`): `git rev-parse --short=12 HEAD` (argv, no shell),
//!   with `-dirty` when the work tree has changes, or `unknown` outside a git checkout (a source
//!   archive). A packager may set `MNEMOSYNCE_COMMIT` itself.
//! - The embedded site: with `MNEMOSYNCE_EMBED_SITE=<built site folder>` (and
//!   `MNEMOSYNCE_EMBED_HASH=<its hash.txt>` for a hashed build), every file of the folder goes into
//!   `$OUT_DIR/site.bin` and the `embedded_site` cfg is set (`src/embedded_site.rs` reads it back).
//!   `scripts/package` does this; development builds serve the folder on disk.

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Every file under `dir`, sorted, as paths relative to it.
fn files(dir: &Path, under: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, under, out);
        } else if let Ok(rel) = path.strip_prefix(under) {
            out.push(rel.to_path_buf());
        }
    }
}

/// One record of site.bin: path length (u32 LE), path, content length (u64 LE), content.
fn record(out: &mut Vec<u8>, name: &str, content: &[u8]) {
    out.extend_from_slice(&(name.len() as u32).to_le_bytes());
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(&(content.len() as u64).to_le_bytes());
    out.extend_from_slice(content);
}

fn embed_site() {
    println!("cargo:rerun-if-env-changed=MNEMOSYNCE_EMBED_SITE");
    println!("cargo:rerun-if-env-changed=MNEMOSYNCE_EMBED_HASH");
    println!("cargo::rustc-check-cfg=cfg(embedded_site)");
    let Some(site) = std::env::var_os("MNEMOSYNCE_EMBED_SITE").map(PathBuf::from) else {
        return;
    };
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut names = Vec::new();
    files(&site, &site, &mut names);
    names.sort();
    assert!(
        names.iter().any(|n| n.starts_with("pkg")),
        "MNEMOSYNCE_EMBED_SITE={} holds no pkg/ folder: build the site first (cargo leptos build --release)",
        site.display()
    );
    let mut blob = Vec::new();
    for name in &names {
        let path = site.join(name);
        println!("cargo:rerun-if-changed={}", path.display());
        let content = std::fs::read(&path).expect("a file of the site");
        record(&mut blob, &name.to_string_lossy(), &content);
    }
    if let Some(hash) = std::env::var_os("MNEMOSYNCE_EMBED_HASH").map(PathBuf::from) {
        println!("cargo:rerun-if-changed={}", hash.display());
        let content =
            std::fs::read(&hash).expect("MNEMOSYNCE_EMBED_HASH names a readable hash.txt");
        record(&mut blob, "hash.txt", &content);
    }
    std::fs::write(out_dir.join("site.bin"), blob).expect("write site.bin");
    println!("cargo:rustc-cfg=embedded_site");
}

fn main() {
    embed_site();
    println!("cargo:rerun-if-env-changed=MNEMOSYNCE_COMMIT");
    let commit = std::env::var("MNEMOSYNCE_COMMIT").ok().or_else(|| {
        let head = git(&["rev-parse", "--short=12", "HEAD"])?;
        let dirty =
            git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
        Some(if dirty { format!("{head}-dirty") } else { head })
    });
    println!(
        "cargo:rustc-env=MNEMOSYNCE_COMMIT={}",
        commit.unwrap_or_else(|| "unknown".into())
    );
    // Rebuilt when HEAD moves (a commit, a checkout); the index covers changes being staged.
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        for file in ["HEAD", "index"] {
            println!("cargo:rerun-if-changed={dir}/{file}");
        }
        if let Some(reference) = git(&["symbolic-ref", "-q", "HEAD"]) {
            println!("cargo:rerun-if-changed={dir}/{reference}");
        }
    }
}
