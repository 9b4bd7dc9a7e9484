//! Placing orders: the same checks the browser goes through, over HTTP.

use billing_center::db::orders::OrderStatus;
use billing_center::domain::{AccountId, OrderId};
use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, backends};

async fn subscribe_trial(s: &Session, sub_id: i64) {
    let r = s
        .json(
            "put_cart_item",
            json!({"item": {"type": "subscribe", "subscription_id": sub_id, "product": "webinar",
                    "plan": {"level": "standard", "seats": 1, "frequency": "monthly"}}, "replace": true}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

async fn first_subscription(s: &Session) -> Value {
    let o: Value = s.ok("overview", &[]).await;
    o["cards"][0].clone()
}

/// Places the order shown by `checkout` with `total` as the page's total.
async fn place(s: &Session, checkout: &Value, total: &str) -> reqwest::Response {
    let key = checkout["idempotency_key"].as_str().unwrap();
    let digest = checkout["cart_digest"].as_str().unwrap();
    s.form(
        "place_order",
        &[
            ("key", key),
            ("expected_total", total),
            ("cart_digest", digest),
        ],
    )
    .await
}

async fn add_card(s: &Session, number: &str) -> reqwest::Response {
    crate::helpers::browser_saves_card(s, number, "12/30")
        .await
        .expect("a card the page accepts")
}

#[tokio::test]
async fn subscribe_from_trial_charges_once_invoices_and_emails() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let s = app.sign_in("trial@demo.test").await;
        let card = first_subscription(&s).await;
        assert_eq!(card["status"], "trial");
        subscribe_trial(&s, card["id"].as_i64().unwrap()).await;
        let checkout: Value = s.ok("checkout", &[]).await;
        assert_eq!(checkout["quote"]["totals"]["total_due"]["amount"], "154.80");
        assert!(checkout["payment_method"].is_null());

        // No payment method yet: a clear refusal, nothing written.
        let r = place(&s, &checkout, "154.80").await;
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("payment method"));

        assert_eq!(add_card(&s, "4242 4242 4242 4242").await.status(), 200);
        let invoices_before = app.count("invoices").await;
        let result: Value = place(&s, &checkout, "154.80").await.json().await.unwrap();
        assert_eq!(result["email"], "trial@demo.test");
        let number = result["invoice_number"].as_str().unwrap().to_string();
        assert!(number.starts_with("BC-"), "{number}");
        assert_eq!(app.count("invoices").await, invoices_before + 1);

        let card = first_subscription(&s).await;
        assert_eq!(card["status"], "active");
        let mail: Vec<Value> = s.ok("mailbox", &[]).await;
        assert_eq!(mail.len(), 1);
        assert!(mail[0]["subject"].as_str().unwrap().contains(&number));
        // Demo accounts are French: the email is in the account's language.
        assert!(
            mail[0]["body"]
                .as_str()
                .unwrap()
                .contains("Total TTC: 154,80\u{a0}€")
        );

        // The invoice reconciles: net + VAT = total.
        let id = result["invoice_id"].as_i64().unwrap().to_string();
        let inv: Value = s.ok("invoice", &[("id", &id)]).await;
        assert_eq!(
            (
                inv["net"].as_str(),
                inv["vat"].as_str(),
                inv["total"].as_str()
            ),
            (Some("€129.00"), Some("€25.80"), Some("€154.80"))
        );

        // Replaying the same key returns the same order, charges nothing more.
        let again: Value = place(&s, &checkout, "154.80").await.json().await.unwrap();
        assert_eq!(again["invoice_number"], number.as_str());
        assert_eq!(app.count("invoices").await, invoices_before + 1);
        assert_eq!(app.count("payments").await, 1);
    }
}

