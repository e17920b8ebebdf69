//! `demo-rp` binary: reads the configuration from the environment, waits for
//! the IdP's discovery document, and serves the demo relying party.
//!
//! Environment: `DEMO_RP_ISSUER`, `DEMO_RP_CLIENT_ID`, `DEMO_RP_CLIENT_SECRET`,
//! `DEMO_RP_BASE_URL`, `DEMO_RP_SCOPES` (see `demo_rp::Config::from_env`),
//! `DEMO_RP_LISTEN` (default `127.0.0.1:9090`) and `RUST_LOG`.

use std::time::Duration;

use anyhow::Context as _;
use tracing_subscriber::EnvFilter;

const DEFAULT_LISTEN: &str = "127.0.0.1:9090";
/// Discovery attempts before giving up: the IdP is often started at the same
/// time (e.g. by a script or compose file) and may need a few seconds.
const DISCOVERY_ATTEMPTS: u32 = 5;
const DISCOVERY_RETRY_DELAY: Duration = Duration::from_secs(2);
const START_IDP_HINT: &str = "start the IdP first: cargo run -p idp -- serve --demo";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        // Logs on stderr, like any diagnostics; stdout stays free.
        .with_writer(std::io::stderr)
        .init();

    let config = demo_rp::Config::from_env();
    let listen = std::env::var("DEMO_RP_LISTEN")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
    tracing::info!(?config, "starting demo relying party");

    let mut attempt = 1;
    let app = loop {
        match demo_rp::router(config.clone()).await {
            Ok(app) => break app,
            Err(err) if attempt < DISCOVERY_ATTEMPTS => {
                tracing::warn!(
                    "IdP not ready at {} (attempt {attempt}/{DISCOVERY_ATTEMPTS}): {err:#}; {START_IDP_HINT}",
                    config.issuer
                );
                attempt += 1;
                tokio::time::sleep(DISCOVERY_RETRY_DELAY).await;
            }
            Err(err) => {
                return Err(err.context(format!("cannot reach the IdP at {} ({START_IDP_HINT})", config.issuer)));
            }
        }
    };

    let listener =
        tokio::net::TcpListener::bind(&listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!("demo RP listening on {listen}; open {} in a browser", config.base_url);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            // If the signal handler cannot be installed, run until killed.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        })
        .await
        .context("server error")
}
