//! Outgoing webhooks on each backend, against a real HTTP receiver started
//! by the test and real server processes: events recorded with their
//! change, signed (checked with the `standardwebhooks` crate), retried
//! after 500s, in order per account, nothing lost to a SIGKILL, each
//! delivered once with two servers on one database.

use std::process::Child;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use billing_center::db::{Backend, Db};
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, backends, free_port, fresh_database_url, serve_process, wait_until_up,
};

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
    answered: u16,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
    fn kind(&self) -> String {
        self.json()["type"].as_str().unwrap().to_string()
    }
}

/// The seller's application: answers 500 to its first `fail_first`
/// requests (or while `down` is set), 200 after.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    fail_first: Arc<AtomicUsize>,
    down: Arc<std::sync::atomic::AtomicBool>,
    url: String,
}

impl Receiver {
    async fn start(fail_first: usize) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut r = Receiver {
            fail_first: Arc::new(AtomicUsize::new(fail_first)),
            url: format!("http://{}/hooks", listener.local_addr().unwrap()),
            ..Receiver::default()
        };
        let me = r.clone();
        let app = axum::Router::new().route(
            "/hooks",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
                let me = me.clone();
                async move {
                    let failing = me.down.load(Ordering::SeqCst)
                        || me
                            .fail_first
                            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                            .is_ok();
                    let answered = if failing { 500 } else { 200 };
                    let h = |k: &str| {
                        headers
                            .get(k)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_string()
                    };
                    me.got.lock().unwrap().push(Received {
                        id: h("webhook-id"),
                        timestamp: h("webhook-timestamp"),
                        signature: h("webhook-signature"),
                        body,
                        answered,
                    });
                    axum::http::StatusCode::from_u16(answered).unwrap()
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        r.url = r.url.clone();
        r
    }

    fn accepted(&self) -> Vec<Received> {
        let got = self.got.lock().unwrap();
        got.iter().filter(|r| r.answered == 200).cloned().collect()
    }

    /// Waits until `n` deliveries were accepted (at most a minute).
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..600 {
            let a = self.accepted();
            if a.len() >= n {
                return a;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{} of {n} deliveries arrived: {:?}",
            self.accepted().len(),
            self.got.lock().unwrap()
        );
    }
}

/// Checks `r`'s signature with the Standard Webhooks reference crate.
fn verify(secret: &str, r: &Received) {
    let mut headers = axum::http::HeaderMap::new();
    headers.insert("webhook-id", r.id.parse().unwrap());
    headers.insert("webhook-timestamp", r.timestamp.parse().unwrap());
    headers.insert("webhook-signature", r.signature.parse().unwrap());
    standardwebhooks::Webhook::new(secret)
        .unwrap()
        .verify(r.body.as_bytes(), &headers)
        .unwrap_or_else(|e| panic!("signature of {} refused: {e:?}", r.id));
    assert_eq!(r.json()["id"], r.id.as_str(), "the body names its event id");
}

/// A `billing-center serve` process that delivers quickly.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    async fn start(url: &str, dir: &std::path::Path) -> Server {
        let port = free_port();
        let fast = [
            ("BC_WEBHOOK_POLL_MS", "50".to_string()),
            ("BC_WEBHOOK_RETRY_BASE_MS", "100".into()),
            ("BC_WEBHOOK_TIMEOUT_MS", "2000".into()),
        ];
        let log = dir.join(format!("server-{port}.log"));
        // Dropped (killed and waited for) if it does not come up.
        let server = Server {
            child: serve_process(url, port, &log, &fast),
            base: format!("http://127.0.0.1:{port}"),
        };
        wait_until_up(&server.base).await;
        server
    }

    fn kill(mut self) {
        // SIGKILL: no shutdown, no flush.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The operator API with a fresh key on the database at `url`.
/// The operator API, asserting success: what these tests set up with.
struct Api(crate::helpers::OperatorApi);

impl Api {
    async fn new(db: &Db, base: &str) -> Api {
        Api(crate::helpers::OperatorApi::new(db, base).await)
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let (status, v) = self.0.post(path, body).await;
        assert!(status.is_success(), "POST {path}: {status} {v}");
        v
    }

    async fn get(&self, path: &str) -> Value {
        let (status, v) = self.0.get(path).await;
        assert_eq!(status, 200, "GET {path}: {v}");
        v
    }

    /// An endpoint for `url` taking `events`; its secret.
    async fn endpoint(&self, url: &str, events: Value) -> (i64, String) {
        let e = self
            .post("/webhook_endpoints", json!({"url": url, "events": events}))
            .await;
        (
            e["id"].as_i64().unwrap(),
            e["secret"].as_str().unwrap().to_string(),
        )
    }

    /// A new account with a trial: 2 events (subscription.created, then
    /// account.updated for its rename).
    async fn account_with_trial(&self, name: &str) -> i64 {
        let a = self
            .post(
                "/accounts",
                json!({"name": name, "country": "FR", "time_zone": "Europe/Paris"}),
            )
            .await;
        let id = a["id"].as_i64().unwrap();
        self.post(
            &format!("/accounts/{id}/subscriptions"),
            json!({"product": "webinar", "level": "standard"}),
        )
        .await;
        let (status, v) = self
            .0
            .patch(
                &format!("/accounts/{id}"),
                json!({"name": format!("{name} SAS")}),
            )
            .await;
        assert_eq!(status, 200, "{v}");
        id
    }
}

/// An endpoint for every event (never reached: no server delivers in
/// these tests), so that the changes record their events.
pub async fn listen_to_everything(db: &Db) {
    let secret = billing_center::server::outgoing_webhooks::signature::new_secret();
    let all = billing_center::domain::event::EventFilter::All;
    billing_center::db::webhooks::insert_endpoint(db, "http://127.0.0.1:9/", &secret, &all)
        .await
        .unwrap();
}

async fn fresh(backend: Backend) -> (tempfile::TempDir, String, Db) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(backend, dir.path()).await;
    let db = Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    (dir, url, db)
}

