//! The userinfo endpoint (OpenID Connect Core §5.3): the three ways to present a bearer token
//! (RFC 6750 §2), the RFC 6750 §3 challenges, and the claims each scope releases (§5.4).

use reqwest::StatusCode;
use serde_json::Value;

use crate::support_protocol::{Answer, World, get_userinfo, machine};

/// Names of the members of a JSON object, sorted.
fn members(json: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    names.sort_unstable();
    names
}

// --- Presenting the token (RFC 6750 §2) ---

#[tokio::test]
async fn userinfo_answers_a_get_with_the_token_in_the_authorization_header() {
    // RFC 6750 §2.1.
    let world = World::new().await;
    let tokens = world.tokens("openid").await;

    let answer = get_userinfo(&world.app, tokens.str("access_token")).await;

    assert_eq!(answer.status, StatusCode::OK, "the client received {}", answer.json);
    assert_eq!(answer.str("sub"), world.alice.id);
}

#[tokio::test]
async fn userinfo_answers_a_post_with_the_token_in_the_authorization_header() {
    // OpenID Connect Core §5.3.1: GET and POST.
    let world = World::new().await;
    let tokens = world.tokens("openid").await;

    let response =
        machine().post(world.app.url("/userinfo")).bearer_auth(tokens.str("access_token")).send().await.unwrap();

    let answer = Answer::read(response).await;
    assert_eq!(answer.status, StatusCode::OK, "the client received {}", answer.json);
    assert_eq!(answer.str("sub"), world.alice.id);
}

#[tokio::test]
async fn userinfo_answers_a_post_with_the_token_in_the_form_body() {
    // RFC 6750 §2.2.
    let world = World::new().await;
    let tokens = world.tokens("openid").await;

    let response = machine()
        .post(world.app.url("/userinfo"))
        .form(&[("access_token", tokens.str("access_token"))])
        .send()
        .await
        .unwrap();

    let answer = Answer::read(response).await;
    assert_eq!(answer.status, StatusCode::OK, "the client received {}", answer.json);
    assert_eq!(answer.str("sub"), world.alice.id);
}

#[tokio::test]
async fn a_token_in_both_the_header_and_the_body_is_refused_as_invalid_request() {
    // RFC 6750 §2: "Clients MUST NOT use more than one method to transmit the token in each
    // request"; §3.1: invalid_request is a 400.
    let world = World::new().await;
    let tokens = world.tokens("openid").await;
    let token = tokens.str("access_token");

    let response = machine()
        .post(world.app.url("/userinfo"))
        .bearer_auth(token)
        .form(&[("access_token", token)])
        .send()
        .await
        .unwrap();

    let answer = Answer::read(response).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "the client received {}", answer.json);
    let challenge = answer.header("www-authenticate").unwrap_or_default();
    assert!(challenge.contains("error=\"invalid_request\""), "RFC 6750 §3: the challenge was {challenge:?}");
}

// --- Refusals (RFC 6750 §3) ---

#[tokio::test]
async fn a_request_without_a_token_gets_a_bearer_challenge_without_an_error_code() {
    // RFC 6750 §3.1: "If the request lacks any authentication information ... the resource
    // server SHOULD NOT include an error code or other error information."
    let world = World::new().await;

    let response = machine().get(world.app.url("/userinfo")).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenge = response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
    let challenge = challenge.unwrap_or_else(|| panic!("RFC 6750 §3: no WWW-Authenticate header"));
    assert!(challenge.starts_with("Bearer realm="), "the challenge was {challenge:?}");
    assert!(!challenge.contains("error"), "no error code without a token; the challenge was {challenge:?}");
}

#[tokio::test]
async fn an_unknown_token_gets_invalid_token() {
    // RFC 6750 §3.1: invalid_token, 401.
    let world = World::new().await;

    let answer = get_userinfo(&world.app, "not-a-token-this-provider-issued").await;

    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "the client received {}", answer.json);
    let challenge = answer.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Bearer "), "the challenge was {challenge:?}");
    assert!(challenge.contains("error=\"invalid_token\""), "the challenge was {challenge:?}");
}

#[tokio::test]
async fn an_expired_access_token_is_refused() {
    // RFC 6750 §3.1: "The access token provided is expired" → invalid_token. Lifetime: 600 s.
    let world = World::new().await;
    let tokens = world.tokens("openid").await;
    world.app.clock.advance(601);

    let answer = get_userinfo(&world.app, tokens.str("access_token")).await;

    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "the expired token still answered {}", answer.json);
    let challenge = answer.header("www-authenticate").unwrap_or_default();
    assert!(challenge.contains("error=\"invalid_token\""), "the challenge was {challenge:?}");
}

// --- Claims by scope (OpenID Connect Core §5.4) ---

#[tokio::test]
async fn the_openid_scope_alone_releases_only_sub() {
    let world = World::new().await;
    let tokens = world.tokens("openid").await;

    let answer = get_userinfo(&world.app, tokens.str("access_token")).await;

    assert_eq!(members(&answer.json), ["sub"], "the client received {}", answer.json);
}

#[tokio::test]
async fn the_profile_scope_releases_the_names_and_preferred_username() {
    let world = World::new().await;
    let tokens = world.tokens("openid profile").await;

    let answer = get_userinfo(&world.app, tokens.str("access_token")).await;

    assert_eq!(answer.str("given_name"), "Alice", "{}", answer.json);
    assert_eq!(answer.str("family_name"), "Martin", "{}", answer.json);
    assert_eq!(answer.str("name"), "Alice Martin", "{}", answer.json);
    assert_eq!(answer.str("preferred_username"), "alice.martin", "{}", answer.json);
    assert!(answer.json.get("email").is_none(), "email was released without the email scope: {}", answer.json);
}

#[tokio::test]
async fn the_email_scope_releases_email_and_email_verified() {
    let world = World::new().await;
    let tokens = world.tokens("openid email").await;

    let answer = get_userinfo(&world.app, tokens.str("access_token")).await;

    assert_eq!(answer.str("email"), "alice.martin@example.org", "{}", answer.json);
    assert!(answer.json["email_verified"].is_boolean(), "email_verified: {}", answer.json);
    assert!(answer.json.get("given_name").is_none(), "names were released without the profile scope: {}", answer.json);
}
