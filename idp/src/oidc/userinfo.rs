//! The userinfo endpoint (OpenID Connect Core §5.3): the claims of the token's user, filtered
//! by the scopes granted (§5.4). Token problems are RFC 6750 errors.

use serde_json::{Map, Value, json};

use super::token::{AccessTokenRecord, access_token_key, revoked_grant_key};
use super::{OAuthError, OAuthErrorCode};
use crate::crypto::digest;
use crate::domain::{Scopes, User};
use crate::ephemeral;
use crate::services::Services;

fn invalid_token() -> OAuthError {
    OAuthError::new(OAuthErrorCode::InvalidToken, "the access token is invalid or expired")
}

/// Looks up a live access token: known, not expired, its grant not revoked, and its browser
/// session still live if it is bound to one (`session_bound`).
pub async fn access_token(s: &Services, token: &str) -> Result<AccessTokenRecord, OAuthError> {
    if super::token_format::is_jwt(token) {
        super::token_format::check_jwt(s, token)?;
    }
    let record: AccessTokenRecord = ephemeral::get_json(s.ephemeral.as_ref(), &access_token_key(&digest(token)))
        .await?
        .ok_or_else(invalid_token)?;
    if record.expires_at <= s.now() || s.ephemeral.get(&revoked_grant_key(&record.grant_id)).await?.is_some() {
        return Err(invalid_token());
    }
    if let Some(sid) = record.sid.as_deref() {
        let user = match record.user_id.as_deref() {
            Some(id) => s.store.user_by_id(id).await?,
            None => None,
        };
        let live = match user {
            Some(user) => super::session_bound::is_live(s, Some(sid), &user).await?,
            None => false,
        };
        if !live {
            return Err(invalid_token());
        }
    }
    Ok(record)
}

pub async fn userinfo(s: &Services, token: &str) -> Result<Value, OAuthError> {
    let record = access_token(s, token).await?;
    if !record.scopes.contains("openid") {
        return Err(OAuthError::new(OAuthErrorCode::InsufficientScope, "the openid scope was not granted"));
    }
    // A token without a user (client_credentials) never carries openid, so it stops above with
    // insufficient_scope; should one get here, it speaks for nobody (RFC 6750 §3.1).
    let user_id = record.user_id.as_deref().ok_or_else(invalid_token)?;
    let user = s.store.user_by_id(user_id).await?.filter(|u| !u.disabled).ok_or_else(invalid_token)?;
    // §5.5: plus the claims asked for one by one; `sub` as this client sees it (§8).
    let requested = super::claims_request::for_grant(s, &record.grant_id).await?;
    let mut claims = super::claims_request::userinfo_claims(&user, &record.scopes, &requested);
    add_groups_claim(s, &user.id, &record.scopes, &mut claims).await?;
    if let Some(client) = s.store.client(&record.client_id).await? {
        claims.insert("sub".into(), json!(super::subject::for_client(s, &user.id, &client).await?));
    }
    Ok(Value::Object(claims))
}

/// The `groups` scope (issue #11): the `groups` claim, the ids of the user's groups (an empty
/// array for none), read from the store, so not in `claims_for`.
pub async fn add_groups_claim(
    s: &Services,
    user_id: &str,
    scopes: &Scopes,
    claims: &mut Map<String, Value>,
) -> Result<(), crate::services::InfraError> {
    if scopes.contains("groups") {
        claims.insert("groups".into(), json!(crate::account::authorization::groups_of(s, user_id).await?));
    }
    Ok(())
}

/// OpenID Connect Core §5.4: which claims each scope releases. `sub` always. The values come
/// from `account::claims`, which CAS attributes read too.
pub fn claims_for(user: &User, scopes: &Scopes) -> Map<String, Value> {
    crate::account::claims::for_scopes(user, scopes)
}