#[tokio::test]
async fn events_arrive_signed_in_order_and_are_retried_after_500s() {
    for backend in backends() {
        let (dir, url, db) = fresh(backend).await;
        let server = Server::start(&url, dir.path()).await;
        let api = Api::new(&db, &server.base).await;
        // Three 500s first: the first event is attempted four times.
        let receiver = Receiver::start(3).await;
        let (endpoint, secret) = api.endpoint(&receiver.url, json!(["*"])).await;
        // An endpoint for invoices only hears nothing of these.
        let quiet = Receiver::start(0).await;
        api.endpoint(&quiet.url, json!(["invoice.paid"])).await;
        let a = api.account_with_trial("Acme").await;
        let b = api.account_with_trial("Globex").await;

        let got = receiver.wait_for(4).await;
        for r in &got {
            verify(&secret, r);
        }
        for account in [a, b] {
            let kinds: Vec<String> = got
                .iter()
                .filter(|r| {
                    r.json()["data"]["account"] == account || r.json()["data"]["id"] == account
                })
                .map(Received::kind)
                .collect();
            assert_eq!(
                kinds,
                ["subscription.created", "account.updated"],
                "account {account}"
            );
        }
        let trial = got
            .iter()
            .find(|r| r.kind() == "subscription.created")
            .unwrap()
            .json();
        assert_eq!(trial["data"]["state"], "trial");
        assert_eq!(trial["data"]["entitlement"]["product"], "webinar");
        // Each failed attempt was sent again with its event's id, until
        // accepted once.
        let all = receiver.got.lock().unwrap().clone();
        assert_eq!(all.iter().filter(|r| r.answered == 500).count(), 3);
        let mut ids: Vec<_> = got.iter().map(|r| r.id.clone()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), got.len());
        assert_eq!(all.len(), got.len() + 3);

        // The delivery log says so: attempts and last answer per event.
        let log = api
            .get(&format!("/webhook_endpoints/{endpoint}/deliveries"))
            .await;
        let rows = log["data"].as_array().unwrap();
        assert_eq!(rows.len(), 4);
        for d in rows {
            let sent = all
                .iter()
                .filter(|r| r.id == d["event"].as_str().unwrap())
                .count();
            assert_eq!(d["attempts"].as_i64(), Some(sent as i64), "{d}");
            assert_eq!(
                (d["state"].as_str(), d["last_status"].as_i64()),
                (Some("delivered"), Some(200))
            );
        }
        assert!(rows.iter().any(|d| d["attempts"].as_i64() > Some(1)));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(quiet.got.lock().unwrap().is_empty(), "filtered out");
        server.kill();
    }
}

