//! [`Panel`]: what one settings panel shows, read by the server as it makes the page and handed to
//! the settings island as part of its props. The same panels make the settings pages and the setup
//! wizard's steps.
//!
//! Why the data travels in the props and not through resources: an island hydrates with its props
//! (serialised into its own tag), on a first load and after a client-side navigation alike, so the
//! page the server rendered — readable without JavaScript, painted before the settings chunk
//! arrives — is the page the island takes over. A resource would hydrate from data serialised into
//! the *document*, which a navigated-to page never runs. Saves read the data again through the
//! page's server functions ([`reread`]).

use super::config::ConfigEditor;
use super::connections::ConnectionsPanel;
use super::email::EmailPanel;
use super::keys::KeysPanel;
use super::retention::RetentionPanel;
use super::schedule::SchedulePanel;
use super::settings::SettingsFrame;
use crate::api::config::ConfigFile;
use crate::api::connections::Connections;
use crate::api::email::EmailView;
use crate::api::keys::KeyView;
use crate::api::retention::RetentionView;
use crate::api::schedule::ScheduleView;
use crate::api::ApiError;
use engine::model::setup::SetupStep;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::future::Future;

/// What the server read for a panel, or why it could not.
pub type Loaded<T> = Result<T, ApiError>;

/// One settings panel with its data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Panel {
    Config(Loaded<ConfigFile>),
    Keys(Loaded<Vec<KeyView>>),
    Connections(Loaded<Connections>),
    Schedule(Loaded<ScheduleView>),
    Email(Loaded<EmailView>),
    Retention(Loaded<RetentionView>),
}

/// Which panel a page shows, before its data is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PanelKind {
    Config,
    Keys,
    Connections,
    Schedule,
    Email,
    Retention,
}

impl PanelKind {
    /// The panel of a wizard step; the last step (the first backup) has none.
    pub fn of_step(step: SetupStep) -> Option<Self> {
        match step {
            SetupStep::Config => Some(Self::Config),
            SetupStep::Keys => Some(Self::Keys),
            SetupStep::Connections => Some(Self::Connections),
            SetupStep::Schedule => Some(Self::Schedule),
            SetupStep::FirstRun => None,
        }
    }

    /// Reads the panel's data through its server function (on the server, as the page is made).
    #[cfg(feature = "ssr")]
    pub async fn read(self) -> Panel {
        use crate::api;
        match self {
            Self::Config => Panel::Config(api::config::get_config().await),
            Self::Keys => Panel::Keys(api::keys::get_keys().await),
            Self::Connections => Panel::Connections(api::connections::get_connections().await),
            Self::Schedule => Panel::Schedule(api::schedule::get_schedule().await),
            Self::Email => Panel::Email(api::email::get_email().await),
            Self::Retention => Panel::Retention(api::retention::get_retention().await),
        }
    }
}

impl Panel {
    /// The panel alone (a wizard step's body).
    pub fn body(self) -> AnyView {
        match self {
            Self::Config(file) => view! { <ConfigEditor file/> }.into_any(),
            Self::Keys(keys) => view! { <KeysPanel keys/> }.into_any(),
            Self::Connections(connections) => view! { <ConnectionsPanel connections/> }.into_any(),
            Self::Schedule(schedule) => view! { <SchedulePanel schedule/> }.into_any(),
            Self::Email(email) => view! { <EmailPanel email/> }.into_any(),
            Self::Retention(retention) => view! { <RetentionPanel retention/> }.into_any(),
        }
    }

    /// The settings page: the panel in its frame.
    pub fn page(self) -> AnyView {
        let title = match &self {
            Self::Config(_) => "Configuration",
            Self::Keys(_) => "SSH keys",
            Self::Connections(_) => "Connections",
            Self::Schedule(_) => "Schedule",
            Self::Email(_) => "Email",
            Self::Retention(_) => "Retention",
        };
        // The connections panel names each endpoint in an `h3` (under the wizard's step heading
        // there); here an `h2` comes between, so no heading level is skipped.
        let between = matches!(self, Self::Connections(_))
            .then(|| view! { <h2>"SSH endpoints and email"</h2> });
        let body = self.body();
        view! { <SettingsFrame title>{between}{body}</SettingsFrame> }.into_any()
    }
}

/// The data a panel was given, read again (in the browser) each time `version` changes: after a
/// save, so the page shows what the file now holds.
pub fn reread<T, Fut>(
    first: Loaded<T>,
    version: impl Fn() -> usize + 'static,
    read: impl Fn() -> Fut + 'static,
) -> RwSignal<Loaded<T>>
where
    T: Send + Sync + 'static,
    Fut: Future<Output = Loaded<T>> + 'static,
{
    let data = RwSignal::new(first);
    Effect::new(move |before: Option<usize>| {
        let now = version();
        if before.is_some_and(|b| b != now) {
            let call = read();
            leptos::task::spawn_local(async move { data.set(call.await) });
        }
        now
    });
    data
}
