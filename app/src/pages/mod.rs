//! The app's pages, one file each; `parts` holds the pieces they share. The snapshot pages (and
//! their loaders in `api::snapshots`) are built for the server only: they have no islands of their
//! own (the Snapshots page uses the feed's empty `RefreshWhenRunEnds`), and
//! compiled into the browser's build (where nothing reaches them) they still grew its first
//! download by 20 KB gzip.

use leptos::prelude::*;

pub mod auth;
#[cfg(feature = "ssr")]
pub mod browse;
#[cfg(feature = "ssr")]
pub mod changes;
pub mod config;
pub mod connections;
pub mod dashboard;
pub mod email;
#[cfg(feature = "ssr")]
pub mod find;
pub mod history;
pub mod keys;
pub mod panel;
pub mod parts;
#[cfg(feature = "ssr")]
pub mod restore;
pub mod retention;
pub mod run;
pub mod schedule;
pub mod settings;
#[cfg(feature = "ssr")]
pub mod size_chart;
#[cfg(feature = "ssr")]
pub mod snapshots;
#[cfg(feature = "ssr")]
pub mod versions;
pub mod wizard;
pub mod yaml;
pub use auth::{ChangePassword, Login, Setup};
#[cfg(feature = "ssr")]
pub use browse::Browse;
#[cfg(feature = "ssr")]
pub use changes::Changes;
pub use dashboard::Dashboard;
#[cfg(feature = "ssr")]
pub use find::Find;
pub use history::History;
pub use panel::{Panel, PanelKind};
#[cfg(feature = "ssr")]
pub use restore::Restore;
pub use run::Run;
pub use settings::Settings;
#[cfg(feature = "ssr")]
pub use snapshots::Snapshots;
#[cfg(feature = "ssr")]
pub use versions::Versions;
pub use wizard::Wizard;

/// Any path that is not a page.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
            resp.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <section class="page">
            <h1>"Not found"</h1>
            <p>"There is no page here. " <a href="/">"Go to the dashboard"</a></p>
        </section>
    }
}
