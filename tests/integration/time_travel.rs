//! Time travel, in the style of Kill Bill's beatrix tests: the product is
//! driven through the server functions its pages call, the injected clock
//! moves (never `sleep`), the billing run runs every day as the job would,
//! and after every step the books are checked: paid days tile, payments =
//! invoices = what the gateway settled, credit never negative and equal to
//! what its movements add up to, invoice numbers continuous and in date
//! order, every invoice adding up line by line. On SQLite and PostgreSQL.

mod model;

use billing_center::domain::{AccountId, InvoiceId, SubscriptionId, UserId};
use std::collections::BTreeMap;
use std::sync::Arc;

use billing_center::db::Backend;
use billing_center::db::accounts;
use billing_center::db::payment_methods::PaymentMethodRecord;
use billing_center::db::subscriptions::SubscriptionRecord;
use billing_center::db::{payment_methods, subscriptions};
use billing_center::server::billing_run::{AsOf, run};
use billing_center::server::clock::{Clock, ManualClock};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::helpers::{
    Session, TestApp, assert_books, backends, online_account_in, session_cookie_at,
};

struct World {
    app: TestApp,
    clock: Arc<ManualClock>,
    step: String,
    /// Sessions opened so far: each gets its own token.
    sessions: std::sync::atomic::AtomicUsize,
    /// Invoices whose documents were read and found to add up.
    documents_checked: std::sync::Mutex<std::collections::BTreeSet<InvoiceId>>,
}

#[derive(Clone, Copy)]
struct Customer {
    account: AccountId,
    user: UserId,
    tz: &'static str,
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

impl World {
    async fn new(backend: Backend, start: &str) -> World {
        let clock = Arc::new(ManualClock::new(start.parse::<DateTime<Utc>>().unwrap()));
        let app = TestApp::spawn_with_clock(backend, clock.clone()).await;
        World {
            app,
            clock,
            step: "start".into(),
            sessions: Default::default(),
            documents_checked: Default::default(),
        }
    }

    fn today(&self, c: Customer) -> NaiveDate {
        billing_center::server::clock::local_date(self.clock.now(), c.tz)
    }

    /// An online French account in `tz` with its billing contact and a card.
    async fn customer(&self, name: &str, tz: &'static str, card: &str) -> Customer {
        let email = format!("{}@travel.test", name.to_lowercase().replace(' ', "-"));
        let (account, user) = online_account_in(&self.app.db, name, &email, tz).await;
        let c = Customer { account, user, tz };
        self.card(c, card).await;
        c
    }

    async fn card(&self, c: Customer, token: &str) {
        payment_methods::save_payment_method(
            &self.app.db,
            c.account,
            &PaymentMethodRecord {
                kind: billing_center::db::payment_methods::PaymentMethodKind::Card,
                token: token.into(),
                brand: "Visa".into(),
                last4: token[token.len() - 4..].into(),
                exp_month: Some(12),
                exp_year: Some(2040),
            },
        )
        .await
        .unwrap();
    }

    /// A trial of `product` ending on `ends` (the first day without it).
    async fn trial(
        &self,
        c: Customer,
        product: &str,
        level: &str,
        ends: NaiveDate,
    ) -> SubscriptionId {
        subscriptions::insert_subscription(
            &self.app.db,
            &SubscriptionRecord::trial(
                c.account,
                (product, level, 1),
                billing_center::billing::Frequency::Monthly,
                ends,
            ),
        )
        .await
        .unwrap()
    }

    /// A session of the customer's billing contact, valid at the clock's now.
    async fn session(&self, c: Customer) -> Session {
        let seed = self
            .sessions
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let cookie = session_cookie_at(&self.app.db, c.user, seed, self.clock.now()).await;
        Session::with_cookie(&self.app.base, &cookie)
    }

    /// Puts `item` alone in the cart and places the order at the total the
    /// order page shows; the order's result.
    async fn order(&mut self, c: Customer, item: Value) -> Result<Value, String> {
        self.order_with_key(c, item, None).await
    }

    /// Several items in the cart, placed as one order.
    async fn order_items(&mut self, c: Customer, items: &[Value]) -> Result<Value, String> {
        let (last, first) = items.split_last().unwrap();
        let s = self.session(c).await;
        for (n, item) in first.iter().enumerate() {
            let r = s
                .json("put_cart_item", json!({"item": item, "replace": n == 0}))
                .await;
            assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        }
        self.put_and_place(c, last.clone(), None, first.is_empty())
            .await
    }

    /// [`Self::order`] under `key` instead of the order page's key (a page
    /// kept open and submitted again, or a client choosing its own).
    async fn order_with_key(
        &mut self,
        c: Customer,
        item: Value,
        key: Option<&str>,
    ) -> Result<Value, String> {
        self.put_and_place(c, item, key, true).await
    }

    /// Puts `item` in the cart (alone when `replace`) and places the order.
    async fn put_and_place(
        &mut self,
        c: Customer,
        item: Value,
        key: Option<&str>,
        replace: bool,
    ) -> Result<Value, String> {
        self.step = format!("order {item}");
        let s = self.session(c).await;
        let r = s
            .json("put_cart_item", json!({"item": item, "replace": replace}))
            .await;
        if !r.status().is_success() {
            return Err(r.text().await.unwrap());
        }
        let checkout: Value = s.ok("checkout", &[]).await;
        let total = checkout["quote"]["totals"]["total_due"]["amount"]
            .as_str()
            .unwrap()
            .to_string();
        let r = s
            .form(
                "place_order",
                &[
                    (
                        "key",
                        key.unwrap_or(checkout["idempotency_key"].as_str().unwrap()),
                    ),
                    ("expected_total", &total),
                    ("cart_digest", checkout["cart_digest"].as_str().unwrap()),
                ],
            )
            .await;
        let ok = r.status().is_success();
        let body = r.text().await.unwrap();
        let result = if ok {
            Ok(serde_json::from_str(&body).unwrap())
        } else {
            Err(body)
        };
        self.check().await;
        result
    }

    /// A server function of the billing contact, form-encoded.
    async fn call(&mut self, c: Customer, endpoint: &str, form: &[(&str, &str)]) -> (u16, String) {
        self.step = format!("{endpoint} {form:?}");
        let s = self.session(c).await;
        let r = s.form(endpoint, form).await;
        let status = r.status().as_u16();
        let body = r.text().await.unwrap();
        self.check().await;
        (status, body)
    }

    /// `endpoint` (`cancel_subscription`, `remove_pending_cancellation`)
    /// on the subscription `id` at the version it has now, with `extra`
    /// fields besides.
    async fn at_version(
        &mut self,
        c: Customer,
        id: SubscriptionId,
        endpoint: &str,
        extra: &[(&str, &str)],
    ) -> (u16, String) {
        let version = subscriptions::subscriptions(&self.app.db, c.account)
            .await
            .unwrap()
            .into_iter()
            .find(|s| s.id == id)
            .unwrap()
            .version
            .to_string();
        let id = id.to_string();
        let mut form = vec![("id", id.as_str()), ("version", version.as_str())];
        form.extend_from_slice(extra);
        self.call(c, endpoint, &form).await
    }

