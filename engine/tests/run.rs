//! Runs against real rsync on temporary folders: what a user would see in their store and mirror.

use crate::util::step;
use engine::config;
use engine::data_dir::DataDir;
use engine::history::History;
use engine::model::events::{RunEvent, StepKind, Trigger};
use engine::model::Status;
use engine::run::{self, RunOptions, RunReport};
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// A data directory, a source, a store root and a mirror root in one temp folder.
struct Fixture {
    _tmp: tempfile::TempDir,
    data: DataDir,
    source: PathBuf,
    store: PathBuf,
    mirror: PathBuf,
    extra_yaml: String,
    /// The task's name (`Photos` unless a test changes it).
    name: String,
}

impl Fixture {
    fn new() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().to_path_buf();
        for d in ["data", "source", "store", "mirror"] {
            fs::create_dir(p.join(d)).unwrap();
        }
        Fixture {
            data: DataDir::new(p.join("data")),
            source: p.join("source"),
            store: p.join("store"),
            mirror: p.join("mirror"),
            extra_yaml: String::new(),
            name: "Photos".into(),
            _tmp: tmp,
        }
    }

    fn yaml(&self, mirror: bool) -> String {
        format!(
            "dir_backup_local: {}\n{}email: {{enabled: false}}\ntimezone: UTC\nretention: {{keep_last: 100}}\ntasks:\n  - name: {}\n    dir_source: {}\n    excludes: [\"*.tmp\", \"cache/\"]\n{}",
            self.store.display(),
            if mirror { format!("dir_backup_remote: {}\n", self.mirror.display()) } else { String::new() },
            self.name,
            self.source.display(),
            self.extra_yaml,
        )
    }

    async fn run(&self, mirror: bool) -> (RunReport, Vec<RunEvent>) {
        self.run_with(mirror, CancellationToken::new()).await
    }

    async fn run_with(
        &self,
        mirror: bool,
        cancel: CancellationToken,
    ) -> (RunReport, Vec<RunEvent>) {
        let checked = config::check_str(&self.yaml(mirror));
        let cfg = checked
            .config
            .clone()
            .unwrap_or_else(|| panic!("{:?}", checked.problems));
        let history = History::open(&self.data.database()).await.unwrap();
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = events.clone();
        let opts = RunOptions {
            trigger: Trigger::Cli,
            tasks: vec![],
            dry_run: false,
        };
        let report = run::run(
            &self.data,
            &history,
            &cfg,
            chrono_tz::UTC,
            opts,
            Arc::new(move |e| sink.lock().unwrap().push(e)),
            cancel,
        )
        .await
        .unwrap();
        let ev = events.lock().unwrap().clone();
        (report, ev)
    }

    fn task_dir(&self) -> PathBuf {
        self.store.join(&self.name)
    }

    /// `mnemosynce adopt Photos`: hands the task's snapshot folders Mnemosynce did not make to
    /// retention.
    async fn adopt(&self) -> Vec<String> {
        let checked = config::check_str(&self.yaml(false));
        let cfg = checked.config.clone().unwrap();
        let history = History::open(&self.data.database()).await.unwrap();
        run::adopt(&cfg, &history, chrono_tz::UTC, &cfg.tasks[0])
            .await
            .unwrap()
            .iter()
            .map(|n| n.to_string())
            .collect()
    }

    fn snapshots(&self) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(self.task_dir())
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("20"))
            .collect();
        v.sort();
        v
    }

    fn write(&self, rel: &str, content: &[u8]) {
        let p = self.source.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }
}

fn ino(p: &Path) -> u64 {
    fs::metadata(p).unwrap().ino()
}

/// Waits past the current second, so the next snapshot gets a new name without the collision rule.
async fn next_second() {
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
}

