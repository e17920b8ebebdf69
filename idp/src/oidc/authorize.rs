//! The authorization endpoint (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2): validates the
//! request, keeps it in the ephemeral store while the user signs in and consents, and ends with
//! a redirect carrying a code or an error. An unknown client or an unregistered redirect URI is
//! shown as a page and NEVER redirected to (RFC 6749 §4.1.2.1, RFC 9700 §4.1).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use super::claims_request::{self, ClaimsRequest};
use super::params::{ParamError, Params};
use super::pending_limits::{self as limits, MAX_PENDING_BYTES};
use super::{OAuthError, OAuthErrorCode};
use super::{pkce, request_object, subject};
use crate::account::authorization::{self, Access};
use crate::crypto;
use crate::domain::client::AccessDenied;
use crate::domain::scope::Scopes;
use crate::domain::{Client, GrantType};
use crate::ephemeral::{self, ttl_until};
use crate::services::{InfraError, Services};
use crate::session::{self, BrowserSession};

/// What the user sees instead of a redirect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageError {
    UnknownClient,
    InvalidRedirectUri,
    /// The pending request is unknown or expired (e.g. a login page left open too long).
    RequestExpired,
    InvalidRequest(String),
    /// This address created too many pending requests in the current window (decision 0013).
    TooManyRequests,
}

/// The `prompt` parameter (OpenID Connect Core §3.1.2.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
    pub select_account: bool,
}

/// A validated authorization request waiting for the user.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuthRequest {
    pub id: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Scopes,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub ui_locales: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    /// Set when the user signed in for this very request (satisfies `prompt=login`, `max_age`).
    pub fresh_login: bool,
    /// Set when the user approved the consent page for this request (satisfies `prompt=consent`).
    pub consent_given: bool,
    /// `response_mode=form_post` (OAuth 2.0 Form Post Response Mode): answer with a page that
    /// posts to the redirect URI instead of a redirect.
    #[serde(default)]
    pub form_post: bool,
    /// The `claims` parameter (OpenID Connect Core §5.5).
    #[serde(default)]
    pub claims: ClaimsRequest,
    /// The `acr` to state in the ID token, when the client asked for one.
    #[serde(default)]
    pub acr: Option<String>,
    /// The `sub` of a verified `id_token_hint` (§3.1.2.1): the user the client expects.
    #[serde(default)]
    pub hinted_subject: Option<String>,
    /// Set when the user chose "continue as …" on the account choice (`prompt=select_account`).
    #[serde(default)]
    pub account_chosen: bool,
    /// Set once one of its pages was shown: from then on it lives `auth_request_ttl` from its
    /// creation instead of `auth_request_unanswered_ttl` (decision 0013).
    #[serde(default)]
    pub answered: bool,
}

impl AuthRequest {
    /// The scopes the user is asked to consent to: the requested ones, plus those of the claims
    /// asked for one by one (§5.5), so nothing is released that the consent page did not show.
    pub fn consent_scopes(&self) -> Scopes {
        self.scopes.union(&self.claims.implied_scopes())
    }
}

/// What an authorization code stands for; kept by the digest of the code.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CodeGrant {
    pub grant_id: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub user_id: String,
    pub scopes: Scopes,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub sid: String,
    pub expires_at: i64,
    #[serde(default)]
    pub claims: ClaimsRequest,
    #[serde(default)]
    pub acr: Option<String>,
}

#[derive(Debug)]
pub enum Outcome {
    Page(PageError),
    /// Back to the client: a code, or an error (RFC 6749 §4.1.2 / §4.1.2.1).
    Redirect(String),
    /// Back to the client by a form the browser posts (`response_mode=form_post`): the action
    /// (the redirect URI) and the fields.
    FormPost {
        action: String,
        fields: Vec<(String, String)>,
        /// Who the page is for (its theme) and in which language (issue #13).
        page_for: PageFor,
    },
    Login(Box<AuthRequest>, Box<Client>),
    Consent(Box<AuthRequest>, Box<Client>),
    /// `prompt=select_account` with a session: "continue as … / use another account".
    SelectAccount(Box<AuthRequest>, Box<Client>),
    /// The signed-in user may not use this client (`account::authorization`); the pending
    /// request is consumed. Shown as the provider's page, which needs the session (at the end
    /// of a sign-in its cookie is not in the browser's request yet).
    AccessDenied(Box<AuthRequest>, Box<Client>, Box<BrowserSession>),
}

