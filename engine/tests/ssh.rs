//! SSH sources and mirrors against a real OpenSSH server: `scripts/fixtures/sshd` on a free loopback
//! port, with its own host key and `authorized_keys`, stopped by PID when the test ends.

use crate::util::step;
use engine::config;
use engine::data_dir::DataDir;
use engine::history::History;
use engine::model::events::{StepKind, Trigger};
use engine::model::Status;
use engine::run::{self, RunOptions, RunReport};
use engine::ssh::{keys, known_hosts::KnownHosts};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use testkit::{user, Sshd};
use tokio_util::sync::CancellationToken;

struct Fixture {
    tmp: tempfile::TempDir,
    data: DataDir,
    source: PathBuf,
    store: PathBuf,
    mirror: PathBuf,
    sshd: Sshd,
}

impl Fixture {
    /// sshd running, an app key generated and authorised, the host key trusted.
    async fn new() -> Fixture {
        Fixture::with_data_dir("data").await
    }

    /// The same, with the data directory at `data` (a relative path) inside the test's folder.
    async fn with_data_dir(data: &str) -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().to_path_buf();
        for d in [data, "source", "store", "mirror", "sshd"] {
            fs::create_dir_all(p.join(d)).unwrap();
        }
        let data = DataDir::new(p.join(data));
        let key = keys::generate(&data.ssh(), "test", "mnemosynce test").unwrap();
        fs::write(p.join("authorized_keys"), format!("{}\n", key.public_line)).unwrap();
        let sshd = Sshd::start(&p.join("sshd"), &p.join("authorized_keys"), None);
        let f = Fixture {
            data,
            source: p.join("source"),
            store: p.join("store"),
            mirror: p.join("mirror"),
            sshd,
            tmp,
        };
        f.trust().await;
        f
    }

    async fn trust(&self) {
        let scanned =
            engine::ssh::known_hosts::scan("127.0.0.1", self.sshd.port, Duration::from_secs(5))
                .await
                .unwrap();
        let kh = KnownHosts::new(&self.data.ssh());
        for k in &scanned {
            kh.trust("127.0.0.1", self.sshd.port, k, true).unwrap();
        }
    }

    fn endpoint(&self, path: &Path) -> String {
        format!(
            "ssh://{}@127.0.0.1:{}{}",
            user(),
            self.sshd.port,
            path.display()
        )
    }

    fn yaml(&self, source: &str, mirror: Option<&str>) -> String {
        self.yaml_named("Home", source, mirror)
    }

    /// [`Fixture::yaml`] with the task called `name`.
    fn yaml_named(&self, name: &str, source: &str, mirror: Option<&str>) -> String {
        format!(
            "dir_backup_local: {}\n{}email: {{enabled: false}}\ntimezone: UTC\nretention: {{keep_last: 100}}\ntasks:\n  - name: {name}\n    dir_source: \"{}\"\n",
            self.store.display(),
            mirror.map(|m| format!("dir_backup_remote: \"{m}\"\n")).unwrap_or_default(),
            source.replace('\\', "\\\\").replace('"', "\\\""),
        )
    }

    async fn run(&self, yaml: &str) -> RunReport {
        run_config(self.data.clone(), yaml.to_string()).await
    }

    fn latest(&self) -> PathBuf {
        self.store.join("Home/latest")
    }
}

