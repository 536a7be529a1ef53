//! Snapshot names and what is known of a snapshot.
//!
//! A snapshot is a plain folder in `<root>/<task>/` named `YYYY-MM-DD_HHMMSS` (local time in the
//! configured timezone, so names sort by time). Folders named `YYYY-MM-DD`, written by the original
//! Mnemosynce, are snapshots taken at 00:00 of that day. Nothing else is a snapshot.
//!
//! A name alone proves nothing: a folder is Mnemosynce's to delete only when the history says a run
//! made it or the owner adopted it (`SnapshotInfo::managed`, `engine::store::listing`).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The name of a snapshot folder, parsed. Ordering is by time (then by form, so that a legacy
/// `YYYY-MM-DD` sorts before `YYYY-MM-DD_000000` of the same day).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SnapshotName {
    local_time: NaiveDateTime,
    legacy: bool,
}

impl Ord for SnapshotName {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // Legacy (`false` after `!`) first when the times are equal.
        (self.local_time, !self.legacy).cmp(&(other.local_time, !other.legacy))
    }
}

impl PartialOrd for SnapshotName {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl SnapshotName {
    /// The name for a snapshot taken at `local_time` (seconds precision).
    pub fn at(local_time: NaiveDateTime) -> SnapshotName {
        let secs = local_time.date().and_time(
            NaiveTime::from_hms_opt(
                chrono::Timelike::hour(&local_time),
                chrono::Timelike::minute(&local_time),
                chrono::Timelike::second(&local_time),
            )
            .unwrap_or(NaiveTime::MIN),
        );
        SnapshotName {
            local_time: secs,
            legacy: false,
        }
    }

    /// Parses a folder name; `None` for anything that is not a snapshot name.
    pub fn parse(name: &str) -> Option<SnapshotName> {
        let b = name.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        let date_ok = b.len() >= 10
            && digits(0..4)
            && b[4] == b'-'
            && digits(5..7)
            && b[7] == b'-'
            && digits(8..10);
        if !date_ok {
            return None;
        }
        let date = NaiveDate::parse_from_str(&name[..10], "%Y-%m-%d").ok()?;
        match b.len() {
            10 => Some(SnapshotName {
                local_time: date.and_time(NaiveTime::MIN),
                legacy: true,
            }),
            17 if b[10] == b'_' && digits(11..17) => {
                let time = NaiveTime::parse_from_str(&name[11..], "%H%M%S").ok()?;
                Some(SnapshotName {
                    local_time: date.and_time(time),
                    legacy: false,
                })
            }
            _ => None,
        }
    }

    /// The wall-clock time in the configured timezone that the name encodes.
    pub fn local_time(&self) -> NaiveDateTime {
        self.local_time
    }

    /// True for a `YYYY-MM-DD` folder written by the original Mnemosynce.
    pub fn is_legacy(&self) -> bool {
        self.legacy
    }

    /// The name one second later (used when a name is already taken).
    pub fn next_second(&self) -> SnapshotName {
        SnapshotName::at(self.local_time + chrono::Duration::seconds(1))
    }
}

impl fmt::Display for SnapshotName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.legacy {
            write!(f, "{}", self.local_time.format("%Y-%m-%d"))
        } else {
            write!(f, "{}", self.local_time.format("%Y-%m-%d_%H%M%S"))
        }
    }
}

impl Serialize for SnapshotName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SnapshotName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        SnapshotName::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("{s:?} is not a snapshot name")))
    }
}

/// Whether every file made it into the snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Completeness {
    Complete,
    /// rsync exit 23: some files could not be read; the snapshot is kept but flagged.
    Partial,
}

/// What the engine knows of one snapshot, as listed for the CLI and the web app.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnapshotInfo {
    pub task: String,
    pub name: SnapshotName,
    /// RFC 3339, in the configured timezone.
    pub time: String,
    pub status: Completeness,
    pub pinned: bool,
    /// Why the owner pinned it, when they said.
    #[serde(default)]
    pub pin_note: Option<String>,
    /// Its files, total and unique size, once measured (after the run that made it, or
    /// `mnemosynce snapshots --recount`).
    #[serde(default)]
    pub sizes: Option<crate::model::files::SnapshotSize>,
    /// Mnemosynce made it or the owner adopted it, so retention may prune it. False for a
    /// snapshot-named folder found in the task folder (e.g. the original Mnemosynce's `YYYY-MM-DD`
    /// folders, or the owner's own): never deleted until adopted with `mnemosynce adopt TASK`.
    pub managed: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sort_by_time() {
        let a = SnapshotName::parse("2026-11-26_020000").unwrap();
        let b = SnapshotName::parse("2026-11-27").unwrap();
        assert_eq!(a.to_string(), "2026-11-26_020000");
        assert_eq!(b.to_string(), "2026-11-27");
        assert!(b.is_legacy() && !a.is_legacy());
        assert!(a < b);
        let legacy = SnapshotName::parse("2026-11-26").unwrap();
        let midnight = SnapshotName::parse("2026-11-26_000000").unwrap();
        assert!(legacy < midnight);
        assert_eq!(a.next_second().to_string(), "2026-11-26_020001");
    }

    #[test]
    fn only_snapshot_names_parse() {
        for bad in [
            "latest",
            ".incomplete",
            "2026-13-01",
            "2026-11-26_250000",
            "2026-11-26_02000",
            "2026-11-26x",
            "2026-11-26_020000.bak",
            "photos",
            "",
            "２０２６-11-26",
        ] {
            assert!(SnapshotName::parse(bad).is_none(), "{bad:?} parsed");
        }
    }
}
