//! Outgoing webhooks: the seller's endpoints, the events (written in the
//! transaction of the change they announce) and their deliveries, one per
//! event and endpoint, claimed by one server at a time.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::backend::Backend;
use super::error::DbError;
use super::exec::{Exec, Param, multi_row, placeholders, text};
use super::pool::{Db, WriteTx, first_id};
use super::row::{Columns, bad_value, parsed};
use crate::domain::event::{EventFilter, EventType};
use crate::domain::{AccountId, DeliveryId, WebhookEndpointId};

/// How long after its event a delivery is still retried.
pub const RETRY_FOR: chrono::Duration = chrono::Duration::days(3);

/// An event to record with the change that caused it.
#[derive(Clone, Debug, PartialEq)]
pub struct EventWrite {
    pub kind: EventType,
    pub account_id: AccountId,
    /// The object as the operator API shows it (`objects`).
    pub data: Value,
}

impl EventWrite {
    pub fn new(kind: EventType, account_id: AccountId, data: Value) -> EventWrite {
        EventWrite {
            kind,
            account_id,
            data,
        }
    }
}

/// Records `events` in `tx`, each with a new stable id, and one delivery
/// for each endpoint that takes its type: committed with the change or not
/// at all, so no event is lost and none announces what was rolled back.
/// An endpoint hears of what happens from its registration on.
pub(crate) async fn record_in(
    tx: &mut impl Exec,
    events: &[EventWrite],
    now: &str,
) -> Result<(), DbError> {
    if events.is_empty() {
        return Ok(());
    }
    // Only what an endpoint takes is kept: with no endpoint (or none for
    // these types) the change writes nothing more, and the billing run's
    // renewals stay as cheap as without webhooks.
    let filters = tx
        .fetch(
            "SELECT events FROM webhook_endpoints WHERE disabled_at IS NULL",
            Vec::new(),
        )
        .await?
        .iter()
        .map(|r| Ok(EventFilter::parse(&r.text("events")?).unwrap_or(EventFilter::All)))
        .collect::<Result<Vec<_>, DbError>>()?;
    let events: Vec<&EventWrite> = events
        .iter()
        .filter(|e| filters.iter().any(|f| f.accepts(e.kind)))
        .collect();
    if events.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = events.iter().map(|_| new_event_id()).collect();
    let payloads: Vec<String> = events
        .iter()
        .zip(&ids)
        .map(|(e, id)| {
            json!({"id": id, "type": e.kind.code(), "timestamp": now, "data": e.data}).to_string()
        })
        .collect();
    let mut params = Vec::with_capacity(events.len() * 5);
    for ((e, id), payload) in events.iter().zip(&ids).zip(&payloads) {
        params.extend([
            text(id),
            text(e.kind.code()),
            Param::from(e.account_id),
            text(payload),
            text(now),
        ]);
    }
    multi_row(
        tx,
        "INSERT INTO webhook_events (event_id, type, account_id, payload, created_at)",
        5,
        "",
        params,
    )
    .await?;
    let give_up = match DateTime::parse_from_rfc3339(now) {
        Ok(t) => super::row::instant_text(t.with_timezone(&Utc) + RETRY_FOR),
        Err(_) => {
            return Err(DbError::Query(sqlx::Error::Protocol(format!(
                "bad instant {now}"
            ))));
        }
    };
    // In event order, so an account's deliveries queue in the order of its
    // events. `_` in a type is LIKE's any-character: harmless, every type
    // differs by more than that.
    let sql = format!(
        "INSERT INTO webhook_deliveries (event_id, endpoint_id, account_id, next_attempt_at, give_up_at)
         SELECT e.id, p.id, e.account_id, $1, $2 FROM webhook_events e
         JOIN webhook_endpoints p ON p.disabled_at IS NULL
           AND (p.events = '*' OR (',' || p.events || ',') LIKE ('%,' || e.type || ',%'))
         WHERE e.event_id IN ({}) ORDER BY e.id, p.id",
        placeholders(3, ids.len())
    );
    let mut params = vec![text(now), Param::Text(Some(give_up.into()))];
    params.extend(ids.iter().map(|id| text(id)));
    tx.execute(&sql, params).await?;
    Ok(())
}

