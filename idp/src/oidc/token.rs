//! The token endpoint (RFC 6749 §3.2): client authentication, then one function per grant.
//! Authorization codes are single use (atomic take); a replayed code revokes what was issued
//! from it (RFC 6749 §4.1.2). Refresh tokens rotate: the old one stops working, and presenting
//! it again revokes the whole grant (RFC 9700 §4.14.2), except for a second tab within the
//! client's own `refresh_race_window` when it opted into one (`refresh_race`, decision 0008).
//! Tokens of a grant without `offline_access` end with the browser session they were issued in
//! (`session_bound`, OpenID Connect Core §11). The client credentials grant lives in
//! `grant_client_credentials`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::authorize::{CodeGrant, code_key};
use super::id_token::{self, IdTokenInput};
use super::params::Params;
use super::{OAuthError, OAuthErrorCode, claims_request, client_auth, pkce, session_bound, subject, token_format};
use crate::account::authorization::{self, Access};
use crate::crypto::{self, digest};
use crate::domain::{Client, GrantType, Scopes};
use crate::ephemeral;
use crate::services::Services;
use crate::store::RefreshToken;

/// RFC 6749 §5.1.
#[derive(Debug, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
}

/// What an opaque access token stands for, kept by digest in the ephemeral store.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AccessTokenRecord {
    pub client_id: String,
    /// The user the token speaks for; `None` for a client acting on its own behalf
    /// (`client_credentials`, RFC 6749 §4.4), which userinfo refuses.
    pub user_id: Option<String>,
    pub scopes: Scopes,
    pub grant_id: String,
    /// The browser session the token ends with (`session_bound`); `None` for `offline_access`
    /// grants, client credentials, and records written before issue #10.
    #[serde(default)]
    pub sid: Option<String>,
    /// `iat` for introspection (RFC 7662 §2.2); 0 in records written before it existed.
    #[serde(default)]
    pub issued_at: i64,
    pub expires_at: i64,
}

pub fn access_token_key(token_digest: &str) -> String {
    format!("at:{token_digest}")
}

pub fn revoked_grant_key(grant_id: &str) -> String {
    format!("revoked_grant:{grant_id}")
}

fn used_code_key(code_digest: &str) -> String {
    format!("code_used:{code_digest}")
}

/// POST /token.
pub async fn token(s: &Services, authorization: Option<&str>, params: &Params) -> Result<TokenResponse, OAuthError> {
    let grant_type = params.get("grant_type").map_err(|e| OAuthError::invalid_request(e.to_string()))?;
    let client = client_auth::authenticate(s, authorization, params).await?;
    match grant_type {
        None => Err(OAuthError::invalid_request("grant_type is missing")),
        Some("authorization_code") => exchange_code(s, &client, params).await,
        Some("refresh_token") => refresh(s, &client, params).await,
        Some("client_credentials") => super::grant_client_credentials::grant(s, &client, params).await,
        Some(_) => Err(OAuthError::new(OAuthErrorCode::UnsupportedGrantType, "unsupported grant_type")),
    }
}

fn require<'a>(params: &'a Params, name: &str) -> Result<&'a str, OAuthError> {
    params
        .get(name)
        .map_err(|e| OAuthError::invalid_request(e.to_string()))?
        .ok_or_else(|| OAuthError::invalid_request(format!("{name} is missing")))
}