    /// Moves the clock `days` days, running the billing run once a day.
    async fn days(&mut self, days: i64) {
        for _ in 0..days {
            self.clock.advance(Duration::days(1));
            self.step = format!("billing run at {}", self.clock.now());
            run(&self.app.state(), AsOf::Now).await.unwrap();
            self.check().await;
        }
    }

    /// Moves the clock without any billing run (the job was down).
    fn skip_days(&mut self, days: i64) {
        self.clock.advance(Duration::days(days));
    }

    async fn months(&mut self, months: i64) {
        let to = self
            .clock
            .now()
            .checked_add_months(chrono::Months::new(months as u32));
        let days = (to.unwrap() - self.clock.now()).num_days();
        self.days(days).await;
    }

    async fn sub(&self, c: Customer, product: &str) -> SubscriptionRecord {
        subscriptions::subscriptions(&self.app.db, c.account)
            .await
            .unwrap()
            .into_iter()
            .find(|s| s.product == product)
            .unwrap()
    }

    /// The invariants, after every step.
    async fn check(&self) {
        let what = self.step.as_str();
        let settled = self.app.state().gateway.settled().await.unwrap();
        assert_books(&self.app.db, what, &settled).await;
        assert_invoices_add_up(&self.app, what).await;
        assert_numbers_in_date_order(&self.app, what).await;
        assert_credit_matches_its_movements(&self.app, what).await;
        assert_no_day_paid_twice(&self.app, what).await;
        self.assert_documents_add_up().await;
    }

    /// Each new invoice's page and CSV row, as its billing contact gets
    /// them, add up line by line; its PDF too when credit is involved.
    async fn assert_documents_add_up(&self) {
        let what = self.step.as_str();
        let rows: Vec<(InvoiceId, String, AccountId, UserId, String)> = sqlx::query_as(
            "SELECT i.id, i.number, i.account_id, u.id, a.time_zone FROM invoices i
             JOIN users u ON u.account_id = i.account_id AND u.is_billing_contact = 1
             JOIN accounts a ON a.id = i.account_id ORDER BY i.id",
        )
        .fetch_all(&self.app.db.pool)
        .await
        .unwrap();
        let new: Vec<_> = {
            let checked = self.documents_checked.lock().unwrap();
            rows.into_iter()
                .filter(|r| !checked.contains(&r.0))
                .collect()
        };
        let mut csv: BTreeMap<AccountId, String> = BTreeMap::new();
        for (id, number, account, user, _) in new {
            let c = Customer {
                account,
                user,
                tz: "Europe/Paris",
            };
            let s = self.session(c).await;
            let page: Value = s.ok("invoice", &[("id", &id.to_string())]).await;
            let lines: Vec<i64> = page["lines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| cents(&l["amount"]))
                .collect();
            let sum: i64 = lines.iter().sum();
            let credit = -page["credit_applied"]
                .as_str()
                .map_or(0, |_| cents(&page["credit_applied"]));
            let carried = page["carried_forward"]
                .as_str()
                .map_or(0, |_| cents(&page["carried_forward"]));
            let (subtotal, net, vat, total) = (
                cents(&page["subtotal"]),
                cents(&page["net"]),
                cents(&page["vat"]),
                cents(&page["total"]),
            );
            let figures = (sum, credit, net, vat, total, carried);
            assert_eq!(
                subtotal, sum,
                "{what}: invoice {number}: subtotal ≠ Σ lines"
            );
            assert_eq!(
                net,
                (sum - credit).max(0),
                "{what}: invoice {number}: page {figures:?}"
            );
            assert_eq!(
                net + vat,
                total,
                "{what}: invoice {number}: page {figures:?}"
            );
            assert_eq!(
                carried,
                (-sum).max(0),
                "{what}: invoice {number}: carried forward"
            );
            // The CSV row shows the same figures.
            if let std::collections::btree_map::Entry::Vacant(e) = csv.entry(account) {
                let r = s
                    .client
                    .get(format!("{}/billing/invoices.csv?lang=en", s.base))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200, "{what}");
                e.insert(r.text().await.unwrap());
            }
            let row: Vec<&str> = csv[&account]
                .lines()
                .find(|l| l.split(',').nth(1) == Some(number.as_str()))
                .unwrap_or_else(|| panic!("{what}: invoice {number} not in the CSV"))
                .split(',')
                .collect();
            let field = |i: usize| cents(&Value::String(row[i].to_string()));
            assert_eq!(
                (field(4), field(5), field(6), field(7), field(8), field(9)),
                (sum, credit, net, vat, total, carried),
                "{what}: invoice {number}: CSV row {row:?}"
            );
            // The PDF prints them, and says where a negative sum went.
            if credit != 0 || carried != 0 {
                let r = s
                    .client
                    .get(format!("{}/billing/invoices/{id}/pdf?lang=en", s.base))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200, "{what}");
                let text = crate::documents::pdf_text(&r.bytes().await.unwrap());
                let eur = |minor: i64| {
                    billing_center::billing::Money::from_minor(
                        minor,
                        billing_center::billing::Currency::Eur,
                    )
                    .to_string()
                };
                let mut expected = vec![
                    format!("Subtotal (excl. VAT) {}", eur(sum)),
                    format!("Total due (incl. VAT) {}", eur(total)),
                ];
                if credit != 0 {
                    expected.push(format!("Credit applied {}", eur(-credit)));
                    expected.push(format!("Net (excl. VAT) {}", eur(net)));
                }
                if carried != 0 {
                    expected.push(format!(
                        "Credit carried forward to your account: {}",
                        eur(carried)
                    ));
                }
                for e in expected {
                    assert!(
                        text.contains(&e),
                        "{what}: invoice {number}: PDF lacks {e:?}:\n{text}"
                    );
                }
            }
            self.documents_checked.lock().unwrap().insert(id);
        }
    }

    /// Each invoice line of the account, in number order:
    /// (first day, last day, amount).
    async fn lines(&self, c: Customer) -> Vec<(NaiveDate, NaiveDate, i64)> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT l.period_start, l.period_end, l.amount_minor FROM invoice_lines l
             JOIN invoices i ON i.id = l.invoice_id WHERE i.account_id = $1
             ORDER BY i.seq, l.position",
        )
        .bind(c.account)
        .fetch_all(&self.app.db.pool)
        .await
        .unwrap();
        rows.into_iter()
            .map(|(s, e, a)| (d(&s), d(&e), a))
            .collect()
    }

    async fn emails(&self, c: Customer) -> Vec<String> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT subject FROM email_outbox WHERE account_id = $1 ORDER BY id")
                .bind(c.account)
                .fetch_all(&self.app.db.pool)
                .await
                .unwrap();
        rows.into_iter().map(|(s,)| s).collect()
    }

    /// Days paid for, per account: each line adds one for its days, a
    /// credit line takes one away; every day is paid at most once, and the
    /// days paid form these runs (first, last) with gaps between them.
    async fn paid_runs(&self, c: Customer) -> Vec<(NaiveDate, NaiveDate)> {
        runs(&coverage(&self.lines(c).await))
    }
}

