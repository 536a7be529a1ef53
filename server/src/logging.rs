//! Console logging with `tracing`: readable lines by default, JSON lines with `--log-format json`
//! (or `MNEMOSYNCE_LOG_FORMAT=json`). The level comes from `RUST_LOG` (default `info`).
//!
//! Under systemd (`JOURNAL_STREAM` set: stderr goes to the journal) the readable lines carry no
//! time and no colours: journald stamps every line itself, so the journal shows one time, not two.

use crate::cli::LogFormat;
use tracing_subscriber::EnvFilter;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let journal = std::env::var_os("JOURNAL_STREAM").is_some();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match (format, journal) {
        (LogFormat::Text, false) => builder.init(),
        (LogFormat::Text, true) => builder.without_time().with_ansi(false).init(),
        (LogFormat::Json, _) => builder.json().flatten_event(true).init(),
    }
}
