//! OpenID Connect Discovery 1.0 §3 and §4, and the JWKS (RFC 7517): what a relying party reads
//! before anything else.

use idp_tests::TestApp;
use reqwest::StatusCode;
use serde_json::Value;

use crate::support_protocol::machine;

async fn discovery(app: &TestApp) -> Value {
    let response = machine().get(app.url("/.well-known/openid-configuration")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn jwks(app: &TestApp) -> Vec<Value> {
    let response = machine().get(app.url("/jwks")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let jwks: Value = response.json().await.unwrap();
    jwks["keys"].as_array().unwrap_or_else(|| panic!("RFC 7517 §5: a keys array, got {jwks}")).clone()
}

#[tokio::test]
async fn the_issuer_is_exactly_the_configured_issuer() {
    // Discovery §4.3: "The issuer value returned MUST be identical to the Issuer URL".
    let app = TestApp::spawn().await;

    let document = discovery(&app).await;

    assert_eq!(document["issuer"], app.config.issuer.as_str(), "the document says {document}");
}

#[tokio::test]
async fn every_required_metadata_field_is_present() {
    // Discovery §3: REQUIRED fields, plus token_endpoint and userinfo_endpoint that a code flow
    // client needs.
    let app = TestApp::spawn().await;

    let document = discovery(&app).await;

    for field in [
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "response_types_supported",
        "subject_types_supported",
        "id_token_signing_alg_values_supported",
    ] {
        let value = &document[field];
        let present = value.as_str().is_some_and(|s| !s.is_empty()) || value.as_array().is_some_and(|a| !a.is_empty());
        assert!(present, "{field} is missing or empty in {document}");
    }
    let algs = &document["id_token_signing_alg_values_supported"];
    assert!(algs.as_array().unwrap().contains(&"RS256".into()), "Discovery §3: RS256 MUST be included, got {algs}");
}

#[tokio::test]
async fn the_endpoints_are_under_the_issuer() {
    let app = TestApp::spawn().await;

    let document = discovery(&app).await;

    for field in ["authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint"] {
        let url = document[field].as_str().unwrap_or_default();
        assert!(url.starts_with(&format!("{}/", app.issuer)), "{field} is {url:?}, not under the issuer");
    }
}

#[tokio::test]
async fn only_s256_is_advertised_for_pkce() {
    // RFC 8414 §2 and RFC 9700 §2.1.1: plain is not offered.
    let app = TestApp::spawn().await;

    let document = discovery(&app).await;

    assert_eq!(document["code_challenge_methods_supported"], serde_json::json!(["S256"]));
}

#[tokio::test]
async fn the_iss_authorization_response_parameter_is_advertised() {
    // RFC 9207 §3.
    let app = TestApp::spawn().await;

    let document = discovery(&app).await;

    assert_eq!(document["authorization_response_iss_parameter_supported"], true);
}

#[tokio::test]
async fn every_jwks_key_has_kid_use_and_alg() {
    // RFC 7517 §4.2, §4.4, §4.5; OpenID Connect Core §10.1: kid tells keys apart.
    let app = TestApp::spawn().await;

    let keys = jwks(&app).await;

    assert!(!keys.is_empty(), "the JWKS has no key");
    for key in &keys {
        assert!(key["kid"].as_str().is_some_and(|k| !k.is_empty()), "no kid: {key}");
        assert_eq!(key["use"], "sig", "use: {key}");
        assert!(key["alg"].as_str().is_some_and(|a| !a.is_empty()), "no alg: {key}");
    }
}

#[tokio::test]
async fn every_advertised_signing_algorithm_has_a_key_in_the_jwks() {
    let app = TestApp::spawn().await;
    let document = discovery(&app).await;

    let keys = jwks(&app).await;

    for alg in document["id_token_signing_alg_values_supported"].as_array().unwrap() {
        assert!(keys.iter().any(|k| &k["alg"] == alg), "no {alg} key in the JWKS {keys:?}");
    }
}

#[tokio::test]
async fn the_jwks_holds_no_private_key_material() {
    // RFC 7518 §6.2.2, §6.3.2, §6.4 and RFC 8037 §2: private and symmetric members.
    let app = TestApp::spawn().await;

    let keys = jwks(&app).await;

    for key in &keys {
        for private in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
            assert!(key.get(private).is_none(), "the JWKS publishes the private member {private:?}: {key}");
        }
    }
}