fn coverage(lines: &[(NaiveDate, NaiveDate, i64)]) -> BTreeMap<NaiveDate, i64> {
    let mut days = BTreeMap::new();
    for (start, last, amount) in lines {
        let sign = if *amount < 0 { -1 } else { 1 };
        let mut day = *start;
        while day <= *last {
            *days.entry(day).or_insert(0) += sign;
            day = day.succ_opt().unwrap();
        }
    }
    days
}

fn runs(days: &BTreeMap<NaiveDate, i64>) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for (day, n) in days {
        if *n != 1 {
            continue;
        }
        match out.last_mut() {
            Some((_, last)) if last.succ_opt() == Some(*day) => *last = *day,
            _ => out.push((*day, *day)),
        }
    }
    out
}

async fn assert_no_day_paid_twice(app: &TestApp, what: &str) {
    let rows: Vec<(i64, String, String, i64)> = sqlx::query_as(
        "SELECT i.account_id, l.period_start, l.period_end, l.amount_minor FROM invoice_lines l
         JOIN invoices i ON i.id = l.invoice_id ORDER BY i.account_id, i.seq, l.position",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    let mut per_account: BTreeMap<i64, Vec<(NaiveDate, NaiveDate, i64)>> = BTreeMap::new();
    for (a, s, e, m) in rows {
        per_account.entry(a).or_default().push((d(&s), d(&e), m));
    }
    for (account, lines) in per_account {
        // One subscription per account in these scenarios, except where a
        // scenario says otherwise (two products: each day at most twice).
        let products: (i64,) = sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM subscriptions WHERE account_id = $1",
        )
        .bind(account)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        let paid = coverage(&lines);
        for (day, n) in &paid {
            assert!(
                (0..=products.0).contains(n),
                "{what}: account {account} paid {n} times for {day}"
            );
        }
        // No gap while active: each day of an active (or cancelled, still
        // running) subscription's current term is paid.
        let terms: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT id, period_start, period_end FROM subscriptions WHERE account_id = $1
             AND status IN ('active', 'pending_cancellation') AND period_start IS NOT NULL",
        )
        .bind(account)
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
        for (id, start, end) in terms {
            let mut day = d(&start);
            while day < d(&end) {
                assert!(
                    paid.get(&day).is_some_and(|n| *n >= 1),
                    "{what}: subscription {id} is active on {day}, which is not paid"
                );
                day = day.succ_opt().unwrap();
            }
        }
    }
}

async fn assert_invoices_add_up(app: &TestApp, what: &str) {
    let rows: Vec<(String, i64, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT i.number, i.net_minor, i.credit_applied_minor, i.vat_minor, i.total_minor,
                CAST(COALESCE((SELECT SUM(amount_minor) FROM invoice_lines l WHERE l.invoice_id = i.id), 0) AS BIGINT)
         FROM invoices i",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    for (number, net, credit, vat, total, lines) in rows {
        assert!(credit >= 0, "{what}: {number} applies negative credit");
        assert_eq!(
            net,
            (lines - credit).max(0),
            "{what}: {number}: lines {lines} − credit {credit} ≠ net {net}"
        );
        assert_eq!(net + vat, total, "{what}: {number}: net + VAT ≠ total");
        assert!(total >= 0, "{what}: {number} has a negative total");
    }
}

async fn assert_numbers_in_date_order(app: &TestApp, what: &str) {
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT seq, issued_on FROM invoices ORDER BY seq")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    for (i, pair) in rows.windows(2).enumerate() {
        assert_eq!(
            pair[0].0 + 1,
            pair[1].0,
            "{what}: invoice numbers have a gap at {i}"
        );
    }
    // Issue dates are local dates of different zones: across accounts
    // they may differ by a day at most.
    for pair in rows.windows(2) {
        let (a, b) = (d(&pair[0].1), d(&pair[1].1));
        assert!(
            b >= a - Duration::days(1),
            "{what}: invoice {} issued {a}, after it {} issued {b}",
            pair[0].0,
            pair[1].0
        );
    }
}

/// The balance is the sum of its ledger, and both are what the invoices
/// say: credit created by invoices whose lines sum below zero, less credit
/// applied; never negative.
async fn assert_credit_matches_its_movements(app: &TestApp, what: &str) {
    let rows: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT a.id, a.credit_balance_minor,
                CAST(COALESCE((SELECT SUM(m.amount_minor) FROM credit_movements m
                               WHERE m.account_id = a.id), 0) AS BIGINT),
                CAST(COALESCE((SELECT SUM(CASE WHEN s.lines < 0 THEN -s.lines ELSE 0 END - s.applied)
                     FROM (SELECT i.credit_applied_minor AS applied,
                                  COALESCE((SELECT SUM(amount_minor) FROM invoice_lines l WHERE l.invoice_id = i.id), 0) AS lines
                           FROM invoices i WHERE i.account_id = a.id) s), 0) AS BIGINT)
         FROM accounts a",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    for (account, balance, ledger, movements) in rows {
        assert!(
            balance >= 0,
            "{what}: account {account} credit {balance} < 0"
        );
        assert_eq!(
            balance, ledger,
            "{what}: account {account} credit {balance} ≠ its ledger {ledger}"
        );
        assert_eq!(
            balance, movements,
            "{what}: account {account} credit {balance} ≠ its movements {movements}"
        );
    }
}

/// Minor units of an amount as a page or CSV writes it in English
/// ("€1,234.50", "-€15.00", "1234.50").
fn cents(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_else(|| panic!("an amount: {v}"));
    let negative = s.contains('-');
    let digits: String = s
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let amount: rust_decimal::Decimal = digits.parse().unwrap_or_else(|_| panic!("an amount: {s}"));
    let minor = i64::try_from(
        (amount * rust_decimal::Decimal::from(100))
            .trunc()
            .mantissa(),
    )
    .unwrap();
    if negative { -minor } else { minor }
}

fn subscribe(id: SubscriptionId, product: &str, level: &str, seats: i64, frequency: &str) -> Value {
    json!({"type": "subscribe", "subscription_id": id, "product": product,
           "plan": {"level": level, "seats": seats, "frequency": frequency}})
}

fn change(id: SubscriptionId, level: &str, seats: i64, frequency: &str) -> Value {
    json!({"type": "change", "subscription_id": id,
           "plan": {"level": level, "seats": seats, "frequency": frequency}})
}

fn reactivate(id: SubscriptionId, level: &str, seats: i64, frequency: &str) -> Value {
    json!({"type": "reactivate", "subscription_id": id,
           "plan": {"level": level, "seats": seats, "frequency": frequency}})
}

