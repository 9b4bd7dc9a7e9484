//! What an operator watches, on a real server process: one JSON log line
//! per request (route pattern, status, latency, request id), Prometheus
//! metrics on their own listener, and compressed pages.

use std::time::Duration;

use crate::helpers::{
    TestApp, backends, free_port, fresh_database_url, serve_process, wait_until_up,
};

#[tokio::test]
async fn requests_are_logged_as_json_and_counted_in_metrics_on_their_own_port() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(backends()[0], dir.path()).await;
    let (port, metrics_port) = (free_port(), free_port());
    let base = format!("http://127.0.0.1:{port}");
    let log = dir.path().join("server.log");
    let env = [
        ("BC_METRICS_ADDR", format!("127.0.0.1:{metrics_port}")),
        ("BC_LOG_FORMAT", "json".to_string()),
        ("RUST_LOG", "info,sqlx=warn".to_string()),
    ];
    let mut server = serve_process(&url, port, &log, &env);
    wait_until_up(&base).await;
    let client = reqwest::Client::new();
    let r = client
        .get(format!("{base}/help"))
        .header("X-Request-Id", "trace-42")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-request-id"], "trace-42");
    // A made-up id is replaced by ours, which is sent back.
    let r = client
        .get(format!("{base}/help"))
        .header("X-Request-Id", "<script>")
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .starts_with("req_")
    );
    let r = client
        .post(format!("{base}/api/sign_in"))
        .header("Accept", "application/json")
        .form(&[("email", "nobody@demo.test"), ("password", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    client
        .get(format!("{base}/portal/secret-token-123"))
        .send()
        .await
        .unwrap();
    // Not on the public port.
    assert_eq!(
        client
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // The billing job runs at start; its first run is counted.
    let metrics = format!("http://127.0.0.1:{metrics_port}/metrics");
    let mut text = String::new();
    for _ in 0..100 {
        text = reqwest::get(&metrics).await.unwrap().text().await.unwrap();
        if text.contains("billing_runs_total 1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for expected in [
        "http_requests_total{method=\"GET\",route=\"/help\",status=\"200\"} 2",
        "http_requests_total{method=\"POST\",route=\"/api/sign_in\",status=\"422\"} 1",
        "sign_in_failures_total 1",
        "billing_runs_total 1",
        "billing_run_renewals_total 0",
        "email_outbox_pending 0",
        "webhook_deliveries_pending 0",
        "http_request_duration_seconds_bucket{method=\"GET\",route=\"/help\",le=\"10\"} 2",
        "billing_run_duration_seconds_count 1",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    crate::shutdown::sigterm(&server);
    assert_eq!(crate::shutdown::exit_code(&mut server).await, Some(0));

    let lines = std::fs::read_to_string(&log).unwrap();
    let requests: Vec<serde_json::Value> = lines
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &serde_json::Value| v["message"] == "request")
        .collect();
    let traced = requests
        .iter()
        .find(|v| v["request_id"] == "trace-42")
        .unwrap_or_else(|| panic!("no JSON line for trace-42 in:\n{lines}"));
    assert_eq!(traced["method"], "GET");
    assert_eq!(traced["route"], "/help");
    assert_eq!(traced["status"], 200);
    assert!(traced["latency_ms"].is_u64(), "{traced}");
    assert!(requests.iter().any(|v| v["route"] == "/portal/{token}"));
    assert!(
        !lines.contains("secret-token-123"),
        "a token reached the logs"
    );
}

#[tokio::test]
async fn pages_json_and_csv_are_compressed_when_the_browser_accepts_it() {
    let app = TestApp::spawn_seeded(backends()[0]).await;
    let s = app.sign_in("corporate@demo.test").await;
    for (path, accept, expected) in [
        ("/billing", "gzip, deflate, br", Some("br")),
        ("/billing", "gzip", Some("gzip")),
        ("/billing", "identity", None),
        ("/billing/invoices.csv", "br", Some("br")),
    ] {
        let r = s
            .client
            .get(format!("{}{path}", s.base))
            .header("Accept-Encoding", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(
            r.headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap()),
            expected,
            "{path} with {accept}"
        );
    }
    let r = s
        .client
        .post(format!("{}/api/overview", s.base))
        .header("Accept", "application/json")
        .header("Accept-Encoding", "br")
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-encoding"], "br");
}
