//! Unit tests of the example relying party's helpers.

use super::*;
use openidconnect::core::CoreIdTokenClaims;

/// Header `{"alg":"RS256","kid":"k1"}`, payload with iss, aud, sub, exp
/// and iat, fake signature: parsing does not verify, which is all
/// `id_token_hint` needs.
const FAKE_ID_TOKEN: &str = concat!(
    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.",
    "eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4xOjgwODAiLCJhdWQiOiJkZW1vLXJwIiwic3ViIjoidTEiLCJleHAiOjIwMDAwMDAwMDAsImlhdCI6MTcwMDAwMDAwMH0.",
    "c2ln"
);

fn query_pairs(url: &Url) -> Vec<(String, String)> {
    url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

#[test]
fn end_session_url_carries_logout_parameters() -> anyhow::Result<()> {
    let endpoint = EndSessionUrl::new("http://127.0.0.1:8080/logout".to_owned())?;
    let id_token: DemoIdToken = FAKE_ID_TOKEN.parse()?;
    let url = end_session_url(
        &endpoint,
        &id_token,
        &ClientId::new("demo-rp".to_owned()),
        &PostLogoutRedirectUrl::new("http://127.0.0.1:9090/".to_owned())?,
        CsrfToken::new("st4te".to_owned()),
    );
    assert_eq!(url.origin().ascii_serialization(), "http://127.0.0.1:8080");
    assert_eq!(url.path(), "/logout");
    let pairs = query_pairs(&url);
    let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    assert_eq!(get("id_token_hint"), Some(FAKE_ID_TOKEN));
    assert_eq!(get("client_id"), Some("demo-rp"));
    assert_eq!(get("post_logout_redirect_uri"), Some("http://127.0.0.1:9090/"));
    assert_eq!(get("state"), Some("st4te"));
    Ok(())
}

#[test]
fn end_session_url_keeps_existing_query() -> anyhow::Result<()> {
    let endpoint = EndSessionUrl::new("https://idp.example/session/end?tenant=a%20b".to_owned())?;
    let id_token: DemoIdToken = FAKE_ID_TOKEN.parse()?;
    let url = end_session_url(
        &endpoint,
        &id_token,
        &ClientId::new("c".to_owned()),
        &PostLogoutRedirectUrl::new("https://rp.example/".to_owned())?,
        CsrfToken::new("s".to_owned()),
    );
    let pairs = query_pairs(&url);
    assert_eq!(pairs.first(), Some(&("tenant".to_owned(), "a b".to_owned())));
    assert_eq!(pairs.len(), 5);
    Ok(())
}

#[test]
fn iss_check_follows_rfc_9207() {
    let issuer = "http://127.0.0.1:8080";
    assert!(check_iss(Some(issuer), issuer, true).is_ok());
    assert!(check_iss(None, issuer, false).is_ok());
    assert!(check_iss(None, issuer, true).is_err());
    assert!(check_iss(Some("http://127.0.0.1:8080/"), issuer, false).is_err());
    assert!(check_iss(Some("https://evil.example"), issuer, false).is_err());
}

#[test]
fn session_key_is_read_from_any_cookie_header() {
    let mut headers = HeaderMap::new();
    assert_eq!(session_key(&headers), None);
    headers.append(header::COOKIE, HeaderValue::from_static("idp_session=x; other=1"));
    assert_eq!(session_key(&headers), None);
    headers.append(header::COOKIE, HeaderValue::from_static("a=b;demo_rp_session=abc123 ; c=d"));
    assert_eq!(session_key(&headers), Some("abc123"));

    let mut empty = HeaderMap::new();
    empty.insert(header::COOKIE, HeaderValue::from_static("demo_rp_session="));
    assert_eq!(session_key(&empty), None);
}

#[test]
fn random_keys_are_long_and_distinct() {
    let (a, b) = (random_key(), random_key());
    assert_eq!(a.len(), 64);
    assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(a, b);
}

#[test]
fn config_from_env_defaults_and_overrides() {
    let config = Config::from_lookup(|_| None);
    assert_eq!(config.issuer, DEFAULT_ISSUER);
    assert_eq!(config.client_id, DEFAULT_CLIENT_ID);
    assert_eq!(config.client_secret, None);
    assert_eq!(config.scopes, ["profile", "email"]);
    assert_eq!(config.redirect_uri(), "http://127.0.0.1:9090/callback");
    assert_eq!(config.post_logout_redirect_uri(), "http://127.0.0.1:9090/");

    let config = Config::from_lookup(|name| {
        match name {
            "DEMO_RP_ISSUER" => Some("https://idp.example"),
            "DEMO_RP_CLIENT_SECRET" => Some("  "),
            "DEMO_RP_BASE_URL" => Some("https://rp.example/app/"),
            "DEMO_RP_SCOPES" => Some(" openid  email phone "),
            _ => None,
        }
        .map(str::to_owned)
    });
    assert_eq!(config.issuer, "https://idp.example");
    assert_eq!(config.client_secret, None, "blank secret means public client");
    assert_eq!(config.scopes, ["openid", "email", "phone"]);
    assert_eq!(config.redirect_uri(), "https://rp.example/app/callback");
    assert_eq!(config.post_logout_redirect_uri(), "https://rp.example/app/");
}

#[test]
fn config_debug_hides_the_secret() {
    let config = Config { client_secret: Some("hunter2".to_owned()), ..Config::default() };
    assert!(!format!("{config:?}").contains("hunter2"));
}

#[test]
fn other_claims_keep_sid_and_custom_claims() -> anyhow::Result<()> {
    let json = serde_json::json!({
        "iss": "http://127.0.0.1:8080", "aud": "demo-rp", "sub": "u1",
        "exp": 2_000_000_000, "iat": 1_700_000_000, "nonce": "n",
        "amr": ["pwd"], "email": "a@example.fr", "sid": "s1", "custom": {"x": 1}
    });
    let claims: IdTokenClaims = serde_json::from_value(json.clone())?;
    let back = serde_json::to_value(&claims)?;
    assert_eq!(back["sid"], "s1");
    assert_eq!(back["custom"]["x"], 1);
    assert_eq!(back["email"], "a@example.fr");
    assert_eq!(back["amr"], serde_json::json!(["pwd"]));
    // Standard claims must not be duplicated into the catch-all.
    assert!(!claims.additional_claims().claims.contains_key("email"));
    // Whereas the stock type drops them, which is why OtherClaims exists.
    let core: CoreIdTokenClaims = serde_json::from_value(json)?;
    assert!(serde_json::to_value(&core)?.get("sid").is_none());
    Ok(())
}

type IdTokenClaims = openidconnect::IdTokenClaims<OtherClaims, CoreGenderClaim>;
