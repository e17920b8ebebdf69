//! Request objects passed by value (OpenID Connect Core §6.1): a JWT whose claims are
//! authorization request parameters, taking precedence over the query's (§6.3.3); `client_id`
//! and `response_type` inside must match the query's when both are present. Signed ones
//! (RS256, ES256, EdDSA) are verified with the keys the client registered (`jwks` or
//! `jwks_uri`, as for `private_key_jwt`), and then their `iss` must be the client and their
//! `aud` this provider when present, and `exp` not past. Unsigned ones (`alg: none`) are
//! accepted only from a client without keys: one that registered keys can sign, so an unsigned
//! object in its name is refused (issue #10). A client registered with
//! `require_signed_request_object` (RFC 9101 §10.5) sends every request as a signed object.
//! Members are typed (strings, `max_age` a number, `claims` an object): a member of the wrong
//! JSON type is `invalid_request_object`, never dropped. Encrypted objects and `request_uri`
//! are not supported.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use super::client_keys::{self, ClientKeyError};
use super::jwk;
use super::params::Params;
use super::{OAuthError, OAuthErrorCode};
use crate::domain::Client;
use crate::services::Services;

/// `request_object_signing_alg_values_supported`: exactly what `apply` accepts (`none` only
/// from clients without keys).
pub const SIGNING_ALGS_SUPPORTED: [&str; 4] = ["none", "RS256", "ES256", "EdDSA"];

/// Authorization request parameters whose value is a JSON string in a request object (OpenID
/// Connect Core §3.1.2.1, §5.5, §6.1; RFC 7636 §4.3). `max_age` is a number and `claims` an
/// object (below); `request` and `request_uri` may not appear at all.
const STRING_MEMBERS: [&str; 17] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "response_mode",
    "display",
    "prompt",
    "ui_locales",
    "claims_locales",
    "id_token_hint",
    "login_hint",
    "acr_values",
    "code_challenge",
    "code_challenge_method",
    "registration",
];

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

fn has_keys(client: &Client) -> bool {
    client.settings.jwks.is_some() || client.settings.jwks_uri.is_some()
}

/// The parameters of the request: the query's, overridden by the request object's when there
/// is one. `Ok(None)`: no request object.
pub async fn apply(s: &Services, params: &Params, client: &Client) -> Result<Option<Params>, OAuthError> {
    let jwt = match params.get("request") {
        Ok(Some(jwt)) => jwt,
        // RFC 9101 §10.5: "the authorization server MUST reject the authorization request from
        // the client that does not conform to this specification".
        Ok(None) if client.settings.require_signed_request_object => {
            return Err(OAuthError::invalid_request("this client must send its request as a signed request object"));
        }
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
        // RFC 9101 §10.5 ("It MUST also reject the request if the Request Object uses an alg
        // value of none"); a client with keys can sign, so its name on an unsigned object is
        // not proof of anything (issue #10).
        Some("none") if client.settings.require_signed_request_object || has_keys(client) => {
            return Err(invalid("this client registered keys: its request objects must be signed"));
        }
        Some("none") if signature.is_empty() => decode_json(payload)?,
        Some("none") => return Err(invalid("an unsigned request object has no signature")),
        Some(_) => verified_claims(s, client, jwt).await?,
        None => return Err(invalid("the request object has no alg")),
    };
    merge(params, &claims).map(Some)
}

