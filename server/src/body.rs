//! Response bodies fed by a blocking thread: [`channel_body`] turns the receiving end of a small
//! bounded channel into a streamed body. The thread (a file read, an archive written) blocks when
//! the client reads slowly and sees the channel closed when the client goes away, so a download's
//! memory is the channel's few chunks whatever its size. An `Err` item ends the body early: the
//! client sees a failed transfer, never a complete-looking truncated one.

use axum::body::{Body, Bytes};
use std::io;
use tokio::sync::mpsc;

/// Chunks in flight between the thread and the client.
pub const IN_FLIGHT: usize = 4;

/// The body the chunks of `rx` make, in order.
pub fn channel_body(rx: mpsc::Receiver<io::Result<Bytes>>) -> Body {
    Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    }))
}
