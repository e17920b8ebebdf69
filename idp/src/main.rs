//! The `idp` command: parse the command line, load the settings, call into the library.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use idp::admin::{self, ClientSpec, UserSpec, UserStart};
use idp::app::{App, AppOptions};
use idp::clock::SystemClock;
use idp::config::Config;
use idp::domain::{Secret, SigningAlg};

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
}

#[derive(Subcommand)]
enum GroupCommand {
    /// Create a group; the id is a short slug (letters, digits, '-', '_', '.').
    Add {
        #[arg(long)]
        id: String,
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Add a user to a group.
    AddMember {
        #[arg(long)]
        group: String,
        #[arg(long)]
        login: String,
    },
    /// Remove a user from a group: their next sign-in or refresh for an application restricted
    /// to it is refused.
    RemoveMember {
        #[arg(long)]
        group: String,
        #[arg(long)]
        login: String,
    },
    /// Print every group: id, member count, name.
    List,
    /// Print a group and the logins of its members.
    Show {
        #[arg(long)]
        id: String,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Print every published key: kid, algorithm, state (next, active, retired) and dates.
    List,
    /// Promote each next key to active, retire the active one and publish a new next key.
    Rotate {
        /// Only this algorithm: RS256, ES256 or EdDSA (all of them by default).
        #[arg(long)]
        alg: Option<String>,
        /// Promote a next key even if it was published too recently for every relying party
        /// to have fetched it.
        #[arg(long)]
        force: bool,
    },
}

// Parsed once per run: the size of the `Add` variant costs nothing worth boxing it for.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum ClientCommand {
    /// Register a client; a confidential client's secret is printed once.
    Add {
        #[arg(long)]
        id: String,
        #[arg(long, default_value = "")]
        name: String,
        /// A public client (no secret; PKCE required).
        #[arg(long)]
        public: bool,
        /// Read the secret from standard input instead of generating one.
        #[arg(long)]
        secret_stdin: bool,
        /// Required with the authorization_code grant (repeatable).
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// authorization_code, refresh_token, client_credentials (repeatable).
        #[arg(long = "grant")]
        grants: Vec<String>,
        /// client_secret_basic (default), client_secret_post, private_key_jwt (with
        /// --setting jwks=… or jwks_uri=…; no secret), none (public clients).
        #[arg(long)]
        auth_method: Option<String>,
        /// ID token signature: RS256 (default), ES256, EdDSA.
        #[arg(long)]
        signing_alg: Option<String>,
        #[arg(long)]
        theme: Option<String>,
        /// Skip the consent page for this client.
        #[arg(long)]
        first_party: bool,
        /// Allow http redirect URIs to hosts other than loopback (never in production).
        #[arg(long)]
        allow_insecure_http: bool,
        /// Further options as key=value (repeatable), e.g. access_token_format=jwt,
        /// jwks_uri=https://…, subject_type=pairwise; see `ClientSettings`.
        #[arg(long = "setting")]
        settings: Vec<String>,
        /// A CAS service URL this client answers for (repeatable): exact, or a prefix when it
        /// ends with `/`. A client with CAS services only needs no --redirect-uri.
        #[arg(long = "cas-service")]
        cas_services: Vec<String>,
    },
    List,
    Show {
        id: String,
    },
    Remove {
        id: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; without --password-stdin, --provisional or --activation-link a password
    /// is generated and printed once.
    Add {
        #[arg(long)]
        login: String,
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "")]
        given_name: String,
        #[arg(long, default_value = "")]
        family_name: String,
        #[arg(long, default_value = "usager")]
        user_type: String,
        /// `phone_number` claim (scope phone), e.g. +33 1 23 45 67 89.
        #[arg(long)]
        phone_number: Option<String>,
        /// Postal address, one line (the `formatted` member of the `address` claim, scope address).
        #[arg(long)]
        address: Option<String>,
        /// Date of birth, YYYY-MM-DD, asked with an alternate identifier during recovery.
        #[arg(long)]
        birth_date: Option<String>,
        /// An alternate identifier for recovery, kind=value (e.g. student_number=22001234);
        /// repeatable, one value per kind.
        #[arg(long = "identifier", value_name = "KIND=VALUE")]
        identifiers: Vec<String>,
        #[arg(long, conflicts_with_all = ["provisional", "activation_link"])]
        password_stdin: bool,
        /// E-mail a provisional password (changed at the first sign-in, valid
        /// provisional_password_lifetime); nothing secret is printed.
        #[arg(long, conflicts_with = "activation_link")]
        provisional: bool,
        /// E-mail an activation link through which the user chooses a password (valid
        /// activation_link_lifetime, single use).
        #[arg(long)]
        activation_link: bool,
    },
    /// Administrator reset: e-mail a new provisional password; the old one and every session
    /// stop working.
    ResetPassword {
        #[arg(long)]
        login: String,
    },
    /// Create users from a CSV file with the header login,email,given_name,family_name,user_type
    /// (an empty user_type: the default one), optionally followed by the columns birth_date
    /// (YYYY-MM-DD) and identifiers (kind=value;kind=value); every row is checked before any is
    /// written, then each user gets an activation link by e-mail.
    Import {
        #[arg(long)]
        file: PathBuf,
    },
}

