//! Tokens that end with the browser session they were issued in (issue #10, OpenID Connect
//! Core §11): signing out at /logout, closing a session from /account or an administrator's
//! password reset stops the access tokens (and session refresh tokens) of grants without
//! `offline_access` issued in that session; an `offline_access` grant outlives the session.

use idp::domain::client::ClientSettings;
use idp_tests::browser::query;
use idp_tests::{Browser, PASSWORD};
use reqwest::StatusCode;
use serde_json::Value;

use crate::support_protocol::{Answer, CLIENT_ID, LOGIN, World, basic, get_userinfo, machine};

/// "shop" registered for session refresh tokens (refresh tokens without offline_access).
async fn world_with_session_refresh_tokens() -> World {
    World::with_shop_settings(ClientSettings { session_refresh_tokens: true, ..ClientSettings::default() }).await
}

/// Tokens of "shop" for `scope`, Alice signing in (or already signed in) in `browser`.
async fn tokens_in(world: &World, browser: &Browser, scope: &str) -> Answer {
    let request = world.request(scope);
    let callback = browser.authorize(&world.app.issuer, &request.url(&world.app), LOGIN, PASSWORD).await;
    let code = query(&callback).get("code").cloned().unwrap_or_else(|| panic!("no code: {callback}"));
    let answer = world.exchange(&code, &request.verifier).await;
    assert_eq!(answer.status, StatusCode::OK, "the code should exchange: {}", answer.json);
    answer
}

async fn introspect(world: &World, token: &str) -> Value {
    let response = machine()
        .post(world.app.url("/introspect"))
        .header("authorization", basic(CLIENT_ID, &world.secret))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// RP-initiated logout with the ID token as hint: signs the browser out at once.
async fn sign_out(world: &World, browser: &Browser, tokens: &Answer) {
    let url = world.app.url(&format!("/logout?id_token_hint={}", tokens.str("id_token")));
    let page = browser.follow(&world.app.issuer, browser.get(&url).await).await;
    assert_eq!(page.status, StatusCode::OK, "the logout page: {}", page.body);
}

fn assert_invalid_grant(answer: &Answer) {
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "the refresh was not refused: {}", answer.json);
    assert_eq!(answer.error(), "invalid_grant", "{}", answer.json);
}

async fn assert_access_token_dead(world: &World, access_token: &str) {
    assert_eq!(introspect(world, access_token).await, serde_json::json!({"active": false}), "still active");
    assert_eq!(get_userinfo(&world.app, access_token).await.status, StatusCode::UNAUTHORIZED, "userinfo answered");
}

async fn assert_access_token_live(world: &World, access_token: &str) {
    assert_eq!(introspect(world, access_token).await["active"], true, "the access token died");
    assert_eq!(get_userinfo(&world.app, access_token).await.status, StatusCode::OK, "userinfo refused it");
}

#[tokio::test]
async fn signing_out_revokes_the_session_refresh_token_and_access_token() {
    let world = world_with_session_refresh_tokens().await;
    let tokens = tokens_in(&world, &world.browser, "openid profile").await;
    let refresh_token = tokens.str("refresh_token");
    assert_eq!(introspect(&world, refresh_token).await["active"], true);
    assert_access_token_live(&world, tokens.str("access_token")).await;

    sign_out(&world, &world.browser, &tokens).await;

    assert_eq!(introspect(&world, refresh_token).await, serde_json::json!({"active": false}));
    assert_invalid_grant(&world.refresh(refresh_token).await);
    assert_access_token_dead(&world, tokens.str("access_token")).await;
}

#[tokio::test]
async fn by_default_the_access_token_of_a_grant_without_offline_access_ends_with_the_sign_out() {
    let world = World::new().await;
    let tokens = tokens_in(&world, &world.browser, "openid profile").await;
    assert!(tokens.json.get("refresh_token").is_none(), "no refresh token without offline_access: {}", tokens.json);

    sign_out(&world, &world.browser, &tokens).await;

    assert_access_token_dead(&world, tokens.str("access_token")).await;
}

