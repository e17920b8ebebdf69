//! The OpenID Foundation's oidcc-basic-certification-test-plan (authorization code flow), one
//! test per module, each run for both client authentication variants of the plan
//! (client_secret_basic and client_secret_post). The modules about claims, request objects,
//! display, acr, id_token_hint, max_age=1, prompt=none when logged in and refresh tokens live in
//! `request_details` and `grants`. Each test's comment says what the official module asserts.

use std::future::Future;

use idp::admin::{self, ClientSpec, UserSpec};
use idp::domain::{Secret, User};
use idp_tests::browser::{Page, query};
use idp_tests::rp::Rp;
use idp_tests::{Browser, PASSWORD, RP_CALLBACK, TestApp};
use openidconnect::core::CoreUserInfoClaims;
use openidconnect::{AuthType, OAuth2TokenResponse, TokenResponse};
use reqwest::StatusCode;
use serde_json::Value;

use crate::support_protocol::{Answer, AuthorizeRequest, basic, get_userinfo, machine, post_token};

const LOGIN: &str = "alice.martin";
const CLIENT_ID: &str = "conformance";
const PHONE: &str = "+33 1 23 45 67 89";
const ADDRESS: &str = "1 place de la Mairie, 75001 Paris, France";

/// The two client authentication variants the plan runs every module with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Auth {
    SecretBasic,
    SecretPost,
}

/// A provider with Alice (phone and address filled in, for those scopes), the client under test
/// registered for `auth`, and a browser.
struct Op {
    app: TestApp,
    alice: User,
    auth: Auth,
    secret: String,
    browser: Browser,
}

/// Runs `body` once per authentication variant, each on a fresh provider.
async fn each_auth_method<F, Fut>(body: F)
where
    F: Fn(Op) -> Fut,
    Fut: Future<Output = ()>,
{
    for auth in [Auth::SecretBasic, Auth::SecretPost] {
        body(Op::new(auth).await).await;
    }
}

impl Op {
    async fn new(auth: Auth) -> Self {
        let app = TestApp::spawn().await;
        let spec = UserSpec {
            login: LOGIN.into(),
            email: "alice.martin@example.org".into(),
            given_name: "Alice".into(),
            family_name: "Martin".into(),
            phone_number: Some(PHONE.into()),
            address: Some(ADDRESS.into()),
            ..UserSpec::default()
        };
        let alice = admin::add_user(&app.services, &spec, &Secret::new(PASSWORD)).await.unwrap();
        let (_, secret) = app
            .client(ClientSpec {
                id: CLIENT_ID.into(),
                name: "Conformance client".into(),
                redirect_uris: vec![RP_CALLBACK.into()],
                post_logout_redirect_uris: vec![format!("{RP_CALLBACK}/bye")],
                grants: vec!["authorization_code".into(), "refresh_token".into()],
                auth_method: Some(
                    match auth {
                        Auth::SecretBasic => "client_secret_basic",
                        Auth::SecretPost => "client_secret_post",
                    }
                    .into(),
                ),
                ..ClientSpec::default()
            })
            .await;
        Self { app, alice, auth, secret: secret.unwrap(), browser: Browser::new() }
    }

    /// A request as the plan's client sends it: code flow, state and nonce, no PKCE.
    fn request(&self, scope: &str) -> AuthorizeRequest {
        AuthorizeRequest::new(CLIENT_ID, RP_CALLBACK)
            .with("scope", scope)
            .without("code_challenge")
            .without("code_challenge_method")
    }

    /// Alice signs in and consents as needed; returns the redirect back to the client.
    async fn authorize(&self, request: &AuthorizeRequest) -> String {
        self.browser.authorize(&self.app.issuer, &request.url(&self.app), LOGIN, PASSWORD).await
    }

    async fn code(&self, request: &AuthorizeRequest) -> String {
        let callback = self.authorize(request).await;
        query(&callback).get("code").cloned().unwrap_or_else(|| panic!("no code in the redirect back: {callback}"))
    }

