//! The order summary: renders an engine `Quote` and nothing else, so the
//! browser preview and the server's charge show the same figures.

use leptos::prelude::*;

use crate::billing::quote::{Effective, ItemKind, LineKind};
use crate::billing::{Frequency, Quote};
use crate::i18n::fill;
use crate::ui::i18n::{use_lang, use_ui};

#[component]
pub fn OrderSummary(quote: Quote) -> impl IntoView {
    let (lang, ui) = (use_lang(), use_ui());
    let money = move |m: crate::billing::Money| lang.money(m);
    let vat_pct = lang.percent(quote.totals.tax.rate());
    let mention = quote.totals.tax.legal_mention().map(|_| ui.reverse_charge);
    let renewal = quote.next_renewal();
    let t = quote.totals.clone();
    view! {
        <section class="summary" aria-label=ui.order_summary data-testid="order-summary">
            <h2>{ui.order_summary}</h2>
            {quote
                .items
                .iter()
                .map(|item| {
                    let heading = format!("{} {}", item.product_name, item.level_name);
                    let effective = match (item.kind, item.effective) {
                        (ItemKind::Downgrade, Effective::From(d)) => Some(fill(ui.takes_effect, &[("date", &lang.date(d))])),
                        (ItemKind::RemovePendingCancellation, _) => Some(ui.renewal_restored.to_string()),
                        (ItemKind::Unchanged, _) => Some(ui.no_change.to_string()),
                        _ => None,
                    };
                    view! {
                        <div class="summary-item">
                            <h3>{heading}</h3>
                            <dl>
                                {item.period.map(|p| view! {
                                    <dt>{ui.billing_period}</dt>
                                    <dd data-testid="billing-period">{fill(ui.period_range, &[("start", &lang.date(p.start)), ("end", &lang.date(p.last_day()))])}</dd>
                                })}
                                <dt>{ui.seats}</dt>
                                <dd data-testid="seats">{item.seats}</dd>
                                <dt>{ui.subscription_price}</dt>
                                <dd>{fill(match item.frequency {
                                    Frequency::Monthly => ui.per_seat_per_month,
                                    Frequency::Annual => ui.per_seat_per_year,
                                }, &[("price", &money(item.unit_price))])}</dd>
                            </dl>
                            {effective.map(|e| view! { <p class="muted">{e}</p> })}
                            <table class="lines">
                                <tbody>
                                    {item.lines.iter().map(|l| {
                                        let label = match l.kind {
                                            LineKind::Term => fill(ui.line_term, &[("price", &money(l.unit_price)), ("n", &l.seats.to_string())]),
                                            LineKind::Prorated { remaining_days, period_days } => fill(ui.line_prorated, &[("days", &remaining_days.to_string()), ("total", &period_days.to_string())]),
                                            LineKind::UnusedCredit { remaining_days, period_days } => fill(ui.line_credit, &[("days", &remaining_days.to_string()), ("total", &period_days.to_string())]),
                                        };
                                        view! { <tr><td>{label}</td><td class="num">{money(l.amount)}</td></tr> }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }
                })
                .collect_view()}
            <table class="totals">
                <tbody>
                    <tr><th scope="row">{ui.subtotal}</th><td class="num">{money(t.subtotal)}</td></tr>
                    {(!t.credit_applied.is_zero()).then(|| view! {
                        <tr><th scope="row">{ui.account_credit}</th><td class="num">{money(-t.credit_applied)}</td></tr>
                    })}
                    <tr><th scope="row">{fill(ui.vat, &[("rate", &vat_pct)])}</th><td class="num" data-testid="vat">{money(t.vat)}</td></tr>
                    <tr class="total"><th scope="row">{ui.total_due_today}</th><td class="num" data-testid="total">{money(t.total_due)}</td></tr>
                </tbody>
            </table>
            {mention.map(|m| view! { <p class="muted">{m}</p> })}
            {(!t.credit_created.is_zero()).then(|| view! {
                <p class="muted">{fill(ui.credit_kept, &[("amount", &money(t.credit_created))])}</p>
            })}
            {renewal.map(|(d, amount)| view! {
                <p data-testid="next-renewal">{fill(ui.next_renewal, &[("date", &lang.date(d)), ("amount", &money(amount))])}</p>
            })}
        </section>
    }
}