#[tokio::test]
async fn an_offline_access_grant_survives_the_sign_out() {
    // §11: offline_access is access "even when the End-User is not present (not logged in)".
    let world = world_with_session_refresh_tokens().await;
    let tokens = tokens_in(&world, &world.browser, "openid offline_access").await;

    sign_out(&world, &world.browser, &tokens).await;

    assert_access_token_live(&world, tokens.str("access_token")).await;
    let refreshed = world.refresh(tokens.str("refresh_token")).await;
    assert_eq!(refreshed.status, StatusCode::OK, "the offline grant died with the session: {}", refreshed.json);
    assert_access_token_live(&world, refreshed.str("access_token")).await;
}

#[tokio::test]
async fn a_refreshed_session_token_still_ends_with_the_session() {
    // Rotation hands the session binding on to the successor and its access token.
    let world = world_with_session_refresh_tokens().await;
    let tokens = tokens_in(&world, &world.browser, "openid").await;
    let refreshed = world.refresh(tokens.str("refresh_token")).await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.json);

    sign_out(&world, &world.browser, &tokens).await;

    assert_invalid_grant(&world.refresh(refreshed.str("refresh_token")).await);
    assert_access_token_dead(&world, refreshed.str("access_token")).await;
}

#[tokio::test]
async fn a_code_whose_session_ended_does_not_exchange() {
    let world = world_with_session_refresh_tokens().await;
    let first = tokens_in(&world, &world.browser, "openid").await;
    let request = world.request("openid");
    let code = world.code(&request).await;
    sign_out(&world, &world.browser, &first).await;

    let answer = world.exchange(&code, &request.verifier).await;

    assert_invalid_grant(&answer);
}

#[tokio::test]
async fn closing_a_session_from_the_account_space_revokes_that_session_s_tokens_only() {
    let world = world_with_session_refresh_tokens().await;
    let phone = Browser::new();
    let phone_tokens = tokens_in(&world, &phone, "openid").await;
    let laptop = Browser::new();
    let laptop_tokens = tokens_in(&world, &laptop, "openid").await;
    let account = laptop.follow(&world.app.issuer, laptop.get(&world.app.url("/account")).await).await;
    assert!(account.url.ends_with("/account"), "the laptop is signed in: {}", account.url);
    // The one revoke form names the other session: the phone's.
    let phone_sid = account.field("session_id").expect("the phone's session is listed with a revoke form");

    let closed = laptop
        .post(
            &world.app.url("/account/sessions/revoke"),
            &[("csrf", &account.field("csrf").unwrap()), ("session_id", &phone_sid)],
        )
        .await;

    assert_eq!(closed.status, StatusCode::SEE_OTHER, "{}", closed.body);
    assert_invalid_grant(&world.refresh(phone_tokens.str("refresh_token")).await);
    assert_access_token_dead(&world, phone_tokens.str("access_token")).await;
    assert_access_token_live(&world, laptop_tokens.str("access_token")).await;
    let refreshed = world.refresh(laptop_tokens.str("refresh_token")).await;
    assert_eq!(refreshed.status, StatusCode::OK, "the laptop's grant died too: {}", refreshed.json);
}

#[tokio::test]
async fn an_administrator_reset_ends_the_session_tokens_at_once() {
    // `sessions_not_before` invalidates every session in the reset's transaction; the tokens
    // bound to them stop with it, before anything else runs.
    let world = world_with_session_refresh_tokens().await;
    let tokens = tokens_in(&world, &world.browser, "openid").await;
    assert_eq!(world.app.sessions_of(&world.alice.id).await.len(), 1, "Alice is signed in once");

    idp::admin::reset_password(&world.app.services, LOGIN).await.unwrap();

    assert_access_token_dead(&world, tokens.str("access_token")).await;
    assert_invalid_grant(&world.refresh(tokens.str("refresh_token")).await);
}