/// Subscribe from a trial on the 31st, then 24 months of renewals: the
/// anchor is stored with the new term, so the billing day comes back to
/// the 31st after every short month (before the fix it drifted to the
/// 28th for good after February).
#[tokio::test]
async fn subscribe_on_the_31st_then_24_months_keep_the_anchor_day() {
    for backend in backends() {
        let mut w = World::new(backend, "2027-01-31T10:00:00Z").await;
        let c = w.customer("Anchor 31", "Europe/Paris", "tok_ok_4242").await;
        let id = w.trial(c, "webinar", "standard", d("2027-02-07")).await;
        w.order(c, subscribe(id, "webinar", "standard", 1, "monthly"))
            .await
            .unwrap();
        w.months(24).await;
        let starts: Vec<String> = w
            .lines(c)
            .await
            .iter()
            .map(|(s, _, _)| s.to_string())
            .collect();
        assert_eq!(starts.len(), 25, "{backend:?}: the order and 24 renewals");
        assert_eq!(
            &starts[..6],
            [
                "2027-01-31",
                "2027-02-28",
                "2027-03-31",
                "2027-04-30",
                "2027-05-31",
                "2027-06-30"
            ],
            "{backend:?}"
        );
        assert_eq!(starts[13], "2028-02-29", "{backend:?}: leap year");
        assert_eq!(starts[14], "2028-03-31", "{backend:?}");
        // Paid without a gap from the first day to the end of the last term.
        let runs = w.paid_runs(c).await;
        assert_eq!(runs.len(), 1, "{backend:?}: {runs:?}");
        assert_eq!(runs[0].0, d("2027-01-31"));
        assert_eq!(
            w.emails(c)
                .await
                .iter()
                .filter(|s| s.starts_with("Renewal receipt"))
                .count(),
            24
        );
    }
}

/// Anchors on the 29th, the 30th and February 29, annual and monthly: every
/// renewal starts the day after the paid term ends.
#[tokio::test]
async fn anchors_on_the_29th_30th_and_february_29_tile_for_two_years() {
    for backend in backends() {
        let mut w = World::new(backend, "2028-01-29T09:00:00Z").await;
        let c29 = w.customer("Anchor 29", "Europe/Paris", "tok_ok_4242").await;
        let t = w.trial(c29, "meeting", "business", d("2028-02-05")).await;
        w.order(c29, subscribe(t, "meeting", "business", 2, "monthly"))
            .await
            .unwrap();
        w.days(1).await;
        let c30 = w.customer("Anchor 30", "Europe/Paris", "tok_ok_4242").await;
        let t = w.trial(c30, "meeting", "business", d("2028-02-05")).await;
        w.order(c30, subscribe(t, "meeting", "business", 1, "monthly"))
            .await
            .unwrap();
        let days_to_feb_29 = (d("2028-02-29") - w.today(c30)).num_days();
        w.days(days_to_feb_29).await;
        let leap = w.customer("Leap day", "Europe/Paris", "tok_ok_4242").await;
        let t = w.trial(leap, "training", "starter", d("2028-03-07")).await;
        w.order(leap, subscribe(t, "training", "starter", 1, "annual"))
            .await
            .unwrap();
        w.months(25).await;
        for (c, day) in [(c29, 29), (c30, 30)] {
            let runs = w.paid_runs(c).await;
            assert_eq!(runs.len(), 1, "{backend:?} day {day}: {runs:?}");
            for (start, _, _) in w.lines(c).await {
                use chrono::Datelike;
                let month_len = (start.with_day(1).unwrap() + chrono::Months::new(1))
                    .pred_opt()
                    .unwrap()
                    .day();
                assert_eq!(start.day(), day.min(month_len), "{backend:?}: {start}");
            }
        }
        let leap_starts: Vec<NaiveDate> = w.lines(leap).await.iter().map(|l| l.0).collect();
        assert_eq!(
            leap_starts,
            [d("2028-02-29"), d("2029-02-28"), d("2030-02-28")],
            "{backend:?}"
        );
        assert_eq!(w.paid_runs(leap).await.len(), 1);
    }
}

/// Reactivation starts a new term with its own anchor: the first renewal
/// starts where the reactivated term ends (before the fix it was computed
/// from the old anchor and overlapped the term just paid).
#[tokio::test]
async fn cancel_let_it_end_then_reactivate_and_renew_for_two_years() {
    for backend in backends() {
        let mut w = World::new(backend, "2027-03-10T09:00:00Z").await;
        let c = w.customer("Comeback", "Europe/Paris", "tok_ok_4242").await;
        let id = w.trial(c, "webinar", "lite", d("2027-03-20")).await;
        w.order(c, subscribe(id, "webinar", "lite", 1, "monthly"))
            .await
            .unwrap();
        w.days(5).await;
        let (status, body) = w
            .at_version(c, id, "cancel_subscription", &[("reason", "Too expensive")])
            .await;
        assert_eq!(status, 200, "{backend:?}: {body}");
        assert_eq!(
            w.sub(c, "webinar").await.status.code(),
            "pending_cancellation"
        );
        w.days(40).await;
        let sub = w.sub(c, "webinar").await;
        assert_eq!(sub.status.code(), "expired", "{backend:?}");
        assert_eq!(
            w.lines(c).await.len(),
            1,
            "{backend:?}: nothing charged after the cancellation"
        );
        w.days(17).await;
        w.order(c, reactivate(id, "lite", 2, "monthly"))
            .await
            .unwrap();
        let reactivated_on = w.today(c);
        w.months(24).await;
        let runs = w.paid_runs(c).await;
        assert_eq!(
            runs.len(),
            2,
            "{backend:?}: one gap while expired: {runs:?}"
        );
        assert_eq!(runs[0], (d("2027-03-10"), d("2027-04-09")));
        assert_eq!(runs[1].0, reactivated_on);
        assert_eq!(w.lines(c).await.len(), 2 + 24, "{backend:?}");
        let mails = w.emails(c).await;
        assert!(
            mails
                .iter()
                .any(|m| m == "Your GoToWebinar subscription is cancelled"),
            "{mails:?}"
        );
    }
}

/// After the local end of the term, "Remove pending cancellation" is
/// refused whatever the billing run did (here: it has not run), and
/// Reactivate is offered instead.
#[tokio::test]
async fn removing_a_cancellation_after_the_term_ended_is_refused_even_before_the_run() {
    for backend in backends() {
        let mut w = World::new(backend, "2027-05-01T08:00:00Z").await;
        let c = w
            .customer("Too late", "Pacific/Kiritimati", "tok_ok_4242")
            .await;
        let id = w.trial(c, "meeting", "business", d("2027-05-10")).await;
        w.order(c, subscribe(id, "meeting", "business", 1, "monthly"))
            .await
            .unwrap();
        let sub = w.sub(c, "meeting").await;
        let end: NaiveDate = sub.period.unwrap().end;
        w.at_version(c, id, "cancel_subscription", &[]).await;
        // Local midnight of the end date in UTC+14, no billing run since.
        w.skip_days((end - w.today(c)).num_days() - 1);
        let version = w.sub(c, "meeting").await.version.to_string();
        let before = w.today(c);
        while w.today(c) == before {
            w.clock.advance(Duration::minutes(30));
        }
        assert_eq!(w.today(c), end, "{backend:?}");
        let (status, body) = w
            .call(
                c,
                "remove_pending_cancellation",
                &[("id", &id.to_string()), ("version", &version)],
            )
            .await;
        assert_eq!(status, 422, "{backend:?}: {body}");
        assert!(body.contains("TermEnded"), "{backend:?}: {body}");
        assert_eq!(
            w.sub(c, "meeting").await.status.code(),
            "pending_cancellation"
        );
        let overview: Value = w.session(c).await.ok("overview", &[]).await;
        assert_eq!(
            overview["cards"][0]["actions"],
            json!(["reactivate"]),
            "{backend:?}"
        );
        // The run then ends it; nothing is charged.
        w.days(1).await;
        assert_eq!(w.sub(c, "meeting").await.status.code(), "expired");
        assert_eq!(w.lines(c).await.len(), 1);
    }
}

