//! SSH: the app's own keys, the hosts it trusts, and the exact `ssh` command every transfer uses.
//!
//! Everything lives in `<data>/ssh/` (mode `0700`). Invariants: transfers never read the user's
//! `~/.ssh`: `ssh` gets `-F /dev/null`, only the app's keys (`IdentitiesOnly=yes`), only the app's
//! `known_hosts` with `StrictHostKeyChecking=yes`, `BatchMode=yes` (never a prompt), a connect
//! timeout and keep-alives (a dead link ends a transfer instead of hanging it). Nothing a remote
//! prints is collected whole ([`capture`]; a folder listing stops at [`LISTING_CAP`]).
//!
//! Within a run, the SSH commands of one task share one connection ([`SshDir::shared`]): preflight
//! logs in ([`SshDir::open_shared`]) and leaves a master connection behind (`ControlPersist=30`),
//! the transfer and the mirror ride on it, and the task closes it ([`SshDir::close_shared`]). Its
//! socket is `<data>/ssh/.cm-<hash>`; when that path would not fit a Unix socket's 107 bytes, it is
//! named relative to the ssh folder and the commands start there ([`SshDir::workdir`]).
//!
//! - [`keys`]: generate, list and delete ed25519 key pairs.
//! - [`known_hosts`]: fetch a host's key with its SHA256 fingerprint, check it, trust it.
//! - [`connection`]: the step-by-step connection test, which never shares a connection.

pub mod capture;
pub mod connection;
pub mod keys;
pub mod known_hosts;

pub use keys::SshError;

use std::path::{Path, PathBuf};

/// The `ssh/` folder of a data directory.
#[derive(Clone, Debug)]
pub struct SshDir {
    dir: PathBuf,
    /// Whether commands share one connection per host (see the module docs).
    share: bool,
}

impl SshDir {
    pub fn new(dir: impl Into<PathBuf>) -> SshDir {
        SshDir {
            dir: dir.into(),
            share: false,
        }
    }

    /// The same folder, for commands that share one connection per host and user. Its path is
    /// made absolute, because those commands start in the folder itself ([`SshDir::workdir`]) and
    /// the key and `known_hosts` paths they carry must not depend on where they start.
    pub fn shared(mut self) -> SshDir {
        self.share = true;
        if let Ok(abs) = std::path::absolute(&self.dir) {
            self.dir = abs;
        }
        self
    }

    /// Where a command that may use the shared connection must start: the ssh folder, from which
    /// a relative `ControlPath` is named. `None` when connections are not shared, or when the folder
    /// does not exist (no key has been made yet: the command then fails at its login, with the fix,
    /// rather than at its start).
    pub fn workdir(&self) -> Option<&Path> {
        (self.share && self.dir.is_dir()).then_some(self.dir.as_path())
    }

