//! The interactive parts of the pages: Leptos islands, the only components built to WASM.
//!
//! Everything else renders on the server only. An island hydrates on its own, with its props
//! serialised into the page and no context from the page around it (the feed is the tab's
//! [`FeedState::shared`]). The header's tools are on every page, so they are in the first WASM the
//! browser loads; the settings pages and the setup wizard are *lazy* islands: built with
//! `cargo leptos build --release --split` (what `scripts/run` and `scripts/test` do), each is a chunk of
//! its own, fetched only by the page it is on.

use crate::feed::{FeedIndicator, FeedState};
use crate::{pages, theme};
use leptos::prelude::*;

/// The header's tools: the feed indicator (signed-in pages only), the theme switch. Also registers
/// the service worker (server/public/sw.js), which keeps the app shell for the offline page;
/// browsers allow it on localhost and over HTTPS only.
#[island]
pub fn TopTools(signed_in: bool) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    Effect::new(|_| {
        if let Some(window) = web_sys::window() {
            if window.is_secure_context() {
                let _ = window.navigator().service_worker().register("/sw.js");
            }
        }
    });
    let feed = signed_in.then(|| view! { <FeedIndicator state=FeedState::shared()/> });
    view! { {feed} <theme::ThemeToggle/> }
}

/// Wraps a lazy page in a `div` whose `data-hydrated` turns `true` once the page is live in the
/// browser. A lazy island hydrates a moment after the page has loaded (its chunk loads first);
/// until then its fields are shown dimmed and do not take input (style/main.css), so nothing typed
/// into the server-rendered page is lost, and the browser tests wait for the flag.
fn hydration_marked(page: AnyView) -> impl IntoView {
    let live = RwSignal::new(false);
    Effect::new(move |_| live.set(true));
    view! { <div class="lazy-page" data-hydrated=move || live.get().to_string()>{page}</div> }
}

/// A lazy island that renders one page component.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $island:ident => $page:path) => {
        $(#[$doc])*
        #[island(lazy)]
        pub fn $island() -> impl IntoView {
            hydration_marked($page().into_any())
        }
    };
}

lazy_page!(
    /// `/settings/config`
    ConfigIsland => pages::ConfigPage
);
lazy_page!(
    /// `/settings/keys`
    KeysIsland => pages::KeysPage
);
lazy_page!(
    /// `/settings/connections`
    ConnectionsIsland => pages::ConnectionsPage
);
lazy_page!(
    /// `/settings/schedule`
    ScheduleIsland => pages::SchedulePage
);
lazy_page!(
    /// `/settings/email`
    EmailIsland => pages::EmailPage
);
lazy_page!(
    /// `/settings/retention`
    RetentionIsland => pages::RetentionPage
);
lazy_page!(
    /// `/welcome`
    WizardIsland => pages::Wizard
);
