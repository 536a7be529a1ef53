//! The app's pages. Snapshots is a frame for now; it fills in as the engine's features reach the web
//! app.

use leptos::prelude::*;

pub mod auth;
pub mod config;
pub mod connections;
pub mod dashboard;
pub mod email;
pub mod history;
pub mod keys;
pub mod parts;
pub mod retention;
pub mod run;
pub mod schedule;
pub mod settings;
pub mod wizard;
pub mod yaml;
pub use auth::{ChangePassword, Login, Setup};
pub use config::ConfigPage;
pub use connections::ConnectionsPage;
pub use dashboard::Dashboard;
pub use email::EmailPage;
pub use history::History;
pub use keys::KeysPage;
pub use retention::RetentionPage;
pub use run::Run;
pub use schedule::SchedulePage;
pub use settings::Settings;
pub use wizard::Wizard;

/// The snapshots of each task.
#[component]
pub fn Snapshots() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Snapshots"</h1>
            <p class="empty">"No snapshots yet."</p>
        </section>
    }
}

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
