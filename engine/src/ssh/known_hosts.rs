//! The hosts Mnemosynce trusts: `<data>/ssh/known_hosts` (SPEC §4.3, §9.1 "connections", §11).
//!
//! Every transfer runs ssh with `StrictHostKeyChecking=yes` against this file only, so a host must be
//! trusted explicitly before the first connection: [`scan`] fetches the host's keys with
//! `ssh-keyscan` and shows their SHA256 fingerprints (as `ssh-keygen -lf` prints them),
//! [`KnownHosts::check`] says whether they are known, unknown or **changed**, and
//! [`KnownHosts::trust`] writes the key (replacing a changed one only when asked).
//!
//! Invariants: the file is OpenSSH's own format (sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT"), so `ssh`
//! reads what we write and we read what `ssh-keyscan` or a hand edit left there: `host` for port 22
//! and `[host]:port` otherwise, lower case, IPv6 without brackets on port 22; comma lists, `*`/`?`
//! wildcards and `!` negations; hashed entries matched with HMAC-SHA1 like ssh; `@cert-authority`
//! and `@revoked` lines and lines that cannot be parsed are kept verbatim but not used. We write
//! plain `<host> <algorithm> <base64>` lines, so the owner can read and edit the file.

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use base64::engine::general_purpose::{
    GeneralPurpose, GeneralPurposeConfig, STANDARD, STANDARD_NO_PAD,
};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use super::keys::{ensure_ssh_dir, io_error, SshError};
use super::SshDir;

/// SSH's default port: hosts on it are written without `[…]:port`.
pub const DEFAULT_PORT: u16 = 22;

/// The key types asked for, in ssh's order of preference.
const SCAN_TYPES: &str = "ed25519,ecdsa,rsa";

/// Extra time given to ssh-keyscan beyond its own `-T` before it is killed (its `-T` does not cover
/// name resolution).
const SCAN_GRACE: Duration = Duration::from_secs(2);

/// More output than any honest ssh-keyscan run prints.
const SCAN_OUTPUT_LIMIT: usize = 1 << 20;

/// Longest key blob accepted (RSA 16384 is about 2 KiB).
const MAX_KEY_BYTES: usize = 16 * 1024;

/// Base64 as found in key files: standard alphabet, padding optional.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A host's public key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HostKey {
    /// The key type, e.g. `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`.
    pub algorithm: String,
    /// The key blob in standard, padded base64 (canonical: re-encoded from the decoded bytes).
    pub key_base64: String,
    /// `SHA256:…`, exactly as `ssh-keygen -lf` prints it.
    pub fingerprint: String,
}

impl HostKey {
    /// Checks a key given as its algorithm and base64 blob (the 2nd and 3rd words of a known_hosts
    /// line) and computes its fingerprint. The blob must name the same algorithm.
    pub fn new(algorithm: &str, key_base64: &str) -> Result<HostKey, SshError> {
        let bad = |why: &str| Err(SshError::InvalidHostKey(why.to_string()));
        if algorithm.is_empty()
            || algorithm.len() > 64
            || !algorithm.bytes().all(|b| b.is_ascii_graphic())
        {
            return bad("the key type is missing or malformed");
        }
        if key_base64.len() > MAX_KEY_BYTES * 4 / 3 + 4 {
            return bad("the key is far too long");
        }
        let Ok(blob) = LENIENT_BASE64.decode(key_base64) else {
            return bad("the key is not valid base64");
        };
        // The blob starts with the key type as an SSH string: a 4-byte big-endian length, then bytes.
        let named = blob
            .get(..4)
            .map(|len| u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize)
            .and_then(|len| blob.get(4..len.checked_add(4)?));
        match named {
            Some(name) if name == algorithm.as_bytes() => {}
            Some(_) => return bad("the key data is of another type than the line says"),
            None => return bad("the key data is truncated"),
        }
        if blob.len() == 4 + algorithm.len() {
            return bad("the key data is truncated");
        }
        Ok(HostKey {
            algorithm: algorithm.to_string(),
            key_base64: STANDARD.encode(&blob),
            fingerprint: fingerprint_of(&blob),
        })
    }

    fn same_key(&self, other: &HostKey) -> bool {
        self.algorithm == other.algorithm && self.key_base64 == other.key_base64
    }
}

/// `SHA256:` + unpadded base64 of the SHA-256 of the key blob, as `ssh-keygen -l` prints it.
fn fingerprint_of(blob: &[u8]) -> String {
    format!("SHA256:{}", STANDARD_NO_PAD.encode(Sha256::digest(blob)))
}

/// Orders keys the way ssh prefers them: ed25519, then ECDSA, then RSA, then anything else.
fn preference(algorithm: &str) -> u8 {
    match algorithm {
        "ssh-ed25519" => 0,
        a if a.starts_with("ecdsa-") => 1,
        "ssh-rsa" => 2,
        _ => 3,
    }
}

/// Checks a host (a name, an IPv4 address, or an IPv6 address bare or in brackets) and returns it
/// as OpenSSH names it: brackets removed, lower case.
pub fn normalize_host(host: &str) -> Result<String, SshError> {
    let bad = |reason: &'static str| {
        Err(SshError::InvalidHost {
            host: host.to_string(),
            reason,
        })
    };
    let bracketed = host.starts_with('[') && host.ends_with(']') && host.len() >= 2;
    let inner = if bracketed {
        &host[1..host.len() - 1]
    } else {
        host
    };
    if inner.is_empty() {
        return bad("it is empty");
    }
    if inner.starts_with('-') {
        return bad("it starts with '-', which ssh would read as an option");
    }
    let ipv6 = bracketed || inner.bytes().filter(|&b| b == b':').count() >= 2;
    let ok =
        |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_') || (ipv6 && b == b':');
    if !inner.bytes().all(ok) {
        return bad("it contains characters that are not allowed in a host name");
    }
    if inner.len() > 253 {
        return bad("it is longer than 253 characters");
    }
    Ok(inner.to_ascii_lowercase())
}

