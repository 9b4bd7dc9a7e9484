//! Billing server functions. Each one checks the session, the account and
//! the billing-contact role on the server before anything else; ids in
//! requests are always looked up within the caller's account.

use crate::domain::{InvoiceId, SubscriptionId};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use super::types::*;
use crate::billing::CartItem;
use crate::error::AppError;

#[server(endpoint = "overview")]
pub async fn overview() -> Result<BillingOverview, AppError> {
    crate::server::error::respond(ssr::overview().await)
}

#[server(endpoint = "quote_context")]
pub async fn quote_context() -> Result<EditorContext, AppError> {
    crate::server::error::respond(ssr::quote_context().await)
}

/// Puts one item in the cart; `replace` empties the cart first (the plan
/// editor's "Place order" with an empty cart). Returns the cart size.
#[server(endpoint = "put_cart_item", input = Json)]
pub async fn put_cart_item(item: CartItem, replace: bool) -> Result<usize, AppError> {
    crate::server::error::respond(ssr::put_cart_item(item, replace).await)
}

/// The plan editor as a plain form post (JavaScript off): the same as
/// `put_cart_item`, then on to the order page, or to the cart when it holds
/// other products.
#[server(endpoint = "put_plan")]
pub async fn put_plan(
    target: String,
    subscription_id: Option<SubscriptionId>,
    product: String,
    level: String,
    seats: i64,
    frequency: String,
    replace: bool,
) -> Result<usize, AppError> {
    crate::server::error::respond(
        async {
            // Who first: a refusal says who may, before what was wrong.
            ssr::billing_caller().await?;
            let item: CartItem = serde_json::from_value(serde_json::json!({
                "type": target,
                "subscription_id": subscription_id,
                "product": product,
                "plan": {"level": level, "seats": seats, "frequency": frequency},
            }))
            .map_err(|_| AppError::Invalid("The form was incomplete or malformed.".into()))?;
            let n = ssr::put_cart_item(item, replace).await?;
            crate::server::error::plain_form_redirect(&if replace {
                "/billing/checkout".to_string()
            } else {
                format!("/billing/cart?added={product}")
            });
            Ok(n)
        }
        .await,
    )
}

/// The result of a placed order, for its confirmation page.
#[server(endpoint = "order_confirmation")]
pub async fn order_confirmation(key: String) -> Result<OrderResult, AppError> {
    crate::server::error::respond(ssr::order_confirmation(key).await)
}

#[server(endpoint = "remove_cart_item")]
pub async fn remove_cart_item(product: String) -> Result<(), AppError> {
    crate::server::error::respond(ssr::remove_cart_item(product).await)
}

#[server(endpoint = "checkout")]
pub async fn checkout() -> Result<CheckoutView, AppError> {
    crate::server::error::respond(ssr::checkout().await)
}

#[server(endpoint = "payment_method")]
pub async fn payment_method() -> Result<Option<PaymentMethodView>, AppError> {
    crate::server::error::respond(ssr::payment_method().await)
}

/// Starts saving a payment method (`kind`: `card` or `sepa`): what the
/// browser needs to hand the card or IBAN to the provider itself.
#[server(endpoint = "start_payment_setup")]
pub async fn start_payment_setup(kind: String) -> Result<PaymentSetupView, AppError> {
    crate::server::error::respond(ssr::start_payment_setup(kind).await)
}

/// Saves what the provider saved in the setup `setup_id` (Stripe: the
/// SetupIntent the browser confirmed; the demo: the token the browser
/// made). `mandate_accepted` is required for SEPA Direct Debit.
#[server(endpoint = "finish_payment_setup")]
pub async fn finish_payment_setup(
    setup_id: String,
    mandate_accepted: Option<String>,
) -> Result<PaymentMethodView, AppError> {
    crate::server::error::respond(ssr::finish_payment_setup(setup_id, mandate_accepted).await)
}

#[server(endpoint = "place_order")]
pub async fn place_order(
    key: String,
    expected_total: String,
    cart_digest: String,
) -> Result<OrderResult, AppError> {
    crate::server::error::respond(ssr::place_order(key, expected_total, cart_digest).await)
}

