//! OpenID Connect Back-Channel Logout 1.0: when a browser session ends, every client of it that
//! registered a `backchannel_logout_uri` is sent a logout token (§2.4), server to server.
//!
//! Delivery is durable: `enqueue` writes one row per client to the store's queue in the same
//! call that ends the session, and a worker (`run`, spawned by `App::serve`, stopped with it)
//! claims due rows, signs a fresh token and POSTs it (§2.5), retrying with backoff. Rows are
//! claimed atomically in the store, so with several nodes each token is sent by one of them.
//! What the logged-out page shows (front-channel iframes) lives in `frontchannel`.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};

use super::subject;
use crate::crypto;
use crate::domain::{Client, RedirectUri};
use crate::services::{InfraError, Services};
use crate::session::BrowserSession;
use crate::store::LogoutDelivery;

/// §2.4: the event that makes a JWT a logout token.
pub const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// §2.4: the `typ` header, so a logout token is never mistaken for an ID token (RFC 8725 §3.11).
pub const TYP: &str = "logout+jwt";
/// §2.4: a short expiry, two minutes or less recommended.
const TOKEN_TTL: i64 = 120;
/// Delay before attempt n+1 after n failed attempts; after the last one the delivery is given up
/// (about 2 h 40 in all).
const BACKOFF: [i64; 7] = [1, 5, 30, 300, 1800, 3600, 3600];
/// How long a claimed row is ours: longer than a send can take (timeouts below).
const CLAIM: i64 = 60;
/// How often the worker looks for due rows.
const POLL: Duration = Duration::from_secs(1);
const BATCH: i64 = 20;

#[derive(Serialize)]
struct LogoutClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
    jti: &'a str,
    sub: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<&'a str>,
    events: Value,
}

/// Queues a logout token for each client of `session` with a `backchannel_logout_uri`. Called
/// only by the OIDC listener of ended sessions (`oidc::session_end`).
pub async fn enqueue(s: &Services, session: &BrowserSession) -> Result<usize, InfraError> {
    let now = s.now();
    let mut deliveries = Vec::new();
    for client_id in &session.clients {
        let Some(client) = s.store.client(client_id).await? else { continue };
        if client.settings.backchannel_logout_uri.is_none() {
            continue;
        }
        deliveries.push(LogoutDelivery {
            id: crypto::random_token(24),
            client_id: client.id.clone(),
            user_id: session.user_id.clone(),
            sid: session.sid.clone(),
            created_at: now,
            attempts: 0,
            next_attempt_at: now,
        });
    }
    s.store.enqueue_logouts(&deliveries).await?;
    Ok(deliveries.len())
}

/// §2.4: the logout token for one delivery: `iss`, `aud`, `iat`, `exp`, `jti`, `sub` (as this
/// client sees the user), `sid` when the client registered `backchannel_logout_session_required`,
/// `events`, and never a `nonce` (§2.4: it MUST NOT contain one). Signed like the client's ID
/// tokens.
pub async fn logout_token(s: &Services, client: &Client, delivery: &LogoutDelivery) -> Result<String, InfraError> {
    let now = s.now();
    let sub = subject::for_client(s, &delivery.user_id, client).await?;
    let claims = LogoutClaims {
        iss: &s.issuer,
        aud: &client.id,
        iat: now,
        exp: now + TOKEN_TTL,
        jti: &delivery.id,
        sub: &sub,
        sid: client.settings.backchannel_logout_session_required.then_some(delivery.sid.as_str()),
        events: json!({ EVENT: {} }),
    };
    let alg = client.id_token_alg;
    let key = s.keys.active(alg).ok_or_else(|| InfraError::Signing(format!("no active {alg} key")))?;
    key.sign_jwt(TYP, &claims).map_err(|e| InfraError::Signing(e.to_string()))
}

/// Registration rules for the logout URIs (checked by `admin::build_client`): absolute http(s)
/// URLs without fragment (Back-Channel Logout 1.0 §2.2, Front-Channel Logout 1.0 §2), https or
/// loopback http unless insecure URIs are allowed (as for redirect URIs), and a
/// `frontchannel_logout_uri` on the scheme, host and port of a redirect URI (Front-Channel §2).
pub fn check_logout_uris(client: &Client, allow_insecure_http: bool) -> Result<(), String> {
    let settings = &client.settings;
    for (name, uri) in [
        ("backchannel_logout_uri", &settings.backchannel_logout_uri),
        ("frontchannel_logout_uri", &settings.frontchannel_logout_uri),
    ] {
        let Some(uri) = uri else { continue };
        RedirectUri::parse(uri, allow_insecure_http).map_err(|e| format!("{name}: {e}"))?;
        if !uri.starts_with("https://") && !uri.starts_with("http://") {
            return Err(format!("{name} {uri:?} must be an http(s) URL"));
        }
    }
    if let Some(uri) = &settings.frontchannel_logout_uri {
        let origin = |u: &str| url::Url::parse(u).ok().map(|u| u.origin());
        if !client.redirect_uris.iter().any(|r| origin(r.as_str()) == origin(uri)) {
            return Err(format!(
                "frontchannel_logout_uri {uri:?} must have the scheme, host and port of a redirect URI"
            ));
        }
    }
    Ok(())
}

