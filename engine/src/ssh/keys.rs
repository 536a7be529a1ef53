//! The app's own SSH key pairs in `<data>/ssh/` (SPEC §1, §9.1 "SSH keys", §11): [`generate`],
//! [`list`], [`delete`], and [`private_key_paths`] for the `ssh` command line.
//!
//! Keys are ed25519, made in Rust (the `ssh-key` crate, no `ssh-keygen`), so a fresh install can be
//! set up from the web app alone. A key named `N` is the private key `ssh/N` (OpenSSH format,
//! unencrypted, since `BatchMode` can never ask for a passphrase; mode `0600`) and the public key
//! `ssh/N.pub` (one `ssh-ed25519 AAAA… comment` line, mode `0644`).
//!
//! Invariants: a key name is checked ([`validate_key_name`]: `[A-Za-z0-9_-]{1,64}`, not a reserved
//! name such as `known_hosts`) before any path is built from it; a key file is created with its mode
//! in the same `open(2)` (`O_CREAT|O_EXCL`), so it is never readable by others and never overwrites
//! or follows an existing file or symlink; the private key never leaves this module ([`KeyInfo`] is
//! public data only); a comment holds no shell-special character ([`validate_comment`]), since its
//! public line is pasted into a shell. [`list`] is read-only and forgiving: a broken pair is listed
//! with a [`KeyInfo::problem`] and its fix, and files that are not keys are ignored. [`SshError`] is
//! the error type of the whole `ssh` module; every message ends with what to do about it.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use ssh_key::{rand_core::OsRng, Algorithm, HashAlg, LineEnding, PrivateKey, PublicKey};

use super::SshDir;

/// Longest key comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 200;

/// Longest key name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// Names that match the key-name pattern but are (or may become) other files in `ssh/`.
const RESERVED_NAMES: &[&str] = &["known_hosts", "authorized_keys", "config"];

/// Everything that can go wrong with the app's keys and known hosts. Each message says the fix.
#[derive(Debug, thiserror::Error)]
pub enum SshError {
    #[error("the key name {0:?} is not allowed: use 1 to 64 letters (A-Z, a-z), digits, '-' or '_', e.g. backup-nas")]
    InvalidKeyName(String),
    #[error(
        "the key name {0:?} is reserved for another file in the ssh folder: choose another name"
    )]
    ReservedKeyName(String),
    #[error(
        "the key comment is not allowed: {0}; use at most 200 printable characters on one line"
    )]
    InvalidComment(String),
    #[error("a key named {0:?} already exists: choose another name, or delete the old key first (remove its line from authorized_keys on the other machines too)")]
    KeyExists(String),
    #[error("there is no key named {0:?}: check the name against the key list")]
    KeyNotFound(String),
    #[error("cannot generate the key: {0}; the system's random source (getrandom, /dev/urandom) may be unavailable — check the container or sandbox settings")]
    KeyGeneration(String),
    #[error("cannot {action} {}: {source}; {hint}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
        /// What to do about it.
        hint: &'static str,
    },
    #[error("the host {host:?} is not allowed: {reason}; use a host name or IP address made of letters, digits, '.', '-' and '_' (IPv6 in brackets, e.g. [fd00::1])")]
    InvalidHost { host: String, reason: &'static str },
    #[error("the host key is not valid: {0}; take the key again from the connection test (or from `ssh-keyscan` on a trusted machine)")]
    InvalidHostKey(String),
    #[error("cannot run ssh-keyscan: {0}; install the OpenSSH client (Debian/Ubuntu: apt-get install openssh-client)")]
    KeyscanUnavailable(#[source] io::Error),
    #[error("no SSH server answered at {host} port {port}{detail}: check the host name and port, that the machine is on and sshd is running there, and that no firewall blocks the port")]
    NoServerAnswer {
        host: String,
        port: u16,
        /// Empty, or `" (" + what ssh-keyscan said + ")"`.
        detail: String,
    },
    #[error("known_hosts already trusts a different {algorithm} key for {host} ({}), not the offered {offered}: if the server was reinstalled or its key was rotated, confirm the new fingerprint with its owner and replace the old key; otherwise this may be an attack — do not trust it", expected.join(", "))]
    HostKeyConflict {
        host: String,
        algorithm: String,
        /// Fingerprints of the trusted keys of that algorithm.
        expected: Vec<String>,
        /// Fingerprint of the key that was to be trusted.
        offered: String,
    },
}

/// Hint for I/O errors on the `ssh/` folder and its files.
pub(super) const HINT_WRITABLE: &str =
    "check that the data directory exists and belongs to the user Mnemosynce runs as";

pub(super) fn io_error(action: &'static str, path: &Path, source: io::Error) -> SshError {
    SshError::Io {
        action,
        path: path.to_path_buf(),
        source,
        hint: HINT_WRITABLE,
    }
}

/// One key pair, as shown in the key list. Public data only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    /// The file name in `ssh/` (the public key is `<name>.pub`).
    pub name: String,
    /// The key type as written in the public line, e.g. `ssh-ed25519`.
    pub algorithm: String,
    /// `SHA256:…`, exactly as `ssh-keygen -lf` prints it.
    pub fingerprint: String,
    pub comment: String,
    /// `ssh-ed25519 AAAA… comment`: the line to add to `~/.ssh/authorized_keys` on the other machine.
    pub public_line: String,
    /// Set when the pair is unusable or damaged: what is wrong and the fix. The other fields are
    /// filled from whichever half could be read (empty when neither could).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// Checks a key name before it is used to build a path: `[A-Za-z0-9_-]{1,64}`, not a reserved name.
pub fn validate_key_name(name: &str) -> Result<(), SshError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_CHARS
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !ok {
        return Err(SshError::InvalidKeyName(name.to_string()));
    }
    if RESERVED_NAMES.contains(&name) {
        return Err(SshError::ReservedKeyName(name.to_string()));
    }
    Ok(())
}