#[tokio::test]
async fn fifty_concurrent_submissions_of_one_key_make_one_order() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let s = app.sign_in("trialover@demo.test").await;
        let card = first_subscription(&s).await;
        assert_eq!(card["status"], "trial_expired");
        subscribe_trial(&s, card["id"].as_i64().unwrap()).await;
        assert_eq!(add_card(&s, "4242424242424242").await.status(), 200);
        let checkout: Value = s.ok("checkout", &[]).await;
        let (invoices, payments, mails) = (
            app.count("invoices").await,
            app.count("payments").await,
            app.count("email_outbox").await,
        );
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let s = s.clone();
                let checkout = checkout.clone();
                tokio::spawn(async move {
                    let r = place(&s, &checkout, "154.80").await;
                    (r.status().as_u16(), r.text().await.unwrap())
                })
            })
            .collect();
        let mut numbers = std::collections::HashSet::new();
        for t in tasks {
            let (status, body) = t.await.unwrap();
            assert_eq!(status, 200, "{body}");
            let v: Value = serde_json::from_str(&body).unwrap();
            numbers.insert(v["invoice_number"].as_str().unwrap().to_string());
        }
        assert_eq!(numbers.len(), 1, "every submission sees the one order");
        assert_eq!(app.count("invoices").await, invoices + 1);
        assert_eq!(app.count("payments").await, payments + 1);
        assert_eq!(app.count("email_outbox").await, mails + 1);
    }
}

#[tokio::test]
async fn same_key_other_content_changed_quote_and_stale_windows_are_refused() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let s = app.sign_in("expired@demo.test").await;
        let card = first_subscription(&s).await;
        assert_eq!(card["status"], "expired");
        let id = card["id"].as_i64().unwrap();
        let reactivate = |seats: i64| json!({"item": {"type": "reactivate", "subscription_id": id, "plan": {"level": "lite", "seats": seats, "frequency": "monthly"}}, "replace": true});
        assert_eq!(s.json("put_cart_item", reactivate(1)).await.status(), 200);
        let checkout: Value = s.ok("checkout", &[]).await;
        assert_eq!(checkout["quote"]["totals"]["total_due"]["amount"], "70.80");

        // The page showed another total: refuse, charge nothing.
        let r = place(&s, &checkout, "59.00").await;
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("QuoteChanged"));
        assert_eq!(app.count("payments").await, 0);

        assert_eq!(place(&s, &checkout, "70.80").await.status(), 200);
        // Same key, different content.
        assert_eq!(s.json("put_cart_item", json!({"item": {"type": "subscribe", "subscription_id": null, "product": "meeting", "plan": {"level": "business", "seats": 2, "frequency": "monthly"}}, "replace": true})).await.status(), 200);
        let r = place(&s, &checkout, "45.60").await;
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("different content"));

        // A window still showing the old version of the subscription.
        let card = first_subscription(&s).await;
        assert_eq!(card["status"], "active");
        let r = s
            .form(
                "remove_pending_cancellation",
                &[("id", &id.to_string()), ("version", "1")],
            )
            .await;
        assert_eq!(r.status(), 409);
        assert!(r.text().await.unwrap().contains("Stale"));
    }
}

#[tokio::test]
async fn declined_cards_charge_nothing_and_keep_the_cart() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        crate::webhooks::listen_to_everything(&app.db).await;
        let s = app.sign_in("trial@demo.test").await;
        let card = first_subscription(&s).await;
        subscribe_trial(&s, card["id"].as_i64().unwrap()).await;
        let r = add_card(&s, "4000 0000 0000 0002").await;
        assert_eq!(r.status(), 402);
        assert!(r.text().await.unwrap().contains("declined"));
        let r = add_card(&s, "4000 0000 0000 9995").await;
        assert!(r.text().await.unwrap().contains("insufficient funds"));
        // The page refuses these before anything is sent.
        let luhn = crate::helpers::browser_saves_card(&s, "4242 4242 4242 4241", "12/30").await;
        assert!(luhn.unwrap_err().contains("not valid"), "Luhn");
        let expired = crate::helpers::browser_saves_card(&s, "4242424242424242", "01/20").await;
        assert!(expired.unwrap_err().contains("expired"));
        // A token the provider did not make is refused, nothing saved.
        let r = s
            .form("finish_payment_setup", &[("setup_id", "demo:ok:Visa")])
            .await;
        assert_eq!(r.status(), 402);
        // Saved fine, declined when charged.
        assert_eq!(add_card(&s, "4000 0000 0000 0341").await.status(), 200);
        let checkout: Value = s.ok("checkout", &[]).await;
        let r = place(&s, &checkout, "154.80").await;
        assert_eq!(r.status(), 402);
        assert_eq!(
            (
                app.count("invoices").await,
                app.count("payments").await,
                app.count("email_outbox").await
            ),
            (6, 0, 0)
        );
        let o: Value = s.ok("overview", &[]).await;
        assert_eq!(o["cart_count"], 1, "the cart is kept");
        assert_eq!(o["cards"][0]["status"], "trial");
        // The seller's application hears of the decline, and of nothing else.
        let (user, _) = billing_center::db::accounts::find_login(&app.db, "trial@demo.test")
            .await
            .unwrap()
            .unwrap();
        let events = billing_center::db::webhooks::event_types_of(&app.db, user.account_id)
            .await
            .unwrap();
        assert_eq!(events, ["payment.failed"]);
        // Another card, the same key: the order goes through.
        assert_eq!(add_card(&s, "4242424242424242").await.status(), 200);
        let ok: Value = place(&s, &checkout, "154.80").await.json().await.unwrap();
        assert!(ok["invoice_number"].is_string());
    }
}

