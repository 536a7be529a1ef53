//! Sign-in for the single admin (SPEC §9.1, §11).
//!
//! - [`password`]: the argon2id hash in the database's `settings` table; setting it ends every
//!   session. The CLI's `passwd` uses this file alone, never the HTTP side.
//! - [`setup_code`]: the one-time code of the first start (`<data>/setup-code`, mode 0600).
//! - [`throttle`]: sign-in attempts per client address, counted before the password is checked.
//! - [`signin`]: [`signin::Auth`], what sign-in needs at run time (seeded at server start).
//! - [`session`]: the session keys, expiry and table, and [`session::SessionEnd`] for the feeds.
//! - [`next`]: `next=` targets that never leave the site.
//! - [`handlers`]: the HTTP forms `/auth/{login,setup,logout,password}`.
//!
//! Layering: every file here but `handlers` is below `crate::state`; `handlers` reads the
//! `AppState` and nothing here reads `handlers`. Errors reach the browser as a fixed code in the
//! query string (`/login?error=wrong`), never as reflected text.

pub mod handlers;
pub mod next;
pub mod password;
pub mod session;
pub mod setup_code;
pub mod signin;
pub mod throttle;