fn request_key(id: &str) -> String {
    format!("authreq:{id}")
}

pub fn code_key(code_digest: &str) -> String {
    format!("code:{code_digest}")
}

/// Adds parameters to a redirect URI, keeping its own query (RFC 6749 §3.1.2).
pub fn redirect_with(uri: &str, pairs: &[(&str, Option<&str>)]) -> String {
    if pairs.iter().all(|(_, v)| v.is_none()) {
        // Nothing to add: the URI exactly as registered (no stray "?").
        return uri.to_owned();
    }
    match Url::parse(uri) {
        Ok(mut url) => {
            {
                let mut q = url.query_pairs_mut();
                for (k, v) in pairs {
                    if let Some(v) = v {
                        q.append_pair(k, v);
                    }
                }
            }
            url.to_string()
        }
        // Registered URIs were parsed at registration; this cannot happen for them.
        Err(_) => uri.to_owned(),
    }
}

/// The client a page shown on its behalf is themed for, and the language it asked for
/// (`ui_locales`), so that the form_post page looks like the rest of its sign-in (issue #13).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageFor {
    pub client_id: String,
    pub ui_locales: Option<String>,
}

impl PageFor {
    fn of(request: &AuthRequest) -> Self {
        PageFor { client_id: request.client_id.clone(), ui_locales: request.ui_locales.clone() }
    }
}

/// The response to the client, in the requested response mode (query or form_post).
fn to_client(redirect_uri: &str, form_post: bool, pairs: &[(&str, Option<&str>)], page_for: PageFor) -> Outcome {
    if form_post {
        let fields = pairs.iter().filter_map(|(k, v)| v.map(|v| ((*k).to_owned(), v.to_owned()))).collect();
        Outcome::FormPost { action: redirect_uri.to_owned(), fields, page_for }
    } else {
        Outcome::Redirect(redirect_with(redirect_uri, pairs))
    }
}

fn error_response(
    s: &Services,
    redirect_uri: &str,
    form_post: bool,
    state: Option<&str>,
    err: &OAuthError,
    page_for: PageFor,
) -> Outcome {
    to_client(
        redirect_uri,
        form_post,
        &[
            ("error", Some(err.code.as_str())),
            ("error_description", Some(&err.description)),
            ("state", state),
            ("iss", Some(&s.issuer)),
        ],
        page_for,
    )
}

/// Entry point for GET and POST /authorize; `ip` is the browser's address (the per-address
/// limit on pending requests).
pub async fn start(
    s: &Services,
    query: &Params,
    session: Option<&BrowserSession>,
    ip: &str,
) -> Result<Outcome, InfraError> {
    // 1. Who is asking, and where would we answer? Errors here are pages, never redirects.
    // client_id is always in the query, even with a request object (OpenID Connect Core §6.1).
    let client_id = match query.get("client_id") {
        Ok(Some(id)) => id,
        Ok(None) => return Ok(Outcome::Page(PageError::InvalidRequest("client_id is missing".into()))),
        Err(e) => return Ok(Outcome::Page(PageError::InvalidRequest(e.to_string()))),
    };
    let Some(client) = s.store.client(client_id).await? else {
        return Ok(Outcome::Page(PageError::UnknownClient));
    };
    let (merged, object_error) = with_request_object(s, query, &client).await;
    let (request, record) = match check_request(s, &merged, &client, object_error)? {
        Ok(checked) => checked,
        Err(outcome) => return Ok(outcome),
    };
    // Decision 0013: one address creates at most `pending_requests_per_ip` pending requests
    // per window.
    if !limits::admit(s, ip).await? {
        return Ok(Outcome::Page(PageError::TooManyRequests));
    }
    s.ephemeral.put(&request_key(&request.id), record, ttl_until(request.expires_at, s.now())).await?;
    decide(s, request, client, session).await
}

/// The request's parameters with its request object applied, if any: §6.3.3, a request
/// object's parameters take precedence. Its error is kept apart: it goes back to the client
/// once the redirect URI of the query is known to be registered (`check_request`).
pub async fn with_request_object(s: &Services, query: &Params, client: &Client) -> (Params, Option<OAuthError>) {
    match request_object::apply(s, query, client).await {
        Ok(Some(merged)) => (merged, None),
        Ok(None) => (query.clone(), None),
        Err(e) => (query.clone(), Some(e)),
    }
}

