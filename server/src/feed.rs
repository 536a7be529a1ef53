//! `/api/feed`: the live WebSocket of each browser tab (SPEC §9.2), and [`FeedHub`], where the engine's
//! run events are published.
//!
//! Publishing never waits on a browser: [`FeedHub::publish`] is a short, synchronous critical section
//! (number the event, fold it into the state, keep it in a ring of recent events, hand it to a bounded
//! `tokio::sync::broadcast`). Each connection has its own task reading from the broadcast; one that
//! falls behind by more than the channel holds is resynchronised with a fresh `Hello`, and one whose
//! socket stops draining is dropped after [`SEND_TIMEOUT`]. So a stalled tab costs at most one channel's
//! worth of memory and never slows a backup.
//!
//! Per connection: `Hello` (or `Resumed` plus the missed events, for `?since=N`), then batches of
//! events at most every [`BATCH_EVERY`], and a `Heartbeat` every [`HEARTBEAT`]. A feed lives no
//! longer than its session: sign-out and a new password close it at once (`auth::SessionEnd`), and
//! every heartbeat re-reads the session from the store (so `mnemosynce passwd` and expiry end it
//! within [`HEARTBEAT`]). The message types are
//! [`engine::model::feed`]'s, decoded by the WASM client.

use crate::serve::AppState;
use axum::{
    extract::{
        ws::{Message, WebSocket, WebSocketUpgrade},
        ConnectInfo, Query, State,
    },
    response::Response,
};
use chrono::Utc;
use engine::model::events::RunEvent;
use engine::model::feed::{apply_event, ActiveRun, FeedMessage, Sequenced};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

/// How often an idle feed says it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// Events are sent in batches at most this often (about ten messages a second).
pub const BATCH_EVERY: Duration = Duration::from_millis(100);
/// A socket that accepts nothing for this long is closed.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
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

#[derive(Deserialize)]
pub struct FeedQuery {
    since: Option<u64>,
}

/// `GET /api/feed[?since=N]`: upgrades to a WebSocket (the session and Origin are checked by the
/// guards in `security.rs` before this runs).
pub async fn upgrade(
    ws: WebSocketUpgrade,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(query): Query<FeedQuery>,
    State(state): State<AppState>,
    session: tower_sessions::Session,
) -> Response {
    let session = session.id();
    ws.on_upgrade(move |socket| run_feed(socket, peer, query.since, state, session))
}

/// Whether the session a feed belongs to is still signed in (not signed out, not ended by a new
/// password, not expired), read from the store itself.
async fn still_signed_in(state: &AppState, id: Option<tower_sessions::session::Id>) -> bool {
    use tower_sessions::session_store::SessionStore;
    let Some(id) = id else {
        return false;
    };
    match state.session_store().load(&id).await {
        Ok(Some(record)) => {
            record.expiry_date > tower_sessions::cookie::time::OffsetDateTime::now_utc()
                && record.data.get(crate::auth::SESSION_ADMIN)
                    == Some(&serde_json::Value::Bool(true))
        }
        Ok(None) => false,
        // A database hiccup is not a sign-out; the next check decides.
        Err(_) => true,
    }
}

fn hello(seq: u64, state: Option<ActiveRun>) -> FeedMessage {
    FeedMessage::Hello {
        version: engine::model::VERSION.to_string(),
        server_time: Utc::now(),
        seq,
        active_run: state,
    }
}

