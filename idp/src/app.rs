//! `App::build(Config)`: the only place that picks backends (SQLite or PostgreSQL, in-process
//! or Redis, outbox or SMTP) and reads the whole configuration.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::account::password::PasswordHasher;
use crate::account::space;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::ephemeral::Ephemeral;
use crate::ephemeral::memory::MemoryEphemeral;
use crate::ephemeral::redis::RedisEphemeral;
use crate::mail::{Mailer, OutboxMailer, SmtpMailer};
use crate::oidc::keys::KeySet;
use crate::services::Services;
use crate::store::Store;
use crate::store::sql::SqlStore;
use crate::theme::Themes;
use crate::web::{self, AppState, CookieNames};

/// Choices the tests (and embedders) make that are not settings.
#[derive(Default)]
pub struct AppOptions {
    /// The clock; the system clock when `None`.
    pub clock: Option<Arc<dyn Clock>>,
    /// An already bound listener (tests bind 127.0.0.1:0 first to know the issuer).
    pub listener: Option<TcpListener>,
}

pub struct App {
    state: AppState,
    listener: TcpListener,
    max_body_bytes: usize,
}

/// Opens the backends the settings name and loads the keys: what the CLI needs without the
/// web server.
pub async fn services(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Services> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating the data directory {}", config.data_dir.display()))?;
    let store: Arc<dyn Store> = Arc::new(
        SqlStore::open(&config.database_url)
            .await
            .with_context(|| "opening the database (IDP_DATABASE_URL)".to_owned())?,
    );
    let ephemeral: Arc<dyn Ephemeral> = match &config.redis_url {
        Some(url) => Arc::new(
            RedisEphemeral::connect(url, &config.redis_prefix).await.context("connecting to Redis (IDP_REDIS_URL)")?,
        ),
        None => Arc::new(MemoryEphemeral::new()),
    };
    let mailer: Arc<dyn Mailer> = match &config.smtp_url {
        Some(url) => Arc::new(SmtpMailer::new(url, &config.mail_from).context("SMTP settings (IDP_SMTP_URL)")?),
        None => {
            Arc::new(OutboxMailer::new(&config.outbox_dir, &config.mail_from).context("mail outbox (IDP_OUTBOX_DIR)")?)
        }
    };
    let now = clock.now();
    let keys = KeySet::load_or_generate(store.as_ref(), now).await.context("loading the signing keys")?;
    let csrf_key =
        store.server_secret("csrf_key", &crate::crypto::random_token(32), now).await.context("loading the CSRF key")?;
    let parallelism = std::thread::available_parallelism().map(usize::from).unwrap_or(2);
    let passwords = PasswordHasher::new(config.argon2, parallelism).context("argon2 parameters")?;
    let services = Services {
        store,
        ephemeral,
        clock,
        keys,
        passwords,
        mailer,
        issuer: config.issuer.clone(),
        lifetimes: config.lifetimes,
        csrf_key: csrf_key.into_bytes(),
    };
    services
        .store
        .upsert_client(&space::client(&config.issuer, now))
        .await
        .context("registering the account space client")?;
    Ok(services)
}

impl App {
    pub async fn build(config: Config, options: AppOptions) -> anyhow::Result<Self> {
        let clock = options.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let themes = Themes::load(&config.themes_dir)
            .with_context(|| format!("loading themes from {}", config.themes_dir.display()))?;
        if !themes.has_theme(&config.default_theme) {
            anyhow::bail!("the default theme {:?} is not in {}", config.default_theme, config.themes_dir.display());
        }
        let services = services(&config, clock).await?;
        let listener = match options.listener {
            Some(l) => l,
            None => {
                TcpListener::bind(config.listen).await.with_context(|| format!("listening on {}", config.listen))?
            }
        };
        let state = AppState {
            services: Arc::new(services),
            themes: Arc::new(themes),
            cookies: CookieNames::new(config.secure_cookies),
            default_theme: config.default_theme.clone(),
        };
        Ok(Self { state, listener, max_body_bytes: config.max_body_bytes })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn services(&self) -> Arc<Services> {
        self.state.services.clone()
    }

    pub fn router(&self) -> axum::Router {
        web::router(self.state.clone(), self.max_body_bytes)
    }

    /// Serves until `shutdown` resolves, then finishes the requests under way.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let router = self.router();
        axum::serve(self.listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await
    }
}
