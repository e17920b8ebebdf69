//! The account space (/account) is a relying party of this very provider: it signs in through
//! /authorize and the login page like any client (public client, PKCE S256, state, nonce), then
//! exchanges the code with the same token flow the /token endpoint runs, verifies the ID token
//! (signature, issuer, audience, nonce) and reads the user through the userinfo flow. The only
//! difference from an external client is that the back-channel calls stay in-process.
//!
//! It sits above the protocols, next to `web` (issue #11, decision 0016): a relying party needs
//! `oidc`, and `account/` imports no protocol. Its pages are `web::handlers::account`; the
//! flows behind them (password change, sessions) are `account::self_service`.
//!
//! The administration console (/admin, issue #12) is a second first-party application that
//! signs in exactly the same way: each is a `Space` (its own client, callback, and session
//! records), so an account session never opens the console and the other way round.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::crypto::{self, b64url, sha256};
use crate::domain::{AuthMethod, Client, GrantType, RedirectUri, Secret, SigningAlg, User};
use crate::ephemeral::{self, ttl_until};
use crate::oidc::authorize::redirect_with;
use crate::oidc::params::Params;
use crate::oidc::token_request::CodeExchange;
use crate::oidc::{token, userinfo};
use crate::services::{InfraError, Services};
use crate::session::{self, BrowserSession};

/// The account space's own client id (defined with the clients, so that `account::self_service`
/// can name it in the audit without importing this module).
pub const CLIENT_ID: &str = crate::domain::client::ACCOUNT_SPACE_CLIENT_ID;

/// A first-party application of the provider: its client, the path it lives under (its
/// callback is `<path>/callback`) and the prefix of its records in the ephemeral store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Space {
    pub client_id: &'static str,
    pub name: &'static str,
    pub path: &'static str,
    key: &'static str,
}

/// /account.
pub const ACCOUNT: Space = Space { client_id: CLIENT_ID, name: "Mon compte", path: "/account", key: "acct" };

/// /admin, the administration console (issue #12).
pub const ADMIN_CONSOLE: Space = Space {
    client_id: crate::domain::client::ADMIN_CONSOLE_CLIENT_ID,
    name: "Console d’administration",
    path: "/admin",
    key: "admin",
};

impl Space {
    fn callback(&self, s: &Services) -> String {
        s.endpoint(&format!("{}/callback", self.path))
    }

    fn pending_key(&self, state: &str) -> String {
        format!("{}_login:{state}", self.key)
    }

    fn session_key(&self, cookie: &str) -> String {
        format!("{}:{}", self.key, crypto::digest(cookie))
    }
}

/// The built-in client of `space`, registered (or updated) at every start.
pub fn client(space: &Space, issuer: &str, now: i64) -> Client {
    Client {
        id: space.client_id.into(),
        name: space.name.into(),
        secret_digest: None,
        redirect_uris: vec![RedirectUri::from_trusted(format!("{issuer}{}/callback", space.path))],
        post_logout_redirect_uris: vec![RedirectUri::from_trusted(format!("{issuer}{}", space.path))],
        grant_types: vec![GrantType::AuthorizationCode],
        auth_method: AuthMethod::None,
        id_token_alg: SigningAlg::ES256,
        theme: None,
        first_party: true,
        created_at: now,
        settings: Default::default(),
    }
}

