//! Example relying party: a small axum web app that signs users in through an
//! OpenID Connect provider with the `openidconnect` crate (authorization code
//! flow, PKCE S256, nonce, RFC 9207 `iss` check, UserInfo, RP-initiated logout).
//!
//! This file holds the configuration ([`Config`]), the OIDC client built from
//! discovery, the in-memory session store and the route handlers. HTML lives
//! in `pages.rs`; the binary (`main.rs`) only reads the environment and serves.
//!
//! The IdP's end-to-end tests spawn this app in-process through [`router`].

mod pages;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClientAuthMethod,
    CoreErrorResponseType, CoreGenderClaim, CoreGrantType, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm, CoreResponseMode, CoreResponseType, CoreRevocableToken,
    CoreRevocationErrorResponse, CoreSubjectIdentifierType, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::url::Url;
use openidconnect::{
    AccessTokenHash, AdditionalClaims, AdditionalProviderMetadata, AuthorizationCode, Client, ClientId, ClientSecret,
    CsrfToken, EmptyExtraTokenFields, EndSessionUrl, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdToken,
    IdTokenFields, IssuerUrl, JsonWebKey, LogoutRequest, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, PostLogoutRedirectUrl, ProviderMetadata, RedirectUrl, RequestTokenError, Scope,
    StandardErrorResponse, StandardTokenResponse, SubjectIdentifier, TokenResponse, UserInfoClaims,
};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Client id used when `DEMO_RP_CLIENT_ID` is not set.
pub const DEFAULT_CLIENT_ID: &str = "demo-rp";
/// Issuer used when `DEMO_RP_ISSUER` is not set: the IdP's `serve --demo` address.
pub const DEFAULT_ISSUER: &str = "http://127.0.0.1:8080";
/// Base URL used when `DEMO_RP_BASE_URL` is not set.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:9090";

/// Name of the cookie holding the random session key. Prefixed because the
/// IdP and this RP usually both run on 127.0.0.1, and browsers do not
/// separate cookies by port.
const SESSION_COOKIE: &str = "demo_rp_session";
/// A login must come back from the IdP within this delay.
const PENDING_LOGIN_TTL: Duration = Duration::from_secs(10 * 60);
/// Local sessions are forgotten after this delay.
const SESSION_TTL: Duration = Duration::from_secs(8 * 60 * 60);
/// Bound on the in-memory store, so that hammering `/login` cannot grow it
/// without limit; the oldest entry is evicted beyond this.
const MAX_SESSIONS: usize = 10_000;
/// Timeout for each back-channel request to the IdP (discovery, token, UserInfo).
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Configuration of the relying party.
#[derive(Clone)]
pub struct Config {
    /// Issuer identifier of the provider, compared byte for byte with the
    /// discovery document's `issuer`, e.g. `http://127.0.0.1:8080`.
    pub issuer: String,
    /// Client id registered at the provider, [`DEFAULT_CLIENT_ID`] by default.
    pub client_id: String,
    /// `None` makes this a public client (token endpoint auth method `none`,
    /// PKCE only); `Some` uses `client_secret_basic` (PKCE is still sent).
    pub client_secret: Option<String>,
    /// Where this RP is reachable, e.g. `http://127.0.0.1:9090`. The redirect
    /// URI is `base_url + "/callback"`, the post-logout redirect URI `base_url + "/"`.
    pub base_url: String,
    /// Scopes requested besides `openid` (which is always requested).
    pub scopes: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            issuer: DEFAULT_ISSUER.to_owned(),
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            client_secret: None,
            base_url: DEFAULT_BASE_URL.to_owned(),
            scopes: vec!["profile".to_owned(), "email".to_owned()],
        }
    }
}

// Hand-written so that the secret never ends up in logs.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url)
            .field("scopes", &self.scopes)
            .finish()
    }
}

