use leptos::prelude::*;

use crate::ui::i18n::use_ui;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
            resp.set_status(axum::http::StatusCode::NOT_FOUND);
        }
    }
    let t = use_ui();
    view! {
        <section class="page">
            <h1>{t.not_found_title}</h1>
            <p>{t.not_found_body} " " <a href="/">{t.back_home}</a></p>
        </section>
    }
}

/// Where a plain form post (JavaScript off) lands when it was refused: its
/// message, and a way back to the form. Only the server knows the message;
/// with JavaScript this page is never reached.
#[component]
pub fn FormErrorPage() -> impl IntoView {
    let t = use_ui();
    #[cfg(feature = "ssr")]
    let (message, back) = (
        crate::server::error::take_flash(),
        crate::server::error::referer_path().unwrap_or_else(|| "/billing".into()),
    );
    #[cfg(not(feature = "ssr"))]
    let (message, back): (Option<String>, String) = (None, "/billing".into());
    view! {
        <section class="page narrow">
            <h1>{t.form_error_title}</h1>
            {message.map(|m| view! { <p class="error" role="alert" data-testid="form-error">{m}</p> })}
            <p><a class="button" href=back>{t.back}</a></p>
        </section>
    }
}
