//! `mnemosynce keys` and `mnemosynce test-connection` against a real sshd (scripts/fixtures/sshd).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use testkit::{user, Sshd};

fn mnemosynce(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mnemosynce"))
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn keys_are_generated_listed_and_deleted_with_a_ready_authorized_keys_line() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let out = mnemosynce(
        &data,
        &["keys", "generate", "nas", "--comment", "backup@home"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("ssh-ed25519 AAAA"), "{}", text(&out));
    assert!(text(&out).contains("backup@home"));
    let out = mnemosynce(&data, &["keys", "list"]);
    assert!(
        text(&out).contains("nas") && text(&out).contains("SHA256:"),
        "{}",
        text(&out)
    );
    // Names that could leave ssh/ never touch the disk.
    for bad in ["../evil", "a/b", "-x", ""] {
        let out = mnemosynce(&data, &["keys", "generate", bad]);
        assert!(!out.status.success(), "{bad:?} accepted");
    }
    let out = mnemosynce(&data, &["keys", "delete", "nas"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!data.join("ssh/nas").exists() && !data.join("ssh/nas.pub").exists());
}

#[test]
fn test_connection_shows_the_fingerprint_trusts_on_request_and_then_passes_every_step() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let target: PathBuf = tmp.path().join("target");
    fs::create_dir(&target).unwrap();
    let out = mnemosynce(&data, &["keys", "generate", "app"]);
    let line = text(&out)
        .lines()
        .find(|l| l.starts_with("ssh-ed25519"))
        .unwrap()
        .to_string();
    fs::write(tmp.path().join("authorized_keys"), format!("{line}\n")).unwrap();
    let sshd = Sshd::start(
        &tmp.path().join("sshd"),
        &tmp.path().join("authorized_keys"),
        None,
    );
    let port = sshd.port;
    let endpoint = format!("ssh://{}@127.0.0.1:{port}{}", user(), target.display());

    let host_fp = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(tmp.path().join("sshd/host_ed25519.pub"))
        .output()
        .unwrap();
    let host_fp = String::from_utf8_lossy(&host_fp.stdout)
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string();

    let out = mnemosynce(&data, &["test-connection", &endpoint, "--mirror"]);
    assert!(!out.status.success());
    let t = text(&out);
    assert!(t.contains("not trusted yet") && t.contains(&host_fp), "{t}");
    assert!(t.contains("--trust"), "{t}");

    let out = mnemosynce(
        &data,
        &["test-connection", &endpoint, "--mirror", "--trust"],
    );
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    for step in [
        "TCP connect",
        "host key",
        "login as",
        "rsync on the remote",
        "exists and is writable",
    ] {
        assert!(
            t.lines().any(|l| l.starts_with("pass") && l.contains(step)),
            "{step}: {t}"
        );
    }
    assert!(
        fs::read_dir(&target).unwrap().next().is_none(),
        "the write probe was left behind"
    );

    // A folder that does not exist fails that step with the fix.
    let missing = format!("ssh://{}@127.0.0.1:{port}{}/nope", user(), target.display());
    let t = text(&mnemosynce(&data, &["test-connection", &missing]));
    assert!(
        t.lines()
            .any(|l| l.starts_with("fail") && l.contains("does not exist")),
        "{t}"
    );
    assert!(t.contains("fix: create the folder"), "{t}");
}

#[test]
fn a_dead_port_fails_the_first_step_within_seconds() {
    let tmp = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let t = Instant::now();
    let out = mnemosynce(
        &tmp.path().join("data"),
        &["test-connection", &format!("ssh://x@127.0.0.1:{port}/p")],
    );
    assert!(t.elapsed() < Duration::from_secs(10));
    let t = text(&out);
    assert!(t.lines().next().unwrap_or("").starts_with("fail"), "{t}");
    assert!(t.contains("skipped"), "{t}");
}
