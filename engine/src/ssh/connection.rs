//! The connection test (SPEC §9.1 "Connections"): every step of reaching an SSH endpoint, each with
//! its own verdict and a hint how to fix it, and never longer than 8 s per step ([`test`];
//! [`test_live`] hands each step over as soon as it is decided, for the streaming web page).
//!
//! 1. TCP connect to host:port (no ICMP: many hosts drop pings but serve SSH);
//! 2. the host key: known, unknown (its fingerprint is shown, to trust), or CHANGED (a loud failure);
//! 3. login with the app's keys;
//! 4. rsync present on the remote;
//! 5. the path exists (and, for a mirror, is writable).
//!
//! Invariants: a failed step skips the ones after it; the test never shares a connection (it must
//! see a fresh login); no remote command is built from configuration text. [`trust_seen_key`]
//! trusts only a key the host offers again with the fingerprint the owner was shown, and never
//! replaces a changed one.

use super::capture::{run_capped, CaptureError, StdoutCap};
use super::known_hosts::{self, HostKey, HostKeyStatus, KnownHosts};
use super::{list_remote, RemoteError, SshDir};
use crate::model::config::SshEndpoint;
use crate::model::connection::{CheckStep, Verdict};
use std::time::Duration;

const STEP_TIMEOUT: Duration = Duration::from_secs(8);

/// What the test found; `offered` holds the host's keys when they are not trusted yet.
#[derive(Clone, Debug)]
pub struct ConnectionReport {
    pub steps: Vec<CheckStep>,
    pub offered: Vec<HostKey>,
    pub host_key_changed: bool,
}

impl ConnectionReport {
    pub fn ok(&self) -> bool {
        self.steps
            .iter()
            .all(|s| matches!(s.verdict, Verdict::Pass))
    }
}

fn step(
    name: impl Into<String>,
    verdict: Verdict,
    detail: impl Into<String>,
    hint: Option<&str>,
) -> CheckStep {
    CheckStep {
        name: name.into(),
        verdict,
        detail: detail.into(),
        hint: hint.map(str::to_string),
    }
}

/// The steps as they are decided: each goes to the caller's callback at once (so the web page can
/// show it while the next one runs) and is kept for the report.
struct Steps<'a> {
    list: Vec<CheckStep>,
    on_step: &'a mut (dyn FnMut(&CheckStep) + Send),
}

impl Steps<'_> {
    fn push(&mut self, s: CheckStep) {
        (self.on_step)(&s);
        self.list.push(s);
    }
}

/// A report being written.
struct Live<'a> {
    steps: Steps<'a>,
    offered: Vec<HostKey>,
    host_key_changed: bool,
}

impl Live<'_> {
    fn finish(self) -> ConnectionReport {
        ConnectionReport {
            steps: self.steps.list,
            offered: self.offered,
            host_key_changed: self.host_key_changed,
        }
    }
}

/// Tests the endpoint step by step. `for_mirror`: also check the folder is writable.
pub async fn test(ssh: &SshDir, e: &SshEndpoint, for_mirror: bool) -> ConnectionReport {
    test_live(ssh, e, for_mirror, &mut |_| {}).await
}

