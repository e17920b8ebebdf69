//! The account space (/account), a relying party of the provider itself: it signs in through
//! /authorize like any client, shows who is signed in and their sessions, closes the user's
//! other sessions and signs out through the end-session endpoint.

use idp::admin::ClientSpec;
use idp_tests::browser::{Page, query};
use idp_tests::rp::Rp;
use idp_tests::{Browser, PASSWORD, RP_CALLBACK, TestApp};

use crate::pages::cookie_value;

/// A provider with alice and bob, and the shop, a first-party client (no consent page).
pub(crate) async fn provider() -> (TestApp, Rp) {
    let app = TestApp::spawn().await;
    app.user("alice.martin").await;
    app.user("bob.durand").await;
    let (client, secret) = app
        .client(ClientSpec {
            id: "shop".into(),
            name: "Shop".into(),
            redirect_uris: vec![RP_CALLBACK.into()],
            first_party: true,
            ..ClientSpec::default()
        })
        .await;
    let rp = Rp::discover(&app.issuer, &client.id, secret.as_deref(), RP_CALLBACK).await;
    (app, rp)
}

/// Opens /account in `browser` and signs `login` in on the way; returns the account page.
async fn open_account(app: &TestApp, browser: &Browser, login: &str) -> Page {
    let login_page = browser.follow(&app.issuer, browser.get(&app.url("/account")).await).await;
    assert!(login_page.url.contains("/login?"), "expected the login page, got {}", login_page.url);
    let page = browser.follow(&app.issuer, browser.submit_login(&app.issuer, &login_page, login, PASSWORD).await).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.url.ends_with("/account"), "expected the account page, got {}", page.url);
    page
}

/// Signs `login` in at the shop in `browser`; returns the session id (`sid`) it opened.
async fn sign_in_at_the_shop(app: &TestApp, rp: &Rp, browser: &Browser, login: &str) -> String {
    let login_page = browser.follow(&app.issuer, browser.get(&rp.start(&[]).url).await).await;
    let signed_in = browser.submit_login(&app.issuer, &login_page, login, PASSWORD).await;
    let cookie = signed_in.set_cookie("idp_session").expect("a session cookie");
    let callback = browser.follow(&app.issuer, signed_in).await.location().unwrap();
    assert!(query(&callback).contains_key("code"), "the shop got no code: {callback}");
    idp::crypto::digest(cookie_value(&cookie))
}

/// A silent authorization at the shop: `true` for a code, `false` for `login_required`.
async fn is_signed_in(app: &TestApp, rp: &Rp, browser: &Browser) -> bool {
    let silent = rp.start(&[]).url + "&prompt=none";
    let page = browser.follow(&app.issuer, browser.get(&silent).await).await;
    let params = query(&page.location().expect("a silent authorization redirects back"));
    match params.get("error").map(String::as_str) {
        None if params.contains_key("code") => true,
        Some("login_required") => false,
        other => panic!("unexpected answer to prompt=none: {other:?}"),
    }
}

#[tokio::test]
async fn the_account_page_sends_a_signed_out_visitor_through_authorize_with_pkce() {
    let (app, _) = provider().await;
    let browser = Browser::new();

    let page = browser.get(&app.url("/account")).await;

    assert_eq!(page.status, 303);
    let location = page.location().unwrap();
    assert!(location.starts_with(&app.url("/authorize?")), "redirected to {location}");
    let params = query(&location);
    assert_eq!(params["client_id"], "idp-account");
    assert_eq!(params["redirect_uri"], app.url("/account/callback"));
    assert_eq!(params["code_challenge_method"], "S256");
    assert_eq!(params["code_challenge"].len(), 43, "a SHA-256 challenge");
    assert!(params.contains_key("state") && params.contains_key("nonce"));
    let login = browser.follow(&app.issuer, browser.get(&location).await).await;
    assert!(login.url.contains("/login?"), "expected the login page, got {}", login.url);
}

