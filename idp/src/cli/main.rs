//! The `idp` command: parse the command line, load the settings, call into the library. Each
//! resource's subcommands live in their own file next to this one (`client.rs`, `user.rs`, …).

mod audit;
mod client;
mod group;
mod keys;
mod user;
mod user_ops;

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use idp::admin;
use idp::app::{App, AppOptions};
use idp::config::Config;

use audit::AuditCommand;
use client::ClientCommand;
use group::GroupCommand;
use keys::KeysCommand;
use user::UserCommand;

#[derive(Parser)]
#[command(name = "idp", version, about = "OpenID Connect identity provider")]
struct Cli {
    /// Settings file (TOML); IDP_* environment variables override it.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// Register the example relying party and a demo user, and print how to try them.
        #[arg(long)]
        demo: bool,
        /// Where the example relying party runs (demo mode).
        #[arg(long, default_value = "http://127.0.0.1:9090")]
        demo_rp_url: String,
    },
    /// Create or update the database schema, then exit.
    Migrate,
    /// Manage relying parties.
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage groups of users (applications may admit only some groups: the client setting
    /// allowed_groups; the groups scope releases them).
    Group {
        #[command(subcommand)]
        command: GroupCommand,
    },
    /// Manage the signing keys (JWKS).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Read the audit trail (search, export as JSON lines).
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

pub(crate) fn read_stdin_line() -> anyhow::Result<String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).context("reading standard input")?;
    let line = input.lines().next().unwrap_or_default().to_owned();
    anyhow::ensure!(!line.is_empty(), "nothing on standard input");
    Ok(line)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("IDP_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve { demo, demo_rp_url } => serve(config, demo, &demo_rp_url).await,
        Command::Migrate => {
            let store =
                idp::store::sql::SqlStore::open_with_timeout(&config.database_url, config.database_timeout).await?;
            // Logins written before the PRECIS rule (issue #10): normalised where unambiguous,
            // skeletons filled in; the rest is reported and left working as it was.
            let findings = store.migrate_logins().await?;
            for finding in &findings {
                println!("to review: {finding}");
            }
            if !findings.is_empty() {
                println!(
                    "{} login(s) left as they were (see docs/decisions/0014-login-normalisation.md)",
                    findings.len()
                );
            }
            println!("database is up to date");
            Ok(())
        }
        Command::Client { command } => client::client(config, command).await,
        Command::User { command } => user::user(config, command).await,
        Command::Group { command } => group::group(config, command).await,
        Command::Keys { command } => keys::keys(config, command).await,
        Command::Audit { command } => audit::audit(config, command).await,
    }
}

async fn serve(config: Config, demo: bool, demo_rp_url: &str) -> anyhow::Result<()> {
    let issuer = config.issuer.clone();
    let app = App::build(config, AppOptions::default()).await?;
    if demo {
        let password = admin::seed_demo(&app.services(), demo_rp_url.trim_end_matches('/')).await?;
        println!("\nDemo mode");
        println!("  Example application: run `cargo run -p demo-rp`, then open {demo_rp_url}");
        println!("  Account space:       {issuer}/account");
        println!("  Sign in with:        login `{}`, password `{}`\n", admin::DEMO_LOGIN, password.expose());
    }
    tracing::info!(address = %app.local_addr()?, %issuer, "identity provider listening");
    app.serve(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