/// Checks a key comment: at most [`MAX_COMMENT_CHARS`] characters, no control characters (so no
/// newline: the public key stays one line) and no invisible direction/format characters that could
/// make a comment display as something else. Surrounding spaces are not allowed either (OpenSSH
/// drops them when it reads the line back). Only letters, digits, spaces and `@ . _ - + , : = /`
/// are allowed: the public line is pasted into a remote shell (`key_install_command`), so quotes,
/// `$`, backticks, `;`, brackets and the like are refused even though that command quotes the line.
pub fn validate_comment(comment: &str) -> Result<(), SshError> {
    let bad = |why: &str| Err(SshError::InvalidComment(why.to_string()));
    if comment.chars().count() > MAX_COMMENT_CHARS {
        return bad("it is longer than 200 characters");
    }
    if comment.chars().any(|c| c == '\n' || c == '\r') {
        return bad("it contains a line break");
    }
    if comment.chars().any(char::is_control) {
        return bad("it contains a control character (such as a tab)");
    }
    if comment.chars().any(is_invisible_format_char) {
        return bad("it contains an invisible formatting character");
    }
    if comment.trim() != comment {
        return bad("it starts or ends with a space");
    }
    if let Some(c) = comment.chars().find(|&c| !is_comment_char(c)) {
        return Err(SshError::InvalidComment(format!(
            "it contains {c:?}, which a shell reads specially (the key line is pasted into a shell on the other machine); use only letters, digits, spaces and @ . _ - + , : = /"
        )));
    }
    Ok(())
}

/// A character a key comment may hold: nothing a shell reads specially.
fn is_comment_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, ' ' | '@' | '.' | '_' | '-' | '+' | ',' | ':' | '=' | '/')
}

fn is_invisible_format_char(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{00AD}')
}

/// Creates `ssh/` with mode `0700` (its parents as needed), or tightens it to `0700` when it exists
/// with a looser (or unusable) mode.
pub(super) fn ensure_ssh_dir(ssh: &SshDir) -> Result<(), SshError> {
    let dir = ssh.path();
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(|e| io_error("create the folder", parent, e))?;
    }
    match DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io_error("create the folder", dir, e)),
    }
    let meta = fs::metadata(dir).map_err(|e| io_error("read the folder", dir, e))?;
    if !meta.is_dir() {
        return Err(SshError::Io {
            action: "use",
            path: dir.to_path_buf(),
            source: io::Error::other("it exists but is not a folder"),
            hint: "move that file away; Mnemosynce keeps its SSH keys in this folder",
        });
    }
    if meta.permissions().mode() & 0o777 != 0o700 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(|e| SshError::Io {
            action: "set mode 0700 on",
            path: dir.to_path_buf(),
            source: e,
            hint: "the folder must belong to the user Mnemosynce runs as (chown it)",
        })?;
    }
    Ok(())
}

