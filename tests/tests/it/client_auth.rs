//! `private_key_jwt` client authentication (OpenID Connect Core §9, RFC 7523 §2.2 and §3): the
//! client signs an assertion with a key of its registered JWK Set, inline (`jwks`) or fetched
//! from its `jwks_uri`. The assertions here are signed with the RustCrypto crates directly, not
//! with the server's code, so both sides are checked against each other.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use idp::admin::{self, ClientSpec};
use idp::clock::Clock;
use idp::domain::client::ClientSettings;
use idp_tests::{Browser, PASSWORD, RP_CALLBACK, TestApp};
use rand::RngCore;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support_protocol::{Answer, AuthorizeRequest, LOGIN, basic, machine, post_token};

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn b64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

enum KeyKind {
    Rsa(Box<rsa::RsaPrivateKey>),
    Es256(Box<p256::ecdsa::SigningKey>),
    EdDsa(Box<ed25519_dalek::SigningKey>),
}

/// A client's key pair, as the client's own software would hold it.
pub struct ClientKey {
    pub kid: String,
    kind: KeyKind,
}

impl ClientKey {
    /// `alg`: RS256, ES256 or EdDSA.
    pub fn generate(alg: &str, kid: &str) -> Self {
        let kind = match alg {
            "RS256" => KeyKind::Rsa(Box::new(rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap())),
            "ES256" => KeyKind::Es256(Box::new(p256::ecdsa::SigningKey::from_slice(&random_bytes::<32>()).unwrap())),
            "EdDSA" => KeyKind::EdDsa(Box::new(ed25519_dalek::SigningKey::from_bytes(&random_bytes::<32>()))),
            other => panic!("no test keys for {other}"),
        };
        Self { kid: kid.into(), kind }
    }

