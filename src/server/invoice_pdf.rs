//! The invoice as a PDF, in English or French, with the legal mentions:
//! seller and buyer (as copied onto the invoice at issue), number, dates,
//! lines, VAT rate and amount, reverse-charge mention, late-payment terms.

use super::pdf::{A4_HEIGHT, A4_WIDTH, Font, Page, document, wrap};
use crate::billing::{InvoiceFigures, InvoiceStatus};
use crate::db::invoices::InvoiceLineRecord;
use crate::db::invoices::InvoiceRecord;
use crate::i18n::{Lang, fill};

const LEFT: i32 = 50;
const RIGHT: i32 = A4_WIDTH - 50;
const BOTTOM: i32 = 90;

/// Writes pages top-down, starting a new page when one is full.
struct Writer {
    pages: Vec<Page>,
    y: i32,
}

impl Writer {
    fn page(&mut self) -> &mut Page {
        self.pages.last_mut().expect("at least one page")
    }

    /// Room for `height` points, on a new page if needed.
    fn need(&mut self, height: i32) {
        if self.y - height < BOTTOM {
            self.pages.push(Page::default());
            self.y = A4_HEIGHT - 60;
        }
    }

    fn line(&mut self, x: i32, size: i32, font: Font, text: &str) {
        self.need(size + 4);
        let y = self.y;
        self.page().text(x, y, size, font, text);
        self.y -= size + 4;
    }

    fn paragraph(&mut self, x: i32, size: i32, font: Font, text: &str, max: i32) {
        for l in wrap(text, size, max) {
            self.line(x, size, font, &l);
        }
    }
}

pub fn render(
    lang: Lang,
    inv: &InvoiceRecord,
    lines: &[InvoiceLineRecord],
    f: &InvoiceFigures,
) -> Result<Vec<u8>, crate::error::AppError> {
    let t = lang.texts();
    let title = format!("{} {}", t.pdf_title, inv.number);
    let mut w = Writer {
        pages: vec![Page::default()],
        y: A4_HEIGHT - 70,
    };

    let y = w.y;
    w.page().text(LEFT, y, 20, Font::Bold, &title);
    let status = if inv.status == InvoiceStatus::Paid {
        t.pdf_status_paid
    } else {
        t.pdf_status_open
    };
    w.page().text_right(RIGHT, y, 10, Font::Bold, status);
    w.y -= 34;
    w.line(
        LEFT,
        10,
        Font::Regular,
        &format!("{}: {}", t.pdf_issued_on, lang.date(inv.issued_on)),
    );
    if let (Some(s), Some(e)) = (inv.period_start, inv.period_end) {
        let range = fill(
            t.period_range,
            &[("start", &lang.date(s)), ("end", &lang.date(e))],
        );
        w.line(
            LEFT,
            10,
            Font::Regular,
            &format!("{}: {range}", t.billing_period),
        );
    }
    w.y -= 12;

    // Seller and buyer, side by side.
    let top = w.y;
    w.line(LEFT, 10, Font::Bold, t.pdf_seller);
    w.paragraph(LEFT, 9, Font::Regular, &inv.seller_details, 230);
    let seller_bottom = w.y;
    w.y = top;
    let mid = LEFT + 260;
    w.line(mid, 10, Font::Bold, t.pdf_buyer);
    w.paragraph(mid, 9, Font::Regular, &inv.buyer_name, 230);
    w.line(mid, 9, Font::Regular, &inv.buyer_email);
    w.line(mid, 9, Font::Regular, &inv.buyer_country);
    if let Some(v) = &inv.buyer_vat_number {
        w.line(mid, 9, Font::Regular, &format!("{}: {v}", t.pdf_vat_number));
    }
    w.y = w.y.min(seller_bottom) - 16;

    // Lines.
    let (seats_x, unit_x, amount_x) = (RIGHT - 230, RIGHT - 90, RIGHT);
    let header = |w: &mut Writer| {
        w.need(30);
        let y = w.y;
        let p = w.page();
        p.text(LEFT, y, 9, Font::Bold, t.pdf_description);
        p.text_right(seats_x, y, 9, Font::Bold, t.seats);
        p.text_right(unit_x, y, 9, Font::Bold, t.pdf_unit_price);
        p.text_right(amount_x, y, 9, Font::Bold, t.pdf_amount);
        p.rule(LEFT, y - 5, RIGHT, y - 5);
        w.y -= 20;
    };
    header(&mut w);
    for l in lines {
        let description = wrap(&l.description, 9, seats_x - LEFT - 40);
        let period = fill(
            t.period_range,
            &[
                ("start", &lang.date(l.period_start)),
                ("end", &lang.date(l.period_end)),
            ],
        );
        let height = 13 * (description.len() as i32 + 1) + 6;
        if w.y - height < BOTTOM {
            w.need(height + 30);
            header(&mut w);
        }
        let y = w.y;
        let p = w.page();
        p.text_right(seats_x, y, 9, Font::Regular, &l.seats.to_string());
        p.text_right(unit_x, y, 9, Font::Regular, &lang.money(l.unit));
        p.text_right(amount_x, y, 9, Font::Regular, &lang.money(l.amount));
        for d in &description {
            w.line(LEFT, 9, Font::Regular, d);
        }
        w.line(LEFT, 8, Font::Regular, &period);
        w.y -= 6;
    }
    w.need(90);
    let y = w.y + 8;
    w.page().rule(LEFT, y, RIGHT, y);
    w.y -= 6;

    // Totals.
    let rate = inv.vat_rate;
    let mut rows = vec![(
        t.subtotal.to_string(),
        lang.money(f.subtotal),
        Font::Regular,
    )];
    if !f.credit_applied.is_zero() {
        rows.push((
            t.credit_applied.to_string(),
            lang.money(-f.credit_applied),
            Font::Regular,
        ));
        rows.push((
            t.net_after_credit.to_string(),
            lang.money(f.net),
            Font::Regular,
        ));
    }
    rows.push((
        fill(t.vat_rate, &[("rate", &lang.percent(rate))]),
        lang.money(f.vat),
        Font::Regular,
    ));
    rows.push((t.pdf_total_due.to_string(), lang.money(f.total), Font::Bold));
    for (label, amount, font) in rows {
        w.need(16);
        let y = w.y;
        let p = w.page();
        p.text_right(unit_x, y, 10, font, &label);
        p.text_right(amount_x, y, 10, font, &amount);
        w.y -= 16;
    }
    w.y -= 14;
    if !f.carried_forward.is_zero() {
        let carried = fill(
            t.credit_carried_forward,
            &[("amount", &lang.money(f.carried_forward))],
        );
        w.paragraph(LEFT, 10, Font::Bold, &carried, RIGHT - LEFT);
    }

    // Mentions.
    if inv.tax_mention.is_some() {
        w.paragraph(LEFT, 9, Font::Bold, t.reverse_charge, RIGHT - LEFT);
    }
    w.paragraph(LEFT, 8, Font::Regular, t.pdf_late_payment, RIGHT - LEFT);

    let count = w.pages.len();
    for (i, p) in w.pages.iter_mut().enumerate() {
        let n = format!("{}/{count}", i + 1);
        p.text_right(
            RIGHT,
            40,
            8,
            Font::Regular,
            &format!("{} · {}", title, fill(t.pdf_page, &[("n", &n)])),
        );
    }
    let info = super::pdf::Info {
        title: &title,
        lang: lang.code(),
        date: inv.issued_on,
    };
    document(&info, &w.pages).map_err(|e| {
        tracing::error!(invoice = %inv.number, error = %e, "the invoice PDF could not be written");
        crate::error::AppError::Internal
    })
}
