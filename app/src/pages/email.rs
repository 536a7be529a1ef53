//! The email settings page: addresses, the SMTP server, the password (write-only: the page is only
//! told whether one is stored, and an empty field keeps it), and the step-by-step test email.

use super::panel::{reread, Loaded};
use super::parts::error_line;
use crate::api::email::{get_email, EmailView, SaveEmail};
use leptos::prelude::*;

/// Settings › Email: `email` as the server read it, read again after each save.
#[component]
pub fn EmailPanel(email: Loaded<EmailView>) -> impl IntoView {
    let save = ServerAction::<SaveEmail>::new();
    let current = reread(email, move || save.version().get(), get_email);
    view! {
        {move || save.value().get().map(|r| match r {
            Ok(_) => view! { <p class="form-note" role="status">"Saved. Send a test email to check it."</p> }.into_any(),
            Err(e) => error_line(e),
        })}
        {move || match current.get() {
            Ok(v) => view! { <EmailForm v save/> <super::connections::EmailTest/> }.into_any(),
            Err(e) => error_line(e),
        }}
    }
}

#[component]
fn EmailForm(v: EmailView, save: ServerAction<SaveEmail>) -> impl IntoView {
    let security = v.security.clone();
    let option = move |value: &'static str, label: &'static str| {
        view! { <option value=value selected=security == value>{label}</option> }
    };
    view! {
        {v.config_error.clone().map(|e| view! {
            <p class="form-error" role="alert">{e} " " <a href="/settings/config">"Open the configuration"</a></p>
        })}
        <ActionForm action=save attr:class="stack email-form">
            // What the page read: a save over a file changed since then is refused.
            <input type="hidden" name="version" value=v.version.clone()/>
            <label class="check">
                <input type="checkbox" name="enabled" checked=v.enabled/>
                " Send a report after every run"
            </label>
            <label for="e-sender">"From (email_sender)"</label>
            <input id="e-sender" name="sender" type="email" value=v.sender.clone() autocomplete="off"/>
            <label for="e-report">"To (email_report)"</label>
            <input id="e-report" name="report" type="email" value=v.report.clone() autocomplete="off"/>
            <label for="e-admin">"Also for failed runs (email_admin, optional)"</label>
            <input id="e-admin" name="admin" type="email" value=v.admin.clone() autocomplete="off"/>
            <label for="e-host">"SMTP server"</label>
            <input id="e-host" name="host" value=v.host.clone() autocomplete="off"/>
            <label for="e-port">"Port"</label>
            <input id="e-port" name="port" type="number" min="1" max="65535" value=v.port.to_string()/>
            <label for="e-security">"Security"</label>
            <select id="e-security" name="security">
                {option("tls", "TLS (usually port 465)")}
                {option("starttls", "STARTTLS (usually port 587)")}
                {option("none", "none (a relay on your LAN only)")}
            </select>
            <label for="e-username">"Login (empty: the From address)"</label>
            <input id="e-username" name="username" value=v.username.clone() autocomplete="off"/>
            <label for="e-password">"Password"</label>
            <input id="e-password" name="password" type="password" autocomplete="new-password"
                placeholder=if v.password_stored { "stored — leave empty to keep it" } else { "" }/>
            <p class="form-note">"The password is used from: " {v.password_source.clone()}
                ". It is stored on this server only and never shown again. For Gmail, use an app password."</p>
            <button type="submit" class="primary">"Save email settings"</button>
        </ActionForm>
    }
}
