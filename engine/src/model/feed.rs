//! The live run feed (`/api/feed`, SPEC §9.2): the messages the server sends as JSON text frames, and
//! [`ActiveRun`], the state of a run that both ends build the same way — by applying [`RunEvent`]s
//! with [`apply_event`].
//!
//! The protocol, per connection:
//!
//! 1. The client opens `/api/feed`, or `/api/feed?since=N` after a reconnect, N being the sequence
//!    number of the last event it applied.
//! 2. The server answers [`FeedMessage::Hello`] with the full current state and the sequence number
//!    it stands for — or, when it still holds every event after N, [`FeedMessage::Resumed`] and the
//!    missed events, so the client keeps its state (and its log) and just catches up.
//! 3. Then [`FeedMessage::Events`] in batches (at most about ten messages a second), each event with
//!    its sequence number, and a [`FeedMessage::Heartbeat`] every few seconds.
//!
//! A client that falls too far behind gets a fresh `Hello` instead of the events it missed.

use super::events::{LogLevel, Progress, RunEvent, StepKind, Trigger};
use super::Status;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// How many log lines the state keeps (the newest); the run page shows these after a (re)connect.
pub const LOG_TAIL: usize = 200;

/// One message from the server to a browser tab, as JSON `{"Hello": {...}}`. Externally tagged
/// (serde's default) on purpose: an internally tagged enum (`{"type": "Hello", ...}`) is decoded
/// through a buffered copy of the message, whose code weighed ~30 KB gzip in the page's WASM.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FeedMessage {
    /// The full state: first message of a connection, or after the client fell behind.
    Hello {
        /// The server's version (`model::VERSION` on the server side).
        version: String,
        server_time: DateTime<Utc>,
        /// Sequence number of the newest event folded into `active_run`; the events that follow
        /// count up from here.
        seq: u64,
        /// The run in progress (or the one that just ended, until the next starts), if any.
        active_run: Option<ActiveRun>,
    },
    /// The client's `since` could be honoured: keep your state, the missed events follow.
    Resumed {
        version: String,
        server_time: DateTime<Utc>,
        /// The `since` the client sent.
        seq: u64,
    },
    /// Events in order, each with its sequence number.
    Events { events: Vec<Sequenced> },
    /// Sent every few seconds so the client knows the link is alive.
    Heartbeat {
        server_time: DateTime<Utc>,
        seq: u64,
    },
}

impl FeedMessage {
    /// The sequence number the client stands at after applying this message.
    pub fn seq(&self) -> u64 {
        match self {
            FeedMessage::Hello { seq, .. }
            | FeedMessage::Resumed { seq, .. }
            | FeedMessage::Heartbeat { seq, .. } => *seq,
            FeedMessage::Events { events } => events.last().map(|e| e.seq).unwrap_or(0),
        }
    }
}

/// An event with its place in the feed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sequenced {
    pub seq: u64,
    pub event: RunEvent,
}

/// A log line as the run page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub task: Option<String>,
    pub step: Option<StepKind>,
    pub level: LogLevel,
    pub line: String,
}

/// One step of a task in a live run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepState {
    pub step: StepKind,
    pub status: Status,
    pub message: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// One task of a live run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskState {
    pub name: String,
    /// `None` while the task waits for its turn.
    pub status: Option<Status>,
    pub snapshot: Option<String>,
    pub message: Option<String>,
    pub steps: Vec<StepState>,
    /// The latest progress of the running transfer.
    pub progress: Option<Progress>,
}

impl TaskState {
    /// The step running now, if any.
    pub fn current_step(&self) -> Option<StepKind> {
        self.steps
            .iter()
            .rev()
            .find(|s| s.status == Status::Running)
            .map(|s| s.step)
    }
}

/// The state of a run as the feed tells it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActiveRun {
    pub run_id: i64,
    pub trigger: Trigger,
    pub started_at: DateTime<Utc>,
    /// `Running` until the run ends.
    pub status: Status,
    pub finished_at: Option<DateTime<Utc>>,
    /// The tasks of the run, in config order.
    pub tasks: Vec<TaskState>,
    /// The newest [`LOG_TAIL`] log lines.
    pub log_tail: VecDeque<LogLine>,
    /// How many log lines the run has written in all.
    pub log_count: u64,
}

impl ActiveRun {
    /// The state right after `RunStarted`; `None` for any other event.
    pub fn from_start(event: &RunEvent) -> Option<ActiveRun> {
        match event {
            RunEvent::RunStarted {
                run_id,
                trigger,
                tasks,
                at,
            } => Some(ActiveRun {
                run_id: *run_id,
                trigger: *trigger,
                started_at: *at,
                status: Status::Running,
                finished_at: None,
                tasks: tasks
                    .iter()
                    .map(|name| TaskState {
                        name: name.clone(),
                        status: None,
                        snapshot: None,
                        message: None,
                        steps: Vec::new(),
                        progress: None,
                    })
                    .collect(),
                log_tail: VecDeque::new(),
                log_count: 0,
            }),
            _ => None,
        }
    }

    /// True while the run has not ended.
    pub fn is_running(&self) -> bool {
        self.status == Status::Running
    }

    fn task_mut(&mut self, name: &str) -> Option<&mut TaskState> {
        self.tasks.iter_mut().find(|t| t.name == name)
    }

