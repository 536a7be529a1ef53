//! Property tests of the retention planner (SPEC §5): the promises that must hold for any snapshot set
//! and any policy, checked on random ones.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use chrono_tz::Tz;
use engine::model::config::{KeepWithin, RetentionPolicy};
use engine::model::retention::{Decision, KeepReason};
use engine::model::snapshot::{Completeness, SnapshotName};
use engine::retention::{plan, plan_summary, Candidate};
use proptest::prelude::*;

/// Zones with daylight saving, odd offsets and a whole skipped day (Apia, 2011-12-30).
const ZONES: [Tz; 6] = [
    chrono_tz::UTC,
    chrono_tz::Europe::Berlin,
    chrono_tz::America::New_York,
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::Pacific::Apia,
    chrono_tz::America::Sao_Paulo,
];

fn base() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2010, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("valid base date")
}

/// One snapshot name somewhere in `span` seconds after the base, sometimes a legacy `YYYY-MM-DD` one.
fn arb_name(span: i64) -> impl Strategy<Value = SnapshotName> {
    (0..span, prop::bool::weighted(0.1)).prop_map(|(secs, legacy)| {
        let t = base() + Duration::seconds(secs);
        if legacy {
            SnapshotName::parse(&t.format("%Y-%m-%d").to_string()).expect("legacy name parses")
        } else {
            SnapshotName::at(t)
        }
    })
}

fn arb_candidate(span: i64) -> impl Strategy<Value = Candidate> {
    (
        arb_name(span),
        prop::bool::weighted(0.25),
        prop::bool::weighted(0.05),
    )
        .prop_map(|(name, partial, pinned)| Candidate {
            name,
            completeness: if partial {
                Completeness::Partial
            } else {
                Completeness::Complete
            },
            pinned,
        })
}

/// 0–300 snapshots spread over a few hours, days, months or years (so that periods hold several).
fn arb_candidates() -> impl Strategy<Value = Vec<Candidate>> {
    prop_oneof![
        Just(6 * 3600i64),
        Just(20 * 86_400i64),
        Just(400 * 86_400i64),
        Just(4 * 365 * 86_400i64),
        // Over the year 2011, so that Apia's missing day is in range.
        Just(2 * 365 * 86_400i64),
    ]
    .prop_flat_map(|span| prop::collection::vec(arb_candidate(span), 0..300))
}

/// The same, with each name at most once.
fn arb_unique_candidates() -> impl Strategy<Value = Vec<Candidate>> {
    arb_candidates().prop_map(|v| {
        let mut seen = HashSet::new();
        v.into_iter()
            .filter(|c| seen.insert(c.name.clone()))
            .collect()
    })
}

fn arb_within() -> impl Strategy<Value = Option<KeepWithin>> {
    prop_oneof![
        Just(None),
        (0u32..2000).prop_map(|h| Some(format!("{h}h").parse().expect("valid duration"))),
    ]
}

fn arb_policy() -> impl Strategy<Value = RetentionPolicy> {
    let n = || prop_oneof![Just(0u32), 0u32..5, 0u32..40];
    (n(), n(), n(), n(), n(), n(), arb_within()).prop_map(
        |(keep_last, hourly, daily, weekly, monthly, yearly, keep_within)| RetentionPolicy {
            keep_last,
            hourly,
            daily,
            weekly,
            monthly,
            yearly,
            keep_within,
        },
    )
}

fn arb_zone() -> impl Strategy<Value = Tz> {
    prop::sample::select(ZONES.to_vec())
}

/// A policy with each number raised by up to `by` and `keep_within` lengthened (or set).
fn arb_raise(p: RetentionPolicy) -> impl Strategy<Value = (RetentionPolicy, RetentionPolicy)> {
    let r = || 0u32..10;
    (r(), r(), r(), r(), r(), r(), 0i64..500, any::<bool>()).prop_map(
        move |(a, b, c, d, e, f, extra_hours, set_within)| {
            let within = match (&p.keep_within, set_within) {
                (Some(w), _) => {
                    let hours = w.seconds() / 3600 + extra_hours;
                    Some(format!("{hours}h").parse().expect("valid duration"))
                }
                (None, true) => Some(format!("{extra_hours}h").parse().expect("valid duration")),
                (None, false) => None,
            };
            let raised = RetentionPolicy {
                keep_last: p.keep_last + a,
                hourly: p.hourly + b,
                daily: p.daily + c,
                weekly: p.weekly + d,
                monthly: p.monthly + e,
                yearly: p.yearly + f,
                keep_within: within,
            };
            (p.clone(), raised)
        },
    )
}

