//! The app's side of client-side navigation (server/public/nav.js swaps the pages; README, "The web
//! app").
//!
//! - [`IslandRoot`] wraps an island's view so that the island is disposed (its effects stopped,
//!   its signals dropped) once a navigation has taken it out of the document: Leptos never disposes
//!   an island by itself, and a run page left behind would otherwise keep following the log.
//! - [`refresh`] asks nav.js to fetch the current page again and patch it in place (scroll kept):
//!   what a page does when a run it shows ends.
//! - [`mark_live`] tells nav.js that the WASM is ready, so islands arriving with a new page are
//!   hydrated by nav.js (before that, Leptos hydrates whatever the body holds).
//!
//! Without JavaScript none of this runs: links and forms are ordinary page loads.

use leptos::html::Div;
use leptos::prelude::*;

/// An island's outermost element (`display: contents`, so it adds no box). Registers the island's
/// owner to be cleaned up when a navigation removes this element from the document.
#[component]
pub fn IslandRoot(children: Children) -> impl IntoView {
    let root = NodeRef::<Div>::new();
    #[cfg(feature = "hydrate")]
    if let Some(owner) = Owner::current() {
        browser::dispose_when_removed(owner, root);
    }
    view! { <div class="island-root" node_ref=root>{children()}</div> }
}

/// Fetches the page shown again and patches it in place, keeping the scroll position.
pub fn refresh() {
    #[cfg(feature = "hydrate")]
    browser::dispatch("mnemosynce:refresh");
}

/// Says that islands can now be hydrated as pages arrive (the header's island calls it first).
pub fn mark_live() {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = js_sys::Reflect::set(
            &window,
            &wasm_bindgen::JsValue::from_str("__mnemosynceLive"),
            &wasm_bindgen::JsValue::TRUE,
        );
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::html::Div;
    use leptos::prelude::*;
    use std::cell::{Cell, RefCell};

    thread_local! {
        static LIVE_ISLANDS: RefCell<Vec<(Owner, NodeRef<Div>)>> = const { RefCell::new(Vec::new()) };
        static LISTENING: Cell<bool> = const { Cell::new(false) };
    }

    pub fn dispose_when_removed(owner: Owner, root: NodeRef<Div>) {
        LIVE_ISLANDS.with(|islands| islands.borrow_mut().push((owner, root)));
        if !LISTENING.with(|l| l.replace(true)) {
            let handle = window_event_listener_untyped("mnemosynce:navigated", |_| sweep());
            // Listens for the tab's whole life.
            std::mem::forget(handle);
        }
    }

    /// Cleans up every island whose element has left the document.
    fn sweep() {
        let gone: Vec<Owner> = LIVE_ISLANDS.with(|islands| {
            let mut islands = islands.borrow_mut();
            let mut gone = Vec::new();
            islands.retain(|(owner, root)| {
                let removed = root.get_untracked().is_some_and(|el| !el.is_connected());
                if removed {
                    gone.push(owner.clone());
                }
                !removed
            });
            gone
        });
        // Outside the borrow: a cleanup may register or drop other islands.
        for owner in gone {
            owner.cleanup();
        }
    }

    pub fn dispatch(name: &str) {
        if let (Some(window), Ok(event)) = (web_sys::window(), web_sys::Event::new(name)) {
            let _ = window.dispatch_event(&event);
        }
    }
}