impl Config {
    /// Reads `DEMO_RP_ISSUER`, `DEMO_RP_CLIENT_ID`, `DEMO_RP_CLIENT_SECRET`,
    /// `DEMO_RP_BASE_URL` and `DEMO_RP_SCOPES` (space separated); unset or
    /// empty variables keep the defaults (no secret: public client).
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        // Empty counts as unset so that `DEMO_RP_CLIENT_SECRET=` in a shell
        // or compose file gives a public client rather than an empty secret.
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let defaults = Config::default();
        Config {
            issuer: get("DEMO_RP_ISSUER").unwrap_or(defaults.issuer),
            client_id: get("DEMO_RP_CLIENT_ID").unwrap_or(defaults.client_id),
            client_secret: get("DEMO_RP_CLIENT_SECRET"),
            base_url: get("DEMO_RP_BASE_URL").unwrap_or(defaults.base_url),
            scopes: get("DEMO_RP_SCOPES")
                .map(|s| s.split_whitespace().map(str::to_owned).collect())
                .unwrap_or(defaults.scopes),
        }
    }

    /// The redirect URI to register at the provider: `base_url + "/callback"`.
    pub fn redirect_uri(&self) -> String {
        format!("{}/callback", self.base_url.trim_end_matches('/'))
    }

    /// The post-logout redirect URI to register at the provider: `base_url + "/"`.
    pub fn post_logout_redirect_uri(&self) -> String {
        format!("{}/", self.base_url.trim_end_matches('/'))
    }
}

/// Claims beyond those `openidconnect` models (`sid`, custom claims...).
/// The crate drops unknown claims with its `EmptyAdditionalClaims`; this
/// catch-all keeps them so the home page shows everything the IdP sent.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
struct OtherClaims {
    #[serde(flatten)]
    claims: serde_json::Map<String, Value>,
}
impl AdditionalClaims for OtherClaims {}

/// Discovery fields beyond OpenID Connect Discovery 1.0 that this RP uses.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct ExtraProviderMetadata {
    /// RP-Initiated Logout 1.0.
    end_session_endpoint: Option<EndSessionUrl>,
    /// RFC 9207: when true, a missing `iss` on the callback is an error.
    authorization_response_iss_parameter_supported: Option<bool>,
}
impl AdditionalProviderMetadata for ExtraProviderMetadata {}

type ProviderMetadataExt = ProviderMetadata<
    ExtraProviderMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

type DemoIdToken = IdToken<OtherClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;

type DemoTokenResponse = StandardTokenResponse<
    IdTokenFields<
        OtherClaims,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;

/// `CoreClient` with [`OtherClaims`], in the endpoint state that
/// `from_provider_metadata` produces (token and UserInfo endpoints optional).
type DemoClient = Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    DemoTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// What is kept server-side between `/login` and `/callback`.
struct PendingLogin {
    state: CsrfToken,
    nonce: Nonce,
    pkce_verifier: PkceCodeVerifier,
    created: Instant,
}

/// What is kept server-side once signed in, as received at callback time.
struct SignedIn {
    id_token: DemoIdToken,
    claims: Value,
    userinfo: Option<Value>,
    created: Instant,
}

enum Session {
    Pending(PendingLogin),
    // Boxed: a parsed ID token is large, pending logins are small.
    SignedIn(Box<SignedIn>),
}

impl Session {
    fn created(&self) -> Instant {
        match self {
            Session::Pending(p) => p.created,
            Session::SignedIn(s) => s.created,
        }
    }

    fn expired(&self, now: Instant) -> bool {
        let ttl = match self {
            Session::Pending(_) => PENDING_LOGIN_TTL,
            Session::SignedIn(_) => SESSION_TTL,
        };
        now.duration_since(self.created()) > ttl
    }
}

/// Shared state of one router instance.
struct App {
    client: DemoClient,
    http: reqwest::Client,
    issuer: IssuerUrl,
    client_id: ClientId,
    client_secret: Option<ClientSecret>,
    scopes: Vec<Scope>,
    redirect_uri: String,
    post_logout_redirect_uri: PostLogoutRedirectUrl,
    end_session_endpoint: Option<EndSessionUrl>,
    iss_parameter_required: bool,
    secure_cookie: bool,
    sessions: Mutex<HashMap<String, Session>>,
}

