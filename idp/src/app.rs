//! `App::build(Config)`: the only place that picks backends (SQLite or PostgreSQL, in-process
//! or Redis, outbox or SMTP) and reads the whole configuration.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::account::password::PasswordHasher;
use crate::account_space;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::ephemeral::Ephemeral;
use crate::ephemeral::memory::MemoryEphemeral;
use crate::ephemeral::redis::RedisEphemeral;
use crate::mail::render::MailRenderer;
use crate::mail::{Mailer, OutboxMailer, SmtpMailer};
use crate::master_key::MasterKey;
use crate::oidc::keys::{self, Keys};
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
    limits: crate::config::ServerLimits,
}

/// Opens the backends the settings name and loads the keys: what the CLI needs without the
/// web server.
pub async fn services(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Services> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating the data directory {}", config.data_dir.display()))?;
    let store: Arc<dyn Store> = Arc::new(
        SqlStore::open_with_timeout(&config.database_url, config.database_timeout)
            .await
            .with_context(|| "opening the database (IDP_DATABASE_URL)".to_owned())?,
    );
    let ephemeral: Arc<dyn Ephemeral> = match &config.redis_url {
        Some(url) => Arc::new(
            RedisEphemeral::connect_with_timeout(url, &config.redis_prefix, config.redis_timeout)
                .await
                .context("connecting to Redis (IDP_REDIS_URL)")?,
        ),
        None => Arc::new(MemoryEphemeral::new()),
    };
    let mailer: Arc<dyn Mailer> = match &config.smtp_url {
        Some(url) => Arc::new(SmtpMailer::new(url, &config.mail_from).context("SMTP settings (IDP_SMTP_URL)")?),
        None => {
            Arc::new(OutboxMailer::new(&config.outbox_dir, &config.mail_from).context("mail outbox (IDP_OUTBOX_DIR)")?)
        }
    };
    let sms: Arc<dyn crate::sms::SmsSender> = match &config.recovery.sms_webhook_url {
        Some(url) => Arc::new(crate::sms::WebhookSms::new(url).context("SMS gateway (recovery.sms_webhook_url)")?),
        None => {
            let dir = config.recovery.sms_outbox_dir.clone().unwrap_or_else(|| config.data_dir.join("sms-outbox"));
            Arc::new(crate::sms::OutboxSms::new(&dir).context("SMS outbox (recovery.sms_outbox_dir)")?)
        }
    };
    let now = clock.now();
    let master = master_key(config)?;
    let keys = Keys::start(store.as_ref(), master.clone(), &config.lifetimes, now)
        .await
        .context("loading the signing keys")?;
    let csrf_key =
        store.server_secret("csrf_key", &crate::crypto::random_token(32), now).await.context("loading the CSRF key")?;
    let parallelism = std::thread::available_parallelism().map(usize::from).unwrap_or(2);
    let passwords = PasswordHasher::new(config.argon2, parallelism).context("argon2 parameters")?;
    let refresh_key = store
        .server_secret("refresh_successor_key", &crate::crypto::random_token(32), now)
        .await
        .context("loading the refresh token key")?;
    let mail_renderer = MailRenderer::load(&config.themes_dir, &config.default_theme, &config.time_zone)
        .with_context(|| format!("loading the mail templates from {}", config.themes_dir.display()))?;
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
        refresh_key: refresh_key.into_bytes(),
        user_types: config.user_types.clone(),
        mail_renderer,
        login_throttle: config.login_throttle,
        lockout: config.lockout,
        pending_throttle: config.pending_throttle,
        password_checks: config.password_checks,
        login_in_flight: crate::account::in_flight::InFlight::new(
            config.login_throttle.ip_max_in_flight,
            config.login_throttle.ip_queue,
            crate::account::in_flight::MAX_ADDRESSES,
        ),
        secret_questions: config.secret_questions.clone(),
        master_key: master,
        recovery: config.recovery.clone(),
        admin: config.admin,
        time_zone: config.time_zone.clone(),
        sms,
        // Issue #11: each protocol's logout propagation, called when a browser session ends.
        session_listeners: vec![
            Arc::new(crate::oidc::session_end::OidcLogout),
            Arc::new(crate::cas::single_logout::CasLogout),
        ],
    };
    for space in [account_space::ACCOUNT, account_space::ADMIN_CONSOLE] {
        services
            .store
            .upsert_client(&account_space::client(&space, &config.issuer, now))
            .await
            .with_context(|| format!("registering the {} client", space.client_id))?;
    }
    Ok(services)
}

