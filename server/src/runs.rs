//! The server's run manager: starts runs for the web app (*Run now*, a restore) and the scheduler,
//! one at a time; publishes their events to the feed; sends the email report afterwards; cancels on request.
//!
//! A run reads the configuration from disk when it starts (so an edit takes effect on the next run)
//! and holds the data directory's run lock like a CLI run, so the two never overlap: a start while
//! either is active is refused with a sentence saying so. The scheduler records such a refusal as a
//! *skipped* run (`scheduler.rs`).

use crate::feed::hub::FeedHub;
use app::api::backend::{RunControl, StartError};
use engine::data_dir::DataDir;
use engine::history::History;
use engine::model::events::{RunEvent, Trigger};
use engine::model::feed::ActiveRun;
use engine::run::{self, RestoreError, RestoreRequest, RunError, RunOptions};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

/// The run in progress.
struct Active {
    run_id: Option<i64>,
    cancel: CancellationToken,
}

pub struct RunManager {
    data: DataDir,
    history: History,
    config_path: PathBuf,
    hub: Arc<FeedHub>,
    active: Arc<Mutex<Option<Active>>>,
}

impl RunManager {
    pub fn new(
        data: DataDir,
        history: History,
        config_path: PathBuf,
        hub: Arc<FeedHub>,
    ) -> RunManager {
        RunManager {
            data,
            history,
            config_path,
            hub,
            active: Arc::new(Mutex::new(None)),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Active>> {
        self.active.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Cancels the active run (server shutdown): its `.incomplete/` stays for the next run.
    pub fn cancel_all(&self) {
        if let Some(a) = self.lock().as_ref() {
            a.cancel.cancel();
        }
    }

    /// Waits until no run is active, at most `limit`; true when none is. A cancelled run is idle
    /// once its children are stopped and its end (status *cancelled*) is in the history, so the
    /// server may exit then without the next start finding the run "interrupted".
    pub async fn wait_idle(&self, limit: std::time::Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if self.lock().is_none() {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Takes the one run slot (refused while a run is active); returns its cancel token.
    fn claim(&self) -> Result<CancellationToken, StartError> {
        let cancel = CancellationToken::new();
        let mut active = self.lock();
        if active.is_some() {
            return Err(StartError::Busy);
        }
        *active = Some(Active {
            run_id: None,
            cancel: cancel.clone(),
        });
        Ok(cancel)
    }

    /// What frees the run slot again.
    fn releaser(&self) -> impl Fn() + Send + 'static {
        let active = self.active.clone();
        move || *active.lock().unwrap_or_else(|p| p.into_inner()) = None
    }

    /// The configuration and its zone, as a run starts.
    fn load_config(&self) -> Result<(engine::model::config::Config, chrono_tz::Tz), StartError> {
        let config = engine::config::load_usable(&self.config_path)
            .map_err(|m| StartError::Config(m.to_string()))?;
        let tz = engine::config::resolve_timezone(&config)
            .map_err(|e| StartError::Config(e.to_string()))?;
        Ok((config, tz))
    }

    /// The run's event sink: every event to the feed; the run id, once recorded, to `id` (the
    /// caller waits for it) and to the active slot (so *Cancel* finds the run).
    fn sink(&self, id: IdSlot) -> run::EventSink {
        let hub = self.hub.clone();
        let active = self.active.clone();
        Arc::new(move |event: RunEvent| {
            if let RunEvent::RunStarted { run_id, .. } = &event {
                if let Some(a) = active.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
                    a.run_id = Some(*run_id);
                }
                id.send(Ok(*run_id));
            }
            hub.publish(event);
        })
    }

    async fn start_run(&self, trigger: Trigger, tasks: Vec<String>) -> Result<i64, StartError> {
        let cancel = self.claim()?;
        let release = self.releaser();
        let (config, tz) = match self.load_config() {
            Ok(v) => v,
            Err(e) => {
                if let StartError::Config(msg) = &e {
                    let _ = run::record_failed_run(
                        &self.history,
                        trigger,
                        &format!("configuration error: {msg}"),
                    )
                    .await;
                }
                release();
                return Err(e);
            }
        };

        // The run id reaches the caller as soon as the run is recorded (its RunStarted event).
        let (id, id_rx) = IdSlot::new();
        let sink = self.sink(id.clone());
        let (data, history) = (self.data.clone(), self.history.clone());
        let stopped = cancel.clone();
        tokio::spawn(async move {
            let options = RunOptions {
                trigger,
                tasks,
                dry_run: false,
            };
            match run::run(&data, &history, &config, tz, options, sink, cancel).await {
                Ok(report) => {
                    // Measured before the next web run may start, so that run cannot change them
                    // meanwhile; not when the server is stopping (a big store takes a while).
                    let measured = if stopped.is_cancelled() {
                        &[][..]
                    } else {
                        &report.tasks[..]
                    };
                    for task in measured {
                        engine::overview::record_task_size(
                            &history,
                            &config.dir_backup_local,
                            &task.task,
                        )
                        .await;
                    }
                    release();
                    if report.run_id.is_some() {
                        let outcome = engine::mail::report::send_run_report(
                            &data, &history, &config, tz, &report,
                        )
                        .await;
                        tracing::info!(run = ?report.run_id, status = %report.status, "report: {outcome}");
                    }
                }
                Err(e) => {
                    release();
                    id.send(Err(match e {
                        RunError::Busy(_) => StartError::Busy,
                        other => StartError::Run(other),
                    }));
                }
            }
        });
        recorded(id_rx).await
    }

    /// A restore, in the same slot as runs (so never beside a backup), told on the same feed.
    async fn start_restore(&self, request: RestoreRequest) -> Result<i64, StartError> {
        let cancel = self.claim()?;
        let release = self.releaser();
        let (config, tz) = match self.load_config() {
            Ok(v) => v,
            Err(e) => {
                release();
                return Err(e);
            }
        };
        let (id, id_rx) = IdSlot::new();
        let sink = self.sink(id.clone());
        let (data, history) = (self.data.clone(), self.history.clone());
        tokio::spawn(async move {
            let done = run::restore(&data, &history, &config, tz, request, sink, cancel).await;
            release();
            match done {
                Ok(report) => {
                    tracing::info!(run = report.run_id, status = %report.status, "restore: {}", report.message)
                }
                Err(e) => id.send(Err(match e {
                    RestoreError::Busy(_) => StartError::Busy,
                    other => StartError::Restore(other),
                })),
            }
        });
        recorded(id_rx).await
    }
}

/// Where a starting run's id (or why it did not start) goes, once: the caller of a start waits on
/// the other end ([`recorded`]).
#[derive(Clone)]
struct IdSlot(Arc<Mutex<Option<oneshot::Sender<Started>>>>);

/// A start's outcome: the run's id, or why it did not start.
type Started = Result<i64, StartError>;

impl IdSlot {
    fn new() -> (IdSlot, oneshot::Receiver<Started>) {
        let (tx, rx) = oneshot::channel();
        (IdSlot(Arc::new(Mutex::new(Some(tx)))), rx)
    }

    /// Tells the waiting caller (the first call only).
    fn send(&self, outcome: Started) {
        if let Some(tx) = self.0.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = tx.send(outcome);
        }
    }
}

/// The run's id once it is recorded, or why it did not start.
async fn recorded(rx: oneshot::Receiver<Started>) -> Started {
    rx.await.unwrap_or(Err(StartError::Stopped))
}

impl RunControl for RunManager {
    fn start(
        &self,
        trigger: Trigger,
        tasks: Vec<String>,
    ) -> Pin<Box<dyn Future<Output = Result<i64, StartError>> + Send + '_>> {
        Box::pin(self.start_run(trigger, tasks))
    }

    fn restore(
        &self,
        request: RestoreRequest,
    ) -> Pin<Box<dyn Future<Output = Result<i64, StartError>> + Send + '_>> {
        Box::pin(self.start_restore(request))
    }

    fn cancel(&self, run_id: i64) -> bool {
        match self.lock().as_ref() {
            Some(a) if a.run_id == Some(run_id) => {
                a.cancel.cancel();
                true
            }
            _ => false,
        }
    }

    fn state(&self) -> Option<ActiveRun> {
        self.hub.state()
    }
}
