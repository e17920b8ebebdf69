//! `response_mode=form_post` in a real browser: headless Chromium signs in, and the provider's
//! form-post page is submitted by `form_post.js` (a static file: no inline script) to the
//! client's redirect URI on another origin, which the page's CSP `form-action` must allow.
//! Skipped like the other Chromium tests when chromedriver is missing outside CI.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::post;
use fantoccini::Client;
use idp::admin::ClientSpec;
use idp_tests::browser::query;
use idp_tests::{PASSWORD, TestApp};

use crate::chromium::{body_text, chromium_available, in_chromium, is_on, submit_login_form, wait_for_url};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_posts_the_form_post_response_to_the_client_by_script() {
    if !chromium_available(module_path!()) {
        return;
    }
    let app = TestApp::spawn().await;
    app.user("alice.martin").await;
    // The client: records the bodies posted to its callback.
    let posted: Arc<Mutex<Vec<String>>> = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let rp_base = format!("http://{}", listener.local_addr().unwrap());
    let router = Router::new()
        .route(
            "/callback",
            post(|State(posted): State<Arc<Mutex<Vec<String>>>>, body: String| async move {
                posted.lock().unwrap().push(body);
                Html("<!DOCTYPE html><title>callback</title><p>callback</p>")
            }),
        )
        .with_state(posted.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    app.client(ClientSpec {
        id: "shop".into(),
        name: "Boutique".into(),
        redirect_uris: vec![format!("{rp_base}/callback")],
        first_party: true,
        ..ClientSpec::default()
    })
    .await;

    let issuer = app.issuer.clone();
    in_chromium(|browser| sign_in(browser, issuer, rp_base, posted)).await;
}

async fn sign_in(browser: Client, issuer: String, rp_base: String, posted: Arc<Mutex<Vec<String>>>) {
    let (_, challenge) = crate::support_protocol::pkce_pair();
    let authorize = format!(
        "{issuer}/authorize?response_type=code&response_mode=form_post&client_id=shop&scope=openid\
         &state=s1&nonce=n1&code_challenge={challenge}&code_challenge_method=S256&redirect_uri={}",
        crate::flow::urlencode(&format!("{rp_base}/callback"))
    );
    browser.goto(&authorize).await.unwrap();
    wait_for_url(&browser, "the login page", |u| is_on(u, &issuer, "/login")).await;
    submit_login_form(&browser, "alice.martin", PASSWORD).await;

    // No click here: the script posts the form by itself.
    wait_for_url(&browser, "the client's callback", |u| is_on(u, &rp_base, "/callback")).await;
    let bodies = posted.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1, "one POST reached the client: {bodies:?}; {}", body_text(&browser).await);
    let params = query(&format!("{rp_base}/callback?{}", bodies[0]));
    assert!(params.get("code").is_some_and(|c| !c.is_empty()), "a code was posted: {params:?}");
    assert_eq!(params.get("state").map(String::as_str), Some("s1"));
    assert_eq!(params.get("iss"), Some(&issuer));
}
