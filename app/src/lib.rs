//! The Mnemosynce web app: the page shell, the routes and the components shared by every page.
//!
//! Pages render on the server (feature `ssr`, inside the `mnemosynce` binary) and stay plain HTML;
//! only their interactive parts, Leptos *islands* ([`islands`]), are built to WASM (feature `hydrate`,
//! by `frontend/`) and hydrated in the browser, each on its own. Moving between pages is client-side
//! navigation: server/public/nav.js fetches the next page and swaps it in, keeping the islands both
//! pages share (the header's, with the tab's one feed) — see [`navigation`]. There is no route table
//! in the browser, which keeps the first download small; without JavaScript links and forms are
//! ordinary page loads. Anything that only makes sense in a browser (the WebSocket feed,
//! `localStorage`) sits behind `#[cfg(feature = "hydrate")]`.

#![recursion_limit = "256"]

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Link, Meta, MetaTags, Title};
use leptos_router::{
    components::{Router, A},
    hooks::use_location,
};

pub mod api;
pub mod feed;
pub mod islands;
pub mod navigation;
pub mod pages;
pub mod routes;
pub mod theme;

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                // The release site's files carry a hash of their content in their names (cargo-leptos
                // `hash-files`, read from hash.txt beside the binary), so they are cached for a year.
                <HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options islands=true/>
                <script type="module" src="/nav.js"></script>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The app: header with navigation and the live-feed indicator, the routed page, the footer.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Title text="Mnemosynce"/>
        <Meta name="color-scheme" content="light dark"/>
        <Meta name="theme-color" content="#0b5cad"/>
        <Link rel="icon" href="/favicon.ico"/>
        <Link rel="manifest" href="/manifest.webmanifest"/>
        <Link rel="apple-touch-icon" href="/icons/apple-touch-icon.png"/>
        <Router>
            <Header/>
            <main>
                <routes::AppRoutes/>
            </main>
            <footer class="bottom">
                "Mnemosynce " {engine::model::VERSION}
            </footer>
        </Router>
    }
}

/// The top bar: the brand, and once signed in the navigation, the feed indicator and sign-out.
#[component]
fn Header() -> impl IntoView {
    let location = use_location();
    let signed_in_page = move || {
        let path = location.pathname.get();
        path != "/login" && path != "/setup"
    };
    view! {
        <header class="top">
            <a class="brand" href="/">"Mnemosynce"</a>
            <Show when=signed_in_page>
                <nav aria-label="Main">
                    <A href="/">"Dashboard"</A>
                    <A href="/history">"History"</A>
                    <A href="/snapshots">"Snapshots"</A>
                    <A href="/settings">"Settings"</A>
                </nav>
            </Show>
            <div class="top-tools">
                <islands::TopTools signed_in=signed_in_page()/>
                <Show when=signed_in_page>
                    <form method="post" action="/auth/logout" class="sign-out">
                        <button type="submit">"Sign out"</button>
                    </form>
                </Show>
            </div>
        </header>
    }
}
