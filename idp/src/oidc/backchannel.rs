//! OpenID Connect Back-Channel Logout 1.0: when a browser session ends, every client of it that
//! registered a `backchannel_logout_uri` is sent a logout token (§2.4), server to server.
//!
//! Delivery is durable: `enqueue` writes one row per client to the store's queue in the same
//! call that ends the session, and a worker (`run`, spawned by `App::serve`, stopped with it)
//! claims due rows, signs a fresh token and POSTs it (§2.5), retrying with the backoff of
//! `session::delivery` (shared with CAS single logout). Rows are
//! claimed atomically in the store, so with several nodes each token is sent by one of them.
//! What the logged-out page shows (front-channel iframes) lives in `frontchannel`.

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Value, json};

use super::subject;
use crate::crypto;
use crate::domain::{Client, RedirectUri};
use crate::services::{InfraError, Services};
use crate::session::BrowserSession;
use crate::session::delivery::{self, Outgoing};
use crate::store::{LogoutDelivery, PROTOCOL_OIDC};

/// §2.4: the event that makes a JWT a logout token.
pub const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// §2.4: the `typ` header, so a logout token is never mistaken for an ID token (RFC 8725 §3.11).
pub const TYP: &str = "logout+jwt";
/// §2.4: a short expiry, two minutes or less recommended.
const TOKEN_TTL: i64 = 120;
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
            protocol: PROTOCOL_OIDC.to_owned(),
            target: None,
            session_index: None,
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

/// The HTTP client of the worker (`session::delivery::http_client`).
pub fn http_client() -> reqwest::Result<reqwest::Client> {
    delivery::http_client()
}

/// One pass of the worker: claims the due OpenID Connect deliveries and sends each a fresh
/// logout token (§2.5), through the shared retry rule (`session::delivery`). Returns how many
/// were claimed.
pub async fn deliver_due(s: &Services, http: &reqwest::Client) -> Result<usize, InfraError> {
    delivery::deliver_due(s, http, PROTOCOL_OIDC, |d| prepare(s, d)).await
}

async fn prepare(s: &Services, d: LogoutDelivery) -> Result<(LogoutDelivery, Option<Outgoing>), InfraError> {
    let client = s.store.client(&d.client_id).await?;
    // The client was removed or no longer asks for back-channel logout: nothing to send.
    let Some((client, url)) = client.and_then(|c| c.settings.backchannel_logout_uri.clone().map(|u| (c, u))) else {
        return Ok((d, None));
    };
    let token = logout_token(s, &client, &d).await?;
    Ok((d, Some(Outgoing { url, form: vec![("logout_token", token)] })))
}

/// The worker: polls the queue until `stop` turns true (or its sender is dropped).
pub async fn run(s: Arc<Services>, http: reqwest::Client, stop: tokio::sync::watch::Receiver<bool>) {
    crate::worker::poll("back-channel logout worker", delivery::POLL, stop, || deliver_due(&s, &http)).await;
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
}
