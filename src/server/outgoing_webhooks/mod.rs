//! Outgoing webhooks: delivers the events the writes recorded
//! (`db::webhooks`) to the seller's endpoints, signed (Standard Webhooks),
//! at least once, an account's events in order, retried with exponential
//! backoff for three days. Each delivery is claimed first, so the servers
//! on one database deliver it once; nothing is held during the HTTP call.

pub mod signature;

use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;

use crate::db::Db;
use crate::db::webhooks::{self, Outcome, PendingDelivery};

/// An endpoint's URL as accepted: absolute `http` or `https` with a host,
/// no credentials in it (they would be logged and shown).
pub fn checked_url(url: &str) -> Result<String, String> {
    let url = url.trim();
    let parsed = url::Url::parse(url).map_err(|_| "must be an absolute http(s) URL".to_string())?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err("must be an absolute http(s) URL".into());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not carry a user or password".into());
    }
    if url.len() > 2000 {
        return Err("must be at most 2,000 characters".into());
    }
    Ok(parsed.to_string())
}

/// Delivery settings: `BC_WEBHOOK_TIMEOUT_MS` (default 10 s per call) and
/// `BC_WEBHOOK_RETRY_BASE_MS` (the first retry's wait, default 10 s, then
/// doubling up to 6 h).
#[derive(Clone, Debug)]
pub struct Settings {
    pub timeout: std::time::Duration,
    pub retry_base: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            timeout: std::time::Duration::from_secs(10),
            retry_base: Duration::seconds(10),
        }
    }
}

/// The longest wait between two attempts.
const MAX_WAIT: Duration = Duration::hours(6);

/// How many deliveries are in flight at once.
const CONCURRENCY: usize = 8;

/// When to try again after the `attempts`-th failed attempt at `now`:
/// `base × 2^(attempts-1)`, at most [`MAX_WAIT`], and a last attempt at
/// `give_up_at`; `None` once that has passed.
pub fn next_attempt(
    now: DateTime<Utc>,
    attempts: i64,
    base: Duration,
    give_up_at: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if now >= give_up_at {
        return None;
    }
    let doublings = u32::try_from((attempts - 1).clamp(0, 20)).unwrap_or(20);
    let wait = base
        .checked_mul(1 << doublings)
        .map_or(MAX_WAIT, |w| w.min(MAX_WAIT));
    Some((now + wait).min(give_up_at))
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub delivered: u32,
    pub failed: u32,
}

pub struct Deliverer {
    client: reqwest::Client,
    settings: Settings,
}

impl Deliverer {
    pub fn new(settings: Settings) -> Result<Deliverer, String> {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("billing-center-webhooks/1")
            .build()
            .map_err(|e| format!("cannot build the webhook client: {e}"))?;
        Ok(Deliverer { client, settings })
    }

    /// A claim outlives any call (three timeouts): only a server that died
    /// loses one, and another takes it over after that.
    fn lease(&self) -> Duration {
        Duration::from_std(self.settings.timeout * 3).unwrap_or(Duration::minutes(1))
    }

    /// Claims what is due and delivers it; `None` when nothing was due.
    pub async fn deliver_due(&self, db: &Db) -> Result<Round, crate::db::DbError> {
        use rand::RngCore;
        let stamp = crate::db::instant_text;
        let now = Utc::now();
        let lease = format!("{:016x}", rand::rngs::OsRng.next_u64());
        let until = stamp(now + self.lease());
        let due = webhooks::claim_deliveries(db, &stamp(now), (&lease, &until), 50).await?;
        let outcomes: Vec<_> = futures::stream::iter(due)
            .map(|d| async move {
                let outcome = self.attempt(&d).await;
                (d, outcome)
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let mut round = Round::default();
        for (d, outcome) in outcomes {
            let now = stamp(Utc::now());
            if webhooks::record_attempt(db, d.id, &lease, &outcome, &now).await? {
                match outcome {
                    Outcome::Delivered { .. } => round.delivered += 1,
                    Outcome::Failed { .. } => round.failed += 1,
                }
            }
        }
        Ok(round)
    }

    /// One signed POST of `d`; a 2xx answer delivers it.
    async fn attempt(&self, d: &PendingDelivery) -> Outcome {
        let timestamp = Utc::now().timestamp();
        let failed = |status: Option<i64>, error: String| {
            let give_up = DateTime::parse_from_rfc3339(&d.give_up_at)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_else(|_| Utc::now());
            let retry_at = next_attempt(
                Utc::now(),
                d.attempts + 1,
                self.settings.retry_base,
                give_up,
            );
            tracing::warn!(event = %d.event_id, url = %d.url, ?status, %error, retry = ?retry_at,
                "webhook delivery failed");
            Outcome::Failed {
                status,
                error,
                retry_at: retry_at.map(crate::db::instant_text),
            }
        };
        let Some(signature) =
            signature::sign(&d.secret, &d.event_id, timestamp, d.payload.as_bytes())
        else {
            return failed(None, "the endpoint's secret is not a whsec_ key".into());
        };
        let sent = self
            .client
            .post(&d.url)
            .header("content-type", "application/json")
            .header("webhook-id", &d.event_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(d.payload.clone())
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => Outcome::Delivered {
                status: i64::from(r.status().as_u16()),
            },
            Ok(r) => {
                let status = r.status();
                failed(
                    Some(i64::from(status.as_u16())),
                    format!("answered {status}"),
                )
            }
            Err(e) => failed(None, short(&e)),
        }
    }
}

/// A transport error without reqwest's URL-laden chain.
fn short(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        "the request failed".into()
    }
}

/// Delivers in the background: a round every `poll`, and at once again
/// while rounds find work (an account's next event waits for its previous
/// one's round); at the stop, after the current round.
pub fn spawn(
    db: Db,
    deliverer: Deliverer,
    (poll, stopping): (std::time::Duration, crate::server::shutdown::Stopping),
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while !stopping.is_set() {
            match deliverer.deliver_due(&db).await {
                Ok(r) if r != Round::default() => continue,
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "webhook delivery round failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = stopping.wait() => return,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn retries_double_up_to_six_hours_and_stop_after_three_days() {
        let event = at("2026-12-01T00:00:00Z");
        let give_up = event + webhooks::RETRY_FOR;
        let base = Duration::seconds(10);
        // 10 s, 20 s, 40 s … after the 1st, 2nd, 3rd failure.
        assert_eq!(
            next_attempt(event, 1, base, give_up),
            Some(event + Duration::seconds(10))
        );
        assert_eq!(
            next_attempt(event, 3, base, give_up),
            Some(event + Duration::seconds(40))
        );
        assert_eq!(
            next_attempt(event, 30, base, give_up),
            Some(event + MAX_WAIT)
        );
        // Walk the schedule: the last attempt is at three days, then none.
        let (mut now, mut attempts) = (event, 0);
        while let Some(next) = next_attempt(now, attempts + 1, base, give_up) {
            attempts += 1;
            assert!(next > now && next <= give_up);
            now = next;
        }
        assert_eq!(now, give_up);
        assert!(
            (20..40).contains(&attempts),
            "{attempts} attempts in three days"
        );
    }
}