    pub fn alg(&self) -> &'static str {
        match self.kind {
            KeyKind::Rsa(_) => "RS256",
            KeyKind::Es256(_) => "ES256",
            KeyKind::EdDsa(_) => "EdDSA",
        }
    }

    /// The public JWK (RFC 7517, RFC 7518 §6, RFC 8037 §2) the client registers.
    pub fn public_jwk(&self) -> Value {
        use rsa::traits::PublicKeyParts;
        let mut jwk = match &self.kind {
            KeyKind::Rsa(k) => json!({"kty": "RSA", "n": b64(&k.n().to_bytes_be()), "e": b64(&k.e().to_bytes_be())}),
            KeyKind::Es256(k) => {
                let point = k.verifying_key().to_sec1_point(false);
                json!({"kty": "EC", "crv": "P-256", "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap())})
            }
            KeyKind::EdDsa(k) => json!({"kty": "OKP", "crv": "Ed25519", "x": b64(k.verifying_key().as_bytes())}),
        };
        jwk["kid"] = json!(self.kid);
        jwk["use"] = json!("sig");
        jwk
    }

    /// A compact JWS of `claims` with `header` (alg and kid added unless `header` sets them).
    pub fn sign_with_header(&self, header: Value, claims: &Value) -> String {
        let mut full = json!({"alg": self.alg(), "kid": self.kid, "typ": "JWT"});
        for (k, v) in header.as_object().unwrap() {
            full[k] = v.clone();
        }
        let input = format!("{}.{}", b64(full.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
        let signature = match &self.kind {
            KeyKind::Rsa(k) => k.sign(rsa::Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(input.as_bytes())).unwrap(),
            KeyKind::Es256(k) => {
                use p256::ecdsa::signature::Signer;
                let sig: p256::ecdsa::Signature = k.sign(input.as_bytes());
                sig.to_bytes().to_vec()
            }
            KeyKind::EdDsa(k) => {
                use ed25519_dalek::Signer;
                k.sign(input.as_bytes()).to_bytes().to_vec()
            }
        };
        format!("{input}.{}", b64(&signature))
    }

    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(json!({}), claims)
    }

    /// A valid assertion for `client_id` at `app`'s token endpoint (RFC 7523 §3).
    pub fn assertion(&self, app: &TestApp, client_id: &str) -> String {
        self.sign(&claims(app, client_id))
    }
}

pub fn jwks(keys: &[&ClientKey]) -> Value {
    json!({"keys": keys.iter().map(|k| k.public_jwk()).collect::<Vec<_>>()})
}

/// RFC 7523 §3 claims that pass: iss = sub = client_id, aud = the token endpoint, exp in a
/// minute, a fresh jti.
pub fn claims(app: &TestApp, client_id: &str) -> Value {
    let now = app.clock.now();
    json!({
        "iss": client_id, "sub": client_id, "aud": app.url("/token"),
        "exp": now + 60, "iat": now, "jti": idp::crypto::random_token(16),
    })
}

/// Registers a private_key_jwt client allowed the client_credentials grant and `api.read`.
pub async fn register(app: &TestApp, id: &str, settings: ClientSettings) {
    let spec = ClientSpec {
        id: id.into(),
        grants: vec!["client_credentials".into()],
        auth_method: Some("private_key_jwt".into()),
        settings: ClientSettings { allowed_scopes: Some(vec!["api.read".into()]), ..settings },
        ..ClientSpec::default()
    };
    let (_, secret) = app.client(spec).await;
    assert!(secret.is_none(), "a private_key_jwt client got a secret");
}

pub async fn register_inline(app: &TestApp, id: &str, keys: &[&ClientKey]) {
    register(app, id, ClientSettings { jwks: Some(jwks(keys)), ..ClientSettings::default() }).await;
}

/// POST /token, client_credentials, authenticated by `assertion` (and `extra` parameters).
pub async fn with_assertion(app: &TestApp, assertion: &str, extra: &[(&str, &str)]) -> Answer {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
    ];
    form.extend_from_slice(extra);
    post_token(app, None, &form).await
}

fn assert_invalid_client(answer: &Answer, what: &str) {
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{what}: the client received {}", answer.json);
    assert_eq!(answer.error(), "invalid_client", "{what}: the client received {}", answer.json);
}

/// A JWKS server for `jwks_uri`, on 127.0.0.1:0, counting the fetches.
struct JwksServer {
    uri: String,
    document: Arc<Mutex<Value>>,
    hits: Arc<AtomicUsize>,
}

impl JwksServer {
    async fn start(document: Value) -> Self {
        let document = Arc::new(Mutex::new(document));
        let hits = Arc::new(AtomicUsize::new(0));
        let (doc, count) = (document.clone(), hits.clone());
        let router = axum::Router::new()
            .route(
                "/jwks",
                axum::routing::get(move || {
                    let (doc, count) = (doc.clone(), count.clone());
                    async move {
                        count.fetch_add(1, Ordering::SeqCst);
                        axum::Json(doc.lock().unwrap().clone())
                    }
                }),
            )
            .route("/moved", axum::routing::get(|| async { (StatusCode::FOUND, [("location", "/jwks")]) }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self { uri: format!("{base}/jwks"), document, hits }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

// --- Inline keys: every algorithm, and the claims RFC 7523 §3 requires ---

#[tokio::test]
async fn private_key_jwt_authenticates_with_rs256_es256_and_eddsa_keys() {
    // RFC 7523 §2.2; discovery advertises these three in token_endpoint_auth_signing_alg_values_supported.
    let app = TestApp::spawn().await;
    for alg in ["RS256", "ES256", "EdDSA"] {
        let key = ClientKey::generate(alg, "k1");
        let id = format!("batch-{}", alg.to_lowercase());
        register_inline(&app, &id, &[&key]).await;

        let answer = with_assertion(&app, &key.assertion(&app, &id), &[]).await;

        assert_eq!(answer.status, StatusCode::OK, "{alg}: the client received {}", answer.json);
        assert_eq!(answer.str("token_type"), "Bearer");
    }
}

#[tokio::test]
async fn an_assertion_for_the_issuer_or_with_an_audience_list_is_accepted() {
    // RFC 7523 §3: aud identifies the authorization server; the token endpoint URL MAY be used,
    // and aud may be an array that contains it (RFC 7519 §4.1.3).
    let app = TestApp::spawn().await;
    let key = ClientKey::generate("ES256", "k1");
    register_inline(&app, "batch", &[&key]).await;
    for aud in [json!(app.issuer), json!(["https://elsewhere.example", app.url("/token")])] {
        let mut c = claims(&app, "batch");
        c["aud"] = aud.clone();

        let answer = with_assertion(&app, &key.sign(&c), &[]).await;

        assert_eq!(answer.status, StatusCode::OK, "aud {aud}: the client received {}", answer.json);
    }
}

#[tokio::test]
async fn a_client_assertion_with_a_wrong_aud_is_refused() {
    // RFC 7523 §3 item 3: "The JWT MUST contain an "aud" (audience) claim containing a value that
    // identifies the authorization server as an intended audience" — else invalid_client (401).
    let app = TestApp::spawn().await;
    let key = ClientKey::generate("ES256", "k1");
    register_inline(&app, "batch", &[&key]).await;
    let mut c = claims(&app, "batch");
    c["aud"] = json!("https://other-idp.example/token");

    let answer = with_assertion(&app, &key.sign(&c), &[]).await;

    assert_invalid_client(&answer, "wrong aud");
}

#[tokio::test]
async fn a_client_assertion_without_aud_is_refused() {
    let app = TestApp::spawn().await;
    let key = ClientKey::generate("ES256", "k1");
    register_inline(&app, "batch", &[&key]).await;
    let mut c = claims(&app, "batch");
    c.as_object_mut().unwrap().remove("aud");

    assert_invalid_client(&with_assertion(&app, &key.sign(&c), &[]).await, "no aud");
}

#[tokio::test]
async fn an_expired_client_assertion_is_refused() {
    // RFC 7523 §3 item 4: the server MUST reject a JWT whose exp has passed (small skew allowed).
    let app = TestApp::spawn().await;
    let key = ClientKey::generate("ES256", "k1");
    register_inline(&app, "batch", &[&key]).await;
    let assertion = key.assertion(&app, "batch");
    app.clock.advance(60 + 31);

    assert_invalid_client(&with_assertion(&app, &assertion, &[]).await, "expired exp");
}

#[tokio::test]
async fn a_client_assertion_without_exp_or_with_a_far_exp_is_refused() {
    // RFC 7523 §3 item 4: exp is required; "MAY reject JWTs with an "exp" claim value that is
    // unreasonably far in the future" (here: more than an hour).
    let app = TestApp::spawn().await;
    let key = ClientKey::generate("ES256", "k1");
    register_inline(&app, "batch", &[&key]).await;
    let mut without = claims(&app, "batch");
    without.as_object_mut().unwrap().remove("exp");
    let mut far = claims(&app, "batch");
    far["exp"] = json!(app.clock.now() + 2 * 3600);

    assert_invalid_client(&with_assertion(&app, &key.sign(&without), &[]).await, "no exp");
    assert_invalid_client(&with_assertion(&app, &key.sign(&far), &[]).await, "exp in two hours");
}

#[tokio::test]
async fn a_replayed_client_assertion_jti_is_refused() {
    // RFC 7523 §3 item 7 and OpenID Connect Core §9: a jti is used once; a replayed assertion,
    // even unexpired, gets invalid_client.
    let app = TestApp::spawn().await;
    let key = ClientKey::generate("EdDSA", "k1");
    register_inline(&app, "batch", &[&key]).await;
    let assertion = key.assertion(&app, "batch");
    let first = with_assertion(&app, &assertion, &[]).await;
    assert_eq!(first.status, StatusCode::OK, "the first use should work: {}", first.json);

    let second = with_assertion(&app, &assertion, &[]).await;

    assert_invalid_client(&second, "replayed jti");
}

#[tokio::test]
async fn concurrent_uses_of_one_jti_let_exactly_one_through() {
    // Single use is atomic (an increment, not read-then-write): of several racing requests with
    // the same assertion, one succeeds.
    let app = TestApp::spawn().await;
    let key = ClientKey::generate("ES256", "k1");
    register_inline(&app, "batch", &[&key]).await;
    let assertion = key.assertion(&app, "batch");

    let answers = futures_join(&app, &assertion, 4).await;

    let ok = answers.iter().filter(|a| a.status == StatusCode::OK).count();
    assert_eq!(ok, 1, "{ok} of 4 concurrent uses of one jti succeeded");
}

async fn futures_join(app: &TestApp, assertion: &str, n: usize) -> Vec<Answer> {
    let mut handles = Vec::new();
    for _ in 0..n {
        let (url, assertion) = (app.url("/token"), assertion.to_owned());
        handles.push(tokio::spawn(async move {
            let form = [
                ("grant_type", "client_credentials"),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", assertion.as_str()),
            ];
            Answer::read(machine().post(url).form(&form).send().await.unwrap()).await
        }));
    }
    let mut answers = Vec::new();
    for h in handles {
        answers.push(h.await.unwrap());
    }
    answers
}

#[tokio::test]
async fn a_client_assertion_without_jti_is_refused() {
    // OpenID Connect Core §9: jti is REQUIRED for private_key_jwt.
    let app = TestApp::spawn().await;
    let key = ClientKey::generate("ES256", "k1");
    register_inline(&app, "batch", &[&key]).await;
    let mut c = claims(&app, "batch");
    c.as_object_mut().unwrap().remove("jti");

    assert_invalid_client(&with_assertion(&app, &key.sign(&c), &[]).await, "no jti");
}

#[tokio::test]
async fn a_client_assertion_with_alg_none_is_refused() {
    // RFC 7523 §3 item 9 and RFC 8725 §3.1: the JWT MUST be signed; `none` is never accepted.
    let app = TestApp::spawn().await;
    let key = ClientKey::generate("ES256", "k1");
    register_inline(&app, "batch", &[&key]).await;
    let header = json!({"alg": "none", "kid": "k1"});
    let unsigned =
        format!("{}.{}.", b64(header.to_string().as_bytes()), b64(claims(&app, "batch").to_string().as_bytes()));

    assert_invalid_client(&with_assertion(&app, &unsigned, &[]).await, "alg none");
}

#[tokio::test]
async fn a_client_assertion_signed_with_hs256_is_refused() {
    // client_secret_jwt is not offered: an HMAC over the client secret does not authenticate a
    // client registered for a secret, and an HMAC keyed with a registered public key (algorithm
    // confusion, RFC 8725 §2.1) does not authenticate a private_key_jwt client.
    let app = TestApp::spawn().await;
    let (_, secret) = app.confidential_client("shop", RP_CALLBACK).await;
    let key = ClientKey::generate("RS256", "k1");
    register_inline(&app, "batch", &[&key]).await;
    let hs256 = |client_id: &str, mac_key: &[u8]| {
        let header = json!({"alg": "HS256", "typ": "JWT", "kid": "k1"});
        let input =
            format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims(&app, client_id).to_string().as_bytes()));
        format!("{input}.{}", b64(&idp::crypto::hmac_sha256(mac_key, input.as_bytes())))
    };

    let with_secret = with_assertion(&app, &hs256("shop", secret.as_bytes()), &[]).await;
    let with_public_key = with_assertion(&app, &hs256("batch", key.public_jwk().to_string().as_bytes()), &[]).await;

    assert_invalid_client(&with_secret, "HS256 with the client secret");
    assert_invalid_client(&with_public_key, "HS256 keyed with the public JWK");
}

#[tokio::test]
async fn a_client_assertion_whose_header_alg_does_not_fit_the_key_is_refused() {
    // RFC 8725 §3.1: the algorithm must be the key's. An ES256 signature with an RS256 key's kid.
    let app = TestApp::spawn().await;
    let rsa_key = ClientKey::generate("RS256", "k1");
    let ec_key = ClientKey::generate("ES256", "k1");
    register_inline(&app, "batch", &[&rsa_key]).await;

    let answer = with_assertion(&app, &ec_key.assertion(&app, "batch"), &[]).await;

    assert_invalid_client(&answer, "ES256 header with an RSA key");
}

#[tokio::test]
async fn a_client_assertion_with_an_unknown_kid_is_refused() {
    let app = TestApp::spawn().await;
    let registered = ClientKey::generate("ES256", "k1");
    let other = ClientKey::generate("ES256", "k2");
    register_inline(&app, "batch", &[&registered]).await;

    assert_invalid_client(&with_assertion(&app, &other.assertion(&app, "batch"), &[]).await, "unknown kid");
}

#[tokio::test]
async fn a_client_assertion_signed_by_another_key_with_the_same_kid_is_refused() {
    let app = TestApp::spawn().await;
    let registered = ClientKey::generate("ES256", "k1");
    let impostor = ClientKey::generate("ES256", "k1");
    register_inline(&app, "batch", &[&registered]).await;

    assert_invalid_client(&with_assertion(&app, &impostor.assertion(&app, "batch"), &[]).await, "bad signature");
}

#[tokio::test]
async fn iss_and_sub_must_both_be_the_client_id() {
    // RFC 7523 §3 items 1 and 2; OpenID Connect Core §9: iss and sub are the client_id.
    let app = TestApp::spawn().await;
    let key = ClientKey::generate("ES256", "k1");
    register_inline(&app, "batch", &[&key]).await;
    let mut other_iss = claims(&app, "batch");
    other_iss["iss"] = json!("someone-else");

    assert_invalid_client(&with_assertion(&app, &key.sign(&other_iss), &[]).await, "iss is not the client");
}

#[tokio::test]
async fn a_client_id_parameter_must_name_the_assertion_subject() {
    // RFC 7521 §4.2: client_id is optional with an assertion; when sent it must match.
    let app = TestApp::spawn().await;
    let key = ClientKey::generate("ES256", "k1");
    register_inline(&app, "batch", &[&key]).await;

    let matching = with_assertion(&app, &key.assertion(&app, "batch"), &[("client_id", "batch")]).await;
    let mismatched = with_assertion(&app, &key.assertion(&app, "batch"), &[("client_id", "shop")]).await;

    assert_eq!(matching.status, StatusCode::OK, "the client received {}", matching.json);
    assert_invalid_client(&mismatched, "client_id names another client");
}

#[tokio::test]
async fn a_client_assertion_together_with_a_secret_is_refused_as_invalid_request() {
    // RFC 6749 §2.3: a client MUST NOT use more than one authentication method per request.
    let app = TestApp::spawn().await;
    let key = ClientKey::generate("ES256", "k1");
    register_inline(&app, "batch", &[&key]).await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", &key.assertion(&app, "batch")),
    ];

    let answer = post_token(&app, Some(&basic("batch", "some-secret-of-32-characters-long")), &form).await;

    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "the client received {}", answer.json);
    assert_eq!(answer.error(), "invalid_request");
}

#[tokio::test]
async fn an_unsupported_client_assertion_type_is_refused() {
    let app = TestApp::spawn().await;
    let key = ClientKey::generate("ES256", "k1");
    register_inline(&app, "batch", &[&key]).await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"),
        ("client_assertion", &key.assertion(&app, "batch")),
    ];

    assert_invalid_client(&post_token(&app, None, &form).await, "SAML assertion type");
}