#[tokio::test]
async fn sepa_and_the_full_number_is_stored_nowhere() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let s = app.sign_in("trial@demo.test").await;
        let r = crate::helpers::browser_saves_sepa(&s, "FR76 3000 6000 0112 3456 7890 189").await;
        assert_eq!(r.unwrap().status(), 200);
        let bad = crate::helpers::browser_saves_sepa(&s, "FR76 3000 6000 0112 3456 7890 188").await;
        assert!(bad.is_err(), "the page refuses a wrong IBAN");
        // Without the mandate accepted, a SEPA account is not saved.
        let token = billing_center::domain::payment::DemoToken::for_iban(
            &billing_center::domain::Iban::parse("FR76 3000 6000 0112 3456 7890 189").unwrap(),
        );
        let r = s
            .form("finish_payment_setup", &[("setup_id", &token)])
            .await;
        assert_eq!(r.status(), 422);
        assert_eq!(add_card(&s, "4242 4242 4242 4242").await.status(), 200);
        for table in [
            "payment_methods",
            "audit_log",
            "payments",
            "orders",
            "email_outbox",
        ] {
            let rows = sqlx::query(&format!("SELECT * FROM {table}"))
                .fetch_all(&app.db.pool)
                .await
                .unwrap();
            for row in rows {
                use sqlx::Row;
                for i in 0..row.len() {
                    if let Ok(Some(v)) = row.try_get::<Option<String>, _>(i) {
                        assert!(
                            !v.contains("4242424242424242") && !v.contains("123456789"),
                            "{table}: {v}"
                        );
                    }
                }
            }
        }
    }
}

#[tokio::test]
async fn remove_pending_cancellation_restores_renewal_without_charge() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let s = app.sign_in("pending@demo.test").await;
        let card = first_subscription(&s).await;
        assert_eq!(card["status"], "pending_cancellation");
        assert_eq!(card["actions"], json!(["remove_pending_cancellation"]));
        let (invoices, payments) = (app.count("invoices").await, app.count("payments").await);
        let id = card["id"].as_i64().unwrap().to_string();
        let version = card["version"].as_i64().unwrap().to_string();
        let r = s
            .form(
                "remove_pending_cancellation",
                &[("id", &id), ("version", &version)],
            )
            .await;
        assert_eq!(r.status(), 200);
        let card = first_subscription(&s).await;
        assert_eq!(card["status"], "active");
        assert!(card["renewal"].as_str().unwrap().starts_with("Renews on"));
        assert_eq!(
            (app.count("invoices").await, app.count("payments").await),
            (invoices, payments)
        );
    }
}

#[tokio::test]
async fn invoice_numbers_have_no_gap_under_concurrent_orders_with_declines() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let mut tasks = Vec::new();
        for (email, card, product) in [
            ("trial@demo.test", "4242424242424242", "meeting"),
            ("trialover@demo.test", "4000000000000341", "meeting"),
            ("expired@demo.test", "4242424242424242", "training"),
            ("active@demo.test", "4000000000000341", "webinar"),
            ("pending@demo.test", "4242424242424242", "meeting"),
        ] {
            let s = app.sign_in(email).await;
            assert_eq!(add_card(&s, card).await.status(), 200);
            let r = s
                .json("put_cart_item", json!({"item": {"type": "subscribe", "subscription_id": null, "product": product, "plan": {"level": if product == "meeting" { "business" } else { "pro" }, "seats": 1, "frequency": "monthly"}}, "replace": true}))
                .await;
            assert_eq!(r.status(), 200, "{email}");
            let checkout: Value = s.ok("checkout", &[]).await;
            let total = checkout["quote"]["totals"]["total_due"]["amount"]
                .as_str()
                .unwrap()
                .to_string();
            tasks.push(tokio::spawn(async move {
                place(&s, &checkout, &total).await.status().as_u16()
            }));
        }
        let mut ok = 0;
        for t in tasks {
            if t.await.unwrap() == 200 {
                ok += 1;
            }
        }
        assert_eq!(ok, 3, "two declined");
        let seqs: Vec<(i64,)> =
            sqlx::query_as("SELECT seq FROM invoices WHERE seller = 'BC' ORDER BY seq")
                .fetch_all(&app.db.pool)
                .await
                .unwrap();
        let seqs: Vec<i64> = seqs.into_iter().map(|r| r.0).collect();
        assert_eq!(
            seqs,
            (1..=seqs.len() as i64).collect::<Vec<_>>(),
            "continuous series"
        );
        assert_eq!(seqs.len(), 6 + 3);
    }
}

