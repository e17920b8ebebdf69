//! The token endpoint (RFC 6749 §3.2, OpenID Connect Core §3.1.3): client authentication, the
//! authorization code grant with its bindings (single use, lifetime, client, redirect URI,
//! PKCE), refresh token rotation with reuse detection, and the ID token itself.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use idp::admin::ClientSpec;
use idp::clock::Clock;
use idp_tests::browser::query;
use idp_tests::rp::Rp;
use idp_tests::{Browser, PASSWORD, RP_CALLBACK};
use openidconnect::core::{CoreJwsSigningAlgorithm, CoreTokenResponse};
use openidconnect::{AccessTokenHash, Nonce, OAuth2TokenResponse, TokenResponse};
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support_protocol::{
    Answer, AuthorizeRequest, CLIENT_ID, LOGIN, World, basic, get_userinfo, machine, pkce_pair, post_token,
};

fn assert_oauth_error(answer: &Answer, status: StatusCode, error: &str) {
    assert_eq!(answer.status, status, "the client received {}", answer.json);
    assert_eq!(answer.error(), error, "the client received {}", answer.json);
    let content_type = answer.header("content-type").unwrap_or_default();
    assert!(content_type.starts_with("application/json"), "RFC 6749 §5.2: JSON, got {content_type:?}");
}

