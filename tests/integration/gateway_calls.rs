//! Nothing is held in the database while the gateway is called: a probe
//! gateway looks at the database from its own connection during each call
//! (SQLite: can another writer begin? PostgreSQL: any open transaction or
//! row lock of another backend?), and counts the calls in flight.

use billing_center::server::payments::{
    Charge, ChargeRequest, GatewayFuture, PaymentGateway, Refund, SavedMethod, SetupStart,
    TestGateway,
};
use sqlx::Connection;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::helpers::*;

#[derive(Debug)]
pub struct Probe {
    inner: TestGateway,
    url: String,
    in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
    pub calls: AtomicUsize,
    /// What a check found held during a call.
    pub held: Mutex<Vec<String>>,
    /// One check at a time: two probes' own transactions would see each other.
    checking: tokio::sync::Mutex<()>,
}

impl Probe {
    pub fn new(url: &str, latency: Duration) -> Arc<Probe> {
        Arc::new(Probe {
            inner: TestGateway::default().with_latency(latency),
            url: url.to_string(),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            calls: AtomicUsize::new(0),
            held: Mutex::new(Vec::new()),
            checking: tokio::sync::Mutex::new(()),
        })
    }

    /// Around a gateway call: the database is looked at while it is in
    /// flight.
    async fn around<T>(
        &self,
        call: GatewayFuture<'_, T>,
    ) -> Result<T, billing_center::server::payments::PaymentError> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        self.calls.fetch_add(1, Ordering::SeqCst);
        let (result, held) = tokio::join!(call, self.held_now());
        if let Some(h) = held {
            self.held.lock().unwrap().push(h);
        }
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        result
    }

    /// What the app holds in the database right now, if anything.
    async fn held_now(&self) -> Option<String> {
        let _one = self.checking.lock().await;
        if self.url.starts_with("sqlite:") {
            let mut c = sqlx::sqlite::SqliteConnection::connect(&format!("{}?mode=rw", self.url))
                .await
                .expect("probe connection");
            sqlx::query("PRAGMA busy_timeout = 0")
                .execute(&mut c)
                .await
                .unwrap();
            let begun = sqlx::query("BEGIN IMMEDIATE").execute(&mut c).await;
            let held = begun
                .as_ref()
                .err()
                .map(|e| format!("SQLite write lock held: {e}"));
            if begun.is_ok() {
                sqlx::query("ROLLBACK").execute(&mut c).await.unwrap();
            }
            held
        } else {
            let mut c = sqlx::postgres::PgConnection::connect(&self.url)
                .await
                .expect("probe connection");
            let (open,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()
                   AND xact_start IS NOT NULL",
            )
            .fetch_one(&mut c)
            .await
            .unwrap();
            let (locks,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM pg_locks l JOIN pg_class r ON r.oid = l.relation
                 WHERE l.pid <> pg_backend_pid() AND r.relname IN
                   ('subscriptions', 'orders', 'accounts', 'invoices', 'payments')",
            )
            .fetch_one(&mut c)
            .await
            .unwrap();
            (open > 0 || locks > 0)
                .then(|| format!("PostgreSQL: {open} open transactions, {locks} locks"))
        }
    }
}

impl PaymentGateway for Probe {
    fn create_customer<'a>(
        &'a self,
        account: billing_center::domain::AccountId,
        name: &'a str,
        email: &'a str,
    ) -> GatewayFuture<'a, String> {
        Box::pin(self.around(self.inner.create_customer(account, name, email)))
    }
    fn start_setup<'a>(
        &'a self,
        customer: &'a str,
        kind: billing_center::db::payment_methods::PaymentMethodKind,
    ) -> GatewayFuture<'a, SetupStart> {
        Box::pin(self.around(self.inner.start_setup(customer, kind)))
    }
    fn finish_setup<'a>(
        &'a self,
        customer: &'a str,
        setup_id: &'a str,
    ) -> GatewayFuture<'a, SavedMethod> {
        Box::pin(self.around(self.inner.finish_setup(customer, setup_id)))
    }
    fn charge<'a>(&'a self, request: ChargeRequest<'a>) -> GatewayFuture<'a, Charge> {
        Box::pin(self.around(self.inner.charge(request)))
    }
    fn refund<'a>(&'a self, charge_id: &'a str) -> GatewayFuture<'a, Refund> {
        Box::pin(self.around(self.inner.refund(charge_id)))
    }
    fn charge_for<'a>(
        &'a self,
        reference: &'a str,
        token: Option<&'a str>,
    ) -> GatewayFuture<'a, Option<Charge>> {
        Box::pin(self.around(self.inner.charge_for(reference, token)))
    }
    fn pending<'a>(
        &'a self,
        intent: &'a str,
    ) -> GatewayFuture<'a, billing_center::server::payments::PendingPayment> {
        Box::pin(self.around(self.inner.pending(intent)))
    }
    fn settled(&self) -> GatewayFuture<'_, Vec<(String, i64)>> {
        self.inner.settled()
    }
}

/// The billing run charges `gateway_concurrency` renewals at once and holds
/// no transaction, connection-level lock or row lock while it does.
#[tokio::test]
async fn the_billing_run_charges_concurrently_holding_nothing_in_the_database() {
    use billing_center::server::billing_run::{AsOf, run};
    use billing_center::server::state::{AppState, Services};
    for backend in backends() {
        let (_dir, url, seeded) = crate::billing_run::two_years_behind(backend, 6).await;
        let probe = Probe::new(&url, Duration::from_millis(60));
        let state = AppState::new(Services {
            gateway: probe.clone(),
            gateway_concurrency: 8,
            stripe: None,
            ..(*seeded).clone()
        });
        let report = run(&state, AsOf::Date(crate::billing_run::today()))
            .await
            .unwrap();
        // 6 accounts × 3 subscriptions × 24 months behind.
        assert!(report.renewed >= 18 * 23, "{report:?}");
        let calls = probe.calls.load(Ordering::SeqCst);
        assert_eq!(calls, report.renewed as usize, "one charge per renewal");
        let held = probe.held.lock().unwrap().clone();
        assert!(
            held.is_empty(),
            "{backend:?}: held during a charge: {held:?}"
        );
        // A page holds all 18 subscriptions' first renewals: 8 at once.
        assert_eq!(probe.max_in_flight.load(Ordering::SeqCst), 8, "{backend:?}");
        let settled = probe.settled().await.unwrap();
        assert_books(&state.db, &format!("{backend:?} probed run"), &settled).await;
    }
}

/// Placing an order charges with nothing held in the database either: the
/// claim of its key and its commit are transactions of their own.
#[tokio::test]
async fn an_order_is_charged_holding_nothing_in_the_database() {
    for backend in backends() {
        let mut made = None;
        let app = TestApp::spawn_seeded_with_gateway(backend, |url| {
            let p = Probe::new(url, Duration::from_millis(100));
            made = Some(p.clone());
            p
        })
        .await;
        let probe = made.unwrap();
        let s = app.sign_in("trial@demo.test").await;
        let invoices = app.count("invoices").await;
        crate::orders::subscribe_with_card(&s, "4242 4242 4242 4242").await;
        assert_eq!(
            app.count("invoices").await,
            invoices + 1,
            "{backend:?}: the order is invoiced"
        );
        assert!(probe.calls.load(Ordering::SeqCst) >= 2, "saved and charged");
        let held = probe.held.lock().unwrap().clone();
        assert!(
            held.is_empty(),
            "{backend:?}: held during a gateway call: {held:?}"
        );
    }
}
