//! Invoice history (keyset-paginated) and invoice detail.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::billing::{invoice, invoices, mailbox};
use crate::ui::components::error::ErrorNotice;

#[component]
pub fn InvoicesPage() -> impl IntoView {
    let query = use_query_map();
    let before = move || {
        query
            .with(|q| q.get("before"))
            .and_then(|b| b.parse::<i64>().ok())
    };
    let data = Resource::new(before, invoices);
    view! {
        <section class="page">
            <div class="page-head">
                <h1>"Invoice history"</h1>
                // A file, not a page: rel=external keeps the router out of it.
                <a class="button secondary" href="/billing/invoices.csv" rel="external" download="invoices.csv">"Export CSV"</a>
            </div>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(page) if page.rows.is_empty() => view! { <p>"No invoices yet."</p> }.into_any(),
                        Ok(page) => view! {
                            <table class="invoices">
                                <thead><tr><th>"Date"</th><th>"Number"</th><th>"Period"</th><th class="num">"Amount"</th><th>"Status"</th><th>"PDF"</th></tr></thead>
                                <tbody>
                                    {page.rows.into_iter().map(|r| {
                                        let href = format!("/billing/invoices/{}", r.id);
                                        let pdf = format!("/billing/invoices/{}/pdf", r.id);
                                        let pdf_label = format!("PDF {}", r.number);
                                        view! {
                                            <tr>
                                                <td>{r.issued_on}</td>
                                                <td><a href=href>{r.number}</a></td>
                                                <td>{r.period}</td>
                                                <td class="num">{r.total}</td>
                                                <td>{r.status}</td>
                                                <td><a href=pdf rel="external" download aria-label=pdf_label>"PDF"</a></td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            {page.next.map(|n| {
                                let href = format!("/billing/invoices?before={n}");
                                view! { <a href=href>"Older invoices"</a> }
                            })}
                        }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
pub fn InvoicePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .with(|p| p.get("id"))
            .and_then(|i| i.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let data = Resource::new(id, invoice);
    view! {
        <section class="page">
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(i) => view! {
                            <h1>{format!("Invoice {}", i.number)}</h1>
                            <p>{format!("Issued {} · {}", i.issued_on, i.status)}</p>
                            <div class="parties">
                                <p><strong>"Seller"</strong><br/>{i.seller}</p>
                                <p><strong>"Billed to"</strong><br/>{i.buyer}</p>
                            </div>
                            <table class="lines">
                                <thead><tr><th>"Description"</th><th>"Period"</th><th class="num">"Seats"</th><th class="num">"Unit price"</th><th class="num">"Amount"</th></tr></thead>
                                <tbody>
                                    {i.lines.into_iter().map(|l| view! {
                                        <tr><td>{l.description}</td><td>{l.period}</td><td class="num">{l.seats}</td><td class="num">{l.unit}</td><td class="num">{l.amount}</td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <table class="totals">
                                <tbody>
                                    <tr><th scope="row">"Net"</th><td class="num">{i.net}</td></tr>
                                    <tr><th scope="row">{i.vat_label}</th><td class="num">{i.vat}</td></tr>
                                    <tr class="total"><th scope="row">"Total"</th><td class="num">{i.total}</td></tr>
                                </tbody>
                            </table>
                            {i.tax_mention.map(|m| view! { <p class="muted">{m}</p> })}
                            <p>
                                <a class="button secondary" href=format!("/billing/invoices/{}/pdf", i.id) rel="external" download>"Download PDF"</a>
                                " "
                                <a href="/billing/invoices">"Back to invoice history"</a>
                            </p>
                        }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// Demo mode: the emails in the outbox, as they would be sent.
#[component]
pub fn MailboxPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| mailbox());
    view! {
        <section class="page">
            <h1>"Mailbox (demo)"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(mails) if mails.is_empty() => view! { <p>"No email yet."</p> }.into_any(),
                        Ok(mails) => mails.into_iter().map(|m| view! {
                            <article class="card mail">
                                <h2>{m.subject}</h2>
                                <p class="muted">{format!("To {}{}", m.to, if m.sent { " · sent" } else { " · waiting in the outbox" })}</p>
                                <pre>{m.body}</pre>
                            </article>
                        }).collect_view().into_any(),
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
pub fn HelpPage() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Help"</h1>
            <h2>"Subscribe before your free trial ends"</h2>
            <p>"My Account → Go to Billing → Subscribe now. Choose the level, the number of seats and the billing frequency; the order summary at the bottom shows what you pay today. Place order, review the billing period, confirm your payment method and place the order."</p>
            <h2>"Renew before your subscription expires"</h2>
            <p>"A subscription with a pending cancellation shows a banner. Choose Remove pending cancellation, then Yes, remove cancellation: it renews at the end of the term and nothing is charged today."</p>
            <h2>"Reactivate an expired subscription"</h2>
            <p>"Choose Reactivate on the card, keep or change the plan, and place the order: a new term starts today."</p>
            <h2>"Corporate accounts"</h2>
            <p>"Corporate accounts are billed by invoice and managed by a dedicated representative: contact them or support for any change."</p>
        </section>
    }
}
