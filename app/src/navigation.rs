//! The app's side of client-side navigation (server/public/nav.js swaps the pages; README, "The web
//! app").
//!
//! - [`Island`]: what every island knows about its own life. `live()` is false while the island
//!   hydrates (it renders what the server rendered: after a navigation the feed is already live
//!   when a new island hydrates, and hydrating a run's steps into HTML the server sent without them
//!   would panic) and again once a navigation has taken the island out of the document. Leptos
//!   never disposes an island: its render effects live in a view state it leaks on purpose, and
//!   disposing the island's signals under them makes them panic. So an island is *retired*
//!   instead: every closure that reads the tab's feed reads `live()` (or `present()`) first, and
//!   once it turns false the closure shows nothing and tracks nothing more — a run page left
//!   behind stops following the log. What stays is a few detached nodes per page visited.
//! - [`IslandRoot`]: the island's outermost element, through which the island learns that it left.
//! - [`refresh`] asks nav.js to fetch the current page again and patch it in place (scroll kept):
//!   what a page does when a run it shows ends.
//! - [`mark_live`] tells nav.js that the WASM is ready, so islands arriving with a new page are
//!   hydrated by nav.js (before that, Leptos hydrates whatever the body holds).
//!
//! Without JavaScript none of this runs: links and forms are ordinary page loads.

use leptos::html::Div;
use leptos::prelude::*;

/// One island's life: hydrated yet, still in the document. Made at the top of the island's body
/// (and given to its [`IslandRoot`]); shared with the components inside through context.
#[derive(Clone, Copy)]
pub struct Island {
    hydrated: RwSignal<bool>,
    present: RwSignal<bool>,
    root: NodeRef<Div>,
}

impl Island {
    pub fn start() -> Island {
        let island = Island {
            hydrated: RwSignal::new(false),
            present: RwSignal::new(true),
            root: NodeRef::new(),
        };
        Effect::new(move |_| island.hydrated.set(true));
        provide_context(island);
        island
    }

    /// The island of the component calling this, if it is inside one.
    pub fn around() -> Option<Island> {
        use_context::<Island>()
    }

    /// Hydrated and still in the document: show the live state. Tracked.
    pub fn live(&self) -> bool {
        self.present.get() && self.hydrated.get()
    }

    /// Still in the document (hydrated or not). Tracked.
    pub fn present(&self) -> bool {
        self.present.get()
    }
}

/// An island's outermost element (`display: contents`, so it adds no box): tells `island` when a
/// navigation has removed it from the document.
///
/// Its children keep their own type (no `AnyView`: each island's view erased to one would add its
/// own set of type-erased functions to the WASM).
#[component]
pub fn IslandRoot<C>(island: Island, children: TypedChildren<C>) -> impl IntoView
where
    C: IntoView + 'static,
{
    #[cfg(feature = "hydrate")]
    browser::retire_when_removed(island);
    let children = children.into_inner();
    view! { <div class="island-root" node_ref=island.root>{children()}</div> }
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
    use super::Island;
    use leptos::prelude::*;
    use std::cell::{Cell, RefCell};

    thread_local! {
        static PRESENT: RefCell<Vec<Island>> = const { RefCell::new(Vec::new()) };
        static LISTENING: Cell<bool> = const { Cell::new(false) };
    }

    pub fn retire_when_removed(island: Island) {
        PRESENT.with(|islands| islands.borrow_mut().push(island));
        if !LISTENING.with(|l| l.replace(true)) {
            let handle = window_event_listener_untyped("mnemosynce:navigated", |_| sweep());
            // Listens for the tab's whole life.
            std::mem::forget(handle);
        }
    }

    /// Retires every island whose element has left the document.
    fn sweep() {
        let gone: Vec<Island> = PRESENT.with(|islands| {
            let mut islands = islands.borrow_mut();
            let mut gone = Vec::new();
            islands.retain(|island| {
                let removed = island
                    .root
                    .get_untracked()
                    .is_some_and(|el| !el.is_connected());
                if removed {
                    gone.push(*island);
                }
                !removed
            });
            gone
        });
        // Outside the borrow: the closures this wakes may create islands.
        for island in gone {
            island.present.set(false);
        }
    }

    pub fn dispatch(name: &str) {
        if let (Some(window), Ok(event)) = (web_sys::window(), web_sys::Event::new(name)) {
            let _ = window.dispatch_event(&event);
        }
    }
}