#[tokio::test]
async fn a_second_snapshot_links_unchanged_files_and_copies_changed_ones() {
    let f = Fixture::new();
    f.write("same.txt", b"unchanged");
    f.write("album/changed.jpg", b"version 1");
    let (r1, events) = f.run(false).await;
    assert_eq!(r1.status, Status::Success, "{r1:?}");
    assert!(events.iter().any(|e| matches!(
        e,
        RunEvent::StepStarted {
            step: StepKind::Backup,
            ..
        }
    )));
    next_second().await;
    f.write("album/changed.jpg", b"version 2!");
    let (r2, _) = f.run(false).await;
    assert_eq!(r2.status, Status::Success, "{r2:?}");

    let snaps = f.snapshots();
    assert_eq!(snaps.len(), 2, "{snaps:?}");
    let (old, new) = (f.task_dir().join(&snaps[0]), f.task_dir().join(&snaps[1]));
    assert_eq!(
        ino(&old.join("same.txt")),
        ino(&new.join("same.txt")),
        "unchanged file is not a hard link"
    );
    assert_ne!(
        ino(&old.join("album/changed.jpg")),
        ino(&new.join("album/changed.jpg"))
    );
    assert_eq!(
        fs::read(old.join("album/changed.jpg")).unwrap(),
        b"version 1"
    );
    assert_eq!(
        fs::read(new.join("album/changed.jpg")).unwrap(),
        b"version 2!"
    );
    // latest points at the new one, relatively; restoring is a plain copy.
    assert_eq!(
        fs::read_link(f.task_dir().join("latest")).unwrap(),
        PathBuf::from(&snaps[1])
    );
    assert_eq!(
        fs::read(f.task_dir().join("latest/same.txt")).unwrap(),
        b"unchanged"
    );
    assert!(!f.task_dir().join(".incomplete").exists());
    assert_eq!(r2.tasks[0].snapshot.as_deref(), Some(snaps[1].as_str()));
}

#[tokio::test]
async fn a_chmod_only_change_never_alters_the_older_snapshot() {
    let f = Fixture::new();
    f.write("doc.txt", b"text");
    fs::set_permissions(f.source.join("doc.txt"), fs::Permissions::from_mode(0o644)).unwrap();
    f.run(false).await;
    next_second().await;
    fs::set_permissions(f.source.join("doc.txt"), fs::Permissions::from_mode(0o600)).unwrap();
    let (r, _) = f.run(false).await;
    assert_eq!(r.status, Status::Success);
    let snaps = f.snapshots();
    let mode = |s: &str| {
        fs::metadata(f.task_dir().join(s).join("doc.txt"))
            .unwrap()
            .mode()
            & 0o777
    };
    assert_eq!(
        mode(&snaps[0]),
        0o644,
        "the old snapshot's file changed mode"
    );
    assert_eq!(mode(&snaps[1]), 0o600);
}

#[tokio::test]
async fn excludes_from_the_config_reach_rsync() {
    let f = Fixture::new();
    f.write("keep.jpg", b"k");
    f.write("junk.tmp", b"j");
    f.write("cache/big.bin", b"c");
    f.write("sub/cache/also.bin", b"c");
    let (r, _) = f.run(false).await;
    assert_eq!(r.status, Status::Success);
    let latest = f.task_dir().join("latest");
    assert!(latest.join("keep.jpg").exists());
    assert!(!latest.join("junk.tmp").exists());
    assert!(!latest.join("cache").exists());
    assert!(!latest.join("sub/cache").exists());
}

#[tokio::test]
async fn a_source_that_turns_empty_is_refused_and_nothing_is_deleted() {
    let f = Fixture::new();
    f.write("a.jpg", b"a");
    f.run(false).await;
    next_second().await;
    fs::remove_file(f.source.join("a.jpg")).unwrap();
    let (r, _) = f.run(false).await;
    assert_eq!(r.status, Status::Failed);
    let (status, msg) = step(&r, StepKind::Backup);
    assert_eq!(status, Status::Failed);
    assert!(
        msg.contains("source is empty — is the drive mounted?"),
        "{msg}"
    );
    assert_eq!(step(&r, StepKind::Retention).0, Status::Skipped);
    assert_eq!(f.snapshots().len(), 1);
    assert!(f.task_dir().join("latest/a.jpg").exists());

    // A task that may be empty says so.
    let mut f2 = f;
    f2.extra_yaml = "    allow_empty_source: true\n".into();
    let (r, _) = f2.run(false).await;
    assert_eq!(r.status, Status::Success, "{r:?}");
}

#[tokio::test]
async fn a_missing_store_root_fails_in_preflight_and_is_never_created() {
    let f = Fixture::new();
    f.write("a.jpg", b"a");
    fs::remove_dir(&f.store).unwrap();
    let (r, _) = f.run(true).await;
    assert_eq!(r.status, Status::Failed);
    let (status, msg) = step(&r, StepKind::Preflight);
    assert_eq!(status, Status::Failed);
    assert!(msg.contains("is the backup drive mounted"), "{msg}");
    for k in [
        StepKind::Backup,
        StepKind::Retention,
        StepKind::Mirror,
        StepKind::Cleanup,
    ] {
        assert_eq!(step(&r, k).0, Status::Skipped, "{k}");
    }
    assert!(!f.store.exists());
    assert_eq!(
        fs::read_dir(&f.mirror).unwrap().count(),
        0,
        "the mirror was touched"
    );
}

