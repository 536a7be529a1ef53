//! The exit codes of the subcommands (SPEC §10; `mnemosynce run --help` lists them).
//!
//! 0 is success; the others say what kind of trouble stopped the command, so scripts can tell a
//! warning from a failure, a configuration error and a run already in progress.

/// Some task finished with a warning.
pub const EXIT_WARNING: u8 = 1;
/// Something failed.
pub const EXIT_FAILURE: u8 = 2;
/// The configuration cannot be used (or names no such task).
pub const EXIT_CONFIG: u8 = 3;
/// Another run is active.
pub const EXIT_BUSY: u8 = 4;
