//! The light/dark theme switch. Without a choice the page follows the system (`prefers-color-scheme`);
//! a click sets `data-theme` on `<html>` and remembers it in `localStorage`.

use leptos::prelude::*;

/// A button that switches between the light and the dark theme.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    // None until the browser tells us (server render: follow the system).
    let (dark, set_dark) = signal(None::<bool>);

    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let stored = browser::stored_theme();
        let is_dark = match stored.as_deref() {
            Some("dark") => true,
            Some("light") => false,
            _ => browser::system_prefers_dark(),
        };
        if stored.is_some() {
            browser::apply(is_dark);
        }
        set_dark.set(Some(is_dark));
    });

    let toggle = move |_| {
        let next = !dark.get_untracked().unwrap_or(false);
        set_dark.set(Some(next));
        #[cfg(feature = "hydrate")]
        {
            browser::apply(next);
            browser::store(next);
        }
    };

    view! {
        <button class="theme-toggle" type="button" on:click=toggle
            aria-pressed=move || if dark.get() == Some(true) { "true" } else { "false" }>
            {move || if dark.get() == Some(true) { "Light theme" } else { "Dark theme" }}
        </button>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    const KEY: &str = "mnemosynce-theme";

    pub fn stored_theme() -> Option<String> {
        let storage = web_sys::window()?.local_storage().ok()??;
        storage.get_item(KEY).ok()?
    }

    pub fn system_prefers_dark() -> bool {
        web_sys::window()
            .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
            .map(|m| m.matches())
            .unwrap_or(false)
    }

    pub fn apply(dark: bool) {
        if let Some(root) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        {
            let _ = root.set_attribute("data-theme", if dark { "dark" } else { "light" });
        }
    }

    pub fn store(dark: bool) {
        if let Some(Ok(Some(storage))) = web_sys::window().map(|w| w.local_storage()) {
            let _ = storage.set_item(KEY, if dark { "dark" } else { "light" });
        }
    }
}