/// RFC 6749 §4.1.3 and RFC 7636 §4.5.
pub async fn exchange_code(s: &Services, client: &Client, params: &Params) -> Result<TokenResponse, OAuthError> {
    if !client.allows_grant(GrantType::AuthorizationCode) {
        return Err(OAuthError::new(OAuthErrorCode::UnauthorizedClient, "this client may not use this grant"));
    }
    let code = require(params, "code")?;
    let redirect_uri = params.get("redirect_uri").map_err(|e| OAuthError::invalid_request(e.to_string()))?;
    let verifier = params.get("code_verifier").map_err(|e| OAuthError::invalid_request(e.to_string()))?;
    let code_digest = digest(code);
    let Some(grant) = ephemeral::take_json::<CodeGrant>(s.ephemeral.as_ref(), &code_key(&code_digest)).await? else {
        // Unknown, expired, or already used. If used, revoke what it produced (RFC 6749 §4.1.2).
        if let Some(grant_id) = s.ephemeral.get(&used_code_key(&code_digest)).await? {
            revoke_grant(s, &String::from_utf8_lossy(&grant_id)).await?;
            tracing::warn!(client_id = %client.id, "authorization code replayed; its tokens were revoked");
        }
        return Err(OAuthError::invalid_grant("the authorization code is invalid, expired or already used"));
    };
    // Remember the use long enough to catch a replay within the code's possible lifetime.
    s.ephemeral
        .put(&used_code_key(&code_digest), grant.grant_id.clone().into_bytes(), Duration::from_secs(600))
        .await?;
    if grant.expires_at <= s.now() {
        return Err(OAuthError::invalid_grant("the authorization code has expired"));
    }
    if grant.client_id != client.id {
        return Err(OAuthError::invalid_grant("the authorization code was issued to another client"));
    }
    if redirect_uri != Some(grant.redirect_uri.as_str()) {
        return Err(OAuthError::invalid_grant("redirect_uri does not match the authorization request"));
    }
    match (&grant.code_challenge, verifier) {
        (Some(challenge), Some(v)) if pkce::verifies(v, challenge) => {}
        (Some(_), _) => return Err(OAuthError::invalid_grant("PKCE verification failed")),
        // RFC 9700 §2.1.1: a verifier without a challenge in the request is a downgrade attempt.
        (None, Some(_)) => return Err(OAuthError::invalid_grant("code_verifier sent but no code_challenge was")),
        (None, None) if client.is_public() => return Err(OAuthError::invalid_grant("PKCE is required")),
        (None, None) => {}
    }
    let user = s
        .store
        .user_by_id(&grant.user_id)
        .await?
        .filter(|u| !u.disabled)
        .ok_or_else(|| OAuthError::invalid_grant("the account is no longer active"))?;
    // Issue #11: the per-application rule, checked again (the right may have been withdrawn
    // since the code was issued).
    if authorization::check(s, &user, client).await? == Access::Denied {
        return Err(OAuthError::invalid_grant("the user may not sign in to this application"));
    }
    // OpenID Connect Core §11: without offline_access the tokens live in the session the user
    // signed in with; if it ended since the code was issued, there is nothing to speak for.
    let session_bound = session_bound::is_session_bound(&grant.scopes);
    let session_expires_at = if session_bound {
        match session_bound::live_session(s, &grant.sid, &user).await? {
            Some(session) => Some(session.expires_at),
            None => return Err(OAuthError::invalid_grant("the sign-in session of this authorization has ended")),
        }
    } else {
        None
    };
    let bound_sid = session_bound.then_some(grant.sid.as_str());
    let access_token = issue_access_token_for(
        s,
        client,
        Some(&user.id),
        &grant.scopes,
        &grant.grant_id,
        Some(grant.auth_time),
        bound_sid,
    )
    .await?;
    let subject = subject::for_client(s, &user.id, client).await?;
    claims_request::remember_for_grant(s, &grant.grant_id, &grant.claims).await?;
    let mut extras = claims_request::id_token_extras(&user, &grant.claims, grant.acr.as_deref());
    super::userinfo::add_groups_claim(s, &user.id, &grant.scopes, &mut extras).await?;
    let id_token = id_token::issue_with_extra(
        s,
        &IdTokenInput {
            client,
            subject: &subject,
            nonce: grant.nonce.as_deref(),
            auth_time: grant.auth_time,
            amr: &grant.amr,
            sid: Some(&grant.sid),
            access_token: &access_token,
        },
        &extras,
    )?;
    // §11: offline_access asks for a refresh token; a client registered for it also gets one
    // that lives only as long as the session.
    let wants_refresh = !session_bound || client.settings.session_refresh_tokens;
    let refresh_token = if wants_refresh && client.allows_grant(GrantType::RefreshToken) {
        let (token, digest) = new_refresh_secret();
        let now = s.now();
        let ttl_end = now + token_format::refresh_token_ttl(s, client);
        let record = RefreshToken {
            digest,
            grant_id: grant.grant_id.clone(),
            client_id: client.id.clone(),
            user_id: user.id.clone(),
            scopes: grant.scopes.clone(),
            auth_time: grant.auth_time,
            sid: Some(grant.sid.clone()),
            amr: grant.amr.clone(),
            created_at: now,
            expires_at: session_expires_at.map_or(ttl_end, |end| end.min(ttl_end)),
            used_at: None,
        };
        s.store.insert_refresh_token(&record).await?;
        Some(token)
    } else {
        None
    };
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in: token_format::access_token_ttl(s, client),
        id_token: Some(id_token),
        refresh_token,
        scope: grant.scopes.to_string(),
    })
}