    /// A command for `program` (ssh, or rsync running ssh) started in [`SshDir::workdir`].
    fn command(&self, program: &str) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(program);
        if let Some(dir) = self.workdir() {
            cmd.current_dir(dir);
        }
        cmd
    }

    /// The `ControlPath` of shared connections, ready for `-o ControlPath=` (the folder's `%`
    /// escaped, the file name ssh's own `%C` token, a hash of host, port and user), when sharing
    /// is on. ssh expands `%C` to 40 hex digits and first binds a temporary name 17 characters
    /// longer, all within the 107 bytes a Unix socket path may have: when the whole path would not
    /// fit, the name alone, relative to the ssh folder the command starts in (none without that
    /// folder: a relative name would then land wherever the command started).
    fn control_path(&self) -> Option<String> {
        const SOCKET_PATH_MAX: usize = 107;
        const EXPANDED_EXTRA: usize = "/.cm-".len() + 40 + 17;
        if !self.share {
            return None;
        }
        if self.dir.as_os_str().len() + EXPANDED_EXTRA <= SOCKET_PATH_MAX {
            Some(format!("{}/.cm-%C", escape_tokens(&self.dir)))
        } else {
            self.workdir().map(|_| ".cm-%C".to_string())
        }
    }

    /// Logs in to the endpoint's host and leaves the shared connection open for the commands that
    /// follow (`ssh -N -f`: no remote command, so it costs one login and nothing else). Proves the
    /// connection, the host key and the login; `Ok(false)` when connections are not shared here
    /// (nothing was done), an explained error when the login fails.
    pub async fn open_shared(&self, e: &SshEndpoint) -> Result<bool, String> {
        let Some(control) = self.control_path() else {
            return Ok(false);
        };
        // A master that is already up (this task's mirror on the same host) is simply reused.
        let alive = self
            .control_command(&control, e, "check")
            .status()
            .await
            .is_ok_and(|s| s.success());
        if alive {
            return Ok(true);
        }
        let mut cmd = self.command("ssh");
        // The first value of an option wins: this master is made, never joined.
        cmd.args(["-o", "ControlMaster=yes", "-N", "-f"])
            .args(self.ssh_argv(e, &[]));
        let out = match capture::run_capped(&mut cmd, StdoutCap::SMALL, REMOTE_TIMEOUT).await {
            Err(err @ CaptureError::Start { .. }) => return Err(err.to_string()),
            Err(err) => return Err(format!("{e}: ssh: {err}")),
            Ok(o) => o,
        };
        if out.status.success() {
            return Ok(true);
        }
        let why = failure_reason(&stderr_lines(&out.stderr), "ssh", out.status);
        Err(format!("{e}: {why}"))
    }

    /// `ssh -O <op>` for the shared connection to the endpoint's host, quiet.
    fn control_command(&self, control: &str, e: &SshEndpoint, op: &str) -> tokio::process::Command {
        let mut cmd = self.command("ssh");
        cmd.args(["-F", "/dev/null", "-o"])
            .arg(format!("ControlPath={control}"))
            .args(["-O", op, "-p"])
            .arg(e.port.unwrap_or(22).to_string())
            .arg("-l")
            .arg(&e.user)
            .arg("--")
            .arg(e.address())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        cmd
    }

    /// Ends the shared connection to the endpoint's host, if there is one (`ssh -O exit`), so no
    /// ssh process outlives the task that started it. Quiet: nothing to close is not an error.
    pub async fn close_shared(&self, e: &SshEndpoint) {
        let Some(control) = self.control_path() else {
            return;
        };
        let mut cmd = self.control_command(&control, e, "exit");
        let _ = tokio::time::timeout(Duration::from_secs(5), cmd.status()).await;
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    pub fn known_hosts(&self) -> PathBuf {
        self.dir.join("known_hosts")
    }
}

use crate::model::config::SshEndpoint;
use capture::{CaptureError, StdoutCap};
use std::ffi::OsString;
use std::time::Duration;

/// How long a listing or check over SSH may take before it is given up.
const REMOTE_TIMEOUT: Duration = Duration::from_secs(30);

/// The most a remote folder listing may hold: 1 MiB or 100 000 names (a task folder holds a few
/// hundred snapshots; a mirror root one folder per task).
pub const LISTING_CAP: StdoutCap = StdoutCap {
    bytes: 1 << 20,
    lines: 100_000,
};

/// A path for an ssh option or `-i`, which ssh expands `%` tokens in: a literal `%` is `%%`.
fn escape_tokens(path: &Path) -> String {
    path.display().to_string().replace('%', "%%")
}

/// The `ssh` options every connection uses (see the module docs).
fn ssh_options(known_hosts: &Path, keys: &[PathBuf], control: Option<&str>) -> Vec<String> {
    let mut o: Vec<String> = vec!["-F".into(), "/dev/null".into()];
    for opt in [
        "BatchMode=yes".to_string(),
        "IdentitiesOnly=yes".into(),
        "StrictHostKeyChecking=yes".into(),
        format!("UserKnownHostsFile={}", escape_tokens(known_hosts)),
        "GlobalKnownHostsFile=/dev/null".into(),
        "PasswordAuthentication=no".into(),
        "KbdInteractiveAuthentication=no".into(),
        "ConnectTimeout=10".into(),
        "ServerAliveInterval=15".into(),
        "ServerAliveCountMax=4".into(),
    ] {
        o.push("-o".into());
        o.push(opt);
    }
    if keys.is_empty() {
        // Without this, ssh would fall back to ~/.ssh/id_* despite IdentitiesOnly.
        o.push("-o".into());
        o.push("IdentityFile=none".into());
    }
    for k in keys {
        o.push("-i".into());
        o.push(escape_tokens(k));
    }
    if let Some(control) = control {
        for opt in [
            "ControlMaster=auto".to_string(),
            format!("ControlPath={control}"),
            "ControlPersist=30".into(),
        ] {
            o.push("-o".into());
            o.push(opt);
        }
    }
    o
}

