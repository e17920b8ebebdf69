//! Subject identifiers (OpenID Connect Core §8): public by default, pairwise per client
//! (`subject_type=pairwise`), with the sector taken from `sector_identifier_uri` (fetched and
//! checked at registration) or from the one host of the redirect URIs.

use idp::admin::ClientSpec;
use idp::domain::client::{ClientSettings, SubjectType};
use idp_tests::browser::query;
use idp_tests::{Browser, PASSWORD, TestApp};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support_protocol::{AuthorizeRequest, LOGIN, basic, get_userinfo, post_token};

fn pairwise_spec(id: &str, redirect_uris: &[&str], sector_identifier_uri: Option<String>) -> ClientSpec {
    ClientSpec {
        id: id.into(),
        name: format!("Client {id}"),
        redirect_uris: redirect_uris.iter().map(|u| (*u).to_owned()).collect(),
        grants: vec!["authorization_code".into()],
        first_party: true,
        settings: ClientSettings {
            subject_type: SubjectType::Pairwise,
            sector_identifier_uri,
            ..ClientSettings::default()
        },
        ..ClientSpec::default()
    }
}

/// Signs Alice in at `client_id` (first party: no consent) and returns the ID token's claims
/// and the userinfo answer.
async fn subject_seen_by(
    app: &TestApp,
    browser: &Browser,
    client_id: &str,
    secret: &str,
    redirect_uri: &str,
) -> (Value, Value) {
    let request = AuthorizeRequest::new(client_id, redirect_uri);
    let callback = browser.authorize(&app.issuer, &request.url(app), LOGIN, PASSWORD).await;
    let code = query(&callback).get("code").cloned().unwrap_or_else(|| panic!("no code in {callback}"));
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect_uri),
        ("code_verifier", request.verifier.as_str()),
    ];
    let answer = post_token(app, Some(&basic(client_id, secret)), &form).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    let id_token = app.services.keys.verify(answer.str("id_token")).unwrap();
    let userinfo = get_userinfo(app, answer.str("access_token")).await;
    (id_token, userinfo.json)
}

#[tokio::test]
async fn subjects_are_public_by_default() {
    let app = TestApp::spawn().await;
    let alice = app.user(LOGIN).await;
    let (_, secret) = app.confidential_client("public-rp", "https://public.example/cb").await;
    let browser = Browser::new();

    let request = AuthorizeRequest::new("public-rp", "https://public.example/cb");
    let callback = browser.authorize(&app.issuer, &request.url(&app), LOGIN, PASSWORD).await;
    let code = query(&callback)["code"].clone();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", "https://public.example/cb"),
        ("code_verifier", request.verifier.as_str()),
    ];
    let answer = post_token(&app, Some(&basic("public-rp", &secret)), &form).await;

    let id_token = app.services.keys.verify(answer.str("id_token")).unwrap();
    assert_eq!(id_token["sub"], alice.id.as_str(), "a public subject is the local user id");
}

#[tokio::test]
async fn pairwise_subjects_differ_between_sectors_and_stay_stable_for_one_client() {
    // §8.1: different sectors see different, unlinkable subjects; one client always sees the
    // same one, in the ID token and at userinfo alike.
    let app = TestApp::spawn().await;
    let alice = app.user(LOGIN).await;
    let (_, a_secret) = app.client(pairwise_spec("rp-a", &["https://a.example/cb"], None)).await;
    let (_, b_secret) = app.client(pairwise_spec("rp-b", &["https://b.example/cb"], None)).await;
    let browser = Browser::new();

    let (a1, a1_userinfo) = subject_seen_by(&app, &browser, "rp-a", &a_secret.unwrap(), "https://a.example/cb").await;
    let (b1, _) = subject_seen_by(&app, &browser, "rp-b", &b_secret.unwrap(), "https://b.example/cb").await;

    assert_ne!(a1["sub"], b1["sub"], "two sectors must not see the same subject");
    assert_ne!(a1["sub"], alice.id.as_str(), "a pairwise subject is not the local id");
    assert_eq!(a1_userinfo["sub"], a1["sub"], "userinfo and the ID token must agree (§5.3.2)");
}

#[tokio::test]
async fn a_pairwise_subject_is_the_same_at_every_sign_in() {
    let app = TestApp::spawn().await;
    app.user(LOGIN).await;
    let (_, secret) = app.client(pairwise_spec("rp-a", &["https://a.example/cb"], None)).await;
    let secret = secret.unwrap();

    let (first, _) = subject_seen_by(&app, &Browser::new(), "rp-a", &secret, "https://a.example/cb").await;
    let (second, _) = subject_seen_by(&app, &Browser::new(), "rp-a", &secret, "https://a.example/cb").await;

    assert_eq!(first["sub"], second["sub"]);
}

