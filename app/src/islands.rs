//! The interactive parts of the pages: Leptos islands, the only components built to WASM.
//!
//! Everything else renders on the server only. An island hydrates on its own, with its props
//! serialised into the page and no context from the page around it (the feed is the tab's
//! [`FeedState::shared`]). The small islands live beside their pages (the dashboard's live banner,
//! the run page's live steps, log and *Cancel*); the page-wide ones are here. The header's tools and
//! the small islands are in the first WASM every page loads; the settings pages and the setup wizard
//! are one *lazy* island: built with `cargo leptos build --release --split` (what `scripts/run` and
//! `scripts/test` do), its code is a chunk of its own, fetched only by those pages. The routes that
//! show them are in `routes.rs`.

use crate::feed::{ActiveRunLink, FeedIndicator, FeedState};
use crate::navigation::IslandRoot;
use crate::{pages, theme};
use engine::model::setup::Readiness;
use leptos::prelude::*;

/// The header's tools: on signed-in pages the feed indicator and the run in progress (a link to
/// it), then the theme switch. The first island of every page: it connects the tab's feed once
/// signed in (and closes it on the sign-in pages), tells the navigation that the WASM is live, and
/// registers the service worker (server/public/sw.js), which keeps the app shell for the offline
/// page; browsers allow it on localhost and over HTTPS only. Navigation keeps this island (same
/// props) from page to page; signing in or out swaps it for one with the other `signed_in`.
#[island]
pub fn TopTools(signed_in: bool) -> impl IntoView {
    let feed = FeedState::shared();
    // An island's body runs in the browser once, as it hydrates: no effect needed.
    #[cfg(feature = "hydrate")]
    {
        if signed_in {
            feed.connect();
        } else {
            feed.disconnect();
        }
        crate::navigation::mark_live();
        if let Some(window) = web_sys::window() {
            if window.is_secure_context() {
                let _ = window.navigator().service_worker().register("/sw.js");
            }
        }
    }
    let live = signed_in.then(|| view! { <ActiveRunLink state=feed/> <FeedIndicator state=feed/> });
    view! { <IslandRoot>{live} <theme::ThemeToggle/></IslandRoot> }
}

/// Wraps a lazy page in a `div` whose `data-hydrated` turns `true` once the page is live in the
/// browser. A lazy island hydrates a moment after the page has loaded (its chunk loads first);
/// until then its fields are shown dimmed and do not take input (style/main.css), so nothing typed
/// into the server-rendered page is lost, and the browser tests wait for the flag.
fn hydration_marked(page: AnyView) -> impl IntoView {
    let live = RwSignal::new(false);
    Effect::new(move |_| live.set(true));
    view! {
        <IslandRoot>
            <div class="lazy-page" data-hydrated=move || live.get().to_string()>{page}</div>
        </IslandRoot>
    }
}

/// The pages an owner opens now and then, all behind one lazy island. The wizard carries what the
/// server read for it: the step its address asks for (`?step=`; islands have no router) and where
/// the setup stands.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SettingsPage {
    Config,
    Keys,
    Connections,
    Schedule,
    Email,
    Retention,
    Wizard {
        step: Option<String>,
        readiness: Readiness,
    },
}

/// The settings pages and the setup wizard: one lazy island for all of them. One chunk, not one
/// each: code that two lazy chunks share (the server-function client, forms, async views) would
/// otherwise move into the first WASM every page loads.
#[island(lazy)]
pub fn SettingsIsland(page: SettingsPage) -> impl IntoView {
    let page = match page {
        SettingsPage::Config => view! { <pages::ConfigPage/> }.into_any(),
        SettingsPage::Keys => view! { <pages::KeysPage/> }.into_any(),
        SettingsPage::Connections => view! { <pages::ConnectionsPage/> }.into_any(),
        SettingsPage::Schedule => view! { <pages::SchedulePage/> }.into_any(),
        SettingsPage::Email => view! { <pages::EmailPage/> }.into_any(),
        SettingsPage::Retention => view! { <pages::RetentionPage/> }.into_any(),
        SettingsPage::Wizard { step, readiness } => {
            view! { <pages::Wizard step readiness/> }.into_any()
        }
    };
    hydration_marked(page)
}