/// One run of the configuration `yaml` on the data directory (owned, so it can run in a task).
async fn run_config(data: DataDir, yaml: String) -> RunReport {
    let checked = config::check_str(&yaml);
    let cfg = checked
        .config
        .clone()
        .unwrap_or_else(|| panic!("{:?}", checked.problems));
    let history = History::open(&data.database()).await.unwrap();
    let opts = RunOptions {
        trigger: Trigger::Cli,
        tasks: vec![],
        dry_run: false,
    };
    run::run(
        &data,
        &history,
        &cfg,
        chrono_tz::UTC,
        opts,
        Arc::new(|_| {}),
        CancellationToken::new(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn a_remote_source_is_pulled_and_a_remote_mirror_pushed_with_hard_links() {
    let f = Fixture::new().await;
    fs::create_dir_all(f.source.join("docs")).unwrap();
    fs::write(f.source.join("docs/a.txt"), b"alpha").unwrap();
    fs::write(f.source.join("b.txt"), b"beta").unwrap();
    let src = f.endpoint(&f.source);
    let mirror = f.endpoint(&f.mirror);
    let r = f.run(&f.yaml(&src, Some(&mirror))).await;
    assert_eq!(r.status, Status::Success, "{r:?}");
    assert_eq!(fs::read(f.latest().join("docs/a.txt")).unwrap(), b"alpha");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    fs::write(f.source.join("b.txt"), b"beta 2").unwrap();
    let r = f.run(&f.yaml(&src, Some(&mirror))).await;
    assert_eq!(r.status, Status::Success, "{r:?}");
    // The mirror holds both snapshots and costs no more inodes than the store: the unchanged file
    // is one inode on the far side too.
    let mut snaps: Vec<String> = fs::read_dir(f.mirror.join("Home"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("20"))
        .collect();
    snaps.sort();
    assert_eq!(snaps.len(), 2, "{snaps:?}");
    let ino = |s: &str, f2: &str| {
        fs::metadata(f.mirror.join("Home").join(s).join(f2))
            .unwrap()
            .ino()
    };
    assert_eq!(ino(&snaps[0], "docs/a.txt"), ino(&snaps[1], "docs/a.txt"));
    assert_ne!(ino(&snaps[0], "b.txt"), ino(&snaps[1], "b.txt"));
    assert!(!f.mirror.join("Home/.incomplete").exists());
}

#[tokio::test]
async fn a_task_logs_in_once_and_leaves_no_connection_behind() {
    logs_in_once_and_leaves_no_connection_behind(Fixture::new().await).await;
}

/// A data directory too long to name the shared connection's socket by its whole path (a Unix
/// socket path has at most 107 bytes): the connection is still shared.
#[tokio::test]
async fn a_task_logs_in_once_even_from_a_long_data_directory_path() {
    let f = Fixture::with_data_dir("a-data-directory-with-a-rather-long-name/mnemosynce").await;
    let ssh_dir = f.data.ssh().path().as_os_str().len();
    assert!(
        ssh_dir > 60,
        "the ssh folder's path is only {ssh_dir} bytes"
    );
    logs_in_once_and_leaves_no_connection_behind(f).await;
}

async fn logs_in_once_and_leaves_no_connection_behind(f: Fixture) {
    fs::write(f.source.join("a.txt"), b"alpha").unwrap();
    let logins = || {
        fs::read_to_string(f.sshd.dir.join("sshd.log"))
            .unwrap_or_default()
            .matches("Accepted publickey")
            .count()
    };
    let before = logins();
    let (src, mirror) = (f.endpoint(&f.source), f.endpoint(&f.mirror));
    let r = f.run(&f.yaml(&src, Some(&mirror))).await;
    assert_eq!(r.status, Status::Success, "{r:?}");
    assert_eq!(fs::read(f.latest().join("a.txt")).unwrap(), b"alpha");
    // Preflight, pull, the mirror's listings and push: one login, shared.
    assert_eq!(logins() - before, 1, "SSH logins during one task");
    let sockets: Vec<String> = fs::read_dir(f.data.ssh().path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".cm-"))
        .collect();
    assert!(
        sockets.is_empty(),
        "shared connections left open: {sockets:?}"
    );
}

#[tokio::test]
async fn a_remote_source_that_turns_empty_is_refused_and_nothing_is_deleted() {
    let f = Fixture::new().await;
    fs::write(f.source.join("photo.jpg"), b"pixels").unwrap();
    let src = f.endpoint(&f.source);
    let r = f.run(&f.yaml(&src, None)).await;
    assert_eq!(r.status, Status::Success, "{r:?}");
    let first = fs::read_link(f.latest()).unwrap();
    // The drive behind the remote folder is unmounted: the folder is there, empty.
    fs::remove_file(f.source.join("photo.jpg")).unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = f.run(&f.yaml(&src, None)).await;
    let (status, msg) = step(&r, StepKind::Backup);
    assert_eq!(status, Status::Failed, "{msg}");
    assert!(
        msg.contains("source is empty — is the drive mounted?"),
        "{msg}"
    );
    assert_eq!(fs::read_link(f.latest()).unwrap(), first);
    assert_eq!(fs::read(f.latest().join("photo.jpg")).unwrap(), b"pixels");
    let snaps = fs::read_dir(f.store.join("Home"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("20"))
        .count();
    assert_eq!(snaps, 1, "no empty snapshot was promoted");
    // The same when the remote folder itself is gone.
    fs::remove_dir(&f.source).unwrap();
    let r = f.run(&f.yaml(&src, None)).await;
    let (status, msg) = step(&r, StepKind::Backup);
    assert_eq!(status, Status::Failed, "{msg}");
    assert!(msg.contains("is the drive mounted?"), "{msg}");
    assert_eq!(fs::read_link(f.latest()).unwrap(), first);
}

#[tokio::test]
async fn an_unknown_host_key_is_refused_until_trusted() {
    let f = Fixture::new().await;
    fs::write(f.source.join("a"), b"a").unwrap();
    fs::remove_file(f.data.ssh().known_hosts()).unwrap();
    let yaml = f.yaml(&f.endpoint(&f.source), None);
    let r = f.run(&yaml).await;
    let (status, msg) = step(&r, StepKind::Preflight);
    assert_eq!(status, Status::Failed);
    assert!(msg.contains("not trusted"), "{msg}");
    f.trust().await;
    let r = f.run(&yaml).await;
    assert_eq!(r.status, Status::Success, "{r:?}");
}

#[tokio::test]
async fn a_changed_host_key_is_refused_loudly() {
    let mut f = Fixture::new().await;
    fs::write(f.source.join("a"), b"a").unwrap();
    // The server is reinstalled: same address, new host key.
    let port = f.sshd.port;
    f.sshd.stop();
    fs::remove_file(f.sshd.dir.join("host_ed25519")).unwrap();
    fs::remove_file(f.sshd.dir.join("host_ed25519.pub")).unwrap();
    f.sshd = Sshd::start(
        &f.tmp.path().join("sshd"),
        &f.tmp.path().join("authorized_keys"),
        Some(port),
    );
    let r = f.run(&f.yaml(&f.endpoint(&f.source), None)).await;
    let (status, msg) = step(&r, StepKind::Preflight);
    assert_eq!(status, Status::Failed);
    assert!(msg.contains("CHANGED"), "{msg}");
    assert!(
        !f.store.join("Home").exists() || fs::read_dir(f.store.join("Home")).unwrap().count() == 0
    );
}

#[tokio::test]
async fn a_key_the_server_does_not_know_is_refused_with_the_fix() {
    let f = Fixture::new().await;
    fs::write(f.source.join("a"), b"a").unwrap();
    fs::write(f.tmp.path().join("authorized_keys"), b"").unwrap();
    let r = f.run(&f.yaml(&f.endpoint(&f.source), None)).await;
    let (status, msg) = step(&r, StepKind::Preflight);
    assert_eq!(status, Status::Failed);
    assert!(msg.contains("authorized_keys"), "{msg}");
}

#[tokio::test]
async fn a_dead_port_fails_fast() {
    let f = Fixture::new().await;
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let yaml = f.yaml(
        &format!("ssh://{}@127.0.0.1:{dead}{}", user(), f.source.display()),
        None,
    );
    let t = Instant::now();
    let r = f.run(&yaml).await;
    assert!(
        t.elapsed() < Duration::from_secs(15),
        "took {:?}",
        t.elapsed()
    );
    let (status, msg) = step(&r, StepKind::Preflight);
    assert_eq!(status, Status::Failed);
    assert!(msg.contains("refused"), "{msg}");
}

#[tokio::test]
async fn hostile_path_characters_reach_no_shell_on_either_side() {
    let f = Fixture::new().await;
    let canary = f.tmp.path().join("pwned");
    let name = format!(
        "a b;touch {}; $(touch {}) `touch {}` 'q' \"dq\"",
        canary.display(),
        canary.display(),
        canary.display()
    );
    let weird = f.source.join(&name);
    fs::create_dir_all(&weird).unwrap();
    fs::write(weird.join("file"), b"safe").unwrap();
    let r = f.run(&f.yaml(&f.endpoint(&weird), None)).await;
    assert_eq!(r.status, Status::Success, "{r:?}");
    assert_eq!(fs::read(f.latest().join("file")).unwrap(), b"safe");
    assert!(!canary.exists(), "a shell ran part of the path");
}

#[tokio::test]
async fn a_transfer_cut_mid_way_resumes_on_the_next_run() {
    let mut f = Fixture::new().await;
    let blob = vec![3u8; 1 << 20];
    for i in 0..200 {
        fs::create_dir_all(f.source.join(format!("d{}", i % 10))).unwrap();
        fs::write(f.source.join(format!("d{}/f{i}", i % 10)), &blob).unwrap();
    }
    let yaml = f.yaml(&f.endpoint(&f.source), None);
    // Cut the link (stop sshd and its session children) as soon as data starts arriving.
    let incomplete = f.store.join("Home/.incomplete");
    let port = f.sshd.port;
    let run = tokio::spawn(run_config(f.data.clone(), yaml.clone()));
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if fs::read_dir(&incomplete)
            .map(|d| d.count() > 0)
            .unwrap_or(false)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Kill the whole server: every session process, then the listener.
    for pid in descendants(f.sshd.pid()) {
        let _ = Command::new("kill")
            .arg("-KILL")
            .arg(pid.to_string())
            .status();
    }
    f.sshd.stop();
    let r = run.await.unwrap();
    assert_eq!(step(&r, StepKind::Backup).0, Status::Failed, "{r:?}");
    assert!(incomplete.exists(), "the partial transfer was not kept");
    f.sshd = Sshd::start(
        &f.tmp.path().join("sshd"),
        &f.tmp.path().join("authorized_keys"),
        Some(port),
    );
    let r = f.run(&yaml).await;
    assert_eq!(r.status, Status::Success, "{r:?}");
    assert_eq!(fs::read(f.latest().join("d7/f7")).unwrap(), blob);
}

/// Every process below `root` in the process tree (from /proc).
fn descendants(root: u32) -> Vec<u32> {
    let mut parent_of = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // Field 4, after the ")" that ends the command name.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        if let Some(ppid) = after
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok())
        {
            parent_of.push((pid, ppid));
        }
    }
    let mut out = Vec::new();
    let mut frontier = vec![root];
    while let Some(p) = frontier.pop() {
        for &(child, parent) in &parent_of {
            if parent == p {
                out.push(child);
                frontier.push(child);
            }
        }
    }
    out
}

/// The snapshot folders (`YYYY-MM-DD_HHMMSS`) in `dir`, sorted.
fn snapshot_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("20"))
        .collect();
    v.sort();
    v
}

