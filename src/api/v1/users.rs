//! `/api/v1/accounts/{id}/users`: the people who sign in for an account.
//! A user made here has no password: they come in through a portal link
//! (or, once invited, set one).

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::idempotency::write;
use super::{ApiError, Operator, error, parse};
use crate::db::accounts::{self, UserRecord};
use crate::domain::Email;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub email: String,
    pub name: String,
    #[serde(default)]
    pub billing_contact: bool,
}

pub fn view(u: &UserRecord) -> serde_json::Value {
    json!({
        "object": "user",
        "id": u.id,
        "account": u.account_id,
        "email": u.email.as_str(),
        "name": u.name,
        "role": if u.is_billing_contact { "billing_contact" } else { "member" },
    })
}

fn email_taken() -> ApiError {
    ApiError::conflict("email_taken", "A user with this email exists.")
}

/// Adds a user to the account, without a password (they come in through a
/// portal link).
#[utoipa::path(post, path = "/accounts/{id}/users", tag = "users", request_body = CreateUser,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header, description = "Sent again with the same body: the first answer; with another body: 422")),
    responses((status = 201, description = "The user"), (status = 409, description = "Email taken, or a billing contact exists", body = error::ErrorBody),
        (status = 422, description = "A field breaks a rule", body = error::ErrorBody)))]
pub async fn create(
    op: Operator,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/accounts/{id}/users");
    write(&op, &headers, ("POST", &path, &body), |mut tx| async {
        let account = super::accounts::found(&op, &id).await?;
        let input: CreateUser = parse(&body)?;
        let email = Email::parse(&input.email).map_err(|e| ApiError::invalid("email", e))?;
        let name = crate::domain::text::line(&input.name, 200)
            .ok()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| ApiError::invalid("name", "must be 1 to 200 printable characters"))?;
        if accounts::email_taken(&op.state.db, email.as_str()).await? {
            return Err(email_taken());
        }
        let current = accounts::users_in(&mut tx, account.id).await?;
        if input.billing_contact && current.iter().any(|u| u.is_billing_contact) {
            return Err(ApiError::conflict(
                "billing_contact_exists",
                "This account has its billing contact; add a member instead.",
            ));
        }
        let user = (
            email.as_str(),
            name,
            accounts::NO_PASSWORD,
            input.billing_contact,
        );
        let id = accounts::insert_user_in(&mut tx, account.id, user)
            .await
            .map_err(|e| {
                if e.is_unique_violation() {
                    email_taken()
                } else {
                    e.into()
                }
            })?;
        let users = accounts::users_in(&mut tx, account.id).await?;
        let made = users
            .iter()
            .find(|u| u.id == id)
            .ok_or_else(|| ApiError::from(crate::error::AppError::Internal))?;
        Ok((tx, StatusCode::CREATED, view(made)))
    })
    .await
}

#[utoipa::path(get, path = "/accounts/{id}/users", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, description = "The account's users"), (status = 404, description = "No such account", body = error::ErrorBody)))]
pub async fn list(
    op: Operator,
    Path(id): Path<String>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let account = super::accounts::found(&op, &id).await?;
    let users = accounts::users_of(&op.state.db, account.id).await?;
    let data: Vec<_> = users.iter().map(view).collect();
    Ok(axum::Json(
        json!({"object": "list", "data": data, "next": null}),
    ))
}

/// Emails the user an invitation to set their password (24 hours); an
/// invitation sent again replaces nothing: each link works once.
#[utoipa::path(post, path = "/accounts/{id}/users/{user}/invitation", tag = "users",
    params(("id" = i64, Path), ("user" = i64, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Sent again: the first answer, no second email")),
    responses((status = 201, description = "The invitation: to whom, until when"),
        (status = 404, description = "No such user in this account", body = error::ErrorBody)))]
pub async fn invite(
    op: Operator,
    Path((id, user)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/accounts/{id}/users/{user}/invitation");
    write(&op, &headers, ("POST", &path, &body), |mut tx| async {
        let account = super::accounts::found(&op, &id).await?;
        let missing = || ApiError::not_found("No such user in this account.");
        let user_id: i64 = user.parse().map_err(|_| missing())?;
        let user = accounts::find_user(&op.state.db, crate::domain::UserId::new(user_id))
            .await?
            .filter(|u| u.account_id == account.id)
            .ok_or_else(missing)?;
        let expires =
            crate::server::passwords::invite_in(&mut tx, &op.state, &account, &user, &op.key.name)
                .await?;
        let body = json!({"object": "invitation", "user": user.id, "email": user.email.as_str(), "expires_at": expires});
        Ok((tx, StatusCode::CREATED, body))
    })
    .await
}

/// Removes a member: they can no longer sign in, their sessions and links
/// end at once. The billing contact is not removed (hand the role over in
/// the billing center first).
#[utoipa::path(delete, path = "/accounts/{id}/users/{user}", tag = "users",
    params(("id" = i64, Path), ("user" = i64, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Sent again: the first answer")),
    responses((status = 200, description = "The user removed"),
        (status = 404, description = "No such user in this account", body = error::ErrorBody),
        (status = 409, description = "The user is the billing contact", body = error::ErrorBody)))]
pub async fn remove(
    op: Operator,
    Path((id, user)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/accounts/{id}/users/{user}");
    write(&op, &headers, ("DELETE", &path, &[]), |mut tx| async {
        let account = super::accounts::found(&op, &id).await?;
        let missing = || ApiError::not_found("No such user in this account.");
        let user_id: i64 = user.parse().map_err(|_| missing())?;
        let found = accounts::users_in(&mut tx, account.id)
            .await?
            .into_iter()
            .find(|u| u.id.get() == user_id)
            .ok_or_else(missing)?;
        if found.is_billing_contact {
            return Err(ApiError::conflict(
                "billing_contact",
                "The billing contact cannot be removed; hand the role to another user first.",
            ));
        }
        if !accounts::remove_member_in(&mut tx, account.id, found.id).await? {
            return Err(missing());
        }
        let body =
            json!({"object": "user", "id": found.id, "account": account.id, "removed": true});
        Ok((tx, StatusCode::OK, body))
    })
    .await
}