/// What `start` does between loading the client (and applying its request object, whose error
/// is `object_error`) and keeping the request: the redirect URI must be registered (else a
/// page), then every other error goes back to the client; `Ok(Ok(..))` is the validated request
/// and its record, at most `MAX_PENDING_BYTES` (decision 0013). Reads no store: the client is
/// already loaded (the fuzz target `authorize` calls it directly).
pub fn check_request(
    s: &Services,
    params: &Params,
    client: &Client,
    object_error: Option<OAuthError>,
) -> Result<Result<(AuthRequest, Vec<u8>), Outcome>, InfraError> {
    let redirect_uri = match params.get("redirect_uri") {
        Ok(Some(uri)) if client.has_redirect_uri(uri) => uri.to_owned(),
        _ => return Ok(Err(Outcome::Page(PageError::InvalidRedirectUri))),
    };
    // 2. From here on, errors go back to the client.
    let form_post = params.get("response_mode") == Ok(Some("form_post"));
    let page_for = PageFor {
        client_id: client.id.clone(),
        ui_locales: params.get("ui_locales").ok().flatten().map(str::to_owned),
    };
    let state = match params.get_at_most("state", limits::MAX_STATE) {
        Ok(state) => state.map(str::to_owned),
        Err(e) => {
            let err = OAuthError::invalid_request(e.to_string());
            return Ok(Err(error_response(s, &redirect_uri, form_post, None, &err, page_for.clone())));
        }
    };
    if let Some(err) = object_error {
        return Ok(Err(error_response(s, &redirect_uri, form_post, state.as_deref(), &err, page_for.clone())));
    }
    let request = match validate(s, params, client, &redirect_uri, state.clone()) {
        Ok(request) => request,
        Err(err) => {
            return Ok(Err(error_response(s, &redirect_uri, form_post, state.as_deref(), &err, page_for.clone())));
        }
    };
    // Decision 0013: one pending request costs at most MAX_PENDING_BYTES.
    let record = serde_json::to_vec(&request).map_err(|e| ephemeral::EphemeralError::Corrupt(e.to_string()))?;
    if record.len() > MAX_PENDING_BYTES {
        let err = OAuthError::invalid_request("the authorization request is too large");
        return Ok(Err(error_response(s, &redirect_uri, form_post, state.as_deref(), &err, page_for.clone())));
    }
    Ok(Ok((request, record)))
}

fn param_error(e: ParamError) -> OAuthError {
    OAuthError::invalid_request(e.to_string())
}

