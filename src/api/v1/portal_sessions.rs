//! `POST /api/v1/portal_sessions {account, user, return_url}`: a one-time
//! link that signs the user into the billing center (`server::portal`).

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::idempotency::write;
use super::{ApiError, Operator, error, parse};
use crate::db::accounts;
use crate::domain::{AccountId, UserId};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePortalSession {
    pub account: i64,
    pub user: i64,
    #[serde(default)]
    pub return_url: Option<String>,
}

/// A one-time link (5 minutes) that signs the user into the billing center.
#[utoipa::path(post, path = "/portal_sessions", tag = "portal", request_body = CreatePortalSession,
    params(("Idempotency-Key" = Option<String>, Header, description = "Sent again with the same body: the first answer; with another body: 422")),
    responses((status = 201, description = "`url`, to send the user to, and `expires_at`"),
        (status = 404, description = "No such user in this account", body = error::ErrorBody),
        (status = 422, description = "return_url is not on an allowed origin", body = error::ErrorBody)))]
pub async fn create(op: Operator, headers: HeaderMap, body: Bytes) -> Response {
    write(
        &op,
        &headers,
        ("POST", "/portal_sessions", &body),
        |tx| async {
            let input: CreatePortalSession = parse(&body)?;
            let user = accounts::find_user(&op.state.db, UserId::new(input.user)).await?;
            // A user of another account is as unknown as no user.
            let user = user
                .filter(|u| u.account_id == AccountId::new(input.account))
                .ok_or_else(|| ApiError::not_found("No such user in this account."))?;
            let return_url = input
                .return_url
                .as_deref()
                .map(|u| crate::server::portal::checked_return_url(&op.state, u))
                .transpose()
                .map_err(|e| ApiError::invalid("return_url", e))?;
            let (url, expires) =
                crate::server::portal::create_link(&op.state, user.id, return_url.as_deref())
                    .await?;
            let body = json!({
                "object": "portal_session",
                "account": user.account_id,
                "user": user.id,
                "url": url,
                "return_url": return_url,
                "expires_at": crate::db::instant_text(expires),
            });
            Ok((tx, StatusCode::CREATED, body))
        },
    )
    .await
}