/// An IPv6 endpoint works end to end: ssh and ssh-keyscan get the bare address, rsync
/// `user@[::1]:/path`, known_hosts holds `[::1]:port`; the connection test passes every step.
#[tokio::test]
async fn an_ipv6_source_and_mirror_work_end_to_end() {
    let f = Fixture::new().await;
    assert!(
        std::net::TcpStream::connect(("::1", f.sshd.port)).is_ok(),
        "the sshd fixture does not listen on [::1]:{}; log: {}",
        f.sshd.port,
        fs::read_to_string(f.sshd.dir.join("sshd.log")).unwrap_or_default()
    );
    let scanned = engine::ssh::known_hosts::scan("::1", f.sshd.port, Duration::from_secs(5))
        .await
        .unwrap();
    let kh = KnownHosts::new(&f.data.ssh());
    for k in &scanned {
        kh.trust("::1", f.sshd.port, k, true).unwrap();
    }
    assert!(fs::read_to_string(f.data.ssh().known_hosts())
        .unwrap()
        .contains(&format!("[::1]:{} ", f.sshd.port)));
    fs::write(f.source.join("a.txt"), b"over v6").unwrap();
    let v6 = |p: &Path| format!("ssh://{}@[::1]:{}{}", user(), f.sshd.port, p.display());
    let engine::model::config::Endpoint::Ssh(e) = v6(&f.source).parse().unwrap() else {
        panic!("not ssh")
    };
    let report = engine::ssh::connection::test(&f.data.ssh(), &e, false).await;
    assert!(report.ok(), "{:#?}", report.steps);
    let r = f.run(&f.yaml(&v6(&f.source), Some(&v6(&f.mirror)))).await;
    assert_eq!(r.status, Status::Success, "{r:?}");
    assert_eq!(fs::read(f.latest().join("a.txt")).unwrap(), b"over v6");
    let snaps = snapshot_names(&f.mirror.join("Home"));
    assert_eq!(snaps.len(), 1, "{snaps:?}");
    assert_eq!(
        fs::read(f.mirror.join("Home").join(&snaps[0]).join("a.txt")).unwrap(),
        b"over v6"
    );
}