/// The JSON of one part of a compact JWS (0: header, 1: payload).
fn jwt_part(jwt: &str, index: usize) -> Value {
    let part = jwt.split('.').nth(index).unwrap_or_else(|| panic!("not a compact JWS: {jwt}"));
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// A code of "shop" and its verifier, Alice signed in and consented.
async fn code_for(world: &World, scope: &str) -> (String, String) {
    let request = world.request(scope);
    let code = world.code(&request).await;
    (code, request.verifier)
}

// --- The authorization code (RFC 6749 §4.1.3, §10.5) ---

#[tokio::test]
async fn a_code_exchanges_for_a_bearer_access_token_and_an_id_token() {
    let world = World::new().await;
    let (code, verifier) = code_for(&world, "openid").await;

    let answer = world.exchange(&code, &verifier).await;

    assert_eq!(answer.status, StatusCode::OK, "the client received {}", answer.json);
    assert_eq!(answer.str("token_type"), "Bearer", "RFC 6750 bearer tokens");
    assert!(!answer.str("access_token").is_empty());
    assert!(answer.json["expires_in"].as_i64().is_some_and(|s| s > 0), "expires_in: {}", answer.json);
    assert!(!answer.str("id_token").is_empty(), "OpenID Connect Core §3.1.3.3: an ID token");
}

#[tokio::test]
async fn a_code_works_only_once() {
    // RFC 6749 §4.1.2: "The client MUST NOT use the authorization code more than once."
    let world = World::new().await;
    let (code, verifier) = code_for(&world, "openid").await;
    let first = world.exchange(&code, &verifier).await;
    assert_eq!(first.status, StatusCode::OK, "the first exchange should work: {}", first.json);

    let second = world.exchange(&code, &verifier).await;

    assert_oauth_error(&second, StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn replaying_a_code_revokes_the_access_token_issued_from_it() {
    // RFC 6749 §4.1.2: on reuse the server "SHOULD revoke (when possible) all tokens previously
    // issued based on that authorization code".
    let world = World::new().await;
    let (code, verifier) = code_for(&world, "openid").await;
    let tokens = world.exchange(&code, &verifier).await;
    let access_token = tokens.str("access_token");
    assert_eq!(get_userinfo(&world.app, access_token).await.status, StatusCode::OK, "the token works at first");

    world.exchange(&code, &verifier).await;

    let userinfo = get_userinfo(&world.app, access_token).await;
    assert_eq!(userinfo.status, StatusCode::UNAUTHORIZED, "the access token still worked after the code was replayed");
}

#[tokio::test]
async fn replaying_a_code_revokes_the_refresh_token_issued_from_it() {
    // RFC 6749 §4.1.2, as above.
    let world = World::new().await;
    let (code, verifier) = code_for(&world, "openid offline_access").await;
    let tokens = world.exchange(&code, &verifier).await;
    let refresh_token = tokens.str("refresh_token");

    world.exchange(&code, &verifier).await;

    let refreshed = world.refresh(refresh_token).await;
    assert_oauth_error(&refreshed, StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    // RFC 6749 §4.1.2: a maximum lifetime of 10 minutes is RECOMMENDED; this provider uses 60 s.
    let world = World::new().await;
    let (code, verifier) = code_for(&world, "openid").await;
    world.app.clock.advance(61);

    let answer = world.exchange(&code, &verifier).await;

    assert_oauth_error(&answer, StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn a_code_is_refused_to_another_client() {
    // RFC 6749 §4.1.3: "ensure that the authorization code was issued to the authenticated
    // confidential client".
    let world = World::new().await;
    let (_, other_secret) = world.app.confidential_client("other-shop", RP_CALLBACK).await;
    let (code, verifier) = code_for(&world, "openid").await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", RP_CALLBACK),
        ("code_verifier", verifier.as_str()),
    ];

    let answer = post_token(&world.app, Some(&basic("other-shop", &other_secret)), &form).await;

    assert_oauth_error(&answer, StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn a_code_is_refused_with_another_redirect_uri() {
    // RFC 6749 §4.1.3: redirect_uri must be identical to the one of the authorization request.
    let world = World::new().await;
    let (code, verifier) = code_for(&world, "openid").await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", "https://rp.example/elsewhere"),
        ("code_verifier", verifier.as_str()),
    ];

    let answer = post_token(&world.app, Some(&basic(CLIENT_ID, &world.secret)), &form).await;

    assert_oauth_error(&answer, StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn a_code_is_refused_without_its_pkce_verifier() {
    // RFC 7636 §4.5 and §4.6: the request had a challenge, so the verifier is required.
    let world = World::new().await;
    let (code, _) = code_for(&world, "openid").await;
    let form = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", RP_CALLBACK)];

    let answer = post_token(&world.app, Some(&basic(CLIENT_ID, &world.secret)), &form).await;

    assert_oauth_error(&answer, StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn a_code_is_refused_with_a_wrong_pkce_verifier() {
    // RFC 7636 §4.6: if the values are not equal, an error response indicating invalid_grant.
    let world = World::new().await;
    let (code, _) = code_for(&world, "openid").await;
    let (someone_elses_verifier, _) = pkce_pair();

    let answer = world.exchange(&code, &someone_elses_verifier).await;

    assert_oauth_error(&answer, StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn a_verifier_for_a_request_without_a_challenge_is_refused() {
    // RFC 9700 §2.1.1 and §4.8.2: a verifier with no challenge in the request is a PKCE downgrade.
    let world = World::new().await;
    let request = world.request("openid").without("code_challenge").without("code_challenge_method");
    let code = world.code(&request).await;

    let answer = world.exchange(&code, &request.verifier).await;

    assert_oauth_error(&answer, StatusCode::BAD_REQUEST, "invalid_grant");
}

// --- Client authentication (RFC 6749 §2.3, §5.2; OpenID Connect Core §9) ---

#[tokio::test]
async fn a_wrong_secret_with_basic_gets_401_invalid_client_and_a_basic_challenge() {
    // RFC 6749 §5.2: with the Authorization header, 401 and a WWW-Authenticate that matches.
    let world = World::new().await;
    let (code, verifier) = code_for(&world, "openid").await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", RP_CALLBACK),
        ("code_verifier", verifier.as_str()),
    ];

    let answer = post_token(&world.app, Some(&basic(CLIENT_ID, "not-the-secret")), &form).await;

    assert_oauth_error(&answer, StatusCode::UNAUTHORIZED, "invalid_client");
    let challenge = answer.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Basic "), "RFC 6749 §5.2: WWW-Authenticate: Basic expected, got {challenge:?}");
}

#[tokio::test]
async fn an_unknown_client_gets_401_invalid_client() {
    let world = World::new().await;
    let form = [("grant_type", "authorization_code"), ("code", "whatever"), ("redirect_uri", RP_CALLBACK)];

    let answer = post_token(&world.app, Some(&basic("ghost", "no-such-secret")), &form).await;

    assert_oauth_error(&answer, StatusCode::UNAUTHORIZED, "invalid_client");
}

#[tokio::test]
async fn client_secret_post_works_for_a_client_registered_for_it() {
    // RFC 6749 §2.3.1 and OpenID Connect Core §9: credentials in the form body.
    let world = World::new().await;
    let spec = ClientSpec {
        id: "post-shop".into(),
        name: "Post shop".into(),
        redirect_uris: vec![RP_CALLBACK.into()],
        grants: vec!["authorization_code".into()],
        auth_method: Some("client_secret_post".into()),
        ..ClientSpec::default()
    };
    let (_, secret) = world.app.client(spec).await;
    let secret = secret.unwrap();
    let request = AuthorizeRequest::new("post-shop", RP_CALLBACK);
    let code = world.code(&request).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", RP_CALLBACK),
        ("code_verifier", request.verifier.as_str()),
        ("client_id", "post-shop"),
        ("client_secret", secret.as_str()),
    ];

    let answer = post_token(&world.app, None, &form).await;

    assert_eq!(answer.status, StatusCode::OK, "the client received {}", answer.json);
    assert!(!answer.str("id_token").is_empty());
}

#[tokio::test]
async fn a_client_registered_for_basic_cannot_authenticate_with_post() {
    // OpenID Connect Core §9: the client uses the method it registered (downgrade protection).
    let world = World::new().await;
    let (code, verifier) = code_for(&world, "openid").await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", RP_CALLBACK),
        ("code_verifier", verifier.as_str()),
        ("client_id", CLIENT_ID),
        ("client_secret", world.secret.as_str()),
    ];

    let answer = post_token(&world.app, None, &form).await;

    assert_oauth_error(&answer, StatusCode::UNAUTHORIZED, "invalid_client");
}

#[tokio::test]
async fn basic_and_a_secret_in_the_body_together_are_refused_as_invalid_request() {
    // RFC 6749 §2.3: "The client MUST NOT use more than one authentication method in each request."
    let world = World::new().await;
    let (code, verifier) = code_for(&world, "openid").await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", RP_CALLBACK),
        ("code_verifier", verifier.as_str()),
        ("client_id", CLIENT_ID),
        ("client_secret", world.secret.as_str()),
    ];

    let answer = post_token(&world.app, Some(&basic(CLIENT_ID, &world.secret)), &form).await;

    assert_oauth_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
}

#[tokio::test]
async fn a_public_client_exchanges_its_code_with_pkce_and_no_secret() {
    // RFC 6749 §2.1 and RFC 7636: a public client proves possession with its verifier.
    let world = World::new().await;
    let spec = ClientSpec {
        id: "mobile".into(),
        name: "Mobile app".into(),
        public: true,
        redirect_uris: vec![RP_CALLBACK.into()],
        grants: vec!["authorization_code".into()],
        ..ClientSpec::default()
    };
    world.app.client(spec).await;
    let request = AuthorizeRequest::new("mobile", RP_CALLBACK);
    let code = world.code(&request).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", RP_CALLBACK),
        ("code_verifier", request.verifier.as_str()),
        ("client_id", "mobile"),
    ];

    let answer = post_token(&world.app, None, &form).await;

    assert_eq!(answer.status, StatusCode::OK, "the client received {}", answer.json);
    assert!(!answer.str("access_token").is_empty());
}

// --- Malformed requests (RFC 6749 §5.2) ---

#[tokio::test]
async fn an_unsupported_grant_type_is_refused() {
    // RFC 9700 §2.4: the resource owner password credentials grant MUST NOT be used.
    let world = World::new().await;
    let form = [("grant_type", "password"), ("username", LOGIN), ("password", PASSWORD)];

    let answer = post_token(&world.app, Some(&basic(CLIENT_ID, &world.secret)), &form).await;

    assert_oauth_error(&answer, StatusCode::BAD_REQUEST, "unsupported_grant_type");
}

#[tokio::test]
async fn a_missing_grant_type_is_refused_as_invalid_request() {
    let world = World::new().await;
    let (code, verifier) = code_for(&world, "openid").await;
    let form = [("code", code.as_str()), ("redirect_uri", RP_CALLBACK), ("code_verifier", verifier.as_str())];

    let answer = post_token(&world.app, Some(&basic(CLIENT_ID, &world.secret)), &form).await;

    assert_oauth_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
}

#[tokio::test]
async fn a_json_body_is_refused_as_invalid_request() {
    // RFC 6749 §4.1.3: application/x-www-form-urlencoded only.
    let world = World::new().await;
    let (code, verifier) = code_for(&world, "openid").await;
    let body = serde_json::json!({
        "grant_type": "authorization_code", "code": code, "redirect_uri": RP_CALLBACK, "code_verifier": verifier,
    });

    let response = machine()
        .post(world.app.url("/token"))
        .header("authorization", basic(CLIENT_ID, &world.secret))
        .json(&body)
        .send()
        .await
        .unwrap();

    assert_oauth_error(&Answer::read(response).await, StatusCode::BAD_REQUEST, "invalid_request");
}

#[tokio::test]
async fn token_responses_are_never_cached() {
    // RFC 6749 §5.1: Cache-Control: no-store and Pragma: no-cache.
    let world = World::new().await;
    let (code, verifier) = code_for(&world, "openid").await;

    let answer = world.exchange(&code, &verifier).await;

    assert_eq!(answer.status, StatusCode::OK, "the client received {}", answer.json);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert_eq!(answer.header("pragma"), Some("no-cache"));
}

#[tokio::test]
async fn token_error_responses_are_never_cached() {
    let world = World::new().await;
    let form = [("grant_type", "authorization_code"), ("code", "made-up"), ("redirect_uri", RP_CALLBACK)];

    let answer = post_token(&world.app, Some(&basic(CLIENT_ID, &world.secret)), &form).await;

    assert_oauth_error(&answer, StatusCode::BAD_REQUEST, "invalid_grant");
    assert_eq!(answer.header("cache-control"), Some("no-store"));
}

// --- Refresh tokens (RFC 6749 §6, RFC 9700 §4.14.2, OpenID Connect Core §11) ---

#[tokio::test]
async fn without_offline_access_no_refresh_token_is_issued() {
    // OpenID Connect Core §11: offline_access asks for a refresh token.
    let world = World::new().await;

    let answer = world.tokens("openid profile").await;

    assert!(answer.json.get("refresh_token").is_none(), "a refresh token was issued anyway: {}", answer.json);
}

#[tokio::test]
async fn a_refresh_token_is_rotated_and_the_old_one_refused() {
    // RFC 9700 §4.14.2: refresh token rotation.
    let world = World::new().await;
    let tokens = world.tokens("openid offline_access").await;
    let old = tokens.str("refresh_token");
    let refreshed = world.refresh(old).await;
    assert_eq!(refreshed.status, StatusCode::OK, "the first refresh should work: {}", refreshed.json);
    assert_ne!(refreshed.str("refresh_token"), old, "a new refresh token each time");

    // Strict rotation (issue #10): refused at once, no grace period.
    let again = world.refresh(old).await;

    assert_oauth_error(&again, StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn replaying_a_rotated_refresh_token_revokes_the_newest_one() {
    // RFC 9700 §4.14.2: reuse of an invalidated refresh token revokes the active one too.
    let world = World::new().await;
    let tokens = world.tokens("openid offline_access").await;
    let old = tokens.str("refresh_token");
    let refreshed = world.refresh(old).await;
    let newest = refreshed.str("refresh_token");

    world.refresh(old).await;

    let answer = world.refresh(newest).await;
    assert_oauth_error(&answer, StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn replaying_a_rotated_refresh_token_revokes_the_access_tokens_of_the_grant() {
    let world = World::new().await;
    let tokens = world.tokens("openid offline_access").await;
    let old = tokens.str("refresh_token");
    let refreshed = world.refresh(old).await;
    let access_token = refreshed.str("access_token");
    assert_eq!(get_userinfo(&world.app, access_token).await.status, StatusCode::OK, "the token works at first");

    world.refresh(old).await;

    let userinfo = get_userinfo(&world.app, access_token).await;
    assert_eq!(userinfo.status, StatusCode::UNAUTHORIZED, "the access token still worked after the replay");
}

// --- The ID token (OpenID Connect Core §2, §3.1.3.6, §3.1.3.7) ---

#[tokio::test]
async fn the_id_token_carries_every_claim_the_client_needs() {
    let world = World::new().await;
    let request = world.request("openid");
    let code = world.code(&request).await;
    let signed_in_at = world.app.clock.now();
    world.app.clock.advance(10);

    let answer = world.exchange(&code, &request.verifier).await;

    let claims = jwt_part(answer.str("id_token"), 1);
    assert_eq!(claims["iss"], world.app.issuer.as_str(), "iss: {claims}");
    assert_eq!(claims["sub"], world.alice.id.as_str(), "sub: {claims}");
    assert_eq!(claims["aud"], CLIENT_ID, "aud: {claims}");
    assert_eq!(claims["azp"], CLIENT_ID, "azp: {claims}");
    assert_eq!(claims["nonce"], "nonce-5678", "§3.1.2.1: the nonce comes back unchanged: {claims}");
    let iat = claims["iat"].as_i64().unwrap_or_else(|| panic!("iat: {claims}"));
    assert_eq!(iat, signed_in_at + 10, "iat is when the token was issued: {claims}");
    assert!(claims["exp"].as_i64().is_some_and(|exp| exp > iat), "exp after iat: {claims}");
    assert_eq!(claims["auth_time"].as_i64(), Some(signed_in_at), "auth_time is when Alice signed in: {claims}");
    assert!(claims["sid"].as_str().is_some_and(|sid| !sid.is_empty()), "sid: {claims}");
    assert_eq!(claims["amr"], serde_json::json!(["pwd"]), "amr: {claims}");
    let digest = Sha256::digest(answer.str("access_token").as_bytes());
    let at_hash = URL_SAFE_NO_PAD.encode(&digest[..16]);
    assert_eq!(claims["at_hash"], at_hash.as_str(), "§3.1.3.6: at_hash is the left half of SHA-256: {claims}");
}

#[tokio::test]
async fn the_id_token_kid_names_a_key_of_the_jwks() {
    // OpenID Connect Core §10.1: with several keys, kid tells which one signed.
    let world = World::new().await;
    let answer = world.tokens("openid").await;
    let header = jwt_part(answer.str("id_token"), 0);
    let kid = header["kid"].as_str().unwrap_or_else(|| panic!("no kid in the header {header}"));

    let jwks: Value = machine().get(world.app.url("/jwks")).send().await.unwrap().json().await.unwrap();

    let key = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid);
    let key = key.unwrap_or_else(|| panic!("kid {kid} is not in the JWKS {jwks}"));
    assert_eq!(key["alg"], header["alg"], "the JWKS key is for the header's algorithm");
    assert_eq!(header["alg"], "RS256", "OpenID Connect Core §15.1: RS256 by default");
}

/// Signs Alice in through a real relying party for a client registered with `id_token_alg`;
/// returns the relying party, the token response and the nonce it sent.
async fn tokens_signed_with(alg: &str) -> (Rp, CoreTokenResponse, Nonce) {
    let world = World::new().await;
    let spec = ClientSpec {
        id: "signed".into(),
        name: "Signed".into(),
        redirect_uris: vec![RP_CALLBACK.into()],
        grants: vec!["authorization_code".into()],
        id_token_alg: Some(alg.into()),
        ..ClientSpec::default()
    };
    let (_, secret) = world.app.client(spec).await;
    let rp = Rp::discover(&world.app.issuer, "signed", secret.as_deref(), RP_CALLBACK).await;
    let pending = rp.start(&[]);
    let callback = Browser::new().authorize(&world.app.issuer, &pending.url, LOGIN, PASSWORD).await;
    let tokens = rp.exchange(&query(&callback)["code"], pending.verifier).await.expect("the code exchanges");
    (rp, tokens, pending.nonce)
}

fn assert_verifies_with(rp: &Rp, tokens: &CoreTokenResponse, nonce: &Nonce, alg: CoreJwsSigningAlgorithm) {
    let id_token = tokens.id_token().expect("an ID token");
    let verifier = rp.client.id_token_verifier().set_allowed_algs([alg.clone()]);
    id_token.claims(&verifier, nonce).unwrap_or_else(|e| panic!("the ID token does not verify: {e:?}"));
    assert_eq!(id_token.signing_alg().unwrap(), &alg, "the header alg");
    let expected =
        AccessTokenHash::from_token(tokens.access_token(), &alg, id_token.signing_key(&verifier).unwrap()).unwrap();
    let claims = id_token.claims(&verifier, nonce).unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected), "at_hash uses the hash that goes with {alg:?}");
}

#[tokio::test]
async fn id_tokens_are_signed_with_es256_for_a_client_registered_for_it() {
    // OpenID Connect Registration §2: id_token_signed_response_alg; RFC 7518 §3.4.
    let (rp, tokens, nonce) = tokens_signed_with("ES256").await;

    assert_verifies_with(&rp, &tokens, &nonce, CoreJwsSigningAlgorithm::EcdsaP256Sha256);
}

#[tokio::test]
async fn id_tokens_are_signed_with_eddsa_for_a_client_registered_for_it() {
    // RFC 8037 §3.1: Ed25519.
    let (rp, tokens, nonce) = tokens_signed_with("EdDSA").await;

    assert_verifies_with(&rp, &tokens, &nonce, CoreJwsSigningAlgorithm::EdDsa);
}
