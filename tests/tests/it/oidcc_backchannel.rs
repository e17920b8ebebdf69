//! The OpenID Foundation's Back-Channel Logout OP test plan (OpenID Connect Back-Channel Logout
//! 1.0), plus the rules of this provider around it: every way a browser session ends sends a
//! logout token to each client of that session with a `backchannel_logout_uri`, and delivery is
//! retried. A tiny axum receiver on 127.0.0.1:0 plays the relying party's back-channel endpoint
//! and records what it is sent.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use idp::admin::ClientSpec;
use idp::domain::client::ClientSettings;
use idp_tests::browser::query;
use idp_tests::rp::Rp;
use idp_tests::{Browser, PASSWORD, TestApp};
use openidconnect::TokenResponse;
use serde_json::{Value, json};

use crate::flow::urlencode;

pub const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// What the relying party's back-channel endpoint received.
#[derive(Clone, Default)]
pub struct Received {
    /// Every POST, answered or not.
    pub attempts: Arc<AtomicUsize>,
    /// The `logout_token` of every POST it answered 200 to, with its Content-Type.
    pub tokens: Arc<Mutex<Vec<(String, String)>>>,
}

/// A back-channel logout endpoint that answers 503 to the first `failures` requests, then 200.
pub struct Receiver {
    pub url: String,
    pub received: Received,
}

impl Receiver {
    pub async fn start(failures: usize) -> Self {
        let received = Received::default();
        let state = (received.clone(), failures);
        let router = Router::new()
            .route(
                "/backchannel-logout",
                post(
                    |axum::extract::State((r, failures)): axum::extract::State<(Received, usize)>,
                     headers: HeaderMap,
                     body: String| async move {
                        let n = r.attempts.fetch_add(1, Ordering::SeqCst) + 1;
                        if n <= failures {
                            return StatusCode::SERVICE_UNAVAILABLE;
                        }
                        let content_type =
                            headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                        let token = url::form_urlencoded::parse(body.as_bytes())
                            .find(|(k, _)| k == "logout_token")
                            .map(|(_, v)| v.into_owned())
                            .unwrap_or_default();
                        r.tokens.lock().unwrap().push((token, content_type));
                        StatusCode::OK
                    },
                ),
            )
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/backchannel-logout", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { url, received }
    }

    /// Waits (10 s at most) until `n` tokens have arrived; returns them.
    pub async fn tokens(&self, n: usize) -> Vec<String> {
        for _ in 0..200 {
            if self.received.tokens.lock().unwrap().len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let tokens = self.received.tokens.lock().unwrap().clone();
        assert!(tokens.len() >= n, "the relying party received {} logout tokens, expected {n}", tokens.len());
        tokens.into_iter().map(|(t, _)| t).collect()
    }

    pub fn attempts(&self) -> usize {
        self.received.attempts.load(Ordering::SeqCst)
    }

    pub fn content_types(&self) -> Vec<String> {
        self.received.tokens.lock().unwrap().iter().map(|(_, c)| c.clone()).collect()
    }
}

/// The decoded header and claims of a compact JWS.
pub fn decode(jwt: &str) -> (Value, Value) {
    let part = |i: usize| -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(jwt.split('.').nth(i).unwrap()).unwrap()).unwrap()
    };
    (part(0), part(1))
}

/// A confidential client registered with back-channel logout to `receiver`.
pub async fn backchannel_client(
    app: &TestApp,
    id: &str,
    receiver: &Receiver,
    session_required: bool,
    alg: Option<&str>,
) -> (Rp, String) {
    let callback = format!("https://{id}.example/callback");
    let (client, secret) = app
        .client(ClientSpec {
            id: id.into(),
            name: format!("Client {id}"),
            redirect_uris: vec![callback.clone()],
            post_logout_redirect_uris: vec![format!("{callback}/bye")],
            grants: vec!["authorization_code".into()],
            id_token_alg: alg.map(str::to_owned),
            settings: ClientSettings {
                backchannel_logout_uri: Some(receiver.url.clone()),
                backchannel_logout_session_required: session_required,
                ..ClientSettings::default()
            },
            ..ClientSpec::default()
        })
        .await;
    let rp = Rp::discover(&app.issuer, &client.id, secret.as_deref(), &callback).await;
    (rp, callback)
}