/// Builds the RP's router. Performs OpenID Connect discovery (and fetches the
/// JWKS) once, here: the IdP must already be serving its discovery document.
pub async fn router(config: Config) -> anyhow::Result<Router> {
    let issuer =
        IssuerUrl::new(config.issuer.clone()).with_context(|| format!("invalid issuer URL {:?}", config.issuer))?;
    let redirect_uri =
        RedirectUrl::new(config.redirect_uri()).with_context(|| format!("invalid base URL {:?}", config.base_url))?;
    let post_logout_redirect_uri = PostLogoutRedirectUrl::new(config.post_logout_redirect_uri())
        .with_context(|| format!("invalid base URL {:?}", config.base_url))?;

    // Redirects are not followed: an attacker-influenced URL in discovery
    // metadata could otherwise bounce back-channel requests anywhere (SSRF).
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(HTTP_TIMEOUT)
        .build()
        .context("cannot build the HTTP client")?;

    let metadata = ProviderMetadataExt::discover_async(issuer.clone(), &http)
        .await
        .map_err(|err| anyhow::anyhow!(error_chain(&err)))
        .with_context(|| format!("OpenID Connect discovery failed for issuer {issuer}"))?;
    let extra = metadata.additional_metadata().clone();

    let client_id = ClientId::new(config.client_id.clone());
    let client_secret = config.client_secret.clone().map(ClientSecret::new);
    // With a secret, the oauth2 crate authenticates with client_secret_basic
    // (its default); without one it sends client_id in the body (auth method none).
    let client = DemoClient::from_provider_metadata(metadata, client_id.clone(), client_secret.clone())
        .set_redirect_uri(redirect_uri);

    let scopes = config
        .scopes
        .iter()
        // `openid` is added by the crate itself; listing it twice would be sloppy.
        .filter(|s| s.as_str() != "openid")
        .map(|s| Scope::new(s.clone()))
        .collect();

    let app = App {
        client,
        http,
        issuer,
        client_id,
        client_secret,
        scopes,
        redirect_uri: config.redirect_uri(),
        post_logout_redirect_uri,
        end_session_endpoint: extra.end_session_endpoint,
        iss_parameter_required: extra.authorization_response_iss_parameter_supported.unwrap_or(false),
        secure_cookie: config.base_url.starts_with("https://"),
        sessions: Mutex::new(HashMap::new()),
    };

    Ok(Router::new()
        .route("/", get(home))
        .route("/login", get(login))
        .route("/callback", get(callback))
        .route("/logout", get(logout))
        .route("/health", get(health))
        .route("/style.css", get(style))
        .fallback(not_found)
        .with_state(Arc::new(app)))
}

impl App {
    fn sessions(&self) -> MutexGuard<'_, HashMap<String, Session>> {
        // The lock is never held across code that can panic, so a poisoned
        // map is still consistent: keep serving rather than failing forever.
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores `session` under a fresh random key and returns the key.
    fn insert_session(&self, session: Session) -> String {
        let key = random_key();
        let mut sessions = self.sessions();
        let now = Instant::now();
        sessions.retain(|_, s| !s.expired(now));
        if sessions.len() >= MAX_SESSIONS {
            let oldest = sessions.iter().min_by_key(|(_, s)| s.created()).map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                sessions.remove(&oldest);
            }
        }
        sessions.insert(key.clone(), session);
        key
    }

    /// Removes and returns the pending login under `key`, if that is what it
    /// holds and it has not expired: a login attempt can be completed once.
    fn take_pending(&self, key: &str) -> Option<PendingLogin> {
        let mut sessions = self.sessions();
        if !matches!(sessions.get(key), Some(Session::Pending(_))) {
            // Leave a signed-in session alone (e.g. the back button hit /callback).
            return None;
        }
        match sessions.remove(key) {
            Some(Session::Pending(p)) if p.created.elapsed() <= PENDING_LOGIN_TTL => Some(p),
            _ => None,
        }
    }

    fn session_cookie(&self, key: &str) -> Result<HeaderValue, PageError> {
        HeaderValue::try_from(format!("{SESSION_COOKIE}={key}; Path=/; HttpOnly; SameSite=Lax{}", self.secure_suffix()))
            .map_err(|err| PageError::internal(err.to_string()))
    }

    fn clear_cookie(&self) -> Result<HeaderValue, PageError> {
        HeaderValue::try_from(format!(
            "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
            self.secure_suffix()
        ))
        .map_err(|err| PageError::internal(err.to_string()))
    }

    fn secure_suffix(&self) -> &'static str {
        // Only over https: a Secure cookie would never come back over plain
        // http://127.0.0.1 in local demos.
        if self.secure_cookie { "; Secure" } else { "" }
    }
}