impl SshDir {
    /// The private keys transfers offer, as `-i` arguments.
    pub fn keys(&self) -> Vec<PathBuf> {
        keys::private_key_paths(self)
    }

    /// The `-e` value for rsync: the ssh command line, which rsync splits itself (spaces separate
    /// words, single quotes keep a path with spaces whole; no shell is involved). Paths holding a
    /// single quote or a control character are refused.
    pub fn rsync_rsh(&self, port: Option<u16>) -> Result<String, String> {
        let mut words = vec!["ssh".to_string()];
        let opts = ssh_options(
            &self.known_hosts(),
            &self.keys(),
            self.control_path().as_deref(),
        );
        for w in opts {
            if w.contains('\'') || w.chars().any(char::is_control) {
                return Err(format!(
                    "the data directory path {} contains a quote or control character, which the ssh command line cannot carry; move the data directory",
                    self.dir.display()
                ));
            }
            words.push(if w.contains(' ') { format!("'{w}'") } else { w });
        }
        if let Some(p) = port {
            words.push("-p".into());
            words.push(p.to_string());
        }
        Ok(words.join(" "))
    }

    /// argv (after `ssh`) to run `command` (constant words, never user input) on the endpoint's host.
    pub fn ssh_argv(&self, e: &SshEndpoint, command: &[&str]) -> Vec<OsString> {
        let mut argv: Vec<OsString> = ssh_options(
            &self.known_hosts(),
            &self.keys(),
            self.control_path().as_deref(),
        )
        .into_iter()
        .map(OsString::from)
        .collect();
        argv.push("-p".into());
        argv.push(e.port.unwrap_or(22).to_string().into());
        argv.push("-l".into());
        argv.push(e.user.clone().into());
        argv.push("--".into());
        // ssh takes an IPv6 address bare; `[fd00::1]` would be looked up as a name.
        argv.push(e.address().into());
        argv.extend(command.iter().map(OsString::from));
        argv
    }
}

/// The rsync argument for a folder on the endpoint: `user@host:/path/` (or `/path/sub/`); an IPv6
/// host keeps its brackets (`user@[fd00::1]:/path/`), which rsync removes before it runs ssh.
/// Used with `--protect-args`, so the remote side never hands the path to a shell.
pub fn rsync_remote_arg(e: &SshEndpoint, sub: Option<&str>) -> OsString {
    let mut path = e.path.trim_end_matches('/').to_string();
    if let Some(sub) = sub {
        path.push('/');
        path.push_str(sub);
    }
    path.push('/');
    OsString::from(format!("{}@{}:{}", e.user, e.host, path))
}

/// What went wrong talking to a remote folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteError {
    /// The folder does not exist on the remote side.
    Missing,
    /// Anything else, explained in one line with its fix.
    Failed(String),
}

impl std::fmt::Display for RemoteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RemoteError::Missing => f.write_str("the folder does not exist on the remote machine"),
            RemoteError::Failed(m) => f.write_str(m),
        }
    }
}

/// The entry names of a remote folder (without `.`), read with `rsync --list-only` over SSH — which
/// also proves that the connection, the login, the path and rsync on the remote all work.
pub async fn list_remote(
    ssh: &SshDir,
    e: &SshEndpoint,
    sub: Option<&str>,
) -> Result<Vec<String>, RemoteError> {
    list_remote_capped(ssh, e, sub, LISTING_CAP).await
}

