//! The client credentials grant (RFC 6749 §4.4): a confidential client obtains an access token
//! for itself, with no user involved. Only scopes listed in the client's `allowed_scopes` setting
//! are granted; OpenID Connect scopes (`openid`, `profile`, …, `offline_access`) are about a user
//! and are refused with `invalid_scope`, not silently dropped, so a misconfigured client learns
//! why. No ID token and no refresh token (§4.4.3: "A refresh token SHOULD NOT be included").

use super::token::{TokenResponse, issue_access_token};
use super::token_request::ClientCredentialsRequest;
use super::{OAuthError, OAuthErrorCode};
use crate::crypto;
use crate::domain::scope::SUPPORTED;
use crate::domain::{Client, GrantType, Scopes};
use crate::services::Services;

/// POST /token with `grant_type=client_credentials`, the client already authenticated.
pub async fn grant(
    s: &Services,
    client: &Client,
    request: &ClientCredentialsRequest,
) -> Result<TokenResponse, OAuthError> {
    let scopes = granted_scopes(client, request.scope.as_deref())?;
    // Each grant gets its own id, so revoking one token never touches another client's.
    let grant_id = format!("cc-{}", crypto::random_token(16));
    let access_token = issue_access_token(s, client, None, &scopes, &grant_id).await?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in: super::token_format::access_token_ttl(s, client),
        id_token: None,
        refresh_token: None,
        scope: scopes.to_string(),
    })
}

/// The scopes the client may have with this grant for the `scope` it sent, or why not: what
/// `grant` checks before issuing anything (the fuzz target `token` calls it directly).
pub fn granted_scopes(client: &Client, scope: Option<&str>) -> Result<Scopes, OAuthError> {
    // §4.4: "The client credentials grant type MUST only be used by confidential clients."
    if client.is_public() || !client.allows_grant(GrantType::ClientCredentials) {
        return Err(OAuthError::new(OAuthErrorCode::UnauthorizedClient, "this client may not use this grant"));
    }
    let allowed = allowed_scopes(client);
    match scope {
        // RFC 6749 §3.3: without `scope`, a pre-defined default: everything the client may have.
        None => Ok(allowed),
        Some(raw) => {
            let asked =
                Scopes::parse(raw).map_err(|_| OAuthError::new(OAuthErrorCode::InvalidScope, "malformed scope"))?;
            if let Some(user_scope) = asked.iter().find(|s| SUPPORTED.contains(s)) {
                return Err(OAuthError::new(
                    OAuthErrorCode::InvalidScope,
                    format!("{user_scope} concerns a user; the client_credentials grant has none"),
                ));
            }
            if !asked.is_subset_of(&allowed) {
                return Err(OAuthError::new(OAuthErrorCode::InvalidScope, "scope not allowed for this client"));
            }
            Ok(asked)
        }
    }
}

/// The client's `allowed_scopes` minus the user scopes of OpenID Connect; none when unset.
fn allowed_scopes(client: &Client) -> Scopes {
    let listed = client.settings.allowed_scopes.as_deref().unwrap_or_default().join(" ");
    let parsed = Scopes::parse(&listed).unwrap_or_default();
    SUPPORTED.iter().fold(parsed, |acc, user_scope| acc.without(user_scope))
}
