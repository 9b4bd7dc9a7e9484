//! Delivers the email outbox over SMTP (`smtp.*` of the configuration:
//! STARTTLS, implicit TLS, a login), with retries and exponential backoff. Emails are written to the outbox inside
//! the transaction that caused them, so an SMTP outage delays them and loses
//! none.

use chrono::{DateTime, Duration, Utc};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::config::{SmtpSettings, SmtpTls};
use crate::db::Db;
use crate::db::outbox;
use crate::db::outbox::PendingEmail;

/// How long a claimed email is left to its mailer: far longer than an SMTP
/// call may take (10 s), so only a mailer that died loses its claim.
pub const LEASE: Duration = Duration::minutes(5);

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub sent: u32,
    pub failed: u32,
}

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// A mailer for the relay `smtp`, sending as `from` (`Name <address>`).
    pub fn new(smtp: &SmtpSettings, from: &str) -> Result<Mailer, String> {
        use lettre::transport::smtp::authentication::Credentials;
        use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
        let from: Mailbox = from.parse().map_err(|e| format!("email.from: {e}"))?;
        let mut params = TlsParameters::builder(smtp.host.clone());
        if let Some(pem) = &smtp.extra_ca {
            let ca = Certificate::from_pem(pem).map_err(|e| format!("smtp.ca_cert: {e}"))?;
            params = params.add_root_certificate(ca);
        }
        let params = params
            .build_rustls()
            .map_err(|e| format!("smtp: cannot set up TLS: {e}"))?;
        let tls = match smtp.tls {
            SmtpTls::Opportunistic => Tls::Opportunistic(params),
            SmtpTls::Required => Tls::Required(params),
            SmtpTls::Implicit => Tls::Wrapper(params),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
            .port(smtp.port)
            .tls(tls)
            .timeout(Some(std::time::Duration::from_secs(10)));
        if let Some((user, password)) = &smtp.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Mailer {
            transport: builder.build(),
            from,
        })
    }

    async fn send(&self, e: &PendingEmail, pdf: Option<(String, Vec<u8>)>) -> Result<(), String> {
        use lettre::message::{Attachment, header::ContentType};
        let to: Mailbox = e
            .to_addr
            .parse()
            .map_err(|err| format!("bad recipient: {err}"))?;
        let body = MultiPart::alternative_plain_html(e.body_text.clone(), e.body_html.clone());
        let body = match pdf {
            Some((name, bytes)) => {
                let pdf = ContentType::parse("application/pdf").map_err(|err| err.to_string())?;
                MultiPart::mixed()
                    .multipart(body)
                    .singlepart(Attachment::new(name).body(bytes, pdf))
            }
            None => body,
        };
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&e.subject)
            .multipart(body)
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
            // Read before the SMTP call, which holds no connection.
            let pdf = attachment(db, &e).await?;
            match self.send(&e, pdf).await {
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

/// The invoice a receipt carries, as `(file name, PDF)`, rendered from the
/// invoice as issued in the account's language; `None` without one (or if
/// it is gone: the receipt still links to the invoice's page).
async fn attachment(
    db: &Db,
    e: &PendingEmail,
) -> Result<Option<(String, Vec<u8>)>, crate::db::DbError> {
    let (Some(account), Some(id)) = (e.account_id, e.attachment) else {
        return Ok(None);
    };
    let Some(found) = crate::db::accounts::find_account(db, account).await? else {
        return Ok(None);
    };
    let Some((inv, lines)) = crate::db::invoices::invoice_with_lines(db, account, id).await? else {
        tracing::warn!(email = %e.id, invoice = %id, "the receipt's invoice is gone; sent without it");
        return Ok(None);
    };
    let pdf = inv
        .figures()
        .map_err(crate::error::AppError::from)
        .and_then(|f| super::invoice_pdf::render(found.language, &inv, &lines, &f));
    match pdf {
        Ok(pdf) => Ok(Some((format!("{}.pdf", inv.number), pdf))),
        Err(err) => {
            tracing::warn!(email = %e.id, invoice = %id, error = %err, "the receipt's invoice cannot be rendered; sent without it");
            Ok(None)
        }
    }
}
