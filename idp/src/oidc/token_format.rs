//! Access token formats and per-client lifetimes (issue #3).
//!
//! Access tokens are opaque (256 random bits) by default. A client registered with
//! `access_token_format=jwt` gets JWT access tokens (RFC 9068): `typ: at+jwt`, signed with the
//! active key of `access_token_signing_alg` (ES256 by default), `aud` = the client's
//! `access_token_audience` (the resource server), else its id. Whatever the format, the token
//! endpoint keeps the same ephemeral record keyed by the token's digest, so revocation (of the
//! token or of its whole grant), introspection and userinfo treat both alike; a JWT access token
//! is further checked for its signature, `typ`, `iss` and `exp` where this server accepts it.
//!
//! Lifetimes: `access_token_ttl`, `id_token_ttl` and `refresh_token_ttl` in a client's settings
//! override the server's (bounds in `domain::client`, checked at registration).

use serde::Serialize;

use super::{OAuthError, OAuthErrorCode};
use crate::crypto;
use crate::domain::client::{AccessTokenFormat, MAX_CLIENT_TOKEN_TTL};
use crate::domain::{Client, Scopes, SigningAlg};
use crate::services::{InfraError, Services};

/// RFC 9068 §2.1: the `typ` header of JWT access tokens.
pub const AT_JWT_TYP: &str = "at+jwt";

pub fn access_token_ttl(s: &Services, client: &Client) -> i64 {
    client.settings.access_token_ttl.unwrap_or(s.lifetimes.access_token)
}

pub fn id_token_ttl(s: &Services, client: &Client) -> i64 {
    client.settings.id_token_ttl.unwrap_or(s.lifetimes.id_token)
}

pub fn refresh_token_ttl(s: &Services, client: &Client) -> i64 {
    client.settings.refresh_token_ttl.unwrap_or(s.lifetimes.refresh_token)
}

/// The longest an access token of any client can live: how long a revocation marker must stay.
pub fn longest_access_token_ttl(s: &Services) -> i64 {
    s.lifetimes.access_token.max(MAX_CLIENT_TOKEN_TTL)
}

/// The algorithm of a client's JWT access tokens: ES256 unless it chose another (issue #3:
/// ES256 is the cheap one to sign and verify, see STACK.md).
pub fn access_token_alg(client: &Client) -> SigningAlg {
    client.settings.access_token_signing_alg.unwrap_or(SigningAlg::ES256)
}

/// RFC 9068 §2.2.
#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    exp: i64,
    aud: &'a str,
    sub: &'a str,
    client_id: &'a str,
    iat: i64,
    jti: String,
    scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_time: Option<i64>,
}

/// What a new access token says; the caller stores the record that goes with it.
pub struct AccessTokenInput<'a> {
    pub client: &'a Client,
    /// `None` for a client acting for itself (`client_credentials`): `sub` is then its id
    /// (RFC 9068 §2.2).
    pub user_id: Option<&'a str>,
    pub scopes: &'a Scopes,
    pub auth_time: Option<i64>,
    pub issued_at: i64,
    pub expires_at: i64,
}

/// A new access token in the client's format.
pub async fn new_access_token(s: &Services, input: &AccessTokenInput<'_>) -> Result<String, OAuthError> {
    let client = input.client;
    if client.settings.access_token_format == AccessTokenFormat::Opaque {
        return Ok(crypto::random_token(32));
    }
    // The subject as this client sees it in ID tokens (public or pairwise, OpenID Connect §8).
    let sub = match input.user_id {
        Some(user_id) => super::subject::for_client(s, user_id, client).await?,
        None => client.id.clone(),
    };
    let alg = access_token_alg(client);
    let key = s.keys.active(alg).ok_or_else(|| InfraError::Signing(format!("no active {alg} key")))?;
    let claims = Claims {
        iss: &s.issuer,
        exp: input.expires_at,
        aud: client.settings.access_token_audience.as_deref().unwrap_or(&client.id),
        sub: &sub,
        client_id: &client.id,
        iat: input.issued_at,
        jti: crypto::random_token(16),
        scope: input.scopes.to_string(),
        auth_time: input.auth_time,
    };
    Ok(key.sign_jwt(AT_JWT_TYP, &claims).map_err(|e| InfraError::Signing(e.to_string()))?)
}

/// Whether a presented token has the shape of a compact JWS (opaque tokens are base64url,
/// without dots).
pub fn is_jwt(token: &str) -> bool {
    token.contains('.')
}

/// RFC 9068 §4, for a JWT access token presented to this server: signed by one of our keys,
/// `typ` at+jwt (so an ID token or a logout token is not taken for one), our `iss`, not
/// expired. Whether it is still live (issued here, not revoked) is the record's business.
pub fn check_jwt(s: &Services, token: &str) -> Result<(), OAuthError> {
    let invalid = || OAuthError::new(OAuthErrorCode::InvalidToken, "the access token is invalid or expired");
    let claims = s.keys.verify(token).map_err(|_| invalid())?;
    let typ = jwt_header(token).and_then(|h| h.get("typ").and_then(|t| t.as_str()).map(str::to_ascii_lowercase));
    if !matches!(typ.as_deref(), Some(AT_JWT_TYP | "application/at+jwt")) {
        return Err(invalid());
    }
    if claims.get("iss").and_then(|v| v.as_str()) != Some(s.issuer.as_str()) {
        return Err(invalid());
    }
    if claims.get("exp").and_then(serde_json::Value::as_i64).is_none_or(|exp| exp <= s.now()) {
        return Err(invalid());
    }
    Ok(())
}

fn jwt_header(token: &str) -> Option<serde_json::Value> {
    let header = crypto::b64url_decode(token.split('.').next()?)?;
    serde_json::from_slice(&header).ok()
}