#[tokio::test]
async fn a_private_key_jwt_client_cannot_authenticate_without_its_assertion() {
    // A client uses the method it registered (OpenID Connect Dynamic Registration §2,
    // token_endpoint_auth_method): client_id alone is the `none` method.
    let app = TestApp::spawn().await;
    let key = ClientKey::generate("ES256", "k1");
    register_inline(&app, "batch", &[&key]).await;

    let answer = post_token(&app, None, &[("grant_type", "client_credentials"), ("client_id", "batch")]).await;

    assert_invalid_client(&answer, "client_id only");
}

#[tokio::test]
async fn private_key_jwt_authenticates_an_authorization_code_exchange() {
    // OpenID Connect Core §9 with the code flow, as a relying party would use it.
    let app = TestApp::spawn().await;
    app.user(LOGIN).await;
    let key = ClientKey::generate("RS256", "k1");
    let spec = ClientSpec {
        id: "portal".into(),
        redirect_uris: vec![RP_CALLBACK.into()],
        grants: vec!["authorization_code".into()],
        auth_method: Some("private_key_jwt".into()),
        settings: ClientSettings { jwks: Some(jwks(&[&key])), ..ClientSettings::default() },
        ..ClientSpec::default()
    };
    app.client(spec).await;
    let request = AuthorizeRequest::new("portal", RP_CALLBACK);
    let callback = Browser::new().authorize(&app.issuer, &request.url(&app), LOGIN, PASSWORD).await;
    let code = idp_tests::browser::query(&callback).get("code").cloned().expect("a code");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", RP_CALLBACK),
        ("code_verifier", request.verifier.as_str()),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", &key.assertion(&app, "portal")),
    ];

    let answer = post_token(&app, None, &form).await;

    assert_eq!(answer.status, StatusCode::OK, "the client received {}", answer.json);
    assert!(!answer.str("id_token").is_empty());
}