fn read_stdin_line() -> anyhow::Result<String> {
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
        Command::Client { command } => client(config, command).await,
        Command::User { command } => user(config, command).await,
        Command::Group { command } => group(config, command).await,
        Command::Keys { command } => keys(config, command).await,
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

async fn client(config: Config, command: ClientCommand) -> anyhow::Result<()> {
    let services = idp::app::services(&config, Arc::new(SystemClock)).await?;
    match command {
        ClientCommand::Add {
            id,
            name,
            public,
            secret_stdin,
            redirect_uris,
            post_logout_redirect_uris,
            grants,
            auth_method,
            signing_alg,
            theme,
            first_party,
            allow_insecure_http,
            settings,
            cas_services,
        } => {
            let secret = if secret_stdin { Some(Secret::new(read_stdin_line()?)) } else { None };
            let spec = ClientSpec {
                id,
                name,
                public,
                secret,
                redirect_uris,
                post_logout_redirect_uris,
                grants,
                auth_method,
                id_token_alg: signing_alg,
                theme,
                first_party,
                allow_insecure_http: allow_insecure_http || config.allow_insecure_redirect_uris,
                settings: admin::parse_settings(&settings)?,
                cas_services,
            };
            let (client, secret) = admin::add_client(&services, &spec).await?;
            println!("client {} registered ({})", client.id, client.auth_method);
            if let (Some(secret), false) = (secret, secret_stdin) {
                println!("client_secret: {}", secret.expose());
                println!("(shown once: only its digest is stored)");
            }
            Ok(())
        }
        ClientCommand::List => {
            for c in services.store.clients().await? {
                println!(
                    "{}\t{}\t{}\t{}",
                    c.id,
                    c.auth_method,
                    c.redirect_uris.iter().map(|u| u.as_str()).collect::<Vec<_>>().join(" "),
                    c.name
                );
            }
            Ok(())
        }
        ClientCommand::Show { id } => {
            let c = services.store.client(&id).await?.with_context(|| format!("no client {id:?}"))?;
            println!("id: {}\nname: {}\nauth_method: {}\npublic: {}", c.id, c.name, c.auth_method, c.is_public());
            for u in &c.redirect_uris {
                println!("redirect_uri: {}", u.as_str());
            }
            for u in &c.post_logout_redirect_uris {
                println!("post_logout_redirect_uri: {}", u.as_str());
            }
            println!("grant_types: {}", c.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(" "));
            println!(
                "id_token_signing_alg: {}\ntheme: {}\nfirst_party: {}",
                c.id_token_alg,
                c.theme.as_deref().unwrap_or("default"),
                c.first_party
            );
            println!("settings: {}", serde_json::to_string(&c.settings)?);
            Ok(())
        }
        ClientCommand::Remove { id } => {
            anyhow::ensure!(services.store.delete_client(&id).await?, "no client {id:?}");
            println!("client {id} removed");
            Ok(())
        }
    }
}

async fn user(config: Config, command: UserCommand) -> anyhow::Result<()> {
    let services = idp::app::services(&config, Arc::new(SystemClock)).await?;
    match command {
        UserCommand::Add {
            login,
            email,
            given_name,
            family_name,
            user_type,
            phone_number,
            address,
            birth_date,
            identifiers,
            password_stdin,
            provisional,
            activation_link,
        } => {
            let identifiers =
                identifiers.iter().map(|pair| admin::split_identifier(pair)).collect::<Result<Vec<_>, _>>()?;
            let (start, generated) = if provisional {
                (UserStart::Provisional, None)
            } else if activation_link {
                (UserStart::ActivationLink, None)
            } else if password_stdin {
                (UserStart::Password(Secret::new(read_stdin_line()?)), None)
            } else {
                let password = admin::generate_password();
                (UserStart::Password(password.clone()), Some(password))
            };
            let spec = UserSpec {
                login,
                email,
                given_name,
                family_name,
                user_type,
                phone_number: phone_number.filter(|p| !p.trim().is_empty()),
                address: address.filter(|a| !a.trim().is_empty()),
                birth_date: birth_date.filter(|d| !d.trim().is_empty()),
                identifiers,
            };
            let (user, sent) = admin::add_user_starting(&services, &spec, &start).await?;
            println!("user {} created (sub {})", user.login, user.id);
            if let Some(password) = generated {
                println!("password: {}", password.expose());
            }
            if let Some(sent) = sent {
                print_sent(
                    &user.login,
                    &user.email,
                    &sent,
                    if provisional { "provisional password" } else { "activation link" },
                )?;
            }
            Ok(())
        }
        UserCommand::Import { file } => {
            let csv = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let created = admin::import_users(&services, &csv).await?;
            let unsent: Vec<&str> =
                created.iter().filter(|(_, sent)| !sent.mailed).map(|(u, _)| u.login.as_str()).collect();
            for (user, sent) in &created {
                if sent.mailed {
                    println!("user {} created (sub {}), activation link e-mailed", user.login, user.id);
                }
            }
            println!("{} user(s) imported", created.len());
            anyhow::ensure!(
                unsent.is_empty(),
                "the activation link could not be e-mailed to {} (see the log); `idp user reset-password --login L` sends a provisional password instead",
                unsent.join(", ")
            );
            Ok(())
        }
        UserCommand::ResetPassword { login } => {
            let sent = admin::reset_password(&services, &login).await?;
            println!("password of {login} reset");
            print_sent(&login, "the user's address", &sent, "provisional password")
        }
    }
}

/// Says where a provisional password or activation link went, never what it is.
fn print_sent(login: &str, to: &str, sent: &idp::account::activation::Sent, what: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        sent.mailed,
        "the {what} could not be e-mailed to {to} (see the log); `idp user reset-password --login {login}` sends a new provisional password"
    );
    println!("{what} e-mailed to {to}, valid until {}", idp::clock::rfc3339(sent.expires_at));
    Ok(())
}

