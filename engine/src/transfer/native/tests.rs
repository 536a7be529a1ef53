//! Unit tests of the native snapshotter: linking vs copying, cancelling, refusals, bandwidth limit,
//! sparse files and hard-link groups, a store inside its source.

use super::job::lock;
use super::*;
use crate::model::events::{LogLevel, Progress};
use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

#[derive(Default)]
struct Collect(Mutex<Vec<String>>);

impl StepSink for Collect {
    fn progress(&self, _: Progress) {}
    fn log(&self, _: LogLevel, line: &str) {
        lock(&self.0).push(line.to_string());
    }
}

fn request(src: &Path, dest: &Path, link: Option<&Path>) -> TransferRequest {
    TransferRequest {
        source: Endpoint::Local(src.to_path_buf()),
        dest: dest.to_path_buf(),
        link_dests: link.map(Path::to_path_buf).into_iter().collect(),
        excludes: Vec::new(),
        one_file_system: false,
        acls_xattrs: true,
        dry_run: false,
        rsh: None,
        workdir: None,
        bwlimit_kbps: None,
    }
}

async fn snapshot(req: &TransferRequest) -> TransferOutcome {
    fs::create_dir_all(&req.dest).expect("dest");
    NativeTransfer::default()
        .transfer(req, &Collect::default(), &CancellationToken::new())
        .await
}

fn ino(p: &Path) -> u64 {
    fs::symlink_metadata(p).expect("stat").ino()
}

#[tokio::test]
async fn unchanged_files_are_linked_and_changed_ones_copied_without_touching_the_old_snapshot() {
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    fs::create_dir_all(src.join("a/b")).expect("mkdir");
    fs::write(src.join("a/b/same.txt"), "same").expect("write");
    fs::write(src.join("a/edit.txt"), "one").expect("write");
    fs::write(src.join("mode.txt"), "mode").expect("write");
    std::os::unix::fs::symlink("a/b/same.txt", src.join("link")).expect("symlink");
    let first = tmp.path().join("s1");
    let out = snapshot(&request(&src, &first, None)).await;
    assert_eq!(out.end, TransferEnd::Complete);
    assert_eq!(out.stats.files_transferred, 3);
    assert_eq!(
        fs::read_to_string(first.join("a/b/same.txt")).expect("read"),
        "same"
    );
    assert_eq!(
        fs::read_link(first.join("link")).expect("link"),
        Path::new("a/b/same.txt")
    );

    fs::write(src.join("a/edit.txt"), "two").expect("write");
    fs::set_permissions(src.join("mode.txt"), fs::Permissions::from_mode(0o600)).expect("chmod");
    let second = tmp.path().join("s2");
    let out = snapshot(&request(&src, &second, Some(&first))).await;
    assert_eq!(out.end, TransferEnd::Complete);
    assert_eq!(
        ino(&first.join("a/b/same.txt")),
        ino(&second.join("a/b/same.txt"))
    );
    assert_ne!(
        ino(&first.join("a/edit.txt")),
        ino(&second.join("a/edit.txt"))
    );
    assert_eq!(
        fs::read_to_string(first.join("a/edit.txt")).expect("read"),
        "one"
    );
    assert_eq!(
        fs::read_to_string(second.join("a/edit.txt")).expect("read"),
        "two"
    );
    // chmod only: the new snapshot has its own copy, the old one keeps its mode.
    assert_ne!(ino(&first.join("mode.txt")), ino(&second.join("mode.txt")));
    let old_mode = fs::metadata(first.join("mode.txt")).expect("stat").mode() & 0o777;
    assert_ne!(old_mode, 0o600);
    assert_eq!(
        fs::metadata(second.join("mode.txt")).expect("stat").mode() & 0o777,
        0o600
    );
    // Directory times are set after their children were written.
    let src_time = fs::metadata(src.join("a"))
        .expect("stat")
        .modified()
        .expect("mtime");
    let dst_time = fs::metadata(second.join("a"))
        .expect("stat")
        .modified()
        .expect("mtime");
    assert_eq!(src_time, dst_time);
}

#[tokio::test]
async fn a_cancelled_transfer_says_so() {
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    fs::create_dir_all(&src).expect("mkdir");
    fs::write(src.join("f"), "x").expect("write");
    let req = request(&src, &tmp.path().join("s1"), None);
    fs::create_dir_all(&req.dest).expect("dest");
    let cancel = CancellationToken::new();
    cancel.cancel();
    let out = NativeTransfer::default()
        .transfer(&req, &Collect::default(), &cancel)
        .await;
    assert_eq!(out.end, TransferEnd::Cancelled);
}