/// Monthly → annual (with a level upgrade: immediate, new anchor today,
/// unused month credited), three years of annual renewals, then annual →
/// monthly at the end of the term.
#[tokio::test]
async fn monthly_to_annual_then_back_to_monthly_at_the_end_of_the_term() {
    for backend in backends() {
        let mut w = World::new(backend, "2027-01-15T10:00:00Z").await;
        let c = w.customer("Switcher", "Europe/Paris", "tok_ok_4242").await;
        let id = w.trial(c, "webinar", "standard", d("2027-01-20")).await;
        w.order(c, subscribe(id, "webinar", "standard", 1, "monthly"))
            .await
            .unwrap();
        w.days(10).await;
        w.order(c, change(id, "pro", 1, "annual")).await.unwrap();
        let sub = w.sub(c, "webinar").await;
        assert_eq!(sub.anchor_on, Some(d("2027-01-25")), "{backend:?}");
        assert_eq!(sub.period.map(|p| p.end), Some(d("2028-01-25")));
        w.months(12).await;
        w.order(c, change(id, "pro", 1, "monthly")).await.unwrap();
        let sub = w.sub(c, "webinar").await;
        assert_eq!(
            sub.frequency.code(),
            "annual",
            "{backend:?}: waits for the end of the term"
        );
        assert_eq!(
            sub.scheduled.as_ref().map(|c| c.frequency.code()),
            Some("monthly")
        );
        w.months(14).await;
        let sub = w.sub(c, "webinar").await;
        assert_eq!(sub.frequency.code(), "monthly", "{backend:?}");
        let runs = w.paid_runs(c).await;
        assert_eq!(runs.len(), 1, "{backend:?}: {runs:?}");
        assert_eq!(runs[0].0, d("2027-01-15"));
    }
}

/// A scheduled downgrade survives a cancellation undone, shows on the card
/// with the amount the renewal then charges, and choosing the current plan
/// again withdraws it.
#[tokio::test]
async fn a_scheduled_downgrade_is_kept_shown_charged_and_withdrawable() {
    for backend in backends() {
        let mut w = World::new(backend, "2027-06-03T10:00:00Z").await;
        let c = w
            .customer("Downgrader", "Pacific/Pago_Pago", "tok_ok_4242")
            .await;
        let id = w.trial(c, "webinar", "pro", d("2027-06-10")).await;
        w.order(c, subscribe(id, "webinar", "pro", 3, "monthly"))
            .await
            .unwrap();
        w.days(3).await;
        // Fewer seats at a higher level raises the yearly value but lowers
        // the seats: it waits for the end of the term.
        w.order(c, change(id, "enterprise", 1, "monthly"))
            .await
            .unwrap();
        let sub = w.sub(c, "webinar").await;
        assert_eq!((sub.level.as_str(), sub.seats), ("pro", 3), "{backend:?}");
        w.at_version(c, id, "cancel_subscription", &[]).await;
        let (status, body) = w
            .at_version(c, id, "remove_pending_cancellation", &[])
            .await;
        assert_eq!(status, 200, "{body}");
        let sub = w.sub(c, "webinar").await;
        assert_eq!(
            sub.scheduled.as_ref().map(|c| c.level.as_str()),
            Some("enterprise"),
            "{backend:?}: kept"
        );
        // Cancelled again and undone through the order page this time.
        w.at_version(c, id, "cancel_subscription", &[]).await;
        w.order(
            c,
            json!({"type": "remove_pending_cancellation", "subscription_id": id}),
        )
        .await
        .unwrap();
        let sub = w.sub(c, "webinar").await;
        assert_eq!(sub.status.code(), "active", "{backend:?}");
        assert_eq!(
            sub.scheduled.as_ref().map(|c| c.level.as_str()),
            Some("enterprise"),
            "{backend:?}: kept by a later order"
        );
        let overview: Value = w.session(c).await.ok("overview", &[]).await;
        let card = &overview["cards"][0];
        // Enterprise × 1 at 499.00 + 20 % VAT.
        assert!(
            card["scheduled_change"]
                .as_str()
                .unwrap()
                .contains("€598.80"),
            "{backend:?}: {card}"
        );
        assert!(
            card["renewal"].as_str().unwrap().contains("€598.80"),
            "{card}"
        );
        w.months(1).await;
        let sub = w.sub(c, "webinar").await;
        assert_eq!(
            (sub.level.as_str(), sub.seats),
            ("enterprise", 1),
            "{backend:?}"
        );
        let last = *w.lines(c).await.last().unwrap();
        assert_eq!(
            last.2, 49900,
            "{backend:?}: charged what the card said (net)"
        );
        // Schedule a downgrade again, then withdraw it by choosing the
        // current plan.
        w.order(c, change(id, "lite", 1, "monthly")).await.unwrap();
        assert_eq!(
            w.sub(c, "webinar")
                .await
                .scheduled
                .map(|c| c.level)
                .as_deref(),
            Some("lite")
        );
        w.order(c, change(id, "enterprise", 1, "monthly"))
            .await
            .unwrap();
        assert_eq!(
            w.sub(c, "webinar").await.scheduled,
            None,
            "{backend:?}: withdrawn"
        );
        w.months(1).await;
        assert_eq!(w.sub(c, "webinar").await.level, "enterprise");
        assert_eq!(w.paid_runs(c).await.len(), 1);
    }
}

