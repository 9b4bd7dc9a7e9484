//! The operator API's one error type: a status, a stable code the caller
//! can match on, and a sentence. Internal causes are logged, never sent.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::db::DbError;
use crate::error::AppError;

/// An error as sent: `{"error": {"code", "message"}}`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable: match on it (`unauthorized`, `not_found`, `invalid_field`, …).
    pub code: String,
    /// A sentence for a person; it may change.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "A valid API key is required: Authorization: Bearer bc_key_….",
        )
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// A field that breaks a rule: 422 naming the field.
    pub fn invalid(field: &str, message: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            format!("{field}: {message}"),
        )
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// Whether the request was refused as sent (4xx): such an answer is
    /// kept for its idempotency key; a failure on our side is not.
    pub fn is_refusal(&self) -> bool {
        self.status.is_client_error()
    }

    pub fn body(&self) -> serde_json::Value {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message.clone(),
            },
        };
        serde_json::to_value(body).unwrap_or_else(|_| json!({}))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}

impl From<crate::server::accounts::FieldError> for ApiError {
    fn from(e: crate::server::accounts::FieldError) -> Self {
        ApiError::invalid(&e.field, e.message)
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        AppError::from(e).into()
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        let status = crate::server::error::status_of(&e);
        let code = match &e {
            AppError::Billing(_) => "billing_rule",
            AppError::Invalid(_) => "invalid_request",
            AppError::NotFound => "not_found",
            AppError::Unavailable => "unavailable",
            AppError::Internal | AppError::Network(_) => "internal",
            AppError::Stale => "conflict",
            _ => "refused",
        };
        ApiError::new(status, code, e.to_string())
    }
}