#[tokio::test]
async fn after_signing_in_the_account_page_shows_the_users_login_and_email() {
    let (app, _) = provider().await;

    let page = open_account(&app, &Browser::new(), "alice.martin").await;

    assert!(page.body.contains("Mon compte"), "not the account page: {}", page.body);
    assert!(page.body.contains("<dd>alice.martin</dd>"), "the login is not shown: {}", page.body);
    assert!(page.body.contains("alice.martin@example.org"), "the email is not shown: {}", page.body);
}

#[tokio::test]
async fn the_sessions_list_shows_the_current_session_and_another_one_with_a_revoke_form() {
    let (app, rp) = provider().await;
    let phone = Browser::new();
    let other_sid = sign_in_at_the_shop(&app, &rp, &phone, "alice.martin").await;

    let page = open_account(&app, &Browser::new(), "alice.martin").await;

    assert_eq!(page.body.matches("Session actuelle").count(), 1, "one current session: {}", page.body);
    assert_eq!(page.body.matches("action=\"/account/sessions/revoke\"").count(), 1, "one revoke form: {}", page.body);
    assert_eq!(page.field("session_id"), Some(other_sid), "the revoke form names the other session");
}

#[tokio::test]
async fn revoking_another_session_signs_that_browser_out() {
    let (app, rp) = provider().await;
    let phone = Browser::new();
    sign_in_at_the_shop(&app, &rp, &phone, "alice.martin").await;
    let laptop = Browser::new();
    let account = open_account(&app, &laptop, "alice.martin").await;

    let page = laptop
        .post(
            &app.url("/account/sessions/revoke"),
            &[("csrf", &account.field("csrf").unwrap()), ("session_id", &account.field("session_id").unwrap())],
        )
        .await;

    assert_eq!(page.status, 303, "{}", page.body);
    let back = laptop.follow(&app.issuer, page).await;
    assert!(back.body.contains("La session a bien été fermée."), "the account page confirms: {}", back.body);
    assert!(!is_signed_in(&app, &rp, &phone).await, "the phone is signed out");
    assert!(is_signed_in(&app, &rp, &laptop).await, "the laptop is still signed in");
}

#[tokio::test]
async fn signing_out_of_the_account_space_signs_out_of_the_provider() {
    let (app, rp) = provider().await;
    let browser = Browser::new();
    let account = open_account(&app, &browser, "alice.martin").await;

    let page = browser.post(&app.url("/account/logout"), &[("csrf", &account.field("csrf").unwrap())]).await;

    assert_eq!(page.status, 303, "{}", page.body);
    let location = page.location().unwrap();
    assert!(location.starts_with(&app.url("/logout?")), "RP-initiated logout, got {location}");
    assert!(query(&location).contains_key("id_token_hint"), "with the ID token as hint: {location}");
    let logged_out = browser.follow(&app.issuer, page).await;
    assert_eq!(logged_out.status, 200, "{}", logged_out.body);
    assert!(logged_out.body.contains("Vous êtes déconnecté(e)"), "not the logged-out page: {}", logged_out.body);
    assert!(!is_signed_in(&app, &rp, &browser).await, "the provider session ended");
    let again = browser.follow(&app.issuer, browser.get(&app.url("/account")).await).await;
    assert!(again.url.contains("/login?"), "/account asks to sign in again, got {}", again.url);
}

#[tokio::test]
async fn a_user_cannot_close_another_users_session() {
    let (app, rp) = provider().await;
    let bobs_browser = Browser::new();
    let bobs_sid = sign_in_at_the_shop(&app, &rp, &bobs_browser, "bob.durand").await;
    let alices_browser = Browser::new();
    let account = open_account(&app, &alices_browser, "alice.martin").await;

    let page = alices_browser
        .post(
            &app.url("/account/sessions/revoke"),
            &[("csrf", &account.field("csrf").unwrap()), ("session_id", &bobs_sid)],
        )
        .await;

    assert_eq!(page.status, 303, "{}", page.body);
    assert!(is_signed_in(&app, &rp, &bobs_browser).await, "bob is still signed in");
}