    /// The token request, authenticated the variant's way (RFC 6749 §2.3.1).
    async fn exchange(&self, code: &str, verifier: Option<&str>) -> Answer {
        let mut form = vec![("grant_type", "authorization_code"), ("code", code), ("redirect_uri", RP_CALLBACK)];
        if let Some(v) = verifier {
            form.push(("code_verifier", v));
        }
        match self.auth {
            Auth::SecretBasic => post_token(&self.app, Some(&basic(CLIENT_ID, &self.secret)), &form).await,
            Auth::SecretPost => {
                form.push(("client_id", CLIENT_ID));
                form.push(("client_secret", &self.secret));
                post_token(&self.app, None, &form).await
            }
        }
    }

    /// A whole authorization for `scope`: the token response, checked to be a success.
    async fn tokens_for(&self, request: &AuthorizeRequest) -> Answer {
        let code = self.code(request).await;
        let answer = self.exchange(&code, None).await;
        assert_eq!(answer.status, StatusCode::OK, "[{:?}] the code should exchange: {}", self.auth, answer.json);
        answer
    }

    async fn tokens(&self, scope: &str) -> Answer {
        self.tokens_for(&self.request(scope)).await
    }

    /// OpenID Connect Core §3.1.3.7: the checks the plan makes on every ID token (signature
    /// with a key of the JWKS, iss, aud, exp, iat, sub, nonce when one was sent).
    fn id_token(&self, answer: &Answer, nonce: Option<&str>) -> Value {
        let token = answer.str("id_token");
        let claims = self.app.services.keys.verify(token).expect("the ID token verifies with a key of the JWKS");
        let now = self.app.services.now();
        assert_eq!(claims["iss"], self.app.issuer.as_str(), "iss: {claims}");
        assert_eq!(claims["aud"], CLIENT_ID, "aud: {claims}");
        assert!(claims["exp"].as_i64().is_some_and(|e| e > now), "exp in the future: {claims}");
        assert!(claims["iat"].as_i64().is_some_and(|i| (now - 60..=now + 5).contains(&i)), "iat is now: {claims}");
        assert!(claims["sub"].as_str().is_some_and(|s| !s.is_empty()), "sub: {claims}");
        assert_eq!(claims["nonce"].as_str(), nonce, "nonce: {claims}");
        claims
    }

    /// The refresh token request, authenticated the variant's way, as client `client_id`.
    async fn refresh_as(&self, client_id: &str, secret: &str, refresh_token: &str) -> Answer {
        let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
        match self.auth {
            Auth::SecretBasic => post_token(&self.app, Some(&basic(client_id, secret)), &form).await,
            Auth::SecretPost => {
                form.push(("client_id", client_id));
                form.push(("client_secret", secret));
                post_token(&self.app, None, &form).await
            }
        }
    }

    async fn open(&self, request: &AuthorizeRequest) -> Page {
        self.browser.get(&request.url(&self.app)).await
    }

    async fn userinfo(&self, answer: &Answer) -> Value {
        let info = get_userinfo(&self.app, answer.str("access_token")).await;
        assert_eq!(info.status, StatusCode::OK, "userinfo: {}", info.json);
        info.json
    }
}

fn has_string(json: &Value, member: &str) -> bool {
    json[member].as_str().is_some_and(|s| !s.is_empty())
}

#[tokio::test]
async fn oidcc_server() {
    // oidcc-server: a relying party (here the openidconnect crate, an independent
    // implementation) discovers the OP, runs the code flow and gets an ID token that verifies
    // (signature, iss, aud, exp, iat, nonce, at_hash) and a userinfo answer with the same sub.
    each_auth_method(|op| async move {
        let rp = Rp::discover(&op.app.issuer, CLIENT_ID, Some(&op.secret), RP_CALLBACK).await;
        let client = match op.auth {
            Auth::SecretBasic => rp.client.clone(),
            Auth::SecretPost => rp.client.clone().set_auth_type(AuthType::RequestBody),
        };
        let pending = rp.start(&[]);
        let callback = op.browser.authorize(&op.app.issuer, &pending.url, LOGIN, PASSWORD).await;
        let params = query(&callback);
        assert_eq!(params["state"], *pending.state.secret());

        let tokens = client
            .exchange_code(openidconnect::AuthorizationCode::new(params["code"].clone()))
            .unwrap()
            .set_pkce_verifier(pending.verifier)
            .request_async(&rp.http)
            .await
            .unwrap_or_else(|e| panic!("[{:?}] the code exchanges: {e:?}", op.auth));
        let id_token = tokens.id_token().expect("an ID token");
        let claims = id_token.claims(&client.id_token_verifier(), &pending.nonce).expect("the ID token verifies");
        let userinfo: CoreUserInfoClaims = client
            .user_info(tokens.access_token().clone(), None)
            .unwrap()
            .request_async(&rp.http)
            .await
            .expect("userinfo answers");
        assert_eq!(userinfo.subject(), claims.subject(), "the same sub in userinfo");
        assert_eq!(claims.subject().as_str(), op.alice.id);
    })
    .await;
}