#[tokio::test]
async fn the_mirror_gets_every_snapshot_hard_linked_and_ignores_working_folders() {
    let f = Fixture::new();
    f.write("a.jpg", b"a");
    f.write("b.jpg", b"b");
    let (r, _) = f.run(true).await;
    assert_eq!(r.status, Status::Success, "{r:?}");
    next_second().await;
    f.write("b.jpg", b"b2");
    let (r, _) = f.run(true).await;
    assert_eq!(r.status, Status::Success, "{r:?}");
    let snaps = f.snapshots();
    let m = f.mirror.join("Photos");
    // Hard links survive on the mirror: the unchanged file is one inode in both mirrored snapshots.
    assert_eq!(
        ino(&m.join(&snaps[0]).join("a.jpg")),
        ino(&m.join(&snaps[1]).join("a.jpg"))
    );
    assert_eq!(fs::read(m.join("latest/b.jpg")).unwrap(), b"b2");
    assert!(!m.join(".incomplete").exists());
}

#[tokio::test]
async fn a_wiped_store_never_wipes_the_mirror() {
    let f = Fixture::new();
    f.write("a.jpg", b"a");
    f.run(true).await;
    next_second().await;
    f.run(true).await;
    let mirrored: Vec<_> = fs::read_dir(f.mirror.join("Photos"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    // Wipe the task folder in the store (a bad rm, a reformatted disk).
    fs::remove_dir_all(f.task_dir()).unwrap();
    next_second().await;
    let (r, _) = f.run(true).await;
    let (status, msg) = step(&r, StepKind::Mirror);
    assert_eq!(status, Status::Failed, "{msg}");
    assert!(msg.contains("retention would keep"), "{msg}");
    for name in mirrored {
        assert!(
            f.mirror.join("Photos").join(&name).exists(),
            "{name:?} was deleted from the mirror"
        );
    }
}

#[tokio::test]
async fn a_pinned_snapshot_stays_on_the_mirror_when_its_local_folder_is_gone() {
    let mut f = Fixture::new();
    f.extra_yaml = "    retention: {keep_last: 1}\n".into();
    f.write("a.txt", b"one");
    let (r, _) = f.run(true).await;
    assert_eq!(r.status, Status::Success, "{r:?}");
    let first = f.snapshots()[0].clone();
    let history = History::open(&f.data.database()).await.unwrap();
    let cfg = config::check_str(&f.yaml(true)).config.unwrap();
    engine::store::set_pin(
        &cfg,
        &history,
        chrono_tz::UTC,
        &cfg.tasks[0],
        &first,
        true,
        Some("before the move"),
    )
    .await
    .unwrap();
    next_second().await;
    f.write("a.txt", b"two");
    let (r, _) = f.run(true).await;
    assert_eq!(r.status, Status::Success, "{r:?}");
    // keep_last 1 would prune it, but it is pinned: kept here and there.
    assert_eq!(f.snapshots().len(), 2);
    assert!(f.mirror.join("Photos").join(&first).exists());
    // Deleted here by hand: the next mirror keeps it there (and says so), the run still succeeds.
    fs::remove_dir_all(f.task_dir().join(&first)).unwrap();
    next_second().await;
    f.write("a.txt", b"three");
    let (r, events) = f.run(true).await;
    assert_eq!(r.status, Status::Success, "{r:?}");
    assert!(f.mirror.join("Photos").join(&first).join("a.txt").exists());
    assert!(
        events.iter().any(|e| matches!(e, RunEvent::Log { line, .. } if line.contains("because pinned: ") && line.contains(&first))),
        "{events:?}"
    );
}

#[tokio::test]
async fn the_mirror_leaves_foreign_files_alone() {
    let f = Fixture::new();
    f.write("a.jpg", b"a");
    fs::create_dir_all(f.mirror.join("Photos")).unwrap();
    fs::write(f.mirror.join("Photos/README-mirror.txt"), b"mine").unwrap();
    let (r, _) = f.run(true).await;
    assert_eq!(r.status, Status::Success, "{r:?}");
    assert_eq!(
        fs::read(f.mirror.join("Photos/README-mirror.txt")).unwrap(),
        b"mine"
    );
}

#[tokio::test]
async fn without_a_mirror_the_step_is_not_configured_and_the_run_succeeds() {
    let f = Fixture::new();
    f.write("a.jpg", b"a");
    let (r, _) = f.run(false).await;
    assert_eq!(r.status, Status::Success);
    let (status, msg) = step(&r, StepKind::Mirror);
    assert_eq!(status, Status::Skipped);
    assert!(msg.contains("not configured"), "{msg}");
}

#[tokio::test]
async fn retention_prunes_only_adopted_snapshot_folders_and_never_the_newest() {
    let f = Fixture::new();
    f.write("a.jpg", b"a");
    fs::create_dir_all(f.task_dir()).unwrap();
    // Old snapshots (one in the original's date-only form) and a folder of the user's.
    for old in ["2020-01-01", "2020-01-02_030000", "2020-01-03_030000"] {
        fs::create_dir(f.task_dir().join(old)).unwrap();
        fs::write(f.task_dir().join(old).join("a.jpg"), b"a").unwrap();
    }
    fs::create_dir(f.task_dir().join("my-notes")).unwrap();
    let mut f = f;
    f.extra_yaml =
        "    retention: {keep_last: 1, daily: 2, weekly: 0, monthly: 0, yearly: 0}\n".into();
    f.adopt().await;
    let (r, _) = f.run(false).await;
    assert_eq!(r.status, Status::Success, "{r:?}");
    let snaps = f.snapshots();
    assert_eq!(snaps.len(), 2, "{snaps:?}");
    assert_eq!(snaps[0], "2020-01-03_030000");
    assert!(f.task_dir().join("my-notes").exists());
    assert_eq!(step(&r, StepKind::Cleanup).0, Status::Success);
    assert!(f
        .task_dir()
        .join(".pruning")
        .read_dir()
        .map(|mut d| d.next().is_none())
        .unwrap_or(true));
}

#[tokio::test]
async fn date_named_folders_mnemosynce_did_not_make_are_never_pruned_until_adopted() {
    // dir_backup_local: /mnt/nas with a task `Photos`, where /mnt/nas/Photos/2019-07-14/ is the
    // owner's own folder of photos (issue 17).
    let mut f = Fixture::new();
    f.write("a.jpg", b"a");
    fs::create_dir_all(f.task_dir().join("2019-07-14")).unwrap();
    fs::write(f.task_dir().join("2019-07-14/beach.jpg"), b"the only copy").unwrap();
    fs::create_dir_all(f.task_dir().join("2019-07-15_120000")).unwrap();
    f.extra_yaml =
        "    retention: {keep_last: 1, hourly: 0, daily: 0, weekly: 0, monthly: 0, yearly: 0}\n"
            .into();
    let (r, _) = f.run(true).await;
    next_second().await;
    let (r2, _) = f.run(true).await;
    for r in [&r, &r2] {
        let (status, msg) = step(r, StepKind::Retention);
        assert_eq!(status, Status::Warning, "{msg}");
        assert!(
            msg.contains("2019-07-14") && msg.contains("2019-07-15_120000"),
            "{msg}"
        );
        assert!(msg.contains("mnemosynce adopt Photos"), "{msg}");
    }
    // Two runs with keep_last 1: the first run's snapshot went, the owner's folders did not.
    assert_eq!(
        fs::read(f.task_dir().join("2019-07-14/beach.jpg")).unwrap(),
        b"the only copy"
    );
    assert!(f.task_dir().join("2019-07-15_120000").is_dir());
    assert_eq!(f.snapshots().len(), 3, "{:?}", f.snapshots());
    // The mirror has them too, and its --delete does not remove an unadopted date folder there.
    fs::create_dir_all(f.mirror.join("Photos/2018-01-01")).unwrap();
    fs::write(f.mirror.join("Photos/2018-01-01/x.jpg"), b"x").unwrap();
    next_second().await;
    let (r3, _) = f.run(true).await;
    assert_eq!(step(&r3, StepKind::Mirror).0, Status::Success, "{r3:?}");
    assert!(f.mirror.join("Photos/2018-01-01/x.jpg").exists());
    assert!(f.mirror.join("Photos/2019-07-14/beach.jpg").exists());

    // Once adopted, retention manages them like its own; the mirror follows.
    f.adopt().await;
    next_second().await;
    let (r4, _) = f.run(true).await;
    assert_eq!(step(&r4, StepKind::Retention).0, Status::Success, "{r4:?}");
    assert!(!f.task_dir().join("2019-07-14").exists());
    assert!(!f.task_dir().join("2019-07-15_120000").exists());
    assert_eq!(f.snapshots().len(), 1, "{:?}", f.snapshots());
    assert!(!f.mirror.join("Photos/2019-07-14").exists());
    assert!(
        f.mirror.join("Photos/2018-01-01/x.jpg").exists(),
        "never adopted"
    );
}

#[tokio::test]
async fn a_cancelled_run_keeps_incomplete_and_the_next_run_resumes() {
    let f = Fixture::new();
    // Enough data that the transfer is still going when the cancel comes.
    let blob = vec![7u8; 1 << 20];
    for i in 0..300 {
        f.write(&format!("d{}/f{i}.bin", i % 10), &blob);
    }
    let cancel = CancellationToken::new();
    let c = cancel.clone();
    let incomplete = f.task_dir().join(".incomplete");
    // Cancel once the transfer has started writing (however long preflight took).
    tokio::spawn(async move {
        for _ in 0..3000 {
            if fs::read_dir(&incomplete)
                .map(|mut d| d.next().is_some())
                .unwrap_or(false)
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        c.cancel();
    });
    let (r, _) = f.run_with(false, cancel).await;
    assert_eq!(r.status, Status::Cancelled, "{r:?}");
    assert_eq!(step(&r, StepKind::Backup).0, Status::Cancelled);
    assert!(
        f.snapshots().is_empty(),
        "a cancelled transfer was promoted"
    );
    assert!(f.task_dir().join(".incomplete").exists());

    let (r, _) = f.run(false).await;
    assert_eq!(r.status, Status::Success, "{r:?}");
    let snaps = f.snapshots();
    assert_eq!(snaps.len(), 1);
    assert_eq!(
        fs::read(f.task_dir().join(&snaps[0]).join("d3/f3.bin")).unwrap(),
        blob
    );
    assert!(!f.task_dir().join(".resume").exists());
}

#[tokio::test]
async fn history_records_runs_tasks_steps_and_the_snapshot_index() {
    let f = Fixture::new();
    f.write("a.jpg", b"a");
    let (r, _) = f.run(false).await;
    let history = History::open(&f.data.database()).await.unwrap();
    let run_id = r.run_id.unwrap();
    let row = history.run(run_id).await.unwrap().unwrap();
    assert_eq!(row.status, Status::Success);
    let tasks = history.task_runs(run_id).await.unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].snapshot, r.tasks[0].snapshot);
    assert_eq!(tasks[0].stats.files_transferred, 1);
    let steps = history.steps(tasks[0].id).await.unwrap();
    assert_eq!(
        steps.iter().map(|s| s.step).collect::<Vec<_>>(),
        StepKind::ALL.to_vec()
    );
    let log = steps[1].log_path.as_ref().unwrap();
    let log = fs::read_to_string(log).unwrap();
    assert!(
        log.contains("transfer engine: native") && log.contains("native snapshot: "),
        "the backup log does not say which engine made the snapshot and what it did:\n{log}"
    );
    let index = history.snapshot_index("Photos").await.unwrap();
    assert!(index.contains_key(r.tasks[0].snapshot.as_ref().unwrap()));
    assert_eq!(
        history.last_good("Photos").await.unwrap().unwrap().run_id,
        run_id
    );
}

/// The `transfer engine: ...` lines the backup step logged.
fn engine_lines(events: &[RunEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            RunEvent::Log {
                step: Some(StepKind::Backup),
                line,
                ..
            } if line.starts_with("transfer engine:") => Some(line.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn the_backup_step_logs_the_engine_it_uses() {
    let default = engine::model::config::default_engine_for_local();
    let mut f = Fixture::new();
    f.write("a.jpg", b"a");
    let (r, events) = f.run(false).await;
    assert_eq!(r.status, Status::Success, "{r:?}");
    assert_eq!(
        engine_lines(&events),
        [format!(
            "transfer engine: {default} (the default for a local source)"
        )]
    );

    next_second().await;
    f.extra_yaml = "    engine: rsync\n".into();
    let (r, events) = f.run(false).await;
    assert_eq!(r.status, Status::Success, "{r:?}");
    assert_eq!(
        engine_lines(&events),
        ["transfer engine: rsync (set by the task's engine key)"]
    );
    assert_eq!(f.snapshots().len(), 2);
}

/// A `.pruning` symlink in the task folder (planted, or left by a restore) is never followed: the
/// retention step refuses with the name and the fix, and the victim folder keeps its files.
#[tokio::test]
async fn a_symlinked_pruning_folder_is_refused_and_its_target_untouched() {
    let mut f = Fixture::new();
    f.write("a.jpg", b"a");
    fs::create_dir_all(f.task_dir()).unwrap();
    for old in ["2020-01-02_030000", "2020-01-03_030000"] {
        fs::create_dir(f.task_dir().join(old)).unwrap();
        fs::write(f.task_dir().join(old).join("a.jpg"), b"a").unwrap();
    }
    let victim = f._tmp.path().join("victim");
    fs::create_dir_all(victim.join("2020-01-02_030000")).unwrap();
    fs::write(victim.join("2020-01-02_030000/precious"), b"keep me").unwrap();
    fs::write(victim.join("precious.txt"), b"keep me too").unwrap();
    std::os::unix::fs::symlink(&victim, f.task_dir().join(".pruning")).unwrap();
    f.extra_yaml =
        "    retention: {keep_last: 1, daily: 0, weekly: 0, monthly: 0, yearly: 0}\n".into();
    f.adopt().await;
    let (r, _) = f.run(false).await;
    let (status, msg) = step(&r, StepKind::Retention);
    assert_eq!(status, Status::Failed, "{msg}");
    assert!(
        msg.contains(".pruning is a symlink or not a folder") && msg.contains("remove it"),
        "{msg}"
    );
    assert_eq!(
        fs::read(victim.join("2020-01-02_030000/precious")).unwrap(),
        b"keep me"
    );
    assert_eq!(
        fs::read(victim.join("precious.txt")).unwrap(),
        b"keep me too"
    );
    assert_eq!(fs::read_dir(&victim).unwrap().count(), 2);
    // The snapshots it would have pruned are still in place, not moved into the victim.
    assert!(f.task_dir().join("2020-01-02_030000/a.jpg").exists());
}

/// `.incomplete` or `.resume` as a symlink: the backup step refuses before writing anything, and
/// the folder it points at is left as it was.
#[tokio::test]
async fn symlinked_incomplete_or_resume_folders_are_refused_and_their_targets_untouched() {
    for name in [".incomplete", ".resume"] {
        let f = Fixture::new();
        f.write("a.jpg", b"a");
        fs::create_dir_all(f.task_dir()).unwrap();
        let victim = f._tmp.path().join("victim");
        fs::create_dir_all(victim.join("1")).unwrap();
        fs::write(victim.join("1/precious"), b"keep me").unwrap();
        std::os::unix::fs::symlink(&victim, f.task_dir().join(name)).unwrap();
        let (r, _) = f.run(false).await;
        let (status, msg) = step(&r, StepKind::Backup);
        assert_eq!(status, Status::Failed, "{name}: {msg}");
        assert!(
            msg.contains(&format!("{name} is a symlink or not a folder")),
            "{name}: {msg}"
        );
        assert_eq!(fs::read(victim.join("1/precious")).unwrap(), b"keep me");
        assert_eq!(
            fs::read_dir(&victim).unwrap().count(),
            1,
            "{name}: written through"
        );
        assert!(fs::symlink_metadata(f.task_dir().join(name))
            .unwrap()
            .file_type()
            .is_symlink());
    }
}

/// A task name with a space and UTF-8, as files written for the original Mnemosynce have: the
/// snapshot, `latest`, the log and the local mirror all work.
#[tokio::test]
async fn a_task_named_with_spaces_and_utf8_is_backed_up_and_mirrored() {
    let mut f = Fixture::new();
    f.name = "My Photos ü".into();
    f.write("a.jpg", b"a");
    f.write("skip.tmp", b"x");
    let (r, _) = f.run(true).await;
    assert_eq!(r.status, Status::Success, "{r:?}");
    assert_eq!(r.tasks[0].task, "My Photos ü");
    assert_eq!(fs::read(f.task_dir().join("latest/a.jpg")).unwrap(), b"a");
    assert!(!f.task_dir().join("latest/skip.tmp").exists());
    let snaps = f.snapshots();
    assert_eq!(snaps.len(), 1, "{snaps:?}");
    let mirrored = f.mirror.join("My Photos ü").join(&snaps[0]).join("a.jpg");
    assert_eq!(fs::read(&mirrored).unwrap(), b"a");
    // Each step's log is named after the task.
    let logs: Vec<String> = fs::read_dir(f.data.logs())
        .map(|d| {
            d.flatten()
                .flat_map(|run| fs::read_dir(run.path()).into_iter().flatten().flatten())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        logs.iter().any(|l| l == "My Photos ü.backup.log"),
        "{logs:?}"
    );
}
