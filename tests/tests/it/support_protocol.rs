//! Shared by the protocol tests (authorize, token, userinfo): authorization requests built by
//! hand parameter by parameter, a plain HTTP client for the machine endpoints, and a provider
//! with one user and one confidential client already registered.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use idp::domain::User;
use idp_tests::browser::query;
use idp_tests::{Browser, PASSWORD, RP_CALLBACK, TestApp};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const LOGIN: &str = "alice.martin";
pub const CLIENT_ID: &str = "shop";

/// A client for the endpoints that machines call: no cookies, no redirects followed.
pub fn machine() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// A random PKCE verifier and its S256 challenge (RFC 7636 §4.1, §4.2).
pub fn pkce_pair() -> (String, String) {
    let verifier = idp::crypto::random_token(32);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// An authorization request (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2.1) that starts out
/// valid: `response_type=code`, `scope=openid`, a state, a nonce and an S256 challenge. Tests
/// then break or extend it one parameter at a time.
#[derive(Clone, Debug)]
pub struct AuthorizeRequest {
    pairs: Vec<(String, String)>,
    pub verifier: String,
}

impl AuthorizeRequest {
    pub fn new(client_id: &str, redirect_uri: &str) -> Self {
        let (verifier, challenge) = pkce_pair();
        let pairs = [
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("scope", "openid"),
            ("state", "state-1234"),
            ("nonce", "nonce-5678"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        Self { pairs, verifier }
    }

    /// Sets `name` to `value`, replacing any earlier value.
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.pairs.retain(|(k, _)| k != name);
        self.pairs.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds one more `name=value`, keeping the earlier ones (to repeat a parameter).
    pub fn also(mut self, name: &str, value: &str) -> Self {
        self.pairs.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn without(mut self, name: &str) -> Self {
        self.pairs.retain(|(k, _)| k != name);
        self
    }

    pub fn url(&self, app: &TestApp) -> String {
        let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&self.pairs).finish();
        format!("{}?{query}", app.url("/authorize"))
    }

    pub fn form(&self) -> Vec<(&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }
}

/// A JSON answer from a machine endpoint.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
}

impl Answer {
    pub async fn read(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or_else(|_| panic!("a JSON body, got {status}: {text}"));
        Self { status, headers, json }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// The `error` member of an RFC 6749 §5.2 error response.
    pub fn error(&self) -> &str {
        self.json["error"].as_str().unwrap_or("<no error member>")
    }

    pub fn str(&self, member: &str) -> &str {
        self.json[member].as_str().unwrap_or_else(|| panic!("no string {member:?} in {}", self.json))
    }
}

/// `Authorization: Basic` as RFC 6749 §2.3.1 builds it (each part form-urlencoded first).
pub fn basic(client_id: &str, secret: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!("Basic {}", STANDARD.encode(format!("{}:{}", enc(client_id), enc(secret))))
}

/// POST /token with a form body, and optionally an `Authorization` header.
pub async fn post_token(app: &TestApp, authorization: Option<&str>, form: &[(&str, &str)]) -> Answer {
    let mut request = machine().post(app.url("/token")).form(form);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    Answer::read(request.send().await.unwrap()).await
}

/// GET /userinfo with a bearer token.
pub async fn get_userinfo(app: &TestApp, access_token: &str) -> Answer {
    let response = machine().get(app.url("/userinfo")).bearer_auth(access_token).send().await.unwrap();
    Answer::read(response).await
}

/// A provider with Alice and the confidential client "shop" (client_secret_basic, not first
/// party: she is asked for consent), and a browser.
pub struct World {
    pub app: TestApp,
    pub alice: User,
    pub secret: String,
    pub browser: Browser,
}

impl World {
    pub async fn new() -> Self {
        let app = TestApp::spawn().await;
        let alice = app.user(LOGIN).await;
        let (_, secret) = app.confidential_client(CLIENT_ID, RP_CALLBACK).await;
        Self { app, alice, secret, browser: Browser::new() }
    }

    /// As `new`, "shop" registered with these client settings (`--setting …`).
    pub async fn with_shop_settings(settings: idp::domain::client::ClientSettings) -> Self {
        let app = TestApp::spawn().await;
        let alice = app.user(LOGIN).await;
        let spec = idp::admin::ClientSpec {
            id: CLIENT_ID.into(),
            name: "Client shop".into(),
            redirect_uris: vec![RP_CALLBACK.into()],
            post_logout_redirect_uris: vec![format!("{RP_CALLBACK}/bye")],
            grants: vec!["authorization_code".into(), "refresh_token".into()],
            settings,
            ..idp::admin::ClientSpec::default()
        };
        let (_, secret) = app.client(spec).await;
        Self { app, alice, secret: secret.expect("a confidential client"), browser: Browser::new() }
    }

    /// A valid request from "shop" for `scope`.
    pub fn request(&self, scope: &str) -> AuthorizeRequest {
        AuthorizeRequest::new(CLIENT_ID, RP_CALLBACK).with("scope", scope)
    }

    /// Alice signs in and consents as needed; returns the authorization code.
    pub async fn code(&self, request: &AuthorizeRequest) -> String {
        let callback = self.browser.authorize(&self.app.issuer, &request.url(&self.app), LOGIN, PASSWORD).await;
        let params = query(&callback);
        params.get("code").cloned().unwrap_or_else(|| panic!("no code in the redirect back: {callback}"))
    }

    /// Exchanges a code of "shop" with its secret (client_secret_basic).
    pub async fn exchange(&self, code: &str, verifier: &str) -> Answer {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", RP_CALLBACK),
            ("code_verifier", verifier),
        ];
        post_token(&self.app, Some(&basic(CLIENT_ID, &self.secret)), &form).await
    }

    /// The token response for a fresh authorization with `scope`.
    pub async fn tokens(&self, scope: &str) -> Answer {
        let request = self.request(scope);
        let code = self.code(&request).await;
        let answer = self.exchange(&code, &request.verifier).await;
        assert_eq!(answer.status, StatusCode::OK, "the code should exchange: {}", answer.json);
        answer
    }

    pub async fn refresh(&self, refresh_token: &str) -> Answer {
        let form = [("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
        post_token(&self.app, Some(&basic(CLIENT_ID, &self.secret)), &form).await
    }
}
