//! The interactive parts of the pages: Leptos islands, the only components built to WASM.
//!
//! Everything else renders on the server only. An island hydrates on its own, with its props
//! serialised into the page and no context from the page around it (the feed is the tab's
//! [`FeedState::shared`]). The small islands live beside their pages (the dashboard's live banner,
//! the run page's live steps, log and *Cancel*); the page-wide ones are here. The header's tools and
//! the small islands are in the first WASM every page loads; the settings pages and the setup wizard
//! are one *lazy* island: built with `cargo leptos build --release --split` (what `scripts/run` and
//! `scripts/test` do), its code is a chunk of its own, fetched only by those pages, which the server
//! renders in full (readable before the chunk arrives, and without JavaScript). Every island opens with
//! [`Island::start`](crate::navigation::Island) so that client-side navigation can retire it. The
//! routes that show them are in `routes.rs`.

use crate::feed::{ActiveRunLink, FeedIndicator, FeedState};
use crate::navigation::{Island, IslandRoot};
use crate::{pages, theme};
use engine::model::setup::{Readiness, SetupStep};
use leptos::prelude::*;

/// The header's tools: on signed-in pages the feed indicator and the run in progress (a link to
/// it), then the theme switch. The first island of every page: it connects the tab's feed once
/// signed in (and closes it on the sign-in pages), tells the navigation that the WASM is live, and
/// registers the service worker (server/public/sw.js), which keeps the app shell for the offline
/// page; browsers allow it on localhost and over HTTPS only. Navigation keeps this island (same
/// props) from page to page; signing in or out swaps it for one with the other `signed_in`.
#[island]
pub fn TopTools(signed_in: bool) -> impl IntoView {
    let island = Island::start();
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
    view! { <IslandRoot island>{live} <theme::ThemeToggle/></IslandRoot> }
}

/// The pages an owner opens now and then, all behind one lazy island, each with what the server
/// read for it ([`pages::Panel`] says why it travels in the props).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum SettingsPage {
    /// A settings page: one panel in its frame.
    Page(pages::Panel),
    /// The setup wizard at a step (islands have no router: the server picked it from `?step=`).
    Wizard {
        step: SetupStep,
        readiness: Readiness,
        panel: Option<pages::Panel>,
    },
}

/// The settings pages and the setup wizard: one lazy island for all of them. One chunk, not one
/// each: code that two lazy chunks share (the server-function client, forms, async views) would
/// otherwise move into the first WASM every page loads. The server renders the page; the island
/// takes it over once its chunk has arrived, and its `div`'s `data-hydrated` turns `true` then (the
/// browser tests wait for it).
#[island(lazy)]
pub fn SettingsIsland(page: SettingsPage) -> impl IntoView {
    let island = Island::start();
    let body = match page {
        SettingsPage::Page(panel) => panel.page(),
        SettingsPage::Wizard {
            step,
            readiness,
            panel,
        } => view! { <pages::Wizard current=step readiness panel/> }.into_any(),
    };
    view! {
        <IslandRoot island>
            <div class="lazy-page" data-hydrated=move || island.live().to_string()>{body}</div>
        </IslandRoot>
    }
}
