//! The OpenID Foundation's RP-Initiated Logout OP test plan (OpenID Connect RP-Initiated Logout
//! 1.0), one test per module. Each module signs the user in at a client first, sends the browser
//! to the end_session_endpoint with some parameters, and checks where the browser ends up and
//! whether the OP session ended (a later `prompt=none` gets `login_required`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use idp::admin::ClientSpec;
use idp_tests::browser::{Page, query};
use idp_tests::rp::Rp;
use idp_tests::{Browser, TestApp};

use crate::oidcc_backchannel::{is_signed_in, sign_in};

const CALLBACK: &str = "https://rp.example/callback";
const BYE: &str = "https://rp.example/bye";
const BYE_WITH_QUERY: &str = "https://rp.example/bye?from=op";

struct Signed {
    app: TestApp,
    rp: Rp,
    browser: Browser,
    id_token: String,
}

/// Alice signed in at the client "shop", which registered two post-logout addresses (one with a
/// query of its own).
async fn signed_in() -> Signed {
    let app = TestApp::spawn().await;
    app.user("alice.martin").await;
    let (client, secret) = app
        .client(ClientSpec {
            id: "shop".into(),
            name: "Boutique".into(),
            redirect_uris: vec![CALLBACK.into()],
            post_logout_redirect_uris: vec![BYE.into(), BYE_WITH_QUERY.into()],
            ..ClientSpec::default()
        })
        .await;
    let rp = Rp::discover(&app.issuer, &client.id, secret.as_deref(), CALLBACK).await;
    let browser = Browser::new();
    let id_token = sign_in(&app, &rp, &browser).await;
    Signed { app, rp, browser, id_token }
}

impl Signed {
    async fn end_session(&self, params: &[(&str, &str)]) -> Page {
        let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
        self.browser.get(&self.app.url(&format!("/logout?{query}"))).await
    }

    /// The user confirms on the OP's page.
    async fn confirm(&self, page: &Page) -> Page {
        assert_eq!(page.status, 200, "expected the confirmation page: {}", page.body);
        assert!(page.form_action("/logout/confirm").is_some(), "expected the confirmation page: {}", page.body);
        self.browser
            .post(
                &self.app.url("/logout/confirm"),
                &[
                    ("csrf", &page.field("csrf").unwrap()),
                    ("logout_id", &page.field("logout_id").unwrap()),
                    ("decision", "logout"),
                ],
            )
            .await
    }

    async fn is_signed_in(&self) -> bool {
        is_signed_in(&self.app, &self.rp, &self.browser).await
    }
}

fn assert_logged_out_page(page: &Page) {
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.location().is_none(), "no redirect");
    assert!(page.body.contains("Vous êtes déconnecté(e)"), "expected the logged-out page: {}", page.body);
}

fn assert_not_redirected_to_the_client(page: &Page) {
    if let Some(location) = page.location() {
        assert!(!location.starts_with("https://rp.example"), "redirected to {location}");
    }
    assert!(!page.body.contains("https://rp.example/bye"), "the page leads to the client: {}", page.body);
}

#[tokio::test]
async fn oidcc_rp_initiated_logout() {
    // Module oidcc-rp-initiated-logout: id_token_hint, a registered post_logout_redirect_uri and
    // state: the OP logs the user out and redirects to that URI with the same state (§3);
    // afterwards prompt=none returns login_required.
    let s = signed_in().await;

    let page =
        s.end_session(&[("id_token_hint", &s.id_token), ("post_logout_redirect_uri", BYE), ("state", "xyz")]).await;

    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location().unwrap(), format!("{BYE}?state=xyz"));
    assert!(!s.is_signed_in().await, "the OP session ended");
}

#[tokio::test]
async fn oidcc_rp_initiated_logout_bad_post_logout_redirect_uri() {
    // Module oidcc-rp-initiated-logout-bad-post-logout-redirect-uri: a post_logout_redirect_uri
    // that was not registered: the OP MUST NOT redirect to it (§3) and shows an error.
    let s = signed_in().await;

    let page = s
        .end_session(&[
            ("id_token_hint", &s.id_token),
            ("post_logout_redirect_uri", "https://rp.example/elsewhere"),
            ("state", "xyz"),
        ])
        .await;

    assert_eq!(page.status, 400, "{}", page.body);
    assert_not_redirected_to_the_client(&page);
    assert!(page.body.contains("invalid_redirect_uri"), "an error page: {}", page.body);
}

