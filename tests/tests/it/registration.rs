//! Dynamic client registration (RFC 7591) and management (RFC 7592), issue #12: off by default
//! (404, not in discovery); on, only with an initial access token an admin issued, https
//! redirect URIs only, RFC errors as JSON; the registration access token reads, replaces and
//! deletes the client, and the registered client signs in like any other.

use idp::admin::actor::Actor;
use idp::admin::clients;
use idp_tests::{Setup, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support_protocol::{Answer, basic, machine, post_token};

async fn app_with_registration() -> TestApp {
    TestApp::spawn_with(Setup { tweak: Box::new(|raw| raw.dynamic_registration = true), ..Default::default() }).await
}

async fn token(app: &TestApp, uses: i64) -> String {
    let (t, _) = clients::issue_registration_token(&app.services, &Actor::cli(), 3600, uses).await.unwrap();
    t.expose().to_owned()
}

async fn register(app: &TestApp, bearer: Option<&str>, body: &Value) -> Answer {
    let mut request = machine().post(app.url("/register")).json(body);
    if let Some(t) = bearer {
        request = request.bearer_auth(t);
    }
    Answer::read(request.send().await.unwrap()).await
}

fn m2m() -> Value {
    json!({ "client_name": "Rapports", "grant_types": ["client_credentials"], "redirect_uris": [] })
}

fn web_app() -> Value {
    json!({ "client_name": "Portail", "redirect_uris": ["https://portail.example/cb"], "response_types": ["code"], "grant_types": ["authorization_code"] })
}

#[tokio::test]
async fn registration_is_off_by_default_and_not_advertised() {
    let app = TestApp::spawn().await;
    let answer = machine().post(app.url("/register")).json(&web_app()).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    let discovery: Value =
        machine().get(app.url("/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    assert!(discovery.get("registration_endpoint").is_none());
}

#[tokio::test]
async fn when_on_the_registration_endpoint_is_advertised() {
    let app = app_with_registration().await;
    let discovery: Value =
        machine().get(app.url("/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    assert_eq!(discovery["registration_endpoint"], app.url("/register"));
}

#[tokio::test]
async fn a_registered_client_gets_its_credentials_once_and_can_use_them() {
    let app = app_with_registration().await;
    let t = token(&app, 1).await;

    let answer = register(&app, Some(&t), &m2m()).await;

    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.json);
    let id = answer.str("client_id").to_owned();
    let secret = answer.str("client_secret").to_owned();
    assert_eq!(answer.json["client_secret_expires_at"], 0);
    assert_eq!(answer.json["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(answer.str("registration_client_uri"), app.url(&format!("/register/{id}")));
    assert!(!answer.str("registration_access_token").is_empty());
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    let token = post_token(&app, Some(&basic(&id, &secret)), &[("grant_type", "client_credentials")]).await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.json);
    let events = idp::admin::audit::search_audit(
        &app.services,
        &Actor::cli(),
        &idp::admin::audit::AuditQuery { client: Some(id.clone()), ..Default::default() },
    )
    .await
    .unwrap();
    assert!(events.items.iter().any(|e| e.kind == "client_registered"));
}

#[tokio::test]
async fn a_single_use_token_registers_once_and_a_wrong_or_missing_one_never() {
    let app = app_with_registration().await;
    let t = token(&app, 1).await;
    assert_eq!(register(&app, Some(&t), &m2m()).await.status, StatusCode::CREATED);

    for bearer in [Some(t.as_str()), Some("not-a-token"), None] {
        let answer = register(&app, bearer, &m2m()).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{bearer:?}");
        assert_eq!(answer.error(), "invalid_token");
        assert!(answer.header("www-authenticate").unwrap().starts_with("Bearer"));
    }
}

#[tokio::test]
async fn a_multi_use_token_registers_as_many_times_as_issued_and_expires() {
    let app = app_with_registration().await;
    let t = token(&app, 2).await;
    assert_eq!(register(&app, Some(&t), &m2m()).await.status, StatusCode::CREATED);
    app.clock.advance(3600);
    assert_eq!(register(&app, Some(&t), &m2m()).await.status, StatusCode::UNAUTHORIZED, "expired");
}

#[tokio::test]
async fn bad_metadata_gets_the_rfc_error_and_does_not_spend_the_token() {
    let app = app_with_registration().await;
    let t = token(&app, 1).await;

    for (body, code) in [
        (json!({ "redirect_uris": ["http://portail.example/cb"] }), "invalid_redirect_uri"),
        (json!({ "redirect_uris": ["http://127.0.0.1:8080/cb"] }), "invalid_redirect_uri"),
        (json!({ "redirect_uris": ["https://p.example/cb#frag"] }), "invalid_redirect_uri"),
        (json!({ "redirect_uris": ["https://p.example/cb"], "response_types": ["token"] }), "invalid_client_metadata"),
        (json!({ "redirect_uris": ["https://p.example/cb"], "grant_types": ["implicit"] }), "invalid_client_metadata"),
        (json!({ "grant_types": ["authorization_code"] }), "invalid_client_metadata"),
        (json!({ "redirect_uris": "https://p.example/cb" }), "invalid_client_metadata"),
        (json!(["not", "an", "object"]), "invalid_client_metadata"),
        (
            json!({ "redirect_uris": ["https://p.example/cb"], "token_endpoint_auth_method": "none", "grant_types": ["client_credentials"] }),
            "invalid_client_metadata",
        ),
    ] {
        let answer = register(&app, Some(&t), &body).await;
        assert_eq!((answer.status, answer.error()), (StatusCode::BAD_REQUEST, code), "{body}");
        assert!(answer.json["error_description"].is_string());
    }
    assert_eq!(register(&app, Some(&t), &web_app()).await.status, StatusCode::CREATED, "the token was not spent");
}

#[tokio::test]
async fn the_registration_access_token_reads_replaces_and_deletes_its_client_only() {
    let app = app_with_registration().await;
    let t = token(&app, 2).await;
    let first = register(&app, Some(&t), &web_app()).await;
    let other = register(&app, Some(&t), &web_app()).await;
    let (id, access) = (first.str("client_id").to_owned(), first.str("registration_access_token").to_owned());
    let uri = first.str("registration_client_uri").to_owned();

    let read = Answer::read(machine().get(&uri).bearer_auth(&access).send().await.unwrap()).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.json["redirect_uris"], json!(["https://portail.example/cb"]));
    assert!(read.json.get("client_secret").is_none(), "the secret is never shown again");

    let wrong = machine().get(other.str("registration_client_uri")).bearer_auth(&access).send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED, "another client's token");

    let mut replacement = web_app();
    replacement["client_id"] = json!(id);
    replacement["redirect_uris"] = json!(["https://portail.example/new"]);
    let put = Answer::read(machine().put(&uri).bearer_auth(&access).json(&replacement).send().await.unwrap()).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.json);
    let stored = app.services.store.client(&id).await.unwrap().unwrap();
    assert_eq!(stored.redirect_uris[0].as_str(), "https://portail.example/new");
    let mut insecure = replacement.clone();
    insecure["redirect_uris"] = json!(["http://portail.example/new"]);
    let refused = Answer::read(machine().put(&uri).bearer_auth(&access).json(&insecure).send().await.unwrap()).await;
    assert_eq!((refused.status, refused.error()), (StatusCode::BAD_REQUEST, "invalid_redirect_uri"));

    let deleted = machine().delete(&uri).bearer_auth(&access).send().await.unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert!(app.services.store.client(&id).await.unwrap().is_none());
    let again = machine().get(&uri).bearer_auth(&access).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED, "the token went with its client");
}

#[tokio::test]
async fn only_admins_issue_initial_access_tokens_and_within_bounds() {
    let app = app_with_registration().await;
    let info = idp::session::ClientInfo { user_agent: "t".into(), ip: "127.0.0.1".into(), lang: None };
    let support = Actor::client("desk", vec![idp::admin::actor::Role::Support], info);
    assert!(matches!(
        clients::issue_registration_token(&app.services, &support, 3600, 1).await,
        Err(idp::admin::AdminError::Forbidden)
    ));
    for (ttl, uses) in [(0, 1), (3600, 0), (3600, 100_000)] {
        assert!(clients::issue_registration_token(&app.services, &Actor::cli(), ttl, uses).await.is_err());
    }
}
