//! The SSH keys page (`/settings/keys`, and the wizard's second step): the app's key pairs, with
//! the line for `authorized_keys` and a command that installs it, each easy to copy.

use super::panel::{reread, Loaded};
use super::parts::error_line;
use super::settings::bump_setup;
use crate::api::keys::*;
use leptos::prelude::*;

/// List, generate, delete and copy the app's key pairs; `keys` as the server read them, read
/// again after each generate or delete.
#[component]
pub fn KeysPanel(keys: Loaded<Vec<KeyView>>) -> impl IntoView {
    let generate = ServerAction::<GenerateKey>::new();
    let delete = ServerAction::<DeleteKey>::new();
    let keys = reread(
        keys,
        move || generate.version().get() + delete.version().get(),
        get_keys,
    );
    Effect::new(move |_| {
        if matches!(generate.value().get(), Some(Ok(_)))
            || matches!(delete.value().get(), Some(Ok(_)))
        {
            bump_setup();
        }
    });
    view! {
        <p>"The server logs in to SSH sources and the mirror with these keys. Add a key's line to "
           <code>"~/.ssh/authorized_keys"</code> " of the account on the other machine."</p>
        <ActionForm action=generate attr:class="stack key-form">
            <label for="key-name">"Name"</label>
            <input id="key-name" name="name" required pattern="[A-Za-z0-9_-]{1,64}" placeholder="nas" autocomplete="off"/>
            <label for="key-comment">"Comment " <span class="muted">"(optional)"</span></label>
            <input id="key-comment" name="comment" placeholder="mnemosynce@homeserver" autocomplete="off"/>
            <button type="submit" class="primary">"Generate key"</button>
        </ActionForm>
        {move || generate.value().get().and_then(|r| r.err()).map(error_line)}
        {move || delete.value().get().and_then(|r| r.err()).map(error_line)}
        {move || match keys.get() {
            Err(e) => error_line(e),
            Ok(list) if list.is_empty() => view! {
                <p class="empty">"No keys yet. Generate one above."</p>
            }.into_any(),
            Ok(list) => view! {
                <ul class="keys">
                    {list.into_iter().map(|k| view! { <KeyItem k delete/> }).collect_view()}
                </ul>
            }.into_any(),
        }}
    }
}

#[component]
fn KeyItem(k: KeyView, delete: ServerAction<DeleteKey>) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let copied = RwSignal::new(None::<&'static str>);
    let line = k.public_line.clone();
    let command = k.install_command();
    let name = k.name.clone();
    let line_for_copy = line.clone();
    let cmd_for_copy = command.clone();
    view! {
        <li class="key card" data-key=k.name.clone()>
            <h3>{k.name.clone()}</h3>
            <p class="muted">{k.algorithm.clone()} " " <code>{k.fingerprint.clone()}</code> " " {k.comment.clone()}</p>
            {k.problem.clone().map(|p| view! { <p class="form-error">{p}</p> })}
            <label>"Line for authorized_keys"
                <input class="copyable" readonly value=line.clone() on:focus=select_all/>
            </label>
            <label>"Or run this on the other machine, as the account the backup uses"
                <input class="copyable" readonly value=command.clone() on:focus=select_all/>
            </label>
            <div class="actions">
                <button type="button" on:click=move |_| copied.set(Some(copy_text(&line_for_copy)))>"Copy line"</button>
                <button type="button" on:click=move |_| copied.set(Some(copy_text(&cmd_for_copy)))>"Copy command"</button>
                <Show when=move || !confirming.get()>
                    <button type="button" class="danger" on:click=move |_| confirming.set(true)>"Delete…"</button>
                </Show>
                {move || copied.get().map(|c| view! { <span class="muted" role="status">{c}</span> })}
            </div>
            <Show when=move || confirming.get()>
                {
                    let name = name.clone();
                    view! {
                        <div class="notice error" role="alert">
                            <p>"Delete the key " <strong>{name.clone()}</strong> "? Machines that only accept this key will refuse the next backup."</p>
                            <ActionForm action=delete attr:class="inline">
                                <input type="hidden" name="name" value=name.clone()/>
                                <button type="submit" class="danger">"Delete key"</button>
                                <button type="button" on:click=move |_| confirming.set(false)>"Keep it"</button>
                            </ActionForm>
                        </div>
                    }
                }
            </Show>
        </li>
    }
}

fn select_all(ev: leptos::ev::FocusEvent) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        {
            input.select();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}

/// Copies text with the browser's clipboard API (only on HTTPS or localhost); says what happened.
fn copy_text(text: &str) -> &'static str {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let call = || -> Option<()> {
            let nav = web_sys::window()?.navigator();
            let clipboard = js_sys::Reflect::get(&nav, &"clipboard".into()).ok()?;
            let write = js_sys::Reflect::get(&clipboard, &"writeText".into()).ok()?;
            let write = write.dyn_ref::<js_sys::Function>()?;
            write.call1(&clipboard, &text.into()).ok()?;
            Some(())
        };
        if call().is_some() {
            return "Copied.";
        }
    }
    let _ = text;
    "This browser allows copying only over HTTPS: select the text and copy it."
}
