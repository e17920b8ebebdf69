//! Token revocation (RFC 7009). An authenticated client revokes a token issued to it: a refresh
//! token ends its whole grant (the access tokens issued from it too, §2.1: "SHOULD also
//! invalidate all access tokens based on the same authorization grant"); an access token ends
//! that token only. An unknown, expired or already revoked token is answered 200 like a success
//! (§2.2: the client cannot do anything sensible with an error). A token issued to another
//! client is refused (§2.1: "If this validation fails, the request is refused and the client is
//! informed of the error") with `unauthorized_client`, and nothing is revoked.

use super::client_auth;
use super::params::Params;
use super::token::revoke_grant;
use super::token_lookup::{self, Found};
use super::{OAuthError, OAuthErrorCode};
use crate::services::Services;

/// POST /revoke.
pub async fn revoke(s: &Services, authorization: Option<&str>, params: &Params) -> Result<(), OAuthError> {
    let client = client_auth::authenticate(s, authorization, params).await?;
    let get = |n: &str| params.get(n).map_err(|e| OAuthError::invalid_request(e.to_string()));
    // §2.1: `token` is REQUIRED; the hint is optional and only says where to look first.
    let token = get("token")?.ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
    let hint = get("token_type_hint")?;
    let Some(found) = token_lookup::find(s, token, hint).await? else {
        return Ok(());
    };
    if found.client_id() != client.id {
        tracing::warn!(client_id = %client.id, "a client tried to revoke another client's token");
        return Err(OAuthError::new(OAuthErrorCode::UnauthorizedClient, "the token was not issued to this client"));
    }
    match found {
        Found::Refresh(refresh) => revoke_grant(s, &refresh.grant_id).await,
        Found::Access { digest, .. } => {
            s.ephemeral.delete(&super::token::access_token_key(&digest)).await?;
            Ok(())
        }
    }
}
