//! What a unit of work writes (`commit`): plain data, built by the server
//! from the engine's decisions, with no SQL.

use super::error::DbError;
use crate::billing::quote::{PaidTerm, ScheduledChange};
use crate::billing::{BillingPeriod, Frequency, InvoiceStatus, Money, SubscriptionStatus};
use crate::domain::ids::{AccountId, InvoiceId, OrderId, SubscriptionId, UserId};
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// A subscription as the order leaves it.
#[derive(Clone, Debug, PartialEq)]
pub struct SubscriptionWrite {
    /// `None`: a new subscription. `Some((id, version read))`: an update that
    /// fails if another window changed it since.
    pub existing: Option<(SubscriptionId, i64)>,
    pub product: String,
    pub level: String,
    pub seats: u32,
    pub frequency: Frequency,
    pub status: SubscriptionStatus,
    pub period: Option<BillingPeriod>,
    pub paid: Option<PaidTerm>,
    pub scheduled: Option<ScheduledChange>,
    pub anchor_on: Option<NaiveDate>,
    pub dunning_step: u32,
    pub next_retry_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct InvoiceLineWrite {
    pub description: String,
    pub seats: i64,
    pub unit: Money,
    pub amount: Money,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
}

#[derive(Clone, Debug, PartialEq)]
pub struct InvoiceWrite {
    pub seller: String,
    /// Paid (charged online) or open (corporate, paid later).
    pub status: InvoiceStatus,
    /// `subscription:period_start` for renewals: unique, so a re-run of the
    /// billing run can never issue a second invoice for one period.
    pub renewal_key: Option<String>,
    pub issued_on: NaiveDate,
    pub time_zone: String,
    /// Its amounts are all in one currency, the invoice's.
    pub net: Money,
    pub credit_applied: Money,
    pub vat_rate: Decimal,
    pub vat: Money,
    pub total: Money,
    pub tax_mention: Option<String>,
    pub seller_details: String,
    pub buyer_name: String,
    pub buyer_country: String,
    pub buyer_vat_number: Option<String>,
    pub buyer_email: String,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub lines: Vec<InvoiceLineWrite>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct EmailWrite {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The invoice sent as a PDF attachment (a receipt's).
    pub attachment: Option<InvoiceId>,
}

/// What became of an attempt whose outcome is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptStatus {
    /// Declined, or answered with a charge that was not the one asked for.
    Failed,
    Refunded,
    /// The refund was refused or not answered: retried by the billing run.
    RefundFailed,
}

impl AttemptStatus {
    pub fn code(self) -> &'static str {
        match self {
            AttemptStatus::Failed => "failed",
            AttemptStatus::Refunded => "refunded",
            AttemptStatus::RefundFailed => "refund_failed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptWrite {
    pub account_id: AccountId,
    pub purpose: String,
    pub reference: String,
    pub amount_minor: i64,
    pub currency: String,
    pub status: AttemptStatus,
    pub charge_id: Option<String>,
    pub error: Option<String>,
}

/// Builds the confirmation email once the invoice (its id and number) is
/// known. `Fn`, not `FnOnce`: an order whose group commit is rolled back
/// is written again on its own (`write_orders`).
pub type EmailBuilder = Box<dyn Fn(Option<(InvoiceId, &str)>) -> EmailWrite + Send + Sync>;

pub struct OrderWrite {
    pub account_id: AccountId,
    /// Who acted; `None` for the billing run.
    pub user_id: Option<UserId>,
    /// The claimed order row and the claim's lease token; `None` for the
    /// billing run.
    pub order: Option<(OrderId, String)>,
    pub subscriptions: Vec<SubscriptionWrite>,
    pub invoice: Option<InvoiceWrite>,
    /// Gateway charge id of the successful charge, if anything was charged.
    pub payment_ref: Option<String>,
    /// A declined payment attempt to record with it (the billing run's;
    /// an order's decline writes nothing else and is recorded alone).
    pub attempt: Option<AttemptWrite>,
    /// Change to the account's credit balance (negative: credit used).
    pub credit_delta_minor: i64,
    pub email: EmailBuilder,
    pub audit: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error("a subscription changed in another window")]
    Stale,
    /// The claim's lease ran out and another request (or the billing run)
    /// took the order over: that one decides it, this one writes nothing.
    #[error("the order was taken over by another request")]
    ClaimLost,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for CommitError {
    fn from(e: sqlx::Error) -> Self {
        CommitError::Db(DbError::Query(e))
    }
}

/// An order's invoice (id, number) once written, if it has one.
pub type WriteResult = Result<Option<(InvoiceId, String)>, CommitError>;
