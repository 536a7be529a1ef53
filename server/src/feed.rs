//! `/api/feed`: the live WebSocket of each browser tab (SPEC §9.2).
//!
//! On connect the server sends `Hello` (its version and time, the active run if any, and the current
//! sequence number), then a `Heartbeat` every [`HEARTBEAT`]. Messages are JSON text frames of
//! [`engine::model::feed::FeedMessage`], the type the WASM client decodes. A feed ends when the client
//! goes away or the server shuts down (so a graceful shutdown never waits on an open tab).

use crate::serve::AppState;
use axum::{
    extract::{
        ws::{Message, WebSocket, WebSocketUpgrade},
        ConnectInfo, State,
    },
    response::Response,
};
use chrono::Utc;
use engine::model::feed::FeedMessage;
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How often an idle feed says it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(5);

/// What all feeds share: the sequence number of the newest published event.
#[derive(Debug, Default)]
pub struct FeedHub {
    last_seq: AtomicU64,
}

impl FeedHub {
    pub fn new() -> FeedHub {
        FeedHub::default()
    }

    /// The sequence number of the newest event published so far.
    pub fn seq(&self) -> u64 {
        self.last_seq.load(Ordering::Acquire)
    }
}

/// `GET /api/feed`: upgrades to a WebSocket.
pub async fn upgrade(
    ws: WebSocketUpgrade,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    State(state): State<AppState>,
) -> Response {
    ws.on_upgrade(move |socket| run_feed(socket, peer, state))
}

async fn run_feed(socket: WebSocket, peer: SocketAddr, state: AppState) {
    tracing::info!(%peer, "feed connected");
    let (mut tx, mut rx) = socket.split();
    let hello = FeedMessage::Hello {
        version: engine::model::VERSION.to_string(),
        server_time: Utc::now(),
        seq: state.feed.seq(),
        active_run: None,
    };
    if send(&mut tx, &hello).await.is_err() {
        tracing::info!(%peer, "feed closed before hello");
        return;
    }
    let mut ticker = tokio::time::interval(HEARTBEAT);
    ticker.tick().await; // the first tick is immediate; Hello already said we are alive
    let reason = loop {
        tokio::select! {
            _ = ticker.tick() => {
                let beat = FeedMessage::Heartbeat { server_time: Utc::now(), seq: state.feed.seq() };
                if send(&mut tx, &beat).await.is_err() {
                    break "send failed";
                }
            }
            incoming = rx.next() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break "client left",
                Some(Ok(_)) => {}
            },
            _ = state.shutdown.cancelled() => {
                let _ = tx.send(Message::Close(None)).await;
                break "server shutting down";
            }
        }
    };
    tracing::info!(%peer, reason, "feed disconnected");
}

async fn send<S>(tx: &mut S, msg: &FeedMessage) -> Result<(), ()>
where
    S: futures_util::Sink<Message> + Unpin,
{
    let text = serde_json::to_string(msg).map_err(|_| ())?;
    tx.send(Message::Text(text.into())).await.map_err(|_| ())
}