/// Creates a file that must not exist yet, with `mode`, writes `data` and syncs it.
/// `O_EXCL` also refuses a symlink in its place, dangling or not.
pub(super) fn write_new_file(path: &Path, mode: u32, data: &[u8]) -> io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)?;
    let written = f.write_all(data).and_then(|()| f.sync_all());
    if let Err(e) = written {
        drop(f);
        let _ = fs::remove_file(path);
        return Err(e);
    }
    Ok(())
}

/// Generates an ed25519 key pair named `name` in `ssh/`: the private key `ssh/<name>` (`0600`), the
/// public key `ssh/<name>.pub`. Refuses to overwrite an existing key (or any file of that name).
pub fn generate(ssh: &SshDir, name: &str, comment: &str) -> Result<KeyInfo, SshError> {
    validate_key_name(name)?;
    validate_comment(comment)?;
    ensure_ssh_dir(ssh)?;
    let private_path = ssh.path().join(name);
    let public_path = ssh.path().join(format!("{name}.pub"));
    // An orphaned public key would otherwise be silently replaced below.
    if fs::symlink_metadata(&public_path).is_ok() {
        return Err(SshError::KeyExists(name.to_string()));
    }

    let mut key = PrivateKey::random(&mut OsRng, Algorithm::Ed25519)
        .map_err(|e| SshError::KeyGeneration(e.to_string()))?;
    key.set_comment(comment);
    let private_text = key
        .to_openssh(LineEnding::LF)
        .map_err(|e| SshError::KeyGeneration(e.to_string()))?;
    let info = key_info(name, key.public_key())?;

    match write_new_file(&private_path, 0o600, private_text.as_bytes()) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            return Err(SshError::KeyExists(name.to_string()))
        }
        // ELOOP: a symlink sits where the key would go.
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(SshError::KeyExists(name.to_string()))
        }
        Err(e) => return Err(io_error("write the private key", &private_path, e)),
    }
    let public_text = format!("{}\n", info.public_line);
    if let Err(e) = write_new_file(&public_path, 0o644, public_text.as_bytes()) {
        // Leave no half pair behind.
        let _ = fs::remove_file(&private_path);
        if e.kind() == io::ErrorKind::AlreadyExists || e.raw_os_error() == Some(libc::ELOOP) {
            return Err(SshError::KeyExists(name.to_string()));
        }
        return Err(io_error("write the public key", &public_path, e));
    }
    crate::atomic::sync_dir(ssh.path());
    Ok(info)
}

/// Public data of a key, for [`KeyInfo`].
fn key_info(name: &str, public: &PublicKey) -> Result<KeyInfo, SshError> {
    let public_line = public
        .to_openssh()
        .map_err(|e| SshError::KeyGeneration(e.to_string()))?;
    Ok(KeyInfo {
        name: name.to_string(),
        algorithm: public.algorithm().as_str().to_string(),
        fingerprint: public.fingerprint(HashAlg::Sha256).to_string(),
        comment: public.comment().to_string(),
        public_line,
        problem: None,
    })
}

/// The start of a private key file we recognise (OpenSSH's own format, or the older PEM ones).
fn looks_like_private_key(path: &Path) -> bool {
    let mut head = [0u8; 64];
    let Ok(meta) = fs::symlink_metadata(path) else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    let Ok(mut f) = File::open(path) else {
        return false;
    };
    let n = read_up_to(&mut f, &mut head);
    let head = &head[..n];
    head.starts_with(b"-----BEGIN ") && head.windows(11).any(|w| w == b"PRIVATE KEY")
}

fn read_up_to(f: &mut File, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    n
}

