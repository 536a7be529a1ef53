//! The retention planner: which snapshots of a task to keep, which to prune, and why (SPEC §5).
//!
//! [`plan`] turns a policy and a task's snapshots into one [`Decision`] per snapshot: keep, with every
//! reason, or prune. It is pure (no clock, disk or database), so the run's retention step, `mnemosynce
//! plan` and the retention page's preview show the same plan; it never deletes anything itself.
//!
//! The rules (restic's `ApplyPolicy` walk, with SPEC §5's safety rules on top), numbered as in [`plan`]:
//! 1. sort newest first; a name listed twice is one snapshot (pinned or partial if any entry is);
//! 2. `keep_last`;
//! 3. `keep_within`, measured from the newest snapshot, never from "now";
//! 4. each tier (`hourly` … `yearly`) walks newest → oldest and keeps the newest snapshot of each
//!    period that holds one, until it has kept N (periods from the name's wall-clock time, ISO weeks);
//! 5. within a tier, a partial snapshot never takes the slot of a complete one in the same period;
//! 6. pinned snapshots; 7. the newest complete snapshot (else the newest partial); 8. `protect`, the
//!    snapshot the current run has just made.
//!
//! Invariants: reasons come out in [`KeepReason`]'s order, so the output never depends on the input
//! order; raising any number of the policy only adds keeps (`engine/tests/retention_props.rs`);
//! daylight-saving gaps and repeated hours never panic. The walk for owners: README, *Retention*.

use std::collections::{BTreeMap, HashSet};

use chrono::{Datelike, Duration, LocalResult, NaiveDateTime, Offset, TimeZone};
use chrono_tz::Tz;

use crate::model::config::RetentionPolicy;
use crate::model::retention::{Decision, KeepReason};
use crate::model::snapshot::{Completeness, SnapshotName};

/// One snapshot as the planner sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub name: SnapshotName,
    pub completeness: Completeness,
    /// Pinned by the owner in the web app: always kept.
    pub pinned: bool,
}

impl Candidate {
    /// A complete, unpinned snapshot.
    pub fn complete(name: SnapshotName) -> Candidate {
        Candidate {
            name,
            completeness: Completeness::Complete,
            pinned: false,
        }
    }
}

/// Decides, for each snapshot, keep (with every reason) or prune. See the module docs for the rules.
///
/// Returns one [`Decision`] per entry of `snapshots`, newest first. `tz` is the configured time zone in
/// which the names are wall-clock times (used for `keep_within` only); `protect` is the snapshot the
/// current run has just made, if any.
pub fn plan(
    snapshots: &[Candidate],
    policy: &RetentionPolicy,
    tz: Tz,
    protect: Option<&SnapshotName>,
) -> Vec<Decision> {
    // Step 1: merge duplicates, then order newest first.
    let mut merged: BTreeMap<&SnapshotName, Merged> = BTreeMap::new();
    for c in snapshots {
        let m = merged.entry(&c.name).or_insert(Merged {
            complete: true,
            pinned: false,
            count: 0,
        });
        m.complete &= c.completeness == Completeness::Complete;
        m.pinned |= c.pinned;
        m.count += 1;
    }
    let mut entries: Vec<Entry<'_>> = merged
        .into_iter()
        .rev()
        .map(|(name, m)| Entry {
            name,
            merged: m,
            reasons: Vec::new(),
        })
        .collect();

    // Steps 2–8, each in its own function and in `KeepReason`'s order, so that the reasons come out in
    // that order too.
    keep_last(&mut entries, policy.keep_last);
    keep_within(&mut entries, policy, tz);
    for tier in TIERS {
        keep_tier(&mut entries, tier, tier.count(policy));
    }
    for e in entries.iter_mut().filter(|e| e.merged.pinned) {
        e.reasons.push(KeepReason::Pinned);
    }
    keep_newest(&mut entries);
    if let Some(p) = protect {
        for e in entries.iter_mut().filter(|e| e.name == p) {
            e.reasons.push(KeepReason::Current);
        }
    }

    // One decision per input entry: a merged duplicate is repeated as often as it was listed.
    let mut out = Vec::with_capacity(snapshots.len());
    for e in entries {
        for _ in 0..e.merged.count {
            out.push(Decision {
                name: e.name.clone(),
                reasons: e.reasons.clone(),
            });
        }
    }
    out
}