fn validate(
    s: &Services,
    params: &Params,
    client: &Client,
    redirect_uri: &str,
    state: Option<String>,
) -> Result<AuthRequest, OAuthError> {
    let get = |name: &str| params.get(name).map_err(param_error);
    // Values that are kept in the pending request, or parsed whole, have tighter bounds.
    let bounded = |name: &str, max: usize| params.get_at_most(name, max).map_err(param_error);
    // OpenID Connect Core §6.2: request objects by reference are not supported (discovery says
    // so); by value they were merged into `params` by `request_object::apply`.
    if get("request_uri")?.is_some() {
        return Err(OAuthError::new(OAuthErrorCode::RequestUriNotSupported, "request_uri is not supported"));
    }
    match get("response_type")? {
        None => return Err(OAuthError::invalid_request("response_type is missing")),
        Some("code") => {}
        Some(_) => {
            return Err(OAuthError::new(
                OAuthErrorCode::UnsupportedResponseType,
                "only response_type=code is supported",
            ));
        }
    }
    if !client.allows_grant(GrantType::AuthorizationCode) {
        return Err(OAuthError::new(
            OAuthErrorCode::UnauthorizedClient,
            "this client may not use the authorization code flow",
        ));
    }
    let form_post = match get("response_mode")? {
        None | Some("query") => false,
        Some("form_post") => true,
        Some(_) => return Err(OAuthError::invalid_request("only response_mode=query and form_post are supported")),
    };
    // §3.1.2.1: how to show the pages. All four get the same responsive pages.
    match get("display")? {
        None | Some("page" | "popup" | "touch" | "wap") => {}
        Some(_) => return Err(OAuthError::invalid_request("display must be page, popup, touch or wap")),
    }
    let claims = match bounded("claims", limits::MAX_CLAIMS)? {
        None => ClaimsRequest::default(),
        Some(raw) => ClaimsRequest::parse(raw)?,
    };
    let acr = claims_request::acr_for(&claims, bounded("acr_values", limits::MAX_ACR_VALUES)?)?;
    // §5.5 and §5.2: `claims_locales` is accepted; claim values here have no language variants.
    get("claims_locales")?;
    // §3.1.2.1: the hint is one of our ID tokens (signature checked, expiry ignored).
    let hinted_subject = match get("id_token_hint")? {
        None => None,
        Some(token) => match s.keys.verify(token) {
            Ok(c) if c["iss"] == s.issuer.as_str() && c["sub"].is_string() => c["sub"].as_str().map(str::to_owned),
            _ => return Err(OAuthError::invalid_request("id_token_hint is not a valid ID token of this provider")),
        },
    };
    let scopes = Scopes::parse(bounded("scope", limits::MAX_SCOPE)?.unwrap_or_default())
        .map_err(|_| OAuthError::new(OAuthErrorCode::InvalidScope, "malformed scope"))?
        .supported_only();
    if !scopes.contains("openid") {
        return Err(OAuthError::new(OAuthErrorCode::InvalidScope, "the openid scope is required"));
    }
    // RFC 7636 §4.3 and §4.4.1; plain is refused, S256 only.
    let code_challenge = match (get("code_challenge")?, get("code_challenge_method")?) {
        (None, None) => None,
        (None, Some(_)) => return Err(OAuthError::invalid_request("code_challenge_method without code_challenge")),
        (Some(_), None | Some("plain")) => {
            return Err(OAuthError::invalid_request("code_challenge_method must be S256 (plain is not accepted)"));
        }
        (Some(c), Some("S256")) if pkce::is_valid_challenge(c) => Some(c.to_owned()),
        (Some(_), Some("S256")) => return Err(OAuthError::invalid_request("malformed code_challenge")),
        (Some(_), Some(_)) => return Err(OAuthError::invalid_request("unsupported code_challenge_method")),
    };
    if client.is_public() && code_challenge.is_none() {
        // RFC 9700 §2.1.1: public clients MUST use PKCE.
        return Err(OAuthError::invalid_request("PKCE (code_challenge with S256) is required for public clients"));
    }
    let prompt = parse_prompt(get("prompt")?)?;
    let max_age = match get("max_age")? {
        None => None,
        Some(v) => Some(
            v.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| OAuthError::invalid_request("max_age must be a non-negative integer"))?,
        ),
    };
    let now = s.now();
    Ok(AuthRequest {
        id: crypto::random_token(24),
        client_id: client.id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        scopes,
        state,
        nonce: bounded("nonce", limits::MAX_NONCE)?.map(str::to_owned),
        code_challenge,
        prompt,
        max_age,
        login_hint: bounded("login_hint", limits::MAX_LOGIN_HINT)?.map(str::to_owned),
        ui_locales: bounded("ui_locales", limits::MAX_UI_LOCALES)?.map(str::to_owned),
        created_at: now,
        // Until one of its pages is shown (`pending`), decision 0013.
        expires_at: now + s.lifetimes.auth_request_unanswered,
        fresh_login: false,
        consent_given: false,
        form_post,
        claims,
        acr,
        hinted_subject,
        account_chosen: false,
        answered: false,
    })
}

fn parse_prompt(raw: Option<&str>) -> Result<Prompt, OAuthError> {
    let mut prompt = Prompt::default();
    for value in raw.unwrap_or_default().split(' ').filter(|v| !v.is_empty()) {
        match value {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            "select_account" => prompt.select_account = true,
            _ => return Err(OAuthError::invalid_request(format!("unsupported prompt value {value:?}"))),
        }
    }
    if prompt.none && (prompt.login || prompt.consent || prompt.select_account) {
        // OpenID Connect Core §3.1.2.1: none with any other value is an error.
        return Err(OAuthError::invalid_request("prompt=none cannot be combined with other values"));
    }
    Ok(prompt)
}

