//! The command line: `billing-center [serve|migrate|--help]`.

use std::process::ExitCode;

use super::config::Config;
use super::startup;

const HELP: &str = "billing-center: self-service billing center

USAGE:
    billing-center [COMMAND]

COMMANDS:
    serve        Run the web server (default)
    migrate      Create or upgrade the database schema, then exit
    seed-demo    Create the demo accounts (password billing-demo) if absent
    bill [--as-of YYYY-MM-DD]
                 Run the billing run once: renewals, ends of trials and terms,
                 payment retries (default: now, in each account's time zone)
    backup FILE  Copy the database into FILE (SQLite: online, VACUUM INTO;
                 PostgreSQL: pg_dump custom format)
    restore FILE Replace the database with FILE (SQLite: stop the server
                 first; PostgreSQL: pg_restore --clean)
    api-key create NAME
                 Make a key of the operator API (/api/v1), shown once
    api-key list List the keys: id, name, prefix, created, last used, revoked
    api-key revoke ID
                 Revoke a key: requests with it are refused from now on
    help         Show this help

ENVIRONMENT:
    DATABASE_URL      sqlite://PATH (default sqlite://data/billing-center.db) or postgres://USER@HOST:PORT/DB
    CATALOG_PATH      product catalog file (default catalog.toml)
    SMTP_URL          smtp://host:port to deliver emails (unset: kept in the outbox, shown at /billing/mailbox)
    LEPTOS_SITE_ADDR  listen address (default 127.0.0.1:3000)
    BC_PUBLIC_URL     the address users reach the billing center at (links in emails and portal links)
    BC_RETURN_ORIGINS origins a portal link's return_url may lead to, comma separated
    RUST_LOG          log level (default info)
";

async fn seed(config: &Config) -> Result<(), startup::StartupError> {
    let (db, _) = startup::prepare(config).await?;
    let today = super::clock::local_date(config.clock().now(), "Europe/Paris");
    match super::seed::seed_demo(&db, today).await {
        Ok(true) => println!(
            "demo data created (password: {})",
            super::seed::DEMO_PASSWORD
        ),
        Ok(false) => println!("demo data already present"),
        Err(e) => return Err(startup::StartupError::Seed(e.to_string())),
    }
    Ok(())
}

async fn bill(config: &Config, args: &[String]) -> Result<(), startup::StartupError> {
    use super::billing_run::{AsOf, run_timed};
    let as_of = match args {
        [] => AsOf::Now,
        [flag, date] if flag == "--as-of" => AsOf::Date(date.parse().map_err(|_| {
            startup::StartupError::Usage(format!(
                "--as-of wants a date like 2026-11-26, got \"{date}\""
            ))
        })?),
        _ => {
            return Err(startup::StartupError::Usage(
                "usage: billing-center bill [--as-of YYYY-MM-DD]".into(),
            ));
        }
    };
    let state = startup::offline_state(config).await?;
    let started = std::time::Instant::now();
    let (report, times) = run_timed(&state, as_of)
        .await
        .map_err(|e| startup::StartupError::Seed(e.to_string()))?;
    println!(
        "billing run: {} renewed, {} failed payments, {} trials ended, {} terms ended, {} expired after retries, {} skipped (changed meanwhile), {} reminders sent, {} abandoned orders released",
        report.renewed,
        report.failed_payments,
        report.trials_ended,
        report.terms_ended,
        report.expired_after_retries,
        report.skipped_changed,
        report.reminders_sent,
        report.orders_abandoned
    );
    for (subscription, reason) in &report.skipped_invalid {
        println!("skipped subscription {subscription}: {reason}");
    }
    if report.refunds_retried + report.refunds_failing > 0 {
        println!(
            "refunds: {} given back now, {} still refused by the gateway (payment_attempts, status refund_failed)",
            report.refunds_retried, report.refunds_failing
        );
    }
    let purged = super::purge::run(&state)
        .await
        .map_err(|e| startup::StartupError::Seed(e.to_string()))?;
    if purged > 0 {
        println!("{purged} expired sessions, links, tokens and idempotency records deleted");
    }
    let ms = |d: std::time::Duration| d.as_millis();
    println!(
        "took {} ms: reading {} ms, planning {} ms, writing {} ms",
        ms(started.elapsed()),
        ms(times.reading),
        ms(times.planning),
        ms(times.writing)
    );
    Ok(())
}

async fn api_key(config: &Config, args: &[String]) -> Result<(), startup::StartupError> {
    use crate::db::api;
    let usage = || {
        startup::StartupError::Usage(
            "usage: billing-center api-key create NAME | api-key list | api-key revoke ID".into(),
        )
    };
    let (db, _) = startup::prepare(config).await?;
    let now = config.clock().now();
    match args {
        [cmd, name] if cmd == "create" => {
            let name = crate::domain::text::line(name, 100)
                .ok()
                .filter(|n| !n.is_empty())
                .ok_or_else(|| {
                    startup::StartupError::Usage(
                        "the key's name must be 1 to 100 printable characters".into(),
                    )
                })?;
            let (id, key) = super::api_keys::create(&db, name, now).await?;
            println!("api key {id} ({name}) created. It is shown this once; keep it secret:");
            println!("{key}");
        }
        [cmd] if cmd == "list" => {
            for k in api::keys(&db).await? {
                println!(
                    "{}\t{}\t{}…\tcreated {}\tlast used {}\t{}",
                    k.id,
                    k.name,
                    k.prefix,
                    k.created_at,
                    k.last_used_at.as_deref().unwrap_or("never"),
                    k.revoked_at
                        .map_or("active".into(), |r| format!("revoked {r}"))
                );
            }
        }
        [cmd, id] if cmd == "revoke" => {
            let id: crate::domain::ApiKeyId = id.parse().map_err(|_| usage())?;
            if api::revoke_key(&db, id, &crate::db::instant_text(now)).await? {
                println!("api key {id} revoked");
            } else {
                return Err(startup::StartupError::Usage(format!(
                    "no active api key {id} (see billing-center api-key list)"
                )));
            }
        }
        _ => return Err(usage()),
    }
    Ok(())
}

pub async fn run(args: Vec<String>, site: startup::Site) -> ExitCode {
    let config = Config::from_env();
    let command = args.get(1).map(String::as_str).unwrap_or("serve");
    let result = match command {
        "serve" => startup::serve(config, site).await,
        "migrate" => startup::prepare(&config).await.map(|_| {
            println!("database is up to date");
        }),
        "seed-demo" => seed(&config).await,
        "bill" => bill(&config, &args[2..]).await,
        "api-key" => api_key(&config, &args[2..]).await,
        "backup" | "restore" => match args.get(2) {
            Some(file) if args.len() == 3 => {
                let file = std::path::Path::new(file);
                let done = if command == "backup" {
                    super::backup::backup(&config.database_url, file).await
                } else {
                    super::backup::restore(&config.database_url, file).await
                };
                done.map(|()| println!("{command}: done ({})", file.display()))
            }
            _ => Err(startup::StartupError::Usage(format!(
                "usage: billing-center {command} FILE"
            ))),
        },
        "help" | "--help" | "-h" => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        other => {
            eprintln!("error: unknown command \"{other}\"\n\n{HELP}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One clear line, no panic, no backtrace.
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