/// A soft decline is retried +1, +3, +7 days after the attempts actually
/// made, even after ten days without a billing run; saving a new card
/// charges the past-due subscription at once; a hard decline is not
/// retried and its email asks for a new payment method.
#[tokio::test]
async fn dunning_after_a_gap_a_card_update_and_a_hard_decline() {
    for backend in backends() {
        let mut w = World::new(backend, "2027-09-01T10:00:00Z").await;
        let c = w.customer("Dunning", "Europe/Paris", "tok_ok_4242").await;
        let id = w.trial(c, "meeting", "business", d("2027-09-05")).await;
        w.order(c, subscribe(id, "meeting", "business", 1, "monthly"))
            .await
            .unwrap();
        w.card(c, "tok_fail_on_charge_0341").await;
        // The renewal is due on Oct 1; the job is down until Oct 11.
        w.skip_days(39);
        w.days(1).await;
        let sub = w.sub(c, "meeting").await;
        assert_eq!(sub.status.code(), "past_due", "{backend:?}");
        assert_eq!(
            sub.next_retry_on,
            Some(d("2027-10-12")),
            "{backend:?}: +1 from the attempt"
        );
        w.days(1).await;
        assert_eq!(
            w.sub(c, "meeting").await.next_retry_on,
            Some(d("2027-10-14"))
        );
        assert_eq!(w.sub(c, "meeting").await.status.code(), "past_due");
        // A new card: charged at once, no waiting for the retry date.
        w.call(c, "start_payment_setup", &[("kind", "card")]).await;
        let token = crate::helpers::demo_card_token("4242 4242 4242 4242", "12/40");
        let (status, body) = w
            .call(c, "finish_payment_setup", &[("setup_id", &token)])
            .await;
        assert_eq!(status, 200, "{body}");
        let sub = w.sub(c, "meeting").await;
        assert_eq!(sub.status.code(), "active", "{backend:?}");
        assert_eq!(sub.period.map(|p| p.start), Some(d("2027-10-01")));
        assert_eq!(w.lines(c).await.len(), 2);

        // A hard decline: not retried; expires a week later.
        w.card(c, "tok_hard_decline_9979").await;
        let due: NaiveDate = w.sub(c, "meeting").await.period.unwrap().end;
        w.days((due - w.today(c)).num_days()).await;
        let sub = w.sub(c, "meeting").await;
        assert_eq!(sub.status.code(), "past_due", "{backend:?}");
        let mails = w.emails(c).await;
        assert!(
            mails.iter().any(|m| m == "Payment failed for GoToMeeting"),
            "{mails:?}"
        );
        let body: (String,) = sqlx::query_as(
            "SELECT body_text FROM email_outbox WHERE account_id = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(c.account)
        .fetch_one(&w.app.db.pool)
        .await
        .unwrap();
        assert!(body.0.contains("add a new payment method"), "{}", body.0);
        // With a link to the payment page on the public URL.
        assert!(
            body.0.contains(&format!("{}/billing/payment", w.app.base)),
            "{}",
            body.0
        );
        // Not retried on the same card in the week that follows.
        w.days(6).await;
        assert_eq!(w.sub(c, "meeting").await.status.code(), "past_due");
        assert_eq!(w.lines(c).await.len(), 2);
        w.days(2).await;
        assert_eq!(
            w.sub(c, "meeting").await.status.code(),
            "expired",
            "{backend:?}"
        );
        assert_eq!(
            w.lines(c).await.len(),
            2,
            "{backend:?}: nothing more charged"
        );
    }
}

/// Two subscriptions of one account renew the same day with credit: the
/// credit is applied once in all, never twice, never below zero.
#[tokio::test]
async fn two_renewals_of_one_account_on_one_day_share_its_credit() {
    for backend in backends() {
        let mut w = World::new(backend, "2027-04-01T10:00:00Z").await;
        let c = w
            .customer("Two products", "Europe/Paris", "tok_ok_4242")
            .await;
        let a = w.trial(c, "meeting", "business", d("2027-04-05")).await;
        let b = w.trial(c, "training", "starter", d("2027-04-05")).await;
        w.order(c, subscribe(a, "meeting", "business", 10, "monthly"))
            .await
            .unwrap();
        w.order(c, subscribe(b, "training", "starter", 1, "monthly"))
            .await
            .unwrap();
        // 30.00 of credit, carried from an earlier correction (a movement
        // the invariant knows: an invoice whose lines sum to −30.00).
        crate::helpers::credit_note(&w.app.db, c.account, w.today(c), -3000).await;
        w.check().await;
        w.months(1).await;
        let account = accounts::find_account(&w.app.db, c.account)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(account.credit_balance.to_minor(), 0, "{backend:?}");
        let applied: (i64,) = sqlx::query_as(
            "SELECT CAST(SUM(credit_applied_minor) AS BIGINT) FROM invoices WHERE account_id = $1",
        )
        .bind(c.account)
        .fetch_one(&w.app.db.pool)
        .await
        .unwrap();
        assert_eq!(
            applied.0, 3000,
            "{backend:?}: the credit applied once in all"
        );
        // Both renewed on their day, in the same run: neither was refused
        // for credit the other had taken.
        let issued: Vec<(String,)> = sqlx::query_as(
            "SELECT issued_on FROM invoices WHERE account_id = $1 AND renewal_key IS NOT NULL ORDER BY seq",
        )
        .bind(c.account)
        .fetch_all(&w.app.db.pool)
        .await
        .unwrap();
        assert_eq!(issued.len(), 2, "{backend:?}");
        assert_eq!(issued[0], issued[1], "{backend:?}: {issued:?}");
        let refunds: (i64,) =
            sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM payment_attempts")
                .fetch_one(&w.app.db.pool)
                .await
                .unwrap();
        assert_eq!(refunds.0, 0, "{backend:?}: nothing refunded");
    }
}

/// One bad record (a country without a VAT rate) is skipped with a reason;
/// the other customers renew and nobody is refunded because of it.
#[tokio::test]
async fn a_bad_record_is_skipped_and_the_others_renew() {
    for backend in backends() {
        let mut w = World::new(backend, "2027-02-01T10:00:00Z").await;
        let good = w.customer("Good", "Europe/Paris", "tok_ok_4242").await;
        let bad = w.customer("Bad", "Europe/Paris", "tok_ok_4242").await;
        for c in [good, bad] {
            let id = w.trial(c, "meeting", "business", d("2027-02-08")).await;
            w.order(c, subscribe(id, "meeting", "business", 1, "monthly"))
                .await
                .unwrap();
        }
        sqlx::query("UPDATE accounts SET country = 'XX' WHERE id = $1")
            .bind(bad.account)
            .execute(&w.app.db.pool)
            .await
            .unwrap();
        w.clock.advance(Duration::days(28));
        let report = run(&w.app.state(), AsOf::Now).await.unwrap();
        assert_eq!(report.renewed, 1, "{backend:?} {report:?}");
        let bad_sub = w.sub(bad, "meeting").await.id;
        assert_eq!(
            report.skipped_invalid.keys().copied().collect::<Vec<_>>(),
            [bad_sub],
            "{backend:?}"
        );
        assert!(
            report.skipped_invalid[&bad_sub].contains("XX"),
            "{report:?}"
        );
        w.step = "after a bad record".into();
        w.check().await;
        assert_eq!(w.lines(good).await.len(), 2);
        assert_eq!(w.lines(bad).await.len(), 1);
    }
}

/// A customer places a small order under the very reference the billing
/// run once charged their next renewal under: the renewal is still charged
/// in full (the books check compares every payment with what the gateway
/// settled for it). Before references were the server's, the renewal got
/// the small order's charge back and was recorded as paid.
#[tokio::test]
async fn an_order_under_a_renewal_reference_does_not_pay_the_renewal() {
    for backend in backends() {
        let mut w = World::new(backend, "2026-03-10T09:00:00Z").await;
        let c = w
            .customer("Key Chooser", "Europe/Paris", "tok_ok_4242")
            .await;
        let webinar = w.trial(c, "webinar", "standard", d("2026-03-20")).await;
        let training = w.trial(c, "training", "starter", d("2026-03-20")).await;
        w.order(c, subscribe(webinar, "webinar", "standard", 5, "monthly"))
            .await
            .unwrap();
        let term_end = w.sub(c, "webinar").await.period.unwrap().end;
        let renewal_ref = format!("renew-{webinar}-{term_end}-0");
        w.order_with_key(
            c,
            subscribe(training, "training", "starter", 1, "monthly"),
            Some(&renewal_ref),
        )
        .await
        .unwrap();
        w.months(2).await;
        let webinar = w.sub(c, "webinar").await;
        assert_eq!(webinar.status.code(), "active", "{backend:?}");
        let charged: Vec<i64> = w
            .app
            .state()
            .gateway
            .settled()
            .await
            .unwrap()
            .into_iter()
            .map(|(_, a)| a)
            .collect();
        let renewals: Vec<(i64,)> = sqlx::query_as(
            "SELECT total_minor FROM invoices WHERE account_id = $1 AND renewal_key IS NOT NULL",
        )
        .bind(c.account)
        .fetch_all(&w.app.db.pool)
        .await
        .unwrap();
        assert!(!renewals.is_empty(), "{backend:?}");
        for (total,) in renewals {
            assert!(
                charged.contains(&total),
                "{backend:?}: renewal of {total} not charged: {charged:?}"
            );
        }
        let refs: Vec<(String,)> = sqlx::query_as("SELECT gateway_ref FROM payments")
            .fetch_all(&w.app.db.pool)
            .await
            .unwrap();
        assert!(
            refs.iter()
                .all(|(r,)| r.starts_with("ch_bc_") && !r.contains("renew")),
            "{backend:?}: references are the server's: {refs:?}"
        );
    }
}

/// A declined order, a new card, and the same order form submitted again:
/// the second attempt gets its own reference and is charged. (A gateway
/// answers a repeated reference with its first answer, the decline.)
#[tokio::test]
async fn after_a_decline_the_next_attempt_is_charged_under_a_new_reference() {
    for backend in backends() {
        let mut w = World::new(backend, "2026-05-04T09:00:00Z").await;
        let c = w
            .customer("Declined Once", "Europe/Paris", "tok_fail_on_charge_0341")
            .await;
        let webinar = w.trial(c, "webinar", "standard", d("2026-05-10")).await;
        let key = "kept-open-page-0123456789abcdef";
        let first = w
            .order_with_key(
                c,
                subscribe(webinar, "webinar", "standard", 2, "monthly"),
                Some(key),
            )
            .await;
        assert!(first.unwrap_err().contains("declined"), "{backend:?}");
        w.card(c, "tok_ok_4242").await;
        w.order_with_key(
            c,
            subscribe(webinar, "webinar", "standard", 2, "monthly"),
            Some(key),
        )
        .await
        .unwrap_or_else(|e| panic!("{backend:?}: {e}"));
        let attempts: Vec<(String, String)> = sqlx::query_as(
            "SELECT status, reference FROM payment_attempts WHERE account_id = $1 ORDER BY id",
        )
        .bind(c.account)
        .fetch_all(&w.app.db.pool)
        .await
        .unwrap();
        assert_eq!(attempts.len(), 1, "{backend:?}: {attempts:?}");
        assert_eq!(attempts[0].0, "failed", "{backend:?}");
        // The payment is the second attempt's charge, under its own reference.
        let (paid,): (String,) =
            sqlx::query_as("SELECT gateway_ref FROM payments WHERE account_id = $1")
                .bind(c.account)
                .fetch_one(&w.app.db.pool)
                .await
                .unwrap();
        assert_ne!(paid, format!("ch_{}", attempts[0].1), "{backend:?}");
        w.months(3).await;
        assert_eq!(
            w.sub(c, "webinar").await.status.code(),
            "active",
            "{backend:?}"
        );
    }
}

/// The renewal invoices of `c`: (first day, total), in number order.
async fn renewals(w: &World, c: Customer) -> Vec<(NaiveDate, i64)> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT period_start, total_minor FROM invoices
         WHERE account_id = $1 AND renewal_key IS NOT NULL ORDER BY seq",
    )
    .bind(c.account)
    .fetch_all(&w.app.db.pool)
    .await
    .unwrap();
    rows.into_iter().map(|(s, t)| (d(&s), t)).collect()
}