// --- Keys from a jwks_uri ---

#[tokio::test]
async fn keys_are_fetched_from_the_jwks_uri_and_cached() {
    let app = TestApp::spawn().await;
    let key = ClientKey::generate("ES256", "k1");
    let server = JwksServer::start(jwks(&[&key])).await;
    register(&app, "batch", ClientSettings { jwks_uri: Some(server.uri.clone()), ..ClientSettings::default() }).await;

    let first = with_assertion(&app, &key.assertion(&app, "batch"), &[]).await;
    let second = with_assertion(&app, &key.assertion(&app, "batch"), &[]).await;

    assert_eq!(first.status, StatusCode::OK, "the client received {}", first.json);
    assert_eq!(second.status, StatusCode::OK, "the client received {}", second.json);
    assert_eq!(server.hits(), 1, "the key set should be fetched once, then cached");
}

#[tokio::test]
async fn a_new_kid_at_the_jwks_uri_is_fetched_once_and_forged_kids_do_not_cause_fetch_storms() {
    // A client that rotates its key publishes the new one; an assertion naming it causes one
    // refetch. Assertions naming unknown kids do not make the server fetch again and again.
    let app = TestApp::spawn().await;
    let old = ClientKey::generate("ES256", "k1");
    let new = ClientKey::generate("EdDSA", "k2");
    let server = JwksServer::start(jwks(&[&old])).await;
    register(&app, "batch", ClientSettings { jwks_uri: Some(server.uri.clone()), ..ClientSettings::default() }).await;
    assert_eq!(with_assertion(&app, &old.assertion(&app, "batch"), &[]).await.status, StatusCode::OK);
    *server.document.lock().unwrap() = jwks(&[&new]);

    let rotated = with_assertion(&app, &new.assertion(&app, "batch"), &[]).await;
    assert_eq!(rotated.status, StatusCode::OK, "the new key should be fetched: {}", rotated.json);
    assert_eq!(server.hits(), 2);

    for i in 0..3 {
        let forged = ClientKey::generate("ES256", &format!("forged-{i}"));
        assert_invalid_client(&with_assertion(&app, &forged.assertion(&app, "batch"), &[]).await, "forged kid");
    }
    assert_eq!(server.hits(), 2, "unknown kids made the server refetch the client's keys");
}