/// [`test`], calling `on_step` with each step as soon as it is decided.
pub async fn test_live(
    ssh: &SshDir,
    e: &SshEndpoint,
    for_mirror: bool,
    on_step: &mut (dyn FnMut(&CheckStep) + Send),
) -> ConnectionReport {
    let port = e.port.unwrap_or(22);
    let mut report = Live {
        steps: Steps {
            list: Vec::new(),
            on_step,
        },
        offered: Vec::new(),
        host_key_changed: false,
    };
    let names = [
        format!("TCP connect to {}:{port}", e.host),
        "host key".to_string(),
        format!("login as {}", e.user),
        "rsync on the remote".to_string(),
        format!("folder {}", e.path),
    ];
    let skip_rest = |report: &mut Live<'_>, from: usize| {
        for n in &names[from..] {
            report.steps.push(step(
                n.clone(),
                Verdict::Skipped,
                "not tried: an earlier step failed",
                None,
            ));
        }
    };

    // 1. TCP
    let host = e.address().to_string();
    match tokio::time::timeout(
        STEP_TIMEOUT,
        tokio::net::TcpStream::connect((host.as_str(), port)),
    )
    .await
    {
        Ok(Ok(_)) => report.steps.push(step(
            names[0].clone(),
            Verdict::Pass,
            "the port answers",
            None,
        )),
        Ok(Err(err)) => {
            report.steps.push(step(
                names[0].clone(),
                Verdict::Fail,
                err.to_string(),
                Some("check the host name and port, that the machine is on, and that no firewall blocks the port"),
            ));
            skip_rest(&mut report, 1);
            return report.finish();
        }
        Err(_) => {
            report.steps.push(step(
                names[0].clone(),
                Verdict::Fail,
                format!("no answer within {} s", STEP_TIMEOUT.as_secs()),
                Some("check that the machine is on and reachable from this server (VPN, firewall)"),
            ));
            skip_rest(&mut report, 1);
            return report.finish();
        }
    }

    // 2. Host key
    let scanned = match known_hosts::scan(&host, port, STEP_TIMEOUT).await {
        Ok(k) => k,
        Err(err) => {
            report.steps.push(step(
                names[1].clone(),
                Verdict::Fail,
                err.to_string(),
                Some("is this an SSH server?"),
            ));
            skip_rest(&mut report, 2);
            return report.finish();
        }
    };
    let fingerprints = scanned
        .iter()
        .map(|k| format!("{} {}", k.algorithm, k.fingerprint))
        .collect::<Vec<_>>()
        .join(", ");
    match KnownHosts::new(ssh).check(&host, port, &scanned) {
        Ok(HostKeyStatus::Known) => report.steps.push(step(
            names[1].clone(),
            Verdict::Pass,
            format!("trusted: {fingerprints}"),
            None,
        )),
        Ok(HostKeyStatus::Unknown) => {
            report.offered = scanned;
            report.steps.push(step(
                names[1].clone(),
                Verdict::Warn,
                format!("not trusted yet: {fingerprints}"),
                Some("compare the fingerprint with the one the server shows (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on it), then trust it"),
            ));
            skip_rest(&mut report, 2);
            return report.finish();
        }
        Ok(HostKeyStatus::Changed { expected }) => {
            report.offered = scanned;
            report.host_key_changed = true;
            report.steps.push(step(
                names[1].clone(),
                Verdict::Fail,
                format!("the host key has CHANGED: trusted {}, now offered {fingerprints}", expected.join(", ")),
                Some("this can be an attack or a reinstalled server: check with the server's owner before replacing the trusted key"),
            ));
            skip_rest(&mut report, 2);
            return report.finish();
        }
        Err(err) => {
            report
                .steps
                .push(step(names[1].clone(), Verdict::Fail, err.to_string(), None));
            skip_rest(&mut report, 2);
            return report.finish();
        }
    }

    // 3. Login, 4. rsync: one constant remote command, never user input.
    let mut cmd = tokio::process::Command::new("ssh");
    cmd.args(ssh.ssh_argv(e, &["rsync", "--version"]));
    let out = match run_capped(&mut cmd, StdoutCap::SMALL, STEP_TIMEOUT).await {
        Ok(o) => o,
        Err(err @ CaptureError::Start { .. }) => {
            report.steps.push(step(
                names[2].clone(),
                Verdict::Fail,
                err.to_string(),
                Some("install openssh-client"),
            ));
            skip_rest(&mut report, 3);
            return report.finish();
        }
        Err(err @ CaptureError::TooLarge { .. }) => {
            report.steps.push(step(
                names[2].clone(),
                Verdict::Fail,
                format!("the answer to `rsync --version` is far too long: {err}"),
                Some("the remote's shell or rsync prints unexpected output; check ~/.bashrc and the rsync installed there"),
            ));
            skip_rest(&mut report, 3);
            return report.finish();
        }
        Err(CaptureError::Timeout(_)) => {
            report.steps.push(step(
                names[2].clone(),
                Verdict::Fail,
                "no answer",
                Some("the server accepted the connection but did not answer"),
            ));
            skip_rest(&mut report, 3);
            return report.finish();
        }
    };
    let stderr: Vec<String> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(str::to_string)
        .collect();
    let login_failed = out.status.code() == Some(255);
    if login_failed {
        let why = super::explain_ssh_failure(&stderr).unwrap_or_else(|| stderr.join(" "));
        report.steps.push(step(
            names[2].clone(),
            Verdict::Fail,
            why,
            Some("add the app's public key (mnemosynce keys list) to ~/.ssh/authorized_keys of that user"),
        ));
        skip_rest(&mut report, 3);
        return report.finish();
    }
    report.steps.push(step(
        names[2].clone(),
        Verdict::Pass,
        "logged in with the app's key",
        None,
    ));
    let stdout = String::from_utf8_lossy(&out.stdout);
    match stdout
        .lines()
        .next()
        .filter(|l| l.contains("rsync") && out.status.success())
    {
        Some(version) => {
            report
                .steps
                .push(step(names[3].clone(), Verdict::Pass, version.trim(), None))
        }
        None => {
            report.steps.push(step(
                names[3].clone(),
                Verdict::Fail,
                "rsync is not installed there",
                Some("install rsync on the remote machine (apt-get install rsync)"),
            ));
            skip_rest(&mut report, 4);
            return report.finish();
        }
    }

    // 5. The folder
    match list_remote(ssh, e, None).await {
        Ok(_) if !for_mirror => report.steps.push(step(
            names[4].clone(),
            Verdict::Pass,
            "exists and is readable",
            None,
        )),
        Ok(_) => match probe_writable(ssh, e).await {
            Ok(()) => report.steps.push(step(
                names[4].clone(),
                Verdict::Pass,
                "exists and is writable",
                None,
            )),
            Err(why) => report.steps.push(step(
                names[4].clone(),
                Verdict::Fail,
                why,
                Some("give that user write access to the folder"),
            )),
        },
        Err(RemoteError::Missing) => report.steps.push(step(
            names[4].clone(),
            Verdict::Fail,
            "does not exist",
            Some("create the folder on the remote machine, or fix the path"),
        )),
        Err(RemoteError::Failed(m)) => {
            report
                .steps
                .push(step(names[4].clone(), Verdict::Fail, m, None))
        }
    }
    report.finish()
}

