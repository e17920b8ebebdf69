//! RP-Initiated Logout 1.0 at the end-session endpoint: a trusted request (valid
//! `id_token_hint`) signs out at once and returns to a registered address; anything else asks
//! the user first; an address or hint that cannot be trusted gets an error page, never a
//! redirect.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use idp_tests::browser::query;
use idp_tests::rp::Rp;
use idp_tests::{Browser, PASSWORD, RP_CALLBACK, TestApp};
use openidconnect::TokenResponse;

use crate::flow::urlencode;
use crate::pages::assert_themed_error;

const BYE: &str = "https://rp.example/callback/bye";

/// A provider where alice is signed in at the shop in `browser`, with the shop's ID token.
struct SignedIn {
    app: TestApp,
    rp: Rp,
    browser: Browser,
    id_token: String,
}

async fn signed_in_at_the_shop() -> SignedIn {
    let app = TestApp::spawn().await;
    app.user("alice.martin").await;
    let (client, secret) = app.confidential_client("shop", RP_CALLBACK).await;
    let rp = Rp::discover(&app.issuer, &client.id, Some(&secret), RP_CALLBACK).await;
    let browser = Browser::new();
    let pending = rp.start(&[]);
    let callback = browser.authorize(&app.issuer, &pending.url, "alice.martin", PASSWORD).await;
    let tokens = rp.exchange(&query(&callback)["code"], pending.verifier).await.expect("the code exchanges");
    let id_token = tokens.id_token().expect("an ID token").to_string();
    SignedIn { app, rp, browser, id_token }
}

impl SignedIn {
    /// Whether the browser still has a session: a silent authorization (`prompt=none`) either
    /// returns a code or `login_required`.
    async fn is_signed_in(&self) -> bool {
        let silent = self.rp.start(&[]).url + "&prompt=none";
        let page = self.browser.follow(&self.app.issuer, self.browser.get(&silent).await).await;
        let params = query(&page.location().expect("a silent authorization redirects back"));
        match params.get("error").map(String::as_str) {
            None if params.contains_key("code") => true,
            Some("login_required") => false,
            other => panic!("unexpected answer to prompt=none: {other:?}"),
        }
    }

    async fn logout(&self, query: &str) -> idp_tests::browser::Page {
        self.browser.get(&self.app.url(&format!("/logout?{query}"))).await
    }
}

/// The hint with its payload changed (the signature left as it was).
fn with_claims(id_token: &str, change: impl FnOnce(&mut serde_json::Value)) -> String {
    let parts: Vec<&str> = id_token.split('.').collect();
    let mut claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    change(&mut claims);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    format!("{}.{payload}.{}", parts[0], parts[2])
}

#[tokio::test]
async fn a_logout_with_a_valid_hint_returns_to_the_registered_address_with_state_and_ends_the_session() {
    let s = signed_in_at_the_shop().await;

    let page = s
        .logout(&format!("id_token_hint={}&post_logout_redirect_uri={}&state=st-42", s.id_token, urlencode(BYE)))
        .await;

    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location().unwrap(), format!("{BYE}?state=st-42"));
    assert!(!s.is_signed_in().await, "the session ended");
}

#[tokio::test]
async fn a_logout_without_a_hint_asks_the_user_to_confirm() {
    let s = signed_in_at_the_shop().await;

    let page = s.logout("").await;

    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Souhaitez-vous vous déconnecter"), "not the confirmation page: {}", page.body);
    assert!(page.form_action("/logout/confirm").is_some(), "no confirmation form: {}", page.body);
    assert!(page.field("csrf").is_some_and(|v| !v.is_empty()), "the form has no CSRF token");
    assert!(page.field("logout_id").is_some_and(|v| !v.is_empty()), "the form has no logout_id");
    assert!(s.is_signed_in().await, "asking does not sign out");
}

#[tokio::test]
async fn confirming_a_logout_ends_the_session_and_shows_the_logged_out_page() {
    let s = signed_in_at_the_shop().await;
    let confirm = s.logout("").await;

    let page = s
        .browser
        .post(
            &s.app.url("/logout/confirm"),
            &[
                ("csrf", &confirm.field("csrf").unwrap()),
                ("logout_id", &confirm.field("logout_id").unwrap()),
                ("decision", "logout"),
            ],
        )
        .await;

    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Vous êtes déconnecté(e)"), "not the logged-out page: {}", page.body);
    assert!(!s.is_signed_in().await, "the session ended");
}

