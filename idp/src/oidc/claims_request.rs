//! The `claims` request parameter (OpenID Connect Core §5.5) and `acr` (§2, §5.5.1.1): which
//! individual claims a client asks for, for the ID token and for userinfo, parsed once at the
//! authorization endpoint and carried with the grant. Which claims a user *has* lives in
//! `userinfo::claims_for`; this module only decides which of them go where.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{OAuthError, userinfo};
use crate::domain::{Scopes, User};
use crate::ephemeral;
use crate::services::{InfraError, Services};

/// The authentication context classes this provider can state (`acr_values_supported`). Every
/// sign-in is a password sign-in today, so there is one level: a password checked by this
/// provider within the session (no second factor). A client asking for anything else as an
/// essential claim is refused (§5.5.1.1).
pub const ACR_PASSWORD: &str = "urn:idp:acr:password";
pub const ACR_VALUES_SUPPORTED: [&str; 1] = [ACR_PASSWORD];

/// One requested claim (§5.5.1): `null`, or an object with `essential`, `value` or `values`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimSpec {
    #[serde(default)]
    pub essential: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<Value>>,
}

/// §5.5: the members `userinfo` and `id_token`; other members are ignored (§5.5: "other
/// members MAY be present... if not understood, they MUST be ignored").
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimsRequest {
    #[serde(default)]
    pub userinfo: BTreeMap<String, ClaimSpec>,
    #[serde(default)]
    pub id_token: BTreeMap<String, ClaimSpec>,
}

fn malformed(what: &str) -> OAuthError {
    OAuthError::invalid_request(format!("malformed claims parameter: {what}"))
}

fn parse_member(value: Option<&Value>) -> Result<BTreeMap<String, ClaimSpec>, OAuthError> {
    let mut claims = BTreeMap::new();
    let object = match value {
        None | Some(Value::Null) => return Ok(claims),
        Some(Value::Object(object)) => object,
        Some(_) => return Err(malformed("userinfo and id_token must be objects")),
    };
    for (name, spec) in object {
        let spec = match spec {
            Value::Null => ClaimSpec::default(),
            Value::Object(o) => ClaimSpec {
                essential: match o.get("essential") {
                    None | Some(Value::Null) => false,
                    Some(Value::Bool(b)) => *b,
                    Some(_) => return Err(malformed("essential must be a boolean")),
                },
                value: o.get("value").cloned(),
                values: match o.get("values") {
                    None => None,
                    Some(Value::Array(values)) => Some(values.clone()),
                    Some(_) => return Err(malformed("values must be an array")),
                },
            },
            _ => return Err(malformed("each claim must be null or an object")),
        };
        claims.insert(name.clone(), spec);
    }
    Ok(claims)
}

impl ClaimsRequest {
    /// Parses the JSON text of the `claims` parameter; anything malformed is `invalid_request`.
    pub fn parse(raw: &str) -> Result<Self, OAuthError> {
        let value: Value = serde_json::from_str(raw).map_err(|_| malformed("not JSON"))?;
        let Value::Object(top) = value else {
            return Err(malformed("not a JSON object"));
        };
        Ok(Self { userinfo: parse_member(top.get("userinfo"))?, id_token: parse_member(top.get("id_token"))? })
    }

    pub fn is_empty(&self) -> bool {
        self.userinfo.is_empty() && self.id_token.is_empty()
    }

    /// The scopes whose claims are asked for one by one: shown on the consent page and
    /// remembered with the consent, so a claim is never released without the user seeing it.
    pub fn implied_scopes(&self) -> Scopes {
        let names = self.userinfo.keys().chain(self.id_token.keys());
        let scopes: Vec<&str> = names.filter_map(|name| scope_of(name)).collect();
        Scopes::parse(&scopes.join(" ")).unwrap_or_default()
    }
}

/// OpenID Connect Core §5.4: the scope that releases a standard claim.
fn scope_of(claim: &str) -> Option<&'static str> {
    match claim {
        "name" | "given_name" | "family_name" | "middle_name" | "nickname" | "preferred_username" | "profile"
        | "picture" | "website" | "gender" | "birthdate" | "zoneinfo" | "locale" | "updated_at" => Some("profile"),
        "email" | "email_verified" => Some("email"),
        "address" => Some("address"),
        "phone_number" | "phone_number_verified" => Some("phone"),
        _ => None,
    }
}

/// The requested claims among `available` (the user's claims, all scopes): a claim the user
/// does not have is left out (§5.5.1: "the Claim is not returned"). `sub` is never touched.
pub fn select(requested: &BTreeMap<String, ClaimSpec>, available: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for name in requested.keys() {
        if name == "sub" || name == "acr" {
            continue;
        }
        if let Some(value) = available.get(name) {
            out.insert(name.clone(), value.clone());
        }
    }
    out
}