#[tokio::test]
async fn a_gateway_timeout_after_the_charge_is_reconciled_not_charged_again() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let s = app.sign_in("trial@demo.test").await;
        let sub_id = first_subscription(&s).await["id"].as_i64().unwrap();
        subscribe_trial(&s, sub_id).await;
        // 4000 0000 0000 0119: the charge happens, the answer is lost.
        assert_eq!(add_card(&s, "4000 0000 0000 0119").await.status(), 200);
        let checkout: Value = s.ok("checkout", &[]).await;
        let total = checkout["quote"]["totals"]["total_due"]["amount"]
            .as_str()
            .unwrap()
            .to_string();
        let invoices = app.count("invoices").await;
        let r = place(&s, &checkout, &total).await;
        assert_eq!(r.status(), 402);
        assert!(r.text().await.unwrap().contains("did not answer in time"));
        assert_eq!(app.count("invoices").await, invoices, "no invoice yet");
        let settled = app.state().gateway.settled().await.unwrap();
        assert_eq!(settled.len(), 1, "the gateway did charge: {settled:?}");

        // The customer places the order again (same page, same key): the
        // gateway returns the first charge; one invoice, one payment.
        let r = place(&s, &checkout, &total).await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        assert_eq!(
            app.state().gateway.settled().await.unwrap(),
            settled,
            "charged once"
        );
        assert_eq!(app.count("invoices").await, invoices + 1);
        let (payments, paid): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM payments",
        )
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        assert_eq!((payments, paid), (1, settled[0].1), "books = gateway");
        assert_eq!(first_subscription(&s).await["status"], "active");
    }
}

/// An order claim is a lease whose value is its holder's token: once a
/// retry has taken an expired claim over, the first holder (slow, not dead)
/// can neither complete nor release it, so it cannot refund or record the
/// charge the new holder now owns.
#[tokio::test]
async fn a_claim_taken_over_is_no_longer_the_first_holders() {
    use billing_center::db::writes::CommitError;
    use billing_center::db::{commit, orders};
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (account, _) =
            crate::helpers::online_account_with_card(&app.db, "Lease", "lease@demo.test").await;
        let state = app.state();
        let first = state.order_lease_token();
        let id = orders::claim_order(
            &app.db,
            account,
            "lease-key-0123456789",
            "h",
            100,
            "EUR",
            &first,
        )
        .await
        .unwrap()
        .unwrap();
        let now = billing_center::db::now_text();
        let second = state.order_lease_token();
        assert!(
            !orders::take_over_order(&app.db, id, &now, &second)
                .await
                .unwrap(),
            "{backend:?}: taken over before its lease ran out"
        );
        // After the lease (120 s) has run out:
        let later =
            billing_center::db::instant_text(chrono::Utc::now() + chrono::Duration::minutes(3));
        assert!(
            orders::take_over_order(&app.db, id, &later, &second)
                .await
                .unwrap()
        );
        // The new holder's lease now runs: nobody else may take it.
        assert!(
            !orders::take_over_order(&app.db, id, &now, &state.order_lease_token())
                .await
                .unwrap(),
            "taken twice"
        );
        let write = |lease: &str| bare_order(account, (id, lease), 0);
        assert!(matches!(
            commit::commit_order(&app.db, write(&first)).await,
            Err(CommitError::ClaimLost)
        ));
        orders::release_order(&app.db, id, &first).await.unwrap();
        let o = orders::find_order(&app.db, account, "lease-key-0123456789")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            o.status,
            OrderStatus::Pending,
            "{backend:?}: the first holder released it"
        );
        commit::commit_order(&app.db, write(&second)).await.unwrap();
        let o = orders::find_order(&app.db, account, "lease-key-0123456789")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(o.status, OrderStatus::Done);
    }
}