/// Signs alice in at `rp` in `browser`; returns the ID token.
pub async fn sign_in(app: &TestApp, rp: &Rp, browser: &Browser) -> String {
    let pending = rp.start(&[]);
    let callback = browser.authorize(&app.issuer, &pending.url, "alice.martin", PASSWORD).await;
    let tokens = rp.exchange(&query(&callback)["code"], pending.verifier).await.expect("the code exchanges");
    tokens.id_token().expect("an ID token").to_string()
}

/// A silent authorization: `true` for a code, `false` for `login_required`.
pub async fn is_signed_in(app: &TestApp, rp: &Rp, browser: &Browser) -> bool {
    let silent = rp.start(&[]).url + "&prompt=none";
    let page = browser.follow(&app.issuer, browser.get(&silent).await).await;
    let params = query(&page.location().expect("a silent authorization redirects back"));
    match params.get("error").map(String::as_str) {
        None if params.contains_key("code") => true,
        Some("login_required") => false,
        other => panic!("unexpected answer to prompt=none: {other:?}"),
    }
}

/// Back-Channel Logout 1.0 §2.6, the checks a relying party makes on a logout token, against
/// the ID token it got for the same session.
fn assert_valid_logout_token(app: &TestApp, token: &str, id_token: &str, expect_sid: bool) -> Value {
    let (header, claims) = decode(token);
    let (id_header, id_claims) = decode(id_token);
    // §2.6: the signature is checked like an ID token's: the client's algorithm, a JWKS key.
    assert_eq!(header["alg"], id_header["alg"], "the logout token is signed like the ID tokens: {header}");
    assert_eq!(header["typ"], "logout+jwt", "§2.4 / RFC 8725 §3.11: explicit typ: {header}");
    let verified = app.services.keys.verify(token).expect("the signature verifies with a key of the JWKS");
    assert_eq!(verified, claims);
    // §2.6: iss, aud, iat as for an ID token (and exp, short: §2.4).
    assert_eq!(claims["iss"], app.issuer.as_str(), "iss: {claims}");
    assert_eq!(claims["aud"], id_claims["aud"], "aud is the client: {claims}");
    let iat = claims["iat"].as_i64().expect("iat");
    let exp = claims["exp"].as_i64().expect("exp");
    let now = app.services.now();
    assert!((now - 5..=now + 5).contains(&iat), "iat is now: {claims}");
    assert!(exp > iat && exp - iat <= 120, "§2.4: a short lifetime (≤ 2 minutes): {claims}");
    // §2.4 and §2.6: a jti, the logout event with an empty object, no nonce.
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 16), "a jti: {claims}");
    assert_eq!(claims["events"], json!({ EVENT: {} }), "events: {claims}");
    assert!(claims.get("nonce").is_none(), "§2.4: a logout token MUST NOT contain a nonce: {claims}");
    // §2.6: sub and/or sid, the same as in the ID token.
    assert_eq!(claims["sub"], id_claims["sub"], "sub: {claims}");
    if expect_sid {
        assert_eq!(claims["sid"], id_claims["sid"], "§2.4: sid when the client requires it: {claims}");
    } else {
        assert!(claims.get("sid").is_none(), "no sid unless the client requires it: {claims}");
    }
    claims
}

async fn provider_with_alice() -> TestApp {
    let app = TestApp::spawn().await;
    app.user("alice.martin").await;
    app
}