/// A remote folder with more names than the listing cap is refused with the reason, instead of
/// being read whole.
#[tokio::test]
async fn a_remote_listing_larger_than_its_cap_fails_with_the_reason() {
    let f = Fixture::new().await;
    for i in 0..300 {
        fs::write(f.mirror.join(format!("file-{i:04}")), b"").unwrap();
    }
    let engine::model::config::Endpoint::Ssh(e) = f.endpoint(&f.mirror).parse().unwrap() else {
        panic!("not ssh")
    };
    let ssh = f.data.ssh();
    let all = engine::ssh::list_remote(&ssh, &e, None).await.unwrap();
    assert_eq!(all.len(), 300);
    let cap = engine::ssh::capture::StdoutCap {
        bytes: 1 << 20,
        lines: 100,
    };
    match engine::ssh::list_remote_capped(&ssh, &e, None, cap).await {
        Err(engine::ssh::RemoteError::Failed(m)) => assert!(
            m.contains("the remote listing of") && m.contains("is larger than 1 MiB or 100 lines"),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }
}

/// A task name with a space and UTF-8 (as files written for the original Mnemosynce have) works
/// over SSH: rsync's remote arguments are protected (`--protect-args`).
#[tokio::test]
async fn a_task_named_with_spaces_and_utf8_is_pulled_and_mirrored_over_ssh() {
    let f = Fixture::new().await;
    fs::write(f.source.join("a.txt"), b"alpha").unwrap();
    let name = "My Photos ü";
    let yaml = f.yaml_named(name, &f.endpoint(&f.source), Some(&f.endpoint(&f.mirror)));
    let r = f.run(&yaml).await;
    assert_eq!(r.status, Status::Success, "{r:?}");
    assert_eq!(
        fs::read(f.store.join(name).join("latest/a.txt")).unwrap(),
        b"alpha"
    );
    let snaps = snapshot_names(&f.mirror.join(name));
    assert_eq!(snaps.len(), 1, "{snaps:?}");
    assert_eq!(
        fs::read(f.mirror.join(name).join(&snaps[0]).join("a.txt")).unwrap(),
        b"alpha"
    );
}

#[tokio::test]
async fn a_folder_is_restored_next_to_the_original_on_the_source_machine_over_ssh() {
    let f = Fixture::new().await;
    fs::create_dir_all(f.source.join("docs/deep")).unwrap();
    fs::write(f.source.join("docs/deep/a.txt"), b"alpha").unwrap();
    let yaml = f.yaml(&f.endpoint(&f.source), None);
    let r = f.run(&yaml).await;
    assert_eq!(r.status, Status::Success, "{r:?}");
    let snapshot = r.tasks[0].snapshot.clone().unwrap();
    fs::remove_dir_all(f.source.join("docs")).unwrap();

    let cfg = config::check_str(&yaml).config.unwrap();
    let history = History::open(&f.data.database()).await.unwrap();
    let request = run::RestoreRequest {
        trigger: Trigger::Cli,
        task: "Home".into(),
        snapshot,
        path: engine::files::InnerPath::parse(b"docs").unwrap(),
        to: None,
        replace: false,
    };
    let report = run::restore(
        &f.data,
        &history,
        &cfg,
        chrono_tz::UTC,
        request,
        Arc::new(|_| {}),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(report.status, Status::Success, "{report:?}");
    // Over ssh (the destination names the login), into the source's folder, beside where it was.
    assert!(
        report
            .destination
            .starts_with(&format!("{}@127.0.0.1:", user())),
        "{report:?}"
    );
    let back: Vec<PathBuf> = fs::read_dir(&f.source)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains("docs.restored-"))
        .collect();
    assert_eq!(back.len(), 1, "{report:?}");
    assert_eq!(fs::read(back[0].join("deep/a.txt")).unwrap(), b"alpha");
    // The restore is in the history, but the task's last backup is still the backup.
    let last = history.last_task_run("Home").await.unwrap().unwrap();
    assert!(last.snapshot.is_some(), "{last:?}");
    let tasks = history.task_runs(report.run_id).await.unwrap();
    let steps = history.steps(tasks[0].id).await.unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].step, StepKind::Restore);
    assert!(
        steps[0]
            .message
            .as_deref()
            .is_some_and(|m| m.contains("docs.restored-")),
        "{steps:?}"
    );
}
