//! The order summary: renders an engine `Quote` and nothing else, so the
//! browser preview and the server's charge show the same figures.

use leptos::prelude::*;

use crate::api::billing::format_date;
use crate::billing::quote::{Effective, ItemKind, LineKind};
use crate::billing::{Frequency, Quote};

fn per(f: Frequency) -> &'static str {
    match f {
        Frequency::Monthly => "month",
        Frequency::Annual => "year",
    }
}

#[component]
pub fn OrderSummary(quote: Quote) -> impl IntoView {
    let vat_pct = (quote.totals.tax.rate() * rust_decimal::Decimal::from(100))
        .normalize()
        .to_string();
    let mention = quote.totals.tax.legal_mention();
    let renewal = quote.next_renewal();
    let t = quote.totals.clone();
    view! {
        <section class="summary" aria-label="Order summary" data-testid="order-summary">
            <h2>"Order summary"</h2>
            {quote
                .items
                .iter()
                .map(|item| {
                    let heading = format!("{} {}", item.product_name, item.level_name);
                    let effective = match (item.kind, item.effective) {
                        (ItemKind::Downgrade, Effective::From(d)) => Some(format!("Takes effect from {}; nothing is charged today.", format_date(d))),
                        (ItemKind::RemovePendingCancellation, _) => Some("Renewal restored; nothing is charged today.".to_string()),
                        (ItemKind::Unchanged, _) => Some("No change.".to_string()),
                        _ => None,
                    };
                    view! {
                        <div class="summary-item">
                            <h3>{heading}</h3>
                            <dl>
                                {item.period.map(|p| view! {
                                    <dt>"Billing period"</dt>
                                    <dd data-testid="billing-period">{format!("{} – {}", format_date(p.start), format_date(p.last_day()))}</dd>
                                })}
                                <dt>"Seats"</dt>
                                <dd data-testid="seats">{item.seats}</dd>
                                <dt>"Subscription price"</dt>
                                <dd>{format!("{} per seat per {}", item.unit_price, per(item.frequency))}</dd>
                            </dl>
                            {effective.map(|e| view! { <p class="muted">{e}</p> })}
                            <table class="lines">
                                <tbody>
                                    {item.lines.iter().map(|l| {
                                        let label = match l.kind {
                                            LineKind::Term => format!("{} × {} seat(s)", l.unit_price, l.seats),
                                            LineKind::Prorated { remaining_days, period_days } => format!("New plan, {remaining_days} of {period_days} days"),
                                            LineKind::UnusedCredit { remaining_days, period_days } => format!("Credit for unused time, {remaining_days} of {period_days} days"),
                                        };
                                        view! { <tr><td>{label}</td><td class="num">{l.amount.to_string()}</td></tr> }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }
                })
                .collect_view()}
            <table class="totals">
                <tbody>
                    <tr><th scope="row">"Subtotal (excl. VAT)"</th><td class="num">{t.subtotal.to_string()}</td></tr>
                    {(!t.credit_applied.is_zero()).then(|| view! {
                        <tr><th scope="row">"Account credit"</th><td class="num">{(-t.credit_applied).to_string()}</td></tr>
                    })}
                    <tr><th scope="row">{format!("VAT ({vat_pct}%)")}</th><td class="num" data-testid="vat">{t.vat.to_string()}</td></tr>
                    <tr class="total"><th scope="row">"Total amount due today"</th><td class="num" data-testid="total">{t.total_due.to_string()}</td></tr>
                </tbody>
            </table>
            {mention.map(|m| view! { <p class="muted">{m}</p> })}
            {(!t.credit_created.is_zero()).then(|| view! {
                <p class="muted">{format!("{} will be kept as credit for your next invoices.", t.credit_created)}</p>
            })}
            {renewal.map(|(d, amount)| view! {
                <p data-testid="next-renewal">{format!("Next renewal: {} for {} (incl. VAT)", format_date(d), amount)}</p>
            })}
        </section>
    }
}
