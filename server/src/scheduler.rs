//! The scheduler: starts a run at the times `schedule:` in the configuration names.
//!
//! tokio-cron-scheduler is the clock only: one job, "second 0 of every minute", in UTC, calls
//! `Scheduler::tick`, which asks [`engine::schedule::Cron::due_at`] whether that minute is due
//! *in the configured zone*. The library's own zone jobs are not used (they fix the UTC offset when
//! the job is made, and read day-of-month plus day-of-week as "both"); the meaning of an expression
//! stays in the engine, so the schedule page's "next runs" are the times fired here.
//!
//! Invariants: the file's modification time and length are checked every tick, and a change is read
//! again and logged with the next start; a file that no longer validates keeps the last good
//! schedule firing (that run then fails with the configuration error, so backups never stop
//! silently); a start while a run is active (web or CLI) is recorded as a *skipped* run with the
//! reason, and nothing else happens. The tests drive `tick` with chosen minutes. For owners:
//! README, *The scheduler*.

use crate::runs::RunManager;
use app::api::backend::{RunControl, StartError};
use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Tz;
use engine::history::History;
use engine::model::events::Trigger;
use engine::schedule::{Cron, CronError};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;
use tokio::sync::Mutex;
use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};

/// The schedule in force.
#[derive(Clone)]
struct Loaded {
    cron: Cron,
    tz: Tz,
    enabled: bool,
    catch_up: bool,
}

/// Two ticks further apart than this mean the clock did not tick in between (the machine slept,
/// the process was stopped): time to look for a missed start.
const TICK_GAP: chrono::TimeDelta = chrono::TimeDelta::minutes(3);

/// What the scheduler remembers between ticks.
struct State {
    /// (modification time, length) of the configuration file when it was last read.
    seen: Option<(SystemTime, u64)>,
    loaded: Option<Loaded>,
    /// The minute of the last start, so one minute never starts two runs.
    last_fired: Option<DateTime<Utc>>,
    /// When the clock last ticked (a gap means a sleep: see [`TICK_GAP`]).
    last_tick: Option<DateTime<Utc>>,
}

pub struct Scheduler {
    runs: Arc<RunManager>,
    history: History,
    config_path: PathBuf,
    state: Mutex<State>,
}

impl Scheduler {
    pub fn new(runs: Arc<RunManager>, history: History, config_path: PathBuf) -> Arc<Scheduler> {
        Arc::new(Scheduler {
            runs,
            history,
            config_path,
            state: Mutex::new(State {
                seen: None,
                loaded: None,
                last_fired: None,
                last_tick: None,
            }),
        })
    }

    /// Starts the once-a-minute clock. The returned handle stops it (`shutdown`).
    pub async fn start(self: &Arc<Self>) -> Result<JobScheduler, JobSchedulerError> {
        // Read the schedule now, so the log says at start when the first run will be.
        self.reload_if_changed().await;
        self.catch_up(Utc::now()).await;
        let clock = JobScheduler::new().await?;
        let me = self.clone();
        clock
            .add(Job::new_async("0 * * * * *", move |_, _| {
                let me = me.clone();
                Box::pin(async move {
                    me.tick(Utc::now()).await;
                })
            })?)
            .await?;
        clock.start().await?;
        Ok(clock)
    }

    /// One tick: reload if the file changed, catch up after a gap, then start a run if one is due
    /// this minute.
    async fn tick(&self, now: DateTime<Utc>) {
        self.reload_if_changed().await;
        let Some(minute) = now.with_second(0).and_then(|t| t.with_nanosecond(0)) else {
            return;
        };
        let slept = {
            let mut state = self.state.lock().await;
            let slept = state.last_tick.is_some_and(|t| now - t > TICK_GAP);
            state.last_tick = Some(now);
            slept
        };
        if slept {
            self.catch_up(now).await;
        }
        let due = {
            let mut state = self.state.lock().await;
            let due = match &state.loaded {
                Some(l) => l.enabled && l.cron.due_at(l.tz, minute),
                None => false,
            };
            if !due || state.last_fired == Some(minute) {
                return;
            }
            state.last_fired = Some(minute);
            due
        };
        if due {
            self.fire(minute).await;
        }
    }

