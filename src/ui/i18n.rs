//! The page's language in components. The server picks it per request
//! (`server::lang`) and writes it into `<html lang>`; the browser reads it
//! back from there when it hydrates, so both render the same texts.

use leptos::prelude::*;

use crate::i18n::{Lang, Ui};

/// The id of the page's texts, written by the shell as JSON data.
pub const TEXTS_ID: &str = "bc-ui";

/// The `<script type="application/json">` body carrying the language's
/// texts to the browser: an array in key order (no key names), with `<`
/// escaped so that no text can close the element.
#[cfg(feature = "ssr")]
pub fn texts_json(lang: Lang) -> &'static str {
    // The same for every page of a language: built once, not per request.
    static CACHE: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let all = CACHE.get_or_init(|| {
        Lang::ALL
            .iter()
            .map(|l| {
                serde_json::to_string(&l.ui().values())
                    .unwrap_or_default()
                    .replace('<', "\\u003c")
            })
            .collect()
    });
    let i = Lang::ALL.iter().position(|l| *l == lang).unwrap_or(0);
    &all[i]
}

/// Puts the page's language and its texts in the context, for [`use_lang`]
/// and [`use_ui`].
pub fn provide_lang() {
    #[cfg(feature = "ssr")]
    let (lang, ui) = {
        let lang = crate::server::lang::current();
        (lang, lang.ui())
    };
    #[cfg(not(feature = "ssr"))]
    let (lang, ui) = {
        let doc = document();
        let lang = doc
            .document_element()
            .and_then(|e| e.get_attribute("lang"))
            .and_then(|l| Lang::parse(&l))
            .unwrap_or_default();
        let values: Vec<String> = doc
            .get_element_by_id(TEXTS_ID)
            .and_then(|e| e.text_content())
            .and_then(|json| js_sys::JSON::parse(&json).ok())
            .map(|v| {
                js_sys::Array::from(&v)
                    .iter()
                    .filter_map(|s| s.as_string())
                    .collect()
            })
            .unwrap_or_default();
        // Built once per page load, then kept for its lifetime.
        let ui: &'static Ui = Box::leak(Box::new(
            Ui::from_values(values).expect("the page carries the texts of its language"),
        ));
        (lang, ui)
    };
    provide_context(lang);
    provide_context(ui);
}

pub fn use_lang() -> Lang {
    use_context::<Lang>().unwrap_or_default()
}

/// The texts of the page's language.
pub fn use_ui() -> &'static Ui {
    use_context::<&'static Ui>().expect("provide_lang runs first, in App")
}

/// Links to the other languages. Plain links to the server
/// (`rel=external`), which remembers the choice and sends the browser back
/// to the page it came from, now rendered in that language: with or
/// without JavaScript.
#[component]
pub fn LanguageSwitch() -> impl IntoView {
    let current = use_lang();
    view! {
        <nav class="languages" aria-label=use_ui().language>
            {Lang::ALL
                .into_iter()
                .filter(|l| *l != current)
                .map(|l| {
                    let href = format!("/lang/{}", l.code());
                    view! { <a href=href rel="external" hreflang=l.code() lang=l.code()>{l.native_name()}</a> }
                })
                .collect_view()}
        </nav>
    }
}