/// The tier a reason belongs to, with its period key.
fn tier_of(r: &KeepReason) -> Option<(&'static str, &str)> {
    match r {
        KeepReason::Hourly(k) => Some(("hourly", k)),
        KeepReason::Daily(k) => Some(("daily", k)),
        KeepReason::Weekly(k) => Some(("weekly", k)),
        KeepReason::Monthly(k) => Some(("monthly", k)),
        KeepReason::Yearly(k) => Some(("yearly", k)),
        _ => None,
    }
}

/// The period key of kind `tier` for a snapshot, computed independently of the planner.
fn key(tier: &str, n: &SnapshotName) -> String {
    let t = n.local_time();
    match tier {
        "hourly" => format!(
            "{:04}-{:02}-{:02} {:02}",
            t.year(),
            t.month(),
            t.day(),
            chrono::Timelike::hour(&t)
        ),
        "daily" => format!("{:04}-{:02}-{:02}", t.year(), t.month(), t.day()),
        "weekly" => {
            let w = t.iso_week();
            format!("{:04}-W{:02}", w.year(), w.week())
        }
        "monthly" => format!("{:04}-{:02}", t.year(), t.month()),
        _ => format!("{:04}", t.year()),
    }
}

fn tier_count(p: &RetentionPolicy, tier: &str) -> u32 {
    match tier {
        "hourly" => p.hourly,
        "daily" => p.daily,
        "weekly" => p.weekly,
        "monthly" => p.monthly,
        _ => p.yearly,
    }
}

const TIERS: [&str; 5] = ["hourly", "daily", "weekly", "monthly", "yearly"];

/// A straightforward model of one tier's walk, to compare the planner with: the names that kind keeps.
fn model_tier(cands: &[Candidate], tier: &str, n: u32) -> BTreeSet<SnapshotName> {
    let mut sorted: Vec<&Candidate> = cands.iter().collect();
    sorted.sort_by(|a, b| b.name.cmp(&a.name));
    let complete_periods: HashSet<String> = sorted
        .iter()
        .filter(|c| c.completeness == Completeness::Complete)
        .map(|c| key(tier, &c.name))
        .collect();
    let mut kept = BTreeSet::new();
    let mut periods_done: HashSet<String> = HashSet::new();
    for c in sorted {
        let k = key(tier, &c.name);
        if c.completeness == Completeness::Partial && complete_periods.contains(&k) {
            continue;
        }
        if periods_done.len() as u32 >= n {
            break;
        }
        if periods_done.insert(k) {
            kept.insert(c.name.clone());
        }
    }
    kept
}