#[tokio::test]
async fn clients_of_one_sector_see_the_same_pairwise_subject() {
    let app = TestApp::spawn().await;
    app.user(LOGIN).await;
    let (_, s1) = app.client(pairwise_spec("rp-1", &["https://shop.example/one"], None)).await;
    let (_, s2) = app.client(pairwise_spec("rp-2", &["https://shop.example/two"], None)).await;
    let browser = Browser::new();

    let (one, _) = subject_seen_by(&app, &browser, "rp-1", &s1.unwrap(), "https://shop.example/one").await;
    let (two, _) = subject_seen_by(&app, &browser, "rp-2", &s2.unwrap(), "https://shop.example/two").await;

    assert_eq!(one["sub"], two["sub"]);
}

#[tokio::test]
async fn a_pairwise_id_token_hint_names_the_signed_in_user() {
    // §3.1.2.1 with §8: the hint carries the pairwise subject; prompt=none then succeeds.
    let app = TestApp::spawn().await;
    app.user(LOGIN).await;
    let (_, secret) = app.client(pairwise_spec("rp-a", &["https://a.example/cb"], None)).await;
    let browser = Browser::new();
    let request = AuthorizeRequest::new("rp-a", "https://a.example/cb");
    let callback = browser.authorize(&app.issuer, &request.url(&app), LOGIN, PASSWORD).await;
    let code = query(&callback)["code"].clone();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", "https://a.example/cb"),
        ("code_verifier", request.verifier.as_str()),
    ];
    let answer = post_token(&app, Some(&basic("rp-a", secret.as_deref().unwrap())), &form).await;

    let again = AuthorizeRequest::new("rp-a", "https://a.example/cb")
        .with("prompt", "none")
        .with("id_token_hint", answer.str("id_token"));
    let page = browser.get(&again.url(&app)).await;

    let location = page.location().unwrap_or_default();
    assert!(query(&location).contains_key("code"), "prompt=none with a matching hint should succeed: {location}");
}

#[tokio::test]
async fn a_pairwise_client_with_redirect_uris_on_several_hosts_needs_a_sector_identifier_uri() {
    // §8.1: without sector_identifier_uri the redirect URIs must share one host.
    let app = TestApp::spawn().await;

    let result = idp::admin::add_client(
        &app.services,
        &pairwise_spec("rp-x", &["https://a.example/cb", "https://b.example/cb"], None),
    )
    .await;

    assert!(result.is_err(), "registration should be refused");
}

/// A tiny HTTP server answering every request with `status` and `body` (the sector identifier
/// document of a client). Returns its base URL.
async fn serve(status: &'static str, headers: &'static str, body: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = [0u8; 4096];
            let _ = socket.read(&mut buffer).await;
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        }
    });
    url
}

#[tokio::test]
async fn a_sector_identifier_uri_listing_every_redirect_uri_sets_the_sector() {
    // §8.1 and Registration §5: the document is a JSON array including every redirect URI; the
    // sector is its host, so clients on different hosts share one subject.
    let app = TestApp::spawn().await;
    let alice = app.user(LOGIN).await;
    let uris = ["https://a.example/cb", "https://b.example/cb"];
    let base = serve("200 OK", "", serde_json::json!(uris).to_string()).await;
    let sector_uri = format!("{base}/sector.json");

    let (_, secret) = app.client(pairwise_spec("rp-s", &uris, Some(sector_uri))).await;
    let (id_token, _) = subject_seen_by(&app, &Browser::new(), "rp-s", &secret.unwrap(), "https://b.example/cb").await;

    let salt = app.services.store.server_secret("pairwise_salt", "unused", 0).await.unwrap();
    assert_eq!(id_token["sub"], idp::oidc::subject::pairwise("127.0.0.1", &alice.id, &salt));
}

#[tokio::test]
async fn a_sector_identifier_uri_missing_a_redirect_uri_is_refused() {
    let app = TestApp::spawn().await;
    let base = serve("200 OK", "", r#"["https://a.example/cb"]"#.to_owned()).await;

    let spec = pairwise_spec("rp-s", &["https://a.example/cb", "https://b.example/cb"], Some(format!("{base}/s.json")));
    let result = idp::admin::add_client(&app.services, &spec).await;

    assert!(result.is_err(), "registration should be refused");
}

#[tokio::test]
async fn a_sector_identifier_uri_that_redirects_is_not_followed() {
    let app = TestApp::spawn().await;
    let target = serve("200 OK", "", r#"["https://a.example/cb"]"#.to_owned()).await;
    let headers: &'static str = Box::leak(format!("location: {target}/s.json\r\n").into_boxed_str());
    let base = serve("302 Found", headers, String::new()).await;

    let spec = pairwise_spec("rp-s", &["https://a.example/cb"], Some(format!("{base}/s.json")));
    let result = idp::admin::add_client(&app.services, &spec).await;

    assert!(result.is_err(), "a redirecting sector identifier document must be refused");
}

#[tokio::test]
async fn discovery_advertises_public_and_pairwise_subjects() {
    let app = TestApp::spawn().await;
    let document: Value =
        reqwest::get(app.url("/.well-known/openid-configuration")).await.unwrap().json().await.unwrap();

    assert_eq!(document["subject_types_supported"], serde_json::json!(["public", "pairwise"]));
}
