//! `private_key_jwt` client authentication (OpenID Connect Core §9, RFC 7523 §2.2 and §3): the
//! client proves itself with a JWT signed by a key of its registered JWK Set. The checks, in
//! order: signature with the client's key (`alg` RS256, ES256 or EdDSA, fitting the key; never
//! `none` nor HMAC), `iss` = `sub` = client_id, `aud` naming this server (the issuer or one of
//! the endpoints that authenticate clients), `exp` in the future and not too far, `nbf`/`iat`
//! not in the future, and a `jti` seen for the first time (single use until `exp`, atomically:
//! of two concurrent uses exactly one passes). Every failure is `invalid_client` (RFC 7521
//! §4.2.1), with the reason in the description and the log, never anything secret.

use serde::Deserialize;
use serde_json::Value;

use super::OAuthError;
use super::client_keys::{self, ClientKeyError};
use super::jwk::{self, JwkError};
use crate::crypto::{b64url_decode, digest};
use crate::domain::Client;
use crate::ephemeral::ttl_until;
use crate::services::Services;

/// RFC 7523 §2.2: the `client_assertion_type` of a JWT client assertion.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
pub const LEEWAY: i64 = 30;
/// RFC 7523 §3: the server "MAY reject JWTs with an "exp" claim value that is unreasonably far
/// in the future". An hour bounds how long a `jti` must be remembered.
pub const MAX_LIFETIME: i64 = 3600;

/// The endpoints whose callers authenticate as clients: each is an acceptable `aud`, as is the
/// issuer itself (RFC 7523 §3: "the token endpoint URL of the authorization server MAY be used").
pub const CLIENT_AUTH_PATHS: [&str; 3] = ["/token", "/introspect", "/revoke"];

#[derive(Deserialize)]
struct Claims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<Value>,
    exp: Option<serde_json::Number>,
    nbf: Option<serde_json::Number>,
    iat: Option<serde_json::Number>,
    jti: Option<String>,
}

/// RFC 7519 §2: a NumericDate may have a fraction; whole seconds are enough here.
fn seconds(n: &Option<serde_json::Number>) -> Option<i64> {
    n.as_ref().and_then(|n| n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)))
}

fn invalid(reason: &str) -> OAuthError {
    tracing::info!(reason, "client assertion refused");
    OAuthError::invalid_client(format!("client assertion refused: {reason}"))
}

/// The client an assertion claims to come from (`sub`, or `iss`), read without verifying it:
/// only to know whose keys to verify it with.
pub fn claimed_client_id(assertion: &str) -> Option<String> {
    let payload = assertion.split('.').nth(1)?;
    let claims: Claims = serde_json::from_slice(&b64url_decode(payload)?).ok()?;
    claims.sub.or(claims.iss)
}

/// Verifies `assertion` as `client`'s authentication, and spends its `jti`.
pub async fn verify(s: &Services, client: &Client, assertion: &str) -> Result<(), OAuthError> {
    let Accepted { jti, exp } = check(s, client, assertion).await?;
    let now = s.now();
    let key = format!("client_assertion_jti:{}:{}", client.id, digest(&jti));
    if s.ephemeral.incr(&key, ttl_until(exp.saturating_add(LEEWAY), now)).await? != 1 {
        return Err(invalid("this jti was already used"));
    }
    Ok(())
}

/// `verify` but for the `jti`: the signature with the client's keys, then the claims. Writes
/// nothing, and reads no store for a client with inline `jwks` (the fuzz target
/// `client_assertion` calls it directly).
pub async fn check(s: &Services, client: &Client, assertion: &str) -> Result<Accepted, OAuthError> {
    let payload = verify_signature(s, client, assertion).await?;
    let accepted: Vec<String> =
        std::iter::once(s.issuer.clone()).chain(CLIENT_AUTH_PATHS.iter().map(|p| s.endpoint(p))).collect();
    check_claims(payload, &client.id, &accepted, s.now())
}

/// What the claims checks let through: the `jti` to spend, until `exp`.
#[derive(Debug, PartialEq, Eq)]
pub struct Accepted {
    pub jti: String,
    pub exp: i64,
}

