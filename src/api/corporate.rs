//! Corporate accounts: contact support, and the corporate billing portal
//! where open invoices are paid by card.

use crate::domain::InvoiceId;
use leptos::prelude::*;

use super::types::InvoiceRow;
use crate::error::AppError;

#[server(endpoint = "contact_support")]
pub async fn contact_support(subject: String, message: String) -> Result<i64, AppError> {
    crate::server::error::respond(ssr::contact_support(subject, message).await)
}

#[server(endpoint = "open_invoices")]
pub async fn open_invoices() -> Result<Vec<InvoiceRow>, AppError> {
    crate::server::error::respond(ssr::open_invoices().await)
}

/// Pays one open invoice by card. Idempotent per invoice: a double click or
/// a second tab pays it once.
#[server(endpoint = "pay_invoice")]
/// Pays an open invoice with the card of the setup `setup_id` (see
/// `start_payment_setup`): the card number never reaches the server.
pub async fn pay_invoice(id: InvoiceId, setup_id: String) -> Result<String, AppError> {
    crate::server::error::respond(ssr::pay_invoice(id, setup_id).await)
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::api::billing::invoice_row;
    use crate::db::writes::EmailWrite;
    use crate::db::{invoices, orders, support};
    use crate::server::auth::require_billing_contact;
    use crate::server::charges::{Attempt, Purpose};
    use crate::server::state::current;

    pub async fn contact_support(subject: String, message: String) -> Result<i64, AppError> {
        let state = current()?;
        let c = require_billing_contact(&state).await?;
        if !matches!(subject.as_str(), "reactivation" | "change" | "other") {
            return Err(AppError::Invalid(
                "Choose a subject: reactivation, change or other.".into(),
            ));
        }
        let message = message.trim();
        if message.is_empty() {
            return Err(AppError::Invalid(
                "Write a message for the support team.".into(),
            ));
        }
        if message.chars().count() > 5000 {
            return Err(AppError::Invalid(
                "Your message is too long (5,000 characters at most).".into(),
            ));
        }
        let email = EmailWrite {
            to: state.identity.support.to_string(),
            subject: format!(
                "[{}] {} request from {}",
                c.account.name, subject, c.user.email
            ),
            text: format!(
                "Account: {}\nFrom: {} <{}>\nSubject: {subject}\n\n{message}\n",
                c.account.name, c.user.name, c.user.email
            ),
            html: format!("<pre>{}</pre>", crate::server::email::escape(message)),
            attachment: None,
        };
        Ok(support::insert_ticket(
            &state.db,
            c.account.id,
            c.user.id,
            &subject,
            message,
            &email,
        )
        .await?)
    }

    pub async fn open_invoices() -> Result<Vec<InvoiceRow>, AppError> {
        let state = current()?;
        let c = require_billing_contact(&state).await?;
        let lang = crate::server::lang::current();
        Ok(invoices::open_invoices(&state.db, c.account.id)
            .await?
            .iter()
            .map(|i| invoice_row(lang, i))
            .collect())
    }

    pub async fn pay_invoice(id: InvoiceId, setup_id: String) -> Result<String, AppError> {
        let state = current()?;
        let c = require_billing_contact(&state).await?;
        let (inv, _) = invoices::invoice_with_lines(&state.db, c.account.id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        if inv.status == crate::billing::InvoiceStatus::Paid {
            return Ok(inv.number);
        }
        // One payment per invoice, whatever the number of clicks or tabs.
        let key = format!("pay-invoice-{id}");
        let lease = state.order_lease_token();
        let order_id = 'claim: loop {
            if let Some(o) = orders::claim_order(
                &state.db,
                c.account.id,
                &key,
                &key,
                inv.total.to_minor(),
                inv.currency.code(),
                &lease,
            )
            .await?
            {
                break o;
            }
            for _ in 0..300 {
                let now = crate::db::now_text();
                match orders::find_order(&state.db, c.account.id, &key).await? {
                    // Its process died mid-payment: take the claim over (the
                    // charge's reference, made from the key, is the same,
                    // and the gateway deduplicates on it).
                    Some(o)
                        if o.abandoned(&now)
                            && orders::take_over_order(&state.db, o.id, &now, &lease).await? =>
                    {
                        break 'claim o.id;
                    }
                    Some(o) if o.status == orders::OrderStatus::Pending => {
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await
                    }
                    Some(_) => return Ok(inv.number),
                    None => break,
                }
            }
        };
        let result = async {
            let customer = crate::db::gateway::gateway_customer(&state.db, c.account.id)
                .await?
                .ok_or_else(|| AppError::Invalid("Enter the card again.".into()))?;
            let token = state
                .gateway
                .finish_setup(&customer, setup_id.trim())
                .await
                .map_err(|e| AppError::Payment(e.to_string()))?;
            let total = inv.total;
            let purpose = Purpose::Order {
                account: c.account.id,
                key: &key,
            };
            let attempt = Attempt::next(&state, c.account.id, purpose, &token.token, total).await?;
            let charge = match attempt.charge(&*state.gateway).await {
                Ok(charge) => charge,
                Err(e) => {
                    attempt.record_failure(&state, &e).await?;
                    return Err(AppError::Payment(e.to_string()));
                }
            };
            let lang = crate::server::billing::lang_of(&c.account);
            let t = lang.texts();
            let email = crate::server::email::notice(
                &state.identity,
                lang,
                c.user.email.as_str(),
                t.payment_receipt_subject,
                t.payment_receipt_body,
                &[("number", &inv.number), ("amount", &lang.money(total))],
            );
            match invoices::mark_invoice_paid(
                &state.db,
                c.account.id,
                c.user.id,
                id,
                (order_id, &lease),
                &charge.id,
                &email,
            )
            .await?
            {
                invoices::InvoicePayment::Paid => Ok(true),
                // Paid some other way meanwhile: give this charge back.
                invoices::InvoicePayment::NotOpen => {
                    attempt.refund(&state, &charge).await;
                    Ok(false)
                }
                // Taken over after our lease ran out: the taker decides.
                invoices::InvoicePayment::ClaimLost => Ok(true),
            }
        }
        .await;
        if !matches!(result, Ok(true)) {
            orders::release_order(&state.db, order_id, &lease).await?;
        }
        result.map(|_| inv.number.clone())
    }
}
