//! `GET /api/feed`: one browser tab's live WebSocket (SPEC §9.2).
//!
//! Per connection: `Hello` (or `Resumed` plus the missed events, for `?since=N`), then batches of
//! events at most every [`BATCH_EVERY`], and a `Heartbeat` every [`HEARTBEAT`]. A connection that
//! falls behind the hub's channel is resynchronised with a fresh `Hello`; one whose socket stops
//! draining is dropped after [`SEND_TIMEOUT`]. A feed lives no longer than its session: sign-out and
//! a new password close it at once (`auth::session::SessionEnd`), and every heartbeat re-reads the
//! session from the store (so `mnemosynce passwd` and expiry end it within [`HEARTBEAT`]).

use super::hub::Start;
use crate::auth::session::{SessionEnd, SESSION_ADMIN};
use crate::state::AppState;
use axum::{
    extract::{
        ws::{Message, WebSocket, WebSocketUpgrade},
        ConnectInfo, Query, State,
    },
    response::Response,
};
use chrono::Utc;
use engine::model::feed::{ActiveRun, FeedMessage};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::broadcast;

/// How often an idle feed says it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// Events are sent in batches at most this often (about ten messages a second).
pub const BATCH_EVERY: Duration = Duration::from_millis(100);
/// A socket that accepts nothing for this long is closed.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

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
                && record.data.get(SESSION_ADMIN) == Some(&serde_json::Value::Bool(true))
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
                    Ok(SessionEnd::All) => true,
                    Ok(SessionEnd::One(id)) => Some(id) == session,
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
