//! The live feed (SPEC §9.2): the engine's run events, pushed to every browser tab over a
//! WebSocket.
//!
//! Publishing never waits on a browser: [`hub::FeedHub::publish`] is a short, synchronous critical
//! section, and each connection has its own task reading from a bounded broadcast. A tab that
//! falls behind is resynchronised with a fresh `Hello`; one whose socket stops draining is dropped
//! after [`socket::SEND_TIMEOUT`]. So a stalled tab costs at most one channel's worth of memory and
//! never slows a backup. A feed lives no longer than its session. The message types are
//! [`engine::model::feed`]'s, decoded by the WASM client.
//!
//! [`hub`] is where events are published (below `crate::state`, which holds one); [`socket`] is the
//! `/api/feed` handler, which reads the `AppState`.

pub mod hub;
pub mod socket;
