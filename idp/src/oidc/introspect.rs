//! Token introspection (RFC 7662): an authenticated client asks whether a token is active and
//! what it stands for; public clients may not ask (§2.1). A client only learns about tokens it
//! may see: those issued to it, or access tokens whose audience it is (the resource server).
//! Any other token, like an unknown, expired, rotated or revoked one, is just
//! `{"active": false}` (§2.2), so the answer reveals nothing about other clients' tokens.

use serde_json::{Map, Value, json};

use super::OAuthError;
use super::client_auth;
use super::params::Params;
use super::token_lookup::{self, Found};
use crate::domain::Client;
use crate::services::Services;

/// POST /introspect.
pub async fn introspect(s: &Services, authorization: Option<&str>, params: &Params) -> Result<Value, OAuthError> {
    let client = client_auth::authenticate(s, authorization, params).await?;
    // §2.1: "the endpoint MUST also require some form of authorization": a public client only
    // names itself, it does not authenticate.
    if client.is_public() {
        return Err(OAuthError::invalid_client("introspection requires client authentication"));
    }
    let get = |n: &str| params.get(n).map_err(|e| OAuthError::invalid_request(e.to_string()));
    // §2.1: `token` is REQUIRED.
    let token = get("token")?.ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
    let hint = get("token_type_hint")?;
    let inactive = json!({"active": false});
    let Some(found) = token_lookup::find(s, token, hint).await? else {
        return Ok(inactive);
    };
    if !may_see(&client, &found, s).await? || !token_lookup::is_live(s, &found).await? {
        return Ok(inactive);
    }
    describe(s, &found).await.map(|d| d.unwrap_or(inactive))
}

/// The token's own client, or the resource server named as the access token's audience.
async fn may_see(client: &Client, found: &Found, s: &Services) -> Result<bool, OAuthError> {
    if found.client_id() == client.id {
        return Ok(true);
    }
    let Found::Access { record, .. } = found else {
        return Ok(false);
    };
    let owner = s.store.client(&record.client_id).await?;
    Ok(owner.is_some_and(|owner| owner.settings.access_token_audience.as_deref() == Some(client.id.as_str())))
}

/// §2.2: the members of an active answer. `None` when the token's client or user is gone or
/// disabled: then it is not active either.
async fn describe(s: &Services, found: &Found) -> Result<Option<Value>, OAuthError> {
    let Some(owner) = s.store.client(found.client_id()).await? else {
        return Ok(None);
    };
    let (user_id, scopes, issued_at, expires_at) = match found {
        Found::Access { record, .. } => {
            (record.user_id.as_deref(), &record.scopes, record.issued_at, record.expires_at)
        }
        Found::Refresh(token) => (Some(token.user_id.as_str()), &token.scopes, token.created_at, token.expires_at),
    };
    let mut answer = Map::new();
    answer.insert("active".into(), json!(true));
    answer.insert("scope".into(), json!(scopes.to_string()));
    answer.insert("client_id".into(), json!(owner.id));
    if let Some(user_id) = user_id {
        if s.store.user_by_id(user_id).await?.is_none_or(|u| u.disabled) {
            return Ok(None);
        }
        // The subject as the token's client knows it (public or pairwise, OpenID Connect §8).
        answer.insert("sub".into(), json!(super::subject::for_client(s, user_id, &owner).await?));
    }
    answer.insert("exp".into(), json!(expires_at));
    if issued_at > 0 {
        answer.insert("iat".into(), json!(issued_at));
    }
    answer.insert("iss".into(), json!(s.issuer));
    match found {
        Found::Access { .. } => {
            // RFC 6749 §7.1 token type; the audience is the one JWT access tokens carry.
            answer.insert("token_type".into(), json!("Bearer"));
            let aud = owner.settings.access_token_audience.clone().unwrap_or_else(|| owner.id.clone());
            answer.insert("aud".into(), json!(aud));
        }
        // A refresh token has no RFC 6749 §7.1 token type; it is only ever for its client.
        Found::Refresh(_) => {
            answer.insert("aud".into(), json!(owner.id));
        }
    }
    Ok(Some(Value::Object(answer)))
}