/// [`record_in`] for a change of the caller's transaction.
pub async fn record(tx: &mut WriteTx, events: &[EventWrite]) -> Result<(), DbError> {
    record_in(&mut tx.tx, events, &super::row::now_text()).await
}

/// `evt_` and 128 random bits: unguessable and unique across servers.
fn new_event_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("evt_{hex}")
}

#[derive(Clone, Debug, PartialEq)]
pub struct EndpointRecord {
    pub id: WebhookEndpointId,
    pub url: String,
    /// `whsec_` and the base64 key deliveries are signed with.
    pub secret: String,
    pub events: EventFilter,
    pub created_at: String,
    pub disabled_at: Option<String>,
}

fn endpoint(r: &(impl Columns + ?Sized)) -> Result<EndpointRecord, DbError> {
    const TABLE: (&str, &str) = ("webhook_endpoints", "id");
    Ok(EndpointRecord {
        id: WebhookEndpointId::new(r.int("id")?),
        url: r.text("url")?,
        secret: r.text("secret")?,
        events: parsed(r, TABLE, "events", EventFilter::parse)?,
        created_at: r.text("created_at")?,
        disabled_at: r.opt_text("disabled_at")?,
    })
}

pub async fn insert_endpoint(
    db: &Db,
    url: &str,
    secret: &str,
    events: &EventFilter,
) -> Result<WebhookEndpointId, DbError> {
    let _turn = db.write_turn().await;
    insert_endpoint_with(&mut &db.pool, url, secret, events).await
}

/// [`insert_endpoint`] in the caller's transaction (an API write).
pub async fn insert_endpoint_in(
    tx: &mut WriteTx,
    url: &str,
    secret: &str,
    events: &EventFilter,
) -> Result<WebhookEndpointId, DbError> {
    insert_endpoint_with(&mut tx.tx, url, secret, events).await
}

async fn insert_endpoint_with(
    e: &mut impl Exec,
    url: &str,
    secret: &str,
    events: &EventFilter,
) -> Result<WebhookEndpointId, DbError> {
    let now = super::row::now_text();
    let filter = events.code();
    let rows = e
        .fetch(
            "INSERT INTO webhook_endpoints (url, secret, events, created_at)
             VALUES ($1, $2, $3, $4) RETURNING id",
            vec![text(url), text(secret), text(&filter), text(&now)],
        )
        .await?;
    first_id(&rows)?
        .map(WebhookEndpointId::new)
        .ok_or(DbError::Query(sqlx::Error::RowNotFound))
}

/// Every endpoint, the disabled ones too (their delivery log stays).
pub async fn endpoints(db: &Db) -> Result<Vec<EndpointRecord>, DbError> {
    let rows = sqlx::query("SELECT * FROM webhook_endpoints ORDER BY id")
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(endpoint).collect()
}

pub async fn find_endpoint(
    db: &Db,
    id: WebhookEndpointId,
) -> Result<Option<EndpointRecord>, DbError> {
    db.read_row(
        "SELECT * FROM webhook_endpoints WHERE id = $1",
        Param::from(id),
        |r| endpoint(r),
    )
    .await
}

/// Stops deliveries to an endpoint: its pending ones are dropped from the
/// queue (marked failed), its log stays. `false`: no such enabled endpoint.
pub async fn disable_endpoint_in(tx: &mut WriteTx, id: WebhookEndpointId) -> Result<bool, DbError> {
    let now = super::row::now_text();
    let done = tx
        .tx
        .execute(
            "UPDATE webhook_endpoints SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL",
            vec![text(&now), Param::from(id)],
        )
        .await?;
    tx.tx
        .execute(
            "UPDATE webhook_deliveries SET state = 'failed', last_error = 'endpoint disabled', lease = NULL
             WHERE endpoint_id = $1 AND state = 'pending'",
            vec![Param::from(id)],
        )
        .await?;
    Ok(done == 1)
}

