//! The authorization endpoint (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2), one rule per test:
//! who gets an error page and who gets a redirect, which error codes come back, and how
//! `prompt`, `max_age`, `login_hint` and remembered consent change what the user sees.

use std::collections::HashMap;

use idp::admin::ClientSpec;
use idp_tests::browser::{Page, query};
use idp_tests::{PASSWORD, RP_CALLBACK};
use reqwest::StatusCode;

use crate::support_protocol::{AuthorizeRequest, CLIENT_ID, LOGIN, World};

const STATE: &str = "state-1234";

/// RFC 6749 §4.1.2.1: an unknown client or a bad redirect URI is told to the user, never
/// redirected to. The page is the theme's error page, with the error code for support.
fn assert_error_page(page: &Page, code: &str) {
    assert!(
        page.location().is_none(),
        "the user should see an error page, but was redirected to {:?}",
        page.location()
    );
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "the user saw: {}", page.body);
    let content_type = page.header("content-type").unwrap_or_default();
    assert!(content_type.starts_with("text/html"), "the user got {content_type:?} instead of a page");
    assert!(page.body.contains("class=\"theme-default\""), "the error page is not themed: {}", page.body);
    assert!(page.body.contains(&format!("<code>{code}")), "the page does not show the code {code}: {}", page.body);
}

/// No link, form or refresh on the page leads to `target` (links back to the provider itself,
/// such as the language switch, are fine).
fn assert_no_way_to(page: &Page, target: &str) {
    assert!(!page.body.contains("http-equiv=\"refresh\""), "the error page refreshes to elsewhere: {}", page.body);
    let unescaped = page.body.replace("&#x2F;", "/").replace("&amp;", "&");
    for attribute in ["href=\"", "action=\"", "src=\""] {
        for (at, _) in unescaped.match_indices(attribute) {
            let value = &unescaped[at + attribute.len()..];
            assert!(!value.starts_with(target), "the error page leads to {target}: {}", page.body);
        }
    }
}

/// RFC 6749 §4.1.2.1 and RFC 9207 §2: any other error goes back to the client with `error`,
/// `error_description`, `state` and `iss`. Returns the parameters of the redirect.
fn assert_error_redirect(world: &World, page: &Page, error: &str) -> HashMap<String, String> {
    let location = page.location().unwrap_or_else(|| {
        panic!("the user should have been sent back to the application, but saw a {} page: {}", page.status, page.body)
    });
    assert!(location.starts_with(RP_CALLBACK), "the user was sent to {location}, not to the application");
    let params = query(&location);
    assert_eq!(params.get("error").map(String::as_str), Some(error), "the application received {location}");
    assert!(params.get("error_description").is_some_and(|d| !d.is_empty()), "no error_description in {location}");
    assert_eq!(params.get("iss"), Some(&world.app.issuer), "RFC 9207: iss identifies the provider in {location}");
    assert!(!params.contains_key("code"), "an error redirect must not carry a code: {location}");
    params
}

/// The parameters of a redirect back to the application that carries a code.
fn assert_code_redirect(page: &Page) -> HashMap<String, String> {
    let location = page.location().unwrap_or_else(|| {
        panic!("the user should have been sent back to the application, but saw a {} page: {}", page.status, page.body)
    });
    assert!(location.starts_with(RP_CALLBACK), "the user was sent to {location}, not to the application");
    let params = query(&location);
    assert!(params.contains_key("code"), "the application received no code: {location}");
    params
}

fn assert_login_page(page: &Page) {
    let location = page.location().unwrap_or_else(|| panic!("expected the login page, the user saw: {}", page.body));
    assert!(location.starts_with("/login?"), "expected the login page, the user was sent to {location}");
}

