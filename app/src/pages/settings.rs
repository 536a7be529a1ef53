//! The settings overview (`/settings`) and what the settings pages share: the frame around a page
//! (crumbs and title) and [`SetupChanged`], which the setup wizard listens to. Each page is a file of
//! its own (`config`, `keys`, `connections`, `schedule`, `retention`, `email`), its server functions
//! the same name under `crate::api`; every decision (validation, saving, key handling, host trust,
//! cron meaning) is the engine's, the pages only show it.

use leptos::prelude::*;

/// Bumped after anything that can change the setup's readiness (the wizard refetches on it).
#[derive(Clone, Copy)]
pub struct SetupChanged(pub RwSignal<u32>);

pub(crate) fn bump_setup() {
    if let Some(SetupChanged(v)) = use_context::<SetupChanged>() {
        v.update(|n| *n += 1);
    }
}

/// The settings overview.
#[component]
pub fn Settings() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Settings"</h1>
            <ul class="settings-links">
                <li><a href="/settings/config">"Configuration"</a><span class="muted">" backup_config.yml: tasks, store, mirror, retention, email"</span></li>
                <li><a href="/settings/keys">"SSH keys"</a><span class="muted">" key pairs this server logs in with"</span></li>
                <li><a href="/settings/connections">"Connections"</a><span class="muted">" test SSH endpoints and email, trust host keys"</span></li>
                <li><a href="/settings/schedule">"Schedule"</a><span class="muted">" when backups run"</span></li>
                <li><a href="/settings/retention">"Retention"</a><span class="muted">" which snapshots are kept, with a preview before saving"</span></li>
                <li><a href="/settings/email">"Email"</a><span class="muted">" report addresses, SMTP server and password, test email"</span></li>
                <li><a href="/settings/password">"Password"</a><span class="muted">" change the admin password, sign out every other browser"</span></li>
                <li><a href="/welcome">"Setup wizard"</a><span class="muted">" the first-time steps, with what is still missing"</span></li>
            </ul>
        </section>
    }
}

/// A settings page around one panel, with a way back to the overview.
#[component]
pub fn SettingsFrame(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <section class="page">
            <p class="crumbs"><a href="/settings">"Settings"</a> " / " {title}</p>
            <h1>{title}</h1>
            {children()}
        </section>
    }
}