/// Counts a plan's verdicts: `(kept, pruned)`.
pub fn plan_summary(decisions: &[Decision]) -> (usize, usize) {
    let kept = decisions.iter().filter(|d| d.keep()).count();
    (kept, decisions.len() - kept)
}

/// What is known of one distinct name after merging duplicates.
#[derive(Clone, Copy)]
struct Merged {
    /// False if any entry with this name was partial.
    complete: bool,
    pinned: bool,
    /// How many input entries carried this name.
    count: usize,
}

/// A distinct snapshot while it is being planned.
struct Entry<'a> {
    name: &'a SnapshotName,
    merged: Merged,
    reasons: Vec<KeepReason>,
}

/// Step 2: the newest `n` snapshots.
fn keep_last(entries: &mut [Entry<'_>], n: u32) {
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    for e in entries.iter_mut().take(n) {
        e.reasons.push(KeepReason::Last);
    }
}

/// Step 3: everything less than `keep_within` older than the newest snapshot.
fn keep_within(entries: &mut [Entry<'_>], policy: &RetentionPolicy, tz: Tz) {
    let Some(within) = policy.keep_within.as_ref().map(|w| w.seconds()) else {
        return;
    };
    let Some(newest) = entries.first().map(|e| instant(tz, e.name.local_time())) else {
        return;
    };
    for e in entries.iter_mut() {
        let age = newest.saturating_sub(instant(tz, e.name.local_time()));
        if age < within {
            e.reasons.push(KeepReason::Within);
        }
    }
}

/// Step 4 (with step 5's rule for partial snapshots): the newest snapshot of each of the `n` newest
/// periods of this kind that hold one.
fn keep_tier(entries: &mut [Entry<'_>], tier: Tier, n: u32) {
    if n == 0 {
        return;
    }
    let keys: Vec<String> = entries
        .iter()
        .map(|e| tier.key(e.name.local_time()))
        .collect();
    // The periods that hold a complete snapshot: a partial one may not fill their slot.
    let with_complete: HashSet<&str> = entries
        .iter()
        .zip(&keys)
        .filter(|(e, _)| e.merged.complete)
        .map(|(_, k)| k.as_str())
        .collect();
    let mut last: Option<&str> = None;
    let mut kept: u32 = 0;
    for (e, key) in entries.iter_mut().zip(&keys) {
        if kept >= n {
            break;
        }
        if !e.merged.complete && with_complete.contains(key.as_str()) {
            continue;
        }
        if last != Some(key.as_str()) {
            e.reasons.push(tier.reason(key.clone()));
            last = Some(key.as_str());
            kept += 1;
        }
    }
}

/// Step 7: the newest complete snapshot, or the newest one if none is complete.
fn keep_newest(entries: &mut [Entry<'_>]) {
    // `get_mut(0)` is `None` for an empty list: then there is nothing to keep.
    let index = entries.iter().position(|e| e.merged.complete).unwrap_or(0);
    if let Some(e) = entries.get_mut(index) {
        e.reasons.push(KeepReason::Newest);
    }
}

/// The five bucket kinds, in the order their reasons are listed.
const TIERS: [Tier; 5] = [
    Tier::Hourly,
    Tier::Daily,
    Tier::Weekly,
    Tier::Monthly,
    Tier::Yearly,
];

#[derive(Clone, Copy, Debug)]
enum Tier {
    Hourly,
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

impl Tier {
    /// How many periods of this kind the policy keeps.
    fn count(self, policy: &RetentionPolicy) -> u32 {
        match self {
            Tier::Hourly => policy.hourly,
            Tier::Daily => policy.daily,
            Tier::Weekly => policy.weekly,
            Tier::Monthly => policy.monthly,
            Tier::Yearly => policy.yearly,
        }
    }

    /// The key of the period of this kind that holds the wall-clock time `t`.
    fn key(self, t: NaiveDateTime) -> String {
        match self {
            Tier::Hourly => t.format("%Y-%m-%d %H").to_string(),
            Tier::Daily => t.format("%Y-%m-%d").to_string(),
            Tier::Weekly => {
                let week = t.date().iso_week();
                format!("{:04}-W{:02}", week.year(), week.week())
            }
            Tier::Monthly => t.format("%Y-%m").to_string(),
            Tier::Yearly => t.format("%Y").to_string(),
        }
    }

    fn reason(self, key: String) -> KeepReason {
        match self {
            Tier::Hourly => KeepReason::Hourly(key),
            Tier::Daily => KeepReason::Daily(key),
            Tier::Weekly => KeepReason::Weekly(key),
            Tier::Monthly => KeepReason::Monthly(key),
            Tier::Yearly => KeepReason::Yearly(key),
        }
    }
}

/// The Unix time (seconds) of the wall-clock time `t` in `tz`: the earlier instant when `t` happened
/// twice, and `t` read with the offset in force just before the gap when it never happened.
fn instant(tz: Tz, t: NaiveDateTime) -> i64 {
    match tz.from_local_datetime(&t) {
        LocalResult::Single(dt) => dt.timestamp(),
        LocalResult::Ambiguous(a, b) => a.timestamp().min(b.timestamp()),
        LocalResult::None => {
            // Look back in half-hour steps (gaps are at most a day long, Samoa 2011) for a wall-clock time
            // that exists: its offset is the one in force before the gap.
            let offset = (1..=2 * 26)
                .filter_map(|k| t.checked_sub_signed(Duration::minutes(30 * k)))
                .find_map(|p| tz.from_local_datetime(&p).earliest())
                .map(|dt| i64::from(dt.offset().fix().local_minus_utc()))
                .unwrap_or(0);
            t.and_utc().timestamp().saturating_sub(offset)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::config::KeepWithin;
    use chrono::NaiveDate;

    fn name(s: &str) -> SnapshotName {
        SnapshotName::parse(s).unwrap_or_else(|| panic!("{s:?} is not a snapshot name"))
    }

    fn complete(s: &str) -> Candidate {
        Candidate::complete(name(s))
    }

    fn partial(s: &str) -> Candidate {
        Candidate {
            name: name(s),
            completeness: Completeness::Partial,
            pinned: false,
        }
    }

    fn pinned(s: &str) -> Candidate {
        Candidate {
            name: name(s),
            completeness: Completeness::Complete,
            pinned: true,
        }
    }

    /// A policy with every number zero and no `keep_within`.
    fn zero() -> RetentionPolicy {
        RetentionPolicy {
            keep_last: 0,
            hourly: 0,
            daily: 0,
            weekly: 0,
            monthly: 0,
            yearly: 0,
            keep_within: None,
        }
    }

    fn within(s: &str) -> Option<KeepWithin> {
        Some(s.parse().unwrap_or_else(|e| panic!("{e}")))
    }

    fn utc() -> Tz {
        chrono_tz::UTC
    }

    /// The names kept, newest first.
    fn kept(ds: &[Decision]) -> Vec<String> {
        ds.iter()
            .filter(|d| d.keep())
            .map(|d| d.name.to_string())
            .collect()
    }

    /// The reasons of one snapshot, as the UI prints them.
    fn reasons(ds: &[Decision], n: &str) -> Vec<String> {
        let d = ds
            .iter()
            .find(|d| d.name.to_string() == n)
            .unwrap_or_else(|| panic!("{n} not in plan"));
        d.reasons.iter().map(ToString::to_string).collect()
    }

    /// One complete snapshot a day at 02:00, for `days` days ending on `last` (newest first).
    fn daily_run(last: NaiveDate, days: u32) -> Vec<Candidate> {
        (0..days)
            .map(|i| {
                let d = last - Duration::days(i64::from(i));
                complete(&format!("{}_020000", d.format("%Y-%m-%d")))
            })
            .collect()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_else(|| panic!("bad date"))
    }

    #[test]
    fn empty_input_gives_empty_plan() {
        assert!(plan(&[], &RetentionPolicy::default(), utc(), None).is_empty());
        assert_eq!(plan_summary(&[]), (0, 0));
    }

    #[test]
    fn daily_7_over_30_days_keeps_the_7_newest_days() {
        let snaps = daily_run(date(2026, 11, 30), 30);
        let policy = RetentionPolicy { daily: 7, ..zero() };
        let ds = plan(&snaps, &policy, utc(), None);
        assert_eq!(ds.len(), 30);
        assert_eq!(
            kept(&ds),
            (24..=30)
                .rev()
                .map(|d| format!("2026-11-{d:02}_020000"))
                .collect::<Vec<_>>()
        );
        assert_eq!(
            reasons(&ds, "2026-11-30_020000"),
            ["daily 2026-11-30", "newest"]
        );
        assert_eq!(reasons(&ds, "2026-11-24_020000"), ["daily 2026-11-24"]);
        assert_eq!(plan_summary(&ds), (7, 23));
    }

    #[test]
    fn output_is_newest_first_whatever_the_input_order() {
        let mut snaps = daily_run(date(2026, 11, 30), 10);
        snaps.reverse();
        let ds = plan(&snaps, &RetentionPolicy::default(), utc(), None);
        let names: Vec<String> = ds.iter().map(|d| d.name.to_string()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.reverse();
        assert_eq!(names, sorted);
        snaps.rotate_left(3);
        assert_eq!(plan(&snaps, &RetentionPolicy::default(), utc(), None), ds);
    }

    #[test]
    fn a_paused_backup_reaches_back_past_the_gap() {
        // Snapshots on days 1–3 and 20–23 only: daily 5 keeps the 5 newest days that hold one.
        let snaps: Vec<Candidate> = [1, 2, 3, 20, 21, 22, 23]
            .iter()
            .map(|d| complete(&format!("2026-10-{d:02}_020000")))
            .collect();
        let ds = plan(&snaps, &RetentionPolicy { daily: 5, ..zero() }, utc(), None);
        assert_eq!(
            kept(&ds),
            [
                "2026-10-23_020000",
                "2026-10-22_020000",
                "2026-10-21_020000",
                "2026-10-20_020000",
                "2026-10-03_020000"
            ]
        );
        assert_eq!(reasons(&ds, "2026-10-03_020000"), ["daily 2026-10-03"]);
    }

    #[test]
    fn several_snapshots_a_day_keep_only_the_newest_of_each_day() {
        let snaps: Vec<Candidate> = [
            "2026-11-26_020000",
            "2026-11-26_140000",
            "2026-11-26_200000",
            "2026-11-25_020000",
            "2026-11-25_230000",
            "2026-11-24_120000",
        ]
        .iter()
        .map(|s| complete(s))
        .collect();
        let ds = plan(
            &snaps,
            &RetentionPolicy {
                daily: 10,
                ..zero()
            },
            utc(),
            None,
        );
        assert_eq!(
            kept(&ds),
            [
                "2026-11-26_200000",
                "2026-11-25_230000",
                "2026-11-24_120000"
            ]
        );
        assert_eq!(reasons(&ds, "2026-11-26_140000"), Vec::<String>::new());
    }

    #[test]
    fn hourly_keys_and_keep_last() {
        let snaps: Vec<Candidate> = [
            "2026-11-26_020000",
            "2026-11-26_021500",
            "2026-11-26_014500",
            "2026-11-26_003000",
        ]
        .iter()
        .map(|s| complete(s))
        .collect();
        let ds = plan(
            &snaps,
            &RetentionPolicy {
                keep_last: 1,
                hourly: 2,
                ..zero()
            },
            utc(),
            None,
        );
        assert_eq!(
            reasons(&ds, "2026-11-26_021500"),
            ["last", "hourly 2026-11-26 02", "newest"]
        );
        assert_eq!(reasons(&ds, "2026-11-26_020000"), Vec::<String>::new());
        assert_eq!(reasons(&ds, "2026-11-26_014500"), ["hourly 2026-11-26 01"]);
        assert_eq!(reasons(&ds, "2026-11-26_003000"), Vec::<String>::new());
    }

    #[test]
    fn keep_last_counts_snapshots_not_periods() {
        let snaps: Vec<Candidate> = [
            "2026-11-26_020000",
            "2026-11-26_021500",
            "2026-11-26_023000",
            "2026-11-25_020000",
        ]
        .iter()
        .map(|s| complete(s))
        .collect();
        let ds = plan(
            &snaps,
            &RetentionPolicy {
                keep_last: 3,
                ..zero()
            },
            utc(),
            None,
        );
        assert_eq!(
            kept(&ds),
            [
                "2026-11-26_023000",
                "2026-11-26_021500",
                "2026-11-26_020000"
            ]
        );
        assert_eq!(reasons(&ds, "2026-11-26_021500"), ["last"]);
    }

    #[test]
    fn reason_strings_for_every_tier() {
        let snaps = vec![pinned("2026-11-26_020000")];
        let policy = RetentionPolicy {
            keep_last: 1,
            hourly: 1,
            daily: 1,
            weekly: 1,
            monthly: 1,
            yearly: 1,
            keep_within: within("1d"),
        };
        let protect = name("2026-11-26_020000");
        let ds = plan(&snaps, &policy, utc(), Some(&protect));
        assert_eq!(
            reasons(&ds, "2026-11-26_020000"),
            [
                "last",
                "within",
                "hourly 2026-11-26 02",
                "daily 2026-11-26",
                "weekly 2026-W48",
                "monthly 2026-11",
                "yearly 2026",
                "pinned",
                "newest",
                "current"
            ]
        );
    }

    #[test]
    fn iso_weeks_use_the_week_year() {
        let t = |s: &str| name(s).local_time();
        assert_eq!(Tier::Weekly.key(t("2026-12-31_120000")), "2026-W53");
        assert_eq!(Tier::Weekly.key(t("2021-01-03_120000")), "2020-W53");
        assert_eq!(Tier::Weekly.key(t("2021-01-04_000000")), "2021-W01");
        assert_eq!(Tier::Weekly.key(t("2024-12-30_000000")), "2025-W01");
        assert_eq!(Tier::Weekly.key(t("2026-11-26_020000")), "2026-W48");
        assert_eq!(Tier::Weekly.key(t("2026-01-05_020000")), "2026-W02");
    }

    #[test]
    fn weekly_tier_across_the_year_boundary() {
        // 2020-12-28 … 2021-01-03 is one ISO week (2020-W53); 2021-01-04 starts 2021-W01.
        let snaps: Vec<Candidate> = [
            "2021-01-05_020000",
            "2021-01-04_020000",
            "2021-01-03_020000",
            "2021-01-01_020000",
            "2020-12-28_020000",
            "2020-12-27_020000",
        ]
        .iter()
        .map(|s| complete(s))
        .collect();
        let ds = plan(
            &snaps,
            &RetentionPolicy {
                weekly: 3,
                yearly: 2,
                ..zero()
            },
            utc(),
            None,
        );
        assert_eq!(
            reasons(&ds, "2021-01-05_020000"),
            ["weekly 2021-W01", "yearly 2021", "newest"]
        );
        assert_eq!(reasons(&ds, "2021-01-03_020000"), ["weekly 2020-W53"]);
        assert_eq!(reasons(&ds, "2021-01-01_020000"), Vec::<String>::new());
        assert_eq!(reasons(&ds, "2020-12-28_020000"), ["yearly 2020"]);
        assert_eq!(reasons(&ds, "2020-12-27_020000"), ["weekly 2020-W52"]);
    }

    #[test]
    fn monthly_and_yearly_keys() {
        let snaps: Vec<Candidate> = [
            "2026-11-26_020000",
            "2026-11-01_020000",
            "2026-10-31_020000",
            "2025-12-31_235959",
            "2025-06-01_020000",
        ]
        .iter()
        .map(|s| complete(s))
        .collect();
        let ds = plan(
            &snaps,
            &RetentionPolicy {
                monthly: 2,
                yearly: 5,
                ..zero()
            },
            utc(),
            None,
        );
        assert_eq!(
            reasons(&ds, "2026-11-26_020000"),
            ["monthly 2026-11", "yearly 2026", "newest"]
        );
        assert_eq!(reasons(&ds, "2026-10-31_020000"), ["monthly 2026-10"]);
        assert_eq!(reasons(&ds, "2025-12-31_235959"), ["yearly 2025"]);
        assert_eq!(
            kept(&ds),
            [
                "2026-11-26_020000",
                "2026-10-31_020000",
                "2025-12-31_235959"
            ]
        );
    }

    #[test]
    fn legacy_names_are_midnight_snapshots() {
        let snaps = vec![
            complete("2026-11-24"),
            complete("2026-11-25"),
            complete("2026-11-25_020000"),
            complete("2026-11-26"),
        ];
        let ds = plan(&snaps, &RetentionPolicy { daily: 2, ..zero() }, utc(), None);
        assert_eq!(kept(&ds), ["2026-11-26", "2026-11-25_020000"]);
        assert_eq!(reasons(&ds, "2026-11-26"), ["daily 2026-11-26", "newest"]);
        assert_eq!(reasons(&ds, "2026-11-25"), Vec::<String>::new());

        // A legacy name and the new-style name of the same midnight are two folders in one day: the
        // one that `SnapshotName` orders later is the newer, and only it is kept for the day.
        let (a, b) = (name("2026-11-26"), name("2026-11-26_000000"));
        let newer = a.clone().max(b.clone()).to_string();
        let snaps = vec![Candidate::complete(a), Candidate::complete(b)];
        let ds = plan(&snaps, &RetentionPolicy { daily: 1, ..zero() }, utc(), None);
        assert_eq!(kept(&ds), vec![newer.clone()]);
        assert_eq!(ds[0].name.to_string(), newer);
        assert_eq!(reasons(&ds, &newer), ["daily 2026-11-26", "newest"]);
    }

    #[test]
    fn partial_never_takes_a_complete_snapshots_slot() {
        let snaps = vec![
            partial("2026-11-26_200000"),
            complete("2026-11-26_020000"),
            partial("2026-11-25_200000"),
            complete("2026-11-24_020000"),
        ];
        let ds = plan(&snaps, &RetentionPolicy { daily: 3, ..zero() }, utc(), None);
        // The partial of the 26th is skipped (the day has a complete one) and does not use up a slot;
        // the partial of the 25th is the only snapshot of its day, so it fills that day's slot.
        assert_eq!(reasons(&ds, "2026-11-26_200000"), Vec::<String>::new());
        assert_eq!(
            reasons(&ds, "2026-11-26_020000"),
            ["daily 2026-11-26", "newest"]
        );
        assert_eq!(reasons(&ds, "2026-11-25_200000"), ["daily 2026-11-25"]);
        assert_eq!(reasons(&ds, "2026-11-24_020000"), ["daily 2026-11-24"]);
    }

    #[test]
    fn keep_last_may_keep_a_partial() {
        let snaps = vec![partial("2026-11-26_200000"), complete("2026-11-26_020000")];
        let ds = plan(
            &snaps,
            &RetentionPolicy {
                keep_last: 1,
                daily: 1,
                ..zero()
            },
            utc(),
            None,
        );
        assert_eq!(reasons(&ds, "2026-11-26_200000"), ["last"]);
        assert_eq!(
            reasons(&ds, "2026-11-26_020000"),
            ["daily 2026-11-26", "newest"]
        );
    }

    #[test]
    fn newest_complete_is_kept_under_an_all_zero_policy() {
        let snaps = vec![
            partial("2026-11-27_020000"),
            complete("2026-11-26_020000"),
            complete("2026-11-25_020000"),
            pinned("2020-01-01_020000"),
        ];
        let ds = plan(&snaps, &zero(), utc(), None);
        assert_eq!(kept(&ds), ["2026-11-26_020000", "2020-01-01_020000"]);
        assert_eq!(reasons(&ds, "2026-11-26_020000"), ["newest"]);
        assert_eq!(reasons(&ds, "2020-01-01_020000"), ["pinned"]);
        assert_eq!(plan_summary(&ds), (2, 2));
    }

    #[test]
    fn without_a_complete_snapshot_the_newest_partial_is_kept() {
        let snaps = vec![partial("2026-11-25_020000"), partial("2026-11-26_020000")];
        let ds = plan(&snaps, &zero(), utc(), None);
        assert_eq!(kept(&ds), ["2026-11-26_020000"]);
        assert_eq!(reasons(&ds, "2026-11-26_020000"), ["newest"]);
    }

    #[test]
    fn a_pinned_old_snapshot_is_kept() {
        let mut snaps = daily_run(date(2026, 11, 30), 60);
        if let Some(c) = snaps
            .iter_mut()
            .find(|c| c.name.to_string() == "2026-10-05_020000")
        {
            c.pinned = true;
        }
        let ds = plan(&snaps, &RetentionPolicy { daily: 7, ..zero() }, utc(), None);
        assert_eq!(reasons(&ds, "2026-10-05_020000"), ["pinned"]);
        assert_eq!(plan_summary(&ds), (8, 52));
    }

    #[test]
    fn protect_keeps_the_current_run() {
        let snaps = vec![complete("2026-11-26_020000"), complete("2026-11-26_030000")];
        // Even an older one (a resumed run may be named earlier than a snapshot made meanwhile).
        let current = name("2026-11-26_020000");
        let ds = plan(&snaps, &zero(), utc(), Some(&current));
        assert_eq!(reasons(&ds, "2026-11-26_020000"), ["current"]);
        assert_eq!(reasons(&ds, "2026-11-26_030000"), ["newest"]);
        // A name that is not a snapshot changes nothing.
        let ghost = name("2030-01-01_000000");
        let ds2 = plan(&snaps, &zero(), utc(), Some(&ghost));
        assert_eq!(kept(&ds2), ["2026-11-26_030000"]);
    }

    #[test]
    fn keep_within_is_measured_from_the_newest_snapshot() {
        // The newest snapshot is years in the past: "now" plays no part.
        let snaps = daily_run(date(2019, 3, 10), 10);
        let ds = plan(
            &snaps,
            &RetentionPolicy {
                keep_within: within("3d"),
                ..zero()
            },
            utc(),
            None,
        );
        assert_eq!(
            kept(&ds),
            [
                "2019-03-10_020000",
                "2019-03-09_020000",
                "2019-03-08_020000"
            ]
        );
        assert_eq!(reasons(&ds, "2019-03-10_020000"), ["within", "newest"]);
        assert_eq!(reasons(&ds, "2019-03-08_020000"), ["within"]);
        // Exactly 3 days old is not younger than 3 days.
        assert_eq!(reasons(&ds, "2019-03-07_020000"), Vec::<String>::new());

        let snaps = vec![complete("2019-03-10_020000"), complete("2019-03-07_020001")];
        let ds = plan(
            &snaps,
            &RetentionPolicy {
                keep_within: within("3d"),
                ..zero()
            },
            utc(),
            None,
        );
        assert_eq!(reasons(&ds, "2019-03-07_020001"), ["within"]);

        // A zero duration keeps nothing by itself.
        let ds = plan(
            &snaps,
            &RetentionPolicy {
                keep_within: within("0h"),
                ..zero()
            },
            utc(),
            None,
        );
        assert_eq!(kept(&ds), ["2019-03-10_020000"]);
        assert_eq!(reasons(&ds, "2019-03-10_020000"), ["newest"]);
    }

    #[test]
    fn keep_within_counts_real_time_across_daylight_saving() {
        // Europe/Berlin springs forward on 2026-03-29 at 02:00 → 03:00: 01:30 to 03:30 is one real hour.
        let berlin = chrono_tz::Europe::Berlin;
        let snaps = vec![complete("2026-03-29_033000"), complete("2026-03-29_013000")];
        let ds = plan(
            &snaps,
            &RetentionPolicy {
                keep_within: within("1h"),
                ..zero()
            },
            berlin,
            None,
        );
        assert_eq!(reasons(&ds, "2026-03-29_013000"), Vec::<String>::new());
        let snaps = vec![complete("2026-03-29_033000"), complete("2026-03-29_013001")];
        let ds = plan(
            &snaps,
            &RetentionPolicy {
                keep_within: within("1h"),
                ..zero()
            },
            berlin,
            None,
        );
        assert_eq!(reasons(&ds, "2026-03-29_013001"), ["within"]);
        // In UTC the same names are two hours apart.
        let ds = plan(
            &snaps,
            &RetentionPolicy {
                keep_within: within("1h"),
                ..zero()
            },
            utc(),
            None,
        );
        assert_eq!(reasons(&ds, "2026-03-29_013001"), Vec::<String>::new());
    }

    #[test]
    fn wall_clock_times_that_are_doubled_or_missing_do_not_panic() {
        let berlin = chrono_tz::Europe::Berlin;
        let t = |s: &str| name(s).local_time();
        // 02:30 happened twice on 2026-10-25: the earlier instant (CEST, UTC+2) is taken.
        assert_eq!(
            instant(berlin, t("2026-10-25_023000")),
            t("2026-10-25_003000").and_utc().timestamp()
        );
        // 02:30 never happened on 2026-03-29: read with the offset before the gap (UTC+1).
        assert_eq!(
            instant(berlin, t("2026-03-29_023000")),
            t("2026-03-29_013000").and_utc().timestamp()
        );
        // Samoa skipped 2011-12-30 entirely (UTC-10 → UTC+14).
        let apia = chrono_tz::Pacific::Apia;
        assert_eq!(
            instant(apia, t("2011-12-30_120000")),
            t("2011-12-30_220000").and_utc().timestamp()
        );
        let snaps = vec![
            complete("2011-12-31_000000"),
            complete("2011-12-30_120000"),
            complete("2011-12-29_230000"),
        ];
        let ds = plan(
            &snaps,
            &RetentionPolicy {
                keep_within: within("2h"),
                daily: 3,
                ..zero()
            },
            apia,
            None,
        );
        assert_eq!(ds.len(), 3);
    }

    #[test]
    fn duplicate_names_are_planned_once_and_answered_for_each_entry() {
        let snaps = vec![
            complete("2026-11-26_020000"),
            Candidate {
                pinned: true,
                ..complete("2026-11-20_020000")
            },
            complete("2026-11-20_020000"),
            complete("2026-11-26_020000"),
            complete("2026-11-25_020000"),
        ];
        let ds = plan(&snaps, &RetentionPolicy { daily: 2, ..zero() }, utc(), None);
        assert_eq!(ds.len(), 5);
        assert_eq!(ds[0], ds[1]);
        assert_eq!(
            reasons(&ds, "2026-11-26_020000"),
            ["daily 2026-11-26", "newest"]
        );
        assert_eq!(reasons(&ds, "2026-11-25_020000"), ["daily 2026-11-25"]);
        assert_eq!(ds[3], ds[4]);
        assert_eq!(reasons(&ds, "2026-11-20_020000"), ["pinned"]);

        // A name reported both complete and partial is treated as partial.
        let snaps = vec![
            complete("2026-11-26_020000"),
            partial("2026-11-26_020000"),
            complete("2026-11-25_020000"),
        ];
        let ds = plan(&snaps, &zero(), utc(), None);
        assert_eq!(kept(&ds), ["2026-11-25_020000"]);
    }

    #[test]
    fn the_worked_example_of_the_module_docs() {
        let snaps: Vec<Candidate> = [
            "2026-11-26_140000",
            "2026-11-26_020000",
            "2026-11-25_020000",
            "2026-11-18_020000",
            "2026-11-17_020000",
        ]
        .iter()
        .map(|s| complete(s))
        .collect();
        let ds = plan(
            &snaps,
            &RetentionPolicy {
                daily: 2,
                weekly: 2,
                ..zero()
            },
            utc(),
            None,
        );
        assert_eq!(
            reasons(&ds, "2026-11-26_140000"),
            ["daily 2026-11-26", "weekly 2026-W48", "newest"]
        );
        assert_eq!(reasons(&ds, "2026-11-26_020000"), Vec::<String>::new());
        assert_eq!(reasons(&ds, "2026-11-25_020000"), ["daily 2026-11-25"]);
        assert_eq!(reasons(&ds, "2026-11-18_020000"), ["weekly 2026-W47"]);
        assert_eq!(reasons(&ds, "2026-11-17_020000"), Vec::<String>::new());
    }

    #[test]
    fn the_default_policy_over_two_years_of_nightly_snapshots() {
        // keep_last 1, daily 7, weekly 4, monthly 12, yearly 5.
        let snaps = daily_run(date(2026, 11, 26), 730);
        let ds = plan(&snaps, &RetentionPolicy::default(), utc(), None);
        let (k, _) = plan_summary(&ds);
        // 7 days (20–26 Nov) + weeks W46 and W45 (W48 and W47 fall on kept days) + months Oct 2026 …
        // Dec 2025 (11 more) + year 2024 (2026 and 2025 fall on kept snapshots).
        assert_eq!(
            reasons(&ds, "2026-11-26_020000"),
            [
                "last",
                "daily 2026-11-26",
                "weekly 2026-W48",
                "monthly 2026-11",
                "yearly 2026",
                "newest"
            ]
        );
        assert_eq!(
            reasons(&ds, "2026-11-22_020000"),
            ["daily 2026-11-22", "weekly 2026-W47"]
        );
        assert_eq!(reasons(&ds, "2026-11-15_020000"), ["weekly 2026-W46"]);
        assert_eq!(reasons(&ds, "2026-11-08_020000"), ["weekly 2026-W45"]);
        assert_eq!(reasons(&ds, "2026-10-31_020000"), ["monthly 2026-10"]);
        assert_eq!(
            reasons(&ds, "2025-12-31_020000"),
            ["monthly 2025-12", "yearly 2025"]
        );
        assert_eq!(reasons(&ds, "2024-12-31_020000"), ["yearly 2024"]);
        assert_eq!(reasons(&ds, "2024-11-27_020000"), Vec::<String>::new());
        assert_eq!(k, 7 + 2 + 11 + 1);
    }
}