/// The master key of the signing keys: from the settings; else, in the embedded setup (SQLite),
/// the one in `<data_dir>/master.key`, created on first start. Nodes sharing a PostgreSQL
/// database must share the key, so there it must be set.
pub fn master_key(config: &Config) -> anyhow::Result<MasterKey> {
    if let Some(key) = &config.master_key {
        return Ok(key.clone());
    }
    if !config.database_url.starts_with("sqlite:") {
        anyhow::bail!(
            "master_key (IDP_MASTER_KEY) is required with PostgreSQL: every node must encrypt the signing keys with the same key (e.g. `openssl rand -base64 32`)"
        );
    }
    Ok(MasterKey::load_or_create(&config.data_dir.join("master.key"))?)
}

/// Reloads the signing keys every `keys::RELOAD_INTERVAL` seconds while the services live, so a
/// rotation made on another node or by the CLI reaches this one.
fn spawn_key_reloader(services: std::sync::Weak<Services>) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(std::time::Duration::from_secs(keys::RELOAD_INTERVAL as u64));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval.tick().await;
        loop {
            interval.tick().await;
            let Some(services) = services.upgrade() else { break };
            if let Err(err) = services.reload_keys().await {
                tracing::error!(error = %err, "reloading the signing keys failed; the previous set stays in use");
            }
        }
    });
}

/// Sends the password-expiry warnings every `password_expiry_check_interval` seconds while the
/// services live (`account::expiry_warning`); the first run comes one interval after start.
fn spawn_expiry_warnings(services: std::sync::Weak<Services>, every: i64) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(std::time::Duration::from_secs(every.max(1) as u64));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval.tick().await;
        loop {
            interval.tick().await;
            let Some(services) = services.upgrade() else { break };
            match crate::account::expiry_warning::run_once(&services).await {
                Ok(sent) => tracing::info!(sent, "password-expiry warnings sent"),
                Err(err) => tracing::error!(error = %err, "the password-expiry warning job failed; next run later"),
            }
        }
    });
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
        let services = Arc::new(services);
        spawn_key_reloader(Arc::downgrade(&services));
        spawn_expiry_warnings(Arc::downgrade(&services), config.lifetimes.password_expiry_check_interval);
        let state = AppState {
            services,
            themes: Arc::new(themes),
            cookies: CookieNames::new(config.secure_cookies),
            default_theme: config.default_theme.clone(),
            proxies: Arc::new(config.proxies.clone()),
        };
        Ok(Self { state, listener, max_body_bytes: config.max_body_bytes, limits: config.server_limits })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn services(&self) -> Arc<Services> {
        self.state.services.clone()
    }

    pub fn router(&self) -> axum::Router {
        web::router(self.state.clone(), self.max_body_bytes, self.limits.body_timeout)
    }

    /// Serves until `shutdown` resolves, then finishes the requests under way (`web::server`:
    /// header, body and idle timeouts, a connection cap). The back-channel
    /// logout workers (OpenID Connect and CAS), the mail queue worker and the audit retention purge
    /// run alongside and stop with the server.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let router = self.router();
        let http = crate::oidc::backchannel::http_client().map_err(std::io::Error::other)?;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let worker =
            tokio::spawn(crate::oidc::backchannel::run(self.state.services.clone(), http.clone(), stopped.clone()));
        let cas_worker =
            tokio::spawn(crate::cas::single_logout::run(self.state.services.clone(), http, stopped.clone()));
        let mail_worker = tokio::spawn(crate::mail::queue::run(self.state.services.clone(), stopped.clone()));
        let propagation_worker =
            tokio::spawn(crate::account::recovery::propagation::run(self.state.services.clone(), stopped.clone()));
        let retention_worker = tokio::spawn(crate::admin::audit::run_retention(self.state.services.clone(), stopped));
        let served = web::server::serve(self.listener, router, self.limits, shutdown).await;
        let _ = stop.send(true);
        let _ = worker.await;
        let _ = cas_worker.await;
        let _ = mail_worker.await;
        let _ = propagation_worker.await;
        let _ = retention_worker.await;
        served
    }
}