#[tokio::test]
async fn oidcc_backchannel_rp_initiated_logout() {
    // Module oidcc-backchannel-rp-initiated-logout: after an RP-initiated logout (valid
    // id_token_hint, registered post_logout_redirect_uri, state) the OP POSTs a logout token as
    // application/x-www-form-urlencoded `logout_token` to the backchannel_logout_uri; the token
    // is signed with the ID token's algorithm, has iss, aud, iat, jti, sub and/or sid matching
    // the ID token, the back-channel logout event, no nonce; the browser is redirected to the
    // post_logout_redirect_uri with the state; a later prompt=none gets login_required.
    let app = provider_with_alice().await;
    let receiver = Receiver::start(0).await;
    let (rp, callback) = backchannel_client(&app, "shop", &receiver, true, None).await;
    let browser = Browser::new();
    let id_token = sign_in(&app, &rp, &browser).await;

    let page = browser
        .get(&app.url(&format!(
            "/logout?id_token_hint={id_token}&post_logout_redirect_uri={}&state=st-1",
            urlencode(&format!("{callback}/bye"))
        )))
        .await;

    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location().unwrap(), format!("{callback}/bye?state=st-1"));
    let tokens = receiver.tokens(1).await;
    assert_eq!(tokens.len(), 1, "one logout token");
    assert!(
        receiver.content_types()[0].starts_with("application/x-www-form-urlencoded"),
        "§2.5: a form POST, got {:?}",
        receiver.content_types()
    );
    assert_valid_logout_token(&app, &tokens[0], &id_token, true);
    assert!(!is_signed_in(&app, &rp, &browser).await, "the OP session ended");
}

#[tokio::test]
async fn oidcc_backchannel_rp_initiated_logout_with_es256_and_eddsa_clients() {
    // Same module, for clients registered with the other ID token algorithms: the logout
    // token is signed with the client's ID-token algorithm (§2.4 "the same … as ID Tokens").
    for alg in ["ES256", "EdDSA"] {
        let app = provider_with_alice().await;
        let receiver = Receiver::start(0).await;
        let (rp, _) = backchannel_client(&app, "shop", &receiver, true, Some(alg)).await;
        let browser = Browser::new();
        let id_token = sign_in(&app, &rp, &browser).await;

        browser.get(&app.url(&format!("/logout?id_token_hint={id_token}"))).await;

        let tokens = receiver.tokens(1).await;
        assert_eq!(decode(&tokens[0]).0["alg"], alg);
        assert_valid_logout_token(&app, &tokens[0], &id_token, true);
    }
}

#[tokio::test]
async fn a_client_that_does_not_require_the_session_gets_a_logout_token_with_sub_only() {
    // §2.4: sid is included when the client registered backchannel_logout_session_required;
    // otherwise the token names the user (sub).
    let app = provider_with_alice().await;
    let receiver = Receiver::start(0).await;
    let (rp, _) = backchannel_client(&app, "shop", &receiver, false, None).await;
    let browser = Browser::new();
    let id_token = sign_in(&app, &rp, &browser).await;

    browser.get(&app.url(&format!("/logout?id_token_hint={id_token}"))).await;

    let tokens = receiver.tokens(1).await;
    assert_valid_logout_token(&app, &tokens[0], &id_token, false);
}

