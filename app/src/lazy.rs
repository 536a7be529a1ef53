//! The pages an owner opens now and then — settings and the setup wizard — as lazy routes: built with
//! `cargo leptos build --split` (what `scripts/run` and `scripts/test` do), their code is cut out of
//! the first WASM download into chunks fetched when the page is opened (Leptos's `LazyRoute`), so the
//! dashboard, history and run pages do not wait for code they do not use. The browser hydrates with
//! `hydrate_lazy`, which loads the chunk of a lazy page opened directly before hydrating it. On the
//! server, and in a build without `--split`, they are ordinary routes.

use crate::pages;
use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

/// Wraps a lazy page in a `div` whose `data-hydrated` turns `true` once the page is live in the
/// browser. A lazy page opened directly hydrates a moment after the rest of the app (its chunk loads
/// first); until then its fields are shown dimmed and do not take input (style/main.css), so nothing
/// typed into the server-rendered page is lost, and the browser tests wait for the flag.
fn hydration_marked(page: AnyView) -> AnyView {
    let live = RwSignal::new(false);
    Effect::new(move |_| live.set(true));
    view! { <div class="lazy-page" data-hydrated=move || live.get().to_string()>{page}</div> }
        .into_any()
}

/// A lazy route that renders one page component.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident => $page:path) => {
        $(#[$doc])*
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(this: Self) -> AnyView {
                let _ = this;
                hydration_marked($page().into_any())
            }
        }
    };
}

lazy_page!(
    /// `/settings/config`
    ConfigRoute => pages::ConfigPage
);
lazy_page!(
    /// `/settings/keys`
    KeysRoute => pages::KeysPage
);
lazy_page!(
    /// `/settings/connections`
    ConnectionsRoute => pages::ConnectionsPage
);
lazy_page!(
    /// `/settings/schedule`
    ScheduleRoute => pages::SchedulePage
);
lazy_page!(
    /// `/settings/email`
    EmailRoute => pages::EmailPage
);
lazy_page!(
    /// `/settings/retention`
    RetentionRoute => pages::RetentionPage
);
lazy_page!(
    /// `/welcome`
    WizardRoute => pages::Wizard
);