/// The name a host has in known_hosts: `host` on port 22, `[host]:port` otherwise. `host` must be
/// normalized.
fn host_entry_name(host: &str, port: u16) -> String {
    if port == DEFAULT_PORT {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

/// The lookup name for any host string: strict normalisation when it passes, else brackets removed
/// and lower-cased (such a name was never written by [`KnownHosts::trust`], but a hand edit may
/// have it).
fn lookup_name(host: &str, port: u16) -> String {
    let host = normalize_host(host).unwrap_or_else(|_| {
        host.strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host)
            .to_ascii_lowercase()
    });
    host_entry_name(&host, port)
}

/// Fetches the host keys `host:port` offers (ed25519, ECDSA, RSA; sorted in that order) with
/// `ssh-keyscan -T <secs> -p <port> -t ed25519,ecdsa,rsa -- <host>`. `timeout` is rounded up to
/// whole seconds (at least 1); ssh-keyscan is killed if it has not finished 2 s after it. Keys
/// printed before a kill are still returned.
pub async fn scan(host: &str, port: u16, timeout: Duration) -> Result<Vec<HostKey>, SshError> {
    scan_with(OsStr::new("ssh-keyscan"), host, port, timeout).await
}

/// [`scan`] with another program in place of ssh-keyscan (tests use one that hangs).
async fn scan_with(
    program: &OsStr,
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<Vec<HostKey>, SshError> {
    let target = normalize_host(host)?;
    let secs = timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0);
    let secs = secs.max(1);
    let mut cmd = tokio::process::Command::new(program);
    cmd.arg("-T")
        .arg(secs.to_string())
        .arg("-p")
        .arg(port.to_string())
        .arg("-t")
        .arg(SCAN_TYPES)
        .arg("--")
        .arg(&target)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().map_err(SshError::KeyscanUnavailable)?;
    let (Some(mut stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        let _ = child.start_kill();
        return Err(SshError::KeyscanUnavailable(io::Error::other(
            "its output could not be captured",
        )));
    };

    let limit = Duration::from_secs(secs) + SCAN_GRACE;
    let deadline = tokio::time::sleep(limit);
    tokio::pin!(deadline);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let (mut out_buf, mut err_buf) = ([0u8; 4096], [0u8; 1024]);
    let (mut out_open, mut err_open) = (true, true);
    let mut timed_out = false;
    while out_open || err_open {
        tokio::select! {
            r = stdout.read(&mut out_buf), if out_open => match r {
                Ok(n) if n > 0 && out.len() < SCAN_OUTPUT_LIMIT => out.extend_from_slice(&out_buf[..n]),
                _ => out_open = false,
            },
            r = stderr.read(&mut err_buf), if err_open => match r {
                Ok(n) if n > 0 && err.len() < SCAN_OUTPUT_LIMIT => err.extend_from_slice(&err_buf[..n]),
                _ => err_open = false,
            },
            () = &mut deadline => {
                timed_out = true;
                break;
            }
        }
    }
    // Both pipes closed normally means it is exiting; otherwise (or if it lingers) it is killed.
    if timed_out
        || tokio::time::timeout(SCAN_GRACE, child.wait())
            .await
            .is_err()
    {
        timed_out = true;
        let _ = child.start_kill();
    }
    let _ = child.wait().await;

    // Only complete lines: a line cut by the kill could still decode, as a different key.
    let complete = match out.iter().rposition(|&b| b == b'\n') {
        Some(end) => &out[..=end],
        None => &[][..],
    };
    let keys = parse_keyscan_output(&String::from_utf8_lossy(complete));
    if !keys.is_empty() {
        return Ok(keys);
    }
    let detail = if timed_out {
        format!(" (no answer within {secs} s)")
    } else {
        let stderr = String::from_utf8_lossy(&err);
        match stderr
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty() && !l.starts_with('#'))
        {
            Some(l) if l.contains("not known") || l.contains("name resolution") => {
                " (the host name cannot be resolved: check its spelling, or use an IP address)"
                    .to_string()
            }
            Some(l) => format!(
                " (ssh-keyscan: {})",
                l.chars().take(200).collect::<String>()
            ),
            None => String::new(),
        }
    };
    Err(SshError::NoServerAnswer {
        host: target,
        port,
        detail,
    })
}

/// Keys from ssh-keyscan's output (`host algorithm base64` lines; `#` lines are comments).
/// Unparsable lines are skipped; duplicates are dropped; the result is in ssh's preference order.
pub fn parse_keyscan_output(text: &str) -> Vec<HostKey> {
    let mut keys: Vec<HostKey> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let (Some(_host), Some(alg), Some(b64)) = (words.next(), words.next(), words.next()) else {
            continue;
        };
        if let Ok(key) = HostKey::new(alg, b64) {
            if !keys.iter().any(|k| k.same_key(&key)) {
                keys.push(key);
            }
        }
    }
    keys.sort_by_key(|k| preference(&k.algorithm));
    keys
}

/// What the known_hosts file says about the keys a host offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum HostKeyStatus {
    /// One of the offered keys is trusted for this host: ssh will connect.
    Known,
    /// Nothing is trusted for this host yet: show the fingerprints and ask.
    Unknown,
    /// The host has trusted keys, but it offers none of them. Show a loud warning: this is a
    /// reinstalled server or an attack.
    Changed {
        /// Fingerprints of the keys trusted for this host.
        expected: Vec<String>,
    },
}

/// Who a known_hosts line is for.
#[derive(Clone, Debug)]
enum Hosts {
    /// Comma-separated patterns, lower-cased.
    Patterns(Vec<String>),
    /// `|1|salt|hash`: HMAC-SHA1 of the host name keyed with the salt.
    Hashed { salt: Vec<u8>, hash: Vec<u8> },
}

