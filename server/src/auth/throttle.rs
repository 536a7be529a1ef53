//! Sign-in attempts per client address (SPEC §11).
//!
//! Attempts are counted *before* the password is checked, so a burst of parallel guesses cannot
//! all pass the gate while the first checks are still running: after [`MAX_FAILURES`] attempts
//! within [`FAILURE_WINDOW`] (a success clears them) the answer is `429 Too Many Requests` with
//! `Retry-After`. Separately, at most [`CONCURRENT_CHECKS`] password checks run at once, from all
//! clients together (the semaphore in `signin.rs`), so a burst neither multiplies the guesses nor
//! argon2's 19 MiB per check. The map is bounded against floods from many addresses.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Sign-in attempts allowed per client address within [`FAILURE_WINDOW`] (a success clears them).
pub const MAX_FAILURES: usize = 5;
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// Password checks running at once, whoever asks: each holds argon2id's 19 MiB for ~0.1 s, so a
/// burst costs at most this many blocks; a request beyond them is answered `429` at once.
pub const CONCURRENT_CHECKS: usize = 2;

/// Sign-in attempts per client address, counted before the password is checked, so a burst of
/// parallel guesses cannot all pass the gate while the first checks are still running.
#[derive(Debug, Default)]
pub struct Throttle {
    attempts: Mutex<HashMap<IpAddr, Vec<Instant>>>,
}

impl Throttle {
    /// Counts one attempt of `client`, or `Err(wait)` when it has used its [`MAX_FAILURES`] for
    /// this window. A successful sign-in clears the count ([`Throttle::clear`]).
    pub fn attempt(&self, client: IpAddr) -> Result<(), Duration> {
        let mut map = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        // Bounded: a flood from many addresses cannot grow the map without end.
        if map.len() > 10_000 {
            map.retain(|_, v| v.iter().any(|t| now.duration_since(*t) < FAILURE_WINDOW));
        }
        let list = map.entry(client).or_default();
        list.retain(|t| now.duration_since(*t) < FAILURE_WINDOW);
        if list.len() >= MAX_FAILURES {
            let oldest = list.iter().min().copied().unwrap_or(now);
            return Err(FAILURE_WINDOW.saturating_sub(now.duration_since(oldest)));
        }
        list.push(now);
        Ok(())
    }

    pub fn clear(&self, client: IpAddr) {
        let mut map = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&client);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_attempts_a_minute_then_wait() {
        let t = Throttle::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..MAX_FAILURES {
            assert!(t.attempt(ip).is_ok());
        }
        let wait = t.attempt(ip).expect_err("blocked after five attempts");
        assert!(wait <= FAILURE_WINDOW && wait > Duration::from_secs(50));
        assert!(
            t.attempt("192.0.2.2".parse().unwrap()).is_ok(),
            "per address"
        );
        t.clear(ip);
        assert!(t.attempt(ip).is_ok());
    }
}
