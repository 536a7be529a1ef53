//! The request guards every route goes through (SPEC §11), outermost first:
//!
//! 0. [`known_host`]: only names this server knows (`crate::hosts`) are served (`421` otherwise).
//! 1. [`headers`]: security headers on every response — a Content-Security-Policy (scripts only from
//!    this origin plus WASM, the one inline hydration script allowed by its per-response nonce;
//!    connections to this origin only, plus the reload socket under `cargo leptos watch`),
//!    `frame-ancestors 'none'`, `nosniff`, `Referrer-Policy: same-origin`, `Cache-Control: no-store`
//!    on everything but the static files, HSTS under `--tls-cert`.
//! 2. [`same_origin`]: every state-changing request (anything but GET/HEAD/OPTIONS, so server
//!    functions and the sign-in forms too) and every WebSocket upgrade must carry an `Origin` (or,
//!    failing that, a `Referer`) naming this very host; otherwise `403`.
//! 3. [`require_session`]: everything except the sign-in pages and their form posts, `/healthz` and the
//!    static assets needs a signed-in session. Pages redirect to `/login?next=…`; `/api/…` (server
//!    functions, the feed) answers `401`.

use crate::auth::next::{safe_next, urlencode};
use crate::auth::password::has_password;
use crate::auth::session::{is_signed_in, unix_now, SESSION_SEEN};
use crate::hosts::{host_part, request_authority};
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use leptos::nonce::Nonce;
use tower_sessions::Session;

/// Puts this request's nonce in the page's context (replacing the one leptos_axum would make), so the
/// inline scripts Leptos writes (hydration, resources, suspense) carry the value the CSP names.
pub fn provide_request_nonce() {
    if let Some(nonce) = leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|p| p.extensions.get::<Nonce>().cloned())
    {
        leptos::prelude::provide_context(nonce);
    }
}

/// Where the page may connect besides its own origin: under `cargo leptos watch` (which sets
/// `LEPTOS_WATCH`), the live-reload socket on its port; otherwise nowhere. Read once.
fn reload_sources() -> &'static str {
    static SOURCES: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SOURCES.get_or_init(|| {
        watch_sources(
            std::env::var_os("LEPTOS_WATCH").is_some(),
            std::env::var("LEPTOS_RELOAD_PORT").ok().as_deref(),
        )
    })
}

/// ` ws://*:PORT wss://*:PORT` in watch mode with a valid port, else nothing.
fn watch_sources(watch: bool, port: Option<&str>) -> String {
    match port.and_then(|p| p.parse::<u16>().ok()) {
        Some(port) if watch => format!(" ws://*:{port} wss://*:{port}"),
        _ => String::new(),
    }
}

/// The Content-Security-Policy of a response with this nonce.
pub fn content_security_policy(nonce: &str) -> String {
    let reload = reload_sources();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'nonce-{nonce}'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'{reload}; font-src 'self'; \
         manifest-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// Answers `421` to a request for a name this server does not know.
pub async fn known_host(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let authority = request_authority(req.uri(), req.headers(), state.auth.trust_proxy);
    match authority {
        Some(a) if state.allowed_hosts.allows(a) => next.run(req).await,
        other => {
            let shown: String = other
                .unwrap_or("(none)")
                .chars()
                .filter(|c| !c.is_control())
                .take(100)
                .collect();
            tracing::warn!(host = %shown, "refused: unknown host name (421)");
            (
                StatusCode::MISDIRECTED_REQUEST,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!(
                    "this server does not answer to the name {shown:?}; if it is yours, start it with `mnemosynce serve --allowed-host {}`\n",
                    host_part(&shown)
                ),
            )
                .into_response()
        }
    }
}

/// Adds the security headers; makes the nonce available to the page renderer. Pages and API
/// answers get `Cache-Control: no-store` (what a signed-in page shows must not outlive the session in
/// a cache). The site's build output (`/pkg/`), named after a hash of its content, is cached for a
/// year (`immutable`: a new build has new names); the other static files are revalidated on every
/// use (`no-cache`: a 304 when unchanged). Under `--tls-cert`, HSTS.
pub async fn headers(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let nonce = Nonce::new();
    req.extensions_mut().insert(nonce.clone());
    let asset = is_asset(req.uri().path());
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&content_security_policy(&nonce)) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    let cache = match asset {
        Asset::Hashed if state.leptos_options.hash_files => "public, max-age=31536000, immutable",
        Asset::Hashed | Asset::Named => "no-cache",
        Asset::No => "no-store",
    };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if state.tls {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    resp
}

/// The site's static files (WASM, JS, CSS, icons, manifest): the same for everyone, cacheable.
/// What kind of static file a path names, if any.
enum Asset {
    /// The site's build output: named after its content when the site was built with hashes.
    Hashed,
    /// A file of `server/public` under its own name.
    Named,
    No,
}

fn is_asset(path: &str) -> Asset {
    if path.starts_with("/pkg/") {
        Asset::Hashed
    } else if path.starts_with("/icons/")
        || matches!(
            path,
            "/favicon.ico"
                | "/manifest.webmanifest"
                | "/offline.html"
                | "/robots.txt"
                | "/nav.js"
                | "/sw.js"
        )
    {
        Asset::Named
    } else {
        Asset::No
    }
}

/// The `host[:port]` part of an `Origin` or `Referer` value.
fn authority_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&rest[..end])
}

