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
    help         Show this help

ENVIRONMENT:
    DATABASE_URL      sqlite://PATH (default sqlite://data/billing-center.db) or postgres://USER@HOST:PORT/DB
    CATALOG_PATH      product catalog file (default catalog.toml)
    LEPTOS_SITE_ADDR  listen address (default 127.0.0.1:3000)
    RUST_LOG          log level (default info)
";

pub async fn run(args: Vec<String>) -> ExitCode {
    let config = Config::from_env();
    let command = args.get(1).map(String::as_str).unwrap_or("serve");
    let result = match command {
        "serve" => startup::serve(config).await,
        "migrate" => startup::prepare(&config).await.map(|_| {
            println!("database is up to date");
        }),
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