#[tokio::test]
async fn oidcc_response_type_missing() {
    // oidcc-response-type-missing: an authorization request without response_type: the OP
    // returns an error — here sent back to the (registered) redirect URI as invalid_request
    // with the state (RFC 6749 §4.1.2.1) — and no code.
    each_auth_method(|op| async move {
        let page = op.open(&op.request("openid").without("response_type")).await;

        let location = page.location().unwrap_or_else(|| panic!("a redirect back, got {}", page.body));
        assert!(location.starts_with(RP_CALLBACK), "{location}");
        let params = query(&location);
        assert_eq!(params["error"], "invalid_request", "{location}");
        assert_eq!(params["state"], "state-1234", "{location}");
        assert!(!params.contains_key("code"), "{location}");
    })
    .await;
}

#[tokio::test]
async fn oidcc_userinfo_get() {
    // oidcc-userinfo-get: GET /userinfo with the access token in the Authorization header
    // (RFC 6750 §2.1) returns the user's claims; sub equals the ID token's sub.
    each_auth_method(|op| async move {
        let tokens = op.tokens("openid").await;
        let sub = op.id_token(&tokens, Some("nonce-5678"))["sub"].clone();

        let info = get_userinfo(&op.app, tokens.str("access_token")).await;

        assert_eq!(info.status, StatusCode::OK, "{}", info.json);
        assert_eq!(info.json["sub"], sub);
    })
    .await;
}

#[tokio::test]
async fn oidcc_userinfo_post_header() {
    // oidcc-userinfo-post-header: POST /userinfo with the token in the Authorization header
    // (OpenID Connect Core §5.3.1: GET and POST); sub equals the ID token's.
    each_auth_method(|op| async move {
        let tokens = op.tokens("openid").await;
        let sub = op.id_token(&tokens, Some("nonce-5678"))["sub"].clone();

        let response =
            machine().post(op.app.url("/userinfo")).bearer_auth(tokens.str("access_token")).send().await.unwrap();

        let info = Answer::read(response).await;
        assert_eq!(info.status, StatusCode::OK, "{}", info.json);
        assert_eq!(info.json["sub"], sub);
    })
    .await;
}

#[tokio::test]
async fn oidcc_userinfo_post_body() {
    // oidcc-userinfo-post-body: POST /userinfo with access_token in a form body (RFC 6750
    // §2.2); sub equals the ID token's.
    each_auth_method(|op| async move {
        let tokens = op.tokens("openid").await;
        let sub = op.id_token(&tokens, Some("nonce-5678"))["sub"].clone();

        let response = machine()
            .post(op.app.url("/userinfo"))
            .form(&[("access_token", tokens.str("access_token"))])
            .send()
            .await
            .unwrap();

        let info = Answer::read(response).await;
        assert_eq!(info.status, StatusCode::OK, "{}", info.json);
        assert_eq!(info.json["sub"], sub);
    })
    .await;
}

#[tokio::test]
async fn oidcc_ensure_request_without_nonce_succeeds_for_code_flow() {
    // oidcc-ensure-request-without-nonce-succeeds-for-code-flow: nonce is optional in the code
    // flow (Core §3.1.2.1): the request succeeds and the ID token carries no nonce.
    each_auth_method(|op| async move {
        let tokens = op.tokens_for(&op.request("openid").without("nonce")).await;

        let claims = op.id_token(&tokens, None);
        assert!(claims.get("nonce").is_none(), "no nonce was sent, none comes back: {claims}");
    })
    .await;
}

