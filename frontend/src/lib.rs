//! The browser entry point: hydrates the server-rendered page with the app from `app/`.
#![recursion_limit = "256"]

use wasm_bindgen::prelude::wasm_bindgen;

/// Called by the hydration script that the server puts in every page.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Lazy routes (app::lazy): a page opened directly loads its chunk before it is hydrated.
    leptos::mount::hydrate_lazy(app::App);
}