/// An error shown to the user as a small HTML page (and logged).
#[derive(Debug)]
struct PageError {
    status: StatusCode,
    /// Fixed bilingual title, "français / English".
    title: &'static str,
    detail: String,
}

impl PageError {
    fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Self {
        PageError { status, title, detail: detail.into() }
    }

    fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Requête invalide / Invalid request", detail)
    }

    /// The IdP answered a back-channel request with something unusable.
    fn bad_gateway(title: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_GATEWAY, title, detail)
    }

    fn internal(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Erreur interne / Internal error", detail)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        tracing::warn!(status = %self.status, title = self.title, detail = %self.detail, "request failed");
        pages::error(self.status, self.title, &self.detail)
    }
}

async fn home(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    // Copy what the page needs so the lock is released before rendering.
    let signed_in = session_key(&headers).and_then(|key| match app.sessions().get(key) {
        Some(Session::SignedIn(s)) if s.created.elapsed() <= SESSION_TTL => {
            Some((s.claims.clone(), s.userinfo.clone(), s.id_token.to_string()))
        }
        _ => None,
    });
    match signed_in {
        Some((claims, userinfo, id_token)) => pages::signed_in(&claims, userinfo.as_ref(), &id_token),
        None => pages::signed_out(&pages::SignedOutInfo {
            issuer: app.issuer.as_str(),
            client_id: app.client_id.as_str(),
            redirect_uri: &app.redirect_uri,
            post_logout_redirect_uri: app.post_logout_redirect_uri.as_str(),
            confidential: app.client_secret.is_some(),
        }),
    }
}

