//! SIGTERM, as Docker and systemd send it, on each backend: the server
//! stops accepting, answers the requests in flight (orders waiting on a
//! slow gateway), lets the billing run finish its batch, and exits 0.

use std::time::Duration;

use crate::helpers::{
    backends, call, customer_mid_period, free_port, fresh_database_url, offline_state,
    serve_process, session_cookie, upgrade_order_form, wait_until_up,
};

pub fn sigterm(child: &std::process::Child) {
    let ok = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -TERM");
}

/// Waits for the process to exit (30 s at most): its exit code.
pub async fn exit_code(child: &mut std::process::Child) -> Option<i32> {
    for _ in 0..300 {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    panic!("the server did not stop within 30 s of SIGTERM");
}

#[tokio::test]
async fn sigterm_answers_the_orders_in_flight_then_exits_0() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let url = fresh_database_url(backend, dir.path()).await;
        let state = offline_state(&url).await;
        let mut cookies = Vec::new();
        for i in 0..6 {
            let (_, user) = customer_mid_period(
                &state.db,
                &format!("Term {i}"),
                &format!("term{i}@demo.test"),
            )
            .await;
            cookies.push(session_cookie(&state.db, user, 70_000 + i).await);
        }
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        // Each charge takes a second: the orders are in flight at the signal.
        let slow = [("BC_TEST_GATEWAY_LATENCY_MS", "1000".to_string())];
        let mut server = serve_process(&url, port, &dir.path().join("server.log"), &slow);
        wait_until_up(&base).await;
        let client = reqwest::Client::new();
        let mut forms = Vec::new();
        for cookie in &cookies {
            forms.push(upgrade_order_form(&client, &base, cookie).await);
        }
        let orders = cookies.iter().zip(forms).map(|(cookie, form)| {
            let (client, base) = (client.clone(), base.clone());
            let cookie = cookie.clone();
            tokio::spawn(
                async move { call(&client, &base, &cookie, "place_order", Err(form)).await },
            )
        });
        let orders: Vec<_> = orders.collect();
        tokio::time::sleep(Duration::from_millis(300)).await;
        sigterm(&server);
        for o in orders {
            let (status, body) = o.await.unwrap().expect("an order in flight is answered");
            assert_eq!(status, 200, "{backend:?}: {body}");
        }
        assert_eq!(exit_code(&mut server).await, Some(0), "{backend:?}");
        assert_eq!(
            billing_center::db::count(&state.db, "invoices")
                .await
                .unwrap(),
            6
        );
        assert!(
            reqwest::get(format!("{base}/health")).await.is_err(),
            "no longer listening"
        );
    }
}

#[tokio::test]
async fn sigterm_during_a_billing_run_ends_it_after_a_whole_batch() {
    for backend in backends() {
        // 10 accounts × 3 subscriptions × 24 months behind: 720 renewals,
        // charged at 20 ms each, 8 at a time; the server's billing job
        // starts at once and is stopped a few batches in.
        let (dir, url, state) = crate::billing_run::two_years_behind(backend, 10).await;
        let port = free_port();
        let slow = [("BC_TEST_GATEWAY_LATENCY_MS", "20".to_string())];
        let log = dir.path().join("server.log");
        let mut server = serve_process(&url, port, &log, &slow);
        wait_until_up(&format!("http://127.0.0.1:{port}")).await;
        let invoices = || billing_center::db::count(&state.db, "invoices");
        for _ in 0..200 {
            if invoices().await.unwrap() > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        sigterm(&server);
        assert_eq!(exit_code(&mut server).await, Some(0), "{backend:?}");
        let stopped_at = invoices().await.unwrap();
        assert!(
            (1..720).contains(&stopped_at),
            "{backend:?}: stopped after {stopped_at} renewals"
        );
        // Whole batches only: every invoice has its payment, and the next
        // run bills the rest, each period once.
        assert_eq!(
            billing_center::db::count(&state.db, "payments")
                .await
                .unwrap(),
            stopped_at
        );
        let report = billing_center::server::billing_run::run(
            &state,
            billing_center::server::billing_run::AsOf::Date(crate::billing_run::today()),
        )
        .await
        .unwrap();
        assert_eq!(i64::from(report.renewed), 720 - stopped_at, "{report:?}");
        assert_eq!(invoices().await.unwrap(), 720);
        let (keys,): (i64,) = sqlx::query_as("SELECT COUNT(DISTINCT renewal_key) FROM invoices")
            .fetch_one(&state.db.pool)
            .await
            .unwrap();
        assert_eq!(keys, 720, "no period billed twice");
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(!text.contains("panicked"), "{text}");
    }
}