impl Hosts {
    fn parse(field: &str) -> Option<Hosts> {
        if let Some(rest) = field.strip_prefix("|1|") {
            let (salt, hash) = rest.split_once('|')?;
            let salt = STANDARD.decode(salt).ok()?;
            let hash = STANDARD.decode(hash).ok()?;
            // ssh writes and accepts only SHA-1-sized salts and hashes.
            if salt.len() != 20 || hash.len() != 20 {
                return None;
            }
            return Some(Hosts::Hashed { salt, hash });
        }
        if field.starts_with('|') {
            return None; // an unknown hash format
        }
        Some(Hosts::Patterns(
            field
                .split(',')
                .filter(|p| !p.is_empty())
                .map(str::to_ascii_lowercase)
                .collect(),
        ))
    }

    /// Whether `name` (lower case; `host` or `[host]:port`) is covered. Like OpenSSH: a matching
    /// negated pattern excludes the host even when another pattern matches.
    fn matches(&self, name: &str) -> bool {
        match self {
            Hosts::Hashed { salt, hash } => {
                let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(salt) else {
                    return false;
                };
                mac.update(name.as_bytes());
                mac.verify_slice(hash).is_ok()
            }
            Hosts::Patterns(patterns) => {
                let mut positive = false;
                for p in patterns {
                    if let Some(negated) = p.strip_prefix('!') {
                        if wildcard_match(negated.as_bytes(), name.as_bytes()) {
                            return false;
                        }
                    } else if wildcard_match(p.as_bytes(), name.as_bytes()) {
                        positive = true;
                    }
                }
                positive
            }
        }
    }
}

/// `*` matches any run of characters, `?` any one character (OpenSSH's `match_pattern`).
fn wildcard_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// A usable line of the file.
#[derive(Clone, Debug)]
struct Entry {
    /// `@cert-authority`, `@revoked`: such lines are not host keys and are not used.
    marker: bool,
    hosts: Hosts,
    key: HostKey,
    /// The line after the host field (" ssh-ed25519 AAAA… comment"), to rewrite the line with
    /// fewer hosts.
    rest: String,
}

/// One line of the file, kept byte for byte (without its newline).
#[derive(Clone, Debug)]
struct Line {
    raw: Vec<u8>,
    entry: Option<Entry>,
}

fn parse_line(raw: &[u8]) -> Line {
    let entry = std::str::from_utf8(raw).ok().and_then(parse_entry);
    Line {
        raw: raw.to_vec(),
        entry,
    }
}

fn parse_entry(text: &str) -> Option<Entry> {
    let text = text.trim_start();
    if text.is_empty() || text.starts_with('#') {
        return None;
    }
    let (marker, text) = match text.strip_prefix('@') {
        Some(after) => {
            let (_, rest) = after.split_once(char::is_whitespace)?;
            (true, rest.trim_start())
        }
        None => (false, text),
    };
    let split = text.find(char::is_whitespace)?;
    let (field, rest) = text.split_at(split);
    let mut words = rest.split_whitespace();
    let key = HostKey::new(words.next()?, words.next()?).ok()?;
    Some(Entry {
        marker,
        hosts: Hosts::parse(field)?,
        key,
        rest: rest.to_string(),
    })
}

/// The contents of a known_hosts file as read at one moment (see [`KnownHosts::load`]).
#[derive(Clone, Debug, Default)]
pub struct KnownHostsFile {
    lines: Vec<Line>,
    /// The bytes end with a newline (or there are none).
    ends_with_newline: bool,
}

impl KnownHostsFile {
    /// Parses known_hosts text. Never fails: lines that cannot be used are kept but ignored.
    pub fn parse(bytes: &[u8]) -> KnownHostsFile {
        let ends_with_newline = bytes.is_empty() || bytes.ends_with(b"\n");
        let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        let lines = if bytes.is_empty() {
            Vec::new()
        } else {
            body.split(|&b| b == b'\n').map(parse_line).collect()
        };
        KnownHostsFile {
            lines,
            ends_with_newline,
        }
    }

    /// The keys trusted for `host` on `port` (plain, wildcard and hashed entries), in file order
    /// without duplicates.
    pub fn lookup(&self, host: &str, port: u16) -> Vec<HostKey> {
        let name = lookup_name(host, port);
        let mut keys: Vec<HostKey> = Vec::new();
        for e in self.entries_for(&name) {
            if !keys.iter().any(|k| k.same_key(&e.key)) {
                keys.push(e.key.clone());
            }
        }
        keys
    }

