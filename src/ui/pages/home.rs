//! The public home page: what a visitor needs, the sign-in form and the
//! help; a signed-in user is pointed to their billing.

use crate::ui::resource::resource;
use leptos::prelude::*;

use crate::api::auth::me;
use crate::i18n::fill;
use crate::ui::i18n::use_ui;
use crate::ui::pages::auth::SignInForm;

#[component]
pub fn HomePage() -> impl IntoView {
    let me = resource(|| (), |_| me());
    let t = use_ui();
    view! {
        <section class="page narrow">
            <h1>{t.home_title}</h1>
            <p>{t.home_blurb}</p>
            <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match me.await {
                        Ok(Some(u)) => view! {
                            <p data-testid="signed-in">{fill(t.signed_in_as, &[("name", &u.name), ("account", &u.account_name)])}</p>
                            <a class="button" href="/billing">{t.go_to_billing}</a>
                            " "
                            <a class="button secondary" href="/account">{t.my_account}</a>
                        }.into_any(),
                        _ => view! { <h2>{t.sign_in_title}</h2> <SignInForm/> }.into_any(),
                    }
                })}
            </Suspense>
            <p><a href="/help">{t.home_help}</a></p>
        </section>
    }
}
