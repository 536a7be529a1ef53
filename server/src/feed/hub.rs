//! [`FeedHub`]: where the engine's run events are published, numbered and kept for the feeds.
//!
//! [`FeedHub::publish`] is a short, synchronous critical section (number the event, fold it into
//! the state, keep it in a ring of the last [`RING`] events, hand it to a bounded
//! `tokio::sync::broadcast` of [`CHANNEL`]), so publishing never waits on a browser. A new
//! connection subscribes under the same lock ([`FeedHub::subscribe`]): it starts with the full
//! state, or with the events it missed when the ring still holds them all. The connections
//! themselves are `socket.rs`'s.

use engine::model::events::RunEvent;
use engine::model::feed::{apply_event, ActiveRun, Sequenced};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// Events kept for clients that reconnect with `?since=`.
pub const RING: usize = 4096;
/// Events a connection may fall behind before it is resynchronised.
pub const CHANNEL: usize = 1024;

struct Inner {
    seq: u64,
    state: Option<ActiveRun>,
    ring: VecDeque<Arc<Sequenced>>,
}

/// Where run events are published and feeds subscribe.
pub struct FeedHub {
    inner: Mutex<Inner>,
    tx: broadcast::Sender<Arc<Sequenced>>,
}

impl Default for FeedHub {
    fn default() -> Self {
        FeedHub::new()
    }
}

impl std::fmt::Debug for FeedHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedHub").field("seq", &self.seq()).finish()
    }
}

/// How a new connection starts.
pub enum Start {
    Fresh {
        seq: u64,
        state: Option<ActiveRun>,
    },
    Resume {
        since: u64,
        missed: Vec<Arc<Sequenced>>,
    },
}

impl FeedHub {
    pub fn new() -> FeedHub {
        let (tx, _) = broadcast::channel(CHANNEL);
        FeedHub {
            inner: Mutex::new(Inner {
                seq: 0,
                state: None,
                ring: VecDeque::new(),
            }),
            tx,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The sequence number of the newest event published so far.
    pub fn seq(&self) -> u64 {
        self.lock().seq
    }

    /// The current run state (the active run, or the last one).
    pub fn state(&self) -> Option<ActiveRun> {
        self.lock().state.clone()
    }

    /// Publishes one event to every feed. Never blocks on a client.
    pub fn publish(&self, event: RunEvent) {
        let mut inner = self.lock();
        inner.seq += 1;
        apply_event(&mut inner.state, &event);
        let item = Arc::new(Sequenced {
            seq: inner.seq,
            event,
        });
        inner.ring.push_back(item.clone());
        while inner.ring.len() > RING {
            inner.ring.pop_front();
        }
        // No receivers is fine: nobody is watching.
        let _ = self.tx.send(item);
    }

    /// Subscribes a connection and says how it starts: with the full state, or (for `since`) with the
    /// events it missed when the ring still holds them all. Taken under the lock, so nothing published
    /// in between is lost or doubled.
    pub fn subscribe(&self, since: Option<u64>) -> (broadcast::Receiver<Arc<Sequenced>>, Start) {
        let inner = self.lock();
        let rx = self.tx.subscribe();
        if let Some(since) = since {
            let oldest = inner.ring.front().map(|e| e.seq).unwrap_or(inner.seq + 1);
            if since <= inner.seq && (since + 1 >= oldest || since == inner.seq) {
                let missed = inner
                    .ring
                    .iter()
                    .filter(|e| e.seq > since)
                    .cloned()
                    .collect();
                return (rx, Start::Resume { since, missed });
            }
        }
        (
            rx,
            Start::Fresh {
                seq: inner.seq,
                state: inner.state.clone(),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use engine::model::events::{LogLevel, Trigger};
    use std::time::Duration;

    fn log(run_id: i64, line: &str) -> RunEvent {
        RunEvent::Log {
            run_id,
            task: None,
            step: None,
            level: LogLevel::Info,
            line: line.into(),
        }
    }

    #[test]
    fn a_subscriber_that_never_reads_never_blocks_publishing() {
        let hub = FeedHub::new();
        let (mut idle, _) = hub.subscribe(None);
        let started = std::time::Instant::now();
        for i in 0..100_000 {
            hub.publish(log(1, &format!("{i}")));
        }
        // Publishing does not wait for the idle subscriber (it is a few µs an event, not a stall)...
        assert!(started.elapsed() < Duration::from_secs(20));
        // ...which, when it finally looks, is told it lagged (and the feed then resynchronises).
        assert!(matches!(
            idle.try_recv(),
            Err(broadcast::error::TryRecvError::Lagged(_))
        ));
        assert_eq!(hub.seq(), 100_000);
    }

    #[test]
    fn a_reconnect_gets_what_it_missed_or_a_fresh_state() {
        let hub = FeedHub::new();
        hub.publish(RunEvent::RunStarted {
            run_id: 1,
            trigger: Trigger::Manual,
            tasks: vec!["A".into()],
            at: Utc::now(),
        });
        for i in 0..10 {
            hub.publish(log(1, &format!("{i}")));
        }
        assert_eq!(hub.seq(), 11);
        match hub.subscribe(Some(5)).1 {
            Start::Resume { since, missed } => {
                assert_eq!(since, 5);
                assert_eq!(
                    missed.iter().map(|e| e.seq).collect::<Vec<_>>(),
                    (6..=11).collect::<Vec<_>>()
                );
            }
            Start::Fresh { .. } => panic!("should resume"),
        }
        // Up to date: resume with nothing missed.
        assert!(
            matches!(hub.subscribe(Some(11)).1, Start::Resume { ref missed, .. } if missed.is_empty())
        );
        // From the future (a restarted server): fresh state.
        assert!(matches!(
            hub.subscribe(Some(99)).1,
            Start::Fresh { seq: 11, .. }
        ));
        // Too far behind for the ring: fresh state.
        for i in 0..RING {
            hub.publish(log(1, &format!("more {i}")));
        }
        match hub.subscribe(Some(3)).1 {
            Start::Fresh { seq, state } => {
                assert_eq!(seq, 11 + RING as u64);
                assert_eq!(state.unwrap().log_count, 10 + RING as u64);
            }
            Start::Resume { .. } => panic!("the ring no longer holds event 4"),
        }
    }
}