#[tokio::test]
async fn every_client_of_the_session_gets_its_own_logout_token() {
    // "The session ends for every client of that browser session" (issue #3): signing out from
    // one client notifies the others; a client without a back-channel URI is sent nothing.
    let app = provider_with_alice().await;
    let receiver = Receiver::start(0).await;
    let (shop, _) = backchannel_client(&app, "shop", &receiver, true, None).await;
    let (library, _) = backchannel_client(&app, "library", &receiver, true, None).await;
    let (plain, plain_secret) = app.confidential_client("plain", "https://plain.example/callback").await;
    let plain = Rp::discover(&app.issuer, &plain.id, Some(&plain_secret), "https://plain.example/callback").await;
    let browser = Browser::new();
    let shop_id_token = sign_in(&app, &shop, &browser).await;
    let library_id_token = sign_in(&app, &library, &browser).await;
    sign_in(&app, &plain, &browser).await;

    browser.get(&app.url(&format!("/logout?id_token_hint={shop_id_token}"))).await;

    let tokens = receiver.tokens(2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.tokens(2).await.len(), 2, "one token per back-channel client, no more");
    let mut audiences: Vec<String> = tokens.iter().map(|t| decode(t).1["aud"].as_str().unwrap().to_owned()).collect();
    audiences.sort();
    assert_eq!(audiences, ["library", "shop"]);
    let library_token = tokens.iter().find(|t| decode(t).1["aud"] == "library").unwrap();
    assert_valid_logout_token(&app, library_token, &library_id_token, true);
}

#[tokio::test]
async fn closing_a_session_from_the_account_space_sends_the_logout_tokens() {
    // A session closed from another browser (the sessions list of /account) ends for every
    // client of it too: through the back channel (no iframe can reach that browser).
    let app = provider_with_alice().await;
    let receiver = Receiver::start(0).await;
    let (rp, _) = backchannel_client(&app, "shop", &receiver, true, None).await;
    let phone = Browser::new();
    let id_token = sign_in(&app, &rp, &phone).await;
    let laptop = Browser::new();
    let login_page = laptop.follow(&app.issuer, laptop.get(&app.url("/account")).await).await;
    let account =
        laptop.follow(&app.issuer, laptop.submit_login(&app.issuer, &login_page, "alice.martin", PASSWORD).await).await;
    assert!(account.url.ends_with("/account"), "the account page: {}", account.url);

    let page = laptop
        .post(
            &app.url("/account/sessions/revoke"),
            &[("csrf", &account.field("csrf").unwrap()), ("session_id", &account.field("session_id").unwrap())],
        )
        .await;

    assert_eq!(page.status, 303, "{}", page.body);
    let tokens = receiver.tokens(1).await;
    assert_valid_logout_token(&app, &tokens[0], &id_token, true);
    assert!(!is_signed_in(&app, &rp, &phone).await, "the phone is signed out");
}

#[tokio::test]
async fn signing_out_of_the_account_space_sends_the_logout_tokens() {
    // /account's sign-out is an RP-initiated logout: the clients of the session are notified.
    let app = provider_with_alice().await;
    let receiver = Receiver::start(0).await;
    let (rp, _) = backchannel_client(&app, "shop", &receiver, true, None).await;
    let browser = Browser::new();
    let id_token = sign_in(&app, &rp, &browser).await;
    let account = browser.follow(&app.issuer, browser.get(&app.url("/account")).await).await;
    assert!(account.url.ends_with("/account"), "single sign-on into the account page: {}", account.url);

    let page = browser.post(&app.url("/account/logout"), &[("csrf", &account.field("csrf").unwrap())]).await;
    let logged_out = browser.follow(&app.issuer, page).await;

    assert_eq!(logged_out.status, 200, "{}", logged_out.body);
    let tokens = receiver.tokens(1).await;
    assert_valid_logout_token(&app, &tokens[0], &id_token, true);
}

#[tokio::test]
async fn a_new_sign_in_in_the_same_browser_ends_the_old_session_for_its_clients() {
    // prompt=login opens a new session (a new sid, no fixation); the old one ends, and the
    // clients that hold its sid are told.
    let app = provider_with_alice().await;
    let receiver = Receiver::start(0).await;
    let (rp, _) = backchannel_client(&app, "shop", &receiver, true, None).await;
    let browser = Browser::new();
    let id_token = sign_in(&app, &rp, &browser).await;

    let pending = rp.start(&[]);
    let again = browser.authorize(&app.issuer, &(pending.url + "&prompt=login"), "alice.martin", PASSWORD).await;

    assert!(query(&again).contains_key("code"), "signed in again: {again}");
    let tokens = receiver.tokens(1).await;
    assert_valid_logout_token(&app, &tokens[0], &id_token, true);
}

