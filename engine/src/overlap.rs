//! Paths that must not overlap (SPEC §3): checked on a typed [`Config`], reported by `check`.
//!
//! A snapshot store that is inside its own source copies itself into every snapshot (rsync does not
//! skip it); a source inside the store backs up the backups; a mirror inside the store is mirrored
//! into itself; two tasks whose folders are one on a case-insensitive drive overwrite each other's
//! `latest`. Each is refused with the field it is on and the fix.
//!
//! Invariants: pure apart from resolving the symlinks of paths that exist (so `/mnt/nas` and a
//! symlink to it are one folder); SSH endpoints never overlap local folders (they are another
//! machine, even when it is this one). A store inside a source is accepted when the task excludes it
//! by its anchored path (`excludes: ["/backup/"]`), which is exactly what the error suggests.
//! [`crate::config::check_str`] turns each [`Overlap`] into a problem at the field's line.

use crate::model::config::{Config, Endpoint};
use std::path::{Component, Path, PathBuf};

/// Which field of the configuration an overlap is reported on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// `dir_backup_remote`
    Remote,
    /// `tasks[i].dir_source`
    TaskSource(usize),
    /// `tasks[i].name`
    TaskName(usize),
}

/// One overlap, as a sentence that names the fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overlap {
    pub field: Field,
    pub message: String,
}

/// Every overlap between the store, the mirror and the tasks' sources and folders.
pub fn overlaps(cfg: &Config) -> Vec<Overlap> {
    let mut out = Vec::new();
    let store = normal(&cfg.dir_backup_local);
    let remote = match &cfg.dir_backup_remote {
        Some(Endpoint::Local(p)) => Some(normal(p)),
        _ => None,
    };

    for (i, task) in cfg.tasks.iter().enumerate() {
        let Endpoint::Local(source) = &task.dir_source else {
            continue;
        };
        let source = normal(source);
        let field = Field::TaskSource(i);
        if within(&source, &store) {
            out.push(Overlap {
                field,
                message: format!(
                    "tasks[{i}].dir_source {} is inside the snapshot store dir_backup_local {}: the task would back up the backups (its own snapshots included); choose a source outside the store",
                    show(&source),
                    show(&store)
                ),
            });
        } else if within(&store, &source) {
            let rel = relative(&store, &source);
            let excluded = task.excludes.iter().any(|e| {
                let e = e.trim_end_matches('/');
                e == format!("/{rel}")
            });
            if !excluded {
                out.push(Overlap {
                    field,
                    message: format!(
                        "tasks[{i}].dir_source {} contains the snapshot store dir_backup_local {}: every snapshot would copy the store into itself; add `excludes: [\"/{rel}/\"]` to this task, or move the store out of the source",
                        show(&source),
                        show(&store)
                    ),
                });
            }
        }
        if let Some(remote) = &remote {
            if within(&source, remote) {
                out.push(Overlap {
                    field,
                    message: format!(
                        "tasks[{i}].dir_source {} is inside the mirror dir_backup_remote {}: the task would back up the mirror; choose a source outside it",
                        show(&source),
                        show(remote)
                    ),
                });
            }
        }
    }

    if let Some(remote) = &remote {
        if within(remote, &store) {
            out.push(Overlap {
                field: Field::Remote,
                message: format!(
                    "dir_backup_remote {} is {} the snapshot store dir_backup_local {}: a mirror there is no second copy and would be mirrored into itself; put the mirror on another drive or machine",
                    show(remote),
                    if remote == &store { "the same folder as" } else { "inside" },
                    show(&store)
                ),
            });
        } else if let Some(task) = cfg
            .tasks
            .iter()
            .find(|t| within(&store, &remote.join(&t.name)))
        {
            out.push(Overlap {
                field: Field::Remote,
                message: format!(
                    "dir_backup_remote {}: task {:?}'s mirror folder {} holds the snapshot store dir_backup_local {}, so the mirror would write into the store; put the mirror on another drive or machine",
                    show(remote),
                    task.name,
                    show(&remote.join(&task.name)),
                    show(&store)
                ),
            });
        }
    }

    // Task folders are <store>/<name>: unique names are unique folders, except on a drive that
    // ignores case (exFAT, FAT, SMB/CIFS shares), where `Photos` and `photos` are one folder.
    for (i, task) in cfg.tasks.iter().enumerate() {
        let folded = task.name.to_lowercase();
        if let Some(first) = cfg.tasks[..i]
            .iter()
            .find(|t| t.name != task.name && t.name.to_lowercase() == folded)
        {
            out.push(Overlap {
                field: Field::TaskName(i),
                message: format!(
                    "tasks[{i}].name {:?} differs from task {:?} only in upper/lower case: on a drive that ignores case (exFAT, SMB shares) both would write the same folder; rename one of them",
                    task.name, first.name
                ),
            });
        }
    }
    out
}

