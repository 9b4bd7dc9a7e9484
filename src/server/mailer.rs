//! Delivers the email outbox over SMTP (`SMTP_URL=smtp://host:port`), with
//! retries and exponential backoff. Emails are written to the outbox inside
//! the transaction that caused them, so an SMTP outage delays them and loses
//! none.

use chrono::{DateTime, Duration, Utc};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::db::Db;
use crate::db::outbox;
use crate::db::outbox::PendingEmail;

/// How long a claimed email is left to its mailer: far longer than an SMTP
/// call may take (10 s), so only a mailer that died loses its claim.
pub const LEASE: Duration = Duration::minutes(5);

pub const FROM: &str = "Billing Center <billing@billing-center.example>";

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub sent: u32,
    pub failed: u32,
}

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl Mailer {
    /// `smtp://host:port` (plain SMTP, e.g. a local relay or a test sink).
    pub fn from_url(url: &str) -> Result<Mailer, String> {
        let rest = url
            .strip_prefix("smtp://")
            .ok_or_else(|| format!("SMTP_URL must look like smtp://host:port, got \"{url}\""))?;
        let (host, port) = rest
            .trim_end_matches('/')
            .rsplit_once(':')
            .unwrap_or((rest, "25"));
        let port: u16 = port
            .parse()
            .map_err(|_| format!("bad port in SMTP_URL \"{url}\""))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .timeout(Some(std::time::Duration::from_secs(10)))
            .build();
        Ok(Mailer { transport })
    }

    async fn send(&self, e: &PendingEmail) -> Result<(), String> {
        let to: Mailbox = e
            .to_addr
            .parse()
            .map_err(|err| format!("bad recipient: {err}"))?;
        let message = Message::builder()
            .from(FROM.parse().map_err(|err| format!("{err}"))?)
            .to(to)
            .subject(&e.subject)
            .multipart(MultiPart::alternative_plain_html(
                e.body_text.clone(),
                e.body_html.clone(),
            ))
            .map_err(|err| err.to_string())?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|err| err.to_string())
    }

    /// Sends what is due; a failure schedules the next attempt after
    /// 30 s × 2^attempts (at most an hour). Each email is claimed first
    /// for [`LEASE`], so the mailers of several servers on one database
    /// send it once; the claim is committed before SMTP is called.
    pub async fn deliver_pending(
        &self,
        db: &Db,
        now: DateTime<Utc>,
    ) -> Result<Delivery, crate::db::DbError> {
        use rand::RngCore;
        let stamp = crate::db::instant_text;
        let lease = format!("{:016x}", rand::rngs::OsRng.next_u64());
        let until = stamp(now + LEASE);
        let mut d = Delivery::default();
        for e in outbox::claim_emails(db, &stamp(now), (&lease, &until), 100).await? {
            match self.send(&e).await {
                Ok(()) => {
                    if outbox::mark_email_sent(db, e.id, &lease, &stamp(now)).await? {
                        d.sent += 1;
                    }
                }
                Err(err) => {
                    let wait = Duration::seconds((30_i64 << e.attempts.clamp(0, 7)).min(3600));
                    tracing::warn!(email = %e.id, error = %err, "email delivery failed; will retry");
                    outbox::mark_email_failed(db, e.id, &lease, &err, &stamp(now + wait)).await?;
                    d.failed += 1;
                }
            }
        }
        Ok(d)
    }
}
