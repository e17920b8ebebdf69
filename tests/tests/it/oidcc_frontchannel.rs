//! The OpenID Foundation's Front-Channel Logout OP test plan (OpenID Connect Front-Channel
//! Logout 1.0): the page that ends the session embeds an invisible iframe per client of that
//! session with a `frontchannel_logout_uri`, with `iss` and `sid` when the client requires them,
//! under a CSP whose `frame-src` names exactly those origins; the page works without JavaScript
//! (a link leads on to the application).

use idp::admin::ClientSpec;
use idp::domain::client::ClientSettings;
use idp_tests::browser::{Page, query};
use idp_tests::rp::Rp;
use idp_tests::{Browser, TestApp};
use serde_json::Value;

use crate::flow::urlencode;
use crate::oidcc_backchannel::{decode, sign_in};

fn unescape(s: &str) -> String {
    s.replace("&#x2F;", "/").replace("&#x27;", "'").replace("&quot;", "\"").replace("&amp;", "&")
}

/// The `src` of every iframe of the page.
fn iframes(page: &Page) -> Vec<String> {
    page.body
        .match_indices("<iframe ")
        .filter_map(|(start, _)| {
            let tag = &page.body[start..start + page.body[start..].find('>')?];
            let v = tag.find("src=\"")? + 5;
            Some(unescape(&tag[v..v + tag[v..].find('"')?]))
        })
        .collect()
}

/// The `frame-src` directive of the page's CSP, if any.
fn frame_src(page: &Page) -> Option<String> {
    let csp = page.header("content-security-policy").expect("a CSP");
    csp.split(';').map(str::trim).find(|d| d.starts_with("frame-src")).map(str::to_owned)
}

async fn frontchannel_client(app: &TestApp, id: &str, session_required: bool) -> (Rp, String) {
    let callback = format!("https://{id}.example/callback");
    let (client, secret) = app
        .client(ClientSpec {
            id: id.into(),
            name: format!("Client {id}"),
            redirect_uris: vec![callback.clone()],
            post_logout_redirect_uris: vec![format!("{callback}/bye")],
            settings: ClientSettings {
                frontchannel_logout_uri: Some(format!("https://{id}.example/logout?from=op")),
                frontchannel_logout_session_required: session_required,
                ..ClientSettings::default()
            },
            ..ClientSpec::default()
        })
        .await;
    let rp = Rp::discover(&app.issuer, &client.id, secret.as_deref(), &callback).await;
    (rp, callback)
}

async fn provider_with_alice() -> TestApp {
    let app = TestApp::spawn().await;
    app.user("alice.martin").await;
    app
}

#[tokio::test]
async fn oidcc_frontchannel_rp_initiated_logout() {
    // Module oidcc-frontchannel-rp-initiated-logout: after an RP-initiated logout with a valid
    // id_token_hint, a registered post_logout_redirect_uri and a state, the OP's page loads the
    // client's frontchannel_logout_uri in an iframe, with iss (the issuer) and sid (the ID
    // token's sid) since the client requires them, and then sends the browser on to the
    // post_logout_redirect_uri with the state.
    let app = provider_with_alice().await;
    let (rp, callback) = frontchannel_client(&app, "shop", true).await;
    let browser = Browser::new();
    let id_token = sign_in(&app, &rp, &browser).await;
    let sid = decode(&id_token).1["sid"].as_str().unwrap().to_owned();

    let page = browser
        .get(&app.url(&format!(
            "/logout?id_token_hint={id_token}&post_logout_redirect_uri={}&state=st-9",
            urlencode(&format!("{callback}/bye"))
        )))
        .await;

    assert_eq!(page.status, 200, "the page with the iframes comes first: {}", page.body);
    let frames = iframes(&page);
    assert_eq!(frames.len(), 1, "one iframe: {}", page.body);
    assert!(
        frames[0].starts_with("https://shop.example/logout?from=op&"),
        "the registered URI, its query kept: {frames:?}"
    );
    let params = query(&frames[0]);
    assert_eq!(params["iss"], app.issuer, "§2: iss");
    assert_eq!(params["sid"], sid, "§2: sid of the ID token");
    assert_eq!(frame_src(&page).as_deref(), Some("frame-src https://shop.example"), "CSP frame-src");
    assert_eq!(
        page.link_with("data-continue-after-frames").as_deref(),
        Some(format!("{callback}/bye?state=st-9").as_str()),
        "without JavaScript a link leads on to the application: {}",
        page.body
    );
}