/// Orders that arrive while the writer is busy are committed together, in
/// one group; one of them losing its claim fails alone (the group is rolled
/// back and each order written on its own), the others are written once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orders_arriving_together_commit_together_and_fail_alone() {
    use billing_center::db::Backend;
    use billing_center::db::writes::CommitError;
    use billing_center::db::{commit, orders};
    use sqlx::Executor;
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (account, _) =
            crate::helpers::online_account_with_card(&app.db, "Group", "group@demo.test").await;
        let state = app.state();
        let mut claims = Vec::new();
        for i in 0..6 {
            let lease = state.order_lease_token();
            let key = format!("group-key-{i:02}-0123456789");
            let id = orders::claim_order(&app.db, account, &key, "h", 100, "EUR", &lease)
                .await
                .unwrap()
                .unwrap();
            claims.push((id, key, lease));
        }
        // The credit change and the audit line are written before the claim
        // is checked: they must be rolled back when the claim was lost.
        let write =
            |id: OrderId, lease: &str, credit: i64| bare_order(account, (id, lease), credit);
        // Another connection holds the database's write lock: the first
        // order's commit waits on it, the others queue behind that one.
        let mut blocker = hold_write_lock(&app, backend, "audit_log").await;
        let groups_before = app.db.order_groups();
        let (audit, outbox) = (
            app.count("audit_log").await,
            app.count("email_outbox").await,
        );
        let mut tasks = Vec::new();
        for (n, (id, _, lease)) in claims.iter().enumerate() {
            // The last one's claim is not its own any more.
            let w = match n {
                5 => write(*id, "someone-else", 500),
                _ => write(*id, lease, 0),
            };
            let db = app.db.clone();
            tasks.push(tokio::spawn(
                async move { commit::commit_order(&db, w).await },
            ));
            if n == 0 {
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        blocker.execute("ROLLBACK").await.unwrap();
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.unwrap());
        }
        // PostgreSQL's orders commit side by side, each on its own.
        let groups = if backend == Backend::Sqlite { 2 } else { 0 };
        assert_eq!(
            app.db.order_groups() - groups_before,
            groups,
            "{backend:?}: the first order alone, then the five that queued behind it"
        );
        for (n, r) in results.iter().enumerate() {
            match n {
                5 => assert!(matches!(r, Err(CommitError::ClaimLost)), "{r:?}"),
                _ => assert!(r.is_ok(), "{backend:?} order {n}: {r:?}"),
            }
        }
        for (n, (_, key, _)) in claims.iter().enumerate() {
            let o = orders::find_order(&app.db, account, key)
                .await
                .unwrap()
                .unwrap();
            let want = if n == 5 {
                OrderStatus::Pending
            } else {
                OrderStatus::Done
            };
            assert_eq!(o.status, want, "{backend:?} order {n}");
        }
        assert_eq!(
            app.count("audit_log").await - audit,
            5,
            "{backend:?}: once each"
        );
        assert_eq!(app.count("email_outbox").await - outbox, 5, "{backend:?}");
        let credit = billing_center::db::accounts::find_account(&app.db, account)
            .await
            .unwrap()
            .unwrap()
            .credit_balance
            .to_minor();
        assert_eq!(
            credit, 0,
            "{backend:?}: the failed order's credit rolled back"
        );
    }
}

/// Claims arriving together (the write lock busy) are written in one
/// transaction on SQLite; one that fails (its account does not exist)
/// fails alone, and the others are claimed once each.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn claims_arriving_together_fail_alone() {
    use billing_center::db::orders;
    use sqlx::Executor;
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (account, _) =
            crate::helpers::online_account_with_card(&app.db, "Claims", "claims@demo.test").await;
        let state = app.state();
        let mut blocker = hold_write_lock(&app, backend, "orders").await;
        let before = app.count("orders").await;
        let mut tasks = Vec::new();
        for i in 0..5 {
            let owner = if i == 3 {
                AccountId::new(account.get() + 1_000_000)
            } else {
                account
            };
            let (db, lease) = (app.db.clone(), state.order_lease_token());
            tasks.push(tokio::spawn(async move {
                let key = format!("claim-key-{i:02}-0123456789");
                orders::claim_order(&db, owner, &key, "h", 100, "EUR", &lease).await
            }));
            if i == 0 {
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        blocker.execute("ROLLBACK").await.unwrap();
        for (i, t) in tasks.into_iter().enumerate() {
            let r = t.await.unwrap();
            match i {
                3 => assert!(
                    matches!(&r, Err(e) if !e.is_transient()),
                    "{backend:?}: no such account: {r:?}"
                ),
                _ => assert!(matches!(r, Ok(Some(_))), "{backend:?} claim {i}: {r:?}"),
            }
        }
        assert_eq!(app.count("orders").await - before, 4, "{backend:?}");
    }
}