/// One key as found on disk.
struct Found {
    info: KeyInfo,
    /// The private key can be offered to ssh: present, parsed, unencrypted, not readable by others.
    private_usable: bool,
}

/// The key names present in `ssh/`, sorted.
fn key_names(ssh: &SshDir) -> Result<Vec<String>, SshError> {
    let dir = ssh.path();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error("read the folder", dir, e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_error("read the folder", dir, e))?;
        let Some(file_name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let (candidate, is_pub) = match file_name.strip_suffix(".pub") {
            Some(stem) => (stem.to_string(), true),
            None => (file_name, false),
        };
        if validate_key_name(&candidate).is_err() {
            continue;
        }
        if is_pub || looks_like_private_key(&dir.join(&candidate)) {
            names.push(candidate);
        }
    }
    names.sort();
    names.dedup();
    Ok(names)
}

fn inspect(ssh: &SshDir, name: &str) -> Found {
    let private_path = ssh.path().join(name);
    let public_path = ssh.path().join(format!("{name}.pub"));
    let mut problems: Vec<String> = Vec::new();

    let mut public_missing = false;
    let public = match fs::read_to_string(&public_path) {
        Ok(text) => match PublicKey::from_openssh(text.trim()) {
            Ok(k) => Some(k),
            Err(e) => {
                problems.push(format!(
                    "the public key file {name}.pub cannot be read as an SSH public key ({e}): delete this key and generate a new one"
                ));
                None
            }
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            public_missing = true;
            None
        }
        Err(e) => {
            problems.push(format!(
                "the public key file {name}.pub cannot be read ({e}): check its owner and mode"
            ));
            None
        }
    };

    let mut private_usable = false;
    let mut private_public: Option<PublicKey> = None;
    match fs::symlink_metadata(&private_path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => problems.push(format!(
            "the private key file {name} is missing, so this key cannot log in: delete this key and generate a new one"
        )),
        Err(e) => problems.push(format!(
            "the private key file {name} cannot be read ({e}): check its owner and mode"
        )),
        Ok(meta) if !meta.is_file() => problems.push(format!(
            "{name} is not a regular file (a folder or symlink?): remove it and generate a new key"
        )),
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o777;
            match fs::read_to_string(&private_path).map(|t| PrivateKey::from_openssh(t.as_bytes()))
            {
                Err(e) => problems.push(format!(
                    "the private key file {name} cannot be read ({e}): check its owner and mode"
                )),
                Ok(Err(e)) => problems.push(format!(
                    "the private key file {name} is not an OpenSSH private key ({e}): delete this key and generate a new one"
                )),
                Ok(Ok(key)) => {
                    private_usable = true;
                    if key.is_encrypted() {
                        private_usable = false;
                        problems.push(format!(
                            "the private key {name} is protected by a passphrase, which unattended backups cannot type: generate a new key in Mnemosynce"
                        ));
                    }
                    if mode & 0o077 != 0 {
                        private_usable = false;
                        problems.push(format!(
                            "the private key {name} is readable by other users (mode {mode:04o}), so ssh refuses to use it: run chmod 600 on it"
                        ));
                    }
                    private_public = Some(key.public_key().clone());
                }
            }
        }
    }

    if public_missing {
        problems.push(format!(
            "the public key file {name}.pub is missing (the line shown is rebuilt from the private key): delete and regenerate the key to restore it"
        ));
    }
    let shown = match (&public, &private_public) {
        (Some(p), Some(q)) => {
            if p.key_data() != q.key_data() {
                problems.push(format!(
                    "{name} and {name}.pub are not the same key pair (the public key was replaced?): delete this key and generate a new one"
                ));
            }
            Some(p)
        }
        (Some(p), None) => Some(p),
        (None, Some(q)) => Some(q),
        (None, None) => None,
    };
    let mut info = match shown.map(|k| key_info(name, k)) {
        Some(Ok(info)) => info,
        _ => KeyInfo {
            name: name.to_string(),
            algorithm: String::new(),
            fingerprint: String::new(),
            comment: String::new(),
            public_line: String::new(),
            problem: None,
        },
    };
    if !problems.is_empty() {
        info.problem = Some(problems.join("; "));
    }
    Found {
        info,
        private_usable,
    }
}

