//! Request objects passed by value (OpenID Connect Core §6.1): a JWT whose claims are
//! authorization request parameters, taking precedence over the query's (§6.3.3); `client_id`
//! and `response_type` inside must match the query's when both are present. Unsigned ones
//! (`alg: none`) are accepted; signed ones (RS256, ES256, EdDSA) are verified with the keys the
//! client registered (`jwks` or `jwks_uri`, as for `private_key_jwt`), and then their `iss`
//! must be the client and their `aud` this provider when present, and `exp` not past.
//! Encrypted ones and `request_uri` are not supported.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use super::client_keys::{self, ClientKeyError};
use super::jwk;
use super::params::Params;
use super::{OAuthError, OAuthErrorCode};
use crate::domain::Client;
use crate::services::Services;

/// `request_object_signing_alg_values_supported`: exactly what `apply` accepts.
pub const SIGNING_ALGS_SUPPORTED: [&str; 4] = ["none", "RS256", "ES256", "EdDSA"];

fn invalid(description: &str) -> OAuthError {
    OAuthError::new(OAuthErrorCode::InvalidRequestObject, description)
}

fn decode_json(part: &str) -> Result<serde_json::Map<String, Value>, OAuthError> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| invalid("the request object is not a JWT"))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(o)) => Ok(o),
        _ => Err(invalid("the request object is not a JWT")),
    }
}

/// The parameters of the request: the query's, overridden by the request object's when there
/// is one. `Ok(None)`: no request object.
pub async fn apply(s: &Services, params: &Params, client: &Client) -> Result<Option<Params>, OAuthError> {
    let jwt = match params.get("request") {
        Ok(Some(jwt)) => jwt,
        Ok(None) => return Ok(None),
        Err(e) => return Err(OAuthError::invalid_request(e.to_string())),
    };
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, payload, signature] = parts.as_slice() else {
        // Five parts would be an encrypted request object (JWE): not supported.
        return Err(invalid("the request object is not a JWS"));
    };
    let header = decode_json(header)?;
    let claims = match header.get("alg").and_then(Value::as_str) {
        Some("none") if signature.is_empty() => decode_json(payload)?,
        Some("none") => return Err(invalid("an unsigned request object has no signature")),
        Some(_) => verified_claims(s, client, jwt).await?,
        None => return Err(invalid("the request object has no alg")),
    };
    merge(params, &claims).map(Some)
}

/// The query's parameters overridden by the request object's `claims`.
fn merge(params: &Params, claims: &serde_json::Map<String, Value>) -> Result<Params, OAuthError> {
    for name in ["client_id", "response_type"] {
        let inside = claims.get(name).and_then(Value::as_str);
        let outside = params.get(name).ok().flatten();
        if let (Some(a), Some(b)) = (inside, outside)
            && a != b
        {
            return Err(invalid(&format!("{name} in the request object does not match the request")));
        }
    }
    if claims.contains_key("request") || claims.contains_key("request_uri") {
        return Err(invalid("a request object cannot contain request or request_uri"));
    }
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (name, value) in claims {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            // `claims` is a JSON object inside the object (§6.1).
            Value::Object(_) => value.to_string(),
            Value::Null | Value::Array(_) => continue,
        };
        pairs.push((name.clone(), text));
    }
    // Registered JWT claims of the object itself are not request parameters.
    pairs.retain(|(k, _)| !matches!(k.as_str(), "iss" | "aud" | "exp" | "iat" | "nbf" | "jti"));
    for (k, v) in params.pairs() {
        if k != "request" && !pairs.iter().any(|(name, _)| name == k) {
            pairs.push((k.clone(), v.clone()));
        }
    }
    Ok(Params::from_pairs(pairs))
}

/// A signed request object: its signature by one of the client's keys, then `iss`, `aud` and
/// `exp` when present (§6.1: they SHOULD be).
async fn verified_claims(
    s: &Services,
    client: &Client,
    jwt: &str,
) -> Result<serde_json::Map<String, Value>, OAuthError> {
    let keys = client_keys::keys_of(s, client).await.map_err(|e| match e {
        ClientKeyError::Ephemeral(e) => OAuthError::from(crate::services::InfraError::from(e)),
        other => invalid(&other.to_string()),
    })?;
    let claims = match jwk::verify(&keys.keys, jwt) {
        Ok(Value::Object(claims)) => claims,
        Ok(_) => return Err(invalid("the request object is not a JSON object")),
        Err(e) => return Err(invalid(&format!("the request object's signature does not verify: {e}"))),
    };
    if claims.get("iss").is_some_and(|iss| iss != client.id.as_str()) {
        return Err(invalid("the request object's iss is not the client"));
    }
    let aud_ok = match claims.get("aud") {
        None => true,
        Some(Value::String(aud)) => aud == &s.issuer,
        Some(Value::Array(auds)) => auds.iter().any(|a| a == s.issuer.as_str()),
        Some(_) => false,
    };
    if !aud_ok {
        return Err(invalid("the request object's aud is not this provider"));
    }
    if claims.get("exp").and_then(Value::as_i64).is_some_and(|exp| exp <= s.now()) {
        return Err(invalid("the request object has expired"));
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(json: &str) -> serde_json::Map<String, Value> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn object_parameters_take_precedence() {
        let object =
            claims(r#"{"client_id":"shop","state":"inside","max_age":10,"claims":{"userinfo":{"name":null}}}"#);
        let params = Params::from_pairs(vec![
            ("client_id".into(), "shop".into()),
            ("state".into(), "outside".into()),
            ("request".into(), "x.y.".into()),
        ]);
        let merged = merge(&params, &object).unwrap();
        assert_eq!(merged.get("state"), Ok(Some("inside")));
        assert_eq!(merged.get("max_age"), Ok(Some("10")));
        assert_eq!(merged.get("claims"), Ok(Some(r#"{"userinfo":{"name":null}}"#)));
        assert_eq!(merged.get("request"), Ok(None));
    }

    #[test]
    fn mismatching_client_ids_and_nested_requests_are_refused() {
        let params = Params::from_pairs(vec![("client_id".into(), "shop".into())]);
        let err = merge(&params, &claims(r#"{"client_id":"other"}"#)).unwrap_err();
        assert_eq!(err.code, OAuthErrorCode::InvalidRequestObject);
        let err = merge(&params, &claims(r#"{"request_uri":"https://x"}"#)).unwrap_err();
        assert_eq!(err.code, OAuthErrorCode::InvalidRequestObject);
    }

    #[test]
    fn the_object_s_own_jwt_claims_are_not_parameters() {
        let merged =
            merge(&Params::default(), &claims(r#"{"iss":"shop","aud":"x","exp":1,"scope":"openid"}"#)).unwrap();
        assert_eq!(merged.get("iss"), Ok(None));
        assert_eq!(merged.get("scope"), Ok(Some("openid")));
    }
}