/// RFC 6749 §6, with rotation.
async fn refresh(s: &Services, client: &Client, params: &Params) -> Result<TokenResponse, OAuthError> {
    if !client.allows_grant(GrantType::RefreshToken) {
        return Err(OAuthError::new(OAuthErrorCode::UnauthorizedClient, "this client may not use this grant"));
    }
    let presented = require(params, "refresh_token")?;
    let old_digest = digest(presented);
    let now = s.now();
    let invalid = || OAuthError::invalid_grant("the refresh token is invalid, expired or revoked");
    let old = s.store.refresh_token(&old_digest).await?.ok_or_else(invalid)?;
    if old.client_id != client.id {
        return Err(invalid());
    }
    // A rotated token came back: reuse, which revokes the whole grant (RFC 9700 §4.14.2),
    // unless the client opted into a race window and this is a second tab (decision 0008).
    let successor = super::refresh_race::successor_of(s, presented);
    let already_rotated = old.used_at.is_some();
    if already_rotated {
        super::refresh_race::tolerate_or_revoke(s, client, &old, &successor, now).await?;
    }
    if old.expires_at <= now {
        return Err(invalid());
    }
    let scopes = match params.get("scope").map_err(|e| OAuthError::invalid_request(e.to_string()))? {
        None => old.scopes.clone(),
        Some(raw) => {
            let asked =
                Scopes::parse(raw).map_err(|_| OAuthError::new(OAuthErrorCode::InvalidScope, "malformed scope"))?;
            if !asked.is_subset_of(&old.scopes) {
                return Err(OAuthError::new(OAuthErrorCode::InvalidScope, "scope exceeds the original grant"));
            }
            asked
        }
    };
    let user = s.store.user_by_id(&old.user_id).await?.filter(|u| !u.disabled).ok_or_else(invalid)?;
    // Issue #11: a withdrawn right ends the grant (RFC 6749 §5.2 invalid_grant), checked on
    // every refresh.
    if authorization::check(s, &user, client).await? == Access::Denied {
        revoke_grant(s, &old.grant_id).await?;
        return Err(invalid());
    }
    // A session refresh token (no offline_access) died with its session (OpenID Connect Core §11).
    let bound_sid = if session_bound::is_session_bound(&old.scopes) {
        match old.sid.as_deref() {
            Some(sid) if session_bound::live_session(s, sid, &user).await?.is_some() => Some(sid),
            _ => {
                revoke_grant(s, &old.grant_id).await?;
                return Err(invalid());
            }
        }
    } else {
        None
    };
    // The new token inherits the grant (scopes, auth_time, sid, amr) and never outlives the old.
    let record = RefreshToken {
        digest: digest(&successor),
        created_at: now,
        expires_at: old.expires_at.min(now + token_format::refresh_token_ttl(s, client)),
        used_at: None,
        ..old.clone()
    };
    if !already_rotated && !s.store.rotate_refresh_token(&old_digest, &record, now).await? {
        // Lost a race with another use of the same token; that rotation has committed by now.
        let rotated = s.store.refresh_token(&old_digest).await?.ok_or_else(invalid)?;
        super::refresh_race::tolerate_or_revoke(s, client, &rotated, &successor, now).await?;
    }
    let access_token =
        issue_access_token_for(s, client, Some(&user.id), &scopes, &old.grant_id, Some(old.auth_time), bound_sid)
            .await?;
    // OpenID Connect Core §12.2: a new ID token, same sub and auth_time, no nonce.
    let id_token = if scopes.contains("openid") {
        let subject = subject::for_client(s, &user.id, client).await?;
        let mut extras = serde_json::Map::new();
        super::userinfo::add_groups_claim(s, &user.id, &scopes, &mut extras).await?;
        Some(id_token::issue_with_extra(
            s,
            &IdTokenInput {
                client,
                subject: &subject,
                nonce: None,
                auth_time: old.auth_time,
                amr: &old.amr,
                sid: old.sid.as_deref(),
                access_token: &access_token,
            },
            &extras,
        )?)
    } else {
        None
    };
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in: token_format::access_token_ttl(s, client),
        id_token,
        refresh_token: Some(successor),
        scope: scopes.to_string(),
    })
}

