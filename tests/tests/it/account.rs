//! The account space (/account), a relying party of the provider itself: it signs in through
//! /authorize like any client, shows who is signed in and their sessions, closes the user's
//! other sessions and signs out through the end-session endpoint.

use idp::admin::ClientSpec;
use idp_tests::browser::{Page, query};
use idp_tests::rp::Rp;
use idp_tests::{Browser, PASSWORD, RP_CALLBACK, TestApp};

use crate::pages::cookie_value;
use crate::support_protocol::{CLIENT_ID, World};

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

// --- Consented applications (issue #13, item 13) ---

/// /account in a browser already signed in at the provider (the account space needs no consent).
async fn account_of_signed_in(app: &TestApp, browser: &Browser) -> Page {
    let page = browser.follow(&app.issuer, browser.get(&app.url("/account")).await).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.url.ends_with("/account"), "expected the account page, got {}", page.url);
    page
}

#[tokio::test]
async fn the_account_page_lists_the_applications_the_user_consented_to() {
    let world = World::new().await;
    world.tokens("openid email offline_access").await;

    let page = account_of_signed_in(&world.app, &world.browser).await;

    assert!(page.body.contains("Applications autorisées"), "no applications section: {}", page.body);
    assert!(page.body.contains("Client shop"), "the application is not named: {}", page.body);
    assert!(page.body.contains("Votre adresse électronique"), "the scopes are not worded: {}", page.body);
    assert_eq!(page.body.matches("action=\"/account/applications/revoke\"").count(), 1, "{}", page.body);
    assert!(page.body.contains("Retirer l’accès"), "no revoke button: {}", page.body);
}

#[tokio::test]
async fn removing_an_applications_access_forgets_the_consent_and_kills_its_refresh_token() {
    let world = World::new().await;
    let tokens = world.tokens("openid offline_access").await;
    let refresh_token = tokens.str("refresh_token").to_owned();
    let account = account_of_signed_in(&world.app, &world.browser).await;

    let answer = world
        .browser
        .post(
            &world.app.url("/account/applications/revoke"),
            &[("csrf", &account.field("csrf").unwrap()), ("client_id", CLIENT_ID)],
        )
        .await;

    assert_eq!(answer.status, 303, "{}", answer.body);
    let back = world.browser.follow(&world.app.issuer, answer).await;
    assert!(back.body.contains("L’accès de l’application a été retiré."), "no confirmation: {}", back.body);
    assert!(back.body.contains("Vous n’avez autorisé aucune application."), "still listed: {}", back.body);
    assert!(world.app.services.store.consents_of(&world.alice.id).await.unwrap().is_empty());
    let refreshed = world.refresh(&refresh_token).await;
    assert_eq!(refreshed.error(), "invalid_grant", "the refresh token still works: {}", refreshed.json);
    let events = world.app.services.store.events_for_user(&world.alice.id, "consent_withdrawn", 10).await.unwrap();
    assert_eq!(events.len(), 1, "the withdrawal is audited");
}

#[tokio::test]
async fn removing_an_applications_access_without_the_csrf_token_is_refused() {
    let world = World::new().await;
    world.tokens("openid offline_access").await;
    account_of_signed_in(&world.app, &world.browser).await;

    let answer = world.browser.post(&world.app.url("/account/applications/revoke"), &[("client_id", CLIENT_ID)]).await;

    assert_eq!(answer.status, 403, "{}", answer.body);
    assert_eq!(world.app.services.store.consents_of(&world.alice.id).await.unwrap().len(), 1, "the consent stays");
}

#[tokio::test]
async fn a_user_cannot_remove_another_users_consent() {
    let world = World::new().await;
    let tokens = world.tokens("openid offline_access").await;
    world.app.user("bob.durand").await;
    let bob = Browser::new();
    let account = open_account(&world.app, &bob, "bob.durand").await;

    let answer = bob
        .post(
            &world.app.url("/account/applications/revoke"),
            &[("csrf", &account.field("csrf").unwrap()), ("client_id", CLIENT_ID)],
        )
        .await;

    let back = bob.follow(&world.app.issuer, answer).await;
    assert!(!back.body.contains("L’accès de l’application a été retiré."), "{}", back.body);
    assert_eq!(world.app.services.store.consents_of(&world.alice.id).await.unwrap().len(), 1, "alice's stays");
    let refreshed = world.refresh(tokens.str("refresh_token")).await;
    assert_eq!(refreshed.status, 200, "alice's refresh token still works: {}", refreshed.json);
}

#[tokio::test]
async fn the_account_page_names_the_browser_and_shows_local_times() {
    let (app, _) = provider().await;
    let firefox = Browser::with_user_agent("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0");

    let page = open_account(&app, &firefox, "alice.martin").await;

    assert!(page.body.contains("Firefox sur Linux"), "the browser is not named: {}", page.body);
    assert!(page.body.contains("heure de Paris"), "the time zone is not said: {}", page.body);
    assert!(page.body.contains(" CET<") || page.body.contains(" CEST<"), "times are not Paris times: {}", page.body);
    assert!(!page.body.contains(" UTC<"), "times are still in UTC: {}", page.body);
}
