//! Messages of the live run feed (`/api/feed`), sent by the server as JSON text frames and decoded by
//! the WASM client with these same types.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One message from the server to a browser tab.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum FeedMessage {
    /// First message on every connection: who is talking and what is going on right now.
    Hello {
        /// The server's version (`model::VERSION` on the server side).
        version: String,
        server_time: DateTime<Utc>,
        /// Sequence number of the newest event the server has published; the events that follow
        /// count up from here, so a client can tell when it missed some.
        seq: u64,
        /// The run in progress, if any.
        active_run: Option<ActiveRun>,
    },
    /// Sent every few seconds so the client knows the link is alive.
    Heartbeat {
        server_time: DateTime<Utc>,
        seq: u64,
    },
}

impl FeedMessage {
    /// The sequence number the message carries.
    pub fn seq(&self) -> u64 {
        match self {
            FeedMessage::Hello { seq, .. } | FeedMessage::Heartbeat { seq, .. } => *seq,
        }
    }
}

/// A run that is in progress when a client connects.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActiveRun {
    pub run_id: i64,
    pub started_at: DateTime<Utc>,
    /// The tasks of the run, in config order.
    pub tasks: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_tagged_json_that_round_trips() {
        let t = DateTime::parse_from_rfc3339("2026-11-26T02:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap();
        let hello = FeedMessage::Hello {
            version: "0.1.0".into(),
            server_time: t,
            seq: 1,
            active_run: None,
        };
        let text = serde_json::to_string(&hello).unwrap();
        assert!(text.contains(r#""type":"Hello""#), "{text}");
        assert_eq!(serde_json::from_str::<FeedMessage>(&text).unwrap(), hello);
    }
}
