//! `idp user …`: create, import, search, show, change and help users (issue #12: the same
//! library functions as the admin API, as `Actor::cli()`). The operations on one account are in
//! `user_ops`.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Subcommand;
use idp::admin::actor::{Actor, Role};
use idp::admin::import::{self, ImportReport, ImportedStart, KeycloakOptions};
use idp::admin::users::{self, ResetMethod, UserRef};
use idp::admin::{self, UserSpec, UserStart};
use idp::clock::SystemClock;
use idp::config::Config;
use idp::domain::Secret;

use crate::read_stdin_line;

#[derive(Subcommand)]
pub enum UserCommand {
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
        /// A role in the console and the admin API: admin, support, auditor.
        #[arg(long)]
        role: Option<String>,
    },
    /// Administrator reset: e-mail a new provisional password (or, with --activation-link, a
    /// link to choose one); the old one and every session stop working.
    ResetPassword {
        #[arg(long)]
        login: String,
        #[arg(long)]
        activation_link: bool,
    },
    /// Create users from a CSV file with the header login,email,given_name,family_name,user_type
    /// (an empty user_type: the default one), optionally followed by the columns birth_date
    /// (YYYY-MM-DD), identifiers (kind=value;kind=value) and password_hash (an existing bcrypt,
    /// argon2, Django PBKDF2 or OpenLDAP {SSHA} hash), or from a Keycloak realm export
    /// (--keycloak). Every user is checked before any is written, then all are written at
    /// once; a user with a password hash signs in with their old password, the others get an
    /// activation link by e-mail.
    Import {
        #[arg(long, required_unless_present = "keycloak", conflicts_with = "keycloak")]
        file: Option<PathBuf>,
        /// A Keycloak realm export (kc.sh export --realm R --file realm.json): users, their
        /// attributes, groups and password credentials.
        #[arg(long)]
        keycloak: Option<PathBuf>,
        /// Keycloak: the user type of users without the type attribute (default: the default type).
        #[arg(long)]
        user_type: Option<String>,
        /// Keycloak: the attribute naming the user type (default: user_type).
        #[arg(long)]
        user_type_attribute: Option<String>,
        /// Keycloak: an attribute imported as the alternate identifier of the same kind
        /// (e.g. student_number); repeatable.
        #[arg(long = "identifier-attribute", value_name = "ATTRIBUTE")]
        identifier_attributes: Vec<String>,
        /// Keycloak: skip OTP and WebAuthn credentials instead of refusing the file.
        #[arg(long)]
        skip_other_credentials: bool,
    },
    #[command(flatten)]
    Ops(crate::user_ops::UserOpsCommand),
}

pub async fn user(config: Config, command: UserCommand) -> anyhow::Result<()> {
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
            role,
        } => {
            let role = role.as_deref().map(Role::parse).transpose()?;
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
            if let Some(role) = role {
                users::set_role(&services, &Actor::cli(), &UserRef::Id(user.id.clone()), Some(role)).await?;
                println!("role: {}", role.as_str());
            }
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
        UserCommand::Import {
            file,
            keycloak,
            user_type,
            user_type_attribute,
            identifier_attributes,
            skip_other_credentials,
        } => {
            let read =
                |path: &PathBuf| std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()));
            let actor = Actor::cli();
            let report = match (file, keycloak) {
                (_, Some(realm)) => {
                    let options = KeycloakOptions {
                        user_type: user_type.unwrap_or_default(),
                        user_type_attribute,
                        identifier_attributes,
                        skip_other_credentials,
                    };
                    import::import_keycloak(&services, &actor, &read(&realm)?, &options).await?
                }
                (Some(file), None) => {
                    let keycloak_only = user_type.is_some()
                        || user_type_attribute.is_some()
                        || !identifier_attributes.is_empty()
                        || skip_other_credentials;
                    anyhow::ensure!(
                        !keycloak_only,
                        "--user-type, --user-type-attribute, --identifier-attribute and --skip-other-credentials go with --keycloak"
                    );
                    import::import_users_csv(&services, &actor, &read(&file)?).await?
                }
                (None, None) => anyhow::bail!("--file or --keycloak is required"),
            };
            print_import(&report)
        }
        UserCommand::ResetPassword { login, activation_link } => {
            let (method, what) = if activation_link {
                (ResetMethod::ActivationLink, "activation link")
            } else {
                (ResetMethod::ProvisionalPassword, "provisional password")
            };
            let sent =
                users::reset_user_password(&services, &Actor::cli(), &UserRef::Login(login.clone()), method).await?;
            println!("password of {login} reset");
            print_sent(&login, "the user's address", &sent, what)
        }
        UserCommand::Ops(command) => crate::user_ops::run(&services, command).await,
    }
}

/// Each account imported and how it starts; fails when an activation link could not be sent.
fn print_import(report: &ImportReport) -> anyhow::Result<()> {
    for group in &report.groups_created {
        println!("group {group} created");
    }
    let mut unsent = Vec::new();
    for account in &report.accounts {
        let user = &account.user;
        match &account.start {
            ImportedStart::PasswordHash { scheme } => {
                println!("user {} created (sub {}), password hash imported ({scheme})", user.login, user.id);
            }
            ImportedStart::ActivationLink(sent) if sent.mailed => {
                println!("user {} created (sub {}), activation link e-mailed", user.login, user.id);
            }
            ImportedStart::ActivationLink(_) => unsent.push(user.login.as_str()),
        }
    }
    println!("{} user(s) imported", report.accounts.len());
    anyhow::ensure!(
        unsent.is_empty(),
        "the activation link could not be e-mailed to {} (see the log); `idp user reset-password --login L` sends a provisional password instead",
        unsent.join(", ")
    );
    Ok(())
}

/// Says where a provisional password or activation link went, never what it is.
pub fn print_sent(login: &str, to: &str, sent: &idp::account::activation::Sent, what: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        sent.mailed,
        "the {what} could not be e-mailed to {to} (see the log); `idp user reset-password --login {login}` sends a new provisional password"
    );
    println!("{what} e-mailed to {to}, valid until {}", idp::clock::rfc3339(sent.expires_at));
    Ok(())
}