async fn run_feed(
    socket: WebSocket,
    peer: SocketAddr,
    since: Option<u64>,
    state: AppState,
    session: Option<tower_sessions::session::Id>,
) {
    tracing::info!(%peer, ?since, "feed connected");
    let mut ends = state.session_ends.subscribe();
    let (mut tx, mut rx_ws) = socket.split();
    let hub = state.feed.clone();
    let (mut rx, start) = hub.subscribe(since);
    let mut sent = match start {
        Start::Fresh { seq, state } => {
            if send(&mut tx, &hello(seq, state)).await.is_err() {
                return;
            }
            seq
        }
        Start::Resume { since, missed } => {
            let resumed = FeedMessage::Resumed {
                version: engine::model::VERSION.to_string(),
                server_time: Utc::now(),
                seq: since,
            };
            if send(&mut tx, &resumed).await.is_err() {
                return;
            }
            let last = missed.last().map(|e| e.seq).unwrap_or(since);
            for chunk in missed.chunks(500) {
                let events = chunk.iter().map(|e| (**e).clone()).collect();
                if send(&mut tx, &FeedMessage::Events { events })
                    .await
                    .is_err()
                {
                    return;
                }
            }
            last
        }
    };

    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.tick().await; // immediate; the first message already said we are alive
    let mut batch = tokio::time::interval(BATCH_EVERY);
    batch.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let reason = loop {
        tokio::select! {
            _ = batch.tick() => {
                let mut events = Vec::new();
                let mut lagged = false;
                loop {
                    match rx.try_recv() {
                        Ok(e) if e.seq > sent => events.push((*e).clone()),
                        Ok(_) => {}
                        Err(broadcast::error::TryRecvError::Lagged(_)) => { lagged = true; break; }
                        Err(_) => break,
                    }
                    if events.len() >= 1000 { break; }
                }
                if lagged {
                    // Too far behind: start over from the current state.
                    let (fresh_rx, start) = hub.subscribe(None);
                    rx = fresh_rx;
                    if let Start::Fresh { seq, state } = start {
                        if send(&mut tx, &hello(seq, state)).await.is_err() { break "send failed"; }
                        sent = seq;
                    }
                    continue;
                }
                if let Some(last) = events.last().map(|e| e.seq) {
                    if send(&mut tx, &FeedMessage::Events { events }).await.is_err() {
                        break "send failed or too slow";
                    }
                    sent = last;
                }
            }
            _ = heartbeat.tick() => {
                // Also catches a session ended by another process (`mnemosynce passwd`) or expired.
                if !still_signed_in(&state, session).await {
                    close(&mut tx, "session ended").await;
                    break "session ended";
                }
                let beat = FeedMessage::Heartbeat { server_time: Utc::now(), seq: sent };
                if send(&mut tx, &beat).await.is_err() {
                    break "send failed or too slow";
                }
            }
            end = ends.recv() => {
                let ended = match end {
                    Ok(crate::auth::SessionEnd::All) => true,
                    Ok(crate::auth::SessionEnd::One(id)) => Some(id) == session,
                    Err(broadcast::error::RecvError::Lagged(_)) => !still_signed_in(&state, session).await,
                    Err(broadcast::error::RecvError::Closed) => false,
                };
                if ended {
                    close(&mut tx, "signed out").await;
                    break "session ended";
                }
            }
            incoming = rx_ws.next() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break "client left",
                Some(Ok(_)) => {}
            },
            _ = state.shutdown.cancelled() => {
                let _ = tokio::time::timeout(Duration::from_secs(1), tx.send(Message::Close(None))).await;
                break "server shutting down";
            }
        }
    };
    tracing::info!(%peer, reason, "feed disconnected");
}

/// Closes the socket because its session ended (code 4401, so the page knows to sign in again).
async fn close<S>(tx: &mut S, why: &'static str)
where
    S: futures_util::Sink<Message> + Unpin,
{
    let frame = axum::extract::ws::CloseFrame {
        code: 4401,
        reason: why.into(),
    };
    let _ =
        tokio::time::timeout(Duration::from_secs(1), tx.send(Message::Close(Some(frame)))).await;
}

/// Sends one message; fails when the socket is closed or accepts nothing for [`SEND_TIMEOUT`].
async fn send<S>(tx: &mut S, msg: &FeedMessage) -> Result<(), ()>
where
    S: futures_util::Sink<Message> + Unpin,
{
    let text = serde_json::to_string(msg).map_err(|_| ())?;
    match tokio::time::timeout(SEND_TIMEOUT, tx.send(Message::Text(text.into()))).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::model::events::{LogLevel, Trigger};

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
