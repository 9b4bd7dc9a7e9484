//! `/api/v1/accounts`: create, read, update, list (cursor pagination,
//! search by name or a user's email).

use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::idempotency::write;
use super::{ApiError, Operator, error, parse, present};
use crate::db::accounts::{self, AccountChanges, AccountRecord};
use crate::domain::{AccountId, Address};
use crate::server::accounts::{self as rules, AccountFields, FieldError};

#[derive(Deserialize, Serialize, Default, Clone, Debug, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressInput {
    #[serde(default)]
    pub line1: String,
    #[serde(default)]
    pub line2: String,
    #[serde(default)]
    pub postcode: String,
    #[serde(default)]
    pub city: String,
}

#[derive(Deserialize, Serialize, Clone, Debug, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepresentativeInput {
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub phone: String,
}

/// A new account. Defaults: online, EUR, UTC, English.
#[derive(Deserialize, Debug, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccount {
    pub name: String,
    pub country: String,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub vat_number: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub address: Option<AddressInput>,
    #[serde(default)]
    pub representative: Option<RepresentativeInput>,
    #[serde(default)]
    pub external_id: Option<String>,
}

/// The fields to change; `null` clears an optional one.
#[derive(Deserialize, Debug, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccount {
    pub name: Option<String>,
    pub country: Option<String>,
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub vat_number: Option<Option<String>>,
    pub time_zone: Option<String>,
    pub language: Option<String>,
    pub address: Option<AddressInput>,
    #[serde(default, deserialize_with = "present")]
    pub representative: Option<Option<RepresentativeInput>>,
    #[serde(default, deserialize_with = "present")]
    pub external_id: Option<Option<String>>,
    /// Refused: an account keeps the currency its invoices are in.
    pub currency: Option<String>,
}

/// An account as the API shows it.
pub fn view(a: &AccountRecord) -> serde_json::Value {
    a.object()
}

// Each field's rule is `server::accounts`'s, shared with the command line.

fn address(a: &AddressInput) -> Result<Address, FieldError> {
    rules::address(&a.line1, &a.line2, &a.postcode, &a.city)
}

fn representative(r: &RepresentativeInput) -> Result<(String, String, String), FieldError> {
    rules::representative(&r.name, &r.email, &r.phone)
}

fn external_id_taken() -> ApiError {
    ApiError::conflict("external_id_taken", "Another account has this external_id.")
}

/// Creates an account.
#[utoipa::path(post, path = "/accounts", tag = "accounts", request_body = CreateAccount,
    params(("Idempotency-Key" = Option<String>, Header, description = "Sent again with the same body: the first answer; with another body: 422")),
    responses((status = 201, description = "The account"), (status = 422, description = "A field breaks a rule", body = error::ErrorBody),
        (status = 409, description = "external_id is taken", body = error::ErrorBody)))]
pub async fn create(op: Operator, headers: HeaderMap, body: Bytes) -> Response {
    write(
        &op,
        &headers,
        ("POST", "/accounts", &body),
        |mut tx| async {
            let input: CreateAccount = parse(&body)?;
            let address = input.address.unwrap_or_default();
            let fields = AccountFields {
                name: input.name,
                country: input.country,
                kind: input.kind,
                vat_number: input.vat_number,
                currency: input.currency,
                time_zone: input.time_zone,
                language: input.language,
                address: [address.line1, address.line2, address.postcode, address.city],
                representative: input.representative.map(|r| [r.name, r.email, r.phone]),
                external_id: input.external_id,
            };
            let valid = fields.validate(op.state.catalog.currency)?;
            if let Some(e) = &valid.external_id
                && accounts::find_account_by_external_id(&op.state.db, e)
                    .await?
                    .is_some()
            {
                return Err(external_id_taken());
            }
            let new = valid.row();
            let id = accounts::insert_account_in(&mut tx, &new)
                .await
                .map_err(|e| unique_or(e, external_id_taken))?;
            let account = accounts::find_account_in(&mut tx, id)
                .await?
                .ok_or(ApiError::from(crate::error::AppError::Internal))?;
            Ok((tx, StatusCode::CREATED, view(&account)))
        },
    )
    .await
}

/// One account.
#[utoipa::path(get, path = "/accounts/{id}", tag = "accounts", params(("id" = i64, Path)),
    responses((status = 200, description = "The account"), (status = 404, description = "No such account", body = error::ErrorBody)))]
pub async fn read(
    op: Operator,
    Path(id): Path<String>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let account = found(&op, &id).await?;
    Ok(axum::Json(view(&account)))
}

/// The account of a path's id: a number that is an account, else 404.
pub(super) async fn found(op: &Operator, id: &str) -> Result<AccountRecord, ApiError> {
    let missing = || ApiError::not_found(format!("No account with id {id:?}."));
    let id: i64 = id.parse().map_err(|_| missing())?;
    accounts::find_account(&op.state.db, AccountId::new(id))
        .await?
        .ok_or_else(missing)
}

