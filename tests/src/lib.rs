//! Test harness: spawns the identity provider in-process on `127.0.0.1:0` with a fresh
//! database per test (a temporary SQLite file, or a fresh PostgreSQL schema when
//! `IDP_TEST_POSTGRES_URL` is set) and fresh ephemeral state (in-process, or a fresh Redis key
//! prefix when `IDP_TEST_REDIS_URL` is set), plus a scripted browser and an `openidconnect`
//! relying party to drive it. When those variables are set and the servers are unreachable the
//! tests fail: they never fall back silently.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod browser;
pub mod captcha;
pub mod mail;
pub mod rp;
pub mod smtp;

use std::sync::Arc;

use idp::admin::{self, ClientSpec, UserSpec};
use idp::app::{App, AppOptions};
use idp::clock::ManualClock;
use idp::config::{Config, RawConfig};
use idp::domain::{Client, Secret, User};
use idp::services::Services;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use browser::Browser;

/// Test passwords hash with small argon2 parameters: the suite checks behaviour, the bench
/// measures speed with the real ones.
pub const FAST_ARGON2: (u32, u32, u32) = (1024, 1, 1);

pub const PASSWORD: &str = "Correct-horse-battery-1";

pub struct TestApp {
    pub issuer: String,
    pub services: Arc<Services>,
    pub clock: Arc<ManualClock>,
    pub config: Config,
    _dir: tempfile::TempDir,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Which backends this run uses, from the environment.
pub fn backends() -> (Option<String>, Option<String>) {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    (var("IDP_TEST_POSTGRES_URL"), var("IDP_TEST_REDIS_URL"))
}

fn random_name() -> String {
    idp::crypto::random_token(9).to_lowercase().replace(['-', '_'], "x")
}

/// A database URL for a fresh, empty database: a temporary SQLite file, or a new schema in
/// the PostgreSQL database under test.
pub async fn fresh_database_url(dir: &std::path::Path) -> String {
    match backends().0 {
        None => format!("sqlite:{}", dir.join("idp.db").display()),
        Some(url) => {
            let schema = format!("t_{}", random_name());
            let admin =
                sqlx::PgPool::connect(&url).await.expect("IDP_TEST_POSTGRES_URL is set but PostgreSQL is unreachable");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&admin).await.unwrap();
            admin.close().await;
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}options=-c%20search_path%3D{schema}")
        }
    }
}

pub struct Setup {
    pub theme_dir: Option<std::path::PathBuf>,
    pub tweak: Box<dyn FnOnce(&mut RawConfig) + Send>,
    /// Another app's database (`app.config.database_url`), to run two nodes on one database;
    /// a fresh database when `None`. The nodes must share `master_key` (set it in `tweak`).
    pub database_url: Option<String>,
}

impl Default for Setup {
    fn default() -> Self {
        Self { theme_dir: None, tweak: Box::new(|_| {}), database_url: None }
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(Setup::default()).await
    }

    pub async fn spawn_with(setup: Setup) -> Self {
        Self::try_spawn_with(setup).await.expect("the app starts")
    }

    /// As `spawn_with`, but a failed start is returned, for the tests of start-up errors.
    pub async fn try_spawn_with(setup: Setup) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let (postgres, redis) = backends();
        let mut raw = RawConfig {
            issuer: issuer.clone(),
            data_dir: dir.path().to_path_buf(),
            database_url: Some(match setup.database_url {
                Some(url) => url,
                None => fresh_database_url(dir.path()).await,
            }),
            // PostgreSQL has no embedded master key file (see `idp::app::master_key`).
            master_key: postgres.as_ref().map(|_| idp::master_key::MasterKey::generate().encode()),
            redis_url: redis,
            redis_prefix: format!("t_{}:", random_name()),
            argon2_m_cost: FAST_ARGON2.0,
            argon2_t_cost: FAST_ARGON2.1,
            argon2_p_cost: FAST_ARGON2.2,
            themes_dir: setup.theme_dir,
            ..RawConfig::default()
        };
        (setup.tweak)(&mut raw);
        let config = Config::validate(raw).unwrap();
        let clock = Arc::new(ManualClock::starting_now());
        let app =
            App::build(config.clone(), AppOptions { clock: Some(clock.clone()), listener: Some(listener) }).await?;
        let services = app.services();
        let (tx, rx) = oneshot::channel();
        tokio::spawn(app.serve(async {
            let _ = rx.await;
        }));
        Ok(TestApp { issuer, services, clock, config, _dir: dir, shutdown: Some(tx) })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// A confidential client (client_secret_basic) with `redirect_uri`; returns its secret.
    pub async fn confidential_client(&self, id: &str, redirect_uri: &str) -> (Client, String) {
        let spec = ClientSpec {
            id: id.into(),
            name: format!("Client {id}"),
            redirect_uris: vec![redirect_uri.into()],
            post_logout_redirect_uris: vec![format!("{redirect_uri}/bye")],
            grants: vec!["authorization_code".into(), "refresh_token".into()],
            ..ClientSpec::default()
        };
        let (client, secret) = self.client(spec).await;
        (client, secret.unwrap())
    }

    pub async fn client(&self, spec: ClientSpec) -> (Client, Option<String>) {
        let (client, secret) = admin::add_client(&self.services, &spec).await.unwrap();
        (client, secret.map(|s| s.expose().to_owned()))
    }

    pub async fn user(&self, login: &str) -> User {
        let spec = UserSpec {
            login: login.into(),
            email: format!("{login}@example.org"),
            given_name: "Alice".into(),
            family_name: "Martin".into(),
            ..UserSpec::default()
        };
        admin::add_user(&self.services, &spec, &Secret::new(PASSWORD)).await.unwrap()
    }
}

/// A fake relying party redirect URI on a port nobody listens on: the tests read the
/// redirect's Location instead of following it.
pub const RP_CALLBACK: &str = "https://rp.example/callback";

impl TestApp {
    /// The user's live browser sessions, as the provider keeps them.
    pub async fn sessions_of(&self, user_id: &str) -> Vec<idp::session::BrowserSession> {
        idp::session::list_for_user(&self.services, user_id).await.unwrap()
    }
}
