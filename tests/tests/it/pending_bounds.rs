//! What an unauthenticated browser may make the provider keep (issue #10, decision 0013): size
//! bounds on a pending authorization request (per parameter and in total), its short life until
//! one of its pages is shown, and the per-address limit on creating pending records.

use std::collections::HashMap;

use idp::domain::user_type::{CaptchaKind, IdentifierRecovery, RecoveryRule, UserType};
use idp::oidc::pending_limits::{MAX_NONCE, MAX_STATE};
use idp_tests::browser::{Page, query};
use idp_tests::{Browser, PASSWORD, RP_CALLBACK, Setup, TestApp};
use reqwest::StatusCode;

use crate::support_protocol::{AuthorizeRequest, CLIENT_ID, LOGIN, World};

const STATE: &str = "state-1234";
/// `auth_request_unanswered_ttl` and `auth_request_ttl` by default.
const UNANSWERED_TTL: i64 = 300;
const AUTH_REQUEST_TTL: i64 = 1800;

async fn open(world: &World, request: &AuthorizeRequest) -> Page {
    world.browser.get(&request.url(&world.app)).await
}

/// RFC 6749 §4.1.2.1: back to the client with `error=invalid_request`; returns the parameters.
fn assert_invalid_request_redirect(page: &Page) -> HashMap<String, String> {
    let location = page.location().unwrap_or_else(|| {
        panic!("the user should have been sent back to the application, but saw a {} page: {}", page.status, page.body)
    });
    assert!(location.starts_with(RP_CALLBACK), "the user was sent to {location}, not to the application");
    let params = query(&location);
    assert_eq!(params.get("error").map(String::as_str), Some("invalid_request"), "the application received {location}");
    assert!(!params.contains_key("code"), "an error redirect must not carry a code: {location}");
    params
}

/// A themed error page (no redirect) with `status` and the support code `code`.
fn assert_error_page(page: &Page, status: StatusCode, code: &str) {
    assert!(page.location().is_none(), "expected an error page, the user was sent to {:?}", page.location());
    assert_eq!(page.status, status, "the user saw: {}", page.body);
    assert!(page.body.contains("class=\"theme-default\""), "the error page is not themed: {}", page.body);
    assert!(page.body.contains(&format!("<code>{code}")), "the page does not show the code {code}: {}", page.body);
}

/// The themed page saying the sign-in request expired (French by default).
fn assert_expired_page(page: &Page) {
    assert!(page.location().is_none(), "expected an error page, the user was sent to {:?}", page.location());
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "the user saw: {}", page.body);
    assert!(page.body.contains("class=\"theme-default\""), "the error page is not themed: {}", page.body);
    assert!(page.body.contains("a expiré"), "the user should be told the request expired: {}", page.body);
}

/// The `/login?request_id=…` the first answer of /authorize sends the browser to.
fn login_location(world: &World, page: &Page) -> String {
    let location = page.location().unwrap_or_else(|| panic!("expected the login page, the user saw: {}", page.body));
    assert!(location.starts_with("/login?"), "expected the login page, the user was sent to {location}");
    world.app.url(&location)
}

