//! `GET /metrics`: the backups' figures ([`engine::metrics`]) and this process's own, in the
//! Prometheus text format.
//!
//! Never open: a signed-in browser may read it, and a scraper that sends `Authorization: Bearer
//! <token>` with the token in `metrics.token_file` (read at each request, so it can be rotated
//! without a restart; compared in constant time). Without a token file, only a session. The session
//! guard lets the path through (`security::is_public`) so that this check can accept either.
//! Process figures use the standard names (`process_cpu_seconds_total`,
//! `process_resident_memory_bytes`, …) read from `/proc/self`.

use crate::auth::session::is_signed_in;
use crate::state::AppState;
use app::api::backend::RunControl;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use engine::metrics::Exposition;
use subtle::ConstantTimeEq;

/// The content type of the text format.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

pub async fn metrics(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    headers: HeaderMap,
) -> Response {
    let config = engine::config::load_usable(&state.backend.config_path);
    let allowed = is_signed_in(&session).await
        || match (&config, bearer(&headers)) {
            (Ok(c), Some(sent)) => match &c.metrics.token_file {
                Some(file) => token_matches(file, sent),
                None => false,
            },
            _ => false,
        };
    if !allowed {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer realm=\"mnemosynce\"")],
            "sign in, or send the token of metrics.token_file as `Authorization: Bearer <token>`\n",
        )
            .into_response();
    }

    let mut out = Exposition::new();
    out.family(
        "mnemosynce_build_info",
        "gauge",
        "The version and commit of this server (always 1).",
    );
    out.sample(
        "mnemosynce_build_info",
        &[
            ("version", env!("CARGO_PKG_VERSION")),
            ("commit", env!("MNEMOSYNCE_COMMIT")),
        ],
        1.0,
    );
    out.family(
        "mnemosynce_config_ok",
        "gauge",
        "1 when the configuration file can be used, 0 when runs would fail on it.",
    );
    out.sample(
        "mnemosynce_config_ok",
        &[],
        f64::from(u8::from(config.is_ok())),
    );
    out.family(
        "mnemosynce_run_in_progress",
        "gauge",
        "1 while a run (backup or restore) is going.",
    );
    let running = state.runs.state().is_some_and(|r| r.is_running());
    out.sample(
        "mnemosynce_run_in_progress",
        &[],
        f64::from(u8::from(running)),
    );
    if let Ok(c) = &config {
        let tz = engine::config::resolve_timezone(c).unwrap_or(chrono_tz::UTC);
        if let Err(e) = engine::metrics::backup_metrics(
            &mut out,
            c,
            &state.backend.history,
            tz,
            chrono::Utc::now(),
        )
        .await
        {
            tracing::error!("metrics: cannot read the history: {e}");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot read the history: {e}\n"),
            )
                .into_response();
        }
    }
    process_metrics(&mut out);
    ([(header::CONTENT_TYPE, TEXT_FORMAT)], out.finish()).into_response()
}

/// The token of an `Authorization: Bearer …` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Whether `sent` is the token in `file` (its first line, surrounding spaces ignored). An empty or
/// unreadable file accepts nothing.
fn token_matches(file: &std::path::Path, sent: &str) -> bool {
    let Ok(text) = std::fs::read_to_string(file) else {
        tracing::warn!(file = %file.display(), "metrics.token_file cannot be read: scrapers are refused");
        return false;
    };
    let token = text.lines().next().unwrap_or("").trim();
    !token.is_empty() && bool::from(token.as_bytes().ct_eq(sent.as_bytes()))
}

/// The standard process metrics, from `/proc/self` (absent where it cannot be read).
fn process_metrics(out: &mut Exposition) {
    // SAFETY: sysconf only reads a system constant.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    // SAFETY: as above.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as f64;
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name (which may hold spaces), from field 3 (state) on.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<f64>().ok());
    if let (Some(user), Some(system)) = (field(14), field(15)) {
        if ticks > 0.0 {
            out.family(
                "process_cpu_seconds_total",
                "counter",
                "Total user and system CPU time spent in seconds.",
            );
            out.sample("process_cpu_seconds_total", &[], (user + system) / ticks);
        }
    }
    if let Some(vsize) = field(23) {
        out.family(
            "process_virtual_memory_bytes",
            "gauge",
            "Virtual memory size in bytes.",
        );
        out.sample("process_virtual_memory_bytes", &[], vsize);
    }
    if let Some(rss) = field(24) {
        out.family(
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
        );
        out.sample("process_resident_memory_bytes", &[], rss * page);
    }
    let boot = std::fs::read_to_string("/proc/stat").ok().and_then(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("btime "))
            .and_then(|v| v.trim().parse::<f64>().ok())
    });
    if let (Some(boot), Some(start)) = (boot, field(22)) {
        if ticks > 0.0 {
            out.family(
                "process_start_time_seconds",
                "gauge",
                "Start time of the process since unix epoch in seconds.",
            );
            out.sample("process_start_time_seconds", &[], boot + start / ticks);
        }
    }
    if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
        out.family(
            "process_open_fds",
            "gauge",
            "Number of open file descriptors.",
        );
        out.sample("process_open_fds", &[], dir.count() as f64);
    }
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        out.family(
            "process_max_fds",
            "gauge",
            "Maximum number of open file descriptors.",
        );
        out.sample("process_max_fds", &[], limit.rlim_cur as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_bearer_header_with_a_token_counts() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&h), None);
        h.insert(header::AUTHORIZATION, "Bearer ".parse().unwrap());
        assert_eq!(bearer(&h), None);
        h.insert(header::AUTHORIZATION, "bearer s3cret".parse().unwrap());
        assert_eq!(bearer(&h), Some("s3cret"));
    }

    #[test]
    fn the_token_is_the_first_line_of_its_file_and_an_empty_file_accepts_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "s3cret\n").unwrap();
        assert!(token_matches(&file, "s3cret"));
        assert!(!token_matches(&file, "s3cre"));
        std::fs::write(&file, "\n").unwrap();
        assert!(!token_matches(&file, ""));
        assert!(!token_matches(&dir.path().join("missing"), "s3cret"));
    }
}