/// Loads a pending request for one of its pages (login, consent, account choice, the
/// first-login steps and recoveries started from its login page); `None` when unknown or
/// expired. The first load marks it answered: it then lives `auth_request_ttl` from its
/// creation (decision 0013).
pub async fn pending(s: &Services, request_id: &str) -> Result<Option<(AuthRequest, Client)>, InfraError> {
    if request_id.is_empty() || request_id.len() > 64 {
        return Ok(None);
    }
    let request: Option<AuthRequest> = ephemeral::get_json(s.ephemeral.as_ref(), &request_key(request_id)).await?;
    let Some(mut request) = request.filter(|r| r.expires_at > s.now()) else {
        return Ok(None);
    };
    if !request.answered {
        // The record as `start` wrote it: rewriting it can at worst bring back, next to a
        // concurrent `take`, that initial state, which its /authorize URL recreates anyway.
        request.answered = true;
        request.expires_at = request.created_at + s.lifetimes.auth_request;
        save(s, &request).await?;
    }
    Ok(s.store.client(&request.client_id).await?.map(|client| (request, client)))
}

/// After the login page: the user signed in (`session` is the new one).
pub async fn resume_after_login(
    s: &Services,
    request_id: &str,
    session: &BrowserSession,
) -> Result<Outcome, InfraError> {
    let Some((mut request, client)) = pending(s, request_id).await? else {
        return Ok(Outcome::Page(PageError::RequestExpired));
    };
    request.fresh_login = true;
    save(s, &request).await?;
    decide(s, request, client, Some(session)).await
}

/// After the consent page.
pub async fn resume_after_consent(
    s: &Services,
    request_id: &str,
    session: Option<&BrowserSession>,
    approved: bool,
) -> Result<Outcome, InfraError> {
    let Some((mut request, client)) = pending(s, request_id).await? else {
        return Ok(Outcome::Page(PageError::RequestExpired));
    };
    let Some(session) = session else {
        return decide(s, request, client, None).await;
    };
    if !approved {
        s.ephemeral.delete(&request_key(&request.id)).await?;
        let err = OAuthError::new(OAuthErrorCode::AccessDenied, "the user refused");
        return Ok(error_response(
            s,
            &request.redirect_uri,
            request.form_post,
            request.state.as_deref(),
            &err,
            PageFor::of(&request),
        ));
    }
    s.store.save_consent(&session.user_id, &client.id, &request.consent_scopes(), s.now()).await?;
    request.consent_given = true;
    save(s, &request).await?;
    decide(s, request, client, Some(session)).await
}

async fn save(s: &Services, request: &AuthRequest) -> Result<(), InfraError> {
    ephemeral::put_json(
        s.ephemeral.as_ref(),
        &request_key(&request.id),
        request,
        ttl_until(request.expires_at, s.now()),
    )
    .await?;
    Ok(())
}