async fn group(config: Config, command: GroupCommand) -> anyhow::Result<()> {
    let services = idp::app::services(&config, Arc::new(SystemClock)).await?;
    match command {
        GroupCommand::Add { id, name } => {
            let group = admin::groups::add_group(&services, &id, &name).await?;
            println!("group {} created ({})", group.id, group.name);
        }
        GroupCommand::AddMember { group, login } => {
            if admin::groups::add_member(&services, &group, &login).await? {
                println!("{login} added to group {group}");
            } else {
                println!("{login} already is in group {group}");
            }
        }
        GroupCommand::RemoveMember { group, login } => {
            anyhow::ensure!(
                admin::groups::remove_member(&services, &group, &login).await?,
                "{login} is not in group {group}"
            );
            println!("{login} removed from group {group}");
        }
        GroupCommand::List => {
            for g in admin::groups::list_groups(&services).await? {
                println!("{}\t{}\t{}", g.id, g.members, g.name);
            }
        }
        GroupCommand::Show { id } => {
            let g = admin::groups::show_group(&services, &id).await?;
            println!("id: {}\nname: {}\ncreated: {}", g.id, g.name, idp::clock::rfc3339(g.created_at));
            for login in &g.members {
                println!("member: {login}");
            }
        }
    }
    Ok(())
}

async fn keys(config: Config, command: KeysCommand) -> anyhow::Result<()> {
    let services = idp::app::services(&config, Arc::new(SystemClock)).await?;
    match command {
        KeysCommand::List => {
            println!("kid\talg\tstate\tcreated\tactivated\tretired\tpublished_until");
            let date = |t: Option<i64>| t.map(idp::clock::rfc3339).unwrap_or_else(|| "-".into());
            for k in services.keys.list() {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    k.kid,
                    k.alg,
                    k.state.as_str(),
                    date(Some(k.created_at)),
                    date(k.activated_at),
                    date(k.retired_at),
                    date(k.published_until)
                );
            }
            Ok(())
        }
        KeysCommand::Rotate { alg, force } => {
            let algs = match alg {
                Some(a) => vec![a.parse::<SigningAlg>().map_err(|e| anyhow::anyhow!("--alg: {e}"))?],
                None => SigningAlg::ALL.to_vec(),
            };
            for alg in algs {
                let r = services.keys.rotate(services.store.as_ref(), alg, services.now(), force).await?;
                println!("{}: {} is now active; {} is the next key (published now)", r.alg, r.activated, r.next);
            }
            println!("every node picks the change up within {} s", idp::oidc::keys::RELOAD_INTERVAL);
            Ok(())
        }
    }
}