    /// Folds one event of this run into the state (events of other runs are ignored).
    pub fn apply(&mut self, event: &RunEvent) {
        match event {
            RunEvent::RunStarted { .. } => {}
            RunEvent::TaskStarted { run_id, task, .. } if *run_id == self.run_id => {
                if let Some(t) = self.task_mut(task) {
                    t.status = Some(Status::Running);
                }
            }
            RunEvent::StepStarted {
                run_id,
                task,
                step,
                at,
            } if *run_id == self.run_id => {
                if let Some(t) = self.task_mut(task) {
                    t.steps.retain(|s| s.step != *step);
                    t.steps.push(StepState {
                        step: *step,
                        status: Status::Running,
                        message: None,
                        started_at: *at,
                        finished_at: None,
                    });
                    t.progress = None;
                }
            }
            RunEvent::Progress {
                run_id,
                task,
                progress,
                ..
            } if *run_id == self.run_id => {
                if let Some(t) = self.task_mut(task) {
                    t.progress = Some(progress.clone());
                }
            }
            RunEvent::Log {
                run_id,
                task,
                step,
                level,
                line,
            } if *run_id == self.run_id => {
                self.log_count += 1;
                self.log_tail.push_back(LogLine {
                    task: task.clone(),
                    step: *step,
                    level: *level,
                    line: line.clone(),
                });
                while self.log_tail.len() > LOG_TAIL {
                    self.log_tail.pop_front();
                }
            }
            RunEvent::StepFinished {
                run_id,
                task,
                step,
                status,
                message,
                at,
                ..
            } if *run_id == self.run_id => {
                if let Some(t) = self.task_mut(task) {
                    match t.steps.iter_mut().find(|s| s.step == *step) {
                        Some(s) => {
                            s.status = *status;
                            s.message = message.clone();
                            s.finished_at = Some(*at);
                        }
                        // A step that never started (skipped after a failure) is listed too.
                        None => t.steps.push(StepState {
                            step: *step,
                            status: *status,
                            message: message.clone(),
                            started_at: *at,
                            finished_at: Some(*at),
                        }),
                    }
                }
            }
            RunEvent::TaskFinished {
                run_id,
                task,
                status,
                snapshot,
                message,
                ..
            } if *run_id == self.run_id => {
                if let Some(t) = self.task_mut(task) {
                    t.status = Some(*status);
                    t.snapshot = snapshot.clone();
                    t.message = message.clone();
                    t.progress = None;
                }
            }
            RunEvent::RunFinished { run_id, status, at } if *run_id == self.run_id => {
                self.status = *status;
                self.finished_at = Some(*at);
            }
            _ => {}
        }
    }
}

/// Applies an event to an optional state: a `RunStarted` begins a new state, anything else updates
/// the current one.
pub fn apply_event(state: &mut Option<ActiveRun>, event: &RunEvent) {
    if let Some(fresh) = ActiveRun::from_start(event) {
        *state = Some(fresh);
    } else if let Some(s) = state {
        s.apply(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .unwrap()
    }

    #[test]
    fn messages_are_tagged_json_that_round_trips() {
        let hello = FeedMessage::Hello {
            version: "0.1.0".into(),
            server_time: t("2026-11-26T02:00:00Z"),
            seq: 1,
            active_run: None,
        };
        let text = serde_json::to_string(&hello).unwrap();
        assert!(text.starts_with(r#"{"Hello":{"#), "{text}");
        assert_eq!(serde_json::from_str::<FeedMessage>(&text).unwrap(), hello);
        let event = Sequenced {
            seq: 2,
            event: RunEvent::RunStarted {
                run_id: 7,
                trigger: Trigger::Manual,
                tasks: vec!["Photos".into()],
                at: t("2026-11-26T02:00:00Z"),
            },
        };
        let text = serde_json::to_string(&event).unwrap();
        assert!(text.contains(r#""event":{"run_started":{"#), "{text}");
        assert_eq!(serde_json::from_str::<Sequenced>(&text).unwrap(), event);
    }

    #[test]
    fn events_build_the_run_state() {
        let at = t("2026-11-26T02:00:00Z");
        let mut state = None;
        let events = vec![
            RunEvent::RunStarted {
                run_id: 7,
                trigger: Trigger::Manual,
                tasks: vec!["Photos".into(), "Music".into()],
                at,
            },
            RunEvent::TaskStarted {
                run_id: 7,
                task: "Photos".into(),
                at,
            },
            RunEvent::StepStarted {
                run_id: 7,
                task: "Photos".into(),
                step: StepKind::Backup,
                at,
            },
            RunEvent::Progress {
                run_id: 7,
                task: "Photos".into(),
                step: StepKind::Backup,
                progress: Progress {
                    bytes: 10,
                    percent: Some(50),
                    ..Progress::default()
                },
            },
        ];
        for e in &events {
            apply_event(&mut state, e);
        }
        let s = state.clone().unwrap();
        assert_eq!(s.tasks[0].status, Some(Status::Running));
        assert_eq!(s.tasks[0].current_step(), Some(StepKind::Backup));
        assert_eq!(s.tasks[0].progress.as_ref().unwrap().percent, Some(50));
        assert_eq!(s.tasks[1].status, None, "Music waits");

        for i in 0..(LOG_TAIL + 5) {
            apply_event(
                &mut state,
                &RunEvent::Log {
                    run_id: 7,
                    task: Some("Photos".into()),
                    step: Some(StepKind::Backup),
                    level: LogLevel::Info,
                    line: format!("line {i}"),
                },
            );
        }
        apply_event(
            &mut state,
            &RunEvent::RunFinished {
                run_id: 7,
                status: Status::Success,
                at,
            },
        );
        let s = state.unwrap();
        assert_eq!(s.log_tail.len(), LOG_TAIL);
        assert_eq!(s.log_count, (LOG_TAIL + 5) as u64);
        assert_eq!(
            s.log_tail.back().unwrap().line,
            format!("line {}", LOG_TAIL + 4)
        );
        assert!(!s.is_running());
    }
}
