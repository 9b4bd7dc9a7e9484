//! Corporate accounts: the support request form and the corporate billing
//! portal (open invoices, Pay now).

use crate::ui::resource::resource;
use leptos::prelude::*;

use crate::api::corporate::{ContactSupport, PayInvoice, open_invoices};
use crate::api::types::InvoiceRow;
use crate::i18n::fill;
use crate::ui::components::error::ErrorNotice;
use crate::ui::components::payment_form::{SetupForm, scripted};
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
    let id = r.id;
    let t = use_ui();
    let pay_label = StoredValue::new(fill(t.pay_amount, &[("amount", &r.total)]));
    let on = scripted();
    view! {
        <article class="card" data-invoice=r.number.clone()>
            <header><h2>{fill(t.invoice_title, &[("number", &r.number)])}</h2><span class="badge status-pending_cancellation">{t.status_open}</span></header>
            <p>{fill(t.issued, &[("date", &r.issued_on), ("rest", &r.total)])}</p>
            <Show when=move || !open.get()>
                <button type="button" on:click=move |_| open.set(true)>{t.pay_now}</button>
            </Show>
            <Show when=move || open.get()>
                <Show
                    when=move || on.get()
                    fallback=move || view! { <p class="notice" data-testid="needs-javascript">{t.needs_javascript}</p> }
                >
                    <SetupForm sepa=RwSignal::new(false) prefix=format!("inv{id}")
                        label=Signal::stored(pay_label.get_value())
                        pending=pay.pending()
                        then=move |setup_id, _| async move {
                            pay.dispatch(PayInvoice { id, setup_id });
                            Ok(())
                        }/>
                </Show>
            </Show>
        </article>
    }
}
