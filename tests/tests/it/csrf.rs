//! Forms against forgery (issue #10): a CSRF cookie + token pair an attacker got in their own
//! browser and planted in a victim's (cookie tossing) is good for nothing of the victim's, since
//! each token is bound to the request, session or flow its form acts on; and a POST from another
//! origin is refused with a themed 403 before any form is read, while the protocol endpoints
//! that other sites post to keep working.

use std::sync::Arc;

use idp::domain::User;
use idp_tests::browser::{Page, query};
use idp_tests::rp::Rp;
use idp_tests::{Browser, PASSWORD, RP_CALLBACK, TestApp};
use reqwest::cookie::Jar;

use crate::pages::{assert_themed_error, cookie_value};

const CSRF_REFUSED: &str = "ce formulaire n’est plus valide";
const CROSS_SITE: &str = "ce formulaire ne peut être envoyé que depuis les pages de ce service";
const EVIL: &str = "https://evil.example";
const NEW_PASSWORD: &str = "Nouveau-Cheval-Batterie-7";

/// alice (the victim), bob (the attacker) and the shop, a confidential client with a consent
/// page; returns the shop's secret too.
async fn provider() -> (TestApp, Rp, String) {
    let app = TestApp::spawn().await;
    app.user("alice.martin").await;
    app.user("bob.durand").await;
    let (client, secret) = app.confidential_client("shop", RP_CALLBACK).await;
    let rp = Rp::discover(&app.issuer, &client.id, Some(&secret), RP_CALLBACK).await;
    (app, rp, secret)
}

async fn user(app: &TestApp, login: &str) -> User {
    app.services.store.user_by_login(login).await.unwrap().unwrap()
}

/// A browser whose cookie jar the test writes to, as a sibling subdomain or a network attacker
/// can on a plain-http or prefix-less deployment.
fn browser_with_jar() -> (Browser, Arc<Jar>) {
    let jar = Arc::new(Jar::default());
    let http = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    (Browser { http }, jar)
}

/// Overwrites the browser's cookie `name` for the provider's host.
fn plant(jar: &Jar, app: &TestApp, name: &str, value: &str) {
    jar.add_cookie_str(&format!("{name}={value}; Path=/"), &app.issuer.parse().unwrap());
}

/// The login page of a new authorization at the shop.
async fn login_page(app: &TestApp, rp: &Rp, browser: &Browser) -> Page {
    let page = browser.follow(&app.issuer, browser.get(&rp.start(&[]).url).await).await;
    assert_eq!(page.status, 200, "the login page did not show: {}", page.body);
    assert!(page.url.contains("/login?request_id="), "expected the login page, got {}", page.url);
    page
}

/// The login form of `page` with `login` and the right password.
fn login_form(page: &Page, csrf: &str, login: &str) -> Vec<(&'static str, String)> {
    vec![
        ("csrf", csrf.to_owned()),
        ("request_id", page.field("request_id").unwrap()),
        ("login", login.to_owned()),
        ("password", PASSWORD.to_owned()),
    ]
}

/// Opens /account in `browser`, signing `login` in on the way; returns the CSRF cookie the
/// browser was given.
async fn open_account(app: &TestApp, browser: &Browser, login: &str) -> String {
    let login_page = browser.follow(&app.issuer, browser.get(&app.url("/account")).await).await;
    assert!(login_page.url.contains("/login?"), "expected the login page, got {}", login_page.url);
    let csrf_cookie = cookie_value(&login_page.set_cookie("idp_csrf").expect("a CSRF cookie")).to_owned();
    let page = browser.follow(&app.issuer, browser.submit_login(&app.issuer, &login_page, login, PASSWORD).await).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.url.ends_with("/account"), "expected the account page, got {}", page.url);
    csrf_cookie
}

fn password_change(csrf: &str) -> Vec<(&'static str, String)> {
    vec![
        ("csrf", csrf.to_owned()),
        ("current_password", PASSWORD.to_owned()),
        ("new_password", NEW_PASSWORD.to_owned()),
        ("confirm_password", NEW_PASSWORD.to_owned()),
    ]
}

async fn stored_hash(app: &TestApp, login: &str) -> String {
    user(app, login).await.password_hash
}

