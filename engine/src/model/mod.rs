//! Domain types shared by the engine, the server and the WASM client.
//!
//! Nothing in this module touches the disk, the clock or the network, so it compiles for `wasm32` with
//! the engine's default features turned off. Every type that crosses the wire (the WebSocket feed, server
//! functions) is defined here once and used by both ends.

pub mod config;
pub mod connection;
pub mod diff;
pub mod events;
pub mod feed;
pub mod files;
pub mod overview;
pub mod report;
pub mod retention;
pub mod setup;
pub mod snapshot;
pub mod status;
pub mod units;

pub use status::Status;

/// The product version, as built (`CARGO_PKG_VERSION` of the workspace).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