    /// Catch-up (`schedule.catch_up`, on by default): when a scheduled start came and went while
    /// the server was down or the machine asleep — the schedule's first start after the newest
    /// recorded run is before the current minute — one run starts now, recorded with the trigger
    /// `catch-up`; several missed starts make one run. Nothing is caught up before the first run
    /// ever (a new install runs its first backup from the wizard), nor with the schedule off.
    async fn catch_up(&self, now: DateTime<Utc>) {
        let Some(minute) = now.with_second(0).and_then(|t| t.with_nanosecond(0)) else {
            return;
        };
        let loaded = self.state.lock().await.loaded.clone();
        let Some(loaded) = loaded.filter(|l| l.enabled && l.catch_up) else {
            return;
        };
        let newest = match self.history.newest_backup_started().await {
            Ok(Some(newest)) => newest,
            Ok(None) => return,
            Err(e) => {
                tracing::error!("cannot tell whether a scheduled start was missed: {e}");
                return;
            }
        };
        let Some(missed) = loaded.cron.missed(loaded.tz, newest, minute) else {
            return;
        };
        tracing::info!(missed = %missed, "the scheduled start at {missed} was missed (the server was down or asleep): catching up");
        match self.runs.start(Trigger::CatchUp, Vec::new()).await {
            Ok(id) => tracing::info!(run = id, "catch-up run started"),
            // A run is going already: it is the catch-up.
            Err(StartError::Busy) => tracing::info!("a run is in progress: no catch-up needed"),
            Err(why) => tracing::error!("the catch-up run could not start: {why}"),
        }
    }

    async fn fire(&self, minute: DateTime<Utc>) {
        tracing::info!(at = %minute, "scheduled run starting");
        match self.runs.start(Trigger::Schedule, Vec::new()).await {
            Ok(id) => tracing::info!(run = id, "scheduled run started"),
            Err(StartError::Busy) => {
                let why = format!(
                    "skipped: the scheduled start at {} found another run in progress",
                    minute.format("%Y-%m-%d %H:%M UTC")
                );
                tracing::warn!("{why}");
                if let Err(e) =
                    engine::run::record_skipped_run(&self.history, Trigger::Schedule, &why).await
                {
                    tracing::error!("cannot record the skipped run: {e}");
                }
            }
            // A configuration error is recorded as a failed run by the run manager itself.
            Err(why) => tracing::error!("the scheduled run could not start: {why}"),
        }
    }

    /// Reads the schedule again when the configuration file changed since the last look.
    async fn reload_if_changed(&self) {
        let stamp = std::fs::metadata(&self.config_path)
            .ok()
            .map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()));
        let mut state = self.state.lock().await;
        if state.seen.is_some() && state.seen == stamp {
            return;
        }
        state.seen = stamp;
        if stamp.is_none() {
            if state.loaded.take().is_some() {
                tracing::warn!(config = %self.config_path.display(), "the configuration file is gone: no scheduled runs until it is back");
            }
            return;
        }
        match load(&self.config_path) {
            Ok(loaded) => {
                if loaded.enabled {
                    let next = loaded
                        .cron
                        .upcoming(loaded.tz, Utc::now(), 1)
                        .first()
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_else(|| "never".into());
                    tracing::info!(cron = %loaded.cron, zone = %loaded.tz, next = %next, "schedule: {}", loaded.cron.describe());
                } else {
                    tracing::info!("schedule: disabled (schedule.enabled is false)");
                }
                state.loaded = Some(loaded);
            }
            Err(why) => match &state.loaded {
                Some(_) => tracing::warn!("the configuration cannot be used ({why}); the last good schedule stays in force"),
                None => tracing::warn!("no scheduled runs: {why}"),
            },
        }
    }
}

/// Why the schedule in the configuration file cannot be used (the last good one stays in force).
#[derive(Debug, thiserror::Error)]
enum ScheduleError {
    /// The file cannot be used, or names an unknown time zone: the engine's sentence.
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Cron(#[from] CronError),
}

fn load(path: &std::path::Path) -> Result<Loaded, ScheduleError> {
    let config =
        engine::config::load_usable(path).map_err(|e| ScheduleError::Config(e.to_string()))?;
    let tz = engine::config::resolve_timezone(&config)
        .map_err(|e| ScheduleError::Config(e.to_string()))?;
    let cron = Cron::parse(&config.schedule.cron)?;
    Ok(Loaded {
        cron,
        tz,
        enabled: config.schedule.enabled,
        catch_up: config.schedule.catch_up,
    })
}

#[cfg(test)]
mod tests {
    //! The scheduler on an injected clock: [`Scheduler::tick`] is called with the minute a test
    //! names, against real runs on real folders (the one real-minute test is in tests/serve.rs).
    use super::*;
    use crate::feed::hub::FeedHub;
    use chrono::TimeZone;
    use engine::data_dir::DataDir;
    use engine::history::RunFilter;
    use engine::model::Status;
    use std::path::Path;
    use std::time::Duration;

