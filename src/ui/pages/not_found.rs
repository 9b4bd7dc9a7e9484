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