#[server(endpoint = "remove_pending_cancellation")]
pub async fn remove_pending_cancellation(id: SubscriptionId, version: i64) -> Result<(), AppError> {
    crate::server::error::respond(ssr::remove_pending_cancellation(id, version).await)
}

/// Cancels at the end of the term: access stays until the last day, and
/// nothing more is charged. `reason` is optional, kept in the audit log.
#[server(endpoint = "cancel_subscription")]
pub async fn cancel_subscription(
    id: SubscriptionId,
    version: i64,
    reason: Option<String>,
) -> Result<(), AppError> {
    crate::server::error::respond(ssr::cancel_subscription(id, version, reason).await)
}

#[server(endpoint = "invoices")]
pub async fn invoices(before: Option<InvoiceId>) -> Result<InvoicePage, AppError> {
    crate::server::error::respond(ssr::invoices(before).await)
}

#[server(endpoint = "invoice")]
pub async fn invoice(id: InvoiceId) -> Result<InvoiceDetail, AppError> {
    crate::server::error::respond(ssr::invoice(id).await)
}

/// A renewal payment the bank wants confirmed (the link in its email).
#[server(endpoint = "payment_to_confirm")]
pub async fn payment_to_confirm(intent: String) -> Result<PendingPaymentView, AppError> {
    crate::server::error::respond(ssr::payment_to_confirm(intent).await)
}

/// The customer confirmed it with their bank: the past-due renewal is
/// charged again under the same reference, which finds the payment made.
#[server(endpoint = "payment_confirmed")]
pub async fn payment_confirmed(intent: String) -> Result<(), AppError> {
    crate::server::error::respond(ssr::payment_confirmed(intent).await)
}

#[server(endpoint = "mailbox")]
pub async fn mailbox() -> Result<Vec<MailView>, AppError> {
    crate::server::error::respond(ssr::mailbox().await)
}

/// Every billing server function's endpoint: the authorization tests walk
/// this list, so a new function without the check fails them.
pub const BILLING_ENDPOINTS: &[&str] = &[
    "overview",
    "quote_context",
    "put_cart_item",
    "remove_cart_item",
    "checkout",
    "payment_method",
    "start_payment_setup",
    "finish_payment_setup",
    "place_order",
    "put_plan",
    "order_confirmation",
    "remove_pending_cancellation",
    "cancel_subscription",
    "invoices",
    "invoice",
    "mailbox",
    "payment_to_confirm",
    "payment_confirmed",
    "contact_support",
    "open_invoices",
    "pay_invoice",
    "account_users",
    "transfer_billing_contact",
    "invite_user",
];

/// Server functions anyone may call (they check what they need themselves).
pub const PUBLIC_ENDPOINTS: &[&str] = &[
    "sign_in",
    "sign_out",
    "me",
    "help_page",
    "request_password_reset",
    "reset_password",
    "accept_invitation",
];