/// Posts Alice's credentials on the login page `login`.
async fn submit_login(world: &World, login: &Page) -> Page {
    let form = [
        ("csrf", login.field("csrf").expect("the login form has a CSRF token")),
        ("request_id", login.field("request_id").expect("the login form names the request")),
        ("login", LOGIN.to_owned()),
        ("password", PASSWORD.to_owned()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    world.browser.post(&world.app.url("/login"), &form).await
}

// --- Size of what is kept ---

#[tokio::test]
async fn an_oversized_nonce_is_sent_back_as_invalid_request_with_the_state() {
    let world = World::new().await;
    let request = world.request("openid").with("nonce", &"n".repeat(8 * 1024));

    let page = open(&world, &request).await;

    let params = assert_invalid_request_redirect(&page);
    assert_eq!(params.get("state").map(String::as_str), Some(STATE), "the state is echoed (RFC 6749 §4.1.2.1)");
}

#[tokio::test]
async fn a_nonce_at_its_bound_is_accepted() {
    let world = World::new().await;
    let request = world.request("openid").with("nonce", &"n".repeat(MAX_NONCE));

    let page = open(&world, &request).await;

    login_location(&world, &page);
}

#[tokio::test]
async fn each_kept_parameter_past_its_bound_is_sent_back_as_invalid_request() {
    let world = World::new().await;
    for name in ["login_hint", "ui_locales", "acr_values", "claims", "scope"] {
        let request = world.request("openid").with(name, &"x".repeat(4 * 1024));

        let page = open(&world, &request).await;

        let params = assert_invalid_request_redirect(&page);
        let description = params.get("error_description").cloned().unwrap_or_default();
        assert!(description.contains(name), "the description should name {name}: {description:?}");
        assert_eq!(params.get("state").map(String::as_str), Some(STATE), "the state is echoed for {name}");
    }
}

#[tokio::test]
async fn an_oversized_state_is_sent_back_as_invalid_request_without_echoing_it() {
    let world = World::new().await;
    let request = world.request("openid").with("state", &"s".repeat(MAX_STATE + 1));

    let page = open(&world, &request).await;

    let params = assert_invalid_request_redirect(&page);
    assert!(!params.contains_key("state"), "an oversized state must not be echoed");
}

#[tokio::test]
async fn an_oversized_parameter_with_an_unregistered_redirect_uri_gets_an_error_page() {
    let world = World::new().await;
    let request = AuthorizeRequest::new(CLIENT_ID, "https://evil.example/cb").with("nonce", &"n".repeat(8 * 1024));

    let page = open(&world, &request).await;

    assert_error_page(&page, StatusCode::BAD_REQUEST, "invalid_redirect_uri");
}

#[tokio::test]
async fn values_within_their_bounds_that_add_up_past_the_total_are_refused() {
    // JSON escaping doubles each quote: a state of quotes at its bound plus the largest nonce
    // make a record past MAX_PENDING_BYTES.
    let world = World::new().await;
    let request = world.request("openid").with("state", &"\"".repeat(MAX_STATE)).with("nonce", &"n".repeat(MAX_NONCE));

    let page = open(&world, &request).await;

    let params = assert_invalid_request_redirect(&page);
    assert!(
        params.get("error_description").is_some_and(|d| d.contains("too large")),
        "the description should say the request is too large: {params:?}"
    );
}

#[tokio::test]
async fn a_state_of_2_kib_of_json_comes_back_with_the_code() {
    let world = World::new().await;
    let mut state = String::from("{\"return_to\":\"/élèves/notes?x=1&y=2\",\"pad\":\"");
    state.push_str(&"a".repeat(2048 - state.len() - 2));
    state.push_str("\"}");
    assert_eq!(state.len(), 2048);
    let request = world.request("openid").with("state", &state);

    let callback = world.browser.authorize(&world.app.issuer, &request.url(&world.app), LOGIN, PASSWORD).await;

    let params = query(&callback);
    assert!(params.contains_key("code"), "the application received no code: {callback}");
    assert_eq!(params.get("state"), Some(&state), "the state must come back unchanged");
}

// --- Life of an unanswered request ---

#[tokio::test]
async fn a_request_whose_login_page_is_never_shown_expires_after_the_short_ttl() {
    let world = World::new().await;
    let first = open(&world, &world.request("openid")).await;
    let login_url = login_location(&world, &first);

    world.app.clock.advance(UNANSWERED_TTL + 1);
    let page = world.browser.get(&login_url).await;

    assert_expired_page(&page);
}

#[tokio::test]
async fn showing_the_login_page_gives_the_request_the_full_ttl() {
    let world = World::new().await;
    let first = open(&world, &world.request("openid")).await;
    let login = world.browser.get(&login_location(&world, &first)).await;
    assert_eq!(login.status, StatusCode::OK, "the login page: {}", login.body);

    world.app.clock.advance(AUTH_REQUEST_TTL - 60);
    let next = submit_login(&world, &login).await;

    let location = next.location().unwrap_or_else(|| panic!("the sign-in should go on, the user saw: {}", next.body));
    assert!(location.starts_with("/consent?"), "after signing in Alice should see the consent page, not {location}");
}

#[tokio::test]
async fn a_shown_request_still_expires_at_auth_request_ttl() {
    let world = World::new().await;
    let first = open(&world, &world.request("openid")).await;
    let login = world.browser.get(&login_location(&world, &first)).await;
    assert_eq!(login.status, StatusCode::OK, "the login page: {}", login.body);

    world.app.clock.advance(AUTH_REQUEST_TTL);
    let page = submit_login(&world, &login).await;

    assert_expired_page(&page);
}

// --- Per-address limit on creating pending records ---

async fn limited_world(per_ip: u32) -> World {
    let app = TestApp::spawn_with(Setup {
        tweak: Box::new(move |raw| {
            raw.pending_requests_per_ip = per_ip;
            raw.pending_requests_window = 60;
        }),
        ..Setup::default()
    })
    .await;
    let alice = app.user(LOGIN).await;
    let (_, secret) = app.confidential_client(CLIENT_ID, RP_CALLBACK).await;
    World { app, alice, secret, browser: Browser::new() }
}

#[tokio::test]
async fn too_many_authorization_requests_from_one_address_get_a_themed_429_until_the_window_ends() {
    let world = limited_world(3).await;
    for _ in 0..3 {
        let page = open(&world, &world.request("openid")).await;
        login_location(&world, &page);
    }

    let refused = open(&world, &world.request("openid")).await;
    assert_error_page(&refused, StatusCode::TOO_MANY_REQUESTS, "too_many_requests");

    world.app.clock.advance(60);
    let again = open(&world, &world.request("openid")).await;
    login_location(&world, &again);
}

#[tokio::test]
async fn refused_authorization_requests_keep_nothing_and_cost_no_place() {
    // An invalid request is answered without being kept, so it does not use up the limit.
    let world = limited_world(1).await;
    for _ in 0..5 {
        let page = open(&world, &world.request("openid").with("nonce", &"n".repeat(MAX_NONCE + 1))).await;
        assert_invalid_request_redirect(&page);
    }

    let page = open(&world, &world.request("openid")).await;

    login_location(&world, &page);
}

#[tokio::test]
async fn logout_confirmations_count_against_the_same_limit() {
    let world = limited_world(1).await;
    let first = world.browser.get(&world.app.url("/logout")).await;
    assert_eq!(first.status, StatusCode::OK, "a confirmation page: {}", first.body);

    let refused = world.browser.get(&world.app.url("/logout")).await;

    assert_error_page(&refused, StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
}

#[tokio::test]
async fn a_logout_with_an_oversized_state_gets_an_error_page() {
    let world = World::new().await;
    let url = world.app.url(&format!("/logout?state={}", "s".repeat(MAX_STATE + 1)));

    let page = world.browser.get(&url).await;

    assert_error_page(&page, StatusCode::BAD_REQUEST, "invalid_request");
}

#[tokio::test]
async fn the_account_space_sign_in_counts_against_the_same_limit() {
    let world = limited_world(1).await;
    let first = world.browser.get(&world.app.url("/account")).await;
    assert!(
        first.location().is_some_and(|l| l.contains("/authorize?")),
        "/account should start a sign-in: {:?}",
        first.location()
    );

    let refused = world.browser.get(&world.app.url("/account")).await;

    assert_error_page(&refused, StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
}

#[tokio::test]
async fn each_captcha_of_a_recovery_form_counts_against_the_same_limit() {
    let mut with_captcha = UserType::default_usager();
    with_captcha.recovery = RecoveryRule {
        captcha: CaptchaKind::Arithmetic,
        ask_secret_question: false,
        identifier: IdentifierRecovery::Email,
        ..RecoveryRule::default()
    };
    let app = TestApp::spawn_with(Setup {
        tweak: Box::new(move |raw| {
            raw.user_types = vec![with_captcha];
            raw.pending_requests_per_ip = 1;
        }),
        ..Setup::default()
    })
    .await;
    let browser = Browser::new();
    let first = browser.get(&app.url("/recovery/identifier")).await;
    assert_eq!(first.status, StatusCode::OK, "the recovery form: {}", first.body);
    assert!(first.field("captcha_id").is_some(), "the form should carry a captcha: {}", first.body);

    let refused = browser.get(&app.url("/recovery/identifier")).await;

    assert_error_page(&refused, StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
}
