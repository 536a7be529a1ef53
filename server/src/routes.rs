//! The router: every path, its handler, and the guards around them (SPEC §9, §11).
//!
//! Routes: `/healthz` (no auth, `health.rs`), `/metrics` (a session or its bearer token,
//! `metrics.rs`), `/auth/{login,setup,logout,password}` (the sign-in
//! forms, `auth/handlers.rs`), `/api/feed` (the live WebSocket, `feed/socket.rs`), the page forms
//! `/runs/…` (start, restore, cancel) and `/setup/finish` (`actions.rs`), file downloads `/snapshots/download`
//! (`download.rs`) and folder archives `/snapshots/archive` (`archive.rs`), the Leptos pages and server functions, and as
//! fallback the static files of the built site. Every request passes the guards of `security.rs`
//! (known host, headers, same origin, session; outermost last in the `.layer` calls) and the
//! session cookie's layer (`HttpOnly`, `SameSite=Strict`, idle expiry). Separate from `serve.rs` so
//! tests can drive it without a socket.

use crate::auth::handlers as sign_in;
use crate::auth::session::IDLE_EXPIRY;
use crate::feed::socket as feed;
use crate::state::AppState;
use crate::{actions, archive, download, health, metrics, security};
use app::{shell, App};
use axum::http::{Extensions, HeaderMap, StatusCode, Version};
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tracing::Level;

/// Compression of what the server makes as it answers (pages, server functions, the 401/404
/// texts): brotli or gzip as the browser asks. Never for what is already compressed (the built
/// site's `.br`/`.gz` files, which the static handler serves as they are), for file downloads and
/// archives (bytes of a backup: `Range` must address them as stored, and photos do not shrink),
/// for a page that streams as it is searched (`X-Accel-Buffering: no`: the encoder would hold its
/// chunks back) or for the WebSocket's upgrade.
fn compression() -> CompressionLayer<impl Predicate> {
    let streamed = |_: StatusCode, _: Version, headers: &HeaderMap, _: &Extensions| {
        !headers.contains_key("x-accel-buffering")
    };
    let has_body = |status: StatusCode, _: Version, _: &HeaderMap, _: &Extensions| {
        status != StatusCode::SWITCHING_PROTOCOLS && status != StatusCode::NOT_MODIFIED
    };
    // Level 4 (brotli and gzip): most of the gain for a fraction of the CPU; brotli's top levels
    // are for files compressed once, like the precompressed site.
    CompressionLayer::new()
        .quality(CompressionLevel::Precise(4))
        .compress_when(
            DefaultPredicate::new()
                .and(NotForContentType::new("application/octet-stream"))
                .and(NotForContentType::new("application/zip"))
                .and(NotForContentType::new("application/gzip"))
                .and(streamed)
                .and(has_body),
        )
}

/// The router, separate from `serve` so tests can drive it without a socket.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let backend = state.backend.clone();
    let context = move || {
        security::provide_request_nonce();
        provide_context(backend.clone());
    };
    let sessions = SessionManagerLayer::new(state.session_store())
        .with_name("mnemosynce_session")
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_secure(state.secure_cookies)
        .with_expiry(Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::seconds(IDLE_EXPIRY.as_secs() as i64),
        ));
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(metrics::metrics))
        .route("/api/feed", get(feed::upgrade))
        .route("/auth/login", post(sign_in::login))
        .route("/auth/setup", post(sign_in::setup))
        .route("/auth/logout", post(sign_in::logout))
        .route("/auth/password", post(sign_in::change_password))
        .route("/runs/start", post(actions::start))
        .route("/runs/{id}/cancel", post(actions::cancel))
        .route("/runs/restore", post(actions::restore))
        .route("/setup/finish", post(actions::finish_setup))
        .route("/snapshots/download", get(download::download))
        .route("/snapshots/archive", get(archive::archive))
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, shell))
        .layer(compression())
        .layer(from_fn_with_state(state.clone(), security::require_session))
        .layer(from_fn_with_state(state.clone(), security::same_origin))
        .layer(sessions)
        .layer(from_fn_with_state(state.clone(), security::headers))
        .layer(from_fn_with_state(state.clone(), security::known_host))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}