#[tokio::test]
async fn nothing_is_lost_when_the_server_is_killed_before_delivering() {
    for backend in backends() {
        let (dir, url, db) = fresh(backend).await;
        let server = Server::start(&url, dir.path()).await;
        let api = Api::new(&db, &server.base).await;
        let receiver = Receiver::start(0).await;
        receiver.down.store(true, Ordering::SeqCst);
        let (_, secret) = api.endpoint(&receiver.url, json!(["*"])).await;
        for i in 0..5 {
            api.account_with_trial(&format!("Killed {i}")).await;
        }
        // The changes are committed, their deliveries failing: SIGKILL.
        server.kill();
        receiver.down.store(false, Ordering::SeqCst);
        let again = Server::start(&url, dir.path()).await;
        let got = receiver.wait_for(10).await;
        for r in &got {
            verify(&secret, r);
        }
        let mut ids: Vec<_> = got.iter().map(|r| r.id.clone()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 10, "each of the ten events once");
        again.kill();
    }
}

#[tokio::test]
async fn two_servers_on_one_database_deliver_each_event_once() {
    for backend in backends() {
        let (dir, url, db) = fresh(backend).await;
        let one = Server::start(&url, dir.path()).await;
        let two = Server::start(&url, dir.path()).await;
        let api = Api::new(&db, &one.base).await;
        let receiver = Receiver::start(0).await;
        api.endpoint(&receiver.url, json!(["*"])).await;
        // Written through both servers at once.
        let other = Api::new(&db, &two.base).await;
        let (x, y) = tokio::join!(
            async {
                for i in 0..15 {
                    api.account_with_trial(&format!("One {i}")).await;
                }
            },
            async {
                for i in 0..15 {
                    other.account_with_trial(&format!("Two {i}")).await;
                }
            }
        );
        let ((), ()) = (x, y);
        let got = receiver.wait_for(60).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let all = receiver.got.lock().unwrap().clone();
        let mut ids: Vec<_> = all.iter().map(|r| r.id.clone()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(
            (all.len(), ids.len()),
            (60, 60),
            "no event twice: {}",
            got.len()
        );
        one.kill();
        two.kill();
    }
}

/// An order, a renewal and a cancellation record their events in the
/// transaction of the change, in order.
#[tokio::test]
async fn orders_renewals_and_cancellations_record_their_events() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        listen_to_everything(&app.db).await;
        let s = app.sign_in("trial@demo.test").await;
        let account = billing_center::db::accounts::find_login(&app.db, "trial@demo.test")
            .await
            .unwrap()
            .unwrap()
            .0
            .account_id;
        let before = billing_center::db::webhooks::event_types_of(&app.db, account)
            .await
            .unwrap();
        crate::orders::subscribe_with_card(&s, "4242 4242 4242 4242").await;
        let after = billing_center::db::webhooks::event_types_of(&app.db, account)
            .await
            .unwrap();
        assert_eq!(
            after[before.len()..],
            ["subscription.updated", "invoice.created", "invoice.paid"]
        );
        // A month and a bit later, the billing run renews it.
        let today = billing_center::server::clock::local_date(chrono::Utc::now(), "Europe/Paris");
        let state = app.state();
        billing_center::server::billing_run::run(
            &state,
            billing_center::server::billing_run::AsOf::Date(today + chrono::Duration::days(40)),
        )
        .await
        .unwrap();
        let renewed = billing_center::db::webhooks::event_types_of(&app.db, account)
            .await
            .unwrap();
        assert_eq!(
            renewed[after.len()..],
            ["subscription.updated", "invoice.created", "invoice.paid"]
        );
        let sub: Value = s.ok("overview", &[]).await;
        let card = &sub["cards"][0];
        let (id, version) = (card["id"].to_string(), card["version"].to_string());
        let r = s
            .form("cancel_subscription", &[("id", &id), ("version", &version)])
            .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        let canceled = billing_center::db::webhooks::event_types_of(&app.db, account)
            .await
            .unwrap();
        assert_eq!(canceled[renewed.len()..], ["subscription.canceled"]);
    }
}

