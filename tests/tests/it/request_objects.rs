//! Strict request objects (issue #10; OpenID Connect Core §6.1, RFC 9101 §10.5): a client that
//! registered keys must sign its request objects, a client registered with
//! `require_signed_request_object` sends every request as one, and members of the wrong JSON
//! type are `invalid_request_object`, never silently dropped.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use idp::admin::ClientSpec;
use idp::domain::client::ClientSettings;
use idp_tests::RP_CALLBACK;
use idp_tests::browser::{Page, query};
use serde_json::{Value, json};

use crate::support_protocol::{AuthorizeRequest, CLIENT_ID, World};

/// A request object passed by value without a signature (§6.1, `alg: none`).
fn unsigned(claims: &Value) -> String {
    format!("{}.{}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#), URL_SAFE_NO_PAD.encode(claims.to_string()))
}

async fn open(world: &World, request: &AuthorizeRequest) -> Page {
    world.browser.get(&request.url(&world.app)).await
}

/// The error the application received in the redirect back (no code with it).
fn error_sent_back(page: &Page) -> HashMap<String, String> {
    let location = page.location().unwrap_or_else(|| {
        panic!("the user should have been sent back to the application, but saw a {} page: {}", page.status, page.body)
    });
    assert!(location.starts_with(RP_CALLBACK), "the user was sent to {location}, not to the application");
    let params = query(&location);
    assert!(!params.contains_key("code"), "an error carries no code: {params:?}");
    params
}

fn assert_error(page: &Page, error: &str) {
    let params = error_sent_back(page);
    assert_eq!(params.get("error").map(String::as_str), Some(error), "the application received {params:?}");
}

/// A key pair of a relying party (ES256).
fn client_key() -> idp::oidc::jws::SigningKey {
    let alg = idp::domain::SigningAlg::ES256;
    let material = idp::oidc::jws::KeyMaterial::generate(alg).unwrap();
    idp::oidc::jws::SigningKey { kid: "rp-key-1".into(), alg, material, created_at: 0, retired_at: None }
}

/// Registers "signed-rp" with an ES256 key (`jwks`) and `settings`; returns the private key.
async fn client_with_keys(world: &World, settings: ClientSettings) -> idp::oidc::jws::SigningKey {
    let key = client_key();
    let spec = ClientSpec {
        id: "signed-rp".into(),
        name: "Signed RP".into(),
        redirect_uris: vec![RP_CALLBACK.into()],
        grants: vec!["authorization_code".into()],
        settings: ClientSettings { jwks: Some(json!({"keys": [key.public_jwk()]})), ..settings },
        ..Default::default()
    };
    world.app.client(spec).await;
    key
}

fn signed_object(world: &World) -> Value {
    json!({
        "iss": "signed-rp", "aud": world.app.issuer, "exp": world.app.services.now() + 300,
        "client_id": "signed-rp", "response_type": "code", "scope": "openid", "state": "signed-state",
    })
}

#[tokio::test]
async fn an_unsigned_request_object_from_a_client_with_keys_is_invalid_request_object() {
    // The client can sign; an unsigned object in its name proves nothing (issue #10).
    let world = World::new().await;
    client_with_keys(&world, ClientSettings::default()).await;
    let object = json!({"client_id": "signed-rp", "response_type": "code", "scope": "openid"});
    let request = AuthorizeRequest::new("signed-rp", RP_CALLBACK).with("request", &unsigned(&object));

    assert_error(&open(&world, &request).await, "invalid_request_object");
}

#[tokio::test]
async fn a_client_requiring_signed_request_objects_is_refused_a_plain_request() {
    // RFC 9101 §10.5: "the authorization server MUST reject the authorization request from the
    // client that does not conform to this specification".
    let world = World::new().await;
    let settings = ClientSettings { require_signed_request_object: true, ..ClientSettings::default() };
    client_with_keys(&world, settings).await;
    let request = AuthorizeRequest::new("signed-rp", RP_CALLBACK);

    assert_error(&open(&world, &request).await, "invalid_request");
}

#[tokio::test]
async fn a_client_requiring_signed_request_objects_is_served_with_one() {
    let world = World::new().await;
    let settings = ClientSettings { require_signed_request_object: true, ..ClientSettings::default() };
    let key = client_with_keys(&world, settings).await;
    let jwt = key.sign_jwt("oauth-authz-req+jwt", &signed_object(&world)).unwrap();
    let request = AuthorizeRequest::new("signed-rp", RP_CALLBACK).with("request", &jwt);

    let callback = world
        .browser
        .authorize(&world.app.issuer, &request.url(&world.app), crate::support_protocol::LOGIN, idp_tests::PASSWORD)
        .await;

    let params = query(&callback);
    assert_eq!(params.get("state").map(String::as_str), Some("signed-state"), "{callback}");
    assert!(params.contains_key("code"), "{callback}");
}

#[tokio::test]
async fn require_signed_request_object_cannot_be_registered_without_keys() {
    // Nothing could verify the signed objects the client would have to send.
    let world = World::new().await;
    let spec = ClientSpec {
        id: "keyless".into(),
        redirect_uris: vec![RP_CALLBACK.into()],
        settings: ClientSettings { require_signed_request_object: true, ..ClientSettings::default() },
        ..ClientSpec::default()
    };

    let refused = idp::admin::add_client(&world.app.services, &spec).await;

    let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("require_signed_request_object"), "the registration was not refused: {message:?}");
}

#[tokio::test]
async fn request_object_members_of_the_wrong_json_type_are_invalid_request_object() {
    // Never silently dropped: a dropped prompt=login would skip the re-authentication the
    // application asked for.
    let world = World::new().await;
    let base = json!({"client_id": CLIENT_ID, "response_type": "code", "redirect_uri": RP_CALLBACK, "scope": "openid"});
    for (member, value) in [
        ("prompt", json!(["login"])),
        ("state", json!(1234)),
        ("scope", json!({"openid": true})),
        ("nonce", json!(null)),
        ("max_age", json!("3600")),
        ("claims", json!("{\"userinfo\":{\"email\":null}}")),
        ("redirect_uri", json!([RP_CALLBACK])),
    ] {
        let mut object = base.clone();
        object[member] = value.clone();
        let request = world.request("openid").with("request", &unsigned(&object));

        let params = error_sent_back(&open(&world, &request).await);

        assert_eq!(
            params.get("error").map(String::as_str),
            Some("invalid_request_object"),
            "{member}: {value} gave {params:?}"
        );
    }
}

#[tokio::test]
async fn a_well_typed_unsigned_request_object_from_a_client_without_keys_still_works() {
    // Unchanged for clients without keys (the oidcc unsigned request object module): max_age is
    // a number, claims an object.
    let world = World::new().await;
    let object = json!({
        "client_id": CLIENT_ID, "response_type": "code", "redirect_uri": RP_CALLBACK, "scope": "openid",
        "state": "from-object", "max_age": 3600, "claims": {"userinfo": {"email": null}},
    });
    let request = world.request("openid").with("request", &unsigned(&object));

    let callback = world
        .browser
        .authorize(&world.app.issuer, &request.url(&world.app), crate::support_protocol::LOGIN, idp_tests::PASSWORD)
        .await;

    let params = query(&callback);
    assert_eq!(params.get("state").map(String::as_str), Some("from-object"), "{callback}");
    assert!(params.contains_key("code"), "{callback}");
}