#[derive(Serialize, Deserialize)]
struct PendingLogin {
    verifier: String,
    nonce: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AccountSession {
    pub sub: String,
    pub sid: Option<String>,
    pub id_token: String,
    pub access_token: String,
    pub expires_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum SpaceError {
    #[error("the sign-in answer does not belong to a sign-in started here")]
    UnknownState,
    #[error("the provider refused: {0}")]
    Refused(String),
    #[error(transparent)]
    Infra(#[from] InfraError),
}

/// Starts a sign-in for the browser at `ip`; returns the authorization URL to send it to, or
/// `None` when that address created too many pending records (decision 0013).
pub async fn begin_login(s: &Services, space: &Space, ip: &str) -> Result<Option<String>, InfraError> {
    if !crate::account::pending_throttle::admit(s, ip).await? {
        return Ok(None);
    }
    let state = crypto::random_token(24);
    let pending = PendingLogin { verifier: crypto::random_token(48), nonce: crypto::random_token(24) };
    let challenge = b64url(&sha256(pending.verifier.as_bytes()));
    ephemeral::put_json(
        s.ephemeral.as_ref(),
        &space.pending_key(&state),
        &pending,
        Duration::from_secs(s.lifetimes.auth_request as u64),
    )
    .await?;
    let redirect_uri = space.callback(s);
    Ok(Some(redirect_with(
        &s.endpoint("/authorize"),
        &[
            ("response_type", Some("code")),
            ("client_id", Some(space.client_id)),
            ("redirect_uri", Some(&redirect_uri)),
            ("scope", Some("openid profile email")),
            ("state", Some(&state)),
            ("nonce", Some(&pending.nonce)),
            ("code_challenge", Some(&challenge)),
            ("code_challenge_method", Some("S256")),
        ],
    )))
}

/// Handles the redirect back: returns the account cookie value and its session.
pub async fn finish_login(
    s: &Services,
    space: &Space,
    params: &Params,
) -> Result<(String, AccountSession), SpaceError> {
    let get = |n: &str| params.get(n).ok().flatten();
    let state = get("state").ok_or(SpaceError::UnknownState)?;
    let pending: PendingLogin = ephemeral::take_json(s.ephemeral.as_ref(), &space.pending_key(state))
        .await
        .map_err(InfraError::from)?
        .ok_or(SpaceError::UnknownState)?;
    // RFC 9207 §2.4: the iss parameter must be ours.
    if get("iss") != Some(s.issuer.as_str()) {
        return Err(SpaceError::Refused("iss mismatch".into()));
    }
    if let Some(error) = get("error") {
        return Err(SpaceError::Refused(error.to_owned()));
    }
    let code = get("code").ok_or_else(|| SpaceError::Refused("no code".into()))?;
    let client = s.store.client(space.client_id).await.map_err(InfraError::from)?.ok_or(SpaceError::UnknownState)?;
    let exchange = CodeExchange {
        code: Secret::new(code),
        redirect_uri: Some(space.callback(s)),
        code_verifier: Some(Secret::new(pending.verifier.clone())),
    };
    let tokens = token::exchange_code(s, &client, &exchange).await.map_err(|e| SpaceError::Refused(e.to_string()))?;
    let id_token = tokens.id_token.ok_or_else(|| SpaceError::Refused("no ID token".into()))?;
    let claims = verify_id_token(s, space, &id_token, &pending.nonce)?;
    let session = AccountSession {
        sub: claims["sub"].as_str().unwrap_or_default().to_owned(),
        sid: claims["sid"].as_str().map(str::to_owned),
        id_token,
        access_token: tokens.access_token,
        expires_at: s.now() + tokens.expires_in,
    };
    let cookie = crypto::random_token(32);
    ephemeral::put_json(
        s.ephemeral.as_ref(),
        &space.session_key(&cookie),
        &session,
        ttl_until(session.expires_at, s.now()),
    )
    .await
    .map_err(InfraError::from)?;
    Ok((cookie, session))
}

/// OpenID Connect Core §3.1.3.7, the checks a relying party makes.
fn verify_id_token(s: &Services, space: &Space, id_token: &str, nonce: &str) -> Result<Value, SpaceError> {
    let claims = s.keys.verify(id_token).map_err(|e| SpaceError::Refused(e.to_string()))?;
    let ok = claims["iss"] == s.issuer.as_str()
        && claims["aud"] == space.client_id
        && claims["nonce"] == nonce
        && claims["exp"].as_i64().is_some_and(|exp| exp > s.now());
    if ok { Ok(claims) } else { Err(SpaceError::Refused("ID token checks failed".into())) }
}

pub async fn session(s: &Services, space: &Space, cookie: &str) -> Result<Option<AccountSession>, InfraError> {
    if cookie.len() != 43 {
        return Ok(None);
    }
    let session: Option<AccountSession> = ephemeral::get_json(s.ephemeral.as_ref(), &space.session_key(cookie)).await?;
    Ok(session.filter(|sess| sess.expires_at > s.now()))
}

pub async fn end(s: &Services, space: &Space, cookie: &str) -> Result<(), InfraError> {
    Ok(s.ephemeral.delete(&space.session_key(cookie)).await?)
}

/// A signed-in visitor of the account space: the account session, its user, and the user's
/// live browser sessions (listing them also ends those a password change invalidated).
#[derive(Debug)]
pub struct Visitor {
    pub session: AccountSession,
    pub user: User,
    /// This browser's provider session (`session.sid`) is one of them.
    pub sessions: Vec<BrowserSession>,
}

/// The visitor holding the account cookie `cookie`, if signed in. The account session is only
/// as alive as the provider session it was opened from: once that one ended (signed out
/// elsewhere, closed from another browser, ended by a password change) the account session
/// ends too.
pub async fn visitor(s: &Services, space: &Space, cookie: &str) -> Result<Option<Visitor>, InfraError> {
    let Some(acct) = session(s, space, cookie).await? else {
        return Ok(None);
    };
    let user = s.store.user_by_id(&acct.sub).await?;
    let sessions = match &user {
        Some(user) => session::list_for_user(s, &user.id).await?,
        None => Vec::new(),
    };
    match (user, &acct.sid) {
        (Some(user), Some(sid)) if sessions.iter().any(|live| &live.sid == sid) => {
            Ok(Some(Visitor { session: acct, user, sessions }))
        }
        _ => {
            end(s, space, cookie).await?;
            Ok(None)
        }
    }
}

/// The user's claims through the userinfo flow; `None` once the access token is no longer
/// valid (expired, or the SSO session was ended elsewhere).
pub async fn claims(s: &Services, session: &AccountSession) -> Result<Option<Value>, InfraError> {
    match userinfo::userinfo(s, &session.access_token).await {
        Ok(claims) => Ok(Some(claims)),
        Err(e) if e.code == crate::oidc::OAuthErrorCode::TemporarilyUnavailable => {
            Err(InfraError::Ephemeral(crate::ephemeral::EphemeralError::Unavailable("userinfo".into())))
        }
        Err(e) if e.is_infra() => Err(InfraError::Signing("userinfo failed".into())),
        Err(_) => Ok(None),
    }
}

/// The console role of `user`, if any: only people with one may enter /admin.
pub async fn console_role(s: &Services, user: &User) -> Result<Option<crate::admin::actor::Role>, InfraError> {
    match crate::admin::users::role_of(s, &user.id).await {
        Ok(role) => Ok(role),
        Err(crate::admin::AdminError::Infra(e)) => Err(e),
        // A stored role this build does not know lets nobody in.
        Err(_) => Ok(None),
    }
}
