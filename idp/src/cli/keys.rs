//! `idp keys …`: the signing keys (JWKS).

use std::sync::Arc;

use clap::Subcommand;
use idp::admin::actor::Actor;
use idp::clock::SystemClock;
use idp::config::Config;
use idp::domain::SigningAlg;

#[derive(Subcommand)]
pub enum KeysCommand {
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

pub async fn keys(config: Config, command: KeysCommand) -> anyhow::Result<()> {
    let services = idp::app::services(&config, Arc::new(SystemClock)).await?;
    match command {
        KeysCommand::List => {
            println!("kid\talg\tstate\tcreated\tactivated\tretired\tpublished_until");
            let date = |t: Option<i64>| t.map(idp::clock::rfc3339).unwrap_or_else(|| "-".into());
            for k in idp::admin::system::list_keys(&services, &Actor::cli())? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    k.kid,
                    k.alg,
                    k.state,
                    date(Some(k.created_at)),
                    date(k.activated_at),
                    date(k.retired_at),
                    date(k.published_until)
                );
            }
            Ok(())
        }
        KeysCommand::Rotate { alg, force } => {
            let alg = alg.map(|a| a.parse::<SigningAlg>().map_err(|e| anyhow::anyhow!("--alg: {e}"))).transpose()?;
            for r in idp::admin::system::rotate_keys(&services, &Actor::cli(), alg, force).await? {
                println!("{}: {} is now active; {} is the next key (published now)", r.alg, r.activated, r.next);
            }
            println!("every node picks the change up within {} s", idp::oidc::keys::RELOAD_INTERVAL);
            Ok(())
        }
    }
}
