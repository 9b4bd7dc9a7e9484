//! Building the app: database, catalog, routes.

use std::sync::Arc;

use axum::Router;
use leptos::prelude::*;
use leptos_axum::{AxumRouteListing, LeptosRoutes};

use super::config::Config;
use super::state::{AppState, Services};
use crate::db::{Db, products};

/// The pages the server renders, handed in from above (`crate::site`):
/// the server layer does not import the UI.
#[derive(Clone, Copy)]
pub struct Site {
    /// The app's routes (`generate_route_list` of the root component).
    pub routes: fn() -> Vec<AxumRouteListing>,
    /// The HTML document around the app.
    pub shell: fn(LeptosOptions) -> AnyView,
    /// The operator API's routes, mounted under `/api/v1`.
    pub operator_api: fn() -> Router<AppState>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("{0}")]
    Catalog(#[from] crate::billing::catalog::CatalogError),
    #[error("{0}")]
    Db(#[from] crate::db::DbError),
    #[error("invalid Leptos configuration: {0}")]
    Leptos(String),
    #[error("{0}")]
    Seed(String),
    #[error("{0}")]
    Usage(String),
    #[error("cannot listen on {addr}: {cause}")]
    Bind { addr: String, cause: String },
}

/// Opens and migrates the database and loads the catalog: what `serve`,
/// `migrate` and the tests all need.
pub async fn prepare(config: &Config) -> Result<(Db, Arc<crate::billing::Catalog>), StartupError> {
    let catalog = Arc::new(config.catalog()?);
    let db = Db::connect(&config.database_url).await?;
    db.migrate().await?;
    products::sync_from_catalog(&db, &catalog).await?;
    Ok((db, catalog))
}

/// The state for commands that do not serve HTTP (`bill`).
pub async fn offline_state(config: &Config) -> Result<AppState, StartupError> {
    let (db, catalog) = prepare(config).await?;
    services(config, (db, catalog), Default::default()).await
}

/// Everything the handlers and jobs share, from the configuration.
async fn services(
    config: &Config,
    (db, catalog): (Db, Arc<crate::billing::Catalog>),
    stopping: super::shutdown::Stopping,
) -> Result<AppState, StartupError> {
    let leptos_options = leptos_options(config);
    let installation = crate::db::gateway::installation_id(&db).await?;
    Ok(AppState::new(Services {
        db,
        catalog,
        clock: config.clock(),
        gateway: config.gateway().map_err(StartupError::Usage)?,
        order_lease: config.order_lease(),
        gateway_concurrency: config.gateway_concurrency,
        stripe: config.stripe.clone(),
        installation,
        return_origins: config.return_origins.clone(),
        trusted_proxies: config.trusted_proxies.clone(),
        stopping,
        identity: Arc::new(config.identity.clone()),
        help: Arc::new(config.help().map_err(StartupError::Usage)?),
        site_files: Arc::new(super::site_files::SiteFiles::load(std::path::Path::new(
            leptos_options.site_root.as_ref(),
        ))),
        leptos_options,
    }))
}

/// Leptos's options from our configuration, not from its own variables:
/// the address is `listen`; the site's files are under `target/site`
/// (`LEPTOS_SITE_ROOT` elsewhere).
fn leptos_options(config: &Config) -> LeptosOptions {
    let env = match std::env::var("LEPTOS_ENV").as_deref() {
        Ok("DEV") => leptos::config::Env::DEV,
        _ => leptos::config::Env::PROD,
    };
    LeptosOptions::builder()
        .output_name("billing-center")
        .site_root(std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".into()))
        .site_pkg_dir("pkg")
        .site_addr(config.listen)
        .env(env)
        .build()
}

/// The billing run every few minutes inside the server, until the stop.
fn spawn_billing_job(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(300));
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = state.stopping.wait() => return,
            }
            let started = std::time::Instant::now();
            match super::billing_run::run(&state, super::billing_run::AsOf::Now).await {
                Ok(r) => {
                    super::metrics::billing_run(&r, started.elapsed());
                    if r != Default::default() {
                        tracing::info!(?r, "billing run");
                    }
                }
                Err(e) => {
                    super::metrics::billing_run_failed();
                    tracing::error!(error = %e, "billing run failed");
                }
            }
            match super::purge::run(&state).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "expired sessions, links and tokens deleted"),
                Err(e) => tracing::warn!(error = %e, "purge of expired rows failed"),
            }
        }
    })
}

/// Delivers the outbox every few seconds (only when `smtp.url` is set; the
/// demo otherwise shows emails at /billing/mailbox), until the stop.
fn spawn_mailer(state: AppState, mailer: super::mailer::Mailer) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = state.stopping.wait() => return,
            }
            if let Err(e) = mailer.deliver_pending(&state.db, state.clock.now()).await {
                tracing::error!(error = %e, "email delivery run failed");
            }
        }
    })
}