/// The key pairs in `ssh/`, sorted by name. A missing folder is an empty list. Broken pairs are
/// listed with [`KeyInfo::problem`] set; files that are not keys are ignored.
pub fn list(ssh: &SshDir) -> Result<Vec<KeyInfo>, SshError> {
    Ok(key_names(ssh)?
        .iter()
        .map(|name| inspect(ssh, name).info)
        .collect())
}

/// Deletes the key pair `name` (both files; either may already be gone).
pub fn delete(ssh: &SshDir, name: &str) -> Result<(), SshError> {
    validate_key_name(name)?;
    let mut removed = false;
    for path in [
        ssh.path().join(format!("{name}.pub")),
        ssh.path().join(name),
    ] {
        match fs::remove_file(&path) {
            Ok(()) => removed = true,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error("delete", &path, e)),
        }
    }
    if !removed {
        return Err(SshError::KeyNotFound(name.to_string()));
    }
    crate::atomic::sync_dir(ssh.path());
    Ok(())
}

/// The private keys transfers offer with `-i`, sorted by key name: every key whose private half is
/// usable (a parsed, unencrypted OpenSSH key that only its owner can read). Broken keys are left
/// out, so ssh never warns about them in a run's log; [`list`] shows them with the reason.
pub fn private_key_paths(ssh: &SshDir) -> Vec<PathBuf> {
    let Ok(names) = key_names(ssh) else {
        return Vec::new();
    };
    names
        .iter()
        .filter(|name| inspect(ssh, name).private_usable)
        .map(|name| ssh.path().join(name))
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::process::Command;

    /// A fresh `ssh/` folder in a temp dir (shared with known_hosts' tests).
    pub(crate) fn tmp_ssh() -> (tempfile::TempDir, SshDir) {
        let tmp = tempfile::tempdir().unwrap();
        let ssh = SshDir::new(tmp.path().join("data").join("ssh"));
        (tmp, ssh)
    }

    /// A file's permission bits.
    pub(crate) fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    /// The fingerprint field of `ssh-keygen -lf FILE` ("256 SHA256:… comment (ED25519)").
    pub(crate) fn keygen_fingerprint(file: &Path) -> String {
        let out = Command::new("ssh-keygen")
            .arg("-lf")
            .arg(file)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        text.split_whitespace().nth(1).unwrap().to_string()
    }

    #[test]
    fn names_are_validated() {
        for good in ["a", "backup-nas", "Key_2", "-", &"x".repeat(64)] {
            // A leading '-' is harmless: transfers pass keys as absolute paths.
            validate_key_name(good).unwrap();
        }
        for bad in [
            "",
            &"x".repeat(65),
            "../evil",
            "a/b",
            "/etc/passwd",
            ".",
            "..",
            "a.pub",
            "a b",
            "a\n",
            "é",
        ] {
            assert!(
                matches!(validate_key_name(bad), Err(SshError::InvalidKeyName(_))),
                "{bad:?}"
            );
        }
        for reserved in ["known_hosts", "authorized_keys", "config"] {
            assert!(matches!(
                validate_key_name(reserved),
                Err(SshError::ReservedKeyName(_))
            ));
        }
    }

    #[test]
    fn bad_names_and_comments_touch_nothing() {
        let (_tmp, ssh) = tmp_ssh();
        for name in ["../escape", "known_hosts", "", "a/b"] {
            assert!(generate(&ssh, name, "c").is_err());
            assert!(delete(&ssh, name).is_err());
        }
        for comment in [
            "two\nlines",
            "cr\r",
            "tab\there",
            " lead",
            "trail ",
            "rtl\u{202E}txt",
            &"c".repeat(201),
            "it's",
            "a\"b",
            "$(id)",
            "`id`",
            "a;b",
            "a&b",
            "a|b",
            "a>b",
            "a<b",
            "back\\slash",
            "(sub)",
            "{a,b}",
            "*",
            "a?",
            "[x]",
            "!1",
            "#c",
            "~",
        ] {
            assert!(
                matches!(
                    generate(&ssh, "ok", comment),
                    Err(SshError::InvalidComment(_))
                ),
                "{comment:?}"
            );
        }
        assert!(!ssh.path().exists(), "nothing may be created");
        validate_comment(&"é".repeat(200)).unwrap();
        validate_comment("").unwrap();
        validate_comment("mnemosynce@nas, backups+1: a=b/c").unwrap();
        validate_comment("Jürgen's").unwrap_err();
    }

    #[test]
    fn generate_writes_a_private_0600_key_in_a_0700_folder() {
        let (_tmp, ssh) = tmp_ssh();
        let info = generate(&ssh, "nas", "mnemosynce@host").unwrap();
        let private = ssh.path().join("nas");
        let public = ssh.path().join("nas.pub");
        assert_eq!(mode(ssh.path()), 0o700);
        assert_eq!(mode(&private), 0o600);
        assert_eq!(mode(&public), 0o644);
        let text = fs::read_to_string(&private).unwrap();
        assert!(text.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n"));
        assert_eq!(info.name, "nas");
        assert_eq!(info.algorithm, "ssh-ed25519");
        assert_eq!(info.comment, "mnemosynce@host");
        assert_eq!(info.problem, None);
        // The public line is what goes into authorized_keys, and what the .pub file holds.
        assert!(info
            .public_line
            .starts_with("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA"));
        assert!(info.public_line.ends_with(" mnemosynce@host"));
        assert_eq!(info.public_line.split(' ').count(), 3);
        assert_eq!(
            fs::read_to_string(&public).unwrap(),
            format!("{}\n", info.public_line)
        );
        // OpenSSH agrees: same fingerprint from both files, same public key from the private one.
        assert!(info.fingerprint.starts_with("SHA256:"));
        assert_eq!(keygen_fingerprint(&private), info.fingerprint);
        assert_eq!(keygen_fingerprint(&public), info.fingerprint);
        let derived = Command::new("ssh-keygen")
            .arg("-y")
            .arg("-f")
            .arg(&private)
            .output()
            .unwrap();
        assert!(derived.status.success(), "{derived:?}");
        let derived = String::from_utf8(derived.stdout).unwrap();
        let mut words = derived.split_whitespace();
        let mut ours = info.public_line.split_whitespace();
        assert_eq!(words.next(), ours.next());
        assert_eq!(words.next(), ours.next());
        // JSON for the web app: public data only.
        let json = serde_json::to_value(&info).unwrap();
        assert_eq!(json["fingerprint"], info.fingerprint.as_str());
        assert!(json.get("problem").is_none());
        assert!(!json.to_string().contains("PRIVATE"));
    }

    #[test]
    fn an_empty_comment_gives_a_two_word_line() {
        let (_tmp, ssh) = tmp_ssh();
        let info = generate(&ssh, "k", "").unwrap();
        assert_eq!(
            info.public_line.split(' ').count(),
            2,
            "{}",
            info.public_line
        );
        assert_eq!(
            keygen_fingerprint(&ssh.path().join("k.pub")),
            info.fingerprint
        );
    }

    #[test]
    fn a_loose_folder_is_tightened() {
        let (_tmp, ssh) = tmp_ssh();
        fs::create_dir_all(ssh.path()).unwrap();
        fs::set_permissions(ssh.path(), fs::Permissions::from_mode(0o755)).unwrap();
        generate(&ssh, "k", "c").unwrap();
        assert_eq!(mode(ssh.path()), 0o700);
    }

    #[test]
    fn existing_keys_and_planted_files_are_never_overwritten() {
        let (tmp, ssh) = tmp_ssh();
        let first = generate(&ssh, "k", "first").unwrap();
        assert!(matches!(
            generate(&ssh, "k", "second"),
            Err(SshError::KeyExists(_))
        ));
        assert_eq!(list(&ssh).unwrap(), vec![first]);

        // An orphaned public key, or a symlink where the private key would go.
        fs::write(ssh.path().join("orphan.pub"), "x").unwrap();
        assert!(matches!(
            generate(&ssh, "orphan", ""),
            Err(SshError::KeyExists(_))
        ));
        let target = tmp.path().join("outside");
        std::os::unix::fs::symlink(&target, ssh.path().join("link")).unwrap();
        assert!(matches!(
            generate(&ssh, "link", ""),
            Err(SshError::KeyExists(_))
        ));
        assert!(!target.exists(), "a symlink must not be followed");
        assert!(!ssh.path().join("link.pub").exists());
    }

    #[test]
    fn list_sorts_ignores_strays_and_reports_broken_pairs() {
        let (_tmp, ssh) = tmp_ssh();
        assert_eq!(list(&ssh).unwrap(), vec![], "no folder yet");
        let b = generate(&ssh, "b-key", "b").unwrap();
        let a = generate(&ssh, "a_key", "a").unwrap();
        let dir = ssh.path();
        fs::write(dir.join("known_hosts"), "host ssh-ed25519 AAAA\n").unwrap();
        fs::write(dir.join("notes"), "not a key\n").unwrap();
        fs::write(dir.join("notes.txt"), "x").unwrap();
        fs::write(dir.join("b-key.bak"), "x").unwrap();
        fs::create_dir(dir.join("sub")).unwrap();

        // Damaged pairs.
        fs::write(dir.join("garbled.pub"), "ssh-ed25519 !!!\n").unwrap();
        let c = generate(&ssh, "open", "c").unwrap();
        fs::set_permissions(dir.join("open"), fs::Permissions::from_mode(0o644)).unwrap();
        let d = generate(&ssh, "nopub", "d").unwrap();
        fs::remove_file(dir.join("nopub.pub")).unwrap();
        let e = generate(&ssh, "mixed", "e").unwrap();
        fs::copy(dir.join("a_key.pub"), dir.join("mixed.pub")).unwrap();

        let listed = list(&ssh).unwrap();
        let names: Vec<&str> = listed.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(
            names,
            ["a_key", "b-key", "garbled", "mixed", "nopub", "open"]
        );
        assert_eq!(listed[0], a);
        assert_eq!(listed[1], b);
        let problem = |i: usize| listed[i].problem.clone().unwrap_or_default();
        assert!(problem(2).contains("cannot be read as an SSH public key"));
        assert!(problem(2).contains("private key file garbled is missing"));
        assert!(
            problem(3).contains("not the same key pair"),
            "{}",
            problem(3)
        );
        assert_ne!(listed[3].fingerprint, e.fingerprint);
        assert!(
            problem(4).contains("nopub.pub is missing"),
            "{}",
            problem(4)
        );
        assert_eq!(
            listed[4].fingerprint, d.fingerprint,
            "rebuilt from the private key"
        );
        assert_eq!(listed[4].public_line, d.public_line);
        assert!(problem(5).contains("chmod 600"), "{}", problem(5));
        assert_eq!(listed[5].fingerprint, c.fingerprint);

        // Transfers get the usable private keys only, sorted by name.
        assert_eq!(
            private_key_paths(&ssh),
            vec![
                dir.join("a_key"),
                dir.join("b-key"),
                dir.join("mixed"),
                dir.join("nopub")
            ]
        );
    }

    #[test]
    fn delete_removes_both_files_and_nothing_else() {
        let (_tmp, ssh) = tmp_ssh();
        generate(&ssh, "gone", "").unwrap();
        generate(&ssh, "kept", "").unwrap();
        delete(&ssh, "gone").unwrap();
        assert!(!ssh.path().join("gone").exists());
        assert!(!ssh.path().join("gone.pub").exists());
        assert_eq!(private_key_paths(&ssh), vec![ssh.path().join("kept")]);
        assert!(matches!(
            delete(&ssh, "gone"),
            Err(SshError::KeyNotFound(_))
        ));
        assert!(matches!(
            delete(&ssh, "../kept"),
            Err(SshError::InvalidKeyName(_))
        ));
        // A half pair can be deleted too.
        fs::remove_file(ssh.path().join("kept.pub")).unwrap();
        delete(&ssh, "kept").unwrap();
        assert_eq!(list(&ssh).unwrap(), vec![]);
    }

    #[test]
    fn no_folder_means_no_keys() {
        let (_tmp, ssh) = tmp_ssh();
        assert!(private_key_paths(&ssh).is_empty());
        assert!(matches!(delete(&ssh, "x"), Err(SshError::KeyNotFound(_))));
    }
}
