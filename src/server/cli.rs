//! The command line (`billing-center --help`): the server, the database's
//! upkeep, and the operator's commands for keys, webhooks, accounts and
//! users.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use super::config::Config;
use super::startup;

/// The settings and their variables, under `--help`.
fn environment() -> String {
    let mut out = String::from(
        "CONFIGURATION:\n  --config FILE or BC_CONFIG=FILE: a billing-center.toml (`config example` prints one).\n  \
         Each key can be set by its environment variable instead, which wins over the file:\n",
    );
    for k in super::config::keys::KEYS {
        out.push_str(&format!("  {:<26} {}\n", k.env, k.name));
    }
    out.push_str(
        "  BC_LOG_FORMAT              json: one JSON object per log line (default: text)\n",
    );
    out.push_str("  RUST_LOG                   log level (default info)");
    out
}

#[derive(Parser, Debug)]
#[command(
    name = "billing-center",
    version,
    about = "Self-hosted billing center for SaaS subscriptions: the customer portal, the billing run, the operator API.",
    after_help = environment()
)]
pub struct Cli {
    /// The configuration file (default: BC_CONFIG, else none: the defaults
    /// and the environment)
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the web server (the default)
    Serve,
    /// Create or upgrade the database schema, then exit
    Migrate,
    /// Create the demo accounts (password billing-demo) if absent
    SeedDemo,
    /// Run the billing run once: renewals, ends of trials and terms, payment
    /// retries, reminders; then delete expired sessions and tokens
    Bill {
        /// The day to bill as of (default: now, in each account's time zone)
        #[arg(long, value_name = "YYYY-MM-DD")]
        as_of: Option<chrono::NaiveDate>,
    },
    /// Copy the database into FILE (SQLite: online, VACUUM INTO; PostgreSQL: pg_dump)
    Backup {
        /// Where the copy goes
        file: PathBuf,
    },
    /// Replace the database with FILE (SQLite: stop the server first; PostgreSQL: pg_restore --clean)
    Restore {
        /// A file `backup` made
        file: PathBuf,
    },
    /// Keys of the operator API (/api/v1)
    #[command(subcommand)]
    ApiKey(ApiKeyCommand),
    /// Endpoints of the seller's application that receive signed webhooks
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Customer accounts: create one, or import many from a CSV file
    #[command(subcommand)]
    Account(AccountCommand),
    /// Users of an account
    #[command(subcommand)]
    User(UserCommand),
    /// The configuration file: check one, or print a commented example
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Subcommand, Debug)]
enum ConfigCommand {
    /// Validate the configuration (the file and the environment) without
    /// starting; prints what it sets, or the first problem
    Check,
    /// Print a commented billing-center.toml with every key
    Example,
}

#[derive(Subcommand, Debug)]
enum ApiKeyCommand {
    /// Make a key, shown once (only its hash is kept)
    Create {
        /// What the key is for (shown in `api-key list`)
        name: String,
    },
    /// List the keys: id, name, prefix, created, last used, revoked
    List,
    /// Revoke a key: requests with it are refused from now on
    Revoke {
        /// The key's id (`api-key list`)
        id: i64,
    },
}

#[derive(Subcommand, Debug)]
enum WebhookCommand {
    /// Register URL; prints its signing secret (whsec_…), shown once
    Add {
        /// An absolute http(s) URL of the seller's application
        url: String,
        /// Event types, comma separated (default: all). Known:
        /// account.updated, subscription.created, subscription.updated,
        /// subscription.canceled, subscription.expired, trial.will_end,
        /// invoice.created, invoice.paid, payment.failed
        #[arg(long, value_name = "TYPE,…")]
        events: Option<String>,
    },
    /// List the endpoints with their last deliveries' state
    List,
    /// Stop delivering to an endpoint (its queued events are dropped)
    Remove {
        /// The endpoint's id (`webhook list`)
        id: i64,
    },
}

#[derive(Subcommand, Debug)]
enum AccountCommand {
    /// Create an account and its billing contact
    Create {
        #[arg(long)]
        name: String,
        /// ISO country code (FR, DE, …)
        #[arg(long)]
        country: String,
        /// The billing contact's email and name
        #[arg(long)]
        contact_email: String,
        #[arg(long)]
        contact_name: String,
        /// online (default) or corporate
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        vat_number: Option<String>,
        /// IANA time zone (default UTC)
        #[arg(long)]
        time_zone: Option<String>,
        /// en (default) or fr
        #[arg(long)]
        language: Option<String>,
        /// The seller application's own id of the account
        #[arg(long)]
        external_id: Option<String>,
        /// Email the billing contact an invitation to set a password
        #[arg(long)]
        invite: bool,
    },
    /// Import accounts and billing contacts from a CSV file, all or nothing
    #[command(long_about = IMPORT_HELP)]
    Import {
        /// The CSV file
        file: PathBuf,
        /// Email each billing contact an invitation to set a password
        #[arg(long)]
        invite: bool,
    },
}