/// The checks on the verified claims, in the order of the module's doc; `accepted` are the
/// audiences naming this server. Times come from the client: arithmetic on them saturates.
fn check_claims(payload: Value, client_id: &str, accepted: &[String], now: i64) -> Result<Accepted, OAuthError> {
    let claims: Claims = serde_json::from_value(payload).map_err(|_| invalid("malformed claims"))?;
    if claims.iss.as_deref() != Some(client_id) || claims.sub.as_deref() != Some(client_id) {
        return Err(invalid("iss and sub must both be the client_id"));
    }
    let audiences: Vec<&str> = match &claims.aud {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !audiences.iter().any(|a| accepted.iter().any(|ok| ok == a)) {
        return Err(invalid("aud does not name this server"));
    }
    let exp = seconds(&claims.exp).ok_or_else(|| invalid("exp is missing"))?;
    if exp.saturating_add(LEEWAY) <= now {
        return Err(invalid("the assertion has expired"));
    }
    if exp > now + MAX_LIFETIME {
        return Err(invalid("exp is too far in the future"));
    }
    if seconds(&claims.nbf).is_some_and(|nbf| nbf > now + LEEWAY) {
        return Err(invalid("the assertion is not valid yet"));
    }
    if seconds(&claims.iat).is_some_and(|iat| iat > now + LEEWAY) {
        return Err(invalid("iat is in the future"));
    }
    // OpenID Connect Core §9: jti is REQUIRED; RFC 7523 §3: it may be used once only.
    let jti = claims.jti.filter(|j| !j.is_empty()).ok_or_else(|| invalid("jti is missing"))?;
    Ok(Accepted { jti, exp })
}

/// The verified payload. A `kid` unknown to cached keys refetches them once.
async fn verify_signature(s: &Services, client: &Client, assertion: &str) -> Result<Value, OAuthError> {
    let keys = client_keys::keys_of(s, client).await.map_err(key_error)?;
    match jwk::verify(&keys.keys, assertion) {
        Err(JwkError::UnknownKey) if keys.cached && jwk::header_kid(assertion).is_some() => {
            match client_keys::refetch(s, client).await.map_err(key_error)? {
                Some(fresh) => jwk::verify(&fresh, assertion).map_err(jws_error),
                None => Err(jws_error(JwkError::UnknownKey)),
            }
        }
        other => other.map_err(jws_error),
    }
}

fn key_error(err: ClientKeyError) -> OAuthError {
    match err {
        ClientKeyError::Ephemeral(e) => e.into(),
        other => invalid(&other.to_string()),
    }
}

fn jws_error(err: JwkError) -> OAuthError {
    invalid(&err.to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const NOW: i64 = 1_900_000_000;

    fn accepted() -> Vec<String> {
        vec!["https://idp.example".into(), "https://idp.example/token".into()]
    }

    fn claims(exp: Value) -> Value {
        json!({"iss": "shop", "sub": "shop", "aud": "https://idp.example/token", "exp": exp, "jti": "j1"})
    }

    #[test]
    fn a_fresh_assertion_for_this_server_is_accepted() {
        let ok = check_claims(claims(json!(NOW + 60)), "shop", &accepted(), NOW).unwrap();
        assert_eq!(ok, Accepted { jti: "j1".into(), exp: NOW + 60 });
    }

    #[test]
    fn an_exp_at_the_end_of_time_is_refused_without_overflow() {
        // Found while fuzzing (through fuzz/client_assertion): `exp + LEEWAY` overflowed.
        for exp in [json!(i64::MAX), json!(i64::MAX - 1), json!(1e19)] {
            let err = check_claims(claims(exp.clone()), "shop", &accepted(), NOW).unwrap_err();
            assert_eq!(err.description, "client assertion refused: exp is too far in the future", "{exp}");
        }
    }

    #[test]
    fn an_assertion_expired_long_ago_is_refused() {
        for exp in [json!(i64::MIN), json!(-1e19), json!(NOW - LEEWAY)] {
            let err = check_claims(claims(exp.clone()), "shop", &accepted(), NOW).unwrap_err();
            assert_eq!(err.description, "client assertion refused: the assertion has expired", "{exp}");
        }
    }
}
