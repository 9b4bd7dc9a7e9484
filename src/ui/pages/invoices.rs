//! Invoice history (keyset-paginated) and invoice detail.

use crate::domain::InvoiceId;
use crate::ui::resource::resource;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::billing::{invoice, invoices, mailbox};
use crate::i18n::fill;
use crate::ui::components::error::ErrorNotice;
use crate::ui::i18n::use_ui;
use crate::ui::pages::help::HelpFor;

#[component]
pub fn InvoicesPage() -> impl IntoView {
    let query = use_query_map();
    let before = move || {
        query
            .with(|q| q.get("before"))
            .and_then(|b| b.parse::<InvoiceId>().ok())
    };
    let data = resource(before, invoices);
    let t = use_ui();
    view! {
        <section class="page">
            <div class="page-head">
                <h1>{t.invoices_title}</h1>
                // A file, not a page: rel=external keeps the router out of it.
                <a class="button secondary" href="/billing/invoices.csv" rel="external" download="invoices.csv">{t.export_csv}</a>
            </div>
            <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(page) if page.rows.is_empty() => view! { <p>{t.no_invoices}</p> }.into_any(),
                        Ok(page) => view! {
                            <table class="invoices">
                                <thead><tr><th>{t.date}</th><th>{t.number}</th><th>{t.period}</th><th class="num">{t.amount}</th><th>{t.status}</th><th>{t.pdf}</th></tr></thead>
                                <tbody>
                                    {page.rows.into_iter().map(|r| {
                                        let href = format!("/billing/invoices/{}", r.id);
                                        let pdf = format!("/billing/invoices/{}/pdf", r.id);
                                        let pdf_label = fill(t.pdf_of, &[("number", &r.number)]);
                                        view! {
                                            <tr>
                                                <td>{r.issued_on}</td>
                                                <td><a href=href>{r.number}</a></td>
                                                <td>{r.period}</td>
                                                <td class="num">{r.total}</td>
                                                <td>{r.status}</td>
                                                <td><a href=pdf rel="external" download aria-label=pdf_label>{t.pdf}</a></td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            {page.next.map(|n| {
                                let href = format!("/billing/invoices?before={n}");
                                view! { <a href=href>{t.older_invoices}</a> }
                            })}
                        }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    }
                })}
            </Suspense>
            <HelpFor slug="invoice-history"/>
        </section>
    }
}

#[component]
pub fn InvoicePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .with(|p| p.get("id"))
            .and_then(|i| i.parse::<InvoiceId>().ok())
            .unwrap_or(InvoiceId::new(0))
    };
    let data = resource(id, invoice);
    let t = use_ui();
    view! {
        <section class="page">
            <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(i) => view! {
                            <h1>{fill(t.invoice_title, &[("number", &i.number)])}</h1>
                            <p>{fill(t.issued, &[("date", &i.issued_on), ("rest", &i.status)])}</p>
                            <div class="parties">
                                <p><strong>{t.seller}</strong><br/>{i.seller}</p>
                                <p><strong>{t.billed_to}</strong><br/>{i.buyer}</p>
                            </div>
                            <table class="lines">
                                <thead><tr><th>{t.description}</th><th>{t.period}</th><th class="num">{t.seats}</th><th class="num">{t.unit_price}</th><th class="num">{t.amount}</th></tr></thead>
                                <tbody>
                                    {i.lines.into_iter().map(|l| view! {
                                        <tr><td>{l.description}</td><td>{l.period}</td><td class="num">{l.seats}</td><td class="num">{l.unit}</td><td class="num">{l.amount}</td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <table class="totals">
                                <tbody>
                                    {i.credit_applied.map(|credit| view! {
                                        <tr><th scope="row">{t.subtotal}</th><td class="num">{i.subtotal}</td></tr>
                                        <tr><th scope="row">{t.credit_applied}</th><td class="num">{credit}</td></tr>
                                    })}
                                    <tr><th scope="row">{t.net}</th><td class="num">{i.net}</td></tr>
                                    <tr><th scope="row">{i.vat_label}</th><td class="num">{i.vat}</td></tr>
                                    <tr class="total"><th scope="row">{t.total}</th><td class="num">{i.total}</td></tr>
                                </tbody>
                            </table>
                            {i.carried_forward.map(|amount| view! {
                                <p class="carried-forward"><strong>{fill(t.carried_forward, &[("amount", &amount)])}</strong></p>
                            })}
                            {i.tax_mention.map(|m| view! { <p class="muted">{m}</p> })}
                            <p>
                                <a class="button secondary" href=format!("/billing/invoices/{}/pdf", i.id) rel="external" download>{t.download_pdf}</a>
                                " "
                                <a href="/billing/invoices">{t.back_to_invoices}</a>
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
    let data = resource(|| (), |_| mailbox());
    let t = use_ui();
    view! {
        <section class="page">
            <h1>{t.mailbox_title}</h1>
            <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(mails) if mails.is_empty() => view! { <p>{t.no_email}</p> }.into_any(),
                        Ok(mails) => mails.into_iter().map(|m| view! {
                            <article class="card mail">
                                <h2>{m.subject}</h2>
                                <p class="muted">{fill(t.mail_to, &[("to", &m.to)])}{if m.sent { t.mail_sent } else { t.mail_waiting }}</p>
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