/// A delivery claimed by this server, with what it sends.
#[derive(Clone, Debug, PartialEq)]
pub struct PendingDelivery {
    pub id: DeliveryId,
    pub event_id: String,
    pub payload: String,
    pub url: String,
    pub secret: String,
    pub attempts: i64,
    pub give_up_at: String,
}

/// Claims up to `limit` deliveries due at `now` for the server whose token
/// is `lease`, until `lease_until`. Only the oldest pending delivery of an
/// account to an endpoint is claimable, so an account's events arrive in
/// order; another server skips the rows this claim locks (PostgreSQL's
/// `FOR UPDATE SKIP LOCKED`; SQLite claims under its writer's turn).
pub async fn claim_deliveries(
    db: &Db,
    now: &str,
    (lease, lease_until): (&str, &str),
    limit: i64,
) -> Result<Vec<PendingDelivery>, DbError> {
    let lock = match db.backend {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let claim = format!(
        "UPDATE webhook_deliveries SET next_attempt_at = $2, lease = $3
         WHERE id IN (SELECT d.id FROM webhook_deliveries d
                      WHERE d.state = 'pending' AND d.next_attempt_at <= $1
                        AND NOT EXISTS (SELECT 1 FROM webhook_deliveries o
                                        WHERE o.endpoint_id = d.endpoint_id
                                          AND o.account_id = d.account_id
                                          AND o.state = 'pending' AND o.event_id < d.event_id)
                      ORDER BY d.event_id LIMIT $4{lock})"
    );
    {
        let _turn = db.write_turn().await;
        sqlx::query(&claim)
            .bind(now)
            .bind(lease_until)
            .bind(lease)
            .bind(limit)
            .execute(&db.pool)
            .await?;
    }
    let rows = sqlx::query(
        "SELECT d.id, d.attempts, d.give_up_at, e.event_id, e.payload, p.url, p.secret
         FROM webhook_deliveries d
         JOIN webhook_events e ON e.id = d.event_id
         JOIN webhook_endpoints p ON p.id = d.endpoint_id
         WHERE d.lease = $1 AND d.state = 'pending' ORDER BY d.event_id",
    )
    .bind(lease)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(PendingDelivery {
                id: DeliveryId::new(r.int("id")?),
                event_id: r.text("event_id")?,
                payload: r.text("payload")?,
                url: r.text("url")?,
                secret: r.text("secret")?,
                attempts: r.int("attempts")?,
                give_up_at: r.text("give_up_at")?,
            })
        })
        .collect()
}

/// How an attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Delivered {
        status: i64,
    },
    /// `status`: the receiver's answer, if it answered. `retry_at`: when
    /// to try again, `None` once the delivery is given up.
    Failed {
        status: Option<i64>,
        error: String,
        retry_at: Option<String>,
    },
}

/// Records an attempt of a delivery `lease` still holds; `false` when it
/// no longer does (nothing written).
pub async fn record_attempt(
    db: &Db,
    id: DeliveryId,
    lease: &str,
    outcome: &Outcome,
    now: &str,
) -> Result<bool, DbError> {
    let (state, next, status, error, delivered_at) = match outcome {
        Outcome::Delivered { status } => ("delivered", now, Some(*status), None, Some(now)),
        Outcome::Failed {
            status,
            error,
            retry_at: Some(at),
        } => ("pending", at.as_str(), *status, Some(error.as_str()), None),
        Outcome::Failed {
            status,
            error,
            retry_at: None,
        } => ("failed", now, *status, Some(error.as_str()), None),
    };
    let _turn = db.write_turn().await;
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET state = $1, next_attempt_at = $2, last_attempt_at = $3,
           attempts = attempts + 1, last_status = $4, last_error = $5, delivered_at = $6, lease = NULL
         WHERE id = $7 AND lease = $8 AND state = 'pending'",
    )
    .bind(state)
    .bind(next)
    .bind(now)
    .bind(status)
    .bind(error)
    .bind(delivered_at)
    .bind(id)
    .bind(lease)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// One line of an endpoint's delivery log.