#[tokio::test]
async fn an_ssh_source_is_refused_with_the_fix() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut req = request(tmp.path(), &tmp.path().join("d"), None);
    req.source = "me@nas:/srv".parse::<Endpoint>().expect("endpoint");
    let out = snapshot(&req).await;
    match out.end {
        TransferEnd::Failed { message } => {
            assert!(message.contains("engine: rsync"), "{message}")
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test]
async fn a_bandwidth_limit_slows_the_copy_to_it() {
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    fs::create_dir_all(&src).expect("mkdir");
    fs::write(src.join("big"), vec![7u8; 600 * 1024]).expect("write");
    let mut req = request(&src, &tmp.path().join("s1"), None);
    req.bwlimit_kbps = Some(400);
    let started = Instant::now();
    let out = snapshot(&req).await;
    assert_eq!(out.end, TransferEnd::Complete);
    // 600 KiB at 400 KiB/s: at least 1.5 s (unlimited, it takes milliseconds).
    assert!(
        started.elapsed() >= Duration::from_millis(1400),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        fs::read(req.dest.join("big")).expect("read").len(),
        600 * 1024
    );
}

#[tokio::test]
async fn sparse_files_keep_their_holes_and_source_hard_links_stay_linked() {
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    fs::create_dir_all(src.join("x")).expect("mkdir");
    let sparse = File::create(src.join("disk.img")).expect("create");
    sparse.set_len(64 << 20).expect("truncate");
    use std::os::unix::fs::FileExt;
    sparse
        .write_all_at(b"data in the middle", 32 << 20)
        .expect("write");
    drop(sparse);
    fs::write(src.join("a"), "shared").expect("write");
    fs::hard_link(src.join("a"), src.join("x/b")).expect("link");
    let req = request(&src, &tmp.path().join("s1"), None);
    assert_eq!(snapshot(&req).await.end, TransferEnd::Complete);
    let copy = fs::metadata(req.dest.join("disk.img")).expect("stat");
    assert_eq!(copy.len(), 64 << 20);
    assert!(
        copy.blocks() * 512 < 1 << 20,
        "{} blocks allocated",
        copy.blocks()
    );
    let mut middle = [0u8; 18];
    File::open(req.dest.join("disk.img"))
        .expect("open")
        .read_exact_at(&mut middle, 32 << 20)
        .expect("read");
    assert_eq!(&middle, b"data in the middle");
    assert_eq!(ino(&req.dest.join("a")), ino(&req.dest.join("x/b")));
}

#[tokio::test]
async fn new_names_of_an_unchanged_file_link_to_the_earlier_snapshot() {
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    fs::create_dir_all(src.join("d")).expect("mkdir");
    fs::write(src.join("d/one"), "photo").expect("write");
    let first = tmp.path().join("s1");
    assert_eq!(
        snapshot(&request(&src, &first, None)).await.end,
        TransferEnd::Complete
    );
    // Ten new names: the walk most likely meets a new one first, which has no earlier copy.
    for i in 0..10 {
        fs::create_dir_all(src.join(format!("n{i}"))).expect("mkdir");
        fs::hard_link(src.join("d/one"), src.join(format!("n{i}/two"))).expect("link");
    }
    let second = tmp.path().join("s2");
    let out = snapshot(&request(&src, &second, Some(&first))).await;
    assert_eq!(out.end, TransferEnd::Complete);
    let old = ino(&first.join("d/one"));
    assert_eq!(ino(&second.join("d/one")), old);
    for i in 0..10 {
        assert_eq!(ino(&second.join(format!("n{i}/two"))), old, "n{i}/two");
        let want = fs::metadata(src.join(format!("n{i}")))
            .expect("stat")
            .modified()
            .expect("t");
        let got = fs::metadata(second.join(format!("n{i}")))
            .expect("stat")
            .modified()
            .expect("t");
        assert_eq!(want, got, "time of n{i}");
    }
}

#[tokio::test]
async fn a_cancel_stops_in_the_middle_of_a_big_file() {
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    fs::create_dir_all(&src).expect("mkdir");
    fs::write(src.join("video"), vec![1u8; 2 << 20]).expect("write");
    let mut req = request(&src, &tmp.path().join("s1"), None);
    req.bwlimit_kbps = Some(100); // 20 s for the whole file
    fs::create_dir_all(&req.dest).expect("dest");
    let cancel = CancellationToken::new();
    let later = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        later.cancel();
    });
    let started = Instant::now();
    let out = NativeTransfer::default()
        .transfer(&req, &Collect::default(), &cancel)
        .await;
    assert_eq!(out.end, TransferEnd::Cancelled);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let left: Vec<_> = fs::read_dir(&req.dest)
        .expect("ls")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "the half copy was left behind: {left:?}");
}

#[tokio::test]
async fn a_store_inside_its_source_is_not_copied_into_itself() {
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("home");
    fs::create_dir_all(src.join("docs")).expect("mkdir");
    fs::write(src.join("docs/a.txt"), "a").expect("write");
    let task = src.join("backups/Home");
    let req = request(&src, &task.join(".incomplete"), None);
    let out = snapshot(&req).await;
    assert_eq!(out.end, TransferEnd::Complete);
    assert_eq!(
        fs::read_to_string(req.dest.join("docs/a.txt")).expect("read"),
        "a"
    );
    assert!(
        !req.dest.join("backups").exists(),
        "the store was copied into itself"
    );
}