    fn write_config(path: &Path, store: &Path, source: &Path, cron: &str) {
        write_config_with(path, store, source, cron, "");
    }

    /// `extra`: more lines of the `schedule:` block.
    fn write_config_with(path: &Path, store: &Path, source: &Path, cron: &str, extra: &str) {
        std::fs::write(
            path,
            format!(
                "dir_backup_local: {}\nemail: {{enabled: false}}\ntimezone: Asia/Kathmandu\n\
                 schedule:\n  cron: \"{cron}\"\n  enabled: true\n{extra}\
                 tasks:\n  - name: Photos\n    dir_source: {}\n",
                store.display(),
                source.display()
            ),
        )
        .unwrap();
    }

    async fn runs(history: &History) -> Vec<(Trigger, Status, String)> {
        let filter = RunFilter {
            limit: 100,
            ..RunFilter::default()
        };
        let mut rows: Vec<_> = history
            .runs(&filter)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.trigger, r.status, r.message.unwrap_or_default()))
            .collect();
        rows.reverse();
        rows
    }

    fn utc(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, d, h, m, 0).unwrap()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn due_minutes_in_the_zone_start_runs_edits_are_followed_and_a_busy_start_is_skipped() {
        let tmp = tempfile::tempdir().unwrap();
        // Kathmandu is UTC+05:45: 08:30 there is 02:45 UTC.
        let (history, manager, scheduler) = setup(tmp.path(), "30 8 * * *", "").await;
        // What `setup` made, for the hand edit and the run lock below.
        let (store, source) = (tmp.path().join("store"), tmp.path().join("source"));
        let data = DataDir::new(tmp.path().join("data"));
        let config = data.config_file();

        // The expression read in UTC is not due; read in the zone it is, once per minute.
        scheduler.tick(utc(7, 8, 30)).await;
        assert!(runs(&history).await.is_empty());
        scheduler.tick(utc(7, 2, 45)).await;
        assert!(manager.wait_idle(Duration::from_secs(60)).await);
        scheduler.tick(utc(7, 2, 45)).await;
        assert!(manager.wait_idle(Duration::from_secs(60)).await);
        let after_first = runs(&history).await;
        assert_eq!(after_first.len(), 1, "{after_first:?}");
        assert_eq!(
            (after_first[0].0, after_first[0].1),
            (Trigger::Schedule, Status::Success),
            "{after_first:?}"
        );

        // A hand edit is followed at the next tick: 09:00 in Kathmandu, 03:15 UTC.
        write_config(&config, &store, &source, "0 9 * * *");
        scheduler.tick(utc(8, 2, 45)).await;
        scheduler.tick(utc(8, 3, 15)).await;
        assert!(manager.wait_idle(Duration::from_secs(60)).await);
        assert_eq!(runs(&history).await.len(), 2);

        // A CLI run holds the run lock at the next due minute: the start is recorded as skipped.
        let lock = engine::lock::RunLock::acquire(&data.run_lock()).unwrap();
        scheduler.tick(utc(9, 3, 15)).await;
        assert!(manager.wait_idle(Duration::from_secs(60)).await);
        drop(lock);
        let all = runs(&history).await;
        let last = all.last().unwrap();
        assert_eq!(
            (last.0, last.1),
            (Trigger::Schedule, Status::Skipped),
            "{all:?}"
        );
        assert!(last.2.contains("another run in progress"), "{all:?}");
    }

    /// A data directory with one task and a config using `cron` (plus `extra` schedule lines).
    async fn setup(
        tmp: &Path,
        cron: &str,
        extra: &str,
    ) -> (History, Arc<RunManager>, Arc<Scheduler>) {
        let (store, source) = (tmp.join("store"), tmp.join("source"));
        std::fs::create_dir_all(&store).unwrap();
        std::fs::create_dir_all(&source).unwrap();
        std::fs::write(source.join("photo.jpg"), b"jpeg").unwrap();
        let data = DataDir::new(tmp.join("data"));
        std::fs::create_dir_all(data.root()).unwrap();
        let config = data.config_file();
        write_config_with(&config, &store, &source, cron, extra);
        let history = History::open(&data.database()).await.unwrap();
        let manager = Arc::new(RunManager::new(
            data.clone(),
            history.clone(),
            config.clone(),
            Arc::new(FeedHub::new()),
        ));
        let scheduler = Scheduler::new(manager.clone(), history.clone(), config);
        scheduler.reload_if_changed().await;
        (history, manager, scheduler)
    }

    /// Records a finished run that started `at`.
    async fn ran_at(history: &History, at: DateTime<Utc>) {
        let id = history.start_run(Trigger::Cli, at).await.unwrap();
        history
            .finish_run(id, Status::Success, None, at)
            .await
            .unwrap();
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_start_missed_while_down_runs_once_at_start_up_and_after_a_sleep() {
        let tmp = tempfile::tempdir().unwrap();
        // Every day at 08:30 in Kathmandu (02:45 UTC).
        let (history, manager, scheduler) = setup(tmp.path(), "30 8 * * *", "").await;
        let now = Utc::now();

        // The newest run is three days old: the starts since were missed; one run catches up.
        ran_at(&history, now - chrono::TimeDelta::days(3)).await;
        scheduler.catch_up(now).await;
        assert!(manager.wait_idle(Duration::from_secs(60)).await);
        let all = runs(&history).await;
        assert_eq!(all.len(), 2, "{all:?}");
        assert_eq!(
            (all[1].0, all[1].1),
            (Trigger::CatchUp, Status::Success),
            "{all:?}"
        );
        assert_eq!(Trigger::CatchUp.as_str(), "catch-up");

        // Caught up: looking again starts nothing.
        scheduler.catch_up(now).await;
        assert!(manager.wait_idle(Duration::from_secs(60)).await);
        assert_eq!(runs(&history).await.len(), 2);

        // A sleep over the next start: the first tick after the gap catches up; a tick without a
        // gap before it does not.
        let next =
            Cron::parse("30 8 * * *")
                .unwrap()
                .upcoming(chrono_tz::Asia::Kathmandu, Utc::now(), 1)[0]
                .with_timezone(&Utc);
        scheduler.tick(next - chrono::TimeDelta::minutes(10)).await;
        scheduler.tick(next - chrono::TimeDelta::minutes(9)).await;
        assert!(manager.wait_idle(Duration::from_secs(60)).await);
        assert_eq!(runs(&history).await.len(), 2);
        scheduler.tick(next + chrono::TimeDelta::hours(5)).await;
        assert!(manager.wait_idle(Duration::from_secs(60)).await);
        let all = runs(&history).await;
        assert_eq!(all.len(), 3, "{all:?}");
        assert_eq!(all[2].0, Trigger::CatchUp, "{all:?}");
    }

    /// Looks for a missed start at `now`, lets what it started finish; the runs recorded then.
    async fn runs_after_catch_up(
        (history, manager, scheduler): &(History, Arc<RunManager>, Arc<Scheduler>),
        now: DateTime<Utc>,
    ) -> usize {
        scheduler.catch_up(now).await;
        assert!(manager.wait_idle(Duration::from_secs(60)).await);
        runs(history).await.len()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn no_catch_up_when_turned_off_on_a_new_install_or_when_nothing_was_missed() {
        let now = Utc::now();
        // Turned off: the missed start stays missed.
        let tmp = tempfile::tempdir().unwrap();
        let off = setup(tmp.path(), "30 8 * * *", "  catch_up: false\n").await;
        ran_at(&off.0, now - chrono::TimeDelta::days(3)).await;
        assert_eq!(runs_after_catch_up(&off, now).await, 1);

        // A new install (no run yet): the first backup is the owner's, from the wizard.
        let tmp = tempfile::tempdir().unwrap();
        let new = setup(tmp.path(), "* * * * *", "").await;
        assert_eq!(runs_after_catch_up(&new, now).await, 0);

        // A run after the last start: nothing was missed (every minute, the last one ran).
        ran_at(&new.0, now - chrono::TimeDelta::seconds(30)).await;
        assert_eq!(runs_after_catch_up(&new, now).await, 1);

        // Once a year, and the run was yesterday.
        let tmp = tempfile::tempdir().unwrap();
        let yearly = setup(tmp.path(), "30 8 1 1 *", "").await;
        ran_at(&yearly.0, now - chrono::TimeDelta::days(1)).await;
        assert_eq!(runs_after_catch_up(&yearly, now).await, 1);
    }
}