/// Changes the fields sent; `null` clears an optional one.
#[utoipa::path(patch, path = "/accounts/{id}", tag = "accounts", request_body = UpdateAccount,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header, description = "Sent again with the same body: the first answer; with another body: 422")),
    responses((status = 200, description = "The account as changed"), (status = 422, description = "A field breaks a rule", body = error::ErrorBody),
        (status = 404, description = "No such account", body = error::ErrorBody)))]
pub async fn update(
    op: Operator,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/accounts/{id}");
    write(&op, &headers, ("PATCH", &path, &body), |mut tx| async {
        let current = found(&op, &id).await?;
        let input: UpdateAccount = parse(&body)?;
        if input.currency.is_some() {
            return Err(ApiError::invalid(
                "currency",
                "cannot change: an account keeps the currency of its invoices",
            ));
        }
        let country_code = match &input.country {
            Some(c) => rules::country(c)?.code().to_string(),
            None => current.country.clone(),
        };
        let new_kind = match &input.kind {
            Some(k) => rules::kind(k)?,
            None => current.kind,
        };
        let changes = AccountChanges {
            name: input.name.as_deref().map(rules::name).transpose()?,
            kind: input.kind.as_ref().map(|_| new_kind.code().to_string()),
            country: input.country.as_ref().map(|_| country_code.clone()),
            vat_number: match &input.vat_number {
                Some(Some(v)) => Some(rules::vat_number(v, &country_code)?),
                Some(None) => Some(None),
                None => None,
            },
            time_zone: input
                .time_zone
                .as_deref()
                .map(rules::time_zone)
                .transpose()?,
            language: input
                .language
                .as_deref()
                .map(|l| rules::language(l).map(|l| l.code().to_string()))
                .transpose()?,
            rep: match &input.representative {
                Some(Some(r)) => Some(Some(representative(r)?)),
                Some(None) => Some(None),
                None => None,
            },
            address: input.address.as_ref().map(address).transpose()?,
            external_id: match &input.external_id {
                Some(Some(e)) => Some(rules::external_id(e)?),
                Some(None) => Some(None),
                None => None,
            },
        };
        let has_rep = match &changes.rep {
            Some(r) => r.is_some(),
            None => current.rep_name.is_some(),
        };
        rules::check_representative(new_kind, has_rep)?;
        if let Some(Some(e)) = &changes.external_id
            && accounts::find_account_by_external_id(&op.state.db, e)
                .await?
                .is_some_and(|other| other.id != current.id)
        {
            return Err(external_id_taken());
        }
        accounts::update_account_in(&mut tx, current.id, &changes)
            .await
            .map_err(|e| unique_or(e, external_id_taken))?;
        let account = accounts::find_account_in(&mut tx, current.id)
            .await?
            .ok_or_else(|| ApiError::not_found("No such account."))?;
        Ok((tx, StatusCode::OK, view(&account)))
    })
    .await
}

/// A unique index refused the write (two requests raced past the check):
/// `conflict`, else the error as it is.
fn unique_or(e: crate::db::DbError, conflict: fn() -> ApiError) -> ApiError {
    if e.is_unique_violation() {
        conflict()
    } else {
        e.into()
    }
}

/// A list's page size: 1 to 100, 20 by default.
pub(super) fn limit(text: Option<&str>) -> Result<u32, ApiError> {
    match text {
        None => Ok(20),
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=100).contains(l))
            .ok_or_else(|| ApiError::invalid("limit", "must be a whole number from 1 to 100")),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 1 to 100 (default 20).
    limit: Option<String>,
    /// The previous page's `next`.
    starting_after: Option<String>,
    /// Part of a name or of a user's email, any case.
    q: Option<String>,
    /// The account with this external id.
    external_id: Option<String>,
}

/// `GET /accounts?limit=&starting_after=&q=&external_id=`: accounts in id
/// order, `limit` (1–100, default 20) at a time; `next` is the cursor of
/// the following page, null on the last.
#[utoipa::path(get, path = "/accounts", tag = "accounts", params(ListQuery),
    responses((status = 200, description = "A page: `data`, and `next`, the cursor of the next page or null"),
        (status = 422, description = "A bad limit or cursor", body = error::ErrorBody)))]
pub async fn list(
    op: Operator,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let limit = limit(q.limit.as_deref())?;
    if let Some(e) = &q.external_id {
        let found = accounts::find_account_by_external_id(&op.state.db, e).await?;
        let data: Vec<_> = found.iter().map(view).collect();
        return Ok(axum::Json(
            json!({"object": "list", "data": data, "next": null}),
        ));
    }
    let after = match &q.starting_after {
        None => None,
        Some(c) => Some(AccountId::new(c.parse().map_err(|_| {
            ApiError::invalid(
                "starting_after",
                "must be the id of an account (a previous page's next)",
            )
        })?)),
    };
    let search = match &q.q {
        Some(s) => rules::text("q", s, 200)?,
        None => None,
    };
    // One more than asked: whether there is a next page.
    let rows = accounts::list_accounts(&op.state.db, after, limit + 1, search.as_deref()).await?;
    Ok(super::page(rows, limit, |a| a.id, view))
}