#[tokio::test]
async fn oidcc_scope_profile() {
    // oidcc-scope-profile: scope "openid profile": the profile claims (Core §5.4) are returned
    // (userinfo here): name, given_name, family_name, preferred_username, updated_at.
    each_auth_method(|op| async move {
        let tokens = op.tokens("openid profile").await;
        op.id_token(&tokens, Some("nonce-5678"));

        let info = op.userinfo(&tokens).await;

        for claim in ["name", "given_name", "family_name", "preferred_username"] {
            assert!(has_string(&info, claim), "{claim} missing: {info}");
        }
        assert!(info["updated_at"].is_number(), "updated_at is a number (Core §5.1): {info}");
        assert!(info.get("email").is_none(), "no claim of an unrequested scope: {info}");
    })
    .await;
}

#[tokio::test]
async fn oidcc_scope_email() {
    // oidcc-scope-email: scope "openid email": email and email_verified (a boolean).
    each_auth_method(|op| async move {
        let tokens = op.tokens("openid email").await;

        let info = op.userinfo(&tokens).await;

        assert_eq!(info["email"], "alice.martin@example.org", "{info}");
        assert!(info["email_verified"].is_boolean(), "email_verified is a boolean: {info}");
    })
    .await;
}

#[tokio::test]
async fn oidcc_scope_address() {
    // oidcc-scope-address: scope "openid address": the address claim, a JSON object (Core
    // §5.1.1).
    each_auth_method(|op| async move {
        let tokens = op.tokens("openid address").await;

        let info = op.userinfo(&tokens).await;

        assert!(info["address"].is_object(), "address is an object: {info}");
        assert_eq!(info["address"]["formatted"], ADDRESS, "{info}");
    })
    .await;
}

#[tokio::test]
async fn oidcc_scope_phone() {
    // oidcc-scope-phone: scope "openid phone": phone_number and phone_number_verified.
    each_auth_method(|op| async move {
        let tokens = op.tokens("openid phone").await;

        let info = op.userinfo(&tokens).await;

        assert_eq!(info["phone_number"], PHONE, "{info}");
        assert!(info["phone_number_verified"].is_boolean(), "{info}");
    })
    .await;
}

#[tokio::test]
async fn oidcc_scope_all() {
    // oidcc-scope-all: scope "openid profile email address phone": the claims of every scope.
    each_auth_method(|op| async move {
        let tokens = op.tokens("openid profile email address phone").await;

        let info = op.userinfo(&tokens).await;

        for claim in ["name", "email", "phone_number"] {
            assert!(has_string(&info, claim), "{claim} missing: {info}");
        }
        assert!(info["address"].is_object(), "address missing: {info}");
    })
    .await;
}

#[tokio::test]
async fn oidcc_ensure_other_scope_order_succeeds() {
    // oidcc-ensure-other-scope-order-succeeds: "email openid" (openid not first) works like
    // "openid email": scope is a set (RFC 6749 §3.3).
    each_auth_method(|op| async move {
        let tokens = op.tokens("email openid").await;
        op.id_token(&tokens, Some("nonce-5678"));

        let info = op.userinfo(&tokens).await;

        assert!(has_string(&info, "email"), "{info}");
    })
    .await;
}

#[tokio::test]
async fn oidcc_prompt_login() {
    // oidcc-prompt-login: signed in already, a second request with prompt=login shows the login
    // page again (Core §3.1.2.1: the OP MUST prompt for reauthentication), and the second ID
    // token's auth_time is later than the first's.
    each_auth_method(|op| async move {
        let first = op.id_token(&op.tokens("openid").await, Some("nonce-5678"));
        op.app.clock.advance(5);
        let request = op.request("openid").with("prompt", "login");

        let page = op.browser.follow(&op.app.issuer, op.open(&request).await).await;
        assert!(page.url.contains("/login"), "prompt=login shows the login page, got {}: {}", page.url, page.body);
        let second = op.id_token(&op.tokens_for(&request).await, Some("nonce-5678"));

        assert!(
            second["auth_time"].as_i64() > first["auth_time"].as_i64(),
            "a new auth_time: {} then {}",
            first["auth_time"],
            second["auth_time"]
        );
    })
    .await;
}

#[tokio::test]
async fn oidcc_prompt_none_not_logged_in() {
    // oidcc-prompt-none-not-logged-in: no session and prompt=none: the OP MUST NOT show a page
    // and returns login_required (or interaction_required …) to the redirect URI with the state.
    each_auth_method(|op| async move {
        let page = op.open(&op.request("openid").with("prompt", "none")).await;

        let location = page.location().unwrap_or_else(|| panic!("a redirect back, got {}", page.body));
        assert!(location.starts_with(RP_CALLBACK), "{location}");
        let params = query(&location);
        assert_eq!(params["error"], "login_required", "{location}");
        assert_eq!(params["state"], "state-1234", "{location}");
    })
    .await;
}