fn kept_names(ds: &[Decision]) -> BTreeSet<SnapshotName> {
    ds.iter()
        .filter(|d| d.keep())
        .map(|d| d.name.clone())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn plan_keeps_its_promises(
        cands in arb_unique_candidates(),
        policy in arb_policy(),
        tz in arb_zone(),
        protect_at in any::<prop::sample::Index>(),
        use_protect in any::<bool>(),
    ) {
        let protect = if use_protect && !cands.is_empty() {
            Some(cands[protect_at.index(cands.len())].name.clone())
        } else {
            None
        };
        let ds = plan(&cands, &policy, tz, protect.as_ref());

        // One decision per input, newest first, for exactly the input names.
        prop_assert_eq!(ds.len(), cands.len());
        prop_assert!(ds.windows(2).all(|w| w[0].name >= w[1].name));
        let in_names: BTreeSet<_> = cands.iter().map(|c| c.name.clone()).collect();
        let out_names: BTreeSet<_> = ds.iter().map(|d| d.name.clone()).collect();
        prop_assert_eq!(&in_names, &out_names);

        // A decision with reasons is a keep, without one a prune; the summary agrees.
        let kept = ds.iter().filter(|d| !d.reasons.is_empty()).count();
        prop_assert_eq!(plan_summary(&ds), (kept, ds.len() - kept));
        prop_assert!(ds.iter().all(|d| d.keep() != d.reasons.is_empty()));

        let by_name: BTreeMap<_, _> = ds.iter().map(|d| (d.name.clone(), d)).collect();
        let keeps = |n: &SnapshotName| by_name.get(n).map(|d| d.keep()).unwrap_or(false);

        // The newest complete snapshot (or, if none, the newest) is kept.
        let newest_complete = cands.iter().filter(|c| c.completeness == Completeness::Complete).map(|c| &c.name).max();
        let newest = cands.iter().map(|c| &c.name).max();
        if let Some(n) = newest_complete.or(newest) {
            prop_assert!(keeps(n));
            prop_assert!(by_name[n].reasons.contains(&KeepReason::Newest));
        }
        prop_assert!(ds.iter().filter(|d| d.reasons.contains(&KeepReason::Newest)).count() <= 1);

        // Pinned and protected snapshots are kept.
        for c in cands.iter().filter(|c| c.pinned) {
            prop_assert!(by_name[&c.name].reasons.contains(&KeepReason::Pinned));
        }
        if let Some(p) = &protect {
            prop_assert!(by_name[p].reasons.contains(&KeepReason::Current));
        }

        // The newest keep_last are kept, and only they carry `last`.
        for (i, d) in ds.iter().enumerate() {
            prop_assert_eq!(d.reasons.contains(&KeepReason::Last), (i as u64) < u64::from(policy.keep_last));
        }

        // Tiers: at most N reasons per kind, distinct periods, the right key, and the same snapshots as a
        // simple model of the walk.
        let complete_periods: HashSet<(&str, String)> = cands
            .iter()
            .filter(|c| c.completeness == Completeness::Complete)
            .flat_map(|c| TIERS.iter().map(move |t| (*t, key(t, &c.name))))
            .collect();
        let partial: HashSet<&SnapshotName> =
            cands.iter().filter(|c| c.completeness == Completeness::Partial).map(|c| &c.name).collect();
        for tier in TIERS {
            let mut with_reason = BTreeSet::new();
            let mut periods = HashSet::new();
            for d in &ds {
                for r in &d.reasons {
                    if let Some((t, k)) = tier_of(r) {
                        if t != tier {
                            continue;
                        }
                        prop_assert_eq!(k, key(tier, &d.name));
                        prop_assert!(periods.insert(k.to_string()), "two {} reasons for {}", tier, k);
                        with_reason.insert(d.name.clone());
                        if partial.contains(&d.name) {
                            prop_assert!(
                                !complete_periods.contains(&(tier, k.to_string())),
                                "partial {} holds {} {} though a complete snapshot is in that period",
                                d.name, tier, k
                            );
                        }
                    }
                }
            }
            let n = tier_count(&policy, tier);
            prop_assert!(with_reason.len() as u64 <= u64::from(n));
            prop_assert_eq!(with_reason, model_tier(&cands, tier, n));
        }

        // keep_within, measured from the newest snapshot: none of it may be pruned when it is younger
        // than D by wall clock minus a day (offsets never differ by more than that).
        if let (Some(w), Some(newest)) = (&policy.keep_within, newest) {
            for c in &cands {
                let age = (newest.local_time() - c.name.local_time()).num_seconds();
                if age + 2 * 86_400 < w.seconds() {
                    prop_assert!(by_name[&c.name].reasons.contains(&KeepReason::Within));
                }
                if age > w.seconds() + 2 * 86_400 {
                    prop_assert!(!by_name[&c.name].reasons.contains(&KeepReason::Within));
                }
            }
        } else {
            prop_assert!(ds.iter().all(|d| !d.reasons.contains(&KeepReason::Within)));
        }

        // Deterministic.
        prop_assert_eq!(&plan(&cands, &policy, tz, protect.as_ref()), &ds);
    }

    #[test]
    fn plan_does_not_depend_on_input_order(
        (cands, shuffled) in arb_candidates().prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle())),
        policy in arb_policy(),
        tz in arb_zone(),
    ) {
        let protect = cands.first().map(|c| c.name.clone());
        prop_assert_eq!(
            plan(&cands, &policy, tz, protect.as_ref()),
            plan(&shuffled, &policy, tz, protect.as_ref())
        );
    }

    #[test]
    fn raising_the_policy_never_prunes_what_was_kept(
        cands in arb_candidates(),
        (policy, raised) in arb_policy().prop_flat_map(arb_raise),
        tz in arb_zone(),
    ) {
        let before = kept_names(&plan(&cands, &policy, tz, None));
        let after = kept_names(&plan(&cands, &raised, tz, None));
        prop_assert!(before.is_subset(&after), "kept before, pruned after: {:?}", before.difference(&after).collect::<Vec<_>>());
    }

    #[test]
    fn duplicates_never_panic_and_get_one_decision_each(
        cands in arb_candidates(),
        dups in prop::collection::vec((any::<prop::sample::Index>(), any::<bool>(), any::<bool>()), 0..20),
        policy in arb_policy(),
        tz in arb_zone(),
    ) {
        let mut all = cands.clone();
        if !cands.is_empty() {
            for (i, partial, pinned) in dups {
                let mut c = cands[i.index(cands.len())].clone();
                c.completeness = if partial { Completeness::Partial } else { Completeness::Complete };
                c.pinned = pinned;
                all.push(c);
            }
        }
        let ds = plan(&all, &policy, tz, None);
        prop_assert_eq!(ds.len(), all.len());
        for w in ds.windows(2) {
            prop_assert!(w[0].name >= w[1].name);
            if w[0].name == w[1].name {
                prop_assert_eq!(&w[0], &w[1]);
            }
        }
        let mut reversed = all.clone();
        reversed.reverse();
        prop_assert_eq!(plan(&reversed, &policy, tz, None), ds.clone());
        // Something is always kept when there is anything at all.
        prop_assert_eq!(plan_summary(&ds).0 == 0, all.is_empty());
    }
}