#[tokio::test]
async fn oidcc_rp_initiated_logout_modified_id_token_hint() {
    // Module oidcc-rp-initiated-logout-modified-id-token-hint: the hint's signature no longer
    // matches (payload changed): the OP must not trust it, so it neither redirects to the
    // post_logout_redirect_uri nor signs the user out silently; it shows an error.
    let s = signed_in().await;
    let parts: Vec<&str> = s.id_token.split('.').collect();
    let mut claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["sub"] = "mallory".into();
    let modified = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(claims.to_string()), parts[2]);

    let page =
        s.end_session(&[("id_token_hint", &modified), ("post_logout_redirect_uri", BYE), ("state", "xyz")]).await;

    assert_eq!(page.status, 400, "{}", page.body);
    assert_not_redirected_to_the_client(&page);
    assert!(s.is_signed_in().await, "nobody was signed out on a forged request");
}

#[tokio::test]
async fn oidcc_rp_initiated_logout_no_id_token_hint() {
    // Module oidcc-rp-initiated-logout-no-id-token-hint: client_id, post_logout_redirect_uri and
    // state without a hint: the OP asks the user to confirm (§2: it cannot tell who asks), then
    // logs out and redirects to the registered URI with the state.
    let s = signed_in().await;

    let page = s.end_session(&[("client_id", "shop"), ("post_logout_redirect_uri", BYE), ("state", "xyz")]).await;
    let confirmed = s.confirm(&page).await;

    assert_eq!(confirmed.status, 303, "{}", confirmed.body);
    assert_eq!(confirmed.location().unwrap(), format!("{BYE}?state=xyz"));
    assert!(!s.is_signed_in().await, "the OP session ended");
}

#[tokio::test]
async fn oidcc_rp_initiated_logout_no_params() {
    // Module oidcc-rp-initiated-logout-no-params: the end_session_endpoint with no parameter at
    // all: the OP asks the user, logs out, and shows its own logged-out page (nowhere to return).
    let s = signed_in().await;

    let page = s.end_session(&[]).await;
    let confirmed = s.confirm(&page).await;

    assert_logged_out_page(&confirmed);
    assert!(!s.is_signed_in().await, "the OP session ended");
}

#[tokio::test]
async fn oidcc_rp_initiated_logout_no_post_logout_redirect_uri() {
    // Module oidcc-rp-initiated-logout-no-post-logout-redirect-uri: a valid hint and a state but
    // no post_logout_redirect_uri: the OP logs out and shows its logged-out page.
    let s = signed_in().await;

    let page = s.end_session(&[("id_token_hint", &s.id_token), ("state", "xyz")]).await;

    assert_logged_out_page(&page);
    assert!(!s.is_signed_in().await, "the OP session ended");
}

#[tokio::test]
async fn oidcc_rp_initiated_logout_no_state() {
    // Module oidcc-rp-initiated-logout-no-state: hint and post_logout_redirect_uri without state:
    // the redirect carries no state parameter.
    let s = signed_in().await;

    let page = s.end_session(&[("id_token_hint", &s.id_token), ("post_logout_redirect_uri", BYE)]).await;

    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location().unwrap(), BYE, "no state was sent, none comes back");
    assert!(!s.is_signed_in().await, "the OP session ended");
}

#[tokio::test]
async fn oidcc_rp_initiated_logout_only_state() {
    // Module oidcc-rp-initiated-logout-only-state: only a state: without a registered address
    // the OP cannot return anywhere; it asks, logs out and shows its page (state is unused).
    let s = signed_in().await;

    let page = s.end_session(&[("state", "xyz")]).await;
    let confirmed = s.confirm(&page).await;

    assert_logged_out_page(&confirmed);
    assert!(!s.is_signed_in().await, "the OP session ended");
}

#[tokio::test]
async fn oidcc_rp_initiated_logout_query_added_to_post_logout_redirect_uri() {
    // Module oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri: a registered URI
    // with its own query: the redirect keeps that query and adds the state (§3, as RFC 6749
    // §3.1.2 for redirect URIs).
    let s = signed_in().await;

    let page = s
        .end_session(&[("id_token_hint", &s.id_token), ("post_logout_redirect_uri", BYE_WITH_QUERY), ("state", "xyz")])
        .await;

    assert_eq!(page.status, 303, "{}", page.body);
    let location = page.location().unwrap();
    assert!(location.starts_with("https://rp.example/bye?"), "{location}");
    let params = query(&location);
    assert_eq!(params["from"], "op", "the registered query is kept: {location}");
    assert_eq!(params["state"], "xyz", "{location}");
}

#[tokio::test]
async fn the_end_session_endpoint_accepts_post_too() {
    // RP-Initiated Logout 1.0 §2: the OP MUST support GET and POST at the end_session_endpoint.
    let s = signed_in().await;

    let page = s
        .browser
        .post(
            &s.app.url("/logout"),
            &[("id_token_hint", &s.id_token), ("post_logout_redirect_uri", BYE), ("state", "p")],
        )
        .await;

    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location().unwrap(), format!("{BYE}?state=p"));
}