/// Another connection holding the database's write lock (on PostgreSQL,
/// `table`'s): writes wait until it rolls back.
async fn hold_write_lock(
    app: &TestApp,
    backend: billing_center::db::Backend,
    table: &str,
) -> sqlx::AnyConnection {
    use billing_center::db::Backend;
    use sqlx::{Connection, Executor};
    let mut blocker = sqlx::AnyConnection::connect(&app.url).await.unwrap();
    match backend {
        Backend::Sqlite => blocker.execute("BEGIN IMMEDIATE").await.unwrap(),
        Backend::Postgres => {
            blocker.execute("BEGIN").await.unwrap();
            blocker
                .execute(format!("LOCK TABLE {table} IN EXCLUSIVE MODE").as_str())
                .await
                .unwrap()
        }
    };
    blocker
}

/// Two orders that each apply the account's whole credit: the second finds
/// it spent and is answered "changed", never taking the balance below zero.
#[tokio::test]
async fn credit_is_never_spent_twice() {
    use billing_center::db::writes::CommitError;
    use billing_center::db::{commit, orders};
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (account, _) =
            crate::helpers::online_account_with_card(&app.db, "Credit", "credit@demo.test").await;
        let today = chrono::Utc::now().date_naive();
        crate::helpers::credit_note(&app.db, account, today, -2500).await;
        let state = app.state();
        let mut results = Vec::new();
        for i in 0..2 {
            let lease = state.order_lease_token();
            let key = format!("credit-key-{i:02}-0123456789");
            let id = orders::claim_order(&app.db, account, &key, "h", 0, "EUR", &lease)
                .await
                .unwrap()
                .unwrap();
            results.push(
                commit::commit_order(&app.db, bare_order(account, (id, &lease), -2500)).await,
            );
        }
        assert!(results[0].is_ok(), "{backend:?}: {:?}", results[0]);
        assert!(
            matches!(results[1], Err(CommitError::Stale)),
            "{backend:?}: the credit was spent already: {:?}",
            results[1]
        );
        let balance = billing_center::db::accounts::find_account(&app.db, account)
            .await
            .unwrap()
            .unwrap()
            .credit_balance
            .to_minor();
        let (ledger, rows): (i64, i64) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT), COUNT(*) FROM credit_movements WHERE account_id = $1",
        )
        .bind(account)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        assert_eq!(
            (balance, ledger, rows),
            (0, 0, 2),
            "{backend:?}: created, applied once"
        );
    }
}

/// An order that completes the claim `(order id, lease)` with nothing but
/// a credit change, an email and an audit line.
fn bare_order(
    account: AccountId,
    (id, lease): (OrderId, &str),
    credit: i64,
) -> billing_center::db::writes::OrderWrite {
    use billing_center::db::writes::EmailWrite;
    use billing_center::db::writes::OrderWrite;
    OrderWrite {
        account_id: account,
        user_id: None,
        order: Some((id, lease.to_string())),
        subscriptions: vec![],
        invoice: None,
        payment_ref: None,
        attempt: None,
        credit_delta_minor: credit,
        email: Box::new(|_| EmailWrite {
            to: "order@demo.test".into(),
            subject: "s".into(),
            text: "t".into(),
            html: "h".into(),
            attachment: None,
        }),
        audit: "order test".into(),
    }
}

/// Subscribes the trial account's first subscription with the card
/// `number` saved first, and places the order; asserts it went through.
pub async fn subscribe_with_card(s: &Session, number: &str) {
    let sub_id = first_subscription(s).await["id"].as_i64().unwrap();
    subscribe_trial(s, sub_id).await;
    assert_eq!(add_card(s, number).await.status(), 200);
    let checkout: Value = s.ok("checkout", &[]).await;
    let total = checkout["quote"]["totals"]["total_due"]["amount"]
        .as_str()
        .unwrap()
        .to_string();
    let r = place(s, &checkout, &total).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}