    fn entries_for<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.lines
            .iter()
            .filter_map(|l| l.entry.as_ref())
            .filter(move |e| !e.marker && e.hosts.matches(name))
    }

    /// Compares the keys a host offers (from [`scan`]) with the trusted ones.
    ///
    /// - [`HostKeyStatus::Known`]: an offered key is trusted for this host. ssh prefers the key
    ///   types it already knows for a host, so it will negotiate that key and connect.
    /// - [`HostKeyStatus::Unknown`]: no key at all is trusted for this host.
    /// - [`HostKeyStatus::Changed`]: keys are trusted for this host but none is offered. When a
    ///   trusted key has the same type as an offered one, this is OpenSSH's "REMOTE HOST
    ///   IDENTIFICATION HAS CHANGED"; when the server now offers only other types, OpenSSH with
    ///   `StrictHostKeyChecking=yes` refuses too ("No … host key is known") and warns that the key
    ///   type differs. Either way the server no longer proves the identity that was trusted, so
    ///   both are reported as changed: trusting again needs the owner's explicit decision.
    ///
    /// Callers pass the non-empty result of [`scan`]; with nothing offered the answer is
    /// `Unknown` or `Changed`.
    pub fn check(&self, host: &str, port: u16, offered: &[HostKey]) -> HostKeyStatus {
        let trusted = self.lookup(host, port);
        if trusted.is_empty() {
            return HostKeyStatus::Unknown;
        }
        if offered
            .iter()
            .any(|o| trusted.iter().any(|t| t.same_key(o)))
        {
            return HostKeyStatus::Known;
        }
        let mut expected: Vec<String> = Vec::new();
        for t in trusted {
            if !expected.contains(&t.fingerprint) {
                expected.push(t.fingerprint);
            }
        }
        HostKeyStatus::Changed { expected }
    }

    /// The file's bytes without `name`'s entries of `key`'s type that hold another key: exact
    /// plain patterns are taken off their line (the line goes when nothing else is left on it),
    /// hashed lines for `name` go, wildcard lines stay.
    fn without_stale(&self, name: &str, key: &HostKey) -> Vec<u8> {
        let mut out: Vec<u8> = Vec::new();
        for line in &self.lines {
            let mut raw = Some(line.raw.clone());
            if let Some(e) = &line.entry {
                let stale = !e.marker
                    && e.key.algorithm == key.algorithm
                    && !e.key.same_key(key)
                    && e.hosts.matches(name);
                if stale {
                    raw = match &e.hosts {
                        Hosts::Hashed { .. } => None,
                        Hosts::Patterns(patterns) if patterns.iter().any(|p| p == name) => {
                            let others: Vec<&str> = patterns
                                .iter()
                                .filter(|p| *p != name)
                                .map(String::as_str)
                                .collect();
                            // Only negations left would match nobody: drop the line.
                            if others.iter().all(|p| p.starts_with('!')) {
                                None
                            } else {
                                Some(format!("{}{}", others.join(","), e.rest).into_bytes())
                            }
                        }
                        // Matched through a wildcard: written by hand for many hosts.
                        Hosts::Patterns(_) => raw,
                    };
                }
            }
            if let Some(raw) = raw {
                out.extend_from_slice(&raw);
                out.push(b'\n');
            }
        }
        out
    }
}

/// The app's `ssh/known_hosts`. A handle: every call reads the file as it is now, so two processes
/// (the server and a CLI run) never act on a stale copy.
#[derive(Clone, Debug)]
pub struct KnownHosts {
    path: PathBuf,
}

impl KnownHosts {
    /// The known_hosts file of `ssh/` (nothing is read yet).
    pub fn new(ssh: &SshDir) -> KnownHosts {
        KnownHosts {
            path: ssh.known_hosts(),
        }
    }