#[tokio::test]
async fn oidcc_max_age_10000() {
    // oidcc-max-age-10000: signed in a moment ago, a second request with max_age=10000 needs
    // no new sign-in; the ID token carries auth_time (Core §3.1.2.1: REQUIRED with max_age)
    // equal to the first one's.
    each_auth_method(|op| async move {
        let first = op.id_token(&op.tokens("openid").await, Some("nonce-5678"));
        op.app.clock.advance(5);
        let request = op.request("openid").with("max_age", "10000");

        let page = op.browser.follow(&op.app.issuer, op.open(&request).await).await;

        let location = page.location().unwrap_or_else(|| panic!("no sign-in expected, got {}", page.url));
        let code = query(&location)["code"].clone();
        let answer = op.exchange(&code, None).await;
        let second = op.id_token(&answer, Some("nonce-5678"));
        assert!(second["auth_time"].is_number(), "auth_time with max_age: {second}");
        assert_eq!(second["auth_time"], first["auth_time"], "the same sign-in");
    })
    .await;
}

#[tokio::test]
async fn oidcc_ensure_request_with_unknown_parameter_succeeds() {
    // oidcc-ensure-request-with-unknown-parameter-succeeds: an unknown parameter is ignored
    // (RFC 6749 §3.1: "The authorization server MUST ignore unrecognized request parameters").
    each_auth_method(|op| async move {
        let request = op.request("openid").with("extra", "foobar");

        let tokens = op.tokens_for(&request).await;

        op.id_token(&tokens, Some("nonce-5678"));
    })
    .await;
}

#[tokio::test]
async fn oidcc_login_hint() {
    // oidcc-login-hint: login_hint is accepted (Core §3.1.2.1, a hint the OP may use): the
    // login page is prefilled with it and the flow succeeds.
    each_auth_method(|op| async move {
        let request = op.request("openid").with("login_hint", LOGIN);

        let page = op.browser.follow(&op.app.issuer, op.open(&request).await).await;
        assert_eq!(page.field("login").as_deref(), Some(LOGIN), "the login page is prefilled: {}", page.body);
        let tokens = op.tokens_for(&request).await;

        op.id_token(&tokens, Some("nonce-5678"));
    })
    .await;
}

#[tokio::test]
async fn oidcc_ui_locales() {
    // oidcc-ui-locales: ui_locales is accepted (Core §3.1.2.1); here the login page is shown in
    // the requested language, and the flow succeeds.
    each_auth_method(|op| async move {
        let request = op.request("openid").with("ui_locales", "en");

        let page = op.browser.follow(&op.app.issuer, op.open(&request).await).await;
        assert!(page.body.contains("<html lang=\"en\""), "the login page is in English: {}", page.body);
        let tokens = op.tokens_for(&request).await;

        op.id_token(&tokens, Some("nonce-5678"));
    })
    .await;
}

#[tokio::test]
async fn oidcc_codereuse() {
    // oidcc-codereuse: a code used a second time is refused with invalid_grant (RFC 6749
    // §4.1.2: single use), and the tokens issued from it SHOULD be revoked (here they are).
    each_auth_method(|op| async move {
        let code = op.code(&op.request("openid")).await;
        let first = op.exchange(&code, None).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.json);

        let second = op.exchange(&code, None).await;

        assert_eq!(second.status, StatusCode::BAD_REQUEST, "{}", second.json);
        assert_eq!(second.error(), "invalid_grant");
        let info = get_userinfo_status(&op, first.str("access_token")).await;
        assert_eq!(info, StatusCode::UNAUTHORIZED, "the access token of the replayed code is revoked");
    })
    .await;
}

#[tokio::test]
async fn oidcc_codereuse_30seconds() {
    // oidcc-codereuse-30seconds: the same, the second use 30 seconds later (the code's lifetime
    // has not run out, so it is the reuse that is refused): invalid_grant.
    each_auth_method(|op| async move {
        let code = op.code(&op.request("openid")).await;
        let first = op.exchange(&code, None).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.json);
        op.app.clock.advance(30);

        let second = op.exchange(&code, None).await;

        assert_eq!(second.status, StatusCode::BAD_REQUEST, "{}", second.json);
        assert_eq!(second.error(), "invalid_grant");
        let info = get_userinfo_status(&op, first.str("access_token")).await;
        assert_eq!(info, StatusCode::UNAUTHORIZED, "the access token of the replayed code is revoked");
    })
    .await;
}