/// The path with `.`, `..` and repeated or trailing slashes resolved, and with its symlinks
/// resolved when it exists (so a symlink to the store is the store).
fn normal(path: &Path) -> PathBuf {
    if let Ok(real) = std::fs::canonicalize(path) {
        return real;
    }
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// True when `inner` is `outer` or beneath it (whole components: `/a/bc` is not within `/a/b`).
fn within(inner: &Path, outer: &Path) -> bool {
    inner.starts_with(outer)
}

/// `inner` relative to `outer` (which contains it), with `/` separators.
fn relative(inner: &Path, outer: &Path) -> String {
    inner
        .strip_prefix(outer)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn show(p: &Path) -> String {
    format!("{:?}", p.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(store: &str, remote: Option<&str>, tasks: &[(&str, &str, &[&str])]) -> Config {
        let mut yaml = format!("dir_backup_local: {store}\nemail: {{enabled: false}}\n");
        if let Some(r) = remote {
            yaml.push_str(&format!("dir_backup_remote: {r}\n"));
        }
        yaml.push_str("tasks:\n");
        for (name, source, excludes) in tasks {
            yaml.push_str(&format!(
                "  - name: {name}\n    dir_source: {source}\n    excludes: {excludes:?}\n"
            ));
        }
        serde_yaml::from_str(&yaml).unwrap()
    }

    fn fields(c: &Config) -> Vec<Field> {
        overlaps(c).into_iter().map(|o| o.field).collect()
    }

    #[test]
    fn each_kind_of_overlap_is_found_on_its_field() {
        let none: &[&str] = &[];
        let table: Vec<(Config, Vec<Field>)> = vec![
            // Fine: three separate places.
            (
                cfg(
                    "/mnt/nas",
                    Some("/mnt/usb"),
                    &[("Photos", "/srv/photos", none)],
                ),
                vec![],
            ),
            (
                cfg(
                    "/mnt/nas",
                    Some("me@nas:/mnt/nas"),
                    &[("P", "me@nas:/mnt/nas/x", none)],
                ),
                vec![],
            ),
            // A source equal to or inside its task folder, or anywhere in the store.
            (
                cfg("/mnt/nas", None, &[("Photos", "/mnt/nas/Photos", none)]),
                vec![Field::TaskSource(0)],
            ),
            (
                cfg(
                    "/mnt/nas",
                    None,
                    &[("Photos", "/mnt/nas/Photos/2019", none)],
                ),
                vec![Field::TaskSource(0)],
            ),
            (
                cfg("/mnt/nas", None, &[("A", "/mnt/nas/", none)]),
                vec![Field::TaskSource(0)],
            ),
            (
                cfg("/mnt/nas", None, &[("A", "/mnt/x/../nas/B", none)]),
                vec![Field::TaskSource(0)],
            ),
            // A store inside a source, unless excluded by its anchored path.
            (
                cfg("/srv/backup", None, &[("A", "/srv", none)]),
                vec![Field::TaskSource(0)],
            ),
            (
                cfg("/srv/backup", None, &[("A", "/srv", &["/backup/"])]),
                vec![],
            ),
            (
                cfg("/srv/backup", None, &[("A", "/srv", &["backup"])]),
                vec![Field::TaskSource(0)],
            ),
            (
                cfg("/srv/backups", None, &[("A", "/srv/backup", none)]),
                vec![],
            ),
            // A mirror equal to or inside the store, or whose task folder holds the store.
            (
                cfg("/mnt/nas", Some("/mnt/nas"), &[("A", "/srv", none)]),
                vec![Field::Remote],
            ),
            (
                cfg("/mnt/nas", Some("/mnt/nas/mirror"), &[("A", "/srv", none)]),
                vec![Field::Remote],
            ),
            (
                cfg("/mnt/x/A/store", Some("/mnt/x"), &[("A", "/srv", none)]),
                vec![Field::Remote],
            ),
            (
                cfg("/mnt/nas", Some("/mnt/usb"), &[("A", "/mnt/usb/A", none)]),
                vec![Field::TaskSource(0)],
            ),
            // Two tasks writing one folder on a case-insensitive drive.
            (
                cfg(
                    "/mnt/nas",
                    None,
                    &[("Photos", "/srv/a", none), ("photos", "/srv/b", none)],
                ),
                vec![Field::TaskName(1)],
            ),
        ];
        for (c, want) in table {
            assert_eq!(fields(&c), want, "{c:?}");
        }
    }

    #[test]
    fn the_message_names_the_fix() {
        let c = cfg("/srv/backup", None, &[("A", "/srv", &[])]);
        let o = &overlaps(&c)[0];
        assert!(
            o.message.contains(r#"add `excludes: ["/backup/"]`"#),
            "{}",
            o.message
        );
    }

    #[test]
    fn a_symlink_to_the_store_is_the_store() {
        let tmp = tempfile::tempdir().unwrap();
        let store = tmp.path().join("store");
        std::fs::create_dir(&store).unwrap();
        std::os::unix::fs::symlink(&store, tmp.path().join("link")).unwrap();
        let source = tmp.path().join("link/A");
        std::fs::create_dir(&source).unwrap();
        let c = cfg(
            &store.display().to_string(),
            None,
            &[("B", &source.display().to_string(), &[])],
        );
        assert_eq!(fields(&c), vec![Field::TaskSource(0)]);
    }
}