/// Each flow of the help article ("Reactivate your subscription", and
/// several products in one order from "Modify your subscription"), then
/// 24 months of daily runs: every renewal starts on the anchor day, costs
/// the plan's price with VAT to the cent, and the paid days tile.
#[tokio::test]
async fn each_flow_of_the_help_article_then_24_months_of_renewals() {
    for backend in backends() {
        let mut w = World::new(backend, "2027-04-12T09:00:00Z").await;
        // 1. The free trial has not ended yet: subscribe now.
        let early = w.customer("Early", "Europe/Paris", "tok_ok_4242").await;
        let id = w.trial(early, "webinar", "standard", d("2027-04-20")).await;
        w.order(early, subscribe(id, "webinar", "standard", 2, "monthly"))
            .await
            .unwrap();
        // 2. A pending cancellation: remove it.
        let pending = w.customer("Pending", "Europe/Paris", "tok_ok_4242").await;
        let id = w
            .trial(pending, "meeting", "business", d("2027-04-20"))
            .await;
        w.order(pending, subscribe(id, "meeting", "business", 1, "annual"))
            .await
            .unwrap();
        let cancel = w.at_version(pending, id, "cancel_subscription", &[]);
        assert_eq!(cancel.await.0, 200);
        let undo = w.at_version(pending, id, "remove_pending_cancellation", &[]);
        assert_eq!(undo.await.0, 200);
        // 3. The free trial has ended: subscribe after it.
        let late = w.customer("Late", "Europe/Paris", "tok_ok_4242").await;
        let late_id = w.trial(late, "training", "pro", d("2027-04-13")).await;
        // 4. Expired: reactivate (the term ends, then a new one).
        let gone = w.customer("Gone", "Europe/Paris", "tok_ok_4242").await;
        let gone_id = w.trial(gone, "webinar", "lite", d("2027-04-20")).await;
        w.order(gone, subscribe(gone_id, "webinar", "lite", 3, "monthly"))
            .await
            .unwrap();
        let cancel = w.at_version(gone, gone_id, "cancel_subscription", &[]);
        assert_eq!(cancel.await.0, 200);
        // Several products in one order.
        let cart = w.customer("Cart", "Europe/Paris", "tok_ok_4242").await;
        let a = w.trial(cart, "webinar", "pro", d("2027-04-25")).await;
        let b = w.trial(cart, "training", "starter", d("2027-04-25")).await;
        w.order_items(
            cart,
            &[
                subscribe(a, "webinar", "pro", 1, "monthly"),
                subscribe(b, "training", "starter", 4, "monthly"),
            ],
        )
        .await
        .unwrap();

        w.days(2).await;
        assert_eq!(w.sub(late, "training").await.status.code(), "trial_expired");
        w.order(late, subscribe(late_id, "training", "pro", 2, "monthly"))
            .await
            .unwrap();
        w.days(40).await;
        assert_eq!(w.sub(gone, "webinar").await.status.code(), "expired");
        w.order(gone, reactivate(gone_id, "lite", 3, "monthly"))
            .await
            .unwrap();
        w.months(24).await;

        let catalog = w.app.state().catalog.clone();
        let price = |product: &str, level: &str, annual: bool| {
            let f = if annual {
                billing_center::billing::Frequency::Annual
            } else {
                billing_center::billing::Frequency::Monthly
            };
            catalog
                .product(product)
                .unwrap()
                .online_price(level, f)
                .unwrap()
                .to_minor()
        };
        // Net + 20 % VAT, each rounded once.
        let with_vat = |net: i64| net + (net * 20 + 50) / 100;
        for (c, product, level, seats, annual, at_least) in [
            (early, "webinar", "standard", 2, false, 24),
            (pending, "meeting", "business", 1, true, 2),
            (late, "training", "pro", 2, false, 23),
            (gone, "webinar", "lite", 3, false, 23),
            (cart, "webinar", "pro", 1, false, 24),
        ] {
            let sub = w.sub(c, product).await;
            assert_eq!(sub.status.code(), "active", "{backend:?} {product}");
            let anchor: NaiveDate = sub.anchor_on.unwrap();
            let months = if annual { 12 } else { 1 };
            let renewals: Vec<(NaiveDate, i64)> = renewals(&w, c)
                .await
                .into_iter()
                .filter(|(_, t)| *t == with_vat(price(product, level, annual) * seats))
                .collect();
            assert!(
                renewals.len() >= at_least,
                "{backend:?} {product}: {renewals:?}"
            );
            for (start, _) in &renewals {
                // On the anchor day of its month (clamped), never drifting.
                let k = (0..40)
                    .map(|k| {
                        anchor
                            .checked_add_months(chrono::Months::new(k * months))
                            .unwrap()
                    })
                    .find(|s| s == start);
                assert!(
                    k.is_some(),
                    "{backend:?} {product}: {start} not from {anchor}"
                );
            }
        }
        // Paid days tile: one run per product, except Gone's gap between
        // its end and its reactivation.
        for (c, runs) in [(early, 1), (pending, 1), (late, 1), (gone, 2)] {
            assert_eq!(w.paid_runs(c).await.len(), runs, "{backend:?}");
        }
        let training = renewals(&w, cart)
            .await
            .into_iter()
            .filter(|(_, t)| *t == with_vat(price("training", "starter", false) * 4))
            .count();
        assert!(
            training >= 24,
            "{backend:?}: the cart's second product renews too"
        );
    }
}

