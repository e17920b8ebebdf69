//! The OpenID Foundation's Config OP test plan (oidcc-config-certification-test-plan), whose one
//! module, oidcc-discovery-endpoint-verification, checks the discovery document (Discovery 1.0
//! §3–§4) and the JWKS it points to (RFC 7517, RFC 7518 §6, RFC 8037). Split here into one test
//! per group of checks; each comment says what the module asserts.

use std::collections::HashSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use idp_tests::TestApp;
use reqwest::StatusCode;
use serde_json::Value;

use crate::support_protocol::{World, machine};

async fn get_json(url: &str) -> Value {
    let response = machine().get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "GET {url}");
    let content_type = response.headers().get("content-type").unwrap().to_str().unwrap().to_owned();
    assert!(content_type.starts_with("application/json"), "GET {url}: Content-Type {content_type}");
    response.json().await.unwrap()
}

async fn discovery(app: &TestApp) -> Value {
    // Discovery §4: the issuer with /.well-known/openid-configuration appended.
    get_json(&format!("{}/.well-known/openid-configuration", app.issuer)).await
}

fn strings(doc: &Value, member: &str) -> Vec<String> {
    let array = doc[member].as_array().unwrap_or_else(|| panic!("{member} is a JSON array: {doc}"));
    array.iter().map(|v| v.as_str().unwrap_or_else(|| panic!("{member} holds strings: {v}")).to_owned()).collect()
}

#[tokio::test]
async fn oidcc_discovery_endpoint_verification_issuer_is_consistent() {
    // The issuer in the document is identical to the URL it was fetched under (Discovery §4.3),
    // to the `iss` of ID tokens (Core §3.1.3.7 step 2) and to the `iss` parameter of
    // authorization responses (RFC 9207 §2.4).
    let world = World::new().await;
    let doc = discovery(&world.app).await;
    assert_eq!(doc["issuer"], world.app.issuer.as_str(), "{doc}");

    let request = world.request("openid");
    let callback =
        world.browser.authorize(&world.app.issuer, &request.url(&world.app), "alice.martin", idp_tests::PASSWORD).await;
    let params = idp_tests::browser::query(&callback);
    let tokens = world.exchange(&params["code"], &request.verifier).await;
    let claims = world.app.services.keys.verify(tokens.str("id_token")).unwrap();

    assert_eq!(params["iss"], world.app.issuer, "RFC 9207 iss");
    assert_eq!(claims["iss"], world.app.issuer.as_str(), "ID token iss");
}

#[tokio::test]
async fn oidcc_discovery_endpoint_verification_required_fields_and_types() {
    // Discovery §3: the REQUIRED members with the right JSON types, and what a code-flow OP must
    // say: response_types_supported contains "code", scopes_supported contains "openid",
    // id_token_signing_alg_values_supported contains RS256 and not "none", subject types are
    // public and/or pairwise, grant_types_supported contains authorization_code,
    // response_modes_supported contains query; the boolean members are booleans.
    let app = TestApp::spawn().await;
    let doc = discovery(&app).await;

    for member in ["issuer", "authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"] {
        assert!(doc[member].as_str().is_some_and(|s| !s.is_empty()), "{member} is a non-empty string: {doc}");
    }
    assert!(strings(&doc, "response_types_supported").contains(&"code".to_owned()));
    assert!(strings(&doc, "scopes_supported").contains(&"openid".to_owned()));
    let algs = strings(&doc, "id_token_signing_alg_values_supported");
    assert!(algs.contains(&"RS256".to_owned()) && !algs.contains(&"none".to_owned()), "{algs:?}");
    let subjects = strings(&doc, "subject_types_supported");
    assert!(!subjects.is_empty() && subjects.iter().all(|s| s == "public" || s == "pairwise"), "{subjects:?}");
    assert!(strings(&doc, "grant_types_supported").contains(&"authorization_code".to_owned()));
    assert!(strings(&doc, "response_modes_supported").contains(&"query".to_owned()));
    assert!(!strings(&doc, "token_endpoint_auth_methods_supported").is_empty());
    assert!(strings(&doc, "claims_supported").contains(&"sub".to_owned()));
    for member in [
        "claims_parameter_supported",
        "request_parameter_supported",
        "request_uri_parameter_supported",
        "frontchannel_logout_supported",
        "backchannel_logout_supported",
    ] {
        assert!(doc.get(member).is_none_or(Value::is_boolean), "{member} is a boolean when present: {doc}");
    }
}

