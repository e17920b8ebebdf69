//! `idp client …`: register, list, show, update, remove relying parties (OIDC and CAS), rotate
//! their secrets, and issue the initial access tokens of dynamic registration (issue #12).

use std::sync::Arc;

use anyhow::Context;
use clap::Subcommand;
use idp::admin::actor::Actor;
use idp::admin::clients::{self, ClientUpdate};
use idp::admin::{self, ClientSpec, when};
use idp::clock::SystemClock;
use idp::config::Config;
use idp::domain::Secret;

use crate::read_stdin_line;

// Parsed once per run: the size of the `Add` variant costs nothing worth boxing it for.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
pub enum ClientCommand {
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
    /// Every registered client: id, authentication method, redirect URIs.
    List,
    /// One client's registration (never its secret).
    Show { id: String },
    /// Change a registration; only the options given change (a repeatable option given once
    /// replaces the whole list). Same validation as `client add`.
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        #[arg(long = "grant")]
        grants: Vec<String>,
        /// key=value laid over the current settings (repeatable); key=null unsets an option.
        #[arg(long = "setting")]
        settings: Vec<String>,
        #[arg(long = "cas-service")]
        cas_services: Vec<String>,
        /// Only users of these types may sign in (repeatable).
        #[arg(long = "allowed-user-type")]
        allowed_user_types: Vec<String>,
        /// Only members of these groups may sign in (repeatable).
        #[arg(long = "allowed-group")]
        allowed_groups: Vec<String>,
        /// true: skip the consent page; false: ask for consent.
        #[arg(long)]
        first_party: Option<bool>,
        /// A theme; an empty value goes back to the default.
        #[arg(long)]
        theme: Option<String>,
        #[arg(long)]
        allow_insecure_http: bool,
    },
    /// Print a new secret once; the old one keeps working for the overlap.
    RotateSecret {
        id: String,
        /// How long the old secret keeps working: seconds, or 15m, 24h, 7d (secret_overlap by
        /// default); 0 stops it at once.
        #[arg(long)]
        overlap: Option<String>,
    },
    /// Delete a client registration.
    Remove { id: String },
    /// Print an RFC 7591 initial access token for POST /register once (dynamic_registration
    /// must be on). Single use unless --uses says more.
    RegistrationToken {
        /// Lifetime: seconds, or 15m, 1h, 7d.
        #[arg(long, default_value = "1h")]
        ttl: String,
        /// Registrations it allows.
        #[arg(long, default_value_t = 1)]
        uses: i64,
    },
}

pub async fn client(config: Config, command: ClientCommand) -> anyhow::Result<()> {
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
            let (client, secret) = clients::create_client(&services, &Actor::cli(), &spec).await?;
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
        ClientCommand::Update {
            id,
            name,
            redirect_uris,
            post_logout_redirect_uris,
            grants,
            settings,
            cas_services,
            allowed_user_types,
            allowed_groups,
            first_party,
            theme,
            allow_insecure_http,
        } => {
            let given = |v: Vec<String>| (!v.is_empty()).then_some(v);
            let current = services.store.client(&id).await?.with_context(|| format!("no client {id:?}"))?;
            let settings =
                if settings.is_empty() { None } else { Some(clients::merge_settings(&current.settings, &settings)?) };
            let update = ClientUpdate {
                name,
                redirect_uris: given(redirect_uris),
                post_logout_redirect_uris: given(post_logout_redirect_uris),
                grants: given(grants),
                settings,
                allowed_user_types: given(allowed_user_types).map(Some),
                allowed_groups: given(allowed_groups).map(Some),
                cas_services: given(cas_services),
                first_party,
                theme,
                allow_insecure_http: allow_insecure_http || config.allow_insecure_redirect_uris,
            };
            clients::update_client(&services, &Actor::cli(), &id, &update).await?;
            println!("client {id} updated");
            Ok(())
        }
        ClientCommand::RotateSecret { id, overlap } => {
            let overlap = overlap.as_deref().map(when::parse_duration).transpose()?;
            let (secret, until) = clients::rotate_client_secret(&services, &Actor::cli(), &id, overlap).await?;
            println!("client_secret: {}", secret.expose());
            println!("(shown once: only its digest is stored)");
            println!("the previous secret works until {}", idp::clock::rfc3339(until));
            Ok(())
        }
        ClientCommand::RegistrationToken { ttl, uses } => {
            let ttl = when::parse_duration(&ttl)?;
            let (token, until) = clients::issue_registration_token(&services, &Actor::cli(), ttl, uses).await?;
            if !config.admin.dynamic_registration {
                eprintln!("note: dynamic_registration is off; /register answers 404 until it is on");
            }
            println!("initial_access_token: {}", token.expose());
            println!("(shown once; good for {uses} registration(s) until {})", idp::clock::rfc3339(until));
            Ok(())
        }
        ClientCommand::Remove { id } => {
            match clients::delete_client(&services, &Actor::cli(), &id).await {
                Err(admin::AdminError::NotFound(_)) => anyhow::bail!("no client {id:?}"),
                other => other?,
            }
            println!("client {id} removed");
            Ok(())
        }
    }
}
