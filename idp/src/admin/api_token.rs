//! Who a bearer token of the admin REST API speaks for (issue #12). The token is one of this
//! provider's access tokens, opaque or JWT (`oidc::userinfo::access_token` checks it: known,
//! unexpired, its grant not revoked, its session live when bound to one); its scopes
//! `idp.admin`, `idp.support` and `idp.audit` carry the roles (`Role::from_scope`).
//!
//! - A token of a machine client (`client_credentials`, no user) acts as `Actor::client`, with
//!   the roles of the scopes it holds that the client is still allowed now: narrowing a
//!   client's `allowed_scopes`, or deleting it, takes effect on tokens already issued.
//! - A token issued to a person would act as that person, with its scopes intersected with
//!   the role the person holds now; until people have roles in the store, such tokens are
//!   refused (`PersonToken`), never treated as a client's.

use super::actor::{Actor, Role};
use crate::oidc::{OAuthErrorCode, userinfo};
use crate::services::Services;
use crate::session::ClientInfo;

/// Why a token does not authenticate an API call.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApiTokenError {
    /// Unknown, malformed, expired or revoked (RFC 6750 §3.1 `invalid_token`).
    #[error("the access token is invalid, expired or revoked")]
    Invalid,
    /// A token issued to a person: not accepted by the API yet.
    #[error("tokens issued to people are not accepted by the admin API; use a client_credentials token")]
    PersonToken,
    /// The database or the ephemeral store is unreachable: try again later.
    #[error("a dependency is unavailable")]
    Unavailable,
    /// A failure of ours.
    #[error("the token could not be checked")]
    Internal,
}

/// The actor a live access token speaks for, or why none. An actor with no role is returned
/// as such: each operation then refuses it for want of a scope (RFC 6750 §3.1
/// `insufficient_scope`), which tells the caller more than "invalid token".
pub async fn actor_for_token(s: &Services, token: &str, info: ClientInfo) -> Result<Actor, ApiTokenError> {
    let record = userinfo::access_token(s, token).await.map_err(|e| match e.code {
        OAuthErrorCode::TemporarilyUnavailable => ApiTokenError::Unavailable,
        OAuthErrorCode::ServerError => ApiTokenError::Internal,
        _ => ApiTokenError::Invalid,
    })?;
    if record.user_id.is_some() {
        return Err(ApiTokenError::PersonToken);
    }
    let infra = |e: crate::store::StoreError| {
        if crate::services::InfraError::from(e).is_unavailable() {
            ApiTokenError::Unavailable
        } else {
            ApiTokenError::Internal
        }
    };
    // A deleted client's tokens speak for nobody.
    let client = s.store.client(&record.client_id).await.map_err(infra)?.ok_or(ApiTokenError::Invalid)?;
    let allowed = client.settings.allowed_scopes.unwrap_or_default();
    let roles = roles_of(record.scopes.iter().filter(|scope| allowed.iter().any(|a| a == scope)));
    Ok(Actor::client(&client.id, roles, info))
}

/// The roles the admin scopes among `scopes` carry, each once, in `Role::ALL` order.
pub fn roles_of<'a>(scopes: impl Iterator<Item = &'a str>) -> Vec<Role> {
    let mut roles: Vec<Role> = scopes.filter_map(Role::from_scope).collect();
    roles.sort();
    roles.dedup();
    roles
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_admin_scopes_carry_roles() {
        let scopes = ["api.read", "idp.audit", "idp.support", "idp.audit", "openid"];
        assert_eq!(roles_of(scopes.into_iter()), vec![Role::Support, Role::Auditor]);
        assert!(roles_of(["idp.root", "admin"].into_iter()).is_empty());
    }
}
