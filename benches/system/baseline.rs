//! The place-order benchmark's baseline, served by this process: one bare
//! `INSERT` per HTTP request on the same database file or server, with the
//! same durability, through sqlx as the app writes. On SQLite the inserts
//! take one writer's turn, as the app's writes do.

use std::sync::Arc;

use billing_center::db::{Backend, Db};

pub struct InsertServer {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for InsertServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl InsertServer {
    pub async fn start(db: &Db) -> InsertServer {
        sqlx::query("CREATE TABLE IF NOT EXISTS bench_rows (at TEXT NOT NULL)")
            .execute(&db.pool)
            .await
            .unwrap();
        let state = (db.clone(), Arc::new(tokio::sync::Mutex::new(())));
        let app = axum::Router::new()
            .route("/insert", axum::routing::post(insert))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/insert", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        InsertServer { url, task }
    }
}

async fn insert(
    axum::extract::State((db, turn)): axum::extract::State<(Db, Arc<tokio::sync::Mutex<()>>)>,
) -> axum::http::StatusCode {
    let _turn = match db.backend {
        Backend::Sqlite => Some(turn.lock().await),
        Backend::Postgres => None,
    };
    match sqlx::query("INSERT INTO bench_rows (at) VALUES ($1)")
        .bind(billing_center::db::now_text())
        .execute(&db.pool)
        .await
    {
        Ok(_) => axum::http::StatusCode::NO_CONTENT,
        Err(_) => axum::http::StatusCode::SERVICE_UNAVAILABLE,
    }
}