/// The text of one member as a request parameter; `invalid_request_object` when its JSON type
/// is wrong. `None` for members that are not parameters (the object's own JWT claims, once
/// their types are checked) and for unknown members that are not strings: unrecognised
/// parameters are ignored (RFC 6749 §3.1).
fn member_text(name: &str, value: &Value) -> Result<Option<String>, OAuthError> {
    let wrong = |expected: &str| invalid(&format!("{name} in the request object must be {expected}"));
    match name {
        "request" | "request_uri" => Err(invalid("a request object cannot contain request or request_uri")),
        _ if STRING_MEMBERS.contains(&name) => {
            value.as_str().map(|v| Some(v.to_owned())).ok_or_else(|| wrong("a string"))
        }
        // §6.1's example: "max_age": 86400.
        "max_age" => value.as_u64().map(|n| Some(n.to_string())).ok_or_else(|| wrong("a non-negative integer")),
        // §5.5: `claims` is a JSON object inside the object.
        "claims" => value.is_object().then(|| Some(value.to_string())).ok_or_else(|| wrong("a JSON object")),
        // RFC 7519 §4.1: registered claims of the object itself, not request parameters.
        "iss" | "jti" => value.is_string().then_some(None).ok_or_else(|| wrong("a string")),
        "aud" => {
            let ok = value.is_string() || value.as_array().is_some_and(|a| a.iter().all(Value::is_string));
            ok.then_some(None).ok_or_else(|| wrong("a string or an array of strings"))
        }
        "exp" | "iat" | "nbf" => value.is_number().then_some(None).ok_or_else(|| wrong("a number")),
        _ => Ok(value.as_str().map(str::to_owned)),
    }
}

/// The query's parameters overridden by the request object's `claims`.
fn merge(params: &Params, claims: &serde_json::Map<String, Value>) -> Result<Params, OAuthError> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (name, value) in claims {
        if let Some(text) = member_text(name, value)? {
            pairs.push((name.clone(), text));
        }
    }
    for name in ["client_id", "response_type"] {
        let inside = pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let outside = params.get(name).ok().flatten();
        if let (Some(a), Some(b)) = (inside, outside)
            && a != b
        {
            return Err(invalid(&format!("{name} in the request object does not match the request")));
        }
    }
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
    // Numbers may be written with a fraction (RFC 7519 §2 NumericDate); their types are
    // checked with the other members (`member_text`).
    let now = s.now() as f64;
    if claims.get("exp").and_then(Value::as_f64).is_some_and(|exp| exp <= now) {
        return Err(invalid("the request object has expired"));
    }
    if claims.get("nbf").and_then(Value::as_f64).is_some_and(|nbf| nbf > now) {
        return Err(invalid("the request object is not valid yet"));
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
    fn members_of_the_wrong_json_type_are_refused_not_dropped() {
        for object in [
            r#"{"prompt":["login"]}"#,
            r#"{"state":42}"#,
            r#"{"scope":{"openid":true}}"#,
            r#"{"nonce":null}"#,
            r#"{"max_age":"600"}"#,
            r#"{"max_age":-1}"#,
            r#"{"max_age":1.5}"#,
            r#"{"claims":"{\"userinfo\":{}}"}"#,
            r#"{"client_id":7}"#,
            r#"{"exp":"tomorrow"}"#,
            r#"{"aud":[1]}"#,
            r#"{"iss":false}"#,
        ] {
            let err = merge(&Params::default(), &claims(object)).unwrap_err();
            assert_eq!(err.code, OAuthErrorCode::InvalidRequestObject, "{object} was accepted");
        }
    }

    #[test]
    fn unknown_members_are_ignored_like_unknown_parameters() {
        // RFC 6749 §3.1: unrecognised parameters are ignored; a string one passes through as before.
        let merged = merge(&Params::default(), &claims(r#"{"x_tenant":"a","x_flags":[1],"scope":"openid"}"#)).unwrap();
        assert_eq!(merged.get("x_tenant"), Ok(Some("a")));
        assert_eq!(merged.get("x_flags"), Ok(None));
        assert_eq!(merged.get("scope"), Ok(Some("openid")));
    }

    #[test]
    fn the_object_s_own_jwt_claims_are_not_parameters() {
        let merged =
            merge(&Params::default(), &claims(r#"{"iss":"shop","aud":"x","exp":1,"scope":"openid"}"#)).unwrap();
        assert_eq!(merged.get("iss"), Ok(None));
        assert_eq!(merged.get("scope"), Ok(Some("openid")));
    }
}
