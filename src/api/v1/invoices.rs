//! An account's invoices (with their lines and PDF) and payments, newest
//! first, through the operator API.

use axum::extract::{Path, Query};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, Operator, error};
use crate::db::invoices::{self, InvoiceLineRecord, InvoiceRecord};
use crate::db::payments::{self, PaymentRecord};
use crate::domain::{AccountId, InvoiceId, PaymentId};
use crate::i18n::Lang;

fn amount(m: crate::billing::Money) -> String {
    m.amount().to_string()
}

pub fn view(a: AccountId, i: &InvoiceRecord) -> Value {
    i.object(a)
}

fn line(l: &InvoiceLineRecord) -> Value {
    json!({
        "description": l.description,
        "seats": l.seats,
        "unit": amount(l.unit),
        "amount": amount(l.amount),
        "period": {"start": l.period_start, "end": l.period_end},
    })
}

pub fn payment_view(p: &PaymentRecord) -> Value {
    json!({
        "object": "payment",
        "id": p.id,
        "account": p.account_id,
        "invoice": p.invoice_id,
        "invoice_number": p.invoice_number,
        "amount": amount(p.amount),
        "currency": p.amount.currency().code(),
        "status": p.status.code(),
        "reference": p.gateway_ref,
        "created_at": p.created_at,
    })
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// 1 to 100 (default 20).
    limit: Option<String>,
    /// The previous page's `next`.
    starting_after: Option<String>,
    /// A PDF's language (`en`, `fr`); default the account's.
    lang: Option<String>,
}

impl Page {
    fn limit(&self) -> Result<u32, ApiError> {
        super::accounts::limit(self.limit.as_deref())
    }

    fn after(&self) -> Result<Option<i64>, ApiError> {
        self.starting_after
            .as_deref()
            .map(|c| {
                c.parse().map_err(|_| {
                    ApiError::invalid(
                        "starting_after",
                        "must be an id from a previous page's next",
                    )
                })
            })
            .transpose()
    }
}

/// `GET /accounts/{id}/invoices`: newest first; `next` continues.
#[utoipa::path(get, path = "/accounts/{id}/invoices", tag = "invoices", params(("id" = i64, Path), Page),
    responses((status = 200, description = "Newest first: `data`, and `next`"), (status = 404, description = "No such account", body = error::ErrorBody)))]
pub async fn list(
    op: Operator,
    Path(id): Path<String>,
    Query(q): Query<Page>,
) -> Result<axum::Json<Value>, ApiError> {
    let account = super::accounts::found(&op, &id).await?;
    let limit = q.limit()?;
    let after = q.after()?.map(InvoiceId::new);
    let rows = invoices::invoices(&op.state.db, account.id, after, i64::from(limit) + 1).await?;
    Ok(super::page(rows, limit, |i| i.id, |i| view(account.id, i)))
}

async fn found(
    op: &Operator,
    account: &str,
    invoice: &str,
) -> Result<(AccountId, InvoiceRecord, Vec<InvoiceLineRecord>), ApiError> {
    let account = super::accounts::found(op, account).await?;
    let missing = || ApiError::not_found(format!("No invoice {invoice:?} in this account."));
    let id: i64 = invoice.parse().map_err(|_| missing())?;
    let (inv, lines) = invoices::invoice_with_lines(&op.state.db, account.id, InvoiceId::new(id))
        .await?
        .ok_or_else(missing)?;
    Ok((account.id, inv, lines))
}

/// `GET /accounts/{id}/invoices/{invoice}`: with its lines.
#[utoipa::path(get, path = "/accounts/{id}/invoices/{invoice}", tag = "invoices",
    params(("id" = i64, Path), ("invoice" = i64, Path)),
    responses((status = 200, description = "The invoice with its lines"), (status = 404, description = "No such invoice in this account", body = error::ErrorBody)))]
pub async fn read(
    op: Operator,
    Path((account, invoice)): Path<(String, String)>,
) -> Result<axum::Json<Value>, ApiError> {
    let (account, inv, lines) = found(&op, &account, &invoice).await?;
    let mut v = view(account, &inv);
    v["lines"] = lines.iter().map(line).collect();
    Ok(axum::Json(v))
}

/// `GET /accounts/{id}/invoices/{invoice}/pdf[?lang=fr]`: the document the
/// customer gets, in the account's language unless asked.
#[utoipa::path(get, path = "/accounts/{id}/invoices/{invoice}/pdf", tag = "invoices",
    params(("id" = i64, Path), ("invoice" = i64, Path), Page),
    responses((status = 200, description = "The PDF", content_type = "application/pdf"),
        (status = 404, description = "No such invoice in this account", body = error::ErrorBody)))]
pub async fn pdf(
    op: Operator,
    Path((account, invoice)): Path<(String, String)>,
    Query(q): Query<Page>,
) -> Result<Response, ApiError> {
    let (account_id, inv, lines) = found(&op, &account, &invoice).await?;
    let account = crate::db::accounts::find_account(&op.state.db, account_id)
        .await?
        .ok_or_else(|| ApiError::not_found("No such account."))?;
    let lang = q
        .lang
        .as_deref()
        .and_then(Lang::parse)
        .unwrap_or(account.language);
    let figures = inv.figures().map_err(crate::error::AppError::from)?;
    let body = crate::server::invoice_pdf::render(lang, &inv, &lines, &figures)?;
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}.pdf\"", inv.number)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

/// `GET /accounts/{id}/payments`: newest first; `next` continues.
#[utoipa::path(get, path = "/accounts/{id}/payments", tag = "payments", params(("id" = i64, Path), Page),
    responses((status = 200, description = "Newest first: `data`, and `next`"), (status = 404, description = "No such account", body = error::ErrorBody)))]
pub async fn payments(
    op: Operator,
    Path(id): Path<String>,
    Query(q): Query<Page>,
) -> Result<axum::Json<Value>, ApiError> {
    let account = super::accounts::found(&op, &id).await?;
    let limit = q.limit()?;
    let after = q.after()?.map(PaymentId::new);
    let rows = payments::payments_of_account(&op.state.db, account.id, after, limit + 1).await?;
    Ok(super::page(rows, limit, |p| p.id, payment_view))
}