/// [`list_remote`] with another cap (tests use a small one).
pub async fn list_remote_capped(
    ssh: &SshDir,
    e: &SshEndpoint,
    sub: Option<&str>,
    cap: StdoutCap,
) -> Result<Vec<String>, RemoteError> {
    let rsh = ssh.rsync_rsh(e.port).map_err(RemoteError::Failed)?;
    let mut cmd = ssh.command("rsync");
    cmd.arg("--protect-args")
        .arg("--list-only")
        .arg("--no-human-readable")
        .arg("-e")
        .arg(rsh)
        .arg(rsync_remote_arg(e, sub))
        .env("LC_ALL", "C");
    let out = match capture::run_capped(&mut cmd, cap, REMOTE_TIMEOUT).await {
        Ok(o) => o,
        Err(err @ CaptureError::Start { .. }) => return Err(RemoteError::Failed(err.to_string())),
        Err(CaptureError::TooLarge { limit }) => {
            let folder = rsync_remote_arg(e, sub);
            return Err(RemoteError::Failed(format!(
                "the remote listing of {} is larger than {limit}, so it was stopped; check that the path names the backup folder and not a big data folder",
                folder.to_string_lossy()
            )));
        }
        Err(err) => return Err(RemoteError::Failed(format!("{e}: {err}"))),
    };
    let stderr = stderr_lines(&out.stderr);
    if !out.status.success() {
        if stderr
            .iter()
            .any(|l| l.contains("No such file or directory") && l.contains("change_dir"))
        {
            return Err(RemoteError::Missing);
        }
        let why = failure_reason(&stderr, "rsync", out.status);
        return Err(RemoteError::Failed(format!("{e}: {why}")));
    }
    Ok(parse_list_only(&String::from_utf8_lossy(&out.stdout)))
}

/// Names from `rsync --list-only` lines such as
/// `drwxr-xr-x          4096 2026/11/26 02:00:00 2026-11-26_020000` (the name is everything after
/// the time column, so names with spaces survive).
pub fn parse_list_only(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in text.lines() {
        let mut rest = line;
        let mut ok = true;
        for _ in 0..4 {
            rest = rest.trim_start();
            match rest.find(' ') {
                Some(i) => rest = &rest[i..],
                None => {
                    ok = false;
                    break;
                }
            }
        }
        let name = rest.strip_prefix(' ').unwrap_or(rest);
        if ok && !name.is_empty() && name != "." {
            names.push(name.to_string());
        }
    }
    names
}

