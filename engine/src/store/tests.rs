//! Unit tests of the task folder on disk: listing, promotion, `latest`, retiring, working folders.

use super::*;

fn name(s: &str) -> SnapshotName {
    SnapshotName::parse(s).unwrap()
}

#[test]
fn only_snapshot_named_folders_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let store = TaskStore::new(dir.path(), "t");
    store.ensure_dir().unwrap();
    for d in [
        "2026-11-26_020000",
        "2026-11-25",
        "notes",
        ".incomplete",
        "2026-11-27_020000.old",
    ] {
        fs::create_dir(store.dir().join(d)).unwrap();
    }
    fs::write(
        store.dir().join("2026-11-28_020000"),
        b"a file, not a folder",
    )
    .unwrap();
    assert_eq!(
        store.snapshots().unwrap(),
        vec![name("2026-11-25"), name("2026-11-26_020000")]
    );
}

#[test]
fn names_never_go_backwards_or_collide() {
    let dir = tempfile::tempdir().unwrap();
    let store = TaskStore::new(dir.path(), "t");
    store.ensure_dir().unwrap();
    fs::create_dir(store.dir().join("2026-11-26_020000")).unwrap();
    let at = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
    let (n, behind) = store.next_name(at("2026-11-26 02:00:00")).unwrap();
    assert_eq!(
        (n.to_string().as_str(), behind),
        ("2026-11-26_020001", false)
    );
    let (n, behind) = store.next_name(at("2020-01-01 00:00:00")).unwrap();
    assert_eq!(
        (n.to_string().as_str(), behind),
        ("2026-11-26_020001", true)
    );
    let (n, _) = store.next_name(at("2026-11-27 02:00:00")).unwrap();
    assert_eq!(n.to_string(), "2026-11-27_020000");
}

#[test]
fn promote_renames_and_points_latest_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let store = TaskStore::new(dir.path(), "t");
    store.ensure_dir().unwrap();
    assert!(store.prepare_incomplete().unwrap().is_empty());
    fs::write(store.incomplete().join("f"), b"x").unwrap();
    store.promote(&name("2026-11-26_020000")).unwrap();
    assert_eq!(
        fs::read_link(store.dir().join("latest")).unwrap(),
        Path::new("2026-11-26_020000")
    );
    assert!(!store.incomplete().exists());
    store.prepare_incomplete().unwrap();
    assert!(store.promote(&name("2026-11-26_020000")).is_err());
    assert_eq!(
        fs::read(store.dir().join("2026-11-26_020000/f")).unwrap(),
        b"x"
    );
}

#[test]
fn an_interrupted_transfer_becomes_a_link_source() {
    let dir = tempfile::tempdir().unwrap();
    let store = TaskStore::new(dir.path(), "t");
    store.ensure_dir().unwrap();
    store.prepare_incomplete().unwrap();
    fs::write(store.incomplete().join("half"), b"x").unwrap();
    let dests = store.prepare_incomplete().unwrap();
    assert_eq!(dests.len(), 1);
    assert_eq!(fs::read(dests[0].join("half")).unwrap(), b"x");
    assert!(TaskStore::is_empty_dir(&store.incomplete()));
}

#[test]
fn the_store_guard_refuses_a_missing_root_and_never_creates_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("unmounted");
    assert!(matches!(check_root(&root), Err(StoreError::RootMissing(_))));
    assert!(!root.exists());
    check_root(dir.path()).unwrap();
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        0,
        "probe files left behind"
    );
}
