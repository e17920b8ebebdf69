//! Access token formats and lifetimes per client (issue #3): opaque by default; JWT access
//! tokens (RFC 9068) for clients registered with `access_token_format=jwt`, verified here with
//! the `openidconnect` crate's JWK code against the published JWKS, independently of the
//! server's own JWS module; per-client lifetimes in `expires_in`, `exp` and the refresh token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use idp::admin::{self, ClientSpec};
use idp::clock::Clock;
use idp::domain::client::ClientSettings;
use idp_tests::{RP_CALLBACK, TestApp};
use openidconnect::JsonWebKey;
use openidconnect::core::{CoreJsonWebKey, CoreJsonWebKeySet, CoreJwsSigningAlgorithm};
use reqwest::StatusCode;
use serde_json::Value;

use crate::support_protocol::{CLIENT_ID, World, basic, get_userinfo, machine, post_token};

/// The JSON of one part of a compact JWS (0: header, 1: payload).
pub fn jwt_part(jwt: &str, index: usize) -> Value {
    let part = jwt.split('.').nth(index).unwrap_or_else(|| panic!("not a compact JWS: {jwt}"));
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

pub async fn fetch_jwks(app: &TestApp) -> CoreJsonWebKeySet {
    let response = machine().get(app.url("/jwks")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    serde_json::from_str(&response.text().await.unwrap()).expect("RFC 7517 §5: a JWK Set")
}

pub async fn jwks_kids(app: &TestApp) -> Vec<String> {
    let jwks: Value = machine().get(app.url("/jwks")).send().await.unwrap().json().await.unwrap();
    jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

/// Verifies a compact JWS with the key of its `kid` in the app's published JWKS; returns the
/// claims. Panics with what a relying party would have seen.
pub async fn verify_with_jwks(app: &TestApp, jwt: &str) -> Value {
    let header = jwt_part(jwt, 0);
    let kid = header["kid"].as_str().expect("a kid in the header");
    let alg: CoreJwsSigningAlgorithm = serde_json::from_value(header["alg"].clone()).unwrap();
    let jwks = fetch_jwks(app).await;
    let key: &CoreJsonWebKey = jwks
        .keys()
        .iter()
        .find(|k| k.key_id().map(|id| id.as_str()) == Some(kid))
        .unwrap_or_else(|| panic!("the key {kid} is not in the JWKS"));
    let (signed, signature) = jwt.rsplit_once('.').unwrap();
    key.verify_signature(&alg, signed.as_bytes(), &URL_SAFE_NO_PAD.decode(signature).unwrap())
        .unwrap_or_else(|e| panic!("the signature does not verify with the published key {kid}: {e:?}"));
    jwt_part(jwt, 1)
}

/// The world's client "shop" with these settings.
async fn with_settings(world: &World, settings: ClientSettings) {
    let mut client = world.app.services.store.client(CLIENT_ID).await.unwrap().unwrap();
    client.settings = settings;
    world.app.services.store.upsert_client(&client).await.unwrap();
}

fn jwt_settings() -> ClientSettings {
    admin::parse_settings(&["access_token_format=jwt".into(), "access_token_audience=https://api.example".into()])
        .unwrap()
}

#[tokio::test]
async fn access_tokens_are_opaque_by_default() {
    let world = World::new().await;
    let tokens = world.tokens("openid").await;
    let access_token = tokens.str("access_token");
    assert!(!access_token.contains('.'), "an opaque token, got {access_token}");
    assert!(access_token.len() >= 43, "256 bits of randomness");
}

#[tokio::test]
async fn a_jwt_access_token_verifies_against_the_jwks_with_the_rfc_9068_claims() {
    let world = World::new().await;
    with_settings(&world, jwt_settings()).await;
    let before = world.app.clock.now();

    let tokens = world.tokens("openid profile").await;
    let access_token = tokens.str("access_token");

    let header = jwt_part(access_token, 0);
    assert_eq!(header["typ"], "at+jwt", "RFC 9068 §2.1: typ at+jwt");
    assert_eq!(header["alg"], "ES256", "issue #3: ES256 by default");
    let claims = verify_with_jwks(&world.app, access_token).await;
    assert_eq!(claims["iss"], world.app.issuer.as_str());
    assert_eq!(claims["aud"], "https://api.example", "RFC 9068 §3: aud is the resource");
    assert_eq!(claims["sub"], world.alice.id.as_str());
    assert_eq!(claims["client_id"], CLIENT_ID);
    assert_eq!(claims["scope"], "openid profile");
    let iat = claims["iat"].as_i64().unwrap();
    assert!(iat >= before);
    assert_eq!(claims["exp"].as_i64().unwrap() - iat, tokens.json["expires_in"].as_i64().unwrap());
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 16), "a jti: {claims}");
    assert!(claims["auth_time"].as_i64().is_some_and(|t| t <= iat), "auth_time: {claims}");
}

#[tokio::test]
async fn a_jwt_access_token_without_an_audience_setting_is_for_the_client() {
    let world = World::new().await;
    with_settings(&world, admin::parse_settings(&["access_token_format=jwt".into()]).unwrap()).await;
    let tokens = world.tokens("openid").await;
    let claims = verify_with_jwks(&world.app, tokens.str("access_token")).await;
    assert_eq!(claims["aud"], CLIENT_ID);
}

#[tokio::test]
async fn a_jwt_access_token_works_at_userinfo() {
    let world = World::new().await;
    with_settings(&world, jwt_settings()).await;
    let tokens = world.tokens("openid email").await;

    let userinfo = get_userinfo(&world.app, tokens.str("access_token")).await;

    assert_eq!(userinfo.status, StatusCode::OK, "userinfo answered {}", userinfo.json);
    assert_eq!(userinfo.json["sub"], world.alice.id.as_str());
    assert_eq!(userinfo.json["email"], "alice.martin@example.org");
}

#[tokio::test]
async fn a_jwt_access_token_stops_working_when_its_code_is_replayed() {
    // RFC 6749 §4.1.2: a replayed code revokes what it produced, JWTs included.
    let world = World::new().await;
    with_settings(&world, jwt_settings()).await;
    let request = world.request("openid");
    let code = world.code(&request).await;
    let tokens = world.exchange(&code, &request.verifier).await;
    let access_token = tokens.str("access_token");
    assert_eq!(get_userinfo(&world.app, access_token).await.status, StatusCode::OK, "the token works at first");

    world.exchange(&code, &request.verifier).await;

    let userinfo = get_userinfo(&world.app, access_token).await;
    assert_eq!(userinfo.status, StatusCode::UNAUTHORIZED, "a revoked JWT access token still worked");
}

#[tokio::test]
async fn a_tampered_jwt_access_token_is_refused() {
    let world = World::new().await;
    with_settings(&world, jwt_settings()).await;
    let tokens = world.tokens("openid").await;
    let access_token = tokens.str("access_token");
    let mut claims = jwt_part(access_token, 1);
    claims["scope"] = "openid email phone".into();
    let mut parts: Vec<String> = access_token.split('.').map(str::to_owned).collect();
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());

    let userinfo = get_userinfo(&world.app, &parts.join(".")).await;

    assert_eq!(userinfo.status, StatusCode::UNAUTHORIZED, "a forged token was accepted: {}", userinfo.json);
    assert_eq!(userinfo.header("www-authenticate").map(|h| h.contains("invalid_token")), Some(true));
}

