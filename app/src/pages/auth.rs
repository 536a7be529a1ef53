//! The sign-in, create-password and change-password pages. All are plain HTML forms posting to the
//! server's `/auth/login`, `/auth/setup` and `/auth/password` handlers, so they work before the
//! WASM has loaded (or without it). The server answers a failure by coming back here with a fixed
//! `?error=` code; the text shown for each code is written here, so nothing from the URL is ever
//! echoed into the page.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The message for an `?error=` code.
fn error_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "wrong" => "That password is not right. Try again.",
        "busy" => "Too many attempts. Wait a minute, then try again.",
        "code" => "That setup code is not right. Copy it from the server's console or from the file setup-code in the data directory.",
        "short" => "Use at least 10 characters for the password.",
        "mismatch" => "The two passwords differ. Type the same password twice.",
        _ => return None,
    })
}

#[component]
fn FormError() -> impl IntoView {
    let query = use_query_map();
    move || {
        query
            .read()
            .get("error")
            .and_then(|c| error_text(&c))
            .map(|text| view! { <p class="form-error" role="alert">{text}</p> })
    }
}

/// `/login`
#[component]
pub fn Login() -> impl IntoView {
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let signed_out = move || query.read().get("signed_out").is_some();
    view! {
        <section class="page auth">
            <h1>"Sign in"</h1>
            <Show when=signed_out>
                <p class="form-note" role="status">"You are signed out."</p>
            </Show>
            <FormError/>
            <form method="post" action="/auth/login" class="stack">
                <input type="hidden" name="next" value=next/>
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" required
                    autocomplete="current-password" autofocus/>
                <button type="submit" class="primary">"Sign in"</button>
            </form>
            <p class="form-note">
                "Forgot it? On the server, run " <code>"mnemosynce passwd"</code> "."
            </p>
        </section>
    }
}

/// `/setup`: the first password, guarded by the one-time setup code.
#[component]
pub fn Setup() -> impl IntoView {
    view! {
        <section class="page auth">
            <h1>"Create the admin password"</h1>
            <p>
                "Welcome to Mnemosynce. To prove this is your server, type the setup code it printed on "
                "its console when it started (it is also in the file " <code>"setup-code"</code>
                " in the data directory)."
            </p>
            <FormError/>
            <form method="post" action="/auth/setup" class="stack">
                <label for="code">"Setup code"</label>
                <input id="code" name="code" type="text" required autocomplete="one-time-code"
                    autocapitalize="characters" spellcheck="false" placeholder="XXXX-XXXX-XXXX" autofocus/>
                <label for="password">"New password (at least 10 characters)"</label>
                <input id="password" name="password" type="password" required minlength="10"
                    autocomplete="new-password"/>
                <label for="confirm">"The same password again"</label>
                <input id="confirm" name="confirm" type="password" required minlength="10"
                    autocomplete="new-password"/>
                <button type="submit" class="primary">"Create password and sign in"</button>
            </form>
        </section>
    }
}

/// `/settings/password`: a new admin password, with the current one. Every other browser is signed
/// out (and its live feed closed); this one stays signed in.
#[component]
pub fn ChangePassword() -> impl IntoView {
    let query = use_query_map();
    let changed = move || query.read().get("changed").is_some();
    view! {
        <section class="page auth">
            <p class="crumbs"><a href="/settings">"Settings"</a> " / Password"</p>
            <h1>"Change the password"</h1>
            <Show when=changed>
                <p class="form-note" role="status">
                    "Password changed. Every other browser is signed out."
                </p>
            </Show>
            <FormError/>
            <form method="post" action="/auth/password" class="stack">
                <label for="current">"Current password"</label>
                <input id="current" name="current" type="password" required
                    autocomplete="current-password"/>
                <label for="password">"New password (at least 10 characters)"</label>
                <input id="password" name="password" type="password" required minlength="10"
                    autocomplete="new-password"/>
                <label for="confirm">"The new password again"</label>
                <input id="confirm" name="confirm" type="password" required minlength="10"
                    autocomplete="new-password"/>
                <button type="submit" class="primary">"Change password"</button>
            </form>
            <p class="form-note">
                "On the server, " <code>"mnemosynce passwd"</code> " does the same without the current password."
            </p>
        </section>
    }
}
