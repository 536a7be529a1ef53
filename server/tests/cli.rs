//! The `mnemosynce` command line as a user drives it (SPEC §3, §4, §6, §10): the real binary on a data
//! directory, a config, a source and a store in a temporary folder, with real rsync. What is checked is
//! what a user notices: exit codes, messages, JSON output, restoring with plain `cp`, the run lock
//! between two processes, partial snapshots, and that SIGKILL at any moment never leaves an incomplete
//! folder under a snapshot name, a stray rsync or a stale lock.
//!
//! Every process a test starts is killed by PID when the test ends, also when it fails: [`Proc`] kills
//! its child on drop, and [`Fixture`] kills whatever process still mentions its temporary folder. The
//! crash test makes this test process a child subreaper (process-wide), so that an rsync whose
//! `mnemosynce` was killed becomes its child and the way it ended can be checked.

use crate::util::processes_mentioning;
use engine::history::{History, RunFilter, RunRow};
use engine::model::Status;
use serde_json::Value;
use std::cell::Cell;
use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use testkit::{Rng, Smtpd};

const BIN: &str = env!("CARGO_BIN_EXE_mnemosynce");

/// How long any single command may take before the test gives up on it.
const TIMEOUT: Duration = Duration::from_secs(120);

/// A finished command: its exit status and what it printed.
struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The exit code; -signal when it was killed by a signal.
    fn code(&self) -> i32 {
        self.status
            .code()
            .unwrap_or_else(|| -self.status.signal().unwrap_or(0))
    }

    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    fn json(&self) -> Vec<Value> {
        match serde_json::from_str(&self.stdout) {
            Ok(Value::Array(items)) => items,
            other => panic!("stdout is not one JSON array ({other:?}):\n{self:?}"),
        }
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code(),
            self.stdout,
            self.stderr
        )
    }
}

/// A running `mnemosynce` (or `setpriv … mnemosynce`) whose output goes to files. Killed on drop.
struct Proc {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
    started: Instant,
    status: Option<ExitStatus>,
}

impl Proc {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status if it has ended, without waiting.
    fn poll(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().unwrap();
        }
        self.status
    }

    /// Waits for the end (at most [`TIMEOUT`]) and returns what it printed.
    fn wait(&mut self) -> Run {
        let deadline = Instant::now() + TIMEOUT;
        while self.poll().is_none() {
            assert!(
                Instant::now() < deadline,
                "mnemosynce (pid {}) still runs after {TIMEOUT:?}",
                self.pid()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        self.output()
    }

    /// SIGKILL now (if it still runs) and reap it; returns how it ended.
    fn kill(&mut self) -> Run {
        if self.status.is_none() {
            // Kills the unreaped process even if it has just exited; `wait` then tells which happened.
            let _ = self.child.kill();
            self.status = Some(self.child.wait().unwrap());
        }
        self.output()
    }

    fn output(&self) -> Run {
        Run {
            status: self.status.expect("the process has not ended"),
            stdout: fs::read_to_string(&self.stdout).unwrap_or_default(),
            stderr: fs::read_to_string(&self.stderr).unwrap_or_default(),
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A data directory, a source and a store root in one temporary folder under /tmp (mode 0755, so
/// the user `nobody` can reach it when a test drops root).
/// A task's retention line that keeps only the newest snapshot.
const KEEP_ONLY_THE_NEWEST: &str =
    "    retention: {keep_last: 1, hourly: 0, daily: 0, weekly: 0, monthly: 0, yearly: 0}\n";

struct Fixture {
    root: PathBuf,
    data: PathBuf,
    source: PathBuf,
    store: PathBuf,
    /// Run the binary as `nobody` (see [`Fixture::drop_root`]).
    as_nobody: bool,
    outputs: Cell<u32>,
    // Last, so the folder is deleted after the processes in it are gone.
    _tmp: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let tmp = tempfile::Builder::new()
            .prefix("mnemosynce-cli-")
            .tempdir_in("/tmp")
            .unwrap();
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let root = tmp.path().to_path_buf();
        for d in ["data", "source", "store"] {
            fs::create_dir(root.join(d)).unwrap();
        }
        Fixture {
            data: root.join("data"),
            source: root.join("source"),
            store: root.join("store"),
            root,
            as_nobody: false,
            outputs: Cell::new(0),
            _tmp: tmp,
        }
    }

    /// A config with one task per `(name, source, extra task lines)`, keeping every snapshot.
    fn yaml(&self, store: &Path, tasks: &[(&str, &Path, &str)]) -> String {
        let mut y = format!(
            "dir_backup_local: {}\nemail: {{enabled: false}}\ntimezone: UTC\nretention: {{keep_last: 1000}}\ntasks:\n",
            store.display()
        );
        for (name, source, extra) in tasks {
            y.push_str(&format!(
                "  - name: {name}\n    dir_source: {}\n{extra}",
                source.display()
            ));
        }
        y
    }

    /// Writes `<data>/backup_config.yml` with the task `Photos` backing up the source.
    fn write_config(&self) {
        self.write_config_text(&self.yaml(&self.store, &[("Photos", &self.source, "")]));
    }

    fn write_config_text(&self, text: &str) {
        fs::write(self.data.join("backup_config.yml"), text).unwrap();
    }

    fn write(&self, rel: &str, content: &[u8]) {
        let p = self.source.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }

    fn task_dir(&self) -> PathBuf {
        self.store.join("Photos")
    }

    /// From now on the binary runs as `nobody`, who owns the whole temporary folder. Only for root.
    fn drop_root(&mut self) {
        let ok = Command::new("chown")
            .args(["-R", "nobody:nogroup"])
            .arg(&self.root)
            .status()
            .unwrap();
        assert!(ok.success(), "chown failed");
        self.as_nobody = true;
    }

    /// Starts `mnemosynce --data <data> ARGS`.
    fn start(&self, args: &[&str]) -> Proc {
        self.start_in(&self.data, args)
    }

    /// Starts `mnemosynce --data DATA ARGS`, output to files in the temporary folder.
    fn start_in(&self, data: &Path, args: &[&str]) -> Proc {
        let n = self.outputs.get() + 1;
        self.outputs.set(n);
        let stdout = self.root.join(format!("out-{n}.txt"));
        let stderr = self.root.join(format!("err-{n}.txt"));
        let mut cmd = if self.as_nobody {
            let mut c = Command::new("setpriv");
            c.args([
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
                "--",
                BIN,
            ]);
            c
        } else {
            Command::new(BIN)
        };
        cmd.arg("--data")
            .arg(data)
            .args(args)
            .env_remove("MNEMOSYNCE_CONFIG")
            .env_remove("MNEMOSYNCE_DATA")
            .env_remove("MNEMOSYNCE_SMTP_PASSWORD")
            .current_dir(&self.root)
            .stdin(Stdio::null())
            .stdout(fs::File::create(&stdout).unwrap())
            .stderr(fs::File::create(&stderr).unwrap());
        let started = Instant::now();
        Proc {
            child: cmd.spawn().unwrap(),
            stdout,
            stderr,
            started,
            status: None,
        }
    }

    /// Runs `mnemosynce --data <data> ARGS` to its end.
    fn mnemosynce(&self, args: &[&str]) -> Run {
        self.start(args).wait()
    }

    /// The snapshot folders of `Photos`, oldest first.
    fn snapshots(&self) -> Vec<String> {
        snapshot_dirs(&self.task_dir())
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // Whatever still runs on this folder (an rsync a crash left behind) goes before the folder.
        for (pid, _) in processes_mentioning(&format!("{}/", self.root.display())) {
            // SAFETY: a plain syscall on a PID found just now, whose command line names our folder.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
}

/// Makes this test process the reaper of its orphaned descendants (`PR_SET_CHILD_SUBREAPER`), so
/// the crash test can see how an rsync whose `mnemosynce` was killed ends. Process-wide and for good;
/// harmless to the other tests, which leave no orphans.
fn become_subreaper() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: a plain prctl with integer arguments.
        let rc = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
        assert_eq!(rc, 0, "prctl(PR_SET_CHILD_SUBREAPER) failed");
    });
}

/// The parent PID of a process, from `/proc/PID/stat`.
fn parent_of(pid: i32) -> Option<i32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// Waits (at most `limit`) for `pid`, a child of this process, and returns how it ended.
fn reap(pid: i32, limit: Duration) -> Result<ExitStatus, String> {
    let deadline = Instant::now() + limit;
    loop {
        let mut raw = 0;
        // SAFETY: waitpid on one given PID with a valid status pointer.
        let rc = unsafe { libc::waitpid(pid, &mut raw, libc::WNOHANG) };
        if rc == pid {
            return Ok(ExitStatus::from_raw(raw));
        }
        if rc < 0 {
            return Err(format!(
                "cannot wait for it: {}",
                std::io::Error::last_os_error()
            ));
        }
        if Instant::now() >= deadline {
            return Err(format!("still runs {limit:?} after its parent was killed"));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Reaps the rsync helpers that ended as orphans of this (subreaper) process.
fn reap_zombie_rsyncs() {
    let me = std::process::id() as i32;
    let Ok(entries) = fs::read_dir("/proc") else {
        return;
    };
    for e in entries.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let comm = fs::read_to_string(e.path().join("comm")).unwrap_or_default();
        if comm.trim() == "rsync" && parent_of(pid) == Some(me) {
            let mut raw = 0;
            // SAFETY: waitpid on one given PID, our child, with a valid status pointer.
            unsafe { libc::waitpid(pid, &mut raw, libc::WNOHANG) };
        }
    }
}

/// True for `YYYY-MM-DD_HHMMSS`.
fn is_snapshot_name(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() == 17
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'_',
            _ => c.is_ascii_digit(),
        })
}

/// The folders in `task_dir` with a snapshot name, oldest first.
fn snapshot_dirs(task_dir: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(task_dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| is_snapshot_name(n))
        .collect();
    names.sort();
    names
}

/// The newest `limit` runs in the data directory's history, newest first.
fn recorded_runs(data: &Path, limit: u32) -> Vec<RunRow> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let history = History::open(&data.join("mnemosynce.db")).await.unwrap();
        let runs = history
            .runs(&RunFilter {
                limit,
                ..Default::default()
            })
            .await
            .unwrap();
        history.pool().close().await;
        runs
    })
}