/// Creates and removes an empty probe folder in the remote folder, with rsync (no remote shell).
async fn probe_writable(ssh: &SshDir, e: &SshEndpoint) -> Result<(), String> {
    let empty = tempfile_dir().map_err(|err| format!("cannot make a local temp folder: {err}"))?;
    let probe = format!(".mnemosynce-probe-{}", std::process::id());
    let rsh = ssh.rsync_rsh(e.port)?;
    let dest = super::rsync_remote_arg(e, None);
    let mut src = empty.clone().into_os_string();
    src.push("/");
    let run = |args: Vec<std::ffi::OsString>| async move {
        let mut cmd = tokio::process::Command::new("rsync");
        cmd.args(args);
        run_capped(&mut cmd, StdoutCap::SMALL, STEP_TIMEOUT).await
    };
    // Create <path>/<probe>/ ...
    let _ = std::fs::create_dir(empty.join(&probe));
    let create = run(vec![
        "-r".into(),
        "--protect-args".into(),
        "-e".into(),
        rsh.clone().into(),
        "--include".into(),
        format!("/{probe}/").into(),
        "--exclude".into(),
        "*".into(),
        src.clone(),
        dest.clone(),
    ])
    .await;
    let _ = std::fs::remove_dir(empty.join(&probe));
    let ok = matches!(&create, Ok(o) if o.status.success());
    // ... then delete it again: --delete removes what is included and no longer in the source.
    let _ = run(vec![
        "-r".into(),
        "--delete".into(),
        "--protect-args".into(),
        "-e".into(),
        rsh.into(),
        "--include".into(),
        format!("/{probe}/").into(),
        "--exclude".into(),
        "*".into(),
        src,
        dest,
    ])
    .await;
    let _ = std::fs::remove_dir(&empty);
    if ok {
        Ok(())
    } else {
        let why = match create {
            Ok(o) => String::from_utf8_lossy(&o.stderr)
                .lines()
                .last()
                .unwrap_or("")
                .to_string(),
            Err(err) => err.to_string(),
        };
        Err(format!("not writable: {why}"))
    }
}

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "mnemosynce-probe-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
    ));
    std::fs::create_dir(&dir)?;
    Ok(dir)
}

/// Why [`trust_seen_key`] did not trust a key.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("the host now offers other keys than the one shown ({0}); test the connection again and compare the fingerprint before trusting")]
    NotOffered(String),
    #[error("the host key has CHANGED since it was trusted: this is never replaced with one click; check with the server's owner, then use `mnemosynce test-connection {0} --replace-changed-host-key`")]
    Changed(String),
    #[error(transparent)]
    Ssh(#[from] super::keys::SshError),
}

/// Trusts the host key with `fingerprint` that a connection test showed the owner: the host is
/// scanned again and only a key it offers *now* with exactly that fingerprint is written, so what
/// is trusted is what the owner compared. A host whose trusted key changed is refused (the web
/// app never replaces a key in one click; the CLI's `--replace-changed-host-key` does it).
pub async fn trust_seen_key(
    ssh: &SshDir,
    e: &SshEndpoint,
    fingerprint: &str,
) -> Result<HostKey, TrustError> {
    let port = e.port.unwrap_or(22);
    let host = e.address();
    let scanned = known_hosts::scan(host, port, STEP_TIMEOUT).await?;
    let known = KnownHosts::new(ssh);
    if let HostKeyStatus::Changed { .. } = known.check(host, port, &scanned)? {
        return Err(TrustError::Changed(e.to_string()));
    }
    let key = scanned
        .into_iter()
        .find(|k| k.fingerprint == fingerprint)
        .ok_or_else(|| TrustError::NotOffered(fingerprint.to_string()))?;
    known.trust(host, port, &key, false)?;
    Ok(key)
}