#[tokio::test]
async fn oidcc_frontchannel_logout_without_session_required_loads_the_bare_uri() {
    // §2: iss and sid are added only when the client registered
    // frontchannel_logout_session_required.
    let app = provider_with_alice().await;
    let (rp, _) = frontchannel_client(&app, "shop", false).await;
    let browser = Browser::new();
    let id_token = sign_in(&app, &rp, &browser).await;

    let page = browser.get(&app.url(&format!("/logout?id_token_hint={id_token}"))).await;

    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Vous êtes déconnecté(e)"), "the logged-out page: {}", page.body);
    assert_eq!(iframes(&page), ["https://shop.example/logout?from=op"]);
    assert!(page.link_with("data-continue-after-frames").is_none(), "nowhere to continue to");
}

#[tokio::test]
async fn only_the_clients_of_the_session_get_an_iframe_and_only_their_origins_are_allowed() {
    // The iframes are for the clients this browser session signed in to, not for every
    // registered client; frame-src lists exactly their origins.
    let app = provider_with_alice().await;
    let (shop, _) = frontchannel_client(&app, "shop", true).await;
    let (library, _) = frontchannel_client(&app, "library", true).await;
    frontchannel_client(&app, "unused", true).await;
    let browser = Browser::new();
    let id_token = sign_in(&app, &shop, &browser).await;
    sign_in(&app, &library, &browser).await;

    let page = browser.get(&app.url(&format!("/logout?id_token_hint={id_token}"))).await;

    let mut hosts: Vec<String> =
        iframes(&page).iter().map(|f| url::Url::parse(f).unwrap().host_str().unwrap().to_owned()).collect();
    hosts.sort();
    assert_eq!(hosts, ["library.example", "shop.example"]);
    let directive = frame_src(&page).unwrap();
    let mut origins: Vec<&str> = directive.split_whitespace().skip(1).collect();
    origins.sort_unstable();
    assert_eq!(origins, ["https://library.example", "https://shop.example"]);
}

#[tokio::test]
async fn without_front_channel_clients_the_logout_redirects_at_once_and_the_csp_has_no_frame_src() {
    // RP-Initiated Logout 1.0 §3: with nothing to load in the browser, straight back.
    let app = provider_with_alice().await;
    let (client, secret) = app.confidential_client("shop", idp_tests::RP_CALLBACK).await;
    let rp = Rp::discover(&app.issuer, &client.id, Some(&secret), idp_tests::RP_CALLBACK).await;
    let bye = format!("{}/bye", idp_tests::RP_CALLBACK);
    let (first, second) = (Browser::new(), Browser::new());
    let first_id_token = sign_in(&app, &rp, &first).await;
    let second_id_token = sign_in(&app, &rp, &second).await;

    let redirected = first
        .get(&app.url(&format!("/logout?id_token_hint={first_id_token}&post_logout_redirect_uri={}", urlencode(&bye))))
        .await;
    let page = second.get(&app.url(&format!("/logout?id_token_hint={second_id_token}"))).await;

    assert_eq!(redirected.status, 303, "{}", redirected.body);
    assert_eq!(redirected.location().as_deref(), Some(bye.as_str()));
    assert_eq!(page.status, 200);
    assert!(iframes(&page).is_empty());
    assert_eq!(frame_src(&page), None, "no frame may be loaded");
}

#[tokio::test]
async fn discovery_advertises_front_channel_logout_with_sessions() {
    // Front-Channel Logout 1.0 §3.
    let app = TestApp::spawn().await;
    let doc: Value = reqwest::get(app.url("/.well-known/openid-configuration")).await.unwrap().json().await.unwrap();
    assert_eq!(doc["frontchannel_logout_supported"], true);
    assert_eq!(doc["frontchannel_logout_session_supported"], true);
}
