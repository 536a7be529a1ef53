//! The interactive parts of the pages: Leptos islands, the only components built to WASM.
//!
//! Everything else renders on the server only. An island hydrates on its own, with its props
//! serialised into the page and no context from the page around it (the feed is the tab's
//! [`FeedState::shared`]). The small islands live beside their pages (the dashboard's live banner,
//! the run page's live steps, log and *Cancel*); the page-wide ones are here. The header's tools and
//! the small islands are in the first WASM every page loads; the settings pages and the setup wizard
//! are one *lazy* island: built with `cargo leptos build --release --split` (what `scripts/run` and
//! `scripts/test` do), its code is a chunk of its own, fetched only by those pages; it renders its
//! page in the browser ([`in_browser`] says why). Every island opens with
//! [`Island::start`](crate::navigation::Island) so that client-side navigation can retire it. The
//! routes that show them are in `routes.rs`.

use crate::feed::{ActiveRunLink, FeedIndicator, FeedState};
use crate::navigation::{Island, IslandRoot};
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

/// Renders a lazy page in the browser only, once its island has hydrated, inside a `div` whose
/// `data-hydrated` turns `true` then (the browser tests wait for it); the server sends "Loading…".
///
/// Why not hydrate the server's rendering, as the other islands do: the settings pages read their
/// data through resources, and a resource hydrates from the data the server serialised into the
/// *document* (`__RESOLVED_RESOURCES`, matched by a counter over the whole page). A page that
/// arrives by client-side navigation is not a new document: its serialised data never runs, its
/// streamed parts are never swapped in, and hydrating it panics or shows another page's data.
/// Rendered in the browser, the page fetches its data through its server functions, the same way
/// on a first load and after a navigation (server/public/nav.js clears the document's serialised
/// data, which no island reads).
fn in_browser(page: impl Fn() -> AnyView + Send + Sync + 'static) -> impl IntoView {
    let island = Island::start();
    // Retired (its page left), the page is dropped with everything it runs.
    let shown = move || {
        if island.live() {
            page()
        } else {
            pages::parts::loading().into_any()
        }
    };
    view! {
        <IslandRoot island>
            <div class="lazy-page" data-hydrated=move || island.live().to_string()>{shown}</div>
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
    in_browser(move || match page.clone() {
        SettingsPage::Config => view! { <pages::ConfigPage/> }.into_any(),
        SettingsPage::Keys => view! { <pages::KeysPage/> }.into_any(),
        SettingsPage::Connections => view! { <pages::ConnectionsPage/> }.into_any(),
        SettingsPage::Schedule => view! { <pages::SchedulePage/> }.into_any(),
        SettingsPage::Email => view! { <pages::EmailPage/> }.into_any(),
        SettingsPage::Retention => view! { <pages::RetentionPage/> }.into_any(),
        SettingsPage::Wizard { step, readiness } => {
            view! { <pages::Wizard step readiness/> }.into_any()
        }
    })
}