/// A POST of `form` to `path` with exactly `headers` (no `Origin` unless given).
async fn post_with(
    browser: &Browser,
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
    form: &[(&'static str, String)],
) -> Page {
    let mut request = browser.http.post(app.url(path)).form(form);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    browser.send(request).await
}

// ---- a planted cookie + token pair ----

#[tokio::test]
async fn a_pair_planted_by_an_attacker_does_not_sign_the_victim_in_on_their_own_login_page() {
    let (app, rp, _) = provider().await;
    let bob = user(&app, "bob.durand").await;
    let (victim, jar) = browser_with_jar();
    let victims_login = login_page(&app, &rp, &victim).await;
    let attackers_login = login_page(&app, &rp, &Browser::new()).await;
    let planted = cookie_value(&attackers_login.set_cookie("idp_csrf").unwrap()).to_owned();
    plant(&jar, &app, "idp_csrf", &planted);

    // The attacker's token, on the victim's pending request, from the victim's browser (the
    // Origin is ours: this is the token check alone).
    let forged = login_form(&victims_login, &attackers_login.field("csrf").unwrap(), "bob.durand");
    let page = post_with(&victim, &app, "/login", &[("origin", &app.issuer)], &forged).await;

    assert_themed_error(&page, 403, CSRF_REFUSED);
    assert_eq!(page.set_cookie("idp_session"), None);
    assert!(app.sessions_of(&bob.id).await.is_empty(), "the victim's browser was signed in as the attacker");
}

#[tokio::test]
async fn the_victims_own_login_form_still_works_with_the_planted_cookie() {
    let (app, rp, _) = provider().await;
    let alice = user(&app, "alice.martin").await;
    let (victim, jar) = browser_with_jar();
    let victims_login = login_page(&app, &rp, &victim).await;
    let attackers_login = login_page(&app, &rp, &Browser::new()).await;
    plant(&jar, &app, "idp_csrf", cookie_value(&attackers_login.set_cookie("idp_csrf").unwrap()));

    let shown_again = victim.get(&victims_login.url).await;
    let page = victim.submit_login(&app.issuer, &shown_again, "alice.martin", PASSWORD).await;

    assert_eq!(page.status, 303, "{}", page.body);
    assert!(page.set_cookie("idp_session").is_some(), "no session: {:?}", page.set_cookies());
    assert_eq!(app.sessions_of(&alice.id).await.len(), 1);
}

#[tokio::test]
async fn a_pair_planted_by_an_attacker_does_not_change_the_victims_password() {
    let (app, _, _) = provider().await;
    let (victim, jar) = browser_with_jar();
    open_account(&app, &victim, "alice.martin").await;
    let attacker = Browser::new();
    let attackers_cookie = open_account(&app, &attacker, "bob.durand").await;
    let attackers_form = attacker.get(&app.url("/account/password")).await;
    assert_eq!(attackers_form.status, 200, "{}", attackers_form.body);
    plant(&jar, &app, "idp_csrf", &attackers_cookie);
    let before = stored_hash(&app, "alice.martin").await;

    let forged = password_change(&attackers_form.field("csrf").unwrap());
    let page = post_with(&victim, &app, "/account/password", &[("origin", &app.issuer)], &forged).await;

    assert_themed_error(&page, 403, CSRF_REFUSED);
    assert_eq!(stored_hash(&app, "alice.martin").await, before, "the victim's password changed");
    // The attacker's own pair still works in the attacker's own account space.
    let own = post_with(&attacker, &app, "/account/password", &[("origin", &app.issuer)], &forged).await;
    assert_eq!(own.status, 303, "{}", own.body);
}

#[tokio::test]
async fn a_consent_token_is_bound_to_the_session_it_was_shown_to() {
    let (app, rp, _) = provider().await;
    let (victim, jar) = browser_with_jar();
    let login = login_page(&app, &rp, &victim).await;
    let consent =
        victim.follow(&app.issuer, victim.submit_login(&app.issuer, &login, "alice.martin", PASSWORD).await).await;
    assert!(consent.url.contains("/consent?"), "expected the consent page, got {}", consent.url);
    // The attacker's own consent page, for their own session, and their CSRF cookie.
    let attacker = Browser::new();
    let attackers_login = login_page(&app, &rp, &attacker).await;
    let attackers_cookie = cookie_value(&attackers_login.set_cookie("idp_csrf").unwrap()).to_owned();
    let attackers_consent = attacker
        .follow(&app.issuer, attacker.submit_login(&app.issuer, &attackers_login, "bob.durand", PASSWORD).await)
        .await;
    plant(&jar, &app, "idp_csrf", &attackers_cookie);

    let forged = [
        ("csrf", attackers_consent.field("csrf").unwrap()),
        ("request_id", consent.field("request_id").unwrap()),
        ("decision", "allow".to_owned()),
    ];
    let page = post_with(&victim, &app, "/consent", &[("origin", &app.issuer)], &forged).await;

    assert_themed_error(&page, 403, CSRF_REFUSED);
}

// ---- the same-origin rule ----

#[tokio::test]
async fn a_login_posted_from_another_origin_is_refused_even_with_a_valid_token() {
    let (app, rp, _) = provider().await;
    let alice = user(&app, "alice.martin").await;
    let browser = Browser::new();
    let login = login_page(&app, &rp, &browser).await;

    let form = login_form(&login, &login.field("csrf").unwrap(), "alice.martin");
    let page = post_with(&browser, &app, "/login", &[("origin", EVIL)], &form).await;

    assert_themed_error(&page, 403, CROSS_SITE);
    assert!(app.sessions_of(&alice.id).await.is_empty(), "a session was opened");
}

#[tokio::test]
async fn an_account_form_posted_from_another_origin_is_refused() {
    let (app, _, _) = provider().await;
    let browser = Browser::new();
    open_account(&app, &browser, "alice.martin").await;
    let form = browser.get(&app.url("/account/password")).await;
    let before = stored_hash(&app, "alice.martin").await;

    let fields = password_change(&form.field("csrf").unwrap());
    let page = post_with(&browser, &app, "/account/password", &[("origin", EVIL)], &fields).await;

    assert_themed_error(&page, 403, CROSS_SITE);
    assert_eq!(stored_hash(&app, "alice.martin").await, before);
    let sign_out = post_with(&browser, &app, "/account/logout", &[("origin", EVIL)], &fields[..1]).await;
    assert_themed_error(&sign_out, 403, CROSS_SITE);
}

#[tokio::test]
async fn a_cross_site_post_without_origin_is_refused() {
    let (app, rp, _) = provider().await;
    let alice = user(&app, "alice.martin").await;
    let browser = Browser::new();
    let login = login_page(&app, &rp, &browser).await;

    let form = login_form(&login, &login.field("csrf").unwrap(), "alice.martin");
    let page = post_with(&browser, &app, "/login", &[("sec-fetch-site", "cross-site")], &form).await;

    assert_themed_error(&page, 403, CROSS_SITE);
    assert!(app.sessions_of(&alice.id).await.is_empty(), "a session was opened");
}

#[tokio::test]
async fn an_opaque_origin_is_refused() {
    let (app, rp, _) = provider().await;
    let browser = Browser::new();
    let login = login_page(&app, &rp, &browser).await;

    let form = login_form(&login, &login.field("csrf").unwrap(), "alice.martin");
    let page = post_with(&browser, &app, "/login", &[("origin", "null")], &form).await;

    assert_themed_error(&page, 403, CROSS_SITE);
}

#[tokio::test]
async fn the_refusal_is_in_english_for_an_english_browser() {
    let (app, rp, _) = provider().await;
    let browser = Browser::new();
    let login = login_page(&app, &rp, &browser).await;

    let form = login_form(&login, &login.field("csrf").unwrap(), "alice.martin");
    let page = post_with(&browser, &app, "/login", &[("origin", EVIL), ("accept-language", "en")], &form).await;

    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains("this form can only be sent from this service"), "{}", page.body);
}

#[tokio::test]
async fn a_login_from_the_issuers_origin_a_same_origin_fetch_or_a_plain_client_is_accepted() {
    let (app, rp, _) = provider().await;
    let issuer = app.issuer.clone();
    for headers in [vec![("origin", issuer.as_str())], vec![("sec-fetch-site", "same-origin")], vec![]] {
        let browser = Browser::new();
        let login = login_page(&app, &rp, &browser).await;
        let form = login_form(&login, &login.field("csrf").unwrap(), "alice.martin");

        let page = post_with(&browser, &app, "/login", &headers, &form).await;

        assert_eq!(page.status, 303, "{headers:?}: {}", page.body);
        assert!(page.set_cookie("idp_session").is_some(), "{headers:?}: no session");
    }
}

#[tokio::test]
async fn the_token_endpoint_takes_a_post_from_another_origin() {
    let (app, rp, secret) = provider().await;
    let browser = Browser::new();
    let pending = rp.start(&[]);
    let callback = browser.authorize(&app.issuer, &pending.url, "alice.martin", PASSWORD).await;
    let code = query(&callback).get("code").cloned().unwrap_or_else(|| panic!("no code: {callback}"));

    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", RP_CALLBACK),
        ("code_verifier", pending.verifier.secret()),
    ];
    let request =
        browser.http.post(app.url("/token")).header("origin", EVIL).basic_auth("shop", Some(&secret)).form(&form);
    let answer = browser.send(request).await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    let json: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    assert!(json["access_token"].is_string(), "{json}");
}

#[tokio::test]
async fn the_authorization_and_end_session_endpoints_take_a_post_from_a_relying_partys_page() {
    let (app, rp, _) = provider().await;
    let browser = Browser::new();
    let params: Vec<(String, String)> = query(&rp.start(&[]).url).into_iter().collect();

    let authorize = browser
        .send(browser.http.post(app.url("/authorize")).header("origin", "https://rp.example").form(&params))
        .await;
    let logout = browser
        .send(
            browser.http.post(app.url("/logout")).header("origin", "https://rp.example").form(&[("client_id", "shop")]),
        )
        .await;

    assert_eq!(authorize.status, 303, "{}", authorize.body);
    assert!(authorize.location().unwrap().starts_with("/login?request_id="), "{:?}", authorize.location());
    assert_eq!(logout.status, 200, "the confirmation page: {}", logout.body);
    assert!(logout.body.contains("name=\"logout_id\""), "{}", logout.body);
}
