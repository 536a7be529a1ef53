//! What the engine's and the server's tests share (a dev-dependency of both, never of the product).
//!
//! - [`Sshd`]: `scripts/fixtures/sshd`, a real OpenSSH server on a free loopback port;
//! - [`Smtpd`] and [`Certs`]: `scripts/fixtures/smtpd`, a real SMTP server (STARTTLS, TLS, plain,
//!   or one that never answers) and a CA + server certificate for it;
//! - [`Rng`]: a small seeded generator, so a failing random test can be replayed from its seed.
//!
//! Invariants: every process started here is owned by its guard from the moment it is spawned and
//! is stopped by PID when the guard drops (a failed start included); nothing listens beyond
//! 127.0.0.1 / ::1. Panics are fine here: this is test code, and a panic names what failed.

mod rng;
mod smtpd;
mod sshd;

pub use rng::Rng;
pub use smtpd::{Certs, Smtpd};
pub use sshd::Sshd;

use std::path::PathBuf;

/// The repository's `scripts/fixtures/NAME`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/fixtures"
    ))
    .join(name)
}

/// The user the tests run as (the login name the sshd fixture accepts).
pub fn user() -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "root".into())
}
