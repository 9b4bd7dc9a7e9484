//! The order page: billing period, seats, price, VAT, total due, payment
//! method with Change, and Place order (bound to an idempotency key created
//! when this page was rendered).

use leptos::prelude::*;

use crate::api::billing::{PlaceOrder, SaveCard, SaveSepa, checkout, payment_method};
use crate::api::types::{CheckoutView, PaymentMethodView};
use crate::domain::{CardNumber, Iban};
use crate::ui::components::error::ErrorNotice;
use crate::ui::components::summary::OrderSummary;

#[component]
pub fn CheckoutPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| checkout());
    view! {
        <section class="page">
            <h1>"Review your order"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(c) => view! { <Checkout c/> }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e/> <p><a href="/billing">"Back to subscriptions"</a></p> }.into_any(),
                    }
                })}
            </Suspense>
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
    view! {
        <Show
            when=move || placed().is_some()
            fallback=move || {
                let (key, digest, total) = (key.clone(), digest.clone(), total.clone());
                view! {
                    <OrderSummary quote=c.quote.clone()/>
                    <p><a href="/billing/cart" class="button secondary">"Modify order"</a></p>
                    <section class="payment">
                        <h2>"Payment method"</h2>
                        <p data-testid="payment-method">
                            {move || method.get().map(|m| m.label).unwrap_or_else(|| "No payment method on file.".into())}
                        </p>
                        <Show when=move || !changing.get()>
                            <button type="button" class="secondary" on:click=move |_| changing.set(true)>"Change"</button>
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
                            {move || if place.pending().get() { "Placing order…" } else { "Place order" }}
                        </button>
                    </ActionForm>
                }
            }
        >
            {move || placed().map(|r| {
                let invoice = r.invoice_id.map(|id| format!("/billing/invoices/{id}"));
                view! {
                    <div class="confirmation" role="status">
                        <h2>"Thank you: your order is confirmed"</h2>
                        {r.invoice_number.clone().map(|n| view! { <p>"Invoice number " <strong data-testid="invoice-number">{n}</strong></p> })}
                        <p>{format!("Amount charged: {}", r.total)}</p>
                        <p>{format!("A confirmation email has been sent to {}", r.email)}</p>
                        {invoice.map(|href| view! { <a class="button" href=href>"View invoice"</a> })}
                        <a class="button secondary" href="/billing">"Back to subscriptions"</a>
                    </div>
                }
            })}
        </Show>
    }
}

#[component]
pub fn PaymentForm(
    method: RwSignal<Option<PaymentMethodView>>,
    changing: RwSignal<bool>,
) -> impl IntoView {
    let save_card = ServerAction::<SaveCard>::new();
    let save_sepa = ServerAction::<SaveSepa>::new();
    let sepa = RwSignal::new(false);
    let card = RwSignal::new(String::new());
    let iban = RwSignal::new(String::new());
    // Only complain once something plausible has been typed.
    let card_error = move || {
        let n = card.get();
        (n.chars().filter(char::is_ascii_digit).count() >= 12)
            .then(|| CardNumber::parse(&n).err())
            .flatten()
    };
    let iban_error = move || {
        let t = iban.get();
        (t.trim().len() >= 15)
            .then(|| Iban::parse(&t).err())
            .flatten()
    };
    Effect::new(move |_| {
        let saved = save_card
            .value()
            .get()
            .and_then(|r| r.ok())
            .or_else(|| save_sepa.value().get().and_then(|r| r.ok()));
        if let Some(m) = saved {
            method.set(Some(m));
            changing.set(false);
        }
    });
    view! {
        <div class="payment-form">
            <label class="choice">
                <input type="checkbox" prop:checked=move || sepa.get() on:change=move |ev| sepa.set(event_target_checked(&ev))/>
                "Pay by SEPA direct debit instead"
            </label>
            <Show
                when=move || sepa.get()
                fallback=move || view! {
                    <ActionForm action=save_card>
                        <label for="card-number">"Card number"</label>
                        <input id="card-number" name="number" inputmode="numeric" autocomplete="cc-number" required
                            aria-describedby="card-number-error"
                            on:input=move |ev| card.set(event_target_value(&ev))/>
                        // Checked in the browser as typed; the server checks again.
                        <p id="card-number-error" class="error" aria-live="polite">{move || card_error()}</p>
                        <label for="card-expiry">"Expiry date (MM/YY)"</label>
                        <input id="card-expiry" name="expiry" autocomplete="cc-exp" placeholder="MM/YY" required/>
                        <label for="card-cvc">"CVC"</label>
                        <input id="card-cvc" name="cvc" inputmode="numeric" autocomplete="cc-csc" required maxlength="4"/>
                        <button type="submit" disabled=move || save_card.pending().get() || card_error().is_some()>"Save card"</button>
                    </ActionForm>
                }
            >
                <ActionForm action=save_sepa>
                    <label for="iban">"IBAN"</label>
                    <input id="iban" name="iban" required aria-describedby="iban-error"
                        on:input=move |ev| iban.set(event_target_value(&ev))/>
                    <p id="iban-error" class="error" aria-live="polite">{move || iban_error()}</p>
                    <button type="submit" disabled=move || save_sepa.pending().get() || iban_error().is_some()>"Save"</button>
                </ActionForm>
            </Show>
            {move || save_card.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNotice error=e/> })}
            {move || save_sepa.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNotice error=e/> })}
        </div>
    }
}

/// The payment method on file, viewed and changed outside checkout.
#[component]
pub fn PaymentMethodPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| payment_method());
    view! {
        <section class="page narrow">
            <h1>"Payment method"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(pm) => {
                            let changing = RwSignal::new(pm.is_none());
                            let method = RwSignal::new(pm);
                            view! {
                                <p data-testid="payment-method">
                                    {move || method.get().map(|m| m.label).unwrap_or_else(|| "No payment method on file.".into())}
                                </p>
                                <Show when=move || !changing.get()>
                                    <button type="button" class="secondary" on:click=move |_| changing.set(true)>"Change"</button>
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
        </section>
    }
}