/// A command's stderr, line by line.
fn stderr_lines(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Why `program` failed, in one line: the usual SSH failures with their fix, else the last line it
/// printed, else its exit status.
fn failure_reason(stderr: &[String], program: &str, status: std::process::ExitStatus) -> String {
    explain_ssh_failure(stderr)
        .or_else(|| stderr.iter().rev().find(|l| !l.trim().is_empty()).cloned())
        .unwrap_or_else(|| format!("{program} exited with {status}"))
}

/// A one-line reason and fix for the usual SSH failures, from ssh's or rsync's stderr.
pub fn explain_ssh_failure(stderr: &[String]) -> Option<String> {
    let has = |needle: &str| stderr.iter().any(|l| l.contains(needle));
    if has("REMOTE HOST IDENTIFICATION HAS CHANGED") || has("Host key for") && has("has changed") {
        return Some("WARNING: the host key has CHANGED since it was trusted — this can be an attack (or a reinstalled server); check the fingerprint with its owner before trusting the new key".into());
    }
    if has("Host key verification failed")
        || has("No ED25519 host key is known")
        || has("host key is known")
    {
        return Some("the host key is not trusted yet: run the connection test and trust the host (mnemosynce test-connection, then --trust)".into());
    }
    if has("Permission denied (publickey") || has("Permission denied") && has("publickey") {
        return Some("login refused: add the app's public key to ~/.ssh/authorized_keys of that user on the remote machine (mnemosynce keys list shows the line)".into());
    }
    if has("Connection refused") {
        return Some(
            "connection refused: no SSH server on that port (check the host and port)".into(),
        );
    }
    if has("Connection timed out") || has("timed out") {
        return Some(
            "the connection timed out: check that the host is up and the port is reachable".into(),
        );
    }
    if has("Could not resolve hostname") {
        return Some(
            "the host name cannot be resolved: check its spelling or use an IP address".into(),
        );
    }
    if has("rsync: command not found")
        || has("rsync: not found")
        || has("No such file or directory") && has("exec")
    {
        return Some("rsync is not installed on the remote machine: install it there (apt-get install rsync)".into());
    }
    if has("Connection closed") || has("connection unexpectedly closed") || has("Broken pipe") {
        return Some("the connection was cut during the transfer; the next run resumes".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_only_lines_give_names_with_spaces_intact() {
        let text = "drwxr-xr-x          4096 2026/11/26 02:00:00 .\n\
                    drwxr-xr-x          4096 2026/11/26 02:00:00 2026-11-26_020000\n\
                    -rw-r--r--            12 2026/11/26 02:00:00 my notes.txt\n\
                    lrwxrwxrwx            17 2026/11/26 02:00:00 latest\n";
        assert_eq!(
            parse_list_only(text),
            vec!["2026-11-26_020000", "my notes.txt", "latest"]
        );
    }

    #[test]
    fn the_rsh_line_quotes_paths_and_refuses_quotes() {
        let ssh = SshDir::new("/data with space/ssh");
        let rsh = ssh.rsync_rsh(Some(2222)).unwrap();
        assert!(rsh.starts_with("ssh -F /dev/null"), "{rsh}");
        assert!(
            rsh.contains("'UserKnownHostsFile=/data with space/ssh/known_hosts'"),
            "{rsh}"
        );
        assert!(rsh.ends_with("-p 2222"), "{rsh}");
        assert!(SshDir::new("/it's/ssh").rsync_rsh(None).is_err());
    }

    #[test]
    fn shared_connections_name_their_socket_within_its_length_limit_and_escape_percent_signs() {
        let plain = SshDir::new("/srv/100%/ssh").rsync_rsh(None).unwrap();
        assert!(!plain.contains("ControlMaster"), "{plain}");
        assert!(
            plain.contains("UserKnownHostsFile=/srv/100%%/ssh/known_hosts"),
            "{plain}"
        );
        let shared = SshDir::new("/srv/100%/ssh")
            .shared()
            .rsync_rsh(None)
            .unwrap();
        assert!(shared.contains("-o ControlMaster=auto"), "{shared}");
        assert!(
            shared.contains("-o ControlPath=/srv/100%%/ssh/.cm-%C"),
            "{shared}"
        );
        // 46 characters of folder would overflow a socket path once ssh expands %C: the socket
        // is named from the folder, which the commands start in.
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp
            .path()
            .join("d".repeat(46 - tmp.path().as_os_str().len()));
        std::fs::create_dir(&dir).unwrap();
        let long = SshDir::new(&dir).shared();
        let rsh = long.rsync_rsh(None).unwrap();
        assert!(rsh.contains("-o ControlPath=.cm-%C "), "{rsh}");
        assert_eq!(long.workdir(), Some(dir.as_path()));
        // Without the folder (no key made yet) nothing is shared and commands start where they
        // are: a relative socket name would land there.
        std::fs::remove_dir(&dir).unwrap();
        assert!(!long.rsync_rsh(None).unwrap().contains("ControlPath"));
        assert_eq!(long.workdir(), None);
        let fits = SshDir::new(format!("/{}", "d".repeat(44))).shared();
        let rsh = fits.rsync_rsh(None).unwrap();
        assert!(
            rsh.contains(&format!("-o ControlPath=/{}/.cm-%C ", "d".repeat(44))),
            "{rsh}"
        );
        // Not shared: no socket, and commands start wherever the caller is.
        assert_eq!(SshDir::new("/srv/ssh").workdir(), None);
    }

    #[test]
    fn usual_ssh_failures_get_a_fix() {
        let l = |s: &str| vec![s.to_string()];
        assert!(explain_ssh_failure(&l("Host key verification failed."))
            .unwrap()
            .contains("trust"));
        assert!(
            explain_ssh_failure(&l("root@127.0.0.1: Permission denied (publickey)."))
                .unwrap()
                .contains("authorized_keys")
        );
        assert!(explain_ssh_failure(&l(
            "ssh: connect to host 127.0.0.1 port 1: Connection refused"
        ))
        .unwrap()
        .contains("refused"));
        assert!(explain_ssh_failure(&l(
            "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @"
        ))
        .unwrap()
        .contains("CHANGED"));
    }
}