/// A trial started through the API: the reminder before its end records
/// `trial.will_end`, its end `subscription.expired`.
#[tokio::test]
async fn a_trial_records_its_reminder_and_its_end() {
    use billing_center::server::billing_run::{AsOf, run};
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        listen_to_everything(&app.db).await;
        let api = Api::new(&app.db, &app.base).await;
        let account = api.account_with_trial("Trialist").await;
        let account = billing_center::domain::AccountId::new(account);
        let today = billing_center::server::clock::local_date(chrono::Utc::now(), "Europe/Paris");
        let days = i64::from(app.state().catalog.trial_days);
        let types = || billing_center::db::webhooks::event_types_of(&app.db, account);
        assert_eq!(
            types().await.unwrap(),
            ["subscription.created", "account.updated"]
        );
        run(
            &app.state(),
            AsOf::Date(today + chrono::Duration::days(days - 2)),
        )
        .await
        .unwrap();
        assert_eq!(types().await.unwrap()[2..], ["trial.will_end"]);
        run(
            &app.state(),
            AsOf::Date(today + chrono::Duration::days(days + 1)),
        )
        .await
        .unwrap();
        assert_eq!(types().await.unwrap()[3..], ["subscription.expired"]);
    }
}

/// A settled delivery leaves the log 30 days later with its event; a
/// pending one stays whatever its age.
#[tokio::test]
async fn settled_deliveries_leave_the_log_after_thirty_days() {
    use billing_center::db::webhooks::{self, Outcome};
    for backend in backends() {
        let clock = Arc::new(billing_center::server::clock::ManualClock::new(
            chrono::Utc::now(),
        ));
        let app = TestApp::spawn_with_clock(backend, clock.clone()).await;
        let api = Api::new(&app.db, &app.base).await;
        // No server delivers here: the test settles one delivery itself.
        api.endpoint("http://127.0.0.1:9/unreachable", json!(["*"]))
            .await;
        api.account_with_trial("Old news").await;
        let now = billing_center::db::now_text();
        let far =
            billing_center::db::instant_text(chrono::Utc::now() + chrono::Duration::minutes(5));
        let claimed = webhooks::claim_deliveries(&app.db, &now, ("t", &far), 10)
            .await
            .unwrap();
        assert_eq!(
            claimed.len(),
            1,
            "an account's second event waits for its first"
        );
        let delivered = Outcome::Delivered { status: 200 };
        assert!(
            webhooks::record_attempt(&app.db, claimed[0].id, "t", &delivered, &now)
                .await
                .unwrap()
        );
        let state = app.state();
        billing_center::server::purge::run(&state).await.unwrap();
        assert_eq!(
            (
                app.count("webhook_deliveries").await,
                app.count("webhook_events").await
            ),
            (2, 2)
        );
        clock.advance(chrono::Duration::days(31));
        billing_center::server::purge::run(&state).await.unwrap();
        assert_eq!(
            (
                app.count("webhook_deliveries").await,
                app.count("webhook_events").await
            ),
            (1, 1)
        );
    }
}