    /// The file's path, for ssh's `UserKnownHostsFile`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the file; a missing file (or `ssh/` folder) is an empty list.
    pub fn load(&self) -> Result<KnownHostsFile, SshError> {
        match fs::read(&self.path) {
            Ok(bytes) => Ok(KnownHostsFile::parse(&bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(KnownHostsFile::default()),
            Err(e) => Err(io_error("read", &self.path, e)),
        }
    }

    /// [`KnownHostsFile::lookup`] on the file as it is now.
    pub fn lookup(&self, host: &str, port: u16) -> Result<Vec<HostKey>, SshError> {
        Ok(self.load()?.lookup(host, port))
    }

    /// [`KnownHostsFile::check`] on the file as it is now.
    pub fn check(
        &self,
        host: &str,
        port: u16,
        offered: &[HostKey],
    ) -> Result<HostKeyStatus, SshError> {
        Ok(self.load()?.check(host, port, offered))
    }

    /// Trusts `key` for `host` on `port`: appends `<host or [host]:port> <algorithm> <base64>` to
    /// the file (`O_APPEND`, one write; file `0600`, folder `0700`). Nothing is written when the
    /// key is already trusted for this host.
    ///
    /// When the host already has a *different* key of the same type, this is refused with
    /// [`SshError::HostKeyConflict`] unless `replace` is set; then those entries are removed first
    /// (exact entries for this host and hashed ones; other hosts on a shared line keep theirs;
    /// wildcard lines written by hand are left alone). Keys of other types are never removed.
    /// That rewrite goes through a temporary file and a rename. An exclusive lock on the `ssh/`
    /// folder keeps concurrent `trust` calls (of any process) apart.
    pub fn trust(
        &self,
        host: &str,
        port: u16,
        key: &HostKey,
        replace: bool,
    ) -> Result<(), SshError> {
        let host = normalize_host(host)?;
        let name = host_entry_name(&host, port);
        // Checks the blob and recomputes the fingerprint, whatever the caller built.
        let key = HostKey::new(&key.algorithm, &key.key_base64)?;

        let dir = self.path.parent().unwrap_or(Path::new("."));
        ensure_ssh_dir(&SshDir::new(dir))?;
        let _lock = DirLock::acquire(dir)?;
        // Decide on the file as it is now, under the lock.
        let file = self.load()?;

        let mut conflicts: Vec<String> = Vec::new();
        let mut already = false;
        for e in file.entries_for(&name) {
            if e.key.same_key(&key) {
                already = true;
            } else if e.key.algorithm == key.algorithm && !conflicts.contains(&e.key.fingerprint) {
                conflicts.push(e.key.fingerprint.clone());
            }
        }
        let mut ends_with_newline = file.ends_with_newline;
        if !conflicts.is_empty() {
            if !replace {
                return Err(SshError::HostKeyConflict {
                    host: name,
                    algorithm: key.algorithm,
                    expected: conflicts,
                    offered: key.fingerprint,
                });
            }
            self.rewrite(&file.without_stale(&name, &key))?;
            ends_with_newline = true;
        }
        if !already {
            let line = format!("{name} {} {}", key.algorithm, key.key_base64);
            self.append(&line, ends_with_newline)?;
        }
        crate::atomic::sync_dir(dir);
        Ok(())
    }

    /// Replaces the file with `bytes`, whole ([`crate::atomic::write`], mode `0600`).
    fn rewrite(&self, bytes: &[u8]) -> Result<(), SshError> {
        crate::atomic::write(&self.path, bytes, 0o600)
            .map_err(|e| io_error("replace", &self.path, e))
    }

    /// Appends one line in a single `O_APPEND` write, creating the file `0600` (and tightening a
    /// looser existing one). A file whose last line lacks its newline gets one first.
    fn append(&self, line: &str, ends_with_newline: bool) -> Result<(), SshError> {
        let path = &self.path;
        let mut f = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path)
            .map_err(|e| io_error("open", path, e))?;
        let meta = f.metadata().map_err(|e| io_error("read", path, e))?;
        if meta.permissions().mode() & 0o077 != 0 {
            f.set_permissions(fs::Permissions::from_mode(0o600))
                .map_err(|e| io_error("set mode 0600 on", path, e))?;
        }
        let mut text = String::new();
        if meta.len() > 0 && !ends_with_newline {
            text.push('\n');
        }
        text.push_str(line);
        text.push('\n');
        f.write_all(text.as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(|e| io_error("write", path, e))?;
        Ok(())
    }
}

/// An exclusive `flock` on the `ssh/` folder, released on drop (or when the process dies).
struct DirLock {
    _dir: File,
}

impl DirLock {
    fn acquire(dir: &Path) -> Result<DirLock, SshError> {
        let f = File::open(dir).map_err(|e| io_error("open", dir, e))?;
        f.lock().map_err(|e| io_error("lock", dir, e))?;
        Ok(DirLock { _dir: f })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;
    use std::time::Instant;
    use testkit::Sshd;

    use crate::ssh::keys::tests::{mode, tmp_ssh};

    /// A fresh host key of type `t` (ed25519, ecdsa, rsa) made by ssh-keygen, with its
    /// `ssh-keygen -lf` fingerprint.
    fn keygen(dir: &Path, t: &str) -> (HostKey, String) {
        let file = dir.join(format!("key-{t}-{}", rand_suffix()));
        let mut cmd = Command::new("ssh-keygen");
        cmd.args(["-q", "-N", "", "-t", t, "-f"]).arg(&file);
        if t == "rsa" {
            cmd.args(["-b", "2048"]);
        }
        assert!(cmd.status().unwrap().success());
        let pub_file = file.with_extension("pub");
        let line = fs::read_to_string(&pub_file).unwrap();
        let mut w = line.split_whitespace();
        let key = HostKey::new(w.next().unwrap(), w.next().unwrap()).unwrap();
        (
            key,
            super::super::keys::tests::keygen_fingerprint(&pub_file),
        )
    }

    fn rand_suffix() -> u128 {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        u128::from(N.fetch_add(1, Ordering::Relaxed))
    }

    /// A hashed host field as `HashKnownHosts` writes it.
    fn hashed(name: &str, salt: [u8; 20]) -> String {
        let mut mac = Hmac::<Sha1>::new_from_slice(&salt).unwrap();
        mac.update(name.as_bytes());
        format!(
            "|1|{}|{}",
            STANDARD.encode(salt),
            STANDARD.encode(mac.finalize().into_bytes())
        )
    }

    #[test]
    fn fingerprints_match_ssh_keygen_for_every_key_type() {
        let tmp = tempfile::tempdir().unwrap();
        for t in ["ed25519", "ecdsa", "rsa"] {
            let (key, expected) = keygen(tmp.path(), t);
            assert!(expected.starts_with("SHA256:"));
            assert_eq!(key.fingerprint, expected, "{t}");
        }
    }

    #[test]
    fn malformed_host_keys_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let (k, _) = keygen(tmp.path(), "ed25519");
        assert_eq!(HostKey::new(&k.algorithm, &k.key_base64).unwrap(), k);
        let unpadded = k.key_base64.trim_end_matches('=');
        assert_eq!(HostKey::new(&k.algorithm, unpadded).unwrap(), k);
        for (alg, b64) in [
            ("ssh-rsa", k.key_base64.as_str()),
            ("", k.key_base64.as_str()),
            ("ssh ed25519", k.key_base64.as_str()),
            ("ssh-ed25519", "not base64!"),
            ("ssh-ed25519", "AAAA"),
            ("ssh-ed25519", "AAAAC3NzaC1lZDI1NTE5"),
        ] {
            assert!(
                matches!(HostKey::new(alg, b64), Err(SshError::InvalidHostKey(_))),
                "{alg} {b64}"
            );
        }
    }

    #[test]
    fn hosts_are_normalized_or_refused() {
        assert_eq!(normalize_host("NAS.lan").unwrap(), "nas.lan");
        assert_eq!(normalize_host("[fd00::1]").unwrap(), "fd00::1");
        assert_eq!(normalize_host("fd00::1").unwrap(), "fd00::1");
        assert_eq!(normalize_host("192.168.1.2").unwrap(), "192.168.1.2");
        for bad in [
            "",
            "[]",
            "-oProxyCommand=x",
            "[-x]",
            "a b",
            "a,b",
            "*",
            "nas:22",
            "a;b",
            "$(x)",
            "a\nb",
            "|1|x",
            "!nas",
        ] {
            assert!(
                matches!(normalize_host(bad), Err(SshError::InvalidHost { .. })),
                "{bad:?}"
            );
        }
        assert_eq!(host_entry_name("nas", 22), "nas");
        assert_eq!(host_entry_name("nas", 2222), "[nas]:2222");
        assert_eq!(host_entry_name("fd00::1", 2222), "[fd00::1]:2222");
    }

    #[test]
    fn wildcards_work_like_openssh() {
        assert!(wildcard_match(b"*.lan", b"nas.lan"));
        assert!(wildcard_match(b"n?s*", b"nas.lan"));
        assert!(wildcard_match(b"*", b""));
        assert!(wildcard_match(b"[*]:2222", b"[nas]:2222"));
        assert!(!wildcard_match(b"*.lan", b"nas.lan.evil"));
        assert!(!wildcard_match(b"nas", b"nas2"));
        assert!(!wildcard_match(b"?", b""));
    }

    #[test]
    fn keyscan_output_is_parsed() {
        let tmp = tempfile::tempdir().unwrap();
        let (ed, _) = keygen(tmp.path(), "ed25519");
        let (ec, _) = keygen(tmp.path(), "ecdsa");
        let text = format!(
            "# 127.0.0.1:2222 SSH-2.0-OpenSSH_9.2p1\n\
             [127.0.0.1]:2222 {} {}\n\
             \n\
             [127.0.0.1]:2222 {} {}\n\
             [127.0.0.1]:2222 {} {}\n\
             garbage\n\
             [127.0.0.1]:2222 ssh-ed25519 AAAA\n",
            ec.algorithm, ec.key_base64, ed.algorithm, ed.key_base64, ed.algorithm, ed.key_base64
        );
        assert_eq!(parse_keyscan_output(&text), vec![ed, ec]);
        assert!(parse_keyscan_output("# only a comment\n").is_empty());
    }

    #[test]
    fn lookup_handles_ports_lists_wildcards_hashes_and_markers() {
        let tmp = tempfile::tempdir().unwrap();
        let k: Vec<HostKey> = (0..8).map(|_| keygen(tmp.path(), "ed25519").0).collect();
        let line =
            |hosts: &str, key: &HostKey| format!("{hosts} {} {}", key.algorithm, key.key_base64);
        let text = [
            "# comment".to_string(),
            String::new(),
            line("nas,192.168.1.2", &k[0]) + " a comment",
            line("[nas]:2222", &k[1]),
            line("OTHER.lan", &k[2]),
            line("*.example.org,!bad.example.org", &k[3]),
            line(&hashed("[hidden]:2200", [7; 20]), &k[4]),
            format!("@cert-authority {}", line("*", &k[5])),
            format!("@revoked {}", line("nas", &k[6])),
            "nas ssh-ed25519 !!!broken".to_string(),
            line("[fd00::1]:2222", &k[7]),
        ]
        .join("\n");
        let file = KnownHostsFile::parse(text.as_bytes());
        assert_eq!(file.lookup("nas", 22), vec![k[0].clone()]);
        assert_eq!(file.lookup("NAS", 22), vec![k[0].clone()]);
        assert_eq!(file.lookup("192.168.1.2", 22), vec![k[0].clone()]);
        assert_eq!(file.lookup("nas", 2222), vec![k[1].clone()]);
        assert_eq!(file.lookup("[nas]", 2222), vec![k[1].clone()]);
        assert!(file.lookup("nas", 2223).is_empty());
        assert!(file.lookup("192.168.1.2", 2222).is_empty());
        assert_eq!(file.lookup("other.lan", 22), vec![k[2].clone()]);
        assert_eq!(file.lookup("www.example.org", 22), vec![k[3].clone()]);
        assert!(file.lookup("bad.example.org", 22).is_empty());
        assert!(file.lookup("www.example.org", 2222).is_empty());
        assert_eq!(file.lookup("hidden", 2200), vec![k[4].clone()]);
        assert!(file.lookup("hidden", 22).is_empty());
        assert!(
            file.lookup("nowhere", 22).is_empty(),
            "a CA line is no host key"
        );
        assert_eq!(file.lookup("[fd00::1]", 2222), vec![k[7].clone()]);
        assert_eq!(file.lookup("fd00::1", 2222), vec![k[7].clone()]);
        assert!(KnownHostsFile::parse(b"").lookup("nas", 22).is_empty());
    }

    #[test]
    fn hashed_entries_from_ssh_keygen_are_found() {
        let (_tmp, ssh) = tmp_ssh();
        let tmp = tempfile::tempdir().unwrap();
        let (k, _) = keygen(tmp.path(), "ed25519");
        let kh = KnownHosts::new(&ssh);
        kh.trust("nas.lan", 2222, &k, false).unwrap();
        kh.trust("nas.lan", 22, &k, false).unwrap();
        let out = Command::new("ssh-keygen")
            .arg("-H")
            .arg("-f")
            .arg(kh.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let text = fs::read_to_string(kh.path()).unwrap();
        assert!(!text.contains("nas"), "hashed: {text}");
        assert_eq!(kh.lookup("nas.lan", 2222).unwrap(), vec![k.clone()]);
        assert_eq!(kh.lookup("nas.lan", 22).unwrap(), vec![k.clone()]);
        assert!(kh.lookup("nas.lan", 2200).unwrap().is_empty());
        // Replacing the key removes the hashed entry of that port only.
        let (k2, _) = keygen(tmp.path(), "ed25519");
        kh.trust("nas.lan", 2222, &k2, true).unwrap();
        assert_eq!(kh.lookup("nas.lan", 2222).unwrap(), vec![k2]);
        assert_eq!(kh.lookup("nas.lan", 22).unwrap(), vec![k]);
    }

    #[test]
    fn check_says_known_unknown_or_changed() {
        let tmp = tempfile::tempdir().unwrap();
        let (ed, ed_fp) = keygen(tmp.path(), "ed25519");
        let (ed2, _) = keygen(tmp.path(), "ed25519");
        let (ec, ec_fp) = keygen(tmp.path(), "ecdsa");
        let (rsa, _) = keygen(tmp.path(), "rsa");
        let text = format!(
            "[nas]:2222 {} {}\n[nas]:2222 {} {}\n[old]:2222 {} {}\n",
            ed.algorithm, ed.key_base64, ec.algorithm, ec.key_base64, ec.algorithm, ec.key_base64
        );
        let file = KnownHostsFile::parse(text.as_bytes());
        assert_eq!(
            file.check("other", 2222, std::slice::from_ref(&ed)),
            HostKeyStatus::Unknown
        );
        assert_eq!(
            file.check("nas", 22, std::slice::from_ref(&ed)),
            HostKeyStatus::Unknown
        );
        assert_eq!(
            file.check("nas", 2222, std::slice::from_ref(&ed)),
            HostKeyStatus::Known
        );
        // Any trusted key that is offered will do: ssh negotiates the type it knows.
        assert_eq!(
            file.check("nas", 2222, &[ed2.clone(), ec.clone(), rsa.clone()]),
            HostKeyStatus::Known
        );
        // Same type, other key: REMOTE HOST IDENTIFICATION HAS CHANGED.
        assert_eq!(
            file.check("nas", 2222, std::slice::from_ref(&ed2)),
            HostKeyStatus::Changed {
                expected: vec![ed_fp.clone(), ec_fp.clone()]
            }
        );
        // Only another type offered: ssh refuses too, so it is reported as changed.
        assert_eq!(
            file.check("old", 2222, &[ed.clone(), rsa.clone()]),
            HostKeyStatus::Changed {
                expected: vec![ec_fp.clone()]
            }
        );
        let json = serde_json::to_value(file.check("old", 2222, &[ed])).unwrap();
        assert_eq!(json["status"], "changed");
        assert_eq!(json["expected"][0], ec_fp.as_str());
    }

    #[test]
    fn trust_appends_a_plain_line_with_safe_modes() {
        let (_tmp, ssh) = tmp_ssh();
        let tmp = tempfile::tempdir().unwrap();
        let (ed, _) = keygen(tmp.path(), "ed25519");
        let (ec, _) = keygen(tmp.path(), "ecdsa");
        let kh = KnownHosts::new(&ssh);
        assert_eq!(
            kh.check("nas", 2222, std::slice::from_ref(&ed)).unwrap(),
            HostKeyStatus::Unknown
        );
        kh.trust("NAS", 2222, &ed, false).unwrap();
        kh.trust("NAS", 2222, &ed, false).unwrap(); // already there: nothing added
        kh.trust("nas", 2222, &ec, false).unwrap(); // another type: added beside it
        kh.trust("[fd00::1]", 22, &ed, false).unwrap();
        assert_eq!(mode(ssh.path()), 0o700);
        assert_eq!(mode(kh.path()), 0o600);
        assert_eq!(
            fs::read_to_string(kh.path()).unwrap(),
            format!(
                "[nas]:2222 {} {}\n[nas]:2222 {} {}\nfd00::1 {} {}\n",
                ed.algorithm,
                ed.key_base64,
                ec.algorithm,
                ec.key_base64,
                ed.algorithm,
                ed.key_base64
            )
        );
        assert_eq!(
            kh.check("nas", 2222, std::slice::from_ref(&ed)).unwrap(),
            HostKeyStatus::Known
        );
        // OpenSSH finds what we wrote.
        for name in ["[nas]:2222", "fd00::1"] {
            let found = Command::new("ssh-keygen")
                .args(["-F", name, "-f"])
                .arg(kh.path())
                .output()
                .unwrap();
            assert!(found.status.success(), "{name}: {found:?}");
        }
        // Hostile hosts never reach the file.
        for bad in [
            "-oProxyCommand=x",
            "a b",
            "a,b",
            "*",
            "nas\nevil ssh-ed25519 AAAA",
        ] {
            assert!(matches!(
                kh.trust(bad, 22, &ed, false),
                Err(SshError::InvalidHost { .. })
            ));
        }
        // A key whose fingerprint the caller got wrong is recomputed.
        let mut forged = ec.clone();
        forged.fingerprint = "SHA256:forged".into();
        kh.trust("other", 22, &forged, false).unwrap();
        assert_eq!(kh.lookup("other", 22).unwrap(), vec![ec]);
    }

    #[test]
    fn trust_tightens_the_file_and_completes_a_last_line() {
        let (_tmp, ssh) = tmp_ssh();
        let tmp = tempfile::tempdir().unwrap();
        let (a, _) = keygen(tmp.path(), "ed25519");
        let (b, _) = keygen(tmp.path(), "ed25519");
        fs::create_dir_all(ssh.path()).unwrap();
        let kh = KnownHosts::new(&ssh);
        fs::write(kh.path(), format!("a {} {}", a.algorithm, a.key_base64)).unwrap();
        fs::set_permissions(kh.path(), fs::Permissions::from_mode(0o644)).unwrap();
        kh.trust("b", 22, &b, false).unwrap();
        assert_eq!(mode(kh.path()), 0o600);
        assert_eq!(kh.lookup("a", 22).unwrap(), vec![a]);
        assert_eq!(kh.lookup("b", 22).unwrap(), vec![b]);
    }

    #[test]
    fn a_different_key_is_replaced_only_when_asked() {
        let (_tmp, ssh) = tmp_ssh();
        let tmp = tempfile::tempdir().unwrap();
        let (old, old_fp) = keygen(tmp.path(), "ed25519");
        let (new, new_fp) = keygen(tmp.path(), "ed25519");
        let (ec, _) = keygen(tmp.path(), "ecdsa");
        fs::create_dir_all(ssh.path()).unwrap();
        let kh = KnownHosts::new(&ssh);
        let l = |hosts: &str, k: &HostKey| format!("{hosts} {} {}", k.algorithm, k.key_base64);
        let before = [
            "# my hosts".to_string(),
            l("[nas]:2222,[nas2]:2222", &old) + " kept comment",
            l("[nas]:2222", &ec),
            l("nas", &old),
            l("[*]:2222", &old),
        ]
        .join("\n")
            + "\n";
        fs::write(kh.path(), &before).unwrap();

        match kh.trust("nas", 2222, &new, false) {
            Err(SshError::HostKeyConflict {
                host,
                expected,
                offered,
                ..
            }) => {
                assert_eq!(host, "[nas]:2222");
                assert_eq!(expected, vec![old_fp]);
                assert_eq!(offered, new_fp);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(fs::read_to_string(kh.path()).unwrap(), before, "untouched");

        kh.trust("nas", 2222, &new, true).unwrap();
        let after = fs::read_to_string(kh.path()).unwrap();
        assert_eq!(
            after,
            [
                "# my hosts".to_string(),
                l("[nas2]:2222", &old) + " kept comment",
                l("[nas]:2222", &ec),
                l("nas", &old),
                l("[*]:2222", &old),
                l("[nas]:2222", &new),
            ]
            .join("\n")
                + "\n"
        );
        assert_eq!(mode(kh.path()), 0o600);
        assert_eq!(
            kh.check("nas", 2222, std::slice::from_ref(&new)).unwrap(),
            HostKeyStatus::Known
        );
        assert_eq!(kh.lookup("nas2", 2222).unwrap(), vec![old.clone()]);
        assert_eq!(kh.lookup("nas", 22).unwrap(), vec![old]);
        assert!(fs::read_dir(ssh.path()).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains("tmp")));
    }

    #[tokio::test]
    async fn scan_a_real_sshd_then_trust_it_and_log_in() {
        let tmp = tempfile::tempdir().unwrap();
        let ssh = SshDir::new(tmp.path().join("data/ssh"));
        let key = super::super::keys::generate(&ssh, "test", "mnemosynce test").unwrap();
        let authorized = tmp.path().join("authorized_keys");
        fs::write(&authorized, format!("{}\n", key.public_line)).unwrap();
        let sshd = Sshd::start(&tmp.path().join("sshd"), &authorized, None);

        let scanned = scan("127.0.0.1", sshd.port, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(scanned.len(), 1, "{scanned:?}");
        assert_eq!(scanned[0].algorithm, "ssh-ed25519");
        let expected =
            super::super::keys::tests::keygen_fingerprint(&sshd.dir.join("host_ed25519.pub"));
        assert_eq!(scanned[0].fingerprint, expected);

        // Strict checking against our file: refused until trusted, then a login with our key.
        let kh = KnownHosts::new(&ssh);
        let login = || {
            Command::new("ssh")
                .args([
                    "-F",
                    "/dev/null",
                    "-o",
                    "BatchMode=yes",
                    "-o",
                    "IdentitiesOnly=yes",
                ])
                .args([
                    "-o",
                    "StrictHostKeyChecking=yes",
                    "-o",
                    "GlobalKnownHostsFile=/dev/null",
                ])
                .arg("-o")
                .arg(format!("UserKnownHostsFile={}", kh.path().display()))
                .arg("-i")
                .arg(&super::super::keys::private_key_paths(&ssh)[0])
                .args([
                    "-p",
                    &sshd.port.to_string(),
                    "-l",
                    "root",
                    "--",
                    "127.0.0.1",
                    "true",
                ])
                .stdin(Stdio::null())
                .output()
                .unwrap()
        };
        let refused = login();
        assert!(!refused.status.success());
        assert!(String::from_utf8_lossy(&refused.stderr).contains("Host key verification failed"));
        assert_eq!(
            kh.check("127.0.0.1", sshd.port, &scanned).unwrap(),
            HostKeyStatus::Unknown
        );
        kh.trust("127.0.0.1", sshd.port, &scanned[0], false)
            .unwrap();
        assert_eq!(
            kh.check("127.0.0.1", sshd.port, &scanned).unwrap(),
            HostKeyStatus::Known
        );
        let ok = login();
        assert!(
            ok.status.success(),
            "{}",
            String::from_utf8_lossy(&ok.stderr)
        );
    }

    #[tokio::test]
    async fn scan_fails_fast_and_clearly_on_a_dead_port() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let started = Instant::now();
        let err = scan("127.0.0.1", port, Duration::from_secs(3))
            .await
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(6));
        assert!(matches!(err, SshError::NoServerAnswer { .. }), "{err:?}");
        assert!(err.to_string().contains("no SSH server answered"), "{err}");
    }

    #[tokio::test]
    async fn scan_kills_keyscan_when_the_server_stays_silent() {
        // A listener that accepts and never speaks.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let started = Instant::now();
        let err = scan("127.0.0.1", port, Duration::from_millis(500))
            .await
            .unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(matches!(err, SshError::NoServerAnswer { .. }), "{err:?}");
        drop(listener);
    }

    /// A stand-in for ssh-keyscan that prints `first` and then hangs.
    fn hanging_keyscan(dir: &Path, first: &str) -> PathBuf {
        let script = dir.join("fake-keyscan");
        fs::write(
            &script,
            format!("#!/bin/sh\nprintf '%s' '{first}'\nexec sleep 60\n"),
        )
        .unwrap();
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        script
    }

    #[tokio::test]
    async fn a_hanging_keyscan_is_killed_and_its_complete_lines_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let (k, _) = keygen(tmp.path(), "ed25519");
        let printed = format!(
            "[nas]:2222 {} {}\n[nas]:2222 ssh-rsa AAAAB3Nza",
            k.algorithm, k.key_base64
        );
        let script = hanging_keyscan(tmp.path(), &printed);
        let started = Instant::now();
        let keys = scan_with(script.as_os_str(), "nas", 2222, Duration::from_secs(1))
            .await
            .unwrap();
        let took = started.elapsed();
        assert!(
            took >= Duration::from_secs(3) && took < Duration::from_secs(8),
            "{took:?}"
        );
        assert_eq!(keys, vec![k], "the cut-off last line is dropped");

        let script = hanging_keyscan(tmp.path(), "");
        let err = scan_with(script.as_os_str(), "nas", 2222, Duration::from_millis(200))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("no answer within 1 s"), "{err}");
    }

    #[tokio::test]
    async fn scan_refuses_option_like_hosts() {
        for bad in ["-oProxyCommand=touch /tmp/x", "", "a b", "$(id)"] {
            assert!(matches!(
                scan(bad, 22, Duration::from_secs(1)).await,
                Err(SshError::InvalidHost { .. })
            ));
        }
    }
}
