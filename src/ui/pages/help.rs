//! Help: the list of articles and each article, in the page's language,
//! from the server.

use crate::ui::resource::resource;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::api::help::help_page;
use crate::ui::components::error::ErrorNotice;
use crate::ui::i18n::use_ui;

/// `/help` (the list) and `/help/{slug}`.
#[component]
pub fn HelpPage() -> impl IntoView {
    let t = use_ui();
    let params = use_params_map();
    let slug = move || params.with(|p| p.get("slug")).unwrap_or_default();
    let page = resource(slug, help_page);
    view! {
        <section class="page help">
            <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(p) => view! {
                            <h1>{p.title}</h1>
                            // Built on the server from our own text, every piece escaped.
                            <div class="article-body" inner_html=p.body_html></div>
                        }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    }
                })}
            </Suspense>
            {move || (!slug().is_empty()).then(|| view! { <p><a href="/help">{t.back_to_help}</a></p> })}
        </section>
    }
}

/// A link to the article that explains the page it sits on.
#[component]
pub fn HelpFor(slug: &'static str) -> impl IntoView {
    let href = format!("/help/{slug}");
    view! { <p class="help-link"><a href=href>{use_ui().help_this_page}</a></p> }
}
