//! Details of the authorization request (OpenID Connect Core §3.1.2.1, §5.5, §6.1, OAuth 2.0
//! Form Post Response Mode): the `claims` parameter, `claims_locales`, `acr_values`, `display`,
//! `prompt=select_account`, `id_token_hint`, `max_age=1`, `response_mode=form_post` and request
//! objects. Tests named `oidcc_*` mirror the module of the OpenID Foundation's
//! oidcc-basic-certification-test-plan of that name; their comment says what it asserts.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use idp_tests::browser::{Page, query};
use idp_tests::{PASSWORD, RP_CALLBACK};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support_protocol::{AuthorizeRequest, CLIENT_ID, LOGIN, World, get_userinfo};

/// A request object passed by value without a signature (§6.1, `alg: none`).
fn unsigned(claims: &Value) -> String {
    format!("{}.{}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#), URL_SAFE_NO_PAD.encode(claims.to_string()))
}

/// The claims of an ID token, its signature checked with the provider's keys.
fn id_token_claims(world: &World, answer: &crate::support_protocol::Answer) -> Value {
    world.app.services.keys.verify(answer.str("id_token")).expect("a valid ID token")
}

/// Signs Alice in and consents as needed; returns the ID token's claims and the access token.
async fn sign_in_for(world: &World, request: &AuthorizeRequest) -> (Value, String) {
    let code = world.code(request).await;
    let answer = world.exchange(&code, &request.verifier).await;
    assert_eq!(answer.status, StatusCode::OK, "the code should exchange: {}", answer.json);
    (id_token_claims(world, &answer), answer.str("access_token").to_owned())
}

async fn open(world: &World, request: &AuthorizeRequest) -> Page {
    world.browser.get(&request.url(&world.app)).await
}

/// The parameters of the redirect back to the application.
fn redirect_params(page: &Page) -> HashMap<String, String> {
    let location = page.location().unwrap_or_else(|| {
        panic!("the user should have been sent back to the application, but saw a {} page: {}", page.status, page.body)
    });
    assert!(location.starts_with(RP_CALLBACK), "the user was sent to {location}, not to the application");
    query(&location)
}

fn assert_error(page: &Page, error: &str) -> HashMap<String, String> {
    let params = redirect_params(page);
    assert_eq!(params.get("error").map(String::as_str), Some(error), "the application received {params:?}");
    assert!(!params.contains_key("code"), "an error carries no code: {params:?}");
    params
}

fn assert_login_page(page: &Page) {
    let location = page.location().unwrap_or_else(|| panic!("expected the login page, the user saw: {}", page.body));
    assert!(location.starts_with("/login?"), "expected the login page, the user was sent to {location}");
}

// --- claims (§5.5) ---

#[tokio::test]
async fn oidcc_claims_essential() {
    // oidcc-claims-essential: requests `name` as an essential userinfo claim with scope=openid
    // only; the userinfo response is expected to contain `name` (a warning if it does not).
    let world = World::new().await;
    let request =
        world.request("openid").with("claims", &json!({"userinfo": {"name": {"essential": true}}}).to_string());

    let (_, access_token) = sign_in_for(&world, &request).await;
    let userinfo = get_userinfo(&world.app, &access_token).await;

    assert_eq!(userinfo.status, StatusCode::OK);
    assert_eq!(userinfo.json["name"], "Alice Martin", "userinfo answered {}", userinfo.json);
    assert!(userinfo.json.get("email").is_none(), "email was not asked for: {}", userinfo.json);
}

#[tokio::test]
async fn the_consent_page_shows_the_scope_of_claims_asked_for_one_by_one() {
    // §5.5 releases claims outside the scopes; the user must still see them before consenting.
    let world = World::new().await;
    let request = world.request("openid").with("claims", r#"{"userinfo":{"email":null}}"#);

    let consent = world.browser.follow(&world.app.issuer, open(&world, &request).await).await;
    let consent = world
        .browser
        .follow(&world.app.issuer, world.browser.submit_login(&world.app.issuer, &consent, LOGIN, PASSWORD).await)
        .await;

    assert!(consent.url.contains("/consent"), "expected the consent page, saw {}", consent.url);
    assert!(consent.body.contains("scope-email"), "the consent page does not show the email scope: {}", consent.body);
}

#[tokio::test]
async fn id_token_claims_asked_for_go_into_the_id_token_and_not_into_userinfo() {
    // §5.5: claims under `id_token` are returned in the ID token; a claim the user does not have
    // (Alice has no phone number) is left out rather than returned empty.
    let world = World::new().await;
    let claims = json!({"id_token": {"email": null, "given_name": {"essential": true}, "phone_number": null}});
    let request = world.request("openid").with("claims", &claims.to_string());

    let (id_token, access_token) = sign_in_for(&world, &request).await;
    let userinfo = get_userinfo(&world.app, &access_token).await;

    assert_eq!(id_token["email"], "alice.martin@example.org", "the ID token is {id_token}");
    assert_eq!(id_token["given_name"], "Alice", "the ID token is {id_token}");
    assert!(id_token.get("phone_number").is_none(), "Alice has no phone number: {id_token}");
    assert!(userinfo.json.get("email").is_none(), "userinfo got an id_token claim: {}", userinfo.json);
}

#[tokio::test]
async fn malformed_claims_json_is_sent_back_as_invalid_request() {
    // §5.5 and §3.1.2.6: the claims parameter must be a JSON object.
    let world = World::new().await;
    for claims in ["{not json", "[1,2]", r#"{"userinfo":{"name":{"essential":"yes"}}}"#] {
        let request = world.request("openid").with("claims", claims);

        let page = open(&world, &request).await;

        let params = assert_error(&page, "invalid_request");
        assert_eq!(params.get("state").map(String::as_str), Some("state-1234"));
    }
}

#[tokio::test]
async fn oidcc_claims_locales() {
    // oidcc-claims-locales: claims_locales=se is sent; the OP must not fail the request (claims
    // in that language are optional) and userinfo must still answer.
    let world = World::new().await;
    let request = world.request("openid profile").with("claims_locales", "se");

    let (_, access_token) = sign_in_for(&world, &request).await;
    let userinfo = get_userinfo(&world.app, &access_token).await;

    assert_eq!(userinfo.status, StatusCode::OK);
    assert_eq!(userinfo.json["name"], "Alice Martin");
}

// --- acr (§2, §3.1.2.1, §5.5.1.1) ---

#[tokio::test]
async fn oidcc_ensure_request_with_acr_values_succeeds() {
    // oidcc-ensure-request-with-acr-values-succeeds: acr_values="1 2" (voluntary) must not make
    // the request fail; the ID token may carry an acr claim.
    let world = World::new().await;
    let request = world.request("openid").with("acr_values", "1 2");

    let (id_token, _) = sign_in_for(&world, &request).await;

    assert_eq!(id_token["acr"], "urn:idp:acr:password", "the ID token is {id_token}");
}

#[tokio::test]
async fn an_acr_claim_request_puts_acr_in_the_id_token() {
    let world = World::new().await;
    let claims = json!({"id_token": {"acr": {"values": ["urn:idp:acr:password"]}}});
    let request = world.request("openid").with("claims", &claims.to_string());

    let (id_token, _) = sign_in_for(&world, &request).await;

    assert_eq!(id_token["acr"], "urn:idp:acr:password", "the ID token is {id_token}");
}

#[tokio::test]
async fn an_essential_acr_that_cannot_be_met_is_sent_back_as_access_denied() {
    // §5.5.1.1: an essential acr that cannot be met is treated as a failed authentication.
    let world = World::new().await;
    let claims = json!({"id_token": {"acr": {"essential": true, "values": ["urn:example:loa:4"]}}});
    let request = world.request("openid").with("claims", &claims.to_string());

    let page = open(&world, &request).await;

    assert_error(&page, "access_denied");
}

#[tokio::test]
async fn no_acr_is_stated_when_none_was_asked_for() {
    let world = World::new().await;

    let (id_token, _) = sign_in_for(&world, &world.request("openid")).await;

    assert!(id_token.get("acr").is_none(), "the ID token is {id_token}");
}

// --- display (§3.1.2.1) ---

#[tokio::test]
async fn oidcc_display_page() {
    // oidcc-display-page: display=page; the OP must show its login page and complete the flow.
    let world = World::new().await;
    let request = world.request("openid").with("display", "page");

    assert_login_page(&open(&world, &request).await);
    sign_in_for(&world, &request).await;
}

#[tokio::test]
async fn oidcc_display_popup() {
    // oidcc-display-popup: display=popup; the OP must complete the flow (pages are responsive).
    let world = World::new().await;
    let request = world.request("openid").with("display", "popup");

    assert_login_page(&open(&world, &request).await);
    sign_in_for(&world, &request).await;
}

#[tokio::test]
async fn an_unknown_display_value_is_sent_back_as_invalid_request() {
    let world = World::new().await;
    let request = world.request("openid").with("display", "hologram");

    assert_error(&open(&world, &request).await, "invalid_request");
}

// --- prompt, id_token_hint, max_age (§3.1.2.1) ---

#[tokio::test]
async fn oidcc_prompt_none_logged_in() {
    // oidcc-prompt-none-logged-in: after a first sign-in, prompt=none returns a code at once,
    // and the second ID token names the same subject.
    let world = World::new().await;
    let (first, _) = sign_in_for(&world, &world.request("openid")).await;

    let request = world.request("openid").with("prompt", "none");
    let params = redirect_params(&open(&world, &request).await);
    let code = params.get("code").expect("a code without any page");
    let answer = world.exchange(code, &request.verifier).await;

    assert_eq!(id_token_claims(&world, &answer)["sub"], first["sub"]);
}

#[tokio::test]
async fn oidcc_id_token_hint() {
    // oidcc-id-token-hint: the ID token of a first sign-in is sent back as id_token_hint with
    // prompt=none; the OP must return a code for the same user (an expired hint is fine).
    let world = World::new().await;
    let request = world.request("openid");
    let code = world.code(&request).await;
    let hint = world.exchange(&code, &request.verifier).await.str("id_token").to_owned();
    // Past the ID token's lifetime (600 s), within the session's.
    world.app.clock.advance(3600);

    let request = world.request("openid").with("prompt", "none").with("id_token_hint", &hint);
    let params = redirect_params(&open(&world, &request).await);

    assert!(params.contains_key("code"), "the application received {params:?}");
}

#[tokio::test]
async fn an_id_token_hint_for_someone_else_with_prompt_none_is_login_required() {
    // §3.1.2.1: the hint names another user than the signed-in one; prompt=none cannot ask.
    let world = World::new().await;
    world.app.user("bruno.durand").await;
    let bruno = idp_tests::Browser::new();
    let request = world.request("openid");
    let callback = bruno.authorize(&world.app.issuer, &request.url(&world.app), "bruno.durand", PASSWORD).await;
    let code = query(&callback)["code"].clone();
    let hint = world.exchange(&code, &request.verifier).await.str("id_token").to_owned();
    sign_in_for(&world, &world.request("openid")).await;

    let with_none = world.request("openid").with("prompt", "none").with("id_token_hint", &hint);
    assert_error(&open(&world, &with_none).await, "login_required");

    let without = world.request("openid").with("id_token_hint", &hint);
    assert_login_page(&open(&world, &without).await);
}

#[tokio::test]
async fn a_forged_id_token_hint_is_sent_back_as_invalid_request() {
    let world = World::new().await;
    let forged = unsigned(&json!({"iss": world.app.issuer, "sub": "someone"}));
    let request = world.request("openid").with("id_token_hint", &forged);

    assert_error(&open(&world, &request).await, "invalid_request");
}

#[tokio::test]
async fn oidcc_max_age_1() {
    // oidcc-max-age-1: sign in, wait at least one second, then max_age=1: the OP must show the
    // login page again, and the new ID token has a later auth_time.
    let world = World::new().await;
    let (first, _) = sign_in_for(&world, &world.request("openid")).await;
    world.app.clock.advance(1);

    let request = world.request("openid").with("max_age", "1");
    assert_login_page(&open(&world, &request).await);
    let (second, _) = sign_in_for(&world, &request).await;

    assert!(
        second["auth_time"].as_i64() > first["auth_time"].as_i64(),
        "auth_time should be new: {} then {}",
        first["auth_time"],
        second["auth_time"]
    );
}

#[tokio::test]
async fn prompt_select_account_offers_to_continue_or_use_another_account() {
    // §3.1.2.1 select_account: with a session, the user chooses the account to use.
    let world = World::new().await;
    sign_in_for(&world, &world.request("openid")).await;
    let request = world.request("openid").with("prompt", "select_account");

    let page = world.browser.follow(&world.app.issuer, open(&world, &request).await).await;

    assert!(page.url.contains("/select_account"), "expected the account choice, saw {}: {}", page.url, page.body);
    assert!(page.body.contains("Continuer en tant que"), "no 'continue as': {}", page.body);
    assert!(page.body.contains("Alice Martin"), "the page does not name the account: {}", page.body);
    assert!(page.body.contains("Utiliser un autre compte"), "no 'use another account': {}", page.body);
    let csrf = page.field("csrf").unwrap();
    let request_id = page.field("request_id").unwrap();
    let form = [("csrf", csrf.as_str()), ("request_id", request_id.as_str()), ("choice", "continue")];
    let next = world.browser.post(&world.app.url("/select_account"), &form).await;

    let params = redirect_params(&next);
    assert!(params.contains_key("code"), "continuing as Alice should return a code: {params:?}");
}

#[tokio::test]
async fn choosing_another_account_shows_the_login_page() {
    let world = World::new().await;
    sign_in_for(&world, &world.request("openid")).await;
    let request = world.request("openid").with("prompt", "select_account");
    let page = world.browser.follow(&world.app.issuer, open(&world, &request).await).await;
    let csrf = page.field("csrf").unwrap();
    let request_id = page.field("request_id").unwrap();

    let form = [("csrf", csrf.as_str()), ("request_id", request_id.as_str()), ("choice", "other")];
    let next = world.browser.post(&world.app.url("/select_account"), &form).await;

    assert_login_page(&next);
}

#[tokio::test]
async fn prompt_select_account_without_a_session_shows_the_login_page() {
    let world = World::new().await;
    let request = world.request("openid").with("prompt", "select_account");

    assert_login_page(&open(&world, &request).await);
}

// --- response_mode=form_post (OAuth 2.0 Form Post Response Mode) ---

#[tokio::test]
async fn form_post_answers_with_a_page_that_posts_the_code_to_the_redirect_uri() {
    // Form Post Response Mode §2: the response parameters are posted by an auto-submitting form
    // to the redirect URI; here the script is a static file and a button works without it.
    let world = World::new().await;
    let request = world.request("openid").with("response_mode", "form_post");
    let login = world.browser.follow(&world.app.issuer, open(&world, &request).await).await;
    let after_login = world.browser.submit_login(&world.app.issuer, &login, LOGIN, PASSWORD).await;
    let consent = world.browser.follow(&world.app.issuer, after_login).await;
    let form = [
        ("csrf", consent.field("csrf").unwrap()),
        ("request_id", consent.field("request_id").unwrap()),
        ("decision", "allow".to_owned()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let page = world.browser.post(&world.app.url("/consent"), &form).await;

    assert_eq!(page.status, StatusCode::OK, "expected the form post page: {}", page.body);
    assert!(page.location().is_none(), "form_post must not redirect");
    let action = page.body.replace("&#x2F;", "/");
    assert!(
        action.contains(&format!("action=\"{RP_CALLBACK}\"")),
        "the form does not post to the client: {}",
        page.body
    );
    assert!(page.body.contains("method=\"post\""));
    assert!(page.field("code").is_some_and(|c| !c.is_empty()), "no code field: {}", page.body);
    assert_eq!(page.field("state").as_deref(), Some("state-1234"));
    assert_eq!(page.field("iss").as_deref(), Some(world.app.issuer.as_str()));
    assert!(page.body.contains("form_post.js\""), "no auto-submit script: {}", page.body);
    assert!(!page.body.contains("<script>"), "inline script: {}", page.body);
    assert!(page.body.contains("type=\"submit\""), "no button for browsers without JavaScript");
    let csp = page.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("form-action 'self' https://rp.example"), "CSP does not allow the post: {csp}");
    let script = world.browser.get(&world.app.url("/static/default/form_post.js")).await;
    assert_eq!(script.status, StatusCode::OK);
    // The code posted works like a redirected one.
    let answer = world.exchange(&page.field("code").unwrap(), &request.verifier).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
}

#[tokio::test]
async fn errors_use_form_post_too_once_the_redirect_uri_is_known() {
    let world = World::new().await;
    let request = world.request("openid").with("response_mode", "form_post").with("prompt", "none");

    let page = open(&world, &request).await;

    assert_eq!(page.status, StatusCode::OK, "expected the form post page: {}", page.body);
    assert_eq!(page.field("error").as_deref(), Some("login_required"), "{}", page.body);
    assert_eq!(page.field("state").as_deref(), Some("state-1234"));
}

#[tokio::test]
async fn an_unknown_response_mode_is_sent_back_as_invalid_request() {
    let world = World::new().await;
    let request = world.request("openid").with("response_mode", "fragment.jwt");

    assert_error(&open(&world, &request).await, "invalid_request");
}

// --- request objects (§6.1) ---

#[tokio::test]
async fn oidcc_unsigned_request_object_supported_correctly_or_rejected_as_unsupported() {
    // oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported: an unsigned
    // request object carries the request (the query repeats client_id, response_type and scope);
    // the OP must either honour it (state and nonce from the object come back) or refuse with
    // request_not_supported. Discovery says request_parameter_supported: true, so: honour it.
    let world = World::new().await;
    let base = world.request("openid");
    let object = json!({
        "client_id": CLIENT_ID,
        "response_type": "code",
        "redirect_uri": RP_CALLBACK,
        "scope": "openid email",
        "state": "state-from-object",
        "nonce": "nonce-from-object",
    });
    let request = base.with("state", "state-from-query").with("request", &unsigned(&object));

    let callback = world.browser.authorize(&world.app.issuer, &request.url(&world.app), LOGIN, PASSWORD).await;
    let params = query(&callback);
    assert_eq!(params.get("state").map(String::as_str), Some("state-from-object"), "{callback}");
    let answer = world.exchange(&params["code"], &request.verifier).await;

    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    let id_token = id_token_claims(&world, &answer);
    assert_eq!(id_token["nonce"], "nonce-from-object");
    assert_eq!(answer.str("scope"), "email openid");
}

#[tokio::test]
async fn oidcc_ensure_request_object_with_redirect_uri() {
    // oidcc-ensure-request-object-with-redirect-uri: the redirect_uri is only inside the
    // request object; the OP must use it and complete the flow.
    let world = World::new().await;
    let base = world.request("openid");
    let object =
        json!({"client_id": CLIENT_ID, "response_type": "code", "redirect_uri": RP_CALLBACK, "scope": "openid"});
    let request = base.without("redirect_uri").with("request", &unsigned(&object));

    let callback = world.browser.authorize(&world.app.issuer, &request.url(&world.app), LOGIN, PASSWORD).await;

    assert!(callback.starts_with(RP_CALLBACK) && query(&callback).contains_key("code"), "{callback}");
}

#[tokio::test]
async fn a_request_object_with_another_client_id_is_sent_back_as_invalid_request_object() {
    // §6.1: client_id in the object must match the request's.
    let world = World::new().await;
    let object = json!({"client_id": "somebody-else", "response_type": "code", "scope": "openid"});
    let request = world.request("openid").with("request", &unsigned(&object));

    let params = assert_error(&open(&world, &request).await, "invalid_request_object");

    assert_eq!(params.get("state").map(String::as_str), Some("state-1234"));
}

#[tokio::test]
async fn a_request_object_with_another_response_type_is_refused() {
    let world = World::new().await;
    let object = json!({"client_id": CLIENT_ID, "response_type": "token", "scope": "openid"});
    let request = world.request("openid").with("request", &unsigned(&object));

    assert_error(&open(&world, &request).await, "invalid_request_object");
}

#[tokio::test]
async fn a_signed_request_object_from_a_client_without_keys_is_refused() {
    let world = World::new().await;
    let request = world.request("openid").with("request", "eyJhbGciOiJSUzI1NiJ9.eyJzY29wZSI6Im9wZW5pZCJ9.c2ln");

    assert_error(&open(&world, &request).await, "invalid_request_object");
}

#[tokio::test]
async fn a_request_object_that_is_not_a_jwt_is_refused() {
    let world = World::new().await;
    let request = world.request("openid").with("request", "not-a-jwt");

    assert_error(&open(&world, &request).await, "invalid_request_object");
}

/// A key pair of a relying party (ES256).
fn client_key() -> idp::oidc::jws::SigningKey {
    let alg = idp::domain::SigningAlg::ES256;
    let material = idp::oidc::jws::KeyMaterial::generate(alg).unwrap();
    idp::oidc::jws::SigningKey { kid: "rp-key-1".into(), alg, material, created_at: 0, retired_at: None }
}

/// "signed-rp" with an ES256 key registered (`jwks`), and the private half to sign with.
async fn client_with_keys(world: &World) -> (String, idp::oidc::jws::SigningKey) {
    let key = client_key();
    let spec = idp::admin::ClientSpec {
        id: "signed-rp".into(),
        name: "Signed RP".into(),
        redirect_uris: vec![RP_CALLBACK.into()],
        grants: vec!["authorization_code".into()],
        settings: idp::domain::client::ClientSettings {
            jwks: Some(json!({"keys": [key.public_jwk()]})),
            ..Default::default()
        },
        ..Default::default()
    };
    let (_, secret) = world.app.client(spec).await;
    (secret.unwrap(), key)
}

#[tokio::test]
async fn a_request_object_signed_with_the_client_s_key_is_honoured() {
    // §6.1 and §6.3.2: a signed request object is verified with the client's registered keys.
    let world = World::new().await;
    let (_, key) = client_with_keys(&world).await;
    let object = json!({
        "iss": "signed-rp", "aud": world.app.issuer, "exp": world.app.services.now() + 300,
        "client_id": "signed-rp", "response_type": "code", "scope": "openid", "state": "signed-state",
    });
    let request = AuthorizeRequest::new("signed-rp", RP_CALLBACK)
        .with("request", &key.sign_jwt("oauth-authz-req+jwt", &object).unwrap());

    let callback = world.browser.authorize(&world.app.issuer, &request.url(&world.app), LOGIN, PASSWORD).await;

    assert_eq!(query(&callback).get("state").map(String::as_str), Some("signed-state"), "{callback}");
}

#[tokio::test]
async fn a_request_object_signed_with_another_key_is_refused() {
    let world = World::new().await;
    client_with_keys(&world).await;
    let stranger = client_key();
    let object = json!({"client_id": "signed-rp", "response_type": "code", "scope": "openid"});
    let request =
        AuthorizeRequest::new("signed-rp", RP_CALLBACK).with("request", &stranger.sign_jwt("JWT", &object).unwrap());

    assert_error(&open(&world, &request).await, "invalid_request_object");
}

#[tokio::test]
async fn a_signed_request_object_for_another_audience_is_refused() {
    let world = World::new().await;
    let (_, key) = client_with_keys(&world).await;
    let object = json!({"aud": "https://other-op.example", "client_id": "signed-rp", "response_type": "code"});
    let request =
        AuthorizeRequest::new("signed-rp", RP_CALLBACK).with("request", &key.sign_jwt("JWT", &object).unwrap());

    assert_error(&open(&world, &request).await, "invalid_request_object");
}

#[tokio::test]
async fn discovery_advertises_exactly_these_request_details() {
    let world = World::new().await;
    let document: Value =
        reqwest::get(world.app.url("/.well-known/openid-configuration")).await.unwrap().json().await.unwrap();

    assert_eq!(document["claims_parameter_supported"], true);
    assert_eq!(document["request_parameter_supported"], true);
    assert_eq!(document["request_uri_parameter_supported"], false);
    assert_eq!(document["request_object_signing_alg_values_supported"], json!(["none", "RS256", "ES256", "EdDSA"]));
    assert_eq!(document["response_modes_supported"], json!(["query", "form_post"]));
    assert_eq!(document["acr_values_supported"], json!(["urn:idp:acr:password"]));
    assert_eq!(document["display_values_supported"], json!(["page", "popup", "touch", "wap"]));
}
