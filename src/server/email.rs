//! Email texts (English for now). Written to the outbox inside the order's
//! transaction; delivery is separate.

use crate::billing::Quote;
use crate::db::billing::EmailWrite;

pub fn order_summary_text(q: &Quote) -> String {
    let mut s = String::new();
    for item in &q.items {
        s.push_str(&format!(
            "{} {}: {} seat(s), {}",
            item.product_name,
            item.level_name,
            item.seats,
            item.frequency.code()
        ));
        if let Some(p) = item.period {
            s.push_str(&format!(", billing period {} to {}", p.start, p.last_day()));
        }
        s.push_str(&format!(", price {}\n", item.amount));
    }
    s.push_str(&format!(
        "Subtotal (excl. VAT): {}\nVAT ({}%): {}\nTotal: {}\n",
        q.totals.net,
        (q.totals.tax.rate() * rust_decimal::Decimal::from(100)).normalize(),
        q.totals.vat,
        q.totals.total_due
    ));
    if let Some(m) = q.totals.tax.legal_mention() {
        s.push_str(m);
        s.push('\n');
    }
    s
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub fn order_confirmation(to: &str, invoice_number: Option<&str>, summary: &str) -> EmailWrite {
    let subject = match invoice_number {
        Some(n) => format!("Your order confirmation: invoice {n}"),
        None => "Your order confirmation".to_string(),
    };
    let mut text = String::from("Thank you for your order.\n\n");
    if let Some(n) = invoice_number {
        text.push_str(&format!("Invoice number: {n}\n"));
    }
    text.push_str(summary);
    let html = format!(
        "<p>Thank you for your order.</p><pre>{}</pre>",
        escape(&text)
    );
    EmailWrite {
        to: to.to_string(),
        subject,
        text,
        html,
    }
}
