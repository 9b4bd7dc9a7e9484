//! Corporate accounts: the support request form and the corporate billing
//! portal (open invoices, Pay now).

use leptos::prelude::*;

use crate::api::corporate::{ContactSupport, PayInvoice, open_invoices};
use crate::api::types::InvoiceRow;
use crate::ui::components::error::ErrorNotice;

#[component]
pub fn SupportPage() -> impl IntoView {
    let send = ServerAction::<ContactSupport>::new();
    view! {
        <section class="page narrow">
            <h1>"Contact support"</h1>
            <Show
                when=move || matches!(send.value().get(), Some(Ok(_)))
                fallback=move || view! {
                    <ActionForm action=send>
                        <label for="subject">"Subject"</label>
                        <select id="subject" name="subject">
                            <option value="reactivation">"Reactivation"</option>
                            <option value="change">"Change"</option>
                            <option value="other">"Other"</option>
                        </select>
                        <label for="message">"Message"</label>
                        <textarea id="message" name="message" rows="6" maxlength="5000" required></textarea>
                        <button type="submit" disabled=move || send.pending().get()>"Send request"</button>
                    </ActionForm>
                    {move || send.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNotice error=e/> })}
                }
            >
                <p role="status" data-testid="ticket">
                    {move || send.value().get().and_then(|r| r.ok()).map(|id| format!("Your request #{id} was sent to support. We will answer by email."))}
                </p>
                <a class="button" href="/billing">"Back to subscriptions"</a>
            </Show>
        </section>
    }
}

#[component]
pub fn PortalPage() -> impl IntoView {
    let pay = ServerAction::<PayInvoice>::new();
    let data = Resource::new(move || pay.version().get(), |_| open_invoices());
    view! {
        <section class="page">
            <h1>"Corporate billing portal"</h1>
            <p class="muted">"Open invoices of your account. Pay by card; a receipt is emailed to you."</p>
            {move || pay.value().get().map(|r| match r {
                Ok(n) => view! { <p role="status" class="confirmation">{format!("Invoice {n} is paid. A receipt has been emailed to you.")}</p> }.into_any(),
                Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
            })}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(rows) if rows.is_empty() => view! { <p>"No open invoices."</p> }.into_any(),
                        Ok(rows) => rows.into_iter().map(|r| view! { <OpenInvoice r pay/> }).collect_view().into_any(),
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    }
                })}
            </Suspense>
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
    let pay_label = format!("Pay {}", r.total);
    view! {
        <article class="card" data-invoice=r.number.clone()>
            <header><h2>{format!("Invoice {}", r.number)}</h2><span class="badge status-pending_cancellation">"Open"</span></header>
            <p>{format!("Issued {} · {}", r.issued_on, r.total)}</p>
            <Show when=move || !open.get()>
                <button type="button" on:click=move |_| open.set(true)>"Pay now"</button>
            </Show>
            <Show when=move || open.get()>
                {
                    let (id, n, e, c, label) = (id.clone(), n.clone(), e.clone(), c.clone(), pay_label.clone());
                    view! {
                        <ActionForm action=pay>
                            <input type="hidden" name="id" value=id/>
                            <label for=n.clone()>"Card number"</label>
                            <input id=n name="number" inputmode="numeric" autocomplete="cc-number" required/>
                            <label for=e.clone()>"Expiry date (MM/YY)"</label>
                            <input id=e name="expiry" autocomplete="cc-exp" placeholder="MM/YY" required/>
                            <label for=c.clone()>"CVC"</label>
                            <input id=c name="cvc" inputmode="numeric" autocomplete="cc-csc" maxlength="4" required/>
                            <button type="submit" disabled=move || pay.pending().get()>{label}</button>
                        </ActionForm>
                    }
                }
            </Show>
        </article>
    }
}
