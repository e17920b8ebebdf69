//! The role matrix of the admin REST API (issue #12), with real tokens: `idp.support` helps
//! users and reaches no client, key, group or deletion; `idp.audit` reads the audit trail and
//! nothing else; a token with no admin scope reaches nothing. Each refusal is 403
//! `insufficient_scope` naming the scopes that would do (RFC 6750 §3.1).

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::admin_api::{Api, Reply};

/// Calls every operation the role may not perform and asserts each is refused.
async fn assert_refused(api: &Api, calls: &[(Method, &str)]) {
    for (method, path) in calls {
        let body = matches!(*method, Method::POST | Method::PATCH | Method::PUT).then(|| json!({}));
        let reply: Reply = api.call(method.clone(), path, body).await;
        reply.assert_problem(StatusCode::FORBIDDEN);
        assert!(
            reply.header("www-authenticate").contains("error=\"insufficient_scope\""),
            "{method} {path}: {:?}",
            reply.headers
        );
    }
}

fn admin_only() -> Vec<(Method, &'static str)> {
    vec![
        (Method::GET, "/admin/api/v1/clients"),
        (Method::POST, "/admin/api/v1/clients"),
        (Method::GET, "/admin/api/v1/clients/ops"),
        (Method::DELETE, "/admin/api/v1/clients/ops"),
        (Method::POST, "/admin/api/v1/users"),
        (Method::POST, "/admin/api/v1/users/import"),
        (Method::GET, "/admin/api/v1/groups"),
        (Method::POST, "/admin/api/v1/groups"),
        (Method::GET, "/admin/api/v1/groups/staff"),
        (Method::PUT, "/admin/api/v1/groups/staff/members/alice"),
        (Method::DELETE, "/admin/api/v1/groups/staff/members/alice"),
        (Method::GET, "/admin/api/v1/keys"),
        (Method::POST, "/admin/api/v1/keys/rotate"),
    ]
}

#[tokio::test]
async fn a_support_token_gets_403_on_clients_keys_groups_and_user_creation() {
    let api = Api::with_scopes(&["idp.support"]).await;

    assert_refused(&api, &admin_only()).await;

    let refused = api.get("/admin/api/v1/keys").await;
    assert!(refused.header("www-authenticate").ends_with("scope=\"idp.admin\""), "{:?}", refused.headers);
    let types = api.get("/admin/api/v1/user-types").await;
    assert_eq!(types.status, StatusCode::OK, "support reads the user types: {}", types.text);
}

#[tokio::test]
async fn an_auditor_token_gets_403_outside_the_audit_trail() {
    let api = Api::with_scopes(&["idp.audit"]).await;

    let mut calls = admin_only();
    calls.push((Method::GET, "/admin/api/v1/user-types"));
    assert_refused(&api, &calls).await;

    let refused = api.get("/admin/api/v1/user-types").await;
    assert!(refused.header("www-authenticate").ends_with("scope=\"idp.admin idp.support\""), "{:?}", refused.headers);
}

#[tokio::test]
async fn a_token_without_an_admin_scope_reaches_nothing() {
    let api = Api::with_scopes(&["api.read"]).await;

    let mut calls = admin_only();
    calls.push((Method::GET, "/admin/api/v1/user-types"));
    assert_refused(&api, &calls).await;
}

#[tokio::test]
async fn narrowing_a_clients_allowed_scopes_narrows_its_tokens_already_issued() {
    let api = Api::with_scopes(&["idp.admin", "idp.support"]).await;
    assert_eq!(api.get("/admin/api/v1/keys").await.status, StatusCode::OK);

    // The operator takes idp.admin away (through the store, as `idp client` would).
    let mut client = api.app.services.store.client("ops").await.unwrap().unwrap();
    client.settings.allowed_scopes = Some(vec!["idp.support".into()]);
    api.app.services.store.upsert_client(&client).await.unwrap();

    api.get("/admin/api/v1/keys").await.assert_problem(StatusCode::FORBIDDEN);
    assert_eq!(api.get("/admin/api/v1/user-types").await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_scopes_each_operation_documents_are_exactly_the_ones_it_accepts() {
    // The OpenAPI document lists, per operation, the scopes any one of which permits it; a
    // token with one scope is refused (403 insufficient_scope) exactly where it is not listed.
    for scope in ["idp.admin", "idp.support", "idp.audit"] {
        let api = Api::with_scopes(&[scope]).await;
        let doc = api.get("/admin/api/openapi.json").await.json;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let documented = operation["security"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r["bearer"].as_array().unwrap().iter().any(|s| s == scope));
                // Path parameters name nothing that exists: nothing is changed.
                let concrete = path.replace("{id}", "nothing").replace("{login}", "nobody").replace("{sid}", "none");
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let body = matches!(method, Method::POST | Method::PATCH | Method::PUT).then(|| json!({}));
                let reply = api.call(method.clone(), &concrete, body).await;
                let refused =
                    reply.status == StatusCode::FORBIDDEN && reply.json["type"] == "urn:idp:problem:insufficient-scope";
                assert_eq!(refused, !documented, "{scope}: {method} {path} answered {} {}", reply.status, reply.text);
            }
        }
    }
}
