//! Finding a token this server issued, from the token itself: opaque or JWT access tokens by
//! their record in the ephemeral store, refresh tokens in the durable store, both by digest.
//! Used by introspection (RFC 7662) and revocation (RFC 7009), where `token_type_hint` only
//! says where to look first: a wrong hint never hides a token (RFC 7009 §2.1, RFC 7662 §2.1).

use super::token::{AccessTokenRecord, access_token_key, revoked_grant_key};
use super::{OAuthError, session_bound};
use crate::crypto::digest;
use crate::ephemeral;
use crate::services::Services;
use crate::store::RefreshToken;

pub enum Found {
    Access { record: AccessTokenRecord, digest: String },
    Refresh(RefreshToken),
}

impl Found {
    pub fn client_id(&self) -> &str {
        match self {
            Found::Access { record, .. } => &record.client_id,
            Found::Refresh(token) => &token.client_id,
        }
    }
}

/// The token's record, live or not; `None` when this server knows nothing of it.
pub async fn find(s: &Services, token: &str, hint: Option<&str>) -> Result<Option<Found>, OAuthError> {
    let token_digest = digest(token);
    let refresh_first = hint == Some("refresh_token");
    for look_for_refresh in [refresh_first, !refresh_first] {
        let found = if look_for_refresh {
            s.store.refresh_token(&token_digest).await?.map(Found::Refresh)
        } else {
            ephemeral::get_json::<AccessTokenRecord>(s.ephemeral.as_ref(), &access_token_key(&token_digest))
                .await?
                .map(|record| Found::Access { record, digest: token_digest.clone() })
        };
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// Whether the token can still be used: not expired, not rotated, its grant not revoked, and
/// its browser session live if it ends with one (`session_bound`).
pub async fn is_live(s: &Services, found: &Found) -> Result<bool, OAuthError> {
    let now = s.now();
    let (unexpired, user_id, sid) = match found {
        Found::Access { record, .. } => (
            record.expires_at > now && s.ephemeral.get(&revoked_grant_key(&record.grant_id)).await?.is_none(),
            record.user_id.as_deref(),
            record.sid.as_deref(),
        ),
        Found::Refresh(token) => (
            token.used_at.is_none() && token.expires_at > now,
            Some(token.user_id.as_str()),
            // A token of a session-bound grant always has its sid; none is bound to nothing.
            session_bound::is_session_bound(&token.scopes).then(|| token.sid.as_deref().unwrap_or_default()),
        ),
    };
    let (true, Some(sid)) = (unexpired, sid) else {
        return Ok(unexpired);
    };
    let Some(user) = (match user_id {
        Some(id) => s.store.user_by_id(id).await?,
        None => None,
    }) else {
        return Ok(false);
    };
    session_bound::is_live(s, Some(sid), &user).await
}
