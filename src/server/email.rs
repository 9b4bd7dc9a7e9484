//! Email texts, in the account's language, as plain text and HTML.
//! Written to the outbox inside the transaction of what they report;
//! delivery is the mailer's job.

use crate::billing::{Frequency, Quote};
use crate::db::writes::EmailWrite;
use crate::domain::InvoiceId;
use crate::i18n::{Lang, fill};
use crate::server::identity::Identity;

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn frequency(lang: Lang, f: Frequency) -> &'static str {
    match f {
        Frequency::Monthly => lang.texts().monthly,
        Frequency::Annual => lang.texts().annual,
    }
}

/// A message of paragraphs plus the footer, signed with the product's
/// name and a link to the billing center; every paragraph escaped once
/// for the HTML part.
pub fn compose(
    site: &Identity,
    lang: Lang,
    to: &str,
    subject: String,
    paragraphs: &[String],
) -> EmailWrite {
    let footer = lang.texts().email_footer;
    let home = site.link("/billing");
    let mut text = paragraphs.join("\n\n");
    text.push_str("\n\n-- \n");
    text.push_str(footer);
    text.push_str(&format!("\n{}: {home}\n", site.product_name));
    let mut html = format!("<!doctype html><html lang=\"{}\"><body>", lang.code());
    for p in paragraphs {
        html.push_str(&format!(
            "<p>{}</p>",
            linked(site, &escape(p)).replace('\n', "<br>")
        ));
    }
    html.push_str(&format!(
        "<hr><p style=\"color:#555\">{}<br><a href=\"{}\" style=\"color:{}\">{}</a></p></body></html>",
        escape(footer),
        escape(&home),
        site.colour.as_str(),
        escape(&site.product_name)
    ));
    EmailWrite {
        to: to.to_string(),
        subject,
        text,
        html,
        attachment: None,
    }
}

/// One short notice: a subject and a body from templates.
pub fn notice(
    site: &Identity,
    lang: Lang,
    to: &str,
    subject: &str,
    body: &str,
    values: &[(&str, &str)],
) -> EmailWrite {
    compose(site, lang, to, fill(subject, values), &[fill(body, values)])
}

/// The lines of an order: what, period, seats, price; then the totals.
pub fn order_summary(lang: Lang, q: &Quote) -> Vec<String> {
    let t = lang.texts();
    let mut items = Vec::new();
    for item in &q.items {
        let mut s = format!(
            "{} {} ({})\n{}: {}",
            item.product_name,
            item.level_name,
            frequency(lang, item.frequency),
            t.seats,
            item.seats
        );
        if let Some(p) = item.period {
            let range = fill(
                t.period_range,
                &[
                    ("start", &lang.date(p.start)),
                    ("end", &lang.date(p.last_day())),
                ],
            );
            s.push_str(&format!("\n{}: {range}", t.billing_period));
        }
        s.push_str(&format!("\n{}: {}", t.price, lang.money(item.amount)));
        items.push(s);
    }
    let mut totals = format!(
        "{}: {}\n{}: {}",
        t.subtotal,
        lang.money(q.totals.net),
        fill(t.vat_rate, &[("rate", &lang.percent(q.totals.tax.rate()))]),
        lang.money(q.totals.vat)
    );
    if !q.totals.credit_applied.is_zero() {
        totals.push_str(&format!(
            "\n{}: -{}",
            t.credit_applied,
            lang.money(q.totals.credit_applied)
        ));
    }
    totals.push_str(&format!(
        "\n{}: {}",
        t.total,
        lang.money(q.totals.total_due)
    ));
    if q.totals.tax.legal_mention().is_some() {
        totals.push('\n');
        totals.push_str(t.reverse_charge);
    }
    items.push(totals);
    items
}

/// A receipt: its paragraphs, then a link to the invoice's page; the
/// invoice is attached as its PDF when the mailer sends it.
pub fn receipt(
    site: &Identity,
    (lang, to): (Lang, &str),
    subject: String,
    mut paragraphs: Vec<String>,
    invoice: Option<InvoiceId>,
) -> EmailWrite {
    if let Some(id) = invoice {
        let link = site.link(&format!("/billing/invoices/{id}"));
        paragraphs.push(fill(lang.texts().invoice_link, &[("link", &link)]));
    }
    EmailWrite {
        attachment: invoice,
        ..compose(site, lang, to, subject, &paragraphs)
    }
}

pub fn order_confirmation(
    site: &Identity,
    lang: Lang,
    to: &str,
    invoice: Option<(InvoiceId, &str)>,
    summary: &[String],
) -> EmailWrite {
    let invoice_number = invoice.map(|(_, n)| n);
    let t = lang.texts();
    let subject = match invoice_number {
        Some(n) => fill(t.order_subject, &[("number", n)]),
        None => t.order_subject_no_invoice.to_string(),
    };
    let mut paragraphs = vec![t.order_thanks.to_string()];
    if let Some(n) = invoice_number {
        paragraphs.push(format!("{}: {n}", t.invoice_number));
    }
    paragraphs.extend(summary.iter().cloned());
    receipt(
        site,
        (lang, to),
        subject,
        paragraphs,
        invoice.map(|(id, _)| id),
    )
}

/// Escaped text with the addresses of the billing center made links:
/// only ours, so that a name a customer typed never becomes one.
fn linked(site: &Identity, escaped: &str) -> String {
    let base = escape(&site.public_url);
    let mut out = String::new();
    let mut rest = escaped;
    while let Some(i) = rest.find(base.as_str()) {
        let (before, from) = rest.split_at(i);
        out.push_str(before);
        let end = from.find(char::is_whitespace).unwrap_or(from.len());
        let url = from[..end].trim_end_matches(['.', ',', ')']);
        out.push_str(&format!(
            "<a href=\"{url}\" style=\"color:{}\">{url}</a>",
            site.colour.as_str()
        ));
        rest = &from[url.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_part_escapes_what_users_typed() {
        let site = crate::server::config::Config::demo().identity;
        let m = notice(
            &site,
            Lang::En,
            "a@b.test",
            "{product}",
            "Hi {product}",
            &[("product", "<script>x</script>")],
        );
        assert!(m.html.contains("&lt;script&gt;"));
        assert!(!m.html.contains("<script>"));
        assert!(m.text.contains("Hi <script>"));
    }

    #[test]
    fn french_notice_is_french() {
        let t = Lang::Fr.texts();
        let m = notice(
            &crate::server::config::Config::demo().identity,
            Lang::Fr,
            "a@b.test",
            t.trial_reminder_subject,
            t.trial_reminder_body,
            &[("product", "GoToMeeting"), ("date", "30/11/2026")],
        );
        assert_eq!(
            m.subject,
            "Votre essai de GoToMeeting se termine le 30/11/2026"
        );
        assert!(m.text.contains("centre de facturation"));
        assert!(m.html.contains("lang=\"fr\""));
    }

    #[test]
    fn only_links_to_the_billing_center_are_made_clickable() {
        let site = crate::server::config::Config::demo().identity;
        let m = notice(
            &site,
            Lang::En,
            "a@b.test",
            "Reset",
            "Open {link}. Not https://evil.example/{link}",
            &[("link", &site.link("/password/reset/abc"))],
        );
        let ours = format!(
            "<a href=\"{0}/password/reset/abc\" style=\"color:#0b5cd5\">{0}/password/reset/abc</a>.",
            site.public_url
        );
        assert!(m.html.contains(&ours), "{}", m.html);
        assert!(!m.html.contains("href=\"https://evil"));
        assert!(
            m.text
                .contains(&format!("Billing Center: {}/billing", site.public_url))
        );
    }
}
