//! The order page: billing period, seats, price, VAT, total due, payment
//! method with Change, and Place order (bound to an idempotency key created
//! when this page was rendered).

use crate::ui::resource::resource;
use leptos::prelude::*;

use crate::api::billing::{PlaceOrder, checkout, order_confirmation, payment_method};
use crate::api::types::{CheckoutView, OrderResult, PaymentMethodView};
use crate::i18n::fill;
use crate::ui::components::error::ErrorNotice;
use crate::ui::components::payment_form::PaymentForm;
use crate::ui::components::summary::OrderSummary;
use crate::ui::i18n::use_ui;
use crate::ui::pages::help::HelpFor;

#[component]
pub fn CheckoutPage() -> impl IntoView {
    let data = resource(|| (), |_| checkout());
    let t = use_ui();
    view! {
        <section class="page">
            <h1>{t.review_order}</h1>
            <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(c) => view! { <Checkout c/> }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e/> <p><a href="/billing">{t.back_to_subscriptions}</a></p> }.into_any(),
                    }
                })}
            </Suspense>
            <HelpFor slug="payments-faq"/>
        </section>
    }
}

#[component]
fn Checkout(c: CheckoutView) -> impl IntoView {
    let place = ServerAction::<PlaceOrder>::new();
    let method: RwSignal<Option<PaymentMethodView>> = RwSignal::new(c.payment_method.clone());
    let changing = RwSignal::new(c.payment_method.is_none());
    let total = c.quote.totals.total_due.plain();
    let (key, digest) = (c.idempotency_key.clone(), c.cart_digest.clone());
    let placed = move || place.value().get().and_then(|r| r.ok());
    let t = use_ui();
    // The bank wants this payment confirmed (3-D Secure): Stripe.js asks
    // the customer, then the same order (same key) is placed again, and
    // the server finds the payment made.
    let stripe = c.stripe.clone();
    let retry = (key.clone(), digest.clone(), total.clone());
    let authenticating = RwSignal::new(false);
    Effect::new(move |_| {
        let Some(Err(crate::error::AppError::ActionRequired { client_secret })) =
            place.value().get()
        else {
            return;
        };
        let (Some((pk, js)), false) = (stripe.clone(), authenticating.get_untracked()) else {
            return;
        };
        authenticating.set(true);
        let (key, cart_digest, expected_total) = retry.clone();
        leptos::task::spawn_local(async move {
            let confirmed = match crate::ui::stripe_js::load(&js).await {
                Ok(()) => crate::ui::stripe_js::confirm_card_payment(&pk, &client_secret).await,
                Err(e) => Err(e),
            };
            authenticating.set(false);
            match confirmed {
                Ok(()) => {
                    place.dispatch(PlaceOrder {
                        key,
                        expected_total,
                        cart_digest,
                    });
                }
                Err(e) => place
                    .value()
                    .set(Some(Err(crate::error::AppError::Payment(e)))),
            }
        });
    });
    view! {
        <Show
            when=move || placed().is_some()
            fallback=move || {
                let (key, digest, total) = (key.clone(), digest.clone(), total.clone());
                view! {
                    <OrderSummary quote=c.quote.clone()/>
                    <p><a href="/billing/cart" class="button secondary">{t.modify_order}</a></p>
                    <section class="payment">
                        <h2>{t.payment_method}</h2>
                        <p data-testid="payment-method">
                            {move || method.get().map(|m| m.label).unwrap_or_else(|| t.no_payment_method.into())}
                        </p>
                        <Show when=move || !changing.get()>
                            <button type="button" class="secondary" on:click=move |_| changing.set(true)>{t.change}</button>
                        </Show>
                        <Show when=move || changing.get()>
                            <PaymentForm method changing/>
                        </Show>
                    </section>
                    {move || place.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNotice error=e/> })}
                    <ActionForm action=place>
                        <input type="hidden" name="key" value=key.clone()/>
                        <input type="hidden" name="expected_total" value=total.clone()/>
                        <input type="hidden" name="cart_digest" value=digest.clone()/>
                        <button type="submit" class="primary" disabled=move || place.pending().get() || method.get().is_none()>
                            {move || if place.pending().get() { t.placing_order } else { t.place_order }}
                        </button>
                    </ActionForm>
                }
            }
        >
            {move || placed().map(|r| view! { <Confirmation r/> })}
        </Show>
    }
}

/// What an order placed: shown in the order page, or as a page of its own
/// (`/billing/orders/{key}`) when the order was placed without JavaScript.
#[component]
fn Confirmation(r: OrderResult) -> impl IntoView {
    let t = use_ui();
    let invoice = r.invoice_id.map(|id| format!("/billing/invoices/{id}"));
    view! {
        <div class="confirmation" role="status">
            <h2>{t.order_confirmed}</h2>
            {r.invoice_number.clone().map(|n| view! { <p>{t.invoice_number} " " <strong data-testid="invoice-number">{n}</strong></p> })}
            <p>{fill(t.amount_charged, &[("amount", &r.total)])}</p>
            <p>{fill(t.email_sent, &[("email", &r.email)])}</p>
            {invoice.map(|href| view! { <a class="button" href=href>{t.view_invoice}</a> })}
            <a class="button secondary" href="/billing">{t.back_to_subscriptions}</a>
        </div>
    }
}

#[component]
pub fn OrderPage() -> impl IntoView {
    let t = use_ui();
    let params = leptos_router::hooks::use_params_map();
    let data = resource(
        move || params.with(|p| p.get("key")).unwrap_or_default(),
        order_confirmation,
    );
    view! {
        <section class="page">
            <h1>{t.review_order}</h1>
            <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(r) => view! { <Confirmation r/> }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The payment method on file, viewed and changed outside checkout.
#[component]
pub fn PaymentMethodPage() -> impl IntoView {
    let data = resource(|| (), |_| payment_method());
    let t = use_ui();
    view! {
        <section class="page narrow">
            <h1>{t.payment_method}</h1>
            <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(pm) => {
                            let changing = RwSignal::new(pm.is_none());
                            let method = RwSignal::new(pm);
                            view! {
                                <p data-testid="payment-method">
                                    {move || method.get().map(|m| m.label).unwrap_or_else(|| t.no_payment_method.into())}
                                </p>
                                <Show when=move || !changing.get()>
                                    <button type="button" class="secondary" on:click=move |_| changing.set(true)>{t.change}</button>
                                </Show>
                                <Show when=move || changing.get()>
                                    <PaymentForm method changing/>
                                </Show>
                            }.into_any()
                        }
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    }
                })}
            </Suspense>
            <HelpFor slug="payment-method"/>
        </section>
    }
}
