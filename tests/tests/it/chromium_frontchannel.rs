//! Front-Channel Logout 1.0 in a real browser: headless Chromium signs in at a client, signs out
//! at the provider, and the logged-out page's iframe really loads the client's
//! `frontchannel_logout_uri` under the page's CSP (`frame-src`), after which `app.js` leads on to
//! the `post_logout_redirect_uri`. Skipped like the other Chromium test when chromedriver is
//! missing outside CI.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::Html;
use axum::routing::get;
use fantoccini::{Client, Locator};
use idp::admin::ClientSpec;
use idp::domain::client::ClientSettings;
use idp_tests::browser::query;
use idp_tests::{PASSWORD, TestApp};

use crate::chromium::{PATIENCE, body_text, chromium_available, in_chromium, is_on, submit_login_form, wait_for_url};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_loads_the_front_channel_logout_iframe_and_returns_to_the_client() {
    if !chromium_available(module_path!()) {
        return;
    }
    let app = TestApp::spawn().await;
    app.user("alice.martin").await;
    // The client: its pages on 127.0.0.1, recording the front-channel logout requests.
    let hits: Arc<Mutex<Vec<String>>> = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let rp_base = format!("http://{}", listener.local_addr().unwrap());
    let router = Router::new()
        .route(
            "/frontchannel-logout",
            get(|State(hits): State<Arc<Mutex<Vec<String>>>>, RawQuery(q): RawQuery| async move {
                hits.lock().unwrap().push(q.unwrap_or_default());
                Html("<!DOCTYPE html><title>signed out</title>")
            }),
        )
        .route("/callback", get(|| async { Html("<!DOCTYPE html><title>callback</title><p>callback</p>") }))
        .route("/bye", get(|| async { Html("<!DOCTYPE html><title>bye</title><p>au revoir</p>") }))
        .with_state(hits.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    app.client(ClientSpec {
        id: "shop".into(),
        name: "Boutique".into(),
        redirect_uris: vec![format!("{rp_base}/callback")],
        post_logout_redirect_uris: vec![format!("{rp_base}/bye")],
        first_party: true,
        settings: ClientSettings {
            frontchannel_logout_uri: Some(format!("{rp_base}/frontchannel-logout")),
            frontchannel_logout_session_required: true,
            ..ClientSettings::default()
        },
        ..ClientSpec::default()
    })
    .await;

    let issuer = app.issuer.clone();
    in_chromium(|browser| sign_in_and_out(browser, issuer, rp_base, hits)).await;
}

async fn sign_in_and_out(browser: Client, issuer: String, rp_base: String, hits: Arc<Mutex<Vec<String>>>) {
    let (_, challenge) = crate::support_protocol::pkce_pair();
    let authorize = format!(
        "{issuer}/authorize?response_type=code&client_id=shop&scope=openid&state=s1&nonce=n1\
         &code_challenge={challenge}&code_challenge_method=S256&redirect_uri={}",
        crate::flow::urlencode(&format!("{rp_base}/callback"))
    );
    browser.goto(&authorize).await.unwrap();
    wait_for_url(&browser, "the login page", |u| is_on(u, &issuer, "/login")).await;
    submit_login_form(&browser, "alice.martin", PASSWORD).await;
    wait_for_url(&browser, "the client's callback", |u| is_on(u, &rp_base, "/callback")).await;

    // RP-initiated logout without a hint: the user confirms on the provider's page.
    let logout = format!(
        "{issuer}/logout?client_id=shop&state=s2&post_logout_redirect_uri={}",
        crate::flow::urlencode(&format!("{rp_base}/bye"))
    );
    browser.goto(&logout).await.unwrap();
    browser
        .find(Locator::Css("button[name='decision'][value='logout']"))
        .await
        .expect("the confirmation page")
        .click()
        .await
        .unwrap();

    let url = wait_for_url(&browser, "the client's page after logout", |u| is_on(u, &rp_base, "/bye")).await;
    assert_eq!(url.query(), Some("state=s2"), "back with the state");
    let deadline = Instant::now() + PATIENCE;
    while hits.lock().unwrap().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let hits = hits.lock().unwrap().clone();
    assert_eq!(
        hits.len(),
        1,
        "the iframe loaded the front-channel logout URI once: {hits:?}; {}",
        body_text(&browser).await
    );
    let params = query(&format!("{rp_base}/frontchannel-logout?{}", hits[0]));
    assert_eq!(params.get("iss"), Some(&issuer), "iss: {hits:?}");
    assert!(params.get("sid").is_some_and(|s| s.len() == 43), "sid: {hits:?}");
}