#[tokio::test]
async fn a_failed_delivery_is_retried_and_the_token_arrives_once() {
    // Delivery is durable and retried with backoff: the relying party answers 503 first, then
    // 200; it receives the token exactly once, and the queue is empty afterwards.
    let app = provider_with_alice().await;
    let receiver = Receiver::start(1).await;
    let (rp, _) = backchannel_client(&app, "shop", &receiver, true, None).await;
    let browser = Browser::new();
    let id_token = sign_in(&app, &rp, &browser).await;

    browser.get(&app.url(&format!("/logout?id_token_hint={id_token}"))).await;
    for _ in 0..200 {
        if receiver.attempts() >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(receiver.attempts(), 1, "a first attempt was made");
    let queued = app.services.store.pending_logouts().await.unwrap();
    assert_eq!(queued.len(), 1, "the failed delivery stays queued");
    assert_eq!(queued[0].attempts, 1);
    app.clock.advance(2);

    let tokens = receiver.tokens(1).await;

    assert_valid_logout_token(&app, &tokens[0], &id_token, true);
    assert_eq!(receiver.attempts(), 2, "503 once, then delivered");
    app.clock.advance(600);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.attempts(), 2, "never sent again once delivered");
    assert!(app.services.store.pending_logouts().await.unwrap().is_empty(), "the queue is empty");
}

#[tokio::test]
async fn a_delivery_is_claimed_by_one_worker_only() {
    // Two nodes polling the same queue at the same moment: the conditional claim gives each
    // row to one of them.
    let app = provider_with_alice().await;
    let now = app.services.now();
    let delivery = idp::store::LogoutDelivery {
        id: "jti-claim-test-0000000000".into(),
        client_id: "idp-account".into(),
        user_id: "u".into(),
        sid: "s".into(),
        created_at: now + 3600,
        attempts: 0,
        next_attempt_at: now + 3600,
        protocol: idp::store::PROTOCOL_OIDC.into(),
        target: None,
        session_index: None,
    };
    app.services.store.enqueue_logouts(std::slice::from_ref(&delivery)).await.unwrap();
    let later = now + 3600;

    let (a, b) = tokio::join!(
        app.services.store.claim_due_logouts(idp::store::PROTOCOL_OIDC, later, later + 60, 10),
        app.services.store.claim_due_logouts(idp::store::PROTOCOL_OIDC, later, later + 60, 10)
    );

    let claimed = a.unwrap().len() + b.unwrap().len();
    assert_eq!(claimed, 1, "exactly one worker got the row");
    assert!(
        app.services
            .store
            .claim_due_logouts(idp::store::PROTOCOL_OIDC, later + 30, later + 90, 10)
            .await
            .unwrap()
            .is_empty(),
        "still claimed"
    );
    let reclaimed =
        app.services.store.claim_due_logouts(idp::store::PROTOCOL_OIDC, later + 61, later + 121, 10).await.unwrap();
    assert_eq!(reclaimed.len(), 1, "a lapsed claim (a node that died) is taken over");
    assert_eq!(reclaimed[0].attempts, 2);
    assert!(
        app.services
            .store
            .claim_due_logouts(idp::store::PROTOCOL_CAS, later + 200, later + 260, 10)
            .await
            .unwrap()
            .is_empty(),
        "the CAS worker never takes an OpenID Connect row"
    );
}

#[tokio::test]
async fn discovery_advertises_back_channel_logout_with_sessions() {
    // Back-Channel Logout 1.0 §2.1.
    let app = TestApp::spawn().await;
    let doc: Value = reqwest::get(app.url("/.well-known/openid-configuration")).await.unwrap().json().await.unwrap();
    assert_eq!(doc["backchannel_logout_supported"], true);
    assert_eq!(doc["backchannel_logout_session_supported"], true);
}