/// An invoice as a row of the invoice list and the Corporate mailbox, in
/// the request's language.
#[cfg(feature = "ssr")]
pub fn invoice_row(lang: crate::i18n::Lang, i: &crate::db::invoices::InvoiceRecord) -> InvoiceRow {
    let t = lang.ui();
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| lang.date(d)).unwrap_or_default();
    InvoiceRow {
        id: i.id,
        number: i.number.clone(),
        issued_on: lang.date(i.issued_on),
        period: crate::i18n::fill(
            t.period_range,
            &[
                ("start", &date(i.period_start)),
                ("end", &date(i.period_end)),
            ],
        ),
        total: lang.money(i.total),
        status: match i.status {
            crate::billing::InvoiceStatus::Paid => t.status_paid.into(),
            crate::billing::InvoiceStatus::Open => t.status_open.into(),
        },
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::billing::quote::renewal_amount;
    use crate::billing::{
        AccountKind, Action, InvoiceStatus, Money, SubscriptionStatus, available_actions,
    };
    use crate::db::payment_methods::PaymentMethodKind;
    use crate::db::{carts, invoices, outbox, payment_methods, subscriptions};
    use crate::i18n::fill;
    use crate::server::auth::{Caller, billing_contact_with_page, require_billing_contact};
    use crate::server::billing::{Context, context_from, quote_cart};
    use crate::server::state::{AppState, current};

    pub(super) async fn billing_caller() -> Result<(AppState, Caller), AppError> {
        let state = current()?;
        let caller = require_billing_contact(&state).await?;
        Ok((state, caller))
    }

    /// [`billing_caller`] with the billing context, read on one connection.
    async fn billing_page() -> Result<(AppState, Caller, Context), AppError> {
        let state = current()?;
        let (caller, page) = billing_contact_with_page(&state).await?;
        let ctx = context_from(&state, &caller, page)?;
        Ok((state, caller, ctx))
    }

    fn online_only(c: &Caller) -> Result<(), AppError> {
        if c.account.kind == AccountKind::Corporate {
            Err(crate::billing::BillingError::CorporateAccount.into())
        } else {
            Ok(())
        }
    }

    pub async fn overview() -> Result<BillingOverview, AppError> {
        let (state, caller, ctx) = billing_page().await?;
        let kind = ctx.terms.kind;
        let lang = crate::server::lang::current();
        let t = lang.ui();
        let cards = ctx
            .subscriptions
            .iter()
            .map(|s| {
                let product = state.catalog.product(&s.product).ok();
                let level_name = product
                    .and_then(|p| p.level(&s.level).ok())
                    .map(|l| l.name.clone())
                    .unwrap_or_else(|| s.level.clone());
                let period = s.period;
                let dates = match s.status {
                    // `trial_ends` is the first day without the trial: the
                    // card names the last day, as the reminder does.
                    SubscriptionStatus::Trial => s.trial_ends.map(|d| {
                        fill(
                            t.trial_ends,
                            &[("date", &lang.date(d.pred_opt().unwrap_or(d)))],
                        )
                    }),
                    SubscriptionStatus::TrialExpired => s
                        .trial_ends
                        .map(|d| fill(t.trial_ended, &[("date", &lang.date(d))])),
                    SubscriptionStatus::Expired => {
                        period.map(|p| fill(t.expired_on, &[("date", &lang.date(p.end))]))
                    }
                    SubscriptionStatus::PendingCancellation => period
                        .map(|p| fill(t.ends_on_last_day, &[("date", &lang.date(p.last_day()))])),
                    _ => period.map(|p| {
                        fill(
                            t.current_period,
                            &[
                                ("start", &lang.date(p.start)),
                                ("end", &lang.date(p.last_day())),
                            ],
                        )
                    }),
                }
                .unwrap_or_default();
                // The next renewal with VAT, by the function the billing run
                // charges with (a scheduled change included).
                let tax = crate::billing::tax::tax_treatment(&ctx.terms);
                let next_gross = renewal_amount(&state.catalog, s).ok().map(|net| {
                    let vat = Money::round(net.amount() * tax.rate(), net.currency());
                    net.checked_add(vat).unwrap_or(net)
                });
                let renews = matches!(
                    s.status,
                    SubscriptionStatus::Active | SubscriptionStatus::PastDue
                );
                let renewal = match (renews, period, next_gross) {
                    (true, Some(p), Some(gross)) => Some(fill(
                        t.renews_on,
                        &[("date", &lang.date(p.end)), ("amount", &lang.money(gross))],
                    )),
                    _ => None,
                };
                let scheduled_change = match (renews, period, &s.scheduled, next_gross) {
                    (true, Some(p), Some(c), Some(gross)) => {
                        let name = product
                            .and_then(|pr| pr.level(&c.level).ok())
                            .map(|l| l.name.clone())
                            .unwrap_or_else(|| c.level.clone());
                        let frequency = if c.frequency == crate::billing::Frequency::Annual {
                            t.annual
                        } else {
                            t.monthly
                        };
                        Some(fill(
                            t.scheduled_change,
                            &[
                                ("date", &lang.date(p.end)),
                                ("plan", &format!("{name} × {} ({frequency})", c.seats)),
                                ("amount", &lang.money(gross)),
                            ],
                        ))
                    }
                    _ => None,
                };
                let actions = available_actions(s.status, kind);
                // Also once pending: the dialog's confirmation names the day.
                let cancellable = actions.contains(&Action::Cancel)
                    || s.status == SubscriptionStatus::PendingCancellation;
                let cancel_terms = match (cancellable, period, next_gross) {
                    (true, Some(p), Some(gross)) => Some(CancelTerms {
                        last_day: lang.date(p.last_day()),
                        amount: lang.money(gross),
                        renewal_date: lang.date(p.end),
                    }),
                    _ => None,
                };
                SubscriptionCard {
                    id: s.id,
                    version: s.version,
                    product: s.product.clone(),
                    product_name: product
                        .map(|p| p.name.clone())
                        .unwrap_or_else(|| s.product.clone()),
                    level_name,
                    seats: s.seats,
                    frequency: if s.frequency == crate::billing::Frequency::Annual {
                        t.annual.into()
                    } else {
                        t.monthly.into()
                    },
                    status: s.status,
                    status_label: crate::i18n::status_label(t, s.status).into(),
                    dates,
                    renewal,
                    scheduled_change,
                    cancel_terms,
                    actions,
                }
            })
            .collect();
        let a = &caller.account;
        Ok(BillingOverview {
            account_name: a.name.clone(),
            corporate: kind == AccountKind::Corporate,
            representative: match (&a.rep_name, &a.rep_email, &a.rep_phone) {
                (Some(n), Some(e), Some(p)) => Some(Representative {
                    name: n.clone(),
                    email: e.clone(),
                    phone: p.clone(),
                }),
                _ => None,
            },
            cards,
            cart_count: ctx.cart.len(),
            back_to: caller.return_url.as_ref().and_then(|u| {
                let host = url::Url::parse(u).ok()?.host_str()?.to_string();
                Some((u.clone(), host))
            }),
        })
    }

    pub async fn quote_context() -> Result<EditorContext, AppError> {
        let (state, caller, ctx) = billing_page().await?;
        online_only(&caller)?;
        Ok(EditorContext {
            catalog: (*state.catalog).clone(),
            account: ctx.terms,
            subscriptions: ctx.subscriptions,
            cart: ctx.cart,
            today: ctx.today,
        })
    }

    pub async fn put_cart_item(item: CartItem, replace: bool) -> Result<usize, AppError> {
        let (state, caller, ctx) = billing_page().await?;
        online_only(&caller)?;
        // The item must quote on its own (ownership, state, level, seats).
        let q = quote_cart(&state, &ctx, std::slice::from_ref(&item))?;
        let product = q.items[0].product.clone();
        if replace {
            carts::clear_cart(&state.db, caller.account.id).await?;
        }
        let json = serde_json::to_string(&item).map_err(|_| AppError::Internal)?;
        carts::put_cart_item(&state.db, caller.account.id, &product, &json).await?;
        Ok(carts::cart(&state.db, caller.account.id).await?.len())
    }

    pub async fn remove_cart_item(product: String) -> Result<(), AppError> {
        let (state, caller) = billing_caller().await?;
        carts::remove_cart_item(&state.db, caller.account.id, &product).await?;
        Ok(())
    }

    fn pm_view(pm: &payment_methods::PaymentMethodRecord) -> PaymentMethodView {
        let t = crate::server::lang::current().ui();
        let label = match (pm.kind, pm.exp_month, pm.exp_year) {
            (PaymentMethodKind::Card, Some(m), Some(y)) => fill(
                t.card_label,
                &[
                    ("brand", &pm.brand),
                    ("last4", &pm.last4),
                    ("expiry", &format!("{m:02}/{:02}", y % 100)),
                ],
            ),
            _ => format!("{} •••• {}", pm.brand, pm.last4),
        };
        PaymentMethodView {
            kind: pm.kind.code().to_string(),
            label,
        }
    }

    pub async fn checkout() -> Result<CheckoutView, AppError> {
        let (state, caller, ctx) = billing_page().await?;
        online_only(&caller)?;
        let quote = quote_cart(&state, &ctx, &ctx.cart)?;
        let pm = payment_methods::payment_method(&state.db, caller.account.id).await?;
        use rand::Rng;
        let key: String = rand::thread_rng()
            .sample_iter(&rand::distributions::Alphanumeric)
            .take(32)
            .map(char::from)
            .collect();
        Ok(CheckoutView {
            stripe: state
                .stripe
                .as_ref()
                .map(|s| (s.publishable_key.clone(), s.js_url.clone())),
            quote,
            idempotency_key: key,
            cart_digest: crate::server::billing::cart_digest(&ctx.cart),
            payment_method: pm.as_ref().map(pm_view),
            email: caller.user.email.to_string(),
        })
    }

    pub async fn payment_method() -> Result<Option<PaymentMethodView>, AppError> {
        let (state, caller) = billing_caller().await?;
        Ok(
            payment_methods::payment_method(&state.db, caller.account.id)
                .await?
                .as_ref()
                .map(pm_view),
        )
    }

    /// Also for a Corporate account, whose billing contact pays an open
    /// invoice with a card set up this way (and not saved).
    pub async fn start_payment_setup(kind: String) -> Result<PaymentSetupView, AppError> {
        let (state, caller) = billing_caller().await?;
        let kind = PaymentMethodKind::parse(&kind)
            .map_err(|_| AppError::Invalid("Choose a card or SEPA Direct Debit.".into()))?;
        let setup = crate::server::payment_setup::start(
            &state,
            &caller.account,
            caller.user.email.as_str(),
            kind,
        )
        .await?;
        let stripe = state.stripe.as_ref();
        Ok(PaymentSetupView {
            provider: if stripe.is_some() { "stripe" } else { "demo" }.into(),
            publishable_key: stripe.map(|s| s.publishable_key.clone()),
            js_url: stripe.map(|s| s.js_url.clone()),
            setup_id: setup.id,
            client_secret: setup.client_secret,
            mandate: crate::server::payment_setup::mandate_text(
                &state.identity.seller,
                &caller.account.name,
            ),
            holder: caller.account.name.clone(),
            email: caller.user.email.to_string(),
        })
    }

    pub async fn finish_payment_setup(
        setup_id: String,
        mandate_accepted: Option<String>,
    ) -> Result<PaymentMethodView, AppError> {
        let (state, caller) = billing_caller().await?;
        online_only(&caller)?;
        let mandate = mandate_accepted.filter(|v| !v.is_empty()).map(|_| {
            crate::server::payment_setup::mandate_text(&state.identity.seller, &caller.account.name)
        });
        let pm = crate::server::payment_setup::finish(
            &state,
            caller.account.id,
            Some(caller.user.id),
            setup_id.trim(),
            mandate.as_deref(),
        )
        .await?;
        Ok(pm_view(&pm))
    }

    pub async fn place_order(
        key: String,
        expected_total: String,
        cart_digest: String,
    ) -> Result<OrderResult, AppError> {
        let (state, caller, ctx) = billing_page().await?;
        online_only(&caller)?;
        let result = crate::server::billing::place_order(
            &state,
            &caller,
            &ctx,
            &key,
            &expected_total,
            &cart_digest,
        )
        .await?;
        // JavaScript off: the confirmation is a page of its own.
        crate::server::error::plain_form_redirect(&format!("/billing/orders/{key}"));
        Ok(order_view(result))
    }

    pub async fn order_confirmation(key: String) -> Result<OrderResult, AppError> {
        let (state, caller) = billing_caller().await?;
        crate::server::billing::order_result(&state, &caller, &key)
            .await
            .map(order_view)
    }

    fn order_view(p: crate::server::billing::Placed) -> OrderResult {
        OrderResult {
            invoice_id: p.invoice_id,
            invoice_number: p.invoice_number,
            total: p.total,
            email: p.email,
        }
    }

    pub async fn remove_pending_cancellation(
        id: SubscriptionId,
        version: i64,
    ) -> Result<(), AppError> {
        let done = remove_pending_cancellation_now(id, version).await;
        if done.is_ok() {
            // JavaScript off: back to the page, the dialog saying it is done.
            crate::server::error::plain_form_redirect(&format!("/billing?removed={id}"));
        }
        done
    }

    async fn remove_pending_cancellation_now(
        id: SubscriptionId,
        version: i64,
    ) -> Result<(), AppError> {
        let (state, caller, ctx) = billing_page().await?;
        online_only(&caller)?;
        current_subscription(&ctx, id, version)?;
        // The engine validates the transition and confirms it costs nothing.
        let q = quote_cart(
            &state,
            &ctx,
            &[CartItem::RemovePendingCancellation {
                subscription_id: id,
            }],
        )?;
        debug_assert!(q.totals.total_due.is_zero());
        if !subscriptions::change_status_with_notice(
            &state.db,
            (caller.account.id, caller.user.id),
            (id, version),
            (
                SubscriptionStatus::PendingCancellation.code(),
                SubscriptionStatus::Active.code(),
            ),
            ("remove_pending_cancellation", &format!("subscription {id}")),
            None,
        )
        .await?
        {
            return Err(AppError::Stale);
        }
        Ok(())
    }

    /// The caller's subscription `id` as the page showed it (`version`).
    fn current_subscription(
        ctx: &Context,
        id: SubscriptionId,
        version: i64,
    ) -> Result<&crate::billing::SubscriptionSnapshot, AppError> {
        let sub = ctx
            .subscriptions
            .iter()
            .find(|s| s.id == id)
            .ok_or(AppError::NotFound)?;
        if sub.version != version {
            return Err(AppError::Stale);
        }
        Ok(sub)
    }

    pub async fn cancel_subscription(
        id: SubscriptionId,
        version: i64,
        reason: Option<String>,
    ) -> Result<(), AppError> {
        let done = cancel_subscription_now(id, version, reason).await;
        if done.is_ok() {
            // JavaScript off: back to the page, the dialog saying it is done.
            crate::server::error::plain_form_redirect(&format!("/billing?cancelled={id}"));
        }
        done
    }

    async fn cancel_subscription_now(
        id: SubscriptionId,
        version: i64,
        reason: Option<String>,
    ) -> Result<(), AppError> {
        let (state, caller, ctx) = billing_page().await?;
        online_only(&caller)?;
        let reason = reason
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty());
        if reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
            return Err(AppError::Invalid(
                "Keep the reason under 500 characters.".into(),
            ));
        }
        let sub = current_subscription(&ctx, id, version)?;
        // The engine validates the transition (only an active online
        // subscription) and says when it takes effect.
        let q = quote_cart(
            &state,
            &ctx,
            &[CartItem::CancelAtPeriodEnd {
                subscription_id: id,
            }],
        )?;
        let Some(period) = sub.period else {
            return Err(AppError::Stale);
        };
        debug_assert!(q.totals.total_due.is_zero());
        let lang = crate::server::billing::lang_of(&caller.account);
        let product = state
            .catalog
            .product(&sub.product)
            .map(|p| p.name.clone())
            .unwrap_or_else(|_| sub.product.clone());
        let t = lang.texts();
        let mail = crate::server::email::notice(
            &state.identity,
            lang,
            caller.user.email.as_str(),
            t.cancelled_subject,
            t.cancelled_body,
            &[
                ("product", &product),
                ("date", &lang.date(period.last_day())),
            ],
        );
        let detail = format!(
            "subscription {id} ends after {}; reason: {}",
            period.last_day(),
            reason.as_deref().unwrap_or("-")
        );
        if !subscriptions::change_status_with_notice(
            &state.db,
            (caller.account.id, caller.user.id),
            (id, version),
            (
                SubscriptionStatus::Active.code(),
                SubscriptionStatus::PendingCancellation.code(),
            ),
            ("cancel_subscription", &detail),
            Some(&mail),
        )
        .await?
        {
            return Err(AppError::Stale);
        }
        Ok(())
    }

    pub async fn invoices(before: Option<InvoiceId>) -> Result<InvoicePage, AppError> {
        let (state, caller) = billing_caller().await?;
        const PAGE: i64 = 20;
        let rows = invoices::invoices(&state.db, caller.account.id, before, PAGE + 1).await?;
        let next = (rows.len() as i64 > PAGE).then(|| rows[PAGE as usize - 1].id);
        let lang = crate::server::lang::current();
        Ok(InvoicePage {
            rows: rows
                .iter()
                .take(PAGE as usize)
                .map(|i| invoice_row(lang, i))
                .collect(),
            next,
        })
    }

    pub async fn invoice(id: InvoiceId) -> Result<InvoiceDetail, AppError> {
        let (state, caller) = billing_caller().await?;
        let (i, lines) = invoices::invoice_with_lines(&state.db, caller.account.id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let f = i.figures()?;
        let lang = crate::server::lang::current();
        let t = lang.ui();
        let rate = i.vat_rate;
        let shown = |amount: Money| (!amount.is_zero()).then(|| lang.money(amount));
        Ok(InvoiceDetail {
            id: i.id,
            number: i.number,
            issued_on: lang.date(i.issued_on),
            seller: i.seller_details,
            buyer: format!("{} <{}>", i.buyer_name, i.buyer_email),
            lines: lines
                .into_iter()
                .map(|l| InvoiceLineView {
                    description: l.description,
                    seats: l.seats,
                    unit: lang.money(l.unit),
                    amount: lang.money(l.amount),
                    period: fill(
                        t.period_range,
                        &[
                            ("start", &lang.date(l.period_start)),
                            ("end", &lang.date(l.period_end)),
                        ],
                    ),
                })
                .collect(),
            subtotal: lang.money(f.subtotal),
            credit_applied: shown(-f.credit_applied),
            net: lang.money(f.net),
            vat_label: fill(t.vat, &[("rate", &lang.percent(rate))]),
            vat: lang.money(f.vat),
            total: lang.money(f.total),
            carried_forward: shown(f.carried_forward),
            // The legal mention as written on the invoice (its language).
            tax_mention: i.tax_mention,
            status: if i.status == InvoiceStatus::Paid {
                t.status_paid.into()
            } else {
                t.status_open.into()
            },
        })
    }

    /// The caller's own pending payment `intent`; not found otherwise.
    async fn own_pending(
        state: &AppState,
        caller: &Caller,
        intent: &str,
    ) -> Result<crate::server::payments::PendingPayment, AppError> {
        if state.stripe.is_none() {
            return Err(AppError::NotFound);
        }
        match state.gateway.pending(intent.trim()).await {
            Ok(p) if p.account_id == caller.account.id => Ok(p),
            _ => Err(AppError::NotFound),
        }
    }

    pub async fn payment_to_confirm(intent: String) -> Result<PendingPaymentView, AppError> {
        let (state, caller) = billing_caller().await?;
        let p = own_pending(&state, &caller, &intent).await?;
        let stripe = state.stripe.as_ref().ok_or(AppError::NotFound)?;
        let currency = crate::billing::Currency::parse(&p.currency)?;
        Ok(PendingPaymentView {
            publishable_key: stripe.publishable_key.clone(),
            js_url: stripe.js_url.clone(),
            client_secret: p.client_secret,
            amount: crate::server::lang::current()
                .money(crate::billing::Money::from_minor(p.amount_minor, currency)),
            done: p.status != "requires_action",
        })
    }

    pub async fn payment_confirmed(intent: String) -> Result<(), AppError> {
        let (state, caller) = billing_caller().await?;
        own_pending(&state, &caller, &intent).await?;
        crate::server::billing_run::retry_past_due(&state, caller.account.id).await?;
        Ok(())
    }

    pub async fn mailbox() -> Result<Vec<MailView>, AppError> {
        let (state, caller) = billing_caller().await?;
        Ok(outbox::outbox(&state.db, caller.account.id)
            .await?
            .into_iter()
            .map(|o| MailView {
                to: o.to_addr,
                subject: o.subject,
                body: o.body_text,
                sent: o.sent_at.is_some(),
            })
            .collect())
    }
}