/// An upgrade and a downgrade in one period, and a second upgrade: the
/// upgrades are charged now for the rest of the period, less what was paid
/// for it (never more than was paid); the downgrade waits for the end of
/// the term, where the renewal charges the lower plan.
#[tokio::test]
async fn an_upgrade_and_a_downgrade_in_one_period() {
    for backend in backends() {
        let mut w = World::new(backend, "2027-06-01T09:00:00Z").await;
        let c = w
            .customer("Up and down", "Europe/Paris", "tok_ok_4242")
            .await;
        let id = w.trial(c, "webinar", "lite", d("2027-06-10")).await;
        w.order(c, subscribe(id, "webinar", "standard", 2, "monthly"))
            .await
            .unwrap(); // 2 × 129.00 for 1 Jun – 30 Jun (30 days)
        w.days(10).await;
        w.order(c, change(id, "pro", 2, "monthly")).await.unwrap();
        w.days(5).await;
        w.order(c, change(id, "pro", 3, "monthly")).await.unwrap();
        w.days(5).await;
        w.order(c, change(id, "lite", 3, "monthly")).await.unwrap();
        let sub = w.sub(c, "webinar").await;
        assert_eq!((sub.level.as_str(), sub.seats), ("pro", 3), "{backend:?}");
        assert_eq!(
            sub.scheduled.as_ref().map(|c| c.level.as_str()),
            Some("lite")
        );
        w.days(15).await;
        let lines = w.lines(c).await;
        let amounts: Vec<i64> = lines.iter().map(|l| l.2).collect();
        // Term 2 × 129.00; on day 11 (20 of 30 days left): pro 2 × 249.00
        // × 20/30 = 332.00, less 258.00 × 20/30 = 172.00; on day 16 (15
        // left): pro 3 × 249.00 × 15/30 = 373.50, less pro 2 × 249 × 15/30
        // = 249.00; then the renewal at lite 3 × 59.00.
        assert_eq!(
            amounts,
            [25_800, 33_200, -17_200, 37_350, -24_900, 17_700],
            "{backend:?}: {lines:?}"
        );
        assert_eq!(lines[5].0, d("2027-07-01"), "{backend:?}");
        let sub = w.sub(c, "webinar").await;
        assert_eq!(
            (sub.level.as_str(), sub.seats, sub.scheduled),
            ("lite", 3, None)
        );
    }
}

/// The DST weeks, with the daily run near local midnight: in spring the
/// local date the clocks skip gets no run at all, in autumn one local date
/// gets two. A renewal due on the skipped date is billed the next day for
/// the period that starts on it; one due on the doubled date is billed
/// once. Europe/Paris at 22:30 UTC, America/New_York at 04:30 UTC.
#[tokio::test]
async fn the_dst_weeks_neither_skip_nor_double_a_renewal() {
    for backend in backends() {
        // (zone, clock start, [(anchor, the DST date it renews on, billed
        // on)], in anchor order)
        let zones = [
            (
                "Europe/Paris",
                "2027-01-30T22:30:00Z",
                [
                    (d("2027-01-31"), d("2027-10-31"), d("2027-10-31")),
                    (d("2027-02-28"), d("2027-03-28"), d("2027-03-29")),
                ],
            ),
            (
                "America/New_York",
                "2027-02-06T04:30:00Z",
                [
                    (d("2027-02-07"), d("2027-11-07"), d("2027-11-07")),
                    (d("2027-02-14"), d("2027-03-14"), d("2027-03-15")),
                ],
            ),
        ];
        for (tz, start, cases) in zones {
            let mut w = World::new(backend, start).await;
            let mut customers = Vec::new();
            for (n, (anchor, _, _)) in cases.iter().enumerate() {
                let c = w
                    .customer(&format!("DST {tz} {n}"), tz, "tok_ok_4242")
                    .await;
                let id = w.trial(c, "webinar", "lite", d("2027-06-30")).await;
                customers.push((c, id, *anchor));
            }
            for (c, id, anchor) in &customers {
                while w.today(*c) < *anchor {
                    w.days(1).await;
                }
                assert_eq!(w.today(*c), *anchor, "{backend:?} {tz}");
                w.order(*c, subscribe(*id, "webinar", "lite", 1, "monthly"))
                    .await
                    .unwrap();
            }
            while w.today(customers[0].0) < d("2027-12-01") {
                w.days(1).await;
            }
            for ((c, _, anchor), (_, dst_date, issued)) in customers.iter().zip(cases) {
                let starts: Vec<NaiveDate> = w.lines(*c).await.iter().map(|l| l.0).collect();
                let expected: Vec<NaiveDate> = (0..starts.len() as u32)
                    .map(|k| anchor.checked_add_months(chrono::Months::new(k)).unwrap())
                    .collect();
                assert_eq!(starts, expected, "{backend:?} {tz}: one line per month");
                assert!(starts.contains(&dst_date), "{backend:?} {tz}");
                assert_eq!(w.paid_runs(*c).await.len(), 1, "{backend:?} {tz}");
                let (on,): (String,) = sqlx::query_as(
                    "SELECT issued_on FROM invoices WHERE account_id = $1 AND period_start = $2",
                )
                .bind(c.account)
                .bind(dst_date.to_string())
                .fetch_one(&w.app.db.pool)
                .await
                .unwrap();
                assert_eq!(d(&on), issued, "{backend:?} {tz}: billed on");
            }
        }
    }
}