/// The HTTP client of the worker: no redirects (§2.5 names one URL), short timeouts.
pub fn http_client() -> reqwest::Result<reqwest::Client> {
    crate::http::client("back-channel logout", Duration::from_secs(15))
}

enum Sent {
    Delivered,
    /// Worth trying again later (network error, 5xx, 408, 429).
    Retry(String),
    /// The client refused the token (another 4xx): trying again would not help.
    Refused(u16),
}

async fn send(http: &reqwest::Client, uri: &str, token: &str) -> Sent {
    match http.post(uri).form(&[("logout_token", token)]).send().await {
        Ok(response) => {
            let status = response.status();
            if status.is_success() {
                Sent::Delivered
            } else if status.is_client_error() && status.as_u16() != 408 && status.as_u16() != 429 {
                Sent::Refused(status.as_u16())
            } else {
                Sent::Retry(format!("HTTP {status}"))
            }
        }
        Err(err) => Sent::Retry(err.without_url().to_string()),
    }
}

/// One pass of the worker: claims the due deliveries and sends them. Returns how many were
/// claimed.
pub async fn deliver_due(s: &Services, http: &reqwest::Client) -> Result<usize, InfraError> {
    let now = s.now();
    let claimed = s.store.claim_due_logouts(now, now + CLAIM, BATCH).await?;
    let count = claimed.len();
    for delivery in claimed {
        deliver(s, http, &delivery).await?;
    }
    Ok(count)
}

async fn deliver(s: &Services, http: &reqwest::Client, delivery: &LogoutDelivery) -> Result<(), InfraError> {
    let client = s.store.client(&delivery.client_id).await?;
    let Some((client, uri)) = client.and_then(|c| c.settings.backchannel_logout_uri.clone().map(|u| (c, u))) else {
        // The client was removed or no longer asks for back-channel logout.
        s.store.finish_logout(&delivery.id).await?;
        return Ok(());
    };
    let token = logout_token(s, &client, delivery).await?;
    match send(http, &uri, &token).await {
        Sent::Delivered => {
            tracing::info!(client_id = %client.id, jti = %delivery.id, attempts = delivery.attempts, "back-channel logout delivered");
            s.store.finish_logout(&delivery.id).await?;
        }
        Sent::Refused(status) => {
            tracing::warn!(client_id = %client.id, jti = %delivery.id, status, "back-channel logout refused by the client; not retried");
            s.store.finish_logout(&delivery.id).await?;
        }
        Sent::Retry(reason) => {
            let tried = usize::try_from(delivery.attempts).unwrap_or(usize::MAX);
            match BACKOFF.get(tried.saturating_sub(1)) {
                Some(delay) => {
                    tracing::info!(client_id = %client.id, jti = %delivery.id, attempts = delivery.attempts, %reason, retry_in = delay, "back-channel logout failed; will retry");
                    s.store.retry_logout(&delivery.id, s.now() + delay).await?;
                }
                None => {
                    tracing::warn!(client_id = %client.id, jti = %delivery.id, attempts = delivery.attempts, %reason, "back-channel logout given up");
                    s.store.finish_logout(&delivery.id).await?;
                }
            }
        }
    }
    Ok(())
}

/// The worker: polls the queue until `stop` turns true (or its sender is dropped).
pub async fn run(s: Arc<Services>, http: reqwest::Client, stop: tokio::sync::watch::Receiver<bool>) {
    crate::worker::poll("back-channel logout worker", POLL, stop, || deliver_due(&s, &http)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(redirect: &str, back: Option<&str>, front: Option<&str>) -> Client {
        let (mut client, _) = crate::admin::build_client(
            &crate::admin::ClientSpec { id: "shop".into(), redirect_uris: vec![redirect.into()], ..Default::default() },
            0,
        )
        .unwrap();
        client.settings.backchannel_logout_uri = back.map(str::to_owned);
        client.settings.frontchannel_logout_uri = front.map(str::to_owned);
        client
    }

    #[test]
    fn logout_uris_are_absolute_http_urls_and_the_front_channel_one_shares_a_redirect_origin() {
        let ok = client(
            "https://shop.example/cb",
            Some("https://api.shop.example/bcl?x=1"),
            Some("https://shop.example/fcl"),
        );
        assert_eq!(check_logout_uris(&ok, false), Ok(()));
        for bad in [
            client("https://shop.example/cb", Some("/relative"), None),
            client("https://shop.example/cb", Some("https://shop.example/bcl#frag"), None),
            client("https://shop.example/cb", Some("http://shop.example/bcl"), None),
            client("https://shop.example/cb", Some("fr.shop.app:/bcl"), None),
            client("https://shop.example/cb", None, Some("https://other.example/fcl")),
            client("https://shop.example/cb", None, Some("https://shop.example:8443/fcl")),
        ] {
            assert!(check_logout_uris(&bad, false).is_err(), "{:?}", bad.settings);
        }
        let loopback = client("http://127.0.0.1:9090/cb", Some("http://127.0.0.1:9091/bcl"), None);
        assert_eq!(check_logout_uris(&loopback, false), Ok(()));
    }

    #[test]
    fn the_backoff_grows_and_ends() {
        assert!(BACKOFF.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(BACKOFF[0], 1);
        assert!(BACKOFF.iter().sum::<i64>() < 24 * 3600);
    }
}
