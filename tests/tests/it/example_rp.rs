//! The example relying party (clients/demo-rp, on the openidconnect crate) as a confidential
//! client with client_secret_basic, driven by a scripted browser across both origins: the
//! "confidential client works with the example relying party" check of issue #3. The public
//! client variant runs in real Chromium (`chromium.rs`).

use idp::admin::ClientSpec;
use idp_tests::browser::Page;
use idp_tests::{Browser, PASSWORD, TestApp};
use tokio::net::TcpListener;

/// Follows every redirect, on either origin, until a page.
async fn follow_everywhere(browser: &Browser, mut page: Page, base_of: impl Fn(&str) -> String) -> Page {
    for _ in 0..15 {
        let Some(location) = page.location() else { return page };
        let absolute = if location.starts_with('/') { format!("{}{location}", base_of(&page.url)) } else { location };
        page = browser.get(&absolute).await;
    }
    panic!("too many redirects")
}

fn origin(url: &str) -> String {
    url::Url::parse(url).unwrap().origin().ascii_serialization()
}

#[tokio::test]
async fn the_example_relying_party_signs_in_as_a_confidential_client_and_signs_out() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice.martin").await;
    let rp_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let rp_base = format!("http://{}", rp_listener.local_addr().unwrap());
    let (_, secret) = app
        .client(ClientSpec {
            id: "shop".into(),
            name: "Boutique".into(),
            redirect_uris: vec![format!("{rp_base}/callback")],
            post_logout_redirect_uris: vec![format!("{rp_base}/")],
            grants: vec!["authorization_code".into(), "refresh_token".into()],
            auth_method: Some("client_secret_basic".into()),
            ..ClientSpec::default()
        })
        .await;
    let rp = demo_rp::router(demo_rp::Config {
        issuer: app.issuer.clone(),
        client_id: "shop".into(),
        client_secret: secret,
        base_url: rp_base.clone(),
        ..demo_rp::Config::default()
    })
    .await
    .expect("the example relying party discovers the provider");
    tokio::spawn(async move { axum::serve(rp_listener, rp).await });
    let browser = Browser::new();

    let login = follow_everywhere(&browser, browser.get(&format!("{rp_base}/login")).await, origin).await;
    assert!(login.url.starts_with(&app.url("/login")), "the RP sends the browser to the IdP login page: {}", login.url);
    let submitted = browser.submit_login(&app.issuer, &login, "alice.martin", PASSWORD).await;
    let consent = follow_everywhere(&browser, submitted, origin).await;
    assert!(consent.url.starts_with(&app.url("/consent")), "a third-party client asks for consent: {}", consent.url);
    let allowed = browser
        .post(
            &app.url("/consent"),
            &[
                ("csrf", &consent.field("csrf").unwrap()),
                ("request_id", &consent.field("request_id").unwrap()),
                ("decision", "allow"),
            ],
        )
        .await;
    let home = follow_everywhere(&browser, allowed, origin).await;

    assert!(home.url.starts_with(&rp_base), "back on the RP: {}", home.url);
    assert!(home.body.contains(&alice.id), "the RP shows the verified sub: {}", home.body);
    assert!(home.body.contains("alice.martin@example.org"), "and the userinfo e-mail: {}", home.body);

    let out = follow_everywhere(&browser, browser.get(&format!("{rp_base}/logout")).await, origin).await;
    assert!(out.url.starts_with(&rp_base), "RP-initiated logout returns to the RP: {}", out.url);
    assert!(!out.body.contains(&alice.id), "signed out of the RP: {}", out.body);
    let again = follow_everywhere(&browser, browser.get(&format!("{rp_base}/login")).await, origin).await;
    assert!(again.url.starts_with(&app.url("/login")), "and of the IdP: {}", again.url);
}
