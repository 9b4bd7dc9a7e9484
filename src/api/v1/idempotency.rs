//! Writes of the operator API, each in one transaction with its answer, so
//! an `Idempotency-Key` replays exactly what the first request committed.

use std::future::Future;

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::{ApiError, Operator};
use crate::db::api::{self, Claimed};
use crate::db::{WriteTx, instant_text};

/// A claim unanswered for this long belongs to a request that died: it
/// committed nothing (the change and its answer commit together).
const STALE_CLAIM: chrono::Duration = chrono::Duration::minutes(1);

/// What a write returns: its transaction (to commit with the answer), the
/// status and the JSON body.
pub type Written = (WriteTx, StatusCode, serde_json::Value);

/// Runs the write `run` in a transaction under the request's
/// `Idempotency-Key` (if any): a key seen with the same method, path and
/// body answers what it answered then; with another request, 422.
pub async fn write<F, Fut>(
    op: &Operator,
    headers: &HeaderMap,
    (method, path, body): (&str, &str, &[u8]),
    run: F,
) -> Response
where
    F: FnOnce(WriteTx) -> Fut,
    Fut: Future<Output = Result<Written, ApiError>>,
{
    let db = &op.state.db;
    let key = match idempotency_key(headers) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    let request_hash = {
        let mut h = Sha256::new();
        for part in [method.as_bytes(), b"\n", path.as_bytes(), b"\n", body] {
            h.update(part);
        }
        h.finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    if let Some(key) = &key {
        let now = op.state.clock.now();
        let times = (instant_text(now), instant_text(now - STALE_CLAIM));
        let claimed = api::claim_request(db, op.key.id, key, &request_hash, (&times.0, &times.1));
        match claimed.await {
            Ok(Claimed::New) => {}
            Ok(Claimed::Answered(status, body)) => return replay(status, &body),
            Ok(Claimed::OtherRequest) => {
                return ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "idempotency_key_reused",
                    "This Idempotency-Key was used for another request (method, path or body differ).",
                )
                .into_response();
            }
            Ok(Claimed::InProgress) => {
                return ApiError::conflict(
                    "request_in_progress",
                    "A request with this Idempotency-Key is still running; try again in a moment.",
                )
                .into_response();
            }
            Err(e) => return ApiError::from(e).into_response(),
        }
    }
    let done = match db.begin_write().await {
        Ok(tx) => run(tx).await,
        Err(e) => Err(e.into()),
    };
    let answer = match done {
        Ok((mut tx, status, value)) => {
            let text = value.to_string();
            let kept = match &key {
                Some(key) => {
                    api::answer_request_in(&mut tx, op.key.id, key, (status.as_u16(), &text)).await
                }
                None => Ok(()),
            };
            match kept {
                Ok(()) => match tx.commit().await {
                    Ok(()) => return replay(status.as_u16(), &text),
                    Err(e) => ApiError::from(e),
                },
                Err(e) => ApiError::from(e),
            }
        }
        Err(e) => e,
    };
    if let Some(key) = &key {
        let kept = if answer.is_refusal() {
            api::answer_request(
                db,
                op.key.id,
                key,
                (answer.status.as_u16(), &answer.body().to_string()),
            )
            .await
        } else {
            api::release_request(db, op.key.id, key).await
        };
        if let Err(e) = kept {
            tracing::warn!(error = %e, "idempotency key left claimed; it frees itself in a minute");
        }
    }
    answer.into_response()
}

fn replay(status: u16, body: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// The request's `Idempotency-Key`: 1 to 255 visible ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let bad = || {
        ApiError::bad_request(
            "invalid_idempotency_key",
            "Idempotency-Key must be 1 to 255 visible ASCII characters.",
        )
    };
    let v = v.to_str().map_err(|_| bad())?;
    if v.is_empty() || v.len() > 255 || !v.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad());
    }
    Ok(Some(v.to_string()))
}