/// The latest run in the data directory's history.
fn latest_run(data: &Path) -> RunRow {
    recorded_runs(data, 1)
        .into_iter()
        .next()
        .expect("no run is recorded")
}

/// One entry of a tree, by relative path.
#[derive(Debug, PartialEq)]
enum Node {
    Dir,
    File(Vec<u8>),
    Link(PathBuf),
}

/// A whole tree in memory (the test sources are a few MB).
fn read_tree(root: &Path) -> BTreeMap<PathBuf, Node> {
    let mut tree = BTreeMap::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for e in fs::read_dir(root.join(&rel)).unwrap() {
            let e = e.unwrap();
            let rel = rel.join(e.file_name());
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(rel.clone());
                tree.insert(rel, Node::Dir);
            } else if t.is_symlink() {
                tree.insert(rel, Node::Link(fs::read_link(e.path()).unwrap()));
            } else {
                tree.insert(rel, Node::File(fs::read(e.path()).unwrap()));
            }
        }
    }
    tree
}

/// Compares the tree at `dir` with `expected`: the same relative paths, kinds, sizes and contents.
/// Files already compared in this pass (same inode at the same path, as hard-linked snapshots share)
/// are not read again.
fn compare_tree(
    expected: &BTreeMap<PathBuf, Node>,
    dir: &Path,
    seen: &mut HashSet<(u64, u64, PathBuf)>,
) -> Result<(), String> {
    let mut found = HashSet::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let entries =
            fs::read_dir(dir.join(&rel)).map_err(|e| format!("cannot list {rel:?}: {e}"))?;
        for e in entries {
            let e = e.map_err(|e| e.to_string())?;
            let rel = rel.join(e.file_name());
            let path = e.path();
            let meta = fs::symlink_metadata(&path).map_err(|e| format!("{rel:?}: {e}"))?;
            match expected.get(&rel) {
                None => return Err(format!("{rel:?} is not in the source")),
                Some(Node::Dir) if meta.is_dir() => stack.push(rel.clone()),
                Some(Node::Link(target)) if meta.file_type().is_symlink() => {
                    let got = fs::read_link(&path).map_err(|e| e.to_string())?;
                    if &got != target {
                        return Err(format!("{rel:?} points to {got:?}, not {target:?}"));
                    }
                }
                Some(Node::File(content)) if meta.is_file() => {
                    if meta.len() != content.len() as u64 {
                        return Err(format!(
                            "{rel:?} has {} bytes, the source {}",
                            meta.len(),
                            content.len()
                        ));
                    }
                    if seen.insert((meta.dev(), meta.ino(), rel.clone())) {
                        let got = fs::read(&path).map_err(|e| format!("{rel:?}: {e}"))?;
                        if &got != content {
                            return Err(format!("{rel:?} differs from the source"));
                        }
                    }
                }
                Some(kind) => {
                    let kind = match kind {
                        Node::Dir => "folder",
                        Node::File(_) => "file",
                        Node::Link(_) => "symlink",
                    };
                    return Err(format!("{rel:?} is not a {kind} as in the source"));
                }
            }
            found.insert(rel);
        }
    }
    if let Some(missing) = expected.keys().find(|k| !found.contains(*k)) {
        return Err(format!(
            "{missing:?} is missing ({} of {} entries present)",
            found.len(),
            expected.len()
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------
// check
// ---------------------------------------------------------------------------------------------------

#[test]
fn check_accepts_a_good_config_and_lists_every_problem_of_a_bad_one() {
    let f = Fixture::new();
    f.write_config();
    let r = f.mnemosynce(&["check"]);
    assert_eq!(r.code(), 0, "{r:?}");
    assert!(r.stdout.contains("OK"), "{r:?}");

    // Three errors on lines 1, 3 and 8, and a typo'd key on line 10 (a warning).
    let bad = f.root.join("bad.yml");
    fs::write(
        &bad,
        format!(
            "dir_backup_local: relative/store\n\
             email: {{enabled: false}}\n\
             timezone: Mars/Olympus_Mons\n\
             tasks:\n  \
               - name: Photos\n    \
                 dir_source: {src}\n  \
               - name: Photos\n    \
                 dir_source: {src}\n    \
                 excludess: [\"*.tmp\"]\n",
            src = f.source.display()
        ),
    )
    .unwrap();
    let r = f.mnemosynce(&["--config", bad.to_str().unwrap(), "check"]);
    assert_eq!(r.code(), 3, "{r:?}");
    for (line, what) in [
        (1, "relative/store"),
        (3, "Mars/Olympus_Mons"),
        (7, "\"Photos\" is used twice"),
        (9, "excludess"),
    ] {
        let found = r.stderr.lines().any(|l| {
            l.contains(what)
                && l.contains(&format!("line {line}, column "))
                && l.split("column ")
                    .nth(1)
                    .and_then(|rest| rest.split(':').next())
                    .is_some_and(|col| col.parse::<u32>().is_ok())
        });
        assert!(
            found,
            "no problem `{what}` at line {line}, column M:\n{r:?}"
        );
    }
    // A missing file: its path is named, for --config and for the default <data>/backup_config.yml.
    let missing = f.root.join("nowhere.yml");
    let r = f.mnemosynce(&["--config", missing.to_str().unwrap(), "check"]);
    assert_eq!(r.code(), 3, "{r:?}");
    assert!(r.stderr.contains(&*missing.to_string_lossy()), "{r:?}");
    fs::remove_file(f.data.join("backup_config.yml")).unwrap();
    let r = f.mnemosynce(&["check"]);
    assert_eq!(r.code(), 3, "{r:?}");
    assert!(
        r.stderr
            .contains(&*f.data.join("backup_config.yml").to_string_lossy()),
        "{r:?}"
    );
}

// ---------------------------------------------------------------------------------------------------
// run: exit codes
// ---------------------------------------------------------------------------------------------------

#[test]
fn a_good_run_exits_0_and_makes_a_snapshot() {
    let f = Fixture::new();
    f.write_config();
    f.write("a.jpg", b"a");
    let r = f.mnemosynce(&["run"]);
    assert_eq!(r.code(), 0, "{r:?}");
    let snaps = f.snapshots();
    assert_eq!(snaps.len(), 1, "{snaps:?}");
    assert!(
        r.stdout.contains(&snaps[0]),
        "the snapshot is not named: {r:?}"
    );
    assert_eq!(latest_run(&f.data).status, Status::Success);
}

#[test]
fn a_config_error_exits_3_touches_nothing_and_is_recorded_as_a_failed_run() {
    let f = Fixture::new();
    f.write("a.jpg", b"a");
    f.write_config_text(&format!(
        "dir_backup_local: {}\nemail: {{enabled: false}}\ntimezone: UTC\ntasks:\n  - name: -Photos\n    dir_source: {}\n",
        f.store.display(),
        f.source.display()
    ));
    let r = f.mnemosynce(&["run"]);
    assert_eq!(r.code(), 3, "{r:?}");
    assert!(r.stderr.contains("line 5, column "), "{r:?}");
    assert_eq!(
        fs::read_dir(&f.store).unwrap().count(),
        0,
        "the store was touched"
    );
    let run = latest_run(&f.data);
    assert_eq!(run.status, Status::Failed, "{run:?}");
    let msg = run.message.unwrap_or_default();
    assert!(msg.contains("configuration"), "{msg}");
}

#[test]
fn a_missing_store_root_exits_2_and_is_never_created() {
    let f = Fixture::new();
    f.write_config();
    f.write("a.jpg", b"a");
    fs::remove_dir(&f.store).unwrap();
    let r = f.mnemosynce(&["run"]);
    assert_eq!(r.code(), 2, "{r:?}");
    assert!(r.all().contains("is the backup drive mounted"), "{r:?}");
    assert!(!f.store.exists(), "the store root was created");
    assert_eq!(latest_run(&f.data).status, Status::Failed);
}

// ---------------------------------------------------------------------------------------------------
// restore with cp
// ---------------------------------------------------------------------------------------------------

#[test]
fn files_are_restored_with_plain_cp_from_latest_and_from_an_older_snapshot() {
    let f = Fixture::new();
    f.write_config();
    f.write("album/pic.jpg", b"version 1");
    f.write("notes/todo.txt", b"buy milk");
    assert_eq!(f.mnemosynce(&["run"]).code(), 0);
    f.write("album/pic.jpg", b"version 2, longer");
    let r = f.mnemosynce(&["run"]);
    assert_eq!(r.code(), 0, "{r:?}");
    let snaps = f.snapshots();
    assert_eq!(snaps.len(), 2, "{snaps:?}");

    let restore = f.root.join("restore");
    fs::create_dir(&restore).unwrap();
    let cp = |from: PathBuf, to: &Path| {
        let s = Command::new("cp")
            .arg("-a")
            .arg(&from)
            .arg(to)
            .status()
            .unwrap();
        assert!(s.success(), "cp -a {from:?} {to:?} failed");
    };
    cp(f.task_dir().join("latest/album/pic.jpg"), &restore);
    assert_eq!(
        fs::read(restore.join("pic.jpg")).unwrap(),
        b"version 2, longer"
    );
    let old = restore.join("old.jpg");
    cp(f.task_dir().join(&snaps[0]).join("album/pic.jpg"), &old);
    assert_eq!(fs::read(&old).unwrap(), b"version 1");
    // The whole tree too: `cp -a latest/. target/` gives back the source.
    let all = f.root.join("restore-all");
    fs::create_dir(&all).unwrap();
    cp(f.task_dir().join("latest/."), &all);
    compare_tree(&read_tree(&f.source), &all, &mut HashSet::new()).unwrap();
}

// ---------------------------------------------------------------------------------------------------
// snapshots --json, plan --json, --task
// ---------------------------------------------------------------------------------------------------

#[test]
fn snapshots_and_plan_print_json_and_filter_by_task() {
    let f = Fixture::new();
    let docs_src = f.root.join("docs-source");
    fs::create_dir(&docs_src).unwrap();
    f.write_config_text(&f.yaml(
        &f.store,
        &[
            ("Photos", &f.source, ""),
            ("Docs", &docs_src, KEEP_ONLY_THE_NEWEST),
        ],
    ));
    f.write("a.jpg", b"a");
    // Two snapshots of Photos; Docs is never run, but holds two old snapshots and a folder of the user's.
    for _ in 0..2 {
        let r = f.mnemosynce(&["run", "--task", "Photos"]);
        assert_eq!(r.code(), 0, "{r:?}");
    }
    assert!(!f.store.join("Docs").exists(), "--task Photos ran Docs");
    for d in ["2020-01-01_030000", "2020-01-02_030000", "notes"] {
        fs::create_dir_all(f.store.join("Docs").join(d)).unwrap();
    }
    let photos = f.snapshots();
    assert_eq!(photos.len(), 2);

    let r = f.mnemosynce(&["snapshots", "--json"]);
    assert_eq!(r.code(), 0, "{r:?}");
    let list = r.json();
    assert_eq!(list.len(), 4, "{r:?}");
    for s in &list {
        let name = s["name"].as_str().unwrap();
        assert!(
            ["Photos", "Docs"].contains(&s["task"].as_str().unwrap()),
            "{s}"
        );
        assert_eq!(s["status"], "complete", "{s}");
        assert_eq!(s["pinned"], false, "{s}");
        let time = chrono::DateTime::parse_from_rfc3339(s["time"].as_str().unwrap())
            .unwrap_or_else(|e| panic!("time is not RFC 3339 ({e}): {s}"));
        assert_eq!(
            time.naive_utc().format("%Y-%m-%d_%H%M%S").to_string(),
            name,
            "the time is not the name's (timezone UTC): {s}"
        );
    }
    let names = |v: &[Value], task: &str| -> Vec<String> {
        let mut n: Vec<String> = v
            .iter()
            .filter(|s| s["task"] == task)
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect();
        n.sort();
        n
    };
    assert_eq!(names(&list, "Photos"), photos);
    assert_eq!(
        names(&list, "Docs"),
        ["2020-01-01_030000", "2020-01-02_030000"]
    );
    let r = f.mnemosynce(&["snapshots", "--task", "Docs", "--json"]);
    assert_eq!(r.code(), 0, "{r:?}");
    let docs = r.json();
    assert_eq!(docs.len(), 2, "{r:?}");
    assert!(docs.iter().all(|s| s["task"] == "Docs"), "{r:?}");
    // Folders Mnemosynce did not make are listed, but not as its own, and plan keeps them until
    // they are adopted.
    assert!(docs.iter().all(|s| s["managed"] == false), "{r:?}");
    assert!(list
        .iter()
        .filter(|s| s["task"] == "Photos")
        .all(|s| s["managed"] == true));
    let r = f.mnemosynce(&["plan", "--task", "Docs", "--json"]);
    assert_eq!(r.code(), 0, "{r:?}");
    for p in r.json() {
        assert_eq!(p["keep"], true, "{p}");
        assert_eq!(p["reasons"], serde_json::json!(["not adopted"]), "{p}");
    }
    let r = f.mnemosynce(&["adopt", "Docs"]);
    assert_eq!(r.code(), 0, "{r:?}");
    assert!(r.stdout.contains("2 folder(s) adopted"), "{r:?}");
    let r = f.mnemosynce(&["adopt", "Docs"]);
    assert!(r.stdout.contains("nothing to adopt"), "{r:?}");

    let r = f.mnemosynce(&["plan", "--json"]);
    assert_eq!(r.code(), 0, "{r:?}");
    let plan = r.json();
    assert_eq!(plan.len(), 4, "{r:?}");
    let row = |task: &str, name: &str| -> (bool, Vec<String>) {
        let p = plan
            .iter()
            .find(|p| p["task"] == task && p["name"] == name)
            .unwrap_or_else(|| panic!("no plan for {task} {name}: {r:?}"));
        let reasons = p["reasons"]
            .as_array()
            .unwrap_or_else(|| panic!("reasons is not an array: {p}"))
            .iter()
            .map(|v| v.as_str().expect("a reason is not a string").to_string())
            .collect();
        (p["keep"].as_bool().expect("keep is not a bool"), reasons)
    };
    let (keep, reasons) = row("Photos", &photos[1]);
    let day = format!("daily {}", &photos[1][..10]);
    assert!(keep, "{reasons:?}");
    for want in ["last", "newest", day.as_str()] {
        assert!(
            reasons.iter().any(|r| r == want),
            "no `{want}` in {reasons:?}"
        );
    }
    let (keep, reasons) = row("Photos", &photos[0]);
    assert!(keep && reasons.contains(&"last".to_string()), "{reasons:?}");
    assert!(!reasons.contains(&"newest".to_string()), "{reasons:?}");
    let (keep, reasons) = row("Docs", "2020-01-02_030000");
    assert!(keep && reasons.contains(&"last".to_string()), "{reasons:?}");
    let (keep, reasons) = row("Docs", "2020-01-01_030000");
    assert!(!keep && reasons.is_empty(), "{reasons:?}");
    // plan changes nothing.
    assert!(f.store.join("Docs/2020-01-01_030000").exists());

    let r = f.mnemosynce(&["plan", "--task", "Photos", "--json"]);
    assert_eq!(r.code(), 0, "{r:?}");
    let only = r.json();
    assert_eq!(only.len(), 2, "{r:?}");
    assert!(only.iter().all(|p| p["task"] == "Photos"), "{r:?}");

    // An unknown task is an error that names the tasks there are.
    for cmd in [
        &["plan", "--task", "Fotos"][..],
        &["snapshots", "--task", "Fotos", "--json"],
        &["run", "--task", "Fotos"],
    ] {
        let r = f.mnemosynce(cmd);
        assert_eq!(r.code(), 3, "{cmd:?}: {r:?}");
        assert!(
            r.stderr.contains("\"Fotos\"") && r.stderr.contains("Photos, Docs"),
            "{cmd:?}: {r:?}"
        );
        assert!(r.stdout.trim().is_empty(), "{cmd:?}: {r:?}");
    }
    assert_eq!(f.snapshots(), photos, "run --task Fotos made a snapshot");
}

// ---------------------------------------------------------------------------------------------------
// two runs at once
// ---------------------------------------------------------------------------------------------------

#[test]
fn a_second_run_while_one_is_active_exits_4_and_the_first_finishes() {
    let f = Fixture::new();
    f.write_config();
    // 512 MB in 8 files: a first run takes a second or more, and the files are cheap to write and
    // delete (many small files are not, on some disks).
    let mut chunk = vec![0u8; 1 << 20];
    for i in 0..8u8 {
        let mut file = fs::File::create(f.source.join(format!("video{i}.bin"))).unwrap();
        for j in 0..64u8 {
            chunk.fill(i ^ j);
            std::io::Write::write_all(&mut file, &chunk).unwrap();
        }
    }
    let mut first = f.start(&["run"]);
    let incomplete = f.task_dir().join(".incomplete");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !incomplete.exists() {
        assert!(
            first.poll().is_none(),
            "the first run ended before its transfer was seen: {:?}",
            first.output()
        );
        assert!(Instant::now() < deadline, "no .incomplete/ after 30 s");
        std::thread::sleep(Duration::from_millis(5));
    }

    let t = Instant::now();
    let second = f.mnemosynce(&["run"]);
    let took = t.elapsed();
    assert_eq!(second.code(), 4, "{second:?}");
    assert!(
        second.stderr.contains("another run is active"),
        "{second:?}"
    );
    assert!(
        second.stderr.contains(&format!("pid {}", first.pid())),
        "the holder is not named: {second:?}"
    );
    assert!(took < Duration::from_secs(5), "refusing took {took:?}");
    assert!(
        first.poll().is_none(),
        "the first run ended before the second was refused; the source is too small to test this"
    );

    let r = first.wait();
    assert_eq!(r.code(), 0, "{r:?}");
    assert_eq!(f.snapshots().len(), 1);
    assert!(!incomplete.exists());
}

// ---------------------------------------------------------------------------------------------------
// partial snapshot
// ---------------------------------------------------------------------------------------------------

#[test]
fn an_unreadable_file_gives_a_partial_snapshot_exit_1_and_names_the_path() {
    let mut f = Fixture::new();
    f.write_config();
    f.write("ok.txt", b"fine");
    f.write("private/locked.txt", b"secret");
    let locked = f.source.join("private/locked.txt");
    // Root reads anything: drop to `nobody`, who owns everything and is refused by mode 000.
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        f.drop_root();
    }
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();

    let r = f.mnemosynce(&["run"]);
    assert_eq!(r.code(), 1, "{r:?}");
    assert!(
        r.all().contains(&*locked.to_string_lossy()),
        "the unreadable path is not named: {r:?}"
    );
    let snaps = f.snapshots();
    assert_eq!(snaps.len(), 1, "the partial snapshot was not kept");
    let latest = f.task_dir().join("latest");
    assert_eq!(fs::read_link(&latest).unwrap(), PathBuf::from(&snaps[0]));
    assert_eq!(fs::read(latest.join("ok.txt")).unwrap(), b"fine");

    let r = f.mnemosynce(&["snapshots", "--json"]);
    assert_eq!(r.code(), 0, "{r:?}");
    let list = r.json();
    assert_eq!(list.len(), 1, "{r:?}");
    assert_eq!(list[0]["name"], snaps[0].as_str());
    assert_eq!(list[0]["status"], "partial", "{r:?}");
    // Last: opening the database as root may leave files `nobody` could not write.
    assert_eq!(latest_run(&f.data).status, Status::Warning);
}

// ---------------------------------------------------------------------------------------------------
// SIGKILL at random moments
// ---------------------------------------------------------------------------------------------------

/// Seed of the crash test; the kill moments and the source follow from it.
const CRASH_SEED: u64 = 0x6d6e_656d_6f73_796e;
/// Kills that must land while `mnemosynce run` is still running.
const KILLS: usize = 24;

#[test]
fn sigkill_at_any_moment_never_leaves_an_incomplete_snapshot_a_stray_rsync_or_a_stale_lock() {
    let f = Fixture::new();
    let mut rng = Rng::new(CRASH_SEED);
    // A source of a few thousand files and some MB, with a symlink and an empty folder; it does not
    // change during the test.
    for i in 0..4000 {
        let size = rng.below(6000) as usize;
        f.write(&format!("d{:02}/f{i:04}.bin", i % 40), &rng.bytes(size));
    }
    for i in 0..3 {
        f.write(&format!("big/blob{i}.bin"), &rng.bytes(3 << 20));
    }
    fs::create_dir(f.source.join("empty")).unwrap();
    std::os::unix::fs::symlink("../big/blob0.bin", f.source.join("d00/link")).unwrap();
    let source = read_tree(&f.source);
    f.write_config();

    // How long runs take here: a first full copy, then a run that hard-links everything. These go to
    // a store and data directory of their own (and show that --config works).
    let calib_data = f.root.join("calib-data");
    let calib_store = f.root.join("calib-store");
    fs::create_dir(&calib_store).unwrap();
    let calib_config = f.root.join("calib.yml");
    fs::write(
        &calib_config,
        f.yaml(&calib_store, &[("Photos", &f.source, "")]),
    )
    .unwrap();
    let timed = || {
        let mut p = f.start_in(
            &calib_data,
            &["--config", calib_config.to_str().unwrap(), "run"],
        );
        let r = p.wait();
        assert_eq!(r.code(), 0, "calibration run: {r:?}");
        p.started.elapsed()
    };
    let full = timed();
    let linked = timed();
    eprintln!(
        "crash test: seed {CRASH_SEED:#x}, a full run takes {full:?}, a linked run {linked:?}"
    );

    let needle = format!("{}/", f.root.display());
    become_subreaper();
    let mut orphans: BTreeMap<String, usize> = BTreeMap::new();
    let (mut interrupted, mut completed, mut attempts) = (0, 0, 0);
    // Kill moments are spread evenly over [0, duration of a run): each round of ten takes one random
    // moment in each tenth, in random order.
    let mut tenths: Vec<u32> = Vec::new();
    while interrupted < KILLS {
        attempts += 1;
        assert!(
            attempts <= 4 * KILLS,
            "only {interrupted} of {attempts} kills hit a running process"
        );
        if tenths.is_empty() {
            tenths = (0..10).collect();
            rng.shuffle(&mut tenths);
        }
        let tenth = tenths.pop().unwrap();
        let span = if f.snapshots().is_empty() {
            full
        } else {
            linked
        };
        let delay = span.mul_f64((f64::from(tenth) + rng.unit()) / 10.0);

        let mut p = f.start(&["run"]);
        let at = p.started + delay;
        while Instant::now() < at && p.poll().is_none() {
            std::thread::sleep(
                Duration::from_millis(2).min(at.saturating_duration_since(Instant::now())),
            );
        }
        let r = p.kill();
        let what = format!("kill #{attempts} after {delay:?}");
        if r.status.signal() == Some(libc::SIGKILL) {
            interrupted += 1;
        } else {
            // It finished before the kill: a complete, unblocked run.
            assert_eq!(
                r.code(),
                0,
                "{what}: the run ended on its own but not well: {r:?}"
            );
            completed += 1;
        }
        // (c) A killed run never leaves a lock that refuses the next one.
        assert!(
            !r.stderr.contains("another run is active"),
            "{what}: refused by a stale lock: {r:?}"
        );

        // (a) No rsync (nor anything else working on this folder) outlives its killed parent. This
        // process is the subreaper, so the rsync the killed run had started is now our child: it
        // must end because it was told to (SIGTERM from PR_SET_PDEATHSIG: rsync exits 20), not run
        // on to the end of its transfer (0, 23, 24). On a source this small, an rsync left to
        // itself would also be gone within 5 s, so waiting alone would not tell.
        let me = std::process::id() as i32;
        // Only those whose parent was the killed run: rsync's own helpers are stopped by rsync.
        let direct: Vec<(i32, String)> = processes_mentioning(&needle)
            .into_iter()
            .filter(|(pid, _)| parent_of(*pid) == Some(me))
            .collect();
        for (pid, cmdline) in direct {
            let status = reap(pid, Duration::from_secs(5))
                .unwrap_or_else(|e| panic!("{what}: orphaned process {pid} ({cmdline}): {e}"));
            assert!(
                !matches!(status.code(), Some(0 | 23 | 24)),
                "{what}: {cmdline} (pid {pid}) ran on to the end of its transfer after its parent was killed ({status})"
            );
            *orphans.entry(status.to_string()).or_default() += 1;
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left = processes_mentioning(&needle);
            if left.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: processes still run 5 s after their parent was killed: {left:#?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        reap_zombie_rsyncs();

        // (b) Every folder with a snapshot name is complete; `latest`, if there, is one of them.
        let snaps = f.snapshots();
        let mut seen = HashSet::new();
        for s in &snaps {
            if let Err(e) = compare_tree(&source, &f.task_dir().join(s), &mut seen) {
                panic!("{what}: snapshot {s} is not the source: {e}\n{r:?}");
            }
        }
        if let Ok(target) = fs::read_link(f.task_dir().join("latest")) {
            assert!(
                snaps.iter().any(|s| Path::new(s) == target),
                "{what}: latest points to {target:?}, not to a snapshot ({snaps:?})"
            );
        }
    }

    // Finally a run to its end: not blocked, successful, and the newest snapshot is the source.
    let r = f.mnemosynce(&["run"]);
    assert_eq!(r.code(), 0, "the run after the kills: {r:?}");
    let snaps = f.snapshots();
    let newest = snaps.last().expect("no snapshot after the final run");
    assert_eq!(
        fs::read_link(f.task_dir().join("latest")).unwrap(),
        PathBuf::from(newest)
    );
    compare_tree(&source, &f.task_dir().join("latest"), &mut HashSet::new())
        .unwrap_or_else(|e| panic!("latest is not the source: {e}"));
    assert!(!f.task_dir().join(".incomplete").exists());
    // Every snapshot folder is listed, and all are complete.
    let r = f.mnemosynce(&["snapshots", "--json"]);
    assert_eq!(r.code(), 0, "{r:?}");
    let list = r.json();
    assert_eq!(list.len(), snaps.len(), "{r:?}");
    assert!(list.iter().all(|s| s["status"] == "complete"), "{r:?}");
    // The history shows the killed runs as ended (failed), none as still running.
    let runs = recorded_runs(&f.data, 500);
    assert_eq!(runs[0].status, Status::Success, "{:?}", runs[0]);
    let stuck: Vec<_> = runs
        .iter()
        .filter(|r| r.status == Status::Running)
        .collect();
    assert!(stuck.is_empty(), "runs left `running`: {stuck:?}");
    eprintln!(
        "crash test: {attempts} kills, {interrupted} hit a running process, {completed} came after the run had finished; {} snapshots, all complete; orphaned rsyncs: {orphans:?}",
        snaps.len()
    );
}

#[test]
fn an_old_data_directory_is_made_owner_only_and_the_store_stays_readable() {
    let f = Fixture::new();
    f.write_config();
    f.write("a.jpg", b"a");
    let r = f.mnemosynce(&["run"]);
    assert_eq!(r.code(), 0, "{r:?}");
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    // What the binary creates in the data directory is the owner's alone...
    assert_eq!(mode(&f.data.join("mnemosynce.db")), 0o600);
    assert_eq!(mode(&f.data.join("logs")), 0o700);
    // ...while the store stays readable for restores with cp: task folder and snapshot keep 0755.
    assert_eq!(mode(&f.task_dir()), 0o755);
    let snap = f.snapshots().pop().unwrap();
    assert_eq!(mode(&f.task_dir().join(&snap)), mode(&f.source));
    // A data directory an earlier version left readable by others is fixed at the next start.
    fs::set_permissions(&f.data, fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(
        f.data.join("mnemosynce.db"),
        fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    fs::set_permissions(f.data.join("logs"), fs::Permissions::from_mode(0o755)).unwrap();
    let r = f.mnemosynce(&["snapshots"]);
    assert_eq!(r.code(), 0, "{r:?}");
    assert!(r.stderr.contains("now owner-only"), "{r:?}");
    assert_eq!(mode(&f.data), 0o700);
    assert_eq!(mode(&f.data.join("mnemosynce.db")), 0o600);
    assert_eq!(mode(&f.data.join("logs")), 0o700);
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_during_a_run_records_it_cancelled_and_keeps_the_transfer() {
    use std::os::unix::process::CommandExt;
    let f = Fixture::new();
    f.write_config_text(&f.yaml(
        &f.store,
        &[(
            "Photos",
            &f.source,
            "    bwlimit_kbps: 300\n    engine: rsync\n",
        )],
    ));
    f.write("big.bin", &vec![7u8; 3_000_000]);
    // Its own process group, signalled as a whole: what Ctrl-C in a terminal does.
    let mut child = Command::new(BIN)
        .arg("--data")
        .arg(&f.data)
        .arg("run")
        .current_dir(&f.root)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !fs::read_dir(f.task_dir().join(".incomplete"))
        .map(|d| d.count() > 0)
        .unwrap_or(false)
    {
        assert!(Instant::now() < deadline, "the transfer never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(1000));
    let pgid = child.id() as i32;
    // SAFETY: kill(2) on our own child's process group.
    unsafe {
        libc::kill(-pgid, libc::SIGINT);
    }
    let t = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "still running 10 s after Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let history = History::open(&f.data.join("mnemosynce.db")).await.unwrap();
    let runs = history
        .runs(&RunFilter {
            limit: 10,
            ..RunFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, Status::Cancelled, "{runs:?}");
    assert!(f.task_dir().join(".incomplete").is_dir());
    let store = f.store.display().to_string();
    let rsync_left = fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| fs::read(e.path().join("cmdline")).ok())
        .any(|c| String::from_utf8_lossy(&c).contains(&store));
    assert!(!rsync_left, "rsync outlived mnemosynce run");
}

#[test]
fn run_reports_by_email_and_test_email_names_the_step_that_fails() {
    let f = Fixture::new();
    let server = Smtpd::start(
        &f.root.join("smtpd"),
        "none",
        None,
        Some(("owner@example.com", "s3cret")),
    );
    let yaml = f
        .yaml(&f.store, &[("Photos", &f.source, "")])
        .replace(
            "email: {enabled: false}\n",
            &format!(
                "email_sender: backup@example.com\nemail_report: owner@example.com\n\
                 smtp: {{host: 127.0.0.1, port: {}, security: none, username: owner@example.com, timeout_secs: 5}}\n",
                server.port
            ),
        );
    f.write_config_text(&yaml);
    f.write("a.jpg", b"a");
    // The password from <data>/secrets/smtp_password, its newline not part of it.
    fs::create_dir_all(f.data.join("secrets")).unwrap();
    fs::write(f.data.join("secrets/smtp_password"), "s3cret\n").unwrap();

    let r = f.mnemosynce(&["run"]);
    assert_eq!(r.code(), 0, "{r:?}");
    assert!(
        r.stdout.contains("report: sent to owner@example.com"),
        "{r:?}"
    );
    assert_eq!(server.received().len(), 1);

    let r = f.mnemosynce(&["test-email", "--to", "someone@example.com"]);
    assert_eq!(r.code(), 0, "{r:?}");
    assert!(r.stdout.contains("pass     connect:"), "{r:?}");
    assert!(r.stdout.contains("warn     TLS: not encrypted"), "{r:?}");
    assert!(
        r.stdout
            .contains("pass     login: logged in as owner@example.com"),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("pass     send: accepted for someone@example.com"),
        "{r:?}"
    );
    assert_eq!(server.received().len(), 2);

    fs::write(f.data.join("secrets/smtp_password"), "wrong\n").unwrap();
    let r = f.mnemosynce(&["test-email"]);
    assert_eq!(r.code(), 2, "{r:?}");
    assert!(
        r.stdout
            .contains("fail     login: the server refused the user name or password"),
        "{r:?}"
    );
    assert!(r.stdout.contains("fix: check smtp.username"), "{r:?}");
    assert!(r.stdout.contains("skipped  send:"), "{r:?}");

    // The backup does not fail because the mail server refuses: exit 0, the reason printed and kept.
    let r = f.mnemosynce(&["run"]);
    assert_eq!(r.code(), 0, "{r:?}");
    assert!(r.stdout.contains("report: NOT SENT: login failed"), "{r:?}");
    let run = latest_run(&f.data);
    assert_eq!(run.status, Status::Success);
    assert!(run
        .report_error
        .unwrap_or_default()
        .contains("refused the user name or password"));
    assert_eq!(server.received().len(), 2);
}

/// Stops a served process by PID when the test ends, however it ends.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn without_a_subcommand_it_shows_the_help_unless_cargo_leptos_started_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let bare = Command::new(BIN)
        .env_remove("LEPTOS_SITE_ADDR")
        .env_remove("MNEMOSYNCE_ADDR")
        .env("MNEMOSYNCE_DATA", &data)
        .output()
        .unwrap();
    assert_eq!(bare.status.code(), Some(2), "{bare:?}");
    let help = String::from_utf8_lossy(&bare.stdout);
    assert!(help.contains("serve") && help.contains("Usage"), "{help}");

    // As `cargo leptos watch` starts it: bare, with the address it chose.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _served = Served(
        Command::new(BIN)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env_remove("MNEMOSYNCE_ADDR")
            .env("MNEMOSYNCE_DATA", &data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let answer = loop {
        use std::io::{Read, Write};
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            write!(
                s,
                "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
            )
            .unwrap();
            let mut text = String::new();
            let _ = s.read_to_string(&mut text);
            break text;
        }
        assert!(Instant::now() < deadline, "nothing serves on :{port}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

// ---------------------------------------------------------------------------------------------------
// snapshots ls, pin, unpin
// ---------------------------------------------------------------------------------------------------

#[test]
fn snapshots_ls_shows_a_folder_with_links_unfollowed_and_odd_names_escaped() {
    use std::os::unix::ffi::OsStrExt;
    let f = Fixture::new();
    f.write_config();
    f.write("albums/2026/beach.jpg", &[7u8; 3000]);
    f.write(
        "<img src=x onerror=alert(1)>.html",
        b"<script>alert(1)</script>",
    );
    f.write("two\nlines.txt", b"x");
    fs::write(
        f.source.join(std::ffi::OsStr::from_bytes(b"caf\xe9.bin")),
        b"latin-1",
    )
    .unwrap();
    std::os::unix::fs::symlink("/etc/passwd", f.source.join("passwd")).unwrap();
    std::os::unix::fs::symlink("/etc", f.source.join("etc")).unwrap();
    let r = f.mnemosynce(&["run"]);
    assert_eq!(r.code(), 0, "{r:?}");
    let snap = f.snapshots().pop().unwrap();

    let r = f.mnemosynce(&["snapshots", "ls", "Photos", &snap]);
    assert_eq!(r.code(), 0, "{r:?}");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines[0].contains("(6 entries)"), "{r:?}");
    // Folders first; a link shows its target; odd names are escaped, each on its one line.
    assert!(
        lines[1].starts_with('d') && lines[1].ends_with("albums/"),
        "{r:?}"
    );
    assert!(r.stdout.contains("passwd -> /etc/passwd\n"), "{r:?}");
    assert!(r.stdout.contains("etc -> /etc\n"), "{r:?}");
    assert!(r.stdout.contains("two\\nlines.txt\n"), "{r:?}");
    assert!(r.stdout.contains("caf\\xe9.bin\n"), "{r:?}");
    assert_eq!(lines.len(), 7, "{r:?}");

    let r = f.mnemosynce(&["snapshots", "ls", "Photos", &snap, "albums/2026"]);
    assert_eq!(r.code(), 0, "{r:?}");
    assert!(r.stdout.contains("3.0 KB"), "{r:?}");
    assert!(r.stdout.contains("beach.jpg"), "{r:?}");

    // A link is never followed, `..` never parsed, and a snapshot that is not there is said so.
    let r = f.mnemosynce(&["snapshots", "ls", "Photos", &snap, "etc"]);
    assert_eq!(r.code(), 2, "{r:?}");
    assert!(r.stderr.contains("/etc is a symbolic link"), "{r:?}");
    assert!(!r.stdout.contains("passwd"), "{r:?}");
    let r = f.mnemosynce(&["snapshots", "ls", "Photos", &snap, "albums/../../.."]);
    assert_eq!(r.code(), 3, "{r:?}");
    assert!(r.stderr.contains("`..` is not allowed"), "{r:?}");
    let r = f.mnemosynce(&["snapshots", "ls", "Photos", "2020-01-01_000000"]);
    assert_eq!(r.code(), 2, "{r:?}");
    assert!(r.stderr.contains("has no snapshot"), "{r:?}");

    // JSON: every entry's key gives its exact name back, sorted by size when asked.
    let r = f.mnemosynce(&[
        "snapshots",
        "ls",
        "Photos",
        &snap,
        "--json",
        "--sort",
        "size",
    ]);
    assert_eq!(r.code(), 0, "{r:?}");
    let listing: Value = serde_json::from_str(&r.stdout).unwrap();
    let entries = listing["entries"].as_array().unwrap();
    assert_eq!(entries[0]["kind"], "folder", "{listing}");
    let keys: Vec<&str> = entries.iter().map(|e| e["key"].as_str().unwrap()).collect();
    assert!(keys.contains(&"caf%E9.bin"), "{keys:?}");
    assert!(keys.contains(&"two%0Alines.txt"), "{keys:?}");
    let sizes: Vec<u64> = entries[1..]
        .iter()
        .map(|e| e["size"].as_u64().unwrap())
        .collect();
    assert!(sizes.windows(2).all(|w| w[0] <= w[1]), "{sizes:?}");
}

#[test]
fn a_pinned_snapshot_outlives_retention_until_it_is_unpinned() {
    let f = Fixture::new();
    f.write_config_text(&f.yaml(&f.store, &[("Photos", &f.source, KEEP_ONLY_THE_NEWEST)]));
    f.write("a.jpg", b"a");
    assert_eq!(f.mnemosynce(&["run"]).code(), 0);
    let first = f.snapshots().pop().unwrap();

    let r = f.mnemosynce(&[
        "snapshots",
        "pin",
        "Photos",
        &first,
        "--note",
        "before the move",
    ]);
    assert_eq!(r.code(), 0, "{r:?}");
    assert!(r.stdout.contains("pinned Photos"), "{r:?}");
    let r = f.mnemosynce(&["snapshots", "pin", "Photos", "2020-01-01_000000"]);
    assert_eq!(r.code(), 3, "{r:?}");
    assert!(r.stderr.contains("has no snapshot"), "{r:?}");

    // keep_last 1 would prune the first snapshot at the next run: the pin keeps it.
    assert_eq!(f.mnemosynce(&["run"]).code(), 0);
    assert!(f.snapshots().contains(&first), "{:?}", f.snapshots());
    let r = f.mnemosynce(&["snapshots", "--task", "Photos"]);
    assert!(r.stdout.contains("pinned (before the move)"), "{r:?}");
    let r = f.mnemosynce(&["plan", "--task", "Photos"]);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.contains(&first) && l.contains("pinned")),
        "{r:?}"
    );

    let r = f.mnemosynce(&["snapshots", "unpin", "Photos", &first]);
    assert_eq!(r.code(), 0, "{r:?}");
    assert_eq!(f.mnemosynce(&["run"]).code(), 0);
    assert!(!f.snapshots().contains(&first), "{:?}", f.snapshots());
}

#[test]
fn snapshots_diff_lists_what_changed_and_counts_the_rest_by_inode() {
    let f = Fixture::new();
    f.write_config();
    for i in 0..20 {
        f.write(&format!("same/{i:02}.jpg"), format!("photo {i}").as_bytes());
    }
    f.write("edited.txt", b"first draft");
    f.write("chmod.sh", b"#!/bin/sh\n");
    f.write("gone/old.jpg", b"old");
    assert_eq!(f.mnemosynce(&["run"]).code(), 0);
    f.write("edited.txt", b"second draft, longer");
    fs::set_permissions(f.source.join("chmod.sh"), fs::Permissions::from_mode(0o755)).unwrap();
    fs::remove_dir_all(f.source.join("gone")).unwrap();
    f.write("new/beach.jpg", b"sand");
    assert_eq!(f.mnemosynce(&["run"]).code(), 0);
    let snaps = f.snapshots();
    assert_eq!(snaps.len(), 2);

    // One snapshot: compared with the one before it.
    let r = f.mnemosynce(&["snapshots", "diff", "Photos", &snaps[1]]);
    assert_eq!(r.code(), 0, "{r:?}");
    for line in [
        "added    /new/",
        "added    /new/beach.jpg",
        "removed  /gone/",
        "removed  /gone/old.jpg",
        "changed  /edited.txt",
        "metadata /chmod.sh",
    ] {
        assert!(r.stdout.contains(line), "{line:?} missing: {r:?}");
    }
    assert!(!r.stdout.contains("/same/"), "{r:?}");

    let r = f.mnemosynce(&[
        "snapshots",
        "diff",
        "Photos",
        &snaps[0],
        &snaps[1],
        "--json",
    ]);
    assert_eq!(r.code(), 0, "{r:?}");
    let d: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(d["total"]["added"], 2, "{d}");
    assert_eq!(d["total"]["removed"], 2, "{d}");
    assert_eq!(d["total"]["changed"], 1, "{d}");
    // The twenty unchanged photos were never read: both snapshots share their inodes.
    assert!(d["same_inode"].as_u64().unwrap() >= 20, "{d}");

    let r = f.mnemosynce(&["snapshots", "diff", "Photos", &snaps[0]]);
    assert_eq!(r.code(), 3, "{r:?}");
    assert!(r.stderr.contains("no snapshot before"), "{r:?}");
}

#[test]
fn snapshots_versions_follows_one_file_through_every_snapshot() {
    let f = Fixture::new();
    f.write_config();
    f.write("albums/notes.txt", b"one");
    assert_eq!(f.mnemosynce(&["run"]).code(), 0);
    assert_eq!(f.mnemosynce(&["run"]).code(), 0);
    f.write("albums/notes.txt", b"two, longer");
    assert_eq!(f.mnemosynce(&["run"]).code(), 0);
    // Only the mode changes: a new copy in the snapshot, but the same bytes, so the same version.
    fs::set_permissions(
        f.source.join("albums/notes.txt"),
        fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    assert_eq!(f.mnemosynce(&["run"]).code(), 0);
    let snaps = f.snapshots();
    assert_eq!(snaps.len(), 4);

    let r = f.mnemosynce(&[
        "snapshots",
        "versions",
        "Photos",
        "albums/notes.txt",
        "--json",
    ]);
    assert_eq!(r.code(), 0, "{r:?}");
    let v: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v.len(), 2, "{v:?}");
    assert_eq!(v[0]["first"], snaps[0].as_str());
    assert_eq!(v[0]["last"], snaps[1].as_str());
    assert_eq!(v[0]["size"], 3);
    assert_eq!(v[1]["first"], snaps[2].as_str());
    assert_eq!(v[1]["last"], snaps[3].as_str());
    assert_eq!(v[1]["snapshots"], 2);

    let r = f.mnemosynce(&["snapshots", "versions", "Photos", "albums/notes.txt"]);
    assert!(r.stdout.contains("2 version(s)"), "{r:?}");
    let r = f.mnemosynce(&["snapshots", "versions", "Photos", "../etc/passwd"]);
    assert_eq!(r.code(), 3, "{r:?}");
}

#[test]
fn each_run_measures_its_snapshot_and_the_one_before_and_recount_measures_all() {
    let f = Fixture::new();
    f.write_config();
    f.write("big/one.bin", &vec![1u8; 200_000]);
    f.write("big/two.bin", &vec![2u8; 200_000]);
    assert_eq!(f.mnemosynce(&["run"]).code(), 0);
    f.write("new.bin", &vec![3u8; 300_000]);
    assert_eq!(f.mnemosynce(&["run"]).code(), 0);
    let sizes = |r: &Run| -> Vec<(String, Value)> {
        r.json()
            .into_iter()
            .map(|s| (s["name"].as_str().unwrap().to_string(), s["sizes"].clone()))
            .collect()
    };
    let r = f.mnemosynce(&["snapshots", "--json"]);
    assert_eq!(r.code(), 0, "{r:?}");
    let list = sizes(&r);
    assert_eq!(list.len(), 2, "{r:?}");
    let (newer, older) = (&list[0].1, &list[1].1);
    assert_eq!(newer["files"], 3, "{r:?}");
    assert_eq!(older["files"], 2, "{r:?}");
    // Both share one.bin and two.bin: only the new file is the newer one's alone, and the older
    // one holds nothing deleting it would free but its folders.
    assert!(newer["total"].as_u64().unwrap() >= 700_000, "{r:?}");
    assert!(newer["unique"].as_u64().unwrap() >= 300_000, "{r:?}");
    assert!(newer["unique"].as_u64().unwrap() < 400_000, "{r:?}");
    assert!(older["total"].as_u64().unwrap() >= 400_000, "{r:?}");
    assert!(older["unique"].as_u64().unwrap() < 100_000, "{r:?}");

    // A snapshot made by hand is measured by --recount.
    let by_hand = f.task_dir().join("2020-01-01_000000");
    fs::create_dir_all(&by_hand).unwrap();
    fs::write(by_hand.join("old.bin"), vec![4u8; 50_000]).unwrap();
    let r = f.mnemosynce(&["snapshots", "--json"]);
    let hand = sizes(&r)
        .into_iter()
        .find(|(n, _)| n == "2020-01-01_000000")
        .unwrap();
    assert!(hand.1.is_null(), "{r:?}");
    let r = f.mnemosynce(&["snapshots", "--recount", "--json"]);
    assert_eq!(r.code(), 0, "{r:?}");
    assert!(
        r.stderr.contains("measured 3 snapshot(s) of Photos"),
        "{r:?}"
    );
    let hand = sizes(&r)
        .into_iter()
        .find(|(n, _)| n == "2020-01-01_000000")
        .unwrap();
    assert_eq!(hand.1["files"], 1, "{r:?}");
    assert!(hand.1["unique"].as_u64().unwrap() >= 50_000, "{r:?}");
}

#[test]
fn restore_puts_files_back_next_to_the_original_or_elsewhere_and_replaces_only_when_asked() {
    let f = Fixture::new();
    f.write_config();
    f.write("albums/2026/beach.jpg", b"sand");
    f.write("albums/notes.txt", b"first notes");
    fs::set_permissions(
        f.source.join("albums/notes.txt"),
        fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    let when = std::time::UNIX_EPOCH + Duration::from_secs(1_600_000_000);
    fs::File::options()
        .write(true)
        .open(f.source.join("albums/notes.txt"))
        .unwrap()
        .set_modified(when)
        .unwrap();
    assert_eq!(f.mnemosynce(&["run"]).code(), 0);
    let snap = f.snapshots()[0].clone();
    // The owner loses the folder, and later rewrites the notes.
    fs::remove_dir_all(f.source.join("albums/2026")).unwrap();
    fs::write(f.source.join("albums/notes.txt"), b"newer notes").unwrap();

    // Next to the original: a new folder, content, mode and time as they were saved.
    let r = f.mnemosynce(&["restore", "Photos", &snap, "albums"]);
    assert_eq!(r.code(), 0, "{r:?}");
    let restored: Vec<PathBuf> = fs::read_dir(&f.source)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("albums.restored-"))
        .collect();
    assert_eq!(restored.len(), 1, "{r:?}");
    let back = &restored[0];
    assert_eq!(fs::read(back.join("2026/beach.jpg")).unwrap(), b"sand");
    let m = fs::metadata(back.join("notes.txt")).unwrap();
    assert_eq!(m.mode() & 0o777, 0o640);
    assert_eq!(m.mtime(), 1_600_000_000);
    assert_eq!(
        fs::read(f.source.join("albums/notes.txt")).unwrap(),
        b"newer notes"
    );
    assert!(r.stdout.contains("restored"), "{r:?}");
    // Recorded as a restore run, which the task's last backup ignores.
    let run = latest_run(&f.data);
    assert!(
        run.message
            .as_deref()
            .is_some_and(|m| m.starts_with("restore: restored")),
        "{run:?}"
    );

    // Into a chosen folder: the file under its own name; a second time it exists and is refused.
    let to = f.root.join("elsewhere");
    let r = f.mnemosynce(&[
        "restore",
        "Photos",
        &snap,
        "albums/notes.txt",
        "--to",
        to.to_str().unwrap(),
    ]);
    assert_eq!(r.code(), 0, "{r:?}");
    assert_eq!(fs::read(to.join("notes.txt")).unwrap(), b"first notes");
    fs::write(to.join("notes.txt"), b"edited since").unwrap();
    let r = f.mnemosynce(&[
        "restore",
        "Photos",
        &snap,
        "albums/notes.txt",
        "--to",
        to.to_str().unwrap(),
    ]);
    assert_eq!(r.code(), 3, "{r:?}");
    assert!(
        r.stderr.contains("already exists") && r.stderr.contains("replace"),
        "{r:?}"
    );
    assert_eq!(fs::read(to.join("notes.txt")).unwrap(), b"edited since");

    // --replace onto the original: the saved bytes come back, the replaced ones are kept aside.
    let r = f.mnemosynce(&["restore", "Photos", &snap, "albums/notes.txt", "--replace"]);
    assert_eq!(r.code(), 0, "{r:?}");
    assert_eq!(
        fs::read(f.source.join("albums/notes.txt")).unwrap(),
        b"first notes"
    );
    let aside: Vec<PathBuf> = fs::read_dir(f.source.join("albums"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("notes.txt.replaced-"))
        .collect();
    assert_eq!(aside.len(), 1, "{r:?}");
    assert_eq!(
        fs::read(aside[0].join("notes.txt")).unwrap(),
        b"newer notes"
    );

    // Nothing outside the snapshot, nothing relative, nothing missing.
    for (args, code) in [
        (vec!["restore", "Photos", &snap, "../../etc"], 3),
        (
            vec!["restore", "Photos", &snap, "albums", "--to", "relative/dir"],
            3,
        ),
        (vec!["restore", "Photos", &snap, "no/such/file"], 2),
        (vec!["restore", "Photos", "2001-01-01_000000", "albums"], 2),
    ] {
        let r = f.mnemosynce(&args);
        assert_eq!(r.code(), code, "{args:?}: {r:?}");
        assert!(r.stderr.starts_with("error:"), "{r:?}");
    }
}

#[test]
fn snapshots_find_lists_each_version_of_each_matching_file_once_newest_first() {
    let f = Fixture::new();
    f.write_config();
    f.write("docs/Budget.XLSX", b"v1");
    f.write("docs/old/taxes-2024.pdf", b"taxes");
    f.write("docs/notes.txt", b"n");
    assert_eq!(f.mnemosynce(&["run"]).code(), 0);
    f.write("docs/Budget.XLSX", b"v2 longer");
    assert_eq!(f.mnemosynce(&["run"]).code(), 0);
    f.write("docs/plan.xlsx", b"new");
    assert_eq!(f.mnemosynce(&["run"]).code(), 0);
    let snaps = f.snapshots();

    let r = f.mnemosynce(&["snapshots", "find", "Photos", "*.xlsx", "--json"]);
    assert_eq!(r.code(), 0, "{r:?}");
    let found: Vec<Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let seen: Vec<(String, String, bool)> = found
        .iter()
        .map(|v| {
            (
                v["snapshot"].as_str().unwrap().to_string(),
                v["path"].as_str().unwrap().to_string(),
                v["newest"].as_bool().unwrap(),
            )
        })
        .collect();
    // Newest snapshot first; the unchanged budget of the second snapshot is not found again, its
    // first version is (in the first snapshot, as an older version).
    assert_eq!(
        seen,
        vec![
            (snaps[2].clone(), "/docs/Budget.XLSX".to_string(), true),
            (snaps[2].clone(), "/docs/plan.xlsx".to_string(), true),
            (snaps[0].clone(), "/docs/Budget.XLSX".to_string(), false),
        ],
        "{r:?}"
    );
    let r = f.mnemosynce(&["snapshots", "find", "Photos", "taxes"]);
    assert!(r.stdout.contains("/docs/old/taxes-2024.pdf"), "{r:?}");
    assert!(
        r.stderr.contains("1 version(s) found in 3 snapshot(s)"),
        "{r:?}"
    );
    let r = f.mnemosynce(&["snapshots", "find", "Photos", "docs/*.pdf"]);
    assert_eq!(r.code(), 3, "{r:?}");
    assert!(r.stderr.contains("matches names, not paths"), "{r:?}");
}

#[test]
fn version_names_the_release_and_the_commit() {
    let out = Command::new(BIN).arg("--version").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let expected = format!("mnemosynce {} (commit ", env!("CARGO_PKG_VERSION"));
    assert!(text.starts_with(&expected), "{text}");
    // Built from this checkout: a real commit id (hex), not "unknown".
    let commit = text[expected.len()..].trim_end().trim_end_matches(')');
    let id = commit.trim_end_matches("-dirty");
    assert!(
        id.len() == 12 && id.chars().all(|c| c.is_ascii_hexdigit()),
        "{text}"
    );
}