#[tokio::test]
async fn oidcc_discovery_endpoint_verification_endpoints_are_urls_of_the_issuer() {
    // Every endpoint is an absolute URL without fragment (Discovery §3); here all are served by
    // the issuer itself and answer (none is a dead link).
    let app = TestApp::spawn().await;
    let doc = discovery(&app).await;

    for member in ["authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint"]
    {
        let url = doc[member].as_str().unwrap_or_else(|| panic!("{member}: {doc}"));
        let parsed = url::Url::parse(url).unwrap_or_else(|_| panic!("{member} is an absolute URL: {url}"));
        assert!(parsed.fragment().is_none(), "{member} has no fragment");
        assert!(url.starts_with(&app.issuer), "{member} is under the issuer: {url}");
        let status = machine().get(url).send().await.unwrap().status();
        assert_ne!(status, StatusCode::NOT_FOUND, "{member} answers: {url}");
    }
}

#[tokio::test]
async fn oidcc_discovery_endpoint_verification_jwks_is_reachable_and_valid() {
    // The jwks_uri answers a JWK Set (RFC 7517 §5) of public signing keys only: each with kty,
    // a distinct kid, use "sig", alg; no private or symmetric material (d, p, q, dp, dq, qi, k);
    // RSA keys of at least 2048 bits, P-256 and Ed25519 points of the right size. An
    // independent parser (the openidconnect crate) reads it.
    let app = TestApp::spawn().await;
    let doc = discovery(&app).await;
    let jwks = get_json(doc["jwks_uri"].as_str().unwrap()).await;

    let keys = jwks["keys"].as_array().unwrap_or_else(|| panic!("a keys array: {jwks}"));
    assert!(!keys.is_empty());
    let mut kids = HashSet::new();
    for key in keys {
        assert!(kids.insert(key["kid"].as_str().expect("a kid").to_owned()), "kid values are distinct: {jwks}");
        assert_eq!(key["use"], "sig", "{key}");
        assert!(key["alg"].is_string(), "{key}");
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(key.get(private).is_none(), "no private member {private}: {key}");
        }
        let bytes = |m: &str| URL_SAFE_NO_PAD.decode(key[m].as_str().unwrap()).unwrap().len();
        match key["kty"].as_str().unwrap() {
            "RSA" => assert!(bytes("n") >= 256, "RSA keys of at least 2048 bits: {key}"),
            "EC" => {
                assert_eq!(key["crv"], "P-256", "{key}");
                assert_eq!((bytes("x"), bytes("y")), (32, 32), "{key}");
            }
            "OKP" => {
                assert_eq!(key["crv"], "Ed25519", "{key}");
                assert_eq!(bytes("x"), 32, "{key}");
            }
            other => panic!("unexpected kty {other}"),
        }
    }
    let parsed: Result<openidconnect::core::CoreJsonWebKeySet, _> = serde_json::from_value(jwks.clone());
    assert!(parsed.is_ok(), "the openidconnect crate reads the JWKS: {parsed:?}");
}

#[tokio::test]
async fn oidcc_discovery_endpoint_verification_every_advertised_alg_has_a_key() {
    // Each algorithm of id_token_signing_alg_values_supported has a key with that alg in the
    // JWKS (a client registered for it can verify its ID tokens).
    let app = TestApp::spawn().await;
    let doc = discovery(&app).await;
    let jwks = get_json(doc["jwks_uri"].as_str().unwrap()).await;

    let published: HashSet<&str> = jwks["keys"].as_array().unwrap().iter().filter_map(|k| k["alg"].as_str()).collect();
    for alg in strings(&doc, "id_token_signing_alg_values_supported") {
        assert!(published.contains(alg.as_str()), "no key for {alg} in {jwks}");
    }
}
