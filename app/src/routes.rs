//! The route table: which page each address shows ([`AppRoutes`]), and the route components that
//! put a page inside its island (the settings pages and the setup wizard share one lazy island,
//! [`SettingsIsland`]). Pages never import this module or the islands, so the graph is
//! `lib → routes → islands → pages`, without circles.

use crate::islands::{SettingsIsland, SettingsPage};
#[cfg(feature = "ssr")]
use crate::pages;
use crate::pages::parts::{loading, ErrorLine};
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use leptos_router::components::{Route, Routes};
#[cfg(feature = "ssr")]
use leptos_router::{path, SsrMode};

/// Every page of the app, by address; anything else is [`pages::NotFound`]. Server only: the
/// browser never routes (pages are rendered by the server; only their islands hydrate).
#[cfg(feature = "ssr")]
#[component]
pub fn AppRoutes() -> impl IntoView {
    view! {
        <Routes fallback=pages::NotFound>
            <Route path=path!("/login") view=pages::Login/>
            <Route path=path!("/setup") view=pages::Setup/>
            <Route path=path!("/") view=pages::Dashboard ssr=SsrMode::Async/>
            <Route path=path!("/history") view=pages::History ssr=SsrMode::Async/>
            <Route path=path!("/runs/:id") view=pages::Run ssr=SsrMode::Async/>
            <Route path=path!("/snapshots") view=pages::Snapshots ssr=SsrMode::Async/>
            <Route path=path!("/snapshots/browse") view=pages::Browse ssr=SsrMode::Async/>
            <Route path=path!("/snapshots/diff") view=pages::Changes ssr=SsrMode::Async/>
            <Route path=path!("/snapshots/versions") view=pages::Versions ssr=SsrMode::Async/>
            <Route path=path!("/snapshots/restore") view=pages::Restore ssr=SsrMode::Async/>
            <Route path=path!("/snapshots/find") view=pages::Find ssr=SsrMode::InOrder/>
            <Route path=path!("/settings") view=pages::Settings/>
            <Route path=path!("/settings/config") view=ConfigRoute/>
            <Route path=path!("/settings/keys") view=KeysRoute/>
            <Route path=path!("/settings/connections") view=ConnectionsRoute/>
            <Route path=path!("/settings/schedule") view=ScheduleRoute/>
            <Route path=path!("/settings/email") view=EmailRoute/>
            <Route path=path!("/settings/retention") view=RetentionRoute/>
            <Route path=path!("/settings/password") view=pages::ChangePassword/>
            <Route path=path!("/welcome") view=WizardRoute ssr=SsrMode::Async/>
        </Routes>
    }
}

/// A route that shows one settings page.
macro_rules! settings_route {
    ($(#[$doc:meta])* $route:ident => $page:ident) => {
        $(#[$doc])*
        #[component]
        pub fn $route() -> impl IntoView {
            view! { <SettingsIsland page=SettingsPage::$page/> }
        }
    };
}

settings_route!(
    /// `/settings/config`
    ConfigRoute => Config
);
settings_route!(
    /// `/settings/keys`
    KeysRoute => Keys
);
settings_route!(
    /// `/settings/connections`
    ConnectionsRoute => Connections
);
settings_route!(
    /// `/settings/schedule`
    ScheduleRoute => Schedule
);
settings_route!(
    /// `/settings/email`
    EmailRoute => Email
);
settings_route!(
    /// `/settings/retention`
    RetentionRoute => Retention
);

/// `/welcome`: reads where the setup stands, then renders the wizard's island at the step the
/// address asks for (`?step=`).
#[component]
pub fn WizardRoute() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let step = query.with_untracked(|q| q.get("step"));
    let readiness = Resource::new(|| (), |_| crate::api::setup::get_readiness());
    view! {
        <Suspense fallback=loading>
            {move || {
                let step = step.clone();
                Suspend::new(async move {
                    match readiness.await {
                        Ok(readiness) => {
                            let page = SettingsPage::Wizard { step, readiness };
                            view! { <SettingsIsland page/> }.into_any()
                        }
                        Err(error) => view! {
                            <section class="page wizard">
                                <h1>"Set up Mnemosynce"</h1>
                                <ErrorLine error/>
                            </section>
                        }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// The browser's build has no route table (see above).
#[cfg(not(feature = "ssr"))]
#[component]
pub fn AppRoutes() -> impl IntoView {}
