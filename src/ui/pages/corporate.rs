//! Corporate accounts: the support request form and the corporate billing
//! portal (open invoices, Pay now).

use crate::ui::resource::resource;
use leptos::prelude::*;

use crate::api::corporate::{ContactSupport, PayInvoice, open_invoices};
use crate::api::types::InvoiceRow;
use crate::i18n::fill;
use crate::ui::components::error::ErrorNotice;
use crate::ui::i18n::use_ui;
use crate::ui::pages::help::HelpFor;

#[component]
pub fn SupportPage() -> impl IntoView {
    let send = ServerAction::<ContactSupport>::new();
    let t = use_ui();
    view! {
        <section class="page narrow">
            <h1>{t.support_title}</h1>
            <Show
                when=move || matches!(send.value().get(), Some(Ok(_)))
                fallback=move || view! {
                    <ActionForm action=send>
                        <label for="subject">{t.subject}</label>
                        <select id="subject" name="subject">
                            <option value="reactivation">{t.subject_reactivation}</option>
                            <option value="change">{t.subject_change}</option>
                            <option value="other">{t.subject_other}</option>
                        </select>
                        <label for="message">{t.message}</label>
                        <textarea id="message" name="message" rows="6" maxlength="5000" required></textarea>
                        <button type="submit" disabled=move || send.pending().get()>{t.send_request}</button>
                    </ActionForm>
                    {move || send.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNotice error=e/> })}
                }
            >
                <p role="status" data-testid="ticket">
                    {move || send.value().get().and_then(|r| r.ok()).map(|id| fill(t.request_sent, &[("id", &id.to_string())]))}
                </p>
                <a class="button" href="/billing">{t.back_to_subscriptions}</a>
            </Show>
        </section>
    }
}

#[component]
pub fn PortalPage() -> impl IntoView {
    let pay = ServerAction::<PayInvoice>::new();
    let data = resource(move || pay.version().get(), |_| open_invoices());
    let t = use_ui();
    view! {
        <section class="page">
            <h1>{t.corporate_portal}</h1>
            <p class="muted">{t.portal_blurb}</p>
            {move || pay.value().get().map(|r| match r {
                Ok(n) => view! { <p role="status" class="confirmation">{fill(t.invoice_paid, &[("number", &n)])}</p> }.into_any(),
                Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
            })}
            <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(rows) if rows.is_empty() => view! { <p>{t.no_open_invoices}</p> }.into_any(),
                        Ok(rows) => rows.into_iter().map(|r| view! { <OpenInvoice r pay/> }).collect_view().into_any(),
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    }
                })}
            </Suspense>
            <HelpFor slug="corporate-portal"/>
        </section>
    }
}

#[component]
fn OpenInvoice(r: InvoiceRow, pay: ServerAction<PayInvoice>) -> impl IntoView {
    let open = RwSignal::new(false);
    let id = r.id.to_string();
    let prefix = format!("inv{}", r.id);
    let (n, e, c) = (
        format!("{prefix}-number"),
        format!("{prefix}-expiry"),
        format!("{prefix}-cvc"),
    );
    let t = use_ui();
    let pay_label = fill(t.pay_amount, &[("amount", &r.total)]);
    view! {
        <article class="card" data-invoice=r.number.clone()>
            <header><h2>{fill(t.invoice_title, &[("number", &r.number)])}</h2><span class="badge status-pending_cancellation">{t.status_open}</span></header>
            <p>{fill(t.issued, &[("date", &r.issued_on), ("rest", &r.total)])}</p>
            <Show when=move || !open.get()>
                <button type="button" on:click=move |_| open.set(true)>{t.pay_now}</button>
            </Show>
            <Show when=move || open.get()>
                {
                    let (id, n, e, c, label) = (id.clone(), n.clone(), e.clone(), c.clone(), pay_label.clone());
                    view! {
                        <ActionForm action=pay>
                            <input type="hidden" name="id" value=id/>
                            <label for=n.clone()>{t.card_number}</label>
                            <input id=n name="number" inputmode="numeric" autocomplete="cc-number" required/>
                            <label for=e.clone()>{t.expiry}</label>
                            <input id=e name="expiry" autocomplete="cc-exp" placeholder=t.expiry_placeholder required/>
                            <label for=c.clone()>{t.cvc}</label>
                            <input id=c name="cvc" inputmode="numeric" autocomplete="cc-csc" maxlength="4" required/>
                            <button type="submit" disabled=move || pay.pending().get()>{label}</button>
                        </ActionForm>
                    }
                }
            </Show>
        </article>
    }
}
