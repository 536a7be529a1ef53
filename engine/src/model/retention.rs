//! Retention decisions: what the planner (`engine::retention`) says about each snapshot (SPEC §5),
//! a [`Decision`] with its [`KeepReason`]s, as the run, `mnemosynce plan` and the retention page
//! show them.

use serde::{Deserialize, Serialize};
use std::fmt;

use super::snapshot::SnapshotName;

/// Why a snapshot is kept. Shown in the UI and printed by `mnemosynce plan` as
/// `last`, `within`, `hourly 2026-11-26 02`, `daily 2026-11-26`, `weekly 2026-W48`,
/// `monthly 2026-11`, `yearly 2026`, `pinned`, `newest`, `current`, `not adopted`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeepReason {
    /// One of the `keep_last` newest.
    Last,
    /// Younger than `keep_within`, counted from the newest snapshot.
    Within,
    /// The newest snapshot of this period (the key, e.g. `2026-11-26`).
    Hourly(String),
    Daily(String),
    Weekly(String),
    Monthly(String),
    Yearly(String),
    /// Pinned by the owner.
    Pinned,
    /// The newest complete snapshot is always kept.
    Newest,
    /// The snapshot the current run has just made is never pruned by that run.
    Current,
    /// A snapshot-named folder Mnemosynce did not make and the owner has not adopted (e.g. a
    /// `YYYY-MM-DD` folder, which may be the owner's own data): never pruned, never counted in a
    /// tier. `mnemosynce adopt TASK` hands such folders to retention.
    NotAdopted,
}

impl fmt::Display for KeepReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeepReason::Last => f.write_str("last"),
            KeepReason::Within => f.write_str("within"),
            KeepReason::Hourly(k) => write!(f, "hourly {k}"),
            KeepReason::Daily(k) => write!(f, "daily {k}"),
            KeepReason::Weekly(k) => write!(f, "weekly {k}"),
            KeepReason::Monthly(k) => write!(f, "monthly {k}"),
            KeepReason::Yearly(k) => write!(f, "yearly {k}"),
            KeepReason::Pinned => f.write_str("pinned"),
            KeepReason::Newest => f.write_str("newest"),
            KeepReason::Current => f.write_str("current"),
            KeepReason::NotAdopted => f.write_str("not adopted"),
        }
    }
}

/// The planner's verdict on one snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub name: SnapshotName,
    /// Empty means: prune.
    pub reasons: Vec<KeepReason>,
}

impl Decision {
    pub fn keep(&self) -> bool {
        !self.reasons.is_empty()
    }
}
