//! `mnemosynce serve`: opens what the server holds, then listens until a stop signal.
//!
//! Start: the data directory, the site (`--site`, else the one packed into a release binary,
//! `embedded_site.rs`, else the build's `target/site`), the database and its session table, sign-in
//! (`auth/signin.rs`), the feed hub, the run manager and the scheduler, gathered in the `AppState`
//! (`state.rs`) that the router (`routes.rs`) serves. Listening: HTTP, or HTTPS with rustls under
//! `--tls-cert/--tls-key`. SIGTERM or Ctrl-C stops accepting connections, cancels the active run
//! (given 8 s to record itself *cancelled*), closes the feeds and returns.

use crate::auth::password::AuthError;
use crate::auth::session::SESSIONS_TABLE;
use crate::auth::signin::Auth;
use crate::cli::{Cli, ServeArgs};
use crate::feed::hub::FeedHub;
use crate::hosts::AllowedHosts;
use crate::routes::router;
use crate::runs::RunManager;
use crate::scheduler::Scheduler;
use crate::state::AppState;
use axum::Router;
use engine::data_dir::DataDir;
use engine::history::History;
use leptos::prelude::*;
use std::sync::Arc;
use std::time::Instant;
use tokio_util::sync::CancellationToken;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions_sqlx_store::SqliteStore;

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot read the site configuration: {0}")]
    Config(String),
    #[error("{0} (pass another one with --data DIR)")]
    DataDir(#[from] engine::data_dir::CreateError),
    #[error(
        "cannot listen on {0}: {1} (is another server running there? pick another with --addr)"
    )]
    Bind(std::net::SocketAddr, std::io::Error),
    #[error("the server stopped: {0}")]
    Serve(std::io::Error),
    #[error("cannot open the database: {0}")]
    History(#[from] engine::history::HistoryError),
    #[error("cannot start the scheduler: {0}")]
    Scheduler(String),
    #[error("cannot prepare the session store: {0}")]
    Sessions(String),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Site(#[from] crate::embedded_site::UnpackError),
    #[error("cannot use the TLS certificate {} and key {}: {error} (both must be PEM files readable by this user; the certificate file may hold the whole chain)", cert.display(), key.display())]
    Tls {
        cert: std::path::PathBuf,
        key: std::path::PathBuf,
        error: String,
    },
}

pub async fn serve(cli: &Cli, args: &ServeArgs) -> Result<(), ServeError> {
    DataDir::new(&cli.data).create()?;

    let conf = get_configuration(None).map_err(|e| ServeError::Config(e.to_string()))?;
    let mut leptos_options = conf.leptos_options;
    leptos_options.site_addr = args.addr;
    // The site: --site, else the one inside the binary (a release), else the build's folder.
    let embedded = match &args.site {
        Some(_) => None,
        None => crate::embedded_site::unpack(&cli.data)?,
    };
    match embedded {
        Some(site) => {
            leptos_options.site_root = site.root.to_string_lossy().into_owned().into();
            if let Some(hash) = site.hash_file {
                // An absolute path: Leptos joins it to the binary's folder, which it then replaces.
                leptos_options.hash_file = hash.to_string_lossy().into_owned().into();
            }
        }
        None => {
            leptos_options.site_root =
                site_root(args.site.as_deref(), &leptos_options.site_root).into();
        }
    }
    leptos_options.hash_files = site_is_hashed(&leptos_options);

    let data = DataDir::new(&cli.data);
    let history = History::open(&data.database()).await?;
    let sessions = SqliteStore::new(history.pool().clone())
        .with_table_name(SESSIONS_TABLE)
        .map_err(ServeError::Sessions)?;
    sessions
        .migrate()
        .await
        .map_err(|e| ServeError::Sessions(e.to_string()))?;
    let auth = Auth::start(history.clone(), data.clone(), args.trust_proxy).await?;

    let shutdown = CancellationToken::new();
    let feed = Arc::new(FeedHub::new());
    let runs = Arc::new(RunManager::new(
        data.clone(),
        history.clone(),
        cli.config_path(),
        feed.clone(),
    ));
    let backend = app::api::backend::Backend {
        data: data.clone(),
        history: history.clone(),
        config_path: cli.config_path(),
        runs: runs.clone(),
    };
    let state = AppState {
        leptos_options: leptos_options.clone(),
        started: Instant::now(),
        feed,
        shutdown: shutdown.clone(),
        auth: Arc::new(auth),
        backend,
        runs: runs.clone(),
        sessions: sessions.clone(),
        secure_cookies: args.trust_proxy || args.tls_cert.is_some(),
        tls: args.tls_cert.is_some(),
        allowed_hosts: AllowedHosts::new(args.addr, &args.allowed_hosts),
        session_ends: tokio::sync::broadcast::channel(16).0,
    };
    tracing::info!(names = ?state.allowed_hosts.names(), "answering to these host names (add more with --allowed-host)");
    tokio::spawn(delete_expired_sessions(sessions, shutdown.clone()));
    let app = router(state);
    let scheduler = Scheduler::new(runs.clone(), history.clone(), cli.config_path());
    let mut clock = scheduler
        .start()
        .await
        .map_err(|e| ServeError::Scheduler(e.to_string()))?;
    let served = serve_app(app, cli, args, shutdown, runs, &leptos_options).await;
    let _ = clock.shutdown().await;
    served
}

/// Serves the router over HTTP, or HTTPS with `--tls-cert/--tls-key`, until SIGTERM/SIGINT.
async fn serve_app(
    app: Router,
    cli: &Cli,
    args: &ServeArgs,
    shutdown: CancellationToken,
    runs: Arc<RunManager>,
    leptos_options: &leptos::config::LeptosOptions,
) -> Result<(), ServeError> {
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        return serve_tls(app, args.addr, cert, key, &cli.data, shutdown, runs).await;
    }

    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| ServeError::Bind(args.addr, e))?;
    let local = listener.local_addr().map_err(ServeError::Serve)?;
    tracing::info!(addr = %local, data = %cli.data.display(), site = %leptos_options.site_root, "serving on http://{local}");
    crate::memory::trim_startup_heap();

    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown({
        let runs = runs.clone();
        async move {
            wait_for_signal().await;
            tracing::info!("shutting down");
            runs.cancel_all();
            shutdown.cancel();
        }
    })
    .await
    .map_err(ServeError::Serve)?;
    finish_runs(&runs).await;
    Ok(())
}

