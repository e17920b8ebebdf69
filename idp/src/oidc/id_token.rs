//! ID tokens (OpenID Connect Core §2, §3.1.3.6): signed with the client's algorithm (RS256 by
//! default), `kid` in the header.

use serde::Serialize;
use serde_json::{Map, Value};

use super::OAuthError;
use super::jws::left_half_hash;
use crate::domain::Client;
use crate::services::{InfraError, Services};

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: i64,
    iat: i64,
    auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    at_hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<&'a str>,
    azp: &'a str,
    amr: &'a [String],
    /// `acr` and the claims asked for by the claims parameter (`claims_request`).
    #[serde(flatten)]
    extra: &'a Map<String, Value>,
}

pub struct IdTokenInput<'a> {
    pub client: &'a Client,
    pub subject: &'a str,
    pub nonce: Option<&'a str>,
    pub auth_time: i64,
    pub amr: &'a [String],
    pub sid: Option<&'a str>,
    pub access_token: &'a str,
}

pub fn issue(s: &Services, input: &IdTokenInput<'_>) -> Result<String, OAuthError> {
    issue_with_extra(s, input, &Map::new())
}

/// An ID token with more claims (`acr`, requested claims); the protocol claims win on a clash.
pub fn issue_with_extra(
    s: &Services,
    input: &IdTokenInput<'_>,
    extra: &Map<String, Value>,
) -> Result<String, OAuthError> {
    let mut extra = extra.clone();
    for reserved in ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "sid", "azp", "amr"] {
        extra.remove(reserved);
    }
    let extra = &extra;
    let now = s.now();
    let alg = input.client.id_token_alg;
    let key = s.keys.active(alg).ok_or_else(|| InfraError::Signing(format!("no active {alg} key")))?;
    let claims = Claims {
        iss: &s.issuer,
        sub: input.subject,
        aud: &input.client.id,
        exp: now + super::token_format::id_token_ttl(s, input.client),
        iat: now,
        auth_time: input.auth_time,
        nonce: input.nonce,
        at_hash: left_half_hash(alg, input.access_token),
        sid: input.sid,
        azp: &input.client.id,
        amr: input.amr,
        extra,
    };
    Ok(key.sign_jwt("JWT", &claims).map_err(|e| InfraError::Signing(e.to_string()))?)
}