#[tokio::test]
async fn an_unreachable_jwks_uri_gives_invalid_client() {
    // The keys cannot be had, so the client cannot be authenticated: invalid_client, not a 500.
    let app = TestApp::spawn().await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let key = ClientKey::generate("ES256", "k1");
    let uri = format!("http://{closed}/jwks");
    register(&app, "batch", ClientSettings { jwks_uri: Some(uri), ..ClientSettings::default() }).await;

    assert_invalid_client(&with_assertion(&app, &key.assertion(&app, "batch"), &[]).await, "unreachable jwks_uri");
}

#[tokio::test]
async fn a_redirecting_jwks_uri_is_not_followed() {
    let app = TestApp::spawn().await;
    let key = ClientKey::generate("ES256", "k1");
    let server = JwksServer::start(jwks(&[&key])).await;
    let moved = server.uri.replace("/jwks", "/moved");
    register(&app, "batch", ClientSettings { jwks_uri: Some(moved), ..ClientSettings::default() }).await;

    assert_invalid_client(&with_assertion(&app, &key.assertion(&app, "batch"), &[]).await, "redirected jwks_uri");
    assert_eq!(server.hits(), 0, "the redirect was followed");
}

// --- Registration and discovery ---

#[tokio::test]
async fn a_private_key_jwt_client_has_no_secret_and_needs_keys() {
    let key = ClientKey::generate("ES256", "k1");
    let spec = |settings: ClientSettings| ClientSpec {
        id: "batch".into(),
        grants: vec!["client_credentials".into()],
        auth_method: Some("private_key_jwt".into()),
        settings,
        ..ClientSpec::default()
    };
    let inline = ClientSettings { jwks: Some(jwks(&[&key])), ..ClientSettings::default() };

    let (client, secret) = admin::build_client(&spec(inline.clone()), 0).unwrap();
    assert!(secret.is_none() && client.secret_digest.is_none(), "RFC 7523: no secret for private_key_jwt");

    assert!(admin::build_client(&spec(ClientSettings::default()), 0).is_err(), "no keys at all");
    let both = ClientSettings { jwks_uri: Some("https://rp.example/jwks".into()), ..inline };
    assert!(admin::build_client(&spec(both), 0).is_err(), "jwks and jwks_uri together");
    let http = ClientSettings { jwks_uri: Some("http://rp.example/jwks".into()), ..ClientSettings::default() };
    assert!(admin::build_client(&spec(http), 0).is_err(), "a jwks_uri over plain http to a remote host");
    let empty = ClientSettings { jwks: Some(json!({"keys": []})), ..ClientSettings::default() };
    assert!(admin::build_client(&spec(empty), 0).is_err(), "an empty key set");
}

#[tokio::test]
async fn discovery_advertises_private_key_jwt_and_its_algorithms() {
    // Discovery §3: token_endpoint_auth_methods_supported and
    // token_endpoint_auth_signing_alg_values_supported (no `none`, no HS*).
    let app = TestApp::spawn().await;
    let doc: Value =
        machine().get(app.url("/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    let methods = doc["token_endpoint_auth_methods_supported"].as_array().unwrap();
    assert!(methods.contains(&json!("private_key_jwt")), "{doc}");
    let algs = doc["token_endpoint_auth_signing_alg_values_supported"].as_array().unwrap();
    assert_eq!(algs, &vec![json!("RS256"), json!("ES256"), json!("EdDSA")]);
}