/// From the first answer of the authorization endpoint: follows to the login page, signs Alice
/// in, and returns what comes next (the consent page, or the redirect back to the client).
async fn sign_in(world: &World, first: Page) -> Page {
    let browser = &world.browser;
    let origin = &world.app.issuer;
    let login = browser.follow(origin, first).await;
    assert!(login.url.contains("/login"), "expected the login page, the user saw {}: {}", login.url, login.body);
    let form = [
        ("csrf", login.field("csrf").unwrap()),
        ("request_id", login.field("request_id").unwrap()),
        ("login", LOGIN.to_owned()),
        ("password", PASSWORD.to_owned()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    browser.follow(origin, browser.post(&world.app.url("/login"), &form).await).await
}

/// Submits the consent page with `decision` ("allow" or "deny").
async fn decide(world: &World, consent: &Page, decision: &str) -> Page {
    assert!(
        consent.url.contains("/consent"),
        "expected the consent page, the user saw {}: {}",
        consent.url,
        consent.body
    );
    let csrf = consent.field("csrf").unwrap();
    let request_id = consent.field("request_id").unwrap();
    let form = [("csrf", csrf.as_str()), ("request_id", request_id.as_str()), ("decision", decision)];
    world.browser.follow(&world.app.issuer, world.browser.post(&world.app.url("/consent"), &form).await).await
}

async fn open(world: &World, request: &AuthorizeRequest) -> Page {
    world.browser.get(&request.url(&world.app)).await
}

// --- Requests that must never be redirected (RFC 6749 §4.1.2.1, RFC 9700 §4.1) ---

#[tokio::test]
async fn an_unknown_client_id_gets_an_error_page_and_is_never_redirected() {
    let world = World::new().await;
    let request = AuthorizeRequest::new("nobody-knows-me", "https://evil.example/cb");

    let page = open(&world, &request).await;

    assert_error_page(&page, "unknown_client");
    assert_no_way_to(&page, "https://evil.example");
}

#[tokio::test]
async fn a_missing_client_id_gets_an_error_page() {
    let world = World::new().await;
    let request = world.request("openid").without("client_id");

    let page = open(&world, &request).await;

    assert_error_page(&page, "invalid_request");
}

#[tokio::test]
async fn an_unregistered_redirect_uri_gets_an_error_page_and_is_never_redirected() {
    let world = World::new().await;
    let request = world.request("openid").with("redirect_uri", "https://evil.example/cb");

    let page = open(&world, &request).await;

    assert_error_page(&page, "invalid_redirect_uri");
    assert_no_way_to(&page, "https://evil.example");
}

#[tokio::test]
async fn a_missing_redirect_uri_gets_an_error_page() {
    // OpenID Connect Core §3.1.2.1: redirect_uri is REQUIRED.
    let world = World::new().await;
    let request = world.request("openid").without("redirect_uri");

    let page = open(&world, &request).await;

    assert_error_page(&page, "invalid_redirect_uri");
}

#[tokio::test]
async fn a_redirect_uri_differing_by_a_trailing_slash_gets_an_error_page() {
    // OpenID Connect Core §3.1.2.1: "exactly match" (simple string comparison), RFC 9700 §4.1.3.
    let world = World::new().await;
    let request = world.request("openid").with("redirect_uri", &format!("{RP_CALLBACK}/"));

    let page = open(&world, &request).await;

    assert_error_page(&page, "invalid_redirect_uri");
}

#[tokio::test]
async fn a_redirect_uri_with_an_added_query_gets_an_error_page() {
    // OpenID Connect Core §3.1.2.1: exact match, so an extra query is another URI.
    let world = World::new().await;
    let request = world.request("openid").with("redirect_uri", &format!("{RP_CALLBACK}?next=https://evil.example"));

    let page = open(&world, &request).await;

    assert_error_page(&page, "invalid_redirect_uri");
}

#[tokio::test]
async fn a_repeated_client_id_gets_an_error_page() {
    // RFC 6749 §3.1: parameters MUST NOT be included more than once; which client is asking is
    // unknown, so nowhere is safe to redirect to.
    let world = World::new().await;
    let request = world.request("openid").also("client_id", CLIENT_ID);

    let page = open(&world, &request).await;

    assert_error_page(&page, "invalid_request");
}

// --- Errors returned to the client (RFC 6749 §4.1.2.1, RFC 9207) ---

#[tokio::test]
async fn a_missing_response_type_is_sent_back_as_invalid_request_with_state_and_iss() {
    let world = World::new().await;
    let request = world.request("openid").without("response_type");

    let page = open(&world, &request).await;

    let params = assert_error_redirect(&world, &page, "invalid_request");
    assert_eq!(params.get("state").map(String::as_str), Some(STATE), "RFC 6749 §4.1.2.1: state comes back unchanged");
}

#[tokio::test]
async fn response_type_token_is_sent_back_as_unsupported_response_type() {
    // The implicit flow is not offered (RFC 9700 §2.1.2).
    let world = World::new().await;
    let request = world.request("openid").with("response_type", "token");

    let page = open(&world, &request).await;

    let params = assert_error_redirect(&world, &page, "unsupported_response_type");
    assert_eq!(params.get("state").map(String::as_str), Some(STATE));
}

#[tokio::test]
async fn a_scope_without_openid_is_sent_back_as_invalid_scope() {
    // OpenID Connect Core §3.1.2.1: openid is REQUIRED; this provider is OpenID Connect only.
    let world = World::new().await;
    let request = world.request("profile email");

    let page = open(&world, &request).await;

    let params = assert_error_redirect(&world, &page, "invalid_scope");
    assert_eq!(params.get("state").map(String::as_str), Some(STATE));
}

#[tokio::test]
async fn a_plain_pkce_challenge_is_sent_back_as_invalid_request() {
    // RFC 7636 §4.4.1 lets a server refuse a method; RFC 9700 §2.1.1: plain offers no protection.
    let world = World::new().await;
    let request = world.request("openid").with("code_challenge_method", "plain");

    let page = open(&world, &request).await;

    let params = assert_error_redirect(&world, &page, "invalid_request");
    assert_eq!(params.get("state").map(String::as_str), Some(STATE));
}

#[tokio::test]
async fn a_public_client_without_pkce_is_sent_back_as_invalid_request() {
    // RFC 9700 §2.1.1: public clients MUST use PKCE.
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
    let request =
        AuthorizeRequest::new("mobile", RP_CALLBACK).without("code_challenge").without("code_challenge_method");

    let page = open(&world, &request).await;

    let params = assert_error_redirect(&world, &page, "invalid_request");
    assert_eq!(params.get("state").map(String::as_str), Some(STATE));
}

#[tokio::test]
async fn a_repeated_state_is_sent_back_as_invalid_request() {
    // RFC 6749 §3.1: parameters MUST NOT be included more than once.
    let world = World::new().await;
    let request = world.request("openid").also("state", "another-state");

    let page = open(&world, &request).await;

    assert_error_redirect(&world, &page, "invalid_request");
}

#[tokio::test]
async fn a_signed_request_object_is_sent_back_as_invalid_request_object() {
    // OpenID Connect Core §6.1 and §3.1.2.6: unsigned request objects are accepted (see
    // request_details.rs); discovery lists only "none" in
    // request_object_signing_alg_values_supported, so a signed one is refused.
    let world = World::new().await;
    let request = world.request("openid").with("request", "eyJhbGciOiJSUzI1NiJ9.eyJzY29wZSI6Im9wZW5pZCJ9.c2ln");

    let page = open(&world, &request).await;

    let params = assert_error_redirect(&world, &page, "invalid_request_object");
    assert_eq!(params.get("state").map(String::as_str), Some(STATE));
}

#[tokio::test]
async fn a_request_uri_is_sent_back_as_request_uri_not_supported() {
    // OpenID Connect Core §6.2 and §3.1.2.6; discovery says request_uri_parameter_supported: false.
    let world = World::new().await;
    let request = world.request("openid").with("request_uri", "https://rp.example/request.jwt");

    let page = open(&world, &request).await;

    assert_error_redirect(&world, &page, "request_uri_not_supported");
}

#[tokio::test]
async fn prompt_none_without_a_session_is_sent_back_as_login_required() {
    // OpenID Connect Core §3.1.2.1 and §3.1.2.6.
    let world = World::new().await;
    let request = world.request("openid").with("prompt", "none");

    let page = open(&world, &request).await;

    let params = assert_error_redirect(&world, &page, "login_required");
    assert_eq!(params.get("state").map(String::as_str), Some(STATE));
}

#[tokio::test]
async fn prompt_none_with_a_session_but_no_consent_is_sent_back_as_consent_required() {
    // OpenID Connect Core §3.1.2.6: "shop" is not first party, and Alice never approved it.
    let world = World::new().await;
    let consent_page = sign_in(&world, open(&world, &world.request("openid")).await).await;
    assert!(consent_page.url.contains("/consent"), "Alice should be asked for consent first");
    let request = world.request("openid").with("prompt", "none");

    let page = open(&world, &request).await;

    let params = assert_error_redirect(&world, &page, "consent_required");
    assert_eq!(params.get("state").map(String::as_str), Some(STATE));
}

#[tokio::test]
async fn prompt_none_with_a_session_and_consent_issues_a_code_without_any_page() {
    // OpenID Connect Core §3.1.2.1: no user interface is shown.
    let world = World::new().await;
    world.code(&world.request("openid profile")).await;
    let request = world.request("openid profile").with("prompt", "none");

    let page = open(&world, &request).await;

    let params = assert_code_redirect(&page);
    assert_eq!(params.get("state").map(String::as_str), Some(STATE));
    assert_eq!(params.get("iss"), Some(&world.app.issuer), "RFC 9207 iss");
}

#[tokio::test]
async fn consent_denied_is_sent_back_as_access_denied() {
    // RFC 6749 §4.1.2.1: "The resource owner or authorization server denied the request."
    let world = World::new().await;
    let consent_page = sign_in(&world, open(&world, &world.request("openid email")).await).await;

    let page = decide(&world, &consent_page, "deny").await;

    let params = assert_error_redirect(&world, &page, "access_denied");
    assert_eq!(params.get("state").map(String::as_str), Some(STATE));
}

// --- Requests that succeed ---

#[tokio::test]
async fn unknown_parameters_are_ignored() {
    // RFC 6749 §3.1: "The authorization server MUST ignore unrecognized request parameters."
    let world = World::new().await;
    let request = world.request("openid").with("favourite_colour", "teal").with("x-debug", "1");

    let code = world.code(&request).await;

    let tokens = world.exchange(&code, &request.verifier).await;
    assert_eq!(tokens.status, StatusCode::OK, "the code should exchange: {}", tokens.json);
}

#[tokio::test]
async fn the_authorization_endpoint_accepts_post_like_get() {
    // OpenID Connect Core §3.1.2.1: the endpoint MUST support GET and POST (form serialization).
    let world = World::new().await;
    let request = world.request("openid");
    let first = world.browser.post(&world.app.url("/authorize"), &request.form()).await;

    let consent_page = sign_in(&world, first).await;
    let page = decide(&world, &consent_page, "allow").await;

    let params = assert_code_redirect(&page);
    assert_eq!(params.get("state").map(String::as_str), Some(STATE));
    let tokens = world.exchange(&params["code"], &request.verifier).await;
    assert_eq!(tokens.status, StatusCode::OK, "the code from a POSTed request should exchange: {}", tokens.json);
}

#[tokio::test]
async fn max_age_shows_the_login_page_again_once_the_sign_in_is_older() {
    // OpenID Connect Core §3.1.2.1: past max_age the provider MUST actively re-authenticate.
    let world = World::new().await;
    world.code(&world.request("openid")).await;
    world.app.clock.advance(120);
    let request = world.request("openid").with("max_age", "60");

    let page = open(&world, &request).await;

    assert_login_page(&page);
}

#[tokio::test]
async fn max_age_zero_shows_the_login_page_like_prompt_login() {
    // OpenID Connect Core §3.1.2.1 (errata set 2): "max_age=0 is equivalent to prompt=login".
    let world = World::new().await;
    world.code(&world.request("openid")).await;
    let request = world.request("openid").with("max_age", "0");

    let page = open(&world, &request).await;

    assert_login_page(&page);
}

#[tokio::test]
async fn max_age_keeps_a_sign_in_that_is_recent_enough() {
    let world = World::new().await;
    world.code(&world.request("openid")).await;
    world.app.clock.advance(30);
    let request = world.request("openid").with("max_age", "60");

    let page = open(&world, &request).await;

    assert_code_redirect(&page);
}

#[tokio::test]
async fn prompt_login_shows_the_login_page_even_with_a_session() {
    // OpenID Connect Core §3.1.2.1: prompt=login "SHOULD prompt the End-User for reauthentication".
    let world = World::new().await;
    world.code(&world.request("openid")).await;
    let request = world.request("openid").with("prompt", "login");

    let page = open(&world, &request).await;

    assert_login_page(&page);
}

#[tokio::test]
async fn login_hint_prefills_the_login_field() {
    // OpenID Connect Core §3.1.2.1: login_hint.
    let world = World::new().await;
    let request = world.request("openid").with("login_hint", "alice.martin@example.org");

    let page = world.browser.follow(&world.app.issuer, open(&world, &request).await).await;

    assert!(page.url.contains("/login"), "expected the login page, the user saw {}", page.url);
    assert_eq!(
        page.field("login").as_deref(),
        Some("alice.martin@example.org"),
        "the login field should show the hint"
    );
}

#[tokio::test]
async fn a_consent_decision_is_remembered_for_the_next_authorization() {
    let world = World::new().await;
    world.code(&world.request("openid email")).await;

    let page = open(&world, &world.request("openid email")).await;

    assert_code_redirect(&page);
}

#[tokio::test]
async fn prompt_consent_asks_again_after_a_remembered_decision() {
    // OpenID Connect Core §3.1.2.1: prompt=consent "SHOULD prompt the End-User for consent".
    let world = World::new().await;
    world.code(&world.request("openid email")).await;
    let request = world.request("openid email").with("prompt", "consent");

    let page = open(&world, &request).await;

    let location = page.location().unwrap_or_else(|| panic!("expected the consent page, the user saw: {}", page.body));
    assert!(location.starts_with("/consent?"), "expected the consent page, the user was sent to {location}");
}