/// After a stop signal: lets the cancelled run stop its children and record itself as *cancelled*
/// (its `.incomplete/` kept for the next run) before the process exits, within the 10 s a service
/// manager usually grants.
async fn finish_runs(runs: &RunManager) {
    runs.cancel_all();
    if !runs.wait_idle(std::time::Duration::from_secs(8)).await {
        tracing::warn!(
            "the cancelled run did not finish within 8 s; the next start records it as interrupted"
        );
    }
}

/// HTTPS with rustls (ring), the same router.
async fn serve_tls(
    app: Router,
    addr: std::net::SocketAddr,
    cert: &std::path::Path,
    key: &std::path::Path,
    data: &std::path::Path,
    shutdown: CancellationToken,
    runs: Arc<RunManager>,
) -> Result<(), ServeError> {
    // One process-wide provider; a second install (tests) is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
        .await
        .map_err(|e| ServeError::Tls {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            error: e.to_string(),
        })?;
    // Bind first, so a busy port is reported like the plain server does.
    let listener = std::net::TcpListener::bind(addr).map_err(|e| ServeError::Bind(addr, e))?;
    let local = listener.local_addr().map_err(ServeError::Serve)?;
    listener.set_nonblocking(true).map_err(ServeError::Serve)?;
    tracing::info!(addr = %local, data = %data.display(), "serving on https://{local}");
    crate::memory::trim_startup_heap();
    let handle = axum_server::Handle::new();
    let on_signal = handle.clone();
    let stopping = runs.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        stopping.cancel_all();
        shutdown.cancel();
        on_signal.graceful_shutdown(Some(std::time::Duration::from_secs(5)));
    });
    axum_server::from_tcp_rustls(listener, config)
        .handle(handle)
        .serve(app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .await
        .map_err(ServeError::Serve)?;
    finish_runs(&runs).await;
    Ok(())
}

/// Whether the site's files carry content hashes in their names: hash.txt beside the binary (where
/// cargo-leptos writes it and Leptos reads it) names a script that is in the site. Decided from the
/// files, not from `LEPTOS_HASH_FILES` (which only cargo-leptos sets), so the binary started by hand
/// or by systemd serves the names its pages use; a hash.txt left over from an older build is ignored.
fn site_is_hashed(options: &leptos::config::LeptosOptions) -> bool {
    let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.to_path_buf()))
    else {
        return false;
    };
    let Ok(hashes) = std::fs::read_to_string(dir.join(options.hash_file.as_ref())) else {
        return false;
    };
    let js = hashes
        .lines()
        .find_map(|line| line.trim().strip_prefix("js:").map(str::trim));
    js.is_some_and(|hash| {
        std::path::Path::new(options.site_root.as_ref())
            .join(options.site_pkg_dir.as_ref())
            .join(format!("{}.{hash}.js", options.output_name))
            .is_file()
    })
}

/// The folder of the built site: `--site`, else the configured one (`target/site`) if it exists
/// relative to the working directory, else `site/` beside the binary's folder (so
/// `target/release/mnemosynce` finds `target/site` from any working directory).
fn site_root(flag: Option<&std::path::Path>, configured: &str) -> String {
    if let Some(site) = flag {
        return site.to_string_lossy().into_owned();
    }
    let configured_path = std::path::Path::new(configured);
    if configured_path.is_absolute() || configured_path.is_dir() {
        return configured.to_string();
    }
    let beside_binary = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent()?.parent().map(|target| target.join("site")))
        .filter(|p| p.is_dir());
    match beside_binary {
        Some(p) => p.to_string_lossy().into_owned(),
        None => {
            tracing::warn!(
                site = configured,
                "the built site (WASM, JS, CSS) is not there: pages render but will not come alive; \
                 build it with `cargo leptos build --release` or pass --site DIR"
            );
            configured.to_string()
        }
    }
}

/// Deletes expired sessions at start and every hour.
async fn delete_expired_sessions(store: SqliteStore, shutdown: CancellationToken) {
    loop {
        if let Err(e) = store.delete_expired().await {
            tracing::warn!("cannot delete expired sessions: {e}");
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(3600)) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

async fn wait_for_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