fn grant_key(grant_id: &str) -> String {
    format!("claims_request:{grant_id}")
}

/// Keeps the userinfo part of a grant's claims request for as long as the grant's tokens may
/// live (refreshed access tokens keep the same grant id, hence the same answer at userinfo).
pub async fn remember_for_grant(s: &Services, grant_id: &str, claims: &ClaimsRequest) -> Result<(), InfraError> {
    if claims.userinfo.is_empty() {
        return Ok(());
    }
    let ttl = Duration::from_secs(s.lifetimes.refresh_token.max(s.lifetimes.access_token).max(0) as u64);
    ephemeral::put_json(s.ephemeral.as_ref(), &grant_key(grant_id), claims, ttl).await?;
    Ok(())
}

/// The claims request of a grant, empty when it had none.
pub async fn for_grant(s: &Services, grant_id: &str) -> Result<ClaimsRequest, InfraError> {
    Ok(ephemeral::get_json(s.ephemeral.as_ref(), &grant_key(grant_id)).await?.unwrap_or_default())
}

/// The claims an ID token carries beyond the protocol ones: `acr` when asked for, and the
/// `id_token` claims of the claims request that the user has (§5.5). Scope claims go to
/// userinfo only (§5.4, code flow).
pub fn id_token_extras(user: &User, claims: &ClaimsRequest, acr: Option<&str>) -> Map<String, Value> {
    let mut extras = select(&claims.id_token, &userinfo::claims_for(user, &all_scopes()));
    if let Some(acr) = acr {
        extras.insert("acr".into(), Value::String(acr.to_owned()));
    }
    extras
}

/// Userinfo claims: those of the granted scopes plus the ones asked for one by one.
pub fn userinfo_claims(user: &User, scopes: &Scopes, claims: &ClaimsRequest) -> Map<String, Value> {
    let mut out = userinfo::claims_for(user, scopes);
    out.extend(select(&claims.userinfo, &userinfo::claims_for(user, &all_scopes())));
    out
}

fn all_scopes() -> Scopes {
    Scopes::parse(&crate::domain::scope::SUPPORTED.join(" ")).unwrap_or_default()
}

/// The `acr` to put in the ID token, when one was asked for (`acr_values` or an `acr` claim
/// request), or `Err` when an essential `acr` request names only values this provider cannot
/// meet (§5.5.1.1: treated as a failed authentication).
pub fn acr_for(claims: &ClaimsRequest, acr_values: Option<&str>) -> Result<Option<String>, OAuthError> {
    let Some(spec) = claims.id_token.get("acr") else {
        return Ok(acr_values.map(|_| ACR_PASSWORD.to_owned()));
    };
    let mut wanted: Vec<&Value> = spec.values.iter().flatten().collect();
    wanted.extend(spec.value.iter());
    let met = wanted.is_empty() || wanted.iter().any(|v| v.as_str() == Some(ACR_PASSWORD));
    if spec.essential && !met {
        return Err(OAuthError::new(
            super::OAuthErrorCode::AccessDenied,
            "the requested essential acr cannot be met (supported: urn:idp:acr:password)",
        ));
    }
    Ok(Some(ACR_PASSWORD.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn essential_and_voluntary_claims_are_parsed() {
        let c = ClaimsRequest::parse(
            r#"{"userinfo":{"name":{"essential":true},"email":null},"id_token":{"acr":{"values":["x"]}}}"#,
        )
        .unwrap();
        assert!(c.userinfo["name"].essential);
        assert!(!c.userinfo["email"].essential);
        assert_eq!(c.id_token["acr"].values, Some(vec![json!("x")]));
        assert_eq!(c.implied_scopes().to_string(), "email profile");
    }

    #[test]
    fn malformed_claims_are_invalid_requests() {
        for raw in ["not json", "[]", r#"{"userinfo":[]}"#, r#"{"userinfo":{"name":{"essential":"yes"}}}"#] {
            assert!(ClaimsRequest::parse(raw).is_err(), "{raw} should be refused");
        }
    }

    #[test]
    fn an_essential_acr_that_cannot_be_met_is_refused() {
        let c = ClaimsRequest::parse(r#"{"id_token":{"acr":{"essential":true,"values":["urn:other"]}}}"#).unwrap();
        assert!(acr_for(&c, None).is_err());
        let c = ClaimsRequest::parse(r#"{"id_token":{"acr":{"values":["urn:other"]}}}"#).unwrap();
        assert_eq!(acr_for(&c, None).unwrap().as_deref(), Some(ACR_PASSWORD));
        assert_eq!(acr_for(&ClaimsRequest::default(), None).unwrap(), None);
        assert_eq!(acr_for(&ClaimsRequest::default(), Some("1 2")).unwrap().as_deref(), Some(ACR_PASSWORD));
    }
}