/// Sign-in needed? Consent needed? Otherwise issue the code.
async fn decide(
    s: &Services,
    request: AuthRequest,
    client: Client,
    session: Option<&BrowserSession>,
) -> Result<Outcome, InfraError> {
    let now = s.now();
    let user = match session {
        Some(sess) => s.store.user_by_id(&sess.user_id).await?.filter(|u| !u.disabled).map(|u| (sess, u)),
        None => None,
    };
    // §3.1.2.1: a hint naming someone else than the signed-in user means signing in again.
    let hint_mismatch = match (&user, &request.hinted_subject) {
        (Some((_, u)), Some(hinted)) => &subject::for_client(s, &u.id, &client).await? != hinted,
        _ => false,
    };
    // OpenID Connect Core §3.1.2.1: "max_age=0 is equivalent to prompt=login". Times are whole
    // seconds, so an elapsed time equal to max_age counts as too old: a sign-in 1.4 s ago must
    // not pass max_age=1 because it rounds down to 1.
    let needs_login = match &user {
        None => true,
        Some((sess, _)) => {
            !request.fresh_login
                && (request.prompt.login
                    || hint_mismatch
                    || request.max_age.is_some_and(|max| now - sess.auth_time >= max))
        }
    };
    if needs_login {
        if request.prompt.none {
            return finish_with_error(s, &request, OAuthErrorCode::LoginRequired, "the user is not signed in").await;
        }
        return Ok(Outcome::Login(Box::new(request), Box::new(client)));
    }
    let Some((sess, user)) = user else {
        return Ok(Outcome::Page(PageError::RequestExpired));
    };
    // Issue #11: the per-application gate, at the end of a sign-in and on every authorization
    // riding a session. RFC 6749 §4.1.2.1 `access_denied` to the client under prompt=none
    // (§3.1.2.6: no page may be shown) or when the client explains refusals itself.
    if authorization::check(s, &user, &client).await? == Access::Denied {
        if request.prompt.none || client.settings.access_denied == AccessDenied::Redirect {
            let description = "the user is not allowed to sign in to this application";
            return finish_with_error(s, &request, OAuthErrorCode::AccessDenied, description).await;
        }
        s.ephemeral.delete(&request_key(&request.id)).await?;
        return Ok(Outcome::AccessDenied(Box::new(request), Box::new(client), Box::new(sess.clone())));
    }
    // §3.1.2.1 select_account: the user confirms the account of the session, or picks another
    // (which goes through the login page and so sets `fresh_login`).
    if request.prompt.select_account && !request.fresh_login && !request.account_chosen {
        return Ok(Outcome::SelectAccount(Box::new(request), Box::new(client)));
    }
    let needs_consent = !client.first_party
        && !request.consent_given
        && (request.prompt.consent
            || !s
                .store
                .consent(&user.id, &client.id)
                .await?
                .is_some_and(|granted| request.consent_scopes().is_subset_of(&granted)));
    if needs_consent {
        if request.prompt.none {
            return finish_with_error(s, &request, OAuthErrorCode::ConsentRequired, "the user has not consented").await;
        }
        return Ok(Outcome::Consent(Box::new(request), Box::new(client)));
    }
    // Single use of the pending request: a replayed consent or login form finds nothing.
    if s.ephemeral.take(&request_key(&request.id)).await?.is_none() {
        return Ok(Outcome::Page(PageError::RequestExpired));
    }
    let code = crypto::random_token(32);
    let grant = CodeGrant {
        grant_id: crypto::random_token(16),
        client_id: client.id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        user_id: user.id.clone(),
        scopes: request.scopes.clone(),
        nonce: request.nonce.clone(),
        code_challenge: request.code_challenge.clone(),
        auth_time: sess.auth_time,
        amr: sess.amr.clone(),
        sid: sess.sid.clone(),
        expires_at: now + s.lifetimes.code,
        claims: request.claims.clone(),
        acr: request.acr.clone(),
    };
    ephemeral::put_json(
        s.ephemeral.as_ref(),
        &code_key(&crypto::digest(&code)),
        &grant,
        Duration::from_secs(s.lifetimes.code as u64),
    )
    .await?;
    session::remember_client(s, sess, &client.id).await?;
    Ok(to_client(
        &request.redirect_uri,
        request.form_post,
        &[("code", Some(&code)), ("state", request.state.as_deref()), ("iss", Some(&s.issuer))],
        PageFor::of(&request),
    ))
}

/// After the account choice page (`prompt=select_account`): continue with the signed-in
/// account, or sign in with another one.
pub async fn resume_after_account_choice(
    s: &Services,
    request_id: &str,
    session: Option<&BrowserSession>,
    keep_account: bool,
) -> Result<Outcome, InfraError> {
    let Some((mut request, client)) = pending(s, request_id).await? else {
        return Ok(Outcome::Page(PageError::RequestExpired));
    };
    if !keep_account || session.is_none() {
        return Ok(Outcome::Login(Box::new(request), Box::new(client)));
    }
    request.account_chosen = true;
    save(s, &request).await?;
    decide(s, request, client, session).await
}

async fn finish_with_error(
    s: &Services,
    request: &AuthRequest,
    code: OAuthErrorCode,
    description: &str,
) -> Result<Outcome, InfraError> {
    s.ephemeral.delete(&request_key(&request.id)).await?;
    let err = OAuthError::new(code, description);
    Ok(error_response(
        s,
        &request.redirect_uri,
        request.form_post,
        request.state.as_deref(),
        &err,
        PageFor::of(request),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_keep_the_registered_query_and_encode_values() {
        let url = redirect_with("https://rp.example/cb?x=1", &[("code", Some("a b")), ("state", None)]);
        assert_eq!(url, "https://rp.example/cb?x=1&code=a+b");
    }

    #[test]
    fn a_redirect_with_nothing_to_add_is_the_uri_as_registered() {
        assert_eq!(redirect_with("https://rp.example/bye", &[("state", None)]), "https://rp.example/bye");
    }

    #[test]
    fn prompt_none_cannot_be_combined() {
        assert!(parse_prompt(Some("none login")).is_err());
        assert!(parse_prompt(Some("bogus")).is_err());
        let p = parse_prompt(Some("login consent")).unwrap();
        assert!(p.login && p.consent && !p.none);
    }
}
