//! The route table: which page each address shows ([`AppRoutes`]), and the route components that
//! put a page inside its island (the settings pages and the setup wizard share one lazy island,
//! [`SettingsIsland`]). Pages never import this module or the islands, so the graph is
//! `lib → routes → islands → pages`, without circles.

#[cfg(feature = "ssr")]
use crate::islands::{SettingsIsland, SettingsPage};
#[cfg(feature = "ssr")]
use crate::pages::parts::{loading, ErrorLine};
#[cfg(feature = "ssr")]
use crate::pages::{self, PanelKind};
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
            <Route path=path!("/settings/config") view=ConfigRoute ssr=SsrMode::Async/>
            <Route path=path!("/settings/keys") view=KeysRoute ssr=SsrMode::Async/>
            <Route path=path!("/settings/connections") view=ConnectionsRoute ssr=SsrMode::Async/>
            <Route path=path!("/settings/schedule") view=ScheduleRoute ssr=SsrMode::Async/>
            <Route path=path!("/settings/email") view=EmailRoute ssr=SsrMode::Async/>
            <Route path=path!("/settings/retention") view=RetentionRoute ssr=SsrMode::Async/>
            <Route path=path!("/settings/password") view=pages::ChangePassword/>
            <Route path=path!("/welcome") view=WizardRoute ssr=SsrMode::Async/>
        </Routes>
    }
}

/// A route that shows one settings page: its panel's data is read as the page is made.
macro_rules! settings_route {
    ($(#[$doc:meta])* $route:ident => $kind:ident) => {
        $(#[$doc])*
        #[cfg(feature = "ssr")]
        #[component]
        pub fn $route() -> impl IntoView {
            view! {
                <Suspense fallback=loading>
                    {Suspend::new(async move {
                        let page = SettingsPage::Page(PanelKind::$kind.read().await);
                        view! { <SettingsIsland page/> }
                    })}
                </Suspense>
            }
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

/// `/welcome`: reads where the setup stands and the panel of the step the address asks for
/// (`?step=`, or the first one missing), then renders the wizard's island at that step.
#[cfg(feature = "ssr")]
#[component]
pub fn WizardRoute() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let asked = query.with_untracked(|q| q.get("step"));
    view! {
        <Suspense fallback=loading>
            {Suspend::new(async move {
                match crate::api::setup::get_readiness().await {
                    Ok(readiness) => {
                        let step = pages::wizard::step_asked(asked.as_deref(), &readiness);
                        let panel = match PanelKind::of_step(step) {
                            Some(kind) => Some(kind.read().await),
                            None => None,
                        };
                        let page = SettingsPage::Wizard { step, readiness, panel };
                        view! { <SettingsIsland page/> }.into_any()
                    }
                    Err(error) => view! {
                        <section class="page wizard">
                            <h1>"Set up Mnemosynce"</h1>
                            <ErrorLine error/>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The browser's build has no route table (see above).
#[cfg(not(feature = "ssr"))]
#[component]
pub fn AppRoutes() -> impl IntoView {}