async fn login(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Response, PageError> {
    // PKCE is used even by confidential clients: it also binds the code to
    // this browser session, which a client secret alone does not.
    let (pkce_challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, state, nonce) = app
        .client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scopes(app.scopes.iter().cloned())
        .set_pkce_challenge(pkce_challenge)
        .url();

    // A new login replaces whatever this browser had before.
    if let Some(old) = session_key(&headers) {
        app.sessions().remove(old);
    }
    let key =
        app.insert_session(Session::Pending(PendingLogin { state, nonce, pkce_verifier, created: Instant::now() }));
    see_other(auth_url.as_str(), Some(app.session_cookie(&key)?))
}

/// Query parameters of the authorization response (RFC 6749 4.1.2, RFC 9207).
#[derive(Debug, Deserialize)]
struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    query: Result<Query<CallbackParams>, QueryRejection>,
) -> Result<Response, PageError> {
    let Query(params) = query.map_err(|err| PageError::bad_request(err.body_text()))?;

    let pending = session_key(&headers).and_then(|key| app.take_pending(key)).ok_or_else(|| {
        PageError::bad_request(
            "Aucune connexion en cours pour ce navigateur, ou elle a expiré. \
                 / No sign-in in progress for this browser, or it expired.",
        )
    })?;

    // The state ties this response to the /login of this browser (CSRF).
    if params.state.as_deref() != Some(pending.state.secret().as_str()) {
        return Err(PageError::bad_request(
            "Le paramètre state ne correspond pas. / The state parameter does not match.",
        ));
    }

    // RFC 9207: reject responses minted by another issuer (mix-up attacks),
    // before even looking at errors or codes.
    check_iss(params.iss.as_deref(), app.issuer.as_str(), app.iss_parameter_required)
        .map_err(PageError::bad_request)?;

    if let Some(error) = params.error {
        let detail = match params.error_description {
            Some(description) => format!("{error}: {description}"),
            None => error,
        };
        return Err(PageError::new(
            StatusCode::BAD_REQUEST,
            "Le fournisseur d’identité a refusé la connexion / The identity provider returned an error",
            detail,
        ));
    }
    let code = params.code.ok_or_else(|| PageError::bad_request("Paramètre code absent. / Missing code parameter."))?;

    const TOKEN_FAILED: &str = "Échec de l’échange du code / Token exchange failed";
    let token_response = app
        .client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|err| PageError::bad_gateway(TOKEN_FAILED, err.to_string()))?
        .set_pkce_verifier(pending.pkce_verifier)
        .request_async(&app.http)
        .await
        .map_err(|err| PageError::bad_gateway(TOKEN_FAILED, token_error_detail(&err)))?;

    let (id_token, claims, subject) = verify_id_token(&app, &token_response, &pending.nonce)?;

    const USERINFO_FAILED: &str = "Échec de l’appel UserInfo / UserInfo request failed";
    let userinfo = if app.client.user_info_url().is_some() {
        // Passing the ID token's subject makes the crate check that UserInfo
        // describes the same user (OIDC Core 5.3.2).
        let userinfo: UserInfoClaims<OtherClaims, CoreGenderClaim> = app
            .client
            .user_info(token_response.access_token().clone(), Some(subject.clone()))
            .map_err(|err| PageError::bad_gateway(USERINFO_FAILED, err.to_string()))?
            .request_async(&app.http)
            .await
            .map_err(|err| PageError::bad_gateway(USERINFO_FAILED, error_chain(&err)))?;
        Some(serde_json::to_value(&userinfo).map_err(|err| PageError::internal(err.to_string()))?)
    } else {
        None
    };

    tracing::info!(sub = %subject.as_str(), "user signed in");
    // A fresh key after authentication, so a key planted before login
    // (session fixation) never becomes a signed-in session.
    let key = app.insert_session(Session::SignedIn(Box::new(SignedIn {
        id_token,
        claims,
        userinfo,
        created: Instant::now(),
    })));
    see_other("/", Some(app.session_cookie(&key)?))
}

/// Verifies the ID token (signature, issuer, audience, expiry, nonce) and its
/// `at_hash` if present; returns the token, its claims as JSON and its subject.
fn verify_id_token(
    app: &App,
    token_response: &DemoTokenResponse,
    nonce: &Nonce,
) -> Result<(DemoIdToken, Value, SubjectIdentifier), PageError> {
    const INVALID: &str = "Jeton d’identité invalide / Invalid ID token";
    let id_token = token_response
        .id_token()
        .ok_or_else(|| PageError::bad_gateway(INVALID, "The token response has no id_token."))?;
    let verifier = app.client.id_token_verifier();
    let claims = id_token.claims(&verifier, nonce).map_err(|err| PageError::bad_gateway(INVALID, error_chain(&err)))?;

    // at_hash binds the access token to the ID token: without this check a
    // substituted access token would go unnoticed (OIDC Core 3.1.3.8).
    if let Some(expected) = claims.access_token_hash() {
        let alg = id_token.signing_alg().map_err(|err| PageError::bad_gateway(INVALID, error_chain(&err)))?;
        let key = match id_token.signing_key(&verifier) {
            Ok(key) => key.clone(),
            // HMAC-signed tokens are keyed by the client secret, which is not in the JWKS.
            Err(_) if is_hmac(alg) && app.client_secret.is_some() => {
                let secret = app.client_secret.as_ref().map(|s| s.secret().as_bytes().to_vec());
                CoreJsonWebKey::new_symmetric(secret.unwrap_or_default())
            }
            Err(err) => return Err(PageError::bad_gateway(INVALID, error_chain(&err))),
        };
        let actual = AccessTokenHash::from_token(token_response.access_token(), alg, &key)
            .map_err(|err| PageError::bad_gateway(INVALID, error_chain(&err)))?;
        if actual != *expected {
            return Err(PageError::bad_gateway(INVALID, "at_hash does not match the access token."));
        }
    }

    let subject = claims.subject().clone();
    let json = serde_json::to_value(claims).map_err(|err| PageError::internal(err.to_string()))?;
    Ok((id_token.clone(), json, subject))
}