#[tokio::test]
async fn the_logged_out_page_after_a_confirmation_has_no_language_switch_to_an_error() {
    let s = signed_in_at_the_shop().await;
    let confirm = s.logout("").await;
    let logged_out = s
        .browser
        .post(
            &s.app.url("/logout/confirm"),
            &[
                ("csrf", &confirm.field("csrf").unwrap()),
                ("logout_id", &confirm.field("logout_id").unwrap()),
                ("decision", "logout"),
            ],
        )
        .await;

    if let Some(switch) = logged_out.link_with("hreflang=\"en\"") {
        let page = s.browser.get(&s.app.url(&switch)).await;
        assert_eq!(page.status, 200, "the language switch {switch} led to: {}", page.body);
    }
}

#[tokio::test]
async fn the_logged_out_page_stays_in_the_language_chosen_on_the_confirmation() {
    let s = signed_in_at_the_shop().await;
    let french = s.logout("").await;
    let english = s.browser.get(&s.app.url(&french.link_with("hreflang=\"en\"").unwrap())).await;
    assert!(english.body.contains("Do you want to sign out?"), "{}", english.body);

    let action = english.form_action("/logout/confirm").expect("a confirmation form");
    let page = s
        .browser
        .post(
            &s.app.url(&action),
            &[
                ("csrf", &english.field("csrf").unwrap()),
                ("logout_id", &english.field("logout_id").unwrap()),
                ("decision", "logout"),
            ],
        )
        .await;

    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("You are signed out"), "not the English logged-out page: {}", page.body);
}

#[tokio::test]
async fn cancelling_a_logout_keeps_the_session() {
    let s = signed_in_at_the_shop().await;
    let confirm = s.logout("").await;

    let page = s
        .browser
        .post(
            &s.app.url("/logout/confirm"),
            &[
                ("csrf", &confirm.field("csrf").unwrap()),
                ("logout_id", &confirm.field("logout_id").unwrap()),
                ("decision", "cancel"),
            ],
        )
        .await;

    assert_eq!(page.status, 303, "{}", page.body);
    assert!(s.is_signed_in().await, "the user is still signed in");
}

#[tokio::test]
async fn a_logout_to_an_unregistered_address_is_an_error_page_not_a_redirect() {
    let s = signed_in_at_the_shop().await;

    let page = s
        .logout(&format!(
            "id_token_hint={}&post_logout_redirect_uri={}&state=st",
            s.id_token,
            urlencode("https://evil.example/bye")
        ))
        .await;

    assert_themed_error(&page, 400, "L’adresse de retour après déconnexion n’est pas autorisée pour ce service.");
    assert!(s.is_signed_in().await, "a refused logout request signs nobody out");
}

#[tokio::test]
async fn a_logout_with_a_tampered_hint_is_an_error_page() {
    let s = signed_in_at_the_shop().await;
    let tampered = with_claims(&s.id_token, |claims| claims["sub"] = "someone-else".into());

    let page =
        s.logout(&format!("id_token_hint={tampered}&post_logout_redirect_uri={}&state=st", urlencode(BYE))).await;

    assert_themed_error(&page, 400, "La demande de connexion est incomplète ou invalide.");
    assert!(s.is_signed_in().await, "a refused logout request signs nobody out");
}

#[tokio::test]
async fn a_logout_with_an_unsigned_hint_is_an_error_page() {
    let s = signed_in_at_the_shop().await;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let claims = s.id_token.split('.').nth(1).unwrap();
    let forged = format!("{header}.{claims}.");

    let page = s.logout(&format!("id_token_hint={forged}&post_logout_redirect_uri={}&state=st", urlencode(BYE))).await;

    assert_themed_error(&page, 400, "La demande de connexion est incomplète ou invalide.");
    assert!(s.is_signed_in().await, "a refused logout request signs nobody out");
}

#[tokio::test]
async fn a_logout_whose_client_id_is_not_the_hints_audience_is_an_error_page() {
    let s = signed_in_at_the_shop().await;
    s.app.confidential_client("library", "https://library.example/callback").await;

    let page = s
        .logout(&format!(
            "id_token_hint={}&client_id=library&post_logout_redirect_uri={}",
            s.id_token,
            urlencode("https://library.example/callback/bye")
        ))
        .await;

    assert_themed_error(&page, 400, "La demande de connexion est incomplète ou invalide.");
    assert!(s.is_signed_in().await, "a refused logout request signs nobody out");
}

#[tokio::test]
async fn a_logout_confirmation_without_a_csrf_token_is_refused() {
    let s = signed_in_at_the_shop().await;
    let confirm = s.logout("").await;

    let page = s
        .browser
        .post(
            &s.app.url("/logout/confirm"),
            &[("logout_id", &confirm.field("logout_id").unwrap()), ("decision", "logout")],
        )
        .await;

    assert_themed_error(&page, 403, "ce formulaire n’est plus valide");
    assert!(s.is_signed_in().await, "the session is still open");
}