pub fn router(state: AppState, site: Site) -> Router {
    let context_state = state.clone();
    let shell_options = state.leptos_options.clone();
    let shell = site.shell;
    Router::new()
        .leptos_routes_with_context(
            &state,
            (site.routes)(),
            move || provide_context(context_state.clone()),
            move || shell(shell_options.clone()),
        )
        .route(
            "/billing/invoices/{id}/pdf",
            axum::routing::get(super::documents::invoice_pdf),
        )
        .nest("/api/v1", (site.operator_api)())
        .route("/portal/{token}", axum::routing::get(super::portal::open))
        .route("/health", axum::routing::get(health))
        .route("/brand.css", axum::routing::get(super::brand::stylesheet))
        .route("/brand/logo", axum::routing::get(super::brand::logo))
        .route(
            "/webhooks/stripe",
            axum::routing::post(super::webhooks::stripe),
        )
        .route("/lang/{code}", axum::routing::get(super::lang::switch))
        .route(
            "/billing/invoices.csv",
            axum::routing::get(super::documents::invoices_csv),
        )
        .fallback(static_file_or_not_found(site.shell))
        .layer(axum::middleware::map_response(
            super::error::fix_server_fn_status,
        ))
        .layer(axum::middleware::from_fn(super::csrf::reject_cross_site))
        // Also where a body over MAX_BODY_BYTES is refused (413), in JSON
        // to JSON clients.
        .layer(axum::middleware::from_fn(super::headers::reject_nul))
        .layer(axum::middleware::from_fn(super::headers::security_headers))
        .layer(axum::middleware::from_fn(super::request_log::log_requests))
        // Leaves the precompressed site files as they are (they carry their
        // Content-Encoding already).
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(state)
}

/// The site's files from memory (`site_files`), else the app's 404 page.
fn static_file_or_not_found(
    shell: fn(LeptosOptions) -> AnyView,
) -> axum::routing::MethodRouter<AppState> {
    let not_found = leptos_axum::file_and_error_handler::<AppState, _>(shell);
    axum::routing::any(
        move |uri: axum::http::Uri,
              axum::extract::State(state): axum::extract::State<AppState>,
              request: axum::extract::Request| {
            let not_found = not_found.clone();
            async move {
                match state.site_files.respond(uri.path(), request.headers()) {
                    Some(response) => response,
                    None => not_found(uri, axum::extract::State(state), request).await,
                }
            }
        },
    )
}

/// For load balancers and restarts: 200 when the database answers, 503
/// (and nothing else said) when it does not.
async fn health(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> (axum::http::StatusCode, &'static str) {
    match crate::db::ping(&state.db).await {
        Ok(()) => (axum::http::StatusCode::OK, "ok"),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database unavailable");
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        }
    }
}

pub async fn serve(config: Config, site: Site) -> Result<(), StartupError> {
    let addr = config.listen;
    let prepared = prepare(&config).await?;
    let (stop, stopping) = super::shutdown::switch();
    let state = services(&config, prepared, stopping.clone()).await?;
    // leptos_routes_with_context also mounts every server function under
    // /api/… with the same context.
    let mut jobs = vec![spawn_billing_job(state.clone())];
    let deliverer = super::outgoing_webhooks::Deliverer::new(config.webhooks.clone())
        .map_err(StartupError::Usage)?;
    jobs.push(super::outgoing_webhooks::spawn(
        state.db.clone(),
        deliverer,
        (config.webhook_poll, stopping.clone()),
    ));
    if config.listen.ip().is_unspecified()
        && config.identity.public_url == format!("http://{}", config.listen)
    {
        tracing::warn!(
            "public_url is not set: links in emails lead to {}; set it to the address customers use",
            config.identity.public_url
        );
    }
    if let Some(smtp) = &config.smtp {
        if config.identity.from.contains("@billing-center.example>") {
            tracing::warn!(
                "email.from is the demo's address: set it to one your relay may send as"
            );
        }
        let mailer =
            super::mailer::Mailer::new(smtp, &config.identity.from).map_err(StartupError::Usage)?;
        jobs.push(spawn_mailer(state.clone(), mailer));
    }
    if let Some(addr) = config.metrics_listen {
        let handle = super::metrics::install().map_err(StartupError::Usage)?;
        let listener =
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| StartupError::Bind {
                    addr: addr.to_string(),
                    cause: e.to_string(),
                })?;
        tracing::info!("metrics on http://{addr}/metrics");
        jobs.push(super::metrics::spawn(listener, state.clone(), handle));
    }
    let app = router(state, site);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|e| StartupError::Bind {
            addr: addr.to_string(),
            cause: e.to_string(),
        })?;
    tracing::info!("billing-center listening on http://{addr}");
    // Without TCP_NODELAY a response written in two parts (headers, then a
    // file body) waits out the client's delayed ACK: 40 ms per static file
    // (found by the benchmark's static baseline).
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    // Stops accepting at the signal and returns once the requests in
    // flight are answered.
    .with_graceful_shutdown(async move {
        stop.on_signal().await;
        stopping.wait().await;
    })
    .await
    .map_err(|e| StartupError::Bind {
        addr: addr.to_string(),
        cause: e.to_string(),
    })?;
    // Then the jobs finish what they hold: a billing-run batch, a round of
    // deliveries.
    let finished = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        futures::future::join_all(jobs),
    )
    .await;
    match finished {
        Ok(_) => tracing::info!("stopped"),
        Err(_) => tracing::warn!("stopped with a background job still running after 60 s"),
    }
    Ok(())
}