fn is_hmac(alg: &CoreJwsSigningAlgorithm) -> bool {
    matches!(
        alg,
        CoreJwsSigningAlgorithm::HmacSha256 | CoreJwsSigningAlgorithm::HmacSha384 | CoreJwsSigningAlgorithm::HmacSha512
    )
}

async fn logout(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Response, PageError> {
    let removed = session_key(&headers).and_then(|key| app.sessions().remove(key));
    let location = match (removed, &app.end_session_endpoint) {
        (Some(Session::SignedIn(session)), Some(endpoint)) => end_session_url(
            endpoint,
            &session.id_token,
            &app.client_id,
            &app.post_logout_redirect_uri,
            // The IdP echoes state back to `/`, which has nothing left to
            // protect once the session is gone, so it is sent but not checked.
            CsrfToken::new_random(),
        )
        .to_string(),
        _ => "/".to_owned(),
    };
    see_other(&location, Some(app.clear_cookie()?))
}

async fn health() -> &'static str {
    "ok"
}

async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")], pages::STYLE)
        .into_response()
}

async fn not_found() -> PageError {
    PageError::new(
        StatusCode::NOT_FOUND,
        "Page introuvable / Page not found",
        "Cette adresse n’existe pas. / This address does not exist.",
    )
}

/// The RP-Initiated Logout URL: the end session endpoint (keeping any query
/// it already has) plus `id_token_hint`, `client_id`, `post_logout_redirect_uri`
/// and `state`.
fn end_session_url(
    endpoint: &EndSessionUrl,
    id_token: &DemoIdToken,
    client_id: &ClientId,
    post_logout_redirect_uri: &PostLogoutRedirectUrl,
    state: CsrfToken,
) -> Url {
    LogoutRequest::from(endpoint.clone())
        .set_id_token_hint(id_token)
        .set_client_id(client_id.clone())
        .set_post_logout_redirect_uri(post_logout_redirect_uri.clone())
        .set_state(state)
        .http_get_url()
}

/// RFC 9207 check of the authorization response's `iss` parameter.
fn check_iss(iss: Option<&str>, issuer: &str, required: bool) -> Result<(), String> {
    match iss {
        Some(iss) if iss == issuer => Ok(()),
        Some(iss) => Err(format!(
            "Le paramètre iss ({iss}) n’est pas l’émetteur attendu ({issuer}). \
             / The iss parameter ({iss}) is not the expected issuer ({issuer})."
        )),
        None if required => Err("Paramètre iss absent alors que le fournisseur l’annonce (RFC 9207). \
             / Missing iss parameter although the provider advertises it (RFC 9207)."
            .to_owned()),
        None => Ok(()),
    }
}

/// A 303 redirect, optionally setting a cookie. Built by hand because
/// `axum::response::Redirect` panics on a location that is not a valid header.
fn see_other(location: &str, cookie: Option<HeaderValue>) -> Result<Response, PageError> {
    let location = HeaderValue::try_from(location)
        .map_err(|err| PageError::internal(format!("invalid redirect location: {err}")))?;
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
    if let Some(cookie) = cookie {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The value of the session cookie in the request, if any.
fn session_key(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| value)
}

/// 256 random bits, hex encoded: an unguessable session key.
fn random_key() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Details of a failed token request, including what the IdP sent back.
fn token_error_detail<RE: std::error::Error + 'static>(
    err: &RequestTokenError<RE, StandardErrorResponse<CoreErrorResponseType>>,
) -> String {
    match err {
        RequestTokenError::ServerResponse(response) => {
            let mut detail = response.error().to_string();
            if let Some(description) = response.error_description() {
                detail.push_str(": ");
                detail.push_str(description);
            }
            detail
        }
        RequestTokenError::Parse(parse_err, body) => {
            format!("unparsable token response ({parse_err}): {}", String::from_utf8_lossy(body))
        }
        other => error_chain(other),
    }
}

/// An error and its sources on one line, `outer: inner: innermost`.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

#[cfg(test)]
mod tests;