pub(crate) async fn issue_access_token(
    s: &Services,
    client: &Client,
    user_id: Option<&str>,
    scopes: &Scopes,
    grant_id: &str,
) -> Result<String, OAuthError> {
    issue_access_token_for(s, client, user_id, scopes, grant_id, None, None).await
}

/// An access token in the client's format and lifetime (`token_format`); `auth_time` goes into
/// JWT access tokens (RFC 9068 §2.2.1). JWT or opaque, the record is kept by the token's digest,
/// with the session `sid` it ends with, if any (`session_bound`).
pub(crate) async fn issue_access_token_for(
    s: &Services,
    client: &Client,
    user_id: Option<&str>,
    scopes: &Scopes,
    grant_id: &str,
    auth_time: Option<i64>,
    sid: Option<&str>,
) -> Result<String, OAuthError> {
    let now = s.now();
    let ttl = token_format::access_token_ttl(s, client);
    let input =
        token_format::AccessTokenInput { client, user_id, scopes, auth_time, issued_at: now, expires_at: now + ttl };
    let token = token_format::new_access_token(s, &input).await?;
    let record = AccessTokenRecord {
        client_id: client.id.clone(),
        user_id: user_id.map(str::to_owned),
        scopes: scopes.clone(),
        grant_id: grant_id.to_owned(),
        sid: sid.map(str::to_owned),
        issued_at: now,
        expires_at: now + ttl,
    };
    ephemeral::put_json(
        s.ephemeral.as_ref(),
        &access_token_key(&digest(&token)),
        &record,
        Duration::from_secs(ttl as u64),
    )
    .await?;
    Ok(token)
}

/// A refresh token (256 bits) and the digest that is stored instead of it.
fn new_refresh_secret() -> (String, String) {
    let token = crypto::random_token(32);
    let digest = digest(&token);
    (token, digest)
}

/// Revokes every token of a grant: refresh tokens in the store, access tokens by a marker that
/// outlives them.
pub async fn revoke_grant(s: &Services, grant_id: &str) -> Result<(), OAuthError> {
    s.store.revoke_grant(grant_id).await?;
    s.ephemeral
        .put(
            &revoked_grant_key(grant_id),
            b"1".to_vec(),
            Duration::from_secs(token_format::longest_access_token_ttl(s) as u64 + 60),
        )
        .await?;
    Ok(())
}
