//! Downloads that are files, not pages: the invoice PDF and the CSV export
//! of the invoice history. Plain axum handlers with the same session and
//! billing-contact checks as the server functions.

use crate::domain::InvoiceId;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::auth::{billing_contact_only, caller_from};
use super::state::AppState;
use crate::billing::{BillingError, Money};
use crate::db::invoices;
use crate::error::AppError;
use crate::i18n::Lang;

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

use super::lang::request_lang;

fn refuse(e: AppError) -> Response {
    if matches!(e, AppError::Unauthorized) {
        return Redirect::to("/login").into_response();
    }
    let status = super::error::status_of(&e);
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        e.to_string(),
    )
        .into_response()
}

async fn billing_caller(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<super::auth::Caller, AppError> {
    let c = caller_from(state, headers)
        .await?
        .ok_or(AppError::Unauthorized)?;
    billing_contact_only(state, c).await
}

fn attachment(content_type: &'static str, filename: &str, body: Vec<u8>) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    r
}

/// `GET /billing/invoices/{id}/pdf`
pub async fn invoice_pdf(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = request_lang(q.lang.as_deref(), &headers);
    let result = async {
        let c = billing_caller(&state, &headers).await?;
        let id: InvoiceId = id.parse().map_err(|_| AppError::NotFound)?;
        let (inv, lines) = invoices::invoice_with_lines(&state.db, c.account.id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let figures = inv.figures()?;
        let pdf = super::invoice_pdf::render(lang, &inv, &lines, &figures)?;
        Ok::<_, AppError>((inv.number, pdf))
    }
    .await;
    match result {
        Ok((number, pdf)) => attachment("application/pdf", &format!("{number}.pdf"), pdf),
        Err(e) => refuse(e),
    }
}

/// `GET /billing/invoices.csv`: the whole history, newest first, read page
/// by page (keyset): only one page of rows at a time, beside the CSV text.
pub async fn invoices_csv(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = request_lang(q.lang.as_deref(), &headers);
    let result = async {
        let c = billing_caller(&state, &headers).await?;
        // A byte-order mark: spreadsheet programs read the file as UTF-8
        // (French accents) only with it.
        let mut out = String::from("\u{feff}");
        out.push_str(&csv_header(lang));
        let mut before = None;
        loop {
            let page = invoices::invoices(&state.db, c.account.id, before, 1000).await?;
            let Some(last) = page.last() else { break };
            before = Some(last.id);
            for inv in &page {
                csv_row(&mut out, lang, inv)?;
            }
        }
        Ok::<_, AppError>(out)
    }
    .await;
    match result {
        Ok(csv) => attachment("text/csv; charset=utf-8", "invoices.csv", csv.into_bytes()),
        Err(e) => refuse(e),
    }
}

/// French spreadsheets expect `;` between fields and `,` in decimals.
fn separator(lang: Lang) -> char {
    match lang {
        Lang::En => ',',
        Lang::Fr => ';',
    }
}

fn field(text: &str, sep: char) -> String {
    // Quote when needed; neutralise spreadsheet formulas (CSV injection).
    let number = text
        .replace(',', ".")
        .parse::<rust_decimal::Decimal>()
        .is_ok();
    let text = if text.starts_with(['=', '+', '-', '@']) && !number {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([sep, '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

pub fn csv_header(lang: Lang) -> String {
    let t = lang.texts();
    let sep = separator(lang).to_string();
    let mut s = [
        t.csv_date,
        t.csv_number,
        t.csv_period_start,
        t.csv_period_end,
        t.csv_subtotal,
        t.csv_credit_applied,
        t.csv_net,
        t.csv_vat,
        t.csv_total,
        t.csv_carried_forward,
        t.csv_currency,
        t.csv_status,
    ]
    .join(&sep);
    s.push_str("\r\n");
    s
}

pub fn csv_row(
    out: &mut String,
    lang: Lang,
    inv: &invoices::InvoiceRecord,
) -> Result<(), BillingError> {
    let t = lang.texts();
    let f = inv.figures()?;
    // Plain numbers (no symbol, no grouping) so spreadsheets read them.
    let amount = |m: Money| {
        let plain = m.plain();
        match lang {
            Lang::En => plain,
            Lang::Fr => plain.replace('.', ","),
        }
    };
    let status = if inv.status == crate::billing::InvoiceStatus::Paid {
        t.pdf_status_paid
    } else {
        t.csv_status_open
    };
    let fields = [
        inv.issued_on.to_string(),
        inv.number.clone(),
        inv.period_start.map(|d| d.to_string()).unwrap_or_default(),
        inv.period_end.map(|d| d.to_string()).unwrap_or_default(),
        amount(f.subtotal),
        amount(f.credit_applied),
        amount(f.net),
        amount(f.vat),
        amount(f.total),
        amount(f.carried_forward),
        inv.currency.code().to_string(),
        status.to_string(),
    ];
    let sep = separator(lang);
    out.push_str(
        &fields
            .iter()
            .map(|f| field(f, sep))
            .collect::<Vec<_>>()
            .join(&sep.to_string()),
    );
    out.push_str("\r\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_neutralised() {
        assert_eq!(field("a;b", ';'), "\"a;b\"");
        assert_eq!(field("a,b", ';'), "a,b");
        assert_eq!(field("say \"hi\",", ','), "\"say \"\"hi\"\",\"");
        assert_eq!(field("=HYPERLINK(1)", ','), "'=HYPERLINK(1)");
        assert_eq!(field("-5,00", ';'), "-5,00");
    }
}
