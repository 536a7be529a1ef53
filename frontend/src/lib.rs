//! The browser entry point: hydrates the islands of the server-rendered page (see app/src/islands.rs).
#![recursion_limit = "256"]

use wasm_bindgen::prelude::wasm_bindgen;

// The islands (`#[island]` components in app/) are exported from the app crate: using it links them.
#[allow(unused_imports)]
use app::*;

/// Called by the islands script that the server puts in every page; each island on the page is then
/// hydrated on its own (lazy ones after their chunk has loaded).
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
