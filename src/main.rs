use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn".into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // One JSON object per line for log collectors; read before the
    // configuration, whose errors it prints.
    match std::env::var("BC_LOG_FORMAT").as_deref() {
        Ok("json") => logs.json().flatten_event(true).init(),
        _ => logs.init(),
    }
    billing_center::server::cli::run(std::env::args().collect(), billing_center::site()).await
}