#[tokio::test]
async fn an_id_token_is_not_accepted_as_an_access_token() {
    // RFC 9068 §4: the typ header tells access tokens from other JWTs the same keys sign.
    let world = World::new().await;
    with_settings(&world, jwt_settings()).await;
    let tokens = world.tokens("openid").await;

    let userinfo = get_userinfo(&world.app, tokens.str("id_token")).await;

    assert_eq!(userinfo.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_expired_jwt_access_token_is_refused() {
    let world = World::new().await;
    with_settings(&world, jwt_settings()).await;
    let tokens = world.tokens("openid").await;
    world.app.clock.advance(tokens.json["expires_in"].as_i64().unwrap() + 1);

    let userinfo = get_userinfo(&world.app, tokens.str("access_token")).await;

    assert_eq!(userinfo.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn per_client_lifetimes_show_in_expires_in_and_exp() {
    let world = World::new().await;
    let mut settings = jwt_settings();
    settings.access_token_ttl = Some(120);
    settings.id_token_ttl = Some(300);
    settings.refresh_token_ttl = Some(3600);
    with_settings(&world, settings).await;

    let tokens = world.tokens("openid offline_access").await;

    assert_eq!(tokens.json["expires_in"], 120, "RFC 6749 §5.1 expires_in: {}", tokens.json);
    let at = verify_with_jwks(&world.app, tokens.str("access_token")).await;
    assert_eq!(at["exp"].as_i64().unwrap() - at["iat"].as_i64().unwrap(), 120);
    let id = verify_with_jwks(&world.app, tokens.str("id_token")).await;
    assert_eq!(id["exp"].as_i64().unwrap() - id["iat"].as_i64().unwrap(), 300);
    world.app.clock.advance(121);
    assert_eq!(get_userinfo(&world.app, tokens.str("access_token")).await.status, StatusCode::UNAUTHORIZED);
    world.app.clock.advance(3600 - 121);
    let refreshed = world.refresh(tokens.str("refresh_token")).await;
    assert_eq!(refreshed.error(), "invalid_grant", "the refresh token outlived its client's lifetime");
}

#[tokio::test]
async fn server_lifetimes_apply_when_a_client_sets_none() {
    let world = World::new().await;
    let tokens = world.tokens("openid").await;
    assert_eq!(tokens.json["expires_in"], world.app.config.lifetimes.access_token);
    let id = verify_with_jwks(&world.app, tokens.str("id_token")).await;
    assert_eq!(id["exp"].as_i64().unwrap() - id["iat"].as_i64().unwrap(), world.app.config.lifetimes.id_token);
}

#[tokio::test]
async fn lifetimes_out_of_bounds_are_refused_at_registration() {
    let app = TestApp::spawn().await;
    for setting in ["access_token_ttl=5", "id_token_ttl=172800", "refresh_token_ttl=0", "access_token_ttl=-1"] {
        let spec = ClientSpec {
            id: "bounded".into(),
            redirect_uris: vec![RP_CALLBACK.into()],
            settings: admin::parse_settings(&[setting.into()]).unwrap(),
            ..ClientSpec::default()
        };
        let err = admin::add_client(&app.services, &spec).await.expect_err(setting);
        assert!(err.to_string().contains("seconds"), "{setting}: {err}");
    }
    assert!(app.services.store.client("bounded").await.unwrap().is_none(), "nothing was written");
}

#[tokio::test]
async fn a_client_credentials_token_can_be_a_jwt_for_the_client_itself() {
    // RFC 9068 §2.2: without a resource owner, sub identifies the client.
    let app = TestApp::spawn().await;
    let spec = ClientSpec {
        id: "machine".into(),
        redirect_uris: vec![RP_CALLBACK.into()],
        grants: vec!["client_credentials".into()],
        settings: admin::parse_settings(&[
            "access_token_format=jwt".into(),
            "allowed_scopes=[\"reports\"]".into(),
            "access_token_audience=https://reports.example".into(),
        ])
        .unwrap(),
        ..ClientSpec::default()
    };
    let (_, secret) = app.client(spec).await;

    let answer =
        post_token(&app, Some(&basic("machine", &secret.unwrap())), &[("grant_type", "client_credentials")]).await;

    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    let claims = verify_with_jwks(&app, answer.str("access_token")).await;
    assert_eq!(claims["sub"], "machine");
    assert_eq!(claims["client_id"], "machine");
    assert_eq!(claims["aud"], "https://reports.example");
    assert!(claims.get("auth_time").is_none(), "no user authenticated: {claims}");
}