const IMPORT_HELP: &str = "Import accounts and billing contacts from a CSV file, all or nothing: \
every bad row is named with its line and field, and then nothing is written.

The file is UTF-8, comma-separated, with a header line naming the columns in any order. \
Required: name, country, contact_email, contact_name. Optional: kind (online, corporate), \
vat_number, time_zone, language, address_line1, address_line2, postcode, city, external_id, \
representative_name, representative_email, representative_phone (a Corporate account needs its representative).";

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// Email a user of an account an invitation to set a password (24 hours);
    /// the user is added as a member first if the account has no such user
    Invite {
        #[arg(long)]
        account: i64,
        #[arg(long)]
        email: String,
        /// The new user's name (default: the email's local part)
        #[arg(long)]
        name: Option<String>,
    },
}

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

async fn bill(
    config: &Config,
    as_of: Option<chrono::NaiveDate>,
) -> Result<(), startup::StartupError> {
    use super::billing_run::{AsOf, run_timed};
    let as_of = as_of.map_or(AsOf::Now, AsOf::Date);
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

async fn api_key(config: &Config, command: ApiKeyCommand) -> Result<(), startup::StartupError> {
    use crate::db::api;
    let (db, _) = startup::prepare(config).await?;
    let now = config.clock().now();
    match command {
        ApiKeyCommand::Create { name } => {
            let name = crate::domain::text::line(&name, 100)
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
        ApiKeyCommand::List => {
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
        ApiKeyCommand::Revoke { id } => {
            let id = crate::domain::ApiKeyId::new(id);
            if api::revoke_key(&db, id, &crate::db::instant_text(now)).await? {
                println!("api key {id} revoked");
            } else {
                return Err(startup::StartupError::Usage(format!(
                    "no active api key {id} (see billing-center api-key list)"
                )));
            }
        }
    }
    Ok(())
}

async fn webhook(config: &Config, command: WebhookCommand) -> Result<(), startup::StartupError> {
    use crate::db::webhooks;
    use crate::domain::event::EventFilter;
    let usage = startup::StartupError::Usage;
    let (db, _) = startup::prepare(config).await?;
    match command {
        WebhookCommand::Add { url, events } => {
            let url = super::outgoing_webhooks::checked_url(&url)
                .map_err(|e| usage(format!("the URL {e}")))?;
            let filter = EventFilter::parse(events.as_deref().unwrap_or("*")).map_err(usage)?;
            let secret = super::outgoing_webhooks::signature::new_secret();
            let id = webhooks::insert_endpoint(&db, &url, &secret, &filter).await?;
            println!(
                "webhook endpoint {id} added for {url} (events: {})",
                filter.code()
            );
            println!("Its signing secret, shown this once:");
            println!("{secret}");
        }
        WebhookCommand::List => {
            for e in webhooks::endpoints(&db).await? {
                let last = webhooks::deliveries(&db, e.id, None, 1).await?;
                let last = last.first().map_or("no delivery yet".to_string(), |d| {
                    format!(
                        "last: {} {} ({} attempts)",
                        d.event_type.code(),
                        d.state,
                        d.attempts
                    )
                });
                let state = e
                    .disabled_at
                    .map_or("active".into(), |d| format!("removed {d}"));
                println!("{}\t{}\t{}\t{state}\t{last}", e.id, e.url, e.events.code());
            }
        }
        WebhookCommand::Remove { id } => {
            let id = crate::domain::WebhookEndpointId::new(id);
            let mut tx = db.begin_write().await?;
            if !webhooks::disable_endpoint_in(&mut tx, id).await? {
                return Err(usage(format!(
                    "no active webhook endpoint {id} (see billing-center webhook list)"
                )));
            }
            tx.commit().await?;
            println!("webhook endpoint {id} removed");
        }
    }
    Ok(())
}

async fn account(config: &Config, command: AccountCommand) -> Result<(), startup::StartupError> {
    let state = startup::offline_state(config).await?;
    let currency = state.catalog.currency;
    let usage = startup::StartupError::Usage;
    // Where the rows come from, named in each problem reported.
    let (rows, invite, source) = match command {
        AccountCommand::Create {
            name,
            country,
            contact_email,
            contact_name,
            kind,
            vat_number,
            time_zone,
            language,
            external_id,
            invite,
        } => {
            let fields = super::accounts::AccountFields {
                name,
                country,
                kind,
                vat_number,
                time_zone,
                language,
                external_id,
                ..Default::default()
            };
            let account = fields
                .validate(currency)
                .map_err(|e| usage(e.to_string()))?;
            let contact_email = crate::domain::Email::parse(&contact_email)
                .map_err(|e| usage(format!("contact_email: {e}")))?;
            let contact_name = super::accounts::text("contact_name", &contact_name, 200)
                .map_err(|e| usage(e.to_string()))?
                .ok_or_else(|| usage("contact_name: must not be empty".into()))?;
            let row = super::import::ImportRow {
                line: 0,
                account,
                contact_email,
                contact_name,
            };
            (vec![row], invite, PathBuf::from("account create"))
        }
        AccountCommand::Import { file, invite } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| usage(format!("cannot read {}: {e}", file.display())))?;
            match super::import::parse(&text, currency) {
                Ok(rows) => (rows, invite, file),
                Err(errors) => return Err(import_failed(&file, &errors)),
            }
        }
    };
    match super::import::import(&state, &rows, invite).await {
        Ok(n) => {
            let invited = if invite {
                ", each invited by email"
            } else {
                ""
            };
            println!("{n} account(s) created with their billing contact{invited}");
            Ok(())
        }
        Err(super::import::ImportError::Rows(errors)) => Err(import_failed(&source, &errors)),
        Err(super::import::ImportError::Db(e)) => Err(e.into()),
    }
}

/// Every problem on its own line (stderr), then the one-line error.
fn import_failed(
    file: &std::path::Path,
    errors: &[super::import::RowError],
) -> startup::StartupError {
    for e in errors {
        eprintln!("{}: {e}", file.display());
    }
    startup::StartupError::Usage(format!(
        "{} problem(s) in {}; nothing was imported",
        errors.len(),
        file.display()
    ))
}

async fn user(config: &Config, command: UserCommand) -> Result<(), startup::StartupError> {
    use crate::db::accounts;
    let usage = startup::StartupError::Usage;
    let UserCommand::Invite {
        account,
        email,
        name,
    } = command;
    let state = startup::offline_state(config).await?;
    let email = crate::domain::Email::parse(&email).map_err(|e| usage(format!("email: {e}")))?;
    let account = accounts::find_account(&state.db, crate::domain::AccountId::new(account))
        .await?
        .ok_or_else(|| usage(format!("no account {account}")))?;
    let mut tx = state.db.begin_write().await?;
    let existing = accounts::users_in(&mut tx, account.id)
        .await?
        .into_iter()
        .find(|u| u.email == email);
    let user = match existing {
        Some(u) => u,
        None => {
            if accounts::find_login(&state.db, email.as_str())
                .await?
                .is_some()
            {
                return Err(usage(format!("{email} is a user of another account")));
            }
            let local = email
                .as_str()
                .split('@')
                .next()
                .unwrap_or_default()
                .to_string();
            let name = super::accounts::text("name", name.as_deref().unwrap_or(&local), 200)
                .map_err(|e| usage(e.to_string()))?
                .unwrap_or(local);
            let id = accounts::insert_user_in(
                &mut tx,
                account.id,
                (email.as_str(), &name, accounts::NO_PASSWORD, false),
            )
            .await?;
            accounts::UserRecord {
                id,
                account_id: account.id,
                email: email.clone(),
                name,
                is_billing_contact: false,
            }
        }
    };
    let expires =
        super::passwords::invite_in(&mut tx, &state, &account, &user, "billing-center").await?;
    tx.commit().await?;
    println!(
        "invitation emailed to {email} (user {}), valid until {expires}",
        user.id
    );
    Ok(())
}

/// `config check`: what `serve` would read besides the database (the
/// catalog and the help), then a summary.
fn check(config: &Config) -> Result<(), startup::StartupError> {
    config.catalog()?;
    config.help().map_err(startup::StartupError::Usage)?;
    let file = config
        .file
        .as_ref()
        .map_or("no configuration file".to_string(), |f| {
            f.display().to_string()
        });
    println!("{file}: ok");
    println!("{}", config.summary());
    Ok(())
}

pub async fn run(args: Vec<String>, site: startup::Site) -> ExitCode {
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print and succeed; a usage error exits 2.
            let _ = e.print();
            return match e.use_stderr() {
                true => ExitCode::from(2),
                false => ExitCode::SUCCESS,
            };
        }
    };
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Config(ConfigCommand::Example) = command {
        print!("{}", super::config::keys::example());
        return ExitCode::SUCCESS;
    }
    let config = match Config::from_process(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match command {
        Command::Config(_) => check(&config),
        Command::Serve => startup::serve(config, site).await,
        Command::Migrate => startup::prepare(&config).await.map(|_| {
            println!("database is up to date");
        }),
        Command::SeedDemo => seed(&config).await,
        Command::Bill { as_of } => bill(&config, as_of).await,
        Command::ApiKey(c) => api_key(&config, c).await,
        Command::Webhook(c) => webhook(&config, c).await,
        Command::Account(c) => account(&config, c).await,
        Command::User(c) => user(&config, c).await,
        Command::Backup { file } => super::backup::backup(&config.database_url, &file)
            .await
            .map(|()| println!("backup: done ({})", file.display())),
        Command::Restore { file } => super::backup::restore(&config.database_url, &file)
            .await
            .map(|()| println!("restore: done ({})", file.display())),
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