/// Whether a request's `Origin` (or `Referer`) names the authority it was sent to (see
/// [`request_authority`]: HTTP/2's `:authority` counts, not only `Host`). `Err` says
/// why not.
pub fn check_origin(
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    trust_proxy: bool,
) -> Result<(), &'static str> {
    let host = request_authority(uri, headers, trust_proxy).ok_or("the request names no host")?;
    let claimed = match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(origin) if origin != "null" => authority_of(origin),
        _ => match headers.get(header::REFERER).and_then(|v| v.to_str().ok()) {
            Some(referer) => authority_of(referer),
            None => return Err("the request names no Origin or Referer"),
        },
    };
    match claimed {
        Some(a) if a.eq_ignore_ascii_case(host) => Ok(()),
        _ => Err("the request comes from another site"),
    }
}

/// Refuses cross-site state changes and WebSocket upgrades.
pub async fn same_origin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let upgrade = req.headers().contains_key(header::UPGRADE);
    if changes_state || upgrade {
        if let Err(why) = check_origin(req.uri(), req.headers(), state.auth.trust_proxy) {
            tracing::warn!(path = %req.uri().path(), method = %req.method(), "refused: {why}");
            return (StatusCode::FORBIDDEN, format!("refused: {why}")).into_response();
        }
    }
    next.run(req).await
}

/// Paths anyone may fetch: the sign-in pages and forms, the health check, and static assets; and
/// `/metrics`, which checks for itself (a session or its bearer token: `metrics.rs`).
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/login"
            | "/setup"
            | "/auth/login"
            | "/auth/setup"
            | "/healthz"
            | "/metrics"
            | "/favicon.ico"
            | "/manifest.webmanifest"
            | "/sw.js"
            | "/nav.js"
            | "/offline.html"
            | "/robots.txt"
    ) || path.starts_with("/pkg/")
        || path.starts_with("/icons/")
}

/// Keeps everything else behind sign-in.
pub async fn require_session(
    State(state): State<AppState>,
    session: Session,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    let signed_in = is_signed_in(&session).await;
    if is_public(&path) {
        // The sign-in pages send a signed-in admin home, and each other where the state requires.
        if req.method() == Method::GET && (path == "/login" || path == "/setup") {
            if signed_in {
                return Redirect::to("/").into_response();
            }
            match has_password(&state.auth.history).await {
                Ok(false) if path == "/login" => return Redirect::to("/setup").into_response(),
                Ok(true) if path == "/setup" => return Redirect::to("/login").into_response(),
                _ => {}
            }
        }
        return next.run(req).await;
    }
    if !signed_in {
        if path.starts_with("/api/") || req.method() != Method::GET {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::CONTENT_TYPE, "application/json")],
                app::api::ApiError::signed_out_body(),
            )
                .into_response();
        }
        let target = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let to = if target == "/" {
            "/login".to_string()
        } else {
            format!("/login?next={}", urlencode(&safe_next(Some(&target))))
        };
        return Redirect::to(&to).into_response();
    }
    // Reading a session does not extend it; a write every few minutes keeps an active one alive.
    let now = unix_now();
    let seen = session
        .get::<u64>(SESSION_SEEN)
        .await
        .ok()
        .flatten()
        .unwrap_or(0);
    if now.saturating_sub(seen) > 300 {
        let _ = session.insert(SESSION_SEEN, now).await;
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    fn check(h: &HeaderMap, trust_proxy: bool) -> Result<(), &'static str> {
        check_origin(&axum::http::Uri::from_static("/x"), h, trust_proxy)
    }

    #[test]
    fn http2_names_its_host_in_the_authority() {
        let uri: axum::http::Uri = "https://nas:3000/auth/login".parse().unwrap();
        let h = headers(&[("origin", "https://nas:3000")]);
        assert!(check_origin(&uri, &h, false).is_ok());
        let other = headers(&[("origin", "https://evil.example")]);
        assert!(check_origin(&uri, &other, false).is_err());
    }

    #[test]
    fn only_this_host_may_change_state() {
        let ok = headers(&[("host", "nas:3000"), ("origin", "http://nas:3000")]);
        assert!(check(&ok, false).is_ok());
        let referer = headers(&[
            ("host", "nas:3000"),
            ("referer", "https://nas:3000/history?x=1"),
        ]);
        assert!(check(&referer, false).is_ok());
        let other = headers(&[("host", "nas:3000"), ("origin", "http://evil.example")]);
        assert!(check(&other, false).is_err());
        let port = headers(&[("host", "nas:3000"), ("origin", "http://nas:3001")]);
        assert!(check(&port, false).is_err());
        let none = headers(&[("host", "nas:3000")]);
        assert!(check(&none, false).is_err());
        let null = headers(&[("host", "nas:3000"), ("origin", "null")]);
        assert!(check(&null, false).is_err());
        let proxied = headers(&[
            ("host", "127.0.0.1:3000"),
            ("x-forwarded-host", "backup.home.example"),
            ("origin", "https://backup.home.example"),
        ]);
        assert!(check(&proxied, true).is_ok());
        assert!(
            check(&proxied, false).is_err(),
            "X-Forwarded-Host only with --trust-proxy"
        );
    }

    #[test]
    fn the_policy_allows_wasm_and_the_nonce_only() {
        let csp = content_security_policy("abc");
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval' 'nonce-abc';"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("unsafe-inline"));
    }

    #[test]
    fn only_the_watch_opens_the_reload_port() {
        assert_eq!(watch_sources(false, Some("3001")), "");
        assert_eq!(watch_sources(true, None), "");
        assert_eq!(watch_sources(true, Some("x; script-src *")), "");
        assert_eq!(
            watch_sources(true, Some("3001")),
            " ws://*:3001 wss://*:3001"
        );
    }
}
