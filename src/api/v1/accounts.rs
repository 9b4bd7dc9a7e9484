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
use crate::billing::tax::{Country, VatNumber};
use crate::billing::{AccountKind, Currency};
use crate::db::accounts::{self, AccountChanges, AccountRecord, NewAccount};
use crate::domain::{AccountId, Address, Email};
use crate::i18n::Lang;

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

// ---- each field's rule, shared by create and update ----

fn name(v: &str) -> Result<String, ApiError> {
    text("name", v, 200)?.ok_or_else(|| ApiError::invalid("name", "must not be empty"))
}

/// Trimmed printable text of at most `max` characters; empty is `None`.
fn text(field: &str, v: &str, max: usize) -> Result<Option<String>, ApiError> {
    use crate::domain::text::{LineError, line};
    match line(v, max) {
        Ok(v) => Ok((!v.is_empty()).then(|| v.to_string())),
        Err(LineError::TooLong) => Err(ApiError::invalid(
            field,
            format!("is longer than {max} characters"),
        )),
        Err(LineError::ControlCharacter) => {
            Err(ApiError::invalid(field, "contains a control character"))
        }
    }
}

fn kind(v: &str) -> Result<AccountKind, ApiError> {
    AccountKind::parse(v)
        .ok_or_else(|| ApiError::invalid("kind", "must be \"online\" or \"corporate\""))
}

fn country(v: &str) -> Result<Country, ApiError> {
    Country::parse(v).map_err(|e| ApiError::invalid("country", e))
}

fn vat_number(v: &str, country: &str) -> Result<Option<String>, ApiError> {
    if v.trim().is_empty() {
        return Ok(None);
    }
    let vat = VatNumber::parse(v).map_err(|e| ApiError::invalid("vat_number", e))?;
    if vat.country_prefix() != country {
        return Err(ApiError::invalid(
            "vat_number",
            format!("is not a VAT number of {country}"),
        ));
    }
    Ok(Some(vat.as_str().to_string()))
}

fn time_zone(v: &str) -> Result<String, ApiError> {
    v.trim()
        .parse::<chrono_tz::Tz>()
        .map(|tz| tz.name().to_string())
        .map_err(|_| ApiError::invalid("time_zone", "is not an IANA time zone (e.g. Europe/Paris)"))
}

fn language(v: &str) -> Result<Lang, ApiError> {
    Lang::parse(v.trim()).ok_or_else(|| ApiError::invalid("language", "must be \"en\" or \"fr\""))
}

fn address(a: &AddressInput) -> Result<Address, ApiError> {
    Address::parse(&a.line1, &a.line2, &a.postcode, &a.city)
        .map_err(|e| ApiError::invalid("address", e))
}

fn representative(r: &RepresentativeInput) -> Result<(String, String, String), ApiError> {
    let name = text("representative.name", &r.name, 200)?
        .ok_or_else(|| ApiError::invalid("representative.name", "must not be empty"))?;
    let email = Email::parse(&r.email).map_err(|e| ApiError::invalid("representative.email", e))?;
    let phone = text("representative.phone", &r.phone, 50)?.unwrap_or_default();
    Ok((name, email.to_string(), phone))
}

fn external_id(v: &str) -> Result<Option<String>, ApiError> {
    text("external_id", v, 200)
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
            let name = name(&input.name)?;
            let country = country(&input.country)?;
            let kind = input
                .kind
                .as_deref()
                .map(kind)
                .transpose()?
                .unwrap_or(AccountKind::Online);
            let vat = match &input.vat_number {
                Some(v) => vat_number(v, country.code())?,
                None => None,
            };
            // The catalog's: what its prices are in.
            let currency = op.state.catalog.currency;
            if let Some(c) = &input.currency
                && Currency::parse(c).map_err(|e| ApiError::invalid("currency", e))? != currency
            {
                return Err(ApiError::invalid(
                    "currency",
                    format!("must be {currency}, the currency of the catalog's prices"),
                ));
            }
            let tz = time_zone(input.time_zone.as_deref().unwrap_or("UTC"))?;
            let lang = language(input.language.as_deref().unwrap_or("en"))?;
            let address = address(&input.address.unwrap_or_default())?;
            let rep = input
                .representative
                .as_ref()
                .map(representative)
                .transpose()?;
            if kind == AccountKind::Corporate && rep.is_none() {
                return Err(ApiError::invalid(
                    "representative",
                    "a Corporate account needs its representative (name, email, phone)",
                ));
            }
            let external = match &input.external_id {
                Some(e) => external_id(e)?,
                None => None,
            };
            if let Some(e) = &external
                && accounts::find_account_by_external_id(&op.state.db, e)
                    .await?
                    .is_some()
            {
                return Err(external_id_taken());
            }
            let new = NewAccount {
                name: &name,
                kind: kind.code(),
                country: country.code(),
                vat_number: vat.as_deref(),
                currency: currency.code(),
                time_zone: &tz,
                language: lang.code(),
                rep: rep
                    .as_ref()
                    .map(|(n, e, p)| (n.as_str(), e.as_str(), p.as_str())),
                address,
                external_id: external.as_deref(),
            };
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
            Some(c) => country(c)?.code().to_string(),
            None => current.country.clone(),
        };
        let new_kind = match &input.kind {
            Some(k) => kind(k)?,
            None => current.kind,
        };
        let changes = AccountChanges {
            name: input.name.as_deref().map(name).transpose()?,
            kind: input.kind.as_ref().map(|_| new_kind.code().to_string()),
            country: input.country.as_ref().map(|_| country_code.clone()),
            vat_number: match &input.vat_number {
                Some(Some(v)) => Some(vat_number(v, &country_code)?),
                Some(None) => Some(None),
                None => None,
            },
            time_zone: input.time_zone.as_deref().map(time_zone).transpose()?,
            language: input
                .language
                .as_deref()
                .map(|l| language(l).map(|l| l.code().to_string()))
                .transpose()?,
            rep: match &input.representative {
                Some(Some(r)) => Some(Some(representative(r)?)),
                Some(None) => Some(None),
                None => None,
            },
            address: input.address.as_ref().map(address).transpose()?,
            external_id: match &input.external_id {
                Some(Some(e)) => Some(external_id(e)?),
                Some(None) => Some(None),
                None => None,
            },
        };
        let has_rep = match &changes.rep {
            Some(r) => r.is_some(),
            None => current.rep_name.is_some(),
        };
        if new_kind == AccountKind::Corporate && !has_rep {
            return Err(ApiError::invalid(
                "representative",
                "a Corporate account needs its representative (name, email, phone)",
            ));
        }
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
        Some(s) => text("q", s, 200)?,
        None => None,
    };
    // One more than asked: whether there is a next page.
    let rows = accounts::list_accounts(&op.state.db, after, limit + 1, search.as_deref()).await?;
    Ok(super::page(rows, limit, |a| a.id, view))
}
