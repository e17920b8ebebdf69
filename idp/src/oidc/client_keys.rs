//! Where a `private_key_jwt` client's public keys come from: its registered `jwks` (inline JWK
//! Set) or its `jwks_uri`, fetched over HTTP(S). Fetched sets are cached in the ephemeral store
//! (shared by every node) for `CACHE_TTL`; a JWS naming a `kid` the cache does not know causes
//! one refetch, at most once per `REFETCH_EVERY` per client, so forged `kid`s cannot turn this
//! server into a cannon aimed at the client's host. Redirects are never followed, every fetch
//! has timeouts and a size cap.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::jwk::{self, Jwk};
use crate::domain::Client;
use crate::domain::client::ClientSettings;
use crate::ephemeral::{self, EphemeralError};
use crate::services::Services;

/// How long a fetched key set is trusted before it is fetched again.
pub const CACHE_TTL: Duration = Duration::from_secs(300);
/// At most one refetch for an unknown `kid` per client in this time.
pub const REFETCH_EVERY: Duration = Duration::from_secs(10);
const TIMEOUT: Duration = Duration::from_secs(5);
/// A JWK Set larger than this is refused (a handful of RSA keys is a few kilobytes).
const MAX_BYTES: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ClientKeyError {
    #[error("the client has registered no keys (jwks or jwks_uri)")]
    NoKeys,
    #[error("the client's keys could not be fetched: {0}")]
    Fetch(String),
    #[error("the client's key set is malformed")]
    Malformed,
    #[error(transparent)]
    Ephemeral(#[from] EphemeralError),
}

/// A client's keys, and whether they came from a cache that a refetch could refresh.
pub struct ClientKeys {
    pub keys: Vec<Jwk>,
    pub cached: bool,
}

#[derive(Serialize, Deserialize)]
struct CachedSet {
    uri: String,
    document: Value,
}

fn cache_key(client_id: &str) -> String {
    format!("client_jwks:{client_id}")
}

fn refetch_key(client_id: &str) -> String {
    format!("client_jwks_refetch:{client_id}")
}

/// Registration rules: exactly one of `jwks` and `jwks_uri` (OpenID Connect Dynamic Client
/// Registration §2: they "MUST NOT both be present"); an inline set with at least one usable
/// signature key; a `jwks_uri` on https, or http to a loopback host (tests, development), or
/// any http when insecure URIs are explicitly allowed.
pub fn check_registration(settings: &ClientSettings, allow_insecure_http: bool) -> Result<(), String> {
    match (&settings.jwks, &settings.jwks_uri) {
        (Some(_), Some(_)) => Err("set jwks or jwks_uri, not both".into()),
        (None, None) => Err("a private_key_jwt client needs its public keys: --setting jwks=… or jwks_uri=…".into()),
        (Some(document), None) => match jwk::parse_set(document) {
            Ok(keys) if !keys.is_empty() => Ok(()),
            _ => Err("jwks must be a JWK Set ({\"keys\": […]}) with an RS256, ES256 or EdDSA signature key".into()),
        },
        (None, Some(uri)) => {
            let url = url::Url::parse(uri).map_err(|_| format!("jwks_uri {uri:?} is not an absolute URL"))?;
            let loopback = match url.host() {
                Some(url::Host::Domain(d)) => d == "localhost",
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            match url.scheme() {
                "https" => Ok(()),
                "http" if loopback || allow_insecure_http => Ok(()),
                _ => Err(format!("jwks_uri {uri:?} must be https")),
            }
        }
    }
}

/// The client's keys: the inline set, else the cached or freshly fetched `jwks_uri` set.
pub async fn keys_of(s: &Services, client: &Client) -> Result<ClientKeys, ClientKeyError> {
    if let Some(document) = &client.settings.jwks {
        return Ok(ClientKeys {
            keys: jwk::parse_set(document).map_err(|_| ClientKeyError::Malformed)?,
            cached: false,
        });
    }
    let uri = client.settings.jwks_uri.as_deref().ok_or(ClientKeyError::NoKeys)?;
    let cached: Option<CachedSet> = ephemeral::get_json(s.ephemeral.as_ref(), &cache_key(&client.id)).await?;
    // A changed registration invalidates what was fetched from the old URI.
    if let Some(set) = cached.filter(|set| set.uri == uri) {
        return Ok(ClientKeys {
            keys: jwk::parse_set(&set.document).map_err(|_| ClientKeyError::Malformed)?,
            cached: true,
        });
    }
    Ok(ClientKeys { keys: fetch_and_cache(s, &client.id, uri).await?, cached: false })
}

/// Fetches the `jwks_uri` set again, unless this client's keys were refetched a moment ago.
/// `None` when the refetch was skipped.
pub async fn refetch(s: &Services, client: &Client) -> Result<Option<Vec<Jwk>>, ClientKeyError> {
    let Some(uri) = client.settings.jwks_uri.as_deref() else {
        return Ok(None);
    };
    if s.ephemeral.incr(&refetch_key(&client.id), REFETCH_EVERY).await? != 1 {
        return Ok(None);
    }
    Ok(Some(fetch_and_cache(s, &client.id, uri).await?))
}

async fn fetch_and_cache(s: &Services, client_id: &str, uri: &str) -> Result<Vec<Jwk>, ClientKeyError> {
    let document = fetch(uri).await.map_err(|e| {
        tracing::warn!(client_id, error = %e, "fetching the client's jwks_uri failed");
        e
    })?;
    let keys = jwk::parse_set(&document).map_err(|_| ClientKeyError::Malformed)?;
    let set = CachedSet { uri: uri.to_owned(), document };
    ephemeral::put_json(s.ephemeral.as_ref(), &cache_key(client_id), &set, CACHE_TTL).await?;
    Ok(keys)
}

async fn fetch(uri: &str) -> Result<Value, ClientKeyError> {
    let fail = |e: &dyn std::fmt::Display| ClientKeyError::Fetch(e.to_string());
    let http = crate::http::client("client keys", TIMEOUT).map_err(|e| fail(&e))?;
    let mut response =
        http.get(uri).header(reqwest::header::ACCEPT, "application/json").send().await.map_err(|e| fail(&e))?;
    if !response.status().is_success() {
        return Err(fail(&format!("HTTP status {}", response.status())));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| fail(&e))? {
        if body.len() + chunk.len() > MAX_BYTES {
            return Err(fail(&"the key set is too large"));
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|_| ClientKeyError::Malformed)
}