#[derive(Clone, Debug, PartialEq)]
pub struct DeliveryRecord {
    pub id: DeliveryId,
    pub event_id: String,
    pub event_type: EventType,
    pub account_id: AccountId,
    pub state: String,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub last_attempt_at: Option<String>,
    pub next_attempt_at: Option<String>,
    pub delivered_at: Option<String>,
    pub created_at: String,
}

/// An endpoint's deliveries, newest first, before `before` (a cursor).
pub async fn deliveries(
    db: &Db,
    endpoint: WebhookEndpointId,
    before: Option<DeliveryId>,
    limit: i64,
) -> Result<Vec<DeliveryRecord>, DbError> {
    let rows = sqlx::query(
        "SELECT d.id, d.account_id, d.state, d.attempts, d.last_status, d.last_error,
                d.last_attempt_at, d.next_attempt_at, d.delivered_at, e.event_id, e.type, e.created_at
         FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
         WHERE d.endpoint_id = $1 AND d.id < $2 ORDER BY d.id DESC LIMIT $3",
    )
    .bind(endpoint)
    .bind(before.map_or(i64::MAX, DeliveryId::get))
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            const TABLE: (&str, &str) = ("webhook_deliveries", "id");
            let state = r.text("state")?;
            let pending = state == "pending";
            if !["pending", "delivered", "failed"].contains(&state.as_str()) {
                return Err(bad_value(r, TABLE, "state", &state, "not a delivery state"));
            }
            Ok(DeliveryRecord {
                id: DeliveryId::new(r.int("id")?),
                event_id: r.text("event_id")?,
                event_type: parsed(r, TABLE, "type", EventType::parse)?,
                account_id: AccountId::new(r.int("account_id")?),
                state,
                attempts: r.int("attempts")?,
                last_status: r.opt_int("last_status")?,
                last_error: r.opt_text("last_error")?,
                last_attempt_at: r.opt_text("last_attempt_at")?,
                next_attempt_at: match pending {
                    true => Some(r.text("next_attempt_at")?),
                    false => None,
                },
                delivered_at: r.opt_text("delivered_at")?,
                created_at: r.text("created_at")?,
            })
        })
        .collect()
}

/// Deletes the deliveries settled (delivered or given up) before `before`,
/// then the events no delivery is left for; the rows removed.
pub async fn purge_settled(db: &Db, before: &str) -> Result<u64, DbError> {
    let _turn = db.write_turn().await;
    let deliveries = sqlx::query(
        "DELETE FROM webhook_deliveries WHERE state <> 'pending'
           AND COALESCE(delivered_at, last_attempt_at, next_attempt_at) < $1",
    )
    .bind(before)
    .execute(&db.pool)
    .await?
    .rows_affected();
    let events = sqlx::query(
        "DELETE FROM webhook_events WHERE created_at < $1
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = webhook_events.id)",
    )
    .bind(before)
    .execute(&db.pool)
    .await?
    .rows_affected();
    Ok(deliveries + events)
}

/// The events recorded for an account, oldest first (tests, support).
pub async fn event_types_of(db: &Db, account: AccountId) -> Result<Vec<String>, DbError> {
    let rows = sqlx::query("SELECT type FROM webhook_events WHERE account_id = $1 ORDER BY id")
        .bind(account)
        .fetch_all(&db.pool)
        .await?;
    rows.iter()
        .map(|r| Ok(r.text("type")?))
        .collect::<Result<_, DbError>>()
}

/// How many deliveries wait (the metrics' queue depth).
pub async fn pending_count(db: &Db) -> Result<i64, DbError> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM webhook_deliveries WHERE state = 'pending'",
    )
    .fetch_one(&db.pool)
    .await?;
    Ok(n)
}
