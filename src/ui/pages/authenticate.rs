//! `/billing/authenticate/{intent}`: a renewal payment the bank wants the
//! customer to confirm (3-D Secure), reached from the link in its email.
//! Stripe.js asks the customer; then the past-due renewal is charged again
//! under the same reference and finds the payment made.

use crate::ui::resource::resource;
use leptos::prelude::*;

use crate::api::billing::{payment_confirmed, payment_to_confirm};
use crate::api::types::PendingPaymentView;
use crate::error::AppError;
use crate::i18n::fill;
use crate::ui::components::error::ErrorNotice;
use crate::ui::components::payment_form::scripted;
use crate::ui::i18n::use_ui;

#[component]
pub fn AuthenticatePage() -> impl IntoView {
    let t = use_ui();
    let params = leptos_router::hooks::use_params_map();
    let intent = move || params.with(|p| p.get("intent")).unwrap_or_default();
    let data = resource(intent, payment_to_confirm);
    view! {
        <section class="page narrow">
            <h1>{t.authenticate_title}</h1>
            <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(p) => view! { <Confirm p intent=intent()/> }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Confirm(p: PendingPaymentView, intent: String) -> impl IntoView {
    let t = use_ui();
    let on = scripted();
    let done = RwSignal::new(p.done);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<AppError>);
    let amount = p.amount.clone();
    let (p, intent) = (StoredValue::new(p), StoredValue::new(intent));
    let confirm = move |_| {
        let (p, intent) = (p.get_value(), intent.get_value());
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let confirmed = match crate::ui::stripe_js::load(&p.js_url).await {
                Ok(()) => {
                    crate::ui::stripe_js::confirm_card_payment(&p.publishable_key, &p.client_secret)
                        .await
                }
                Err(e) => Err(e),
            };
            let result = match confirmed {
                Ok(()) => payment_confirmed(intent).await,
                Err(e) => Err(AppError::Payment(e)),
            };
            busy.set(false);
            match result {
                Ok(()) => done.set(true),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <p>{fill(t.amount_charged, &[("amount", &amount)])}</p>
        <Show
            when=move || !done.get()
            fallback=move || view! { <p role="status" class="confirmation" data-testid="payment-authenticated">{t.payment_authenticated}</p> }
        >
            <Show
                when=move || on.get()
                fallback=move || view! { <p class="notice">{t.needs_javascript}</p> }
            >
                <button type="button" class="primary" disabled=move || busy.get() on:click=confirm>
                    {t.authenticate_payment}
                </button>
            </Show>
        </Show>
        {move || error.get().map(|e| view! { <ErrorNotice error=e/> })}
        <p><a href="/billing">{t.back_to_subscriptions}</a></p>
    }
}