#[tokio::test]
async fn oidcc_refresh_token() {
    // oidcc-refresh-token: an authorization with offline_access and prompt=consent (Core §11)
    // returns a refresh token; the refresh request returns a new access token that works at
    // userinfo and, with it, an ID token whose iss, sub, aud and auth_time are those of the
    // original (Core §12.2) with a new iat; the refresh token is bound to its client: another
    // client presenting it gets invalid_grant (RFC 6749 §6, §10.4) and the token stays usable.
    each_auth_method(|op| async move {
        let request = op.request("openid offline_access").with("prompt", "consent");
        let first = op.tokens_for(&request).await;
        let original = op.id_token(&first, Some("nonce-5678"));
        let refresh_token = first.str("refresh_token").to_owned();
        assert!(!refresh_token.is_empty(), "[{:?}] offline_access gives a refresh token: {}", op.auth, first.json);
        let (_, other_secret) = op
            .app
            .client(ClientSpec {
                id: "other".into(),
                redirect_uris: vec![format!("{RP_CALLBACK}/other")],
                grants: vec!["authorization_code".into(), "refresh_token".into()],
                auth_method: Some(
                    match op.auth {
                        Auth::SecretBasic => "client_secret_basic",
                        Auth::SecretPost => "client_secret_post",
                    }
                    .into(),
                ),
                ..ClientSpec::default()
            })
            .await;

        let stolen = op.refresh_as("other", &other_secret.unwrap(), &refresh_token).await;
        assert_eq!(stolen.status, StatusCode::BAD_REQUEST, "[{:?}] {}", op.auth, stolen.json);
        assert_eq!(stolen.error(), "invalid_grant");

        op.app.clock.advance(5);
        let refreshed = op.refresh_as(CLIENT_ID, &op.secret, &refresh_token).await;
        assert_eq!(refreshed.status, StatusCode::OK, "[{:?}] the refresh works: {}", op.auth, refreshed.json);
        assert_ne!(refreshed.str("access_token"), first.str("access_token"), "a new access token");
        op.userinfo(&refreshed).await;
        let renewed = op.app.services.keys.verify(refreshed.str("id_token")).expect("the new ID token verifies");
        for claim in ["iss", "sub", "aud", "auth_time"] {
            assert_eq!(renewed[claim], original[claim], "[{:?}] {claim} is kept on refresh", op.auth);
        }
        assert!(renewed["iat"].as_i64() > original["iat"].as_i64(), "a new iat");
    })
    .await;
}

async fn get_userinfo_status(op: &Op, access_token: &str) -> StatusCode {
    machine().get(op.app.url("/userinfo")).bearer_auth(access_token).send().await.unwrap().status()
}

#[tokio::test]
async fn oidcc_ensure_registered_redirect_uri() {
    // oidcc-ensure-registered-redirect-uri: a redirect_uri that is not registered: the OP shows
    // an error page and MUST NOT redirect (Core §3.1.2.1 exact match, RFC 6749 §4.1.2.1).
    each_auth_method(|op| async move {
        let request = op.request("openid").with("redirect_uri", "https://rp.example/not-registered");

        let page = op.open(&request).await;

        assert!(page.location().is_none(), "redirected to {:?}", page.location());
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
        assert!(page.body.contains("invalid_redirect_uri"), "an error page: {}", page.body);
    })
    .await;
}

#[tokio::test]
async fn oidcc_ensure_request_with_valid_pkce_succeeds() {
    // oidcc-ensure-request-with-valid-pkce-succeeds: a request with an S256 code_challenge and
    // the matching code_verifier at the token endpoint succeeds (RFC 7636 §4.6).
    each_auth_method(|op| async move {
        let request = AuthorizeRequest::new(CLIENT_ID, RP_CALLBACK);
        let code = op.code(&request).await;

        let tokens = op.exchange(&code, Some(&request.verifier)).await;

        assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.json);
        op.id_token(&tokens, Some("nonce-5678"));
    })
    .await;
}
