//! Email texts, in the account's language, as plain text and HTML.
//! Written to the outbox inside the transaction of what they report;
//! delivery is the mailer's job.

use crate::billing::{Frequency, Quote};
use crate::db::writes::EmailWrite;
use crate::i18n::{Lang, fill};

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

/// `path` as a link in an email: on the address the billing center is
/// reached at (`BC_PUBLIC_URL`), or the path alone without it.
pub fn link(path: &str) -> String {
    let base = std::env::var("BC_PUBLIC_URL").unwrap_or_default();
    format!("{}{path}", base.trim_end_matches('/'))
}

/// A message of paragraphs plus the footer; every paragraph escaped once
/// for the HTML part.
pub fn compose(lang: Lang, to: &str, subject: String, paragraphs: &[String]) -> EmailWrite {
    let footer = lang.texts().email_footer;
    let mut text = paragraphs.join("\n\n");
    text.push_str("\n\n-- \n");
    text.push_str(footer);
    text.push('\n');
    let mut html = format!("<!doctype html><html lang=\"{}\"><body>", lang.code());
    for p in paragraphs {
        html.push_str(&format!("<p>{}</p>", escape(p).replace('\n', "<br>")));
    }
    html.push_str(&format!(
        "<hr><p style=\"color:#555\">{}</p></body></html>",
        escape(footer)
    ));
    EmailWrite {
        to: to.to_string(),
        subject,
        text,
        html,
    }
}

/// One short notice: a subject and a body from templates.
pub fn notice(
    lang: Lang,
    to: &str,
    subject: &str,
    body: &str,
    values: &[(&str, &str)],
) -> EmailWrite {
    compose(lang, to, fill(subject, values), &[fill(body, values)])
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

pub fn order_confirmation(
    lang: Lang,
    to: &str,
    invoice_number: Option<&str>,
    summary: &[String],
) -> EmailWrite {
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
    compose(lang, to, subject, &paragraphs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_part_escapes_what_users_typed() {
        let m = notice(
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
}
