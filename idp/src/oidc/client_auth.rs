//! Client authentication at the token endpoint (RFC 6749 §2.3, OpenID Connect Core §9):
//! `client_secret_basic`, `client_secret_post`, `private_key_jwt` (`client_assertion`), and
//! `none` for public clients. A client must use the one method it registered; exactly one
//! method per request.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::OAuthError;
use super::client_assertion;
use super::params::Params;
use crate::crypto::{constant_time_eq, digest};
use crate::domain::{AuthMethod, Client};
use crate::services::Services;

/// Decodes `Authorization: Basic …`; RFC 6749 §2.3.1: both parts are form-urlencoded first.
pub fn parse_basic(header: &str) -> Option<(String, String)> {
    let (scheme, value) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(value.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| -> Option<String> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(&format!("v={}", s.replace('&', "%26").replace('=', "%3D"))).ok()?;
        pairs.into_iter().next().map(|(_, v)| v)
    };
    Some((unescape(id)?, unescape(secret)?))
}

/// What a request presents to authenticate its client, read from the `Authorization` header
/// and the form without looking anything up (`credentials`).
#[derive(Debug, PartialEq, Eq)]
pub enum Credentials<'a> {
    /// `private_key_jwt`: the client the assertion claims to be (read unverified), and the
    /// assertion to verify with that client's keys.
    Assertion { client_id: String, assertion: &'a str },
    /// A client id with its secret (`client_secret_basic`, `client_secret_post`), or without one
    /// (`none`, public clients).
    Secret { client_id: String, secret: Option<String>, method: AuthMethod },
}

/// The credentials of a request, or `invalid_client` (401) / `invalid_request`: exactly one
/// method, and a `client_id` in the body that agrees with the others. Reads no store (the fuzz
/// target `token` calls it directly); `authenticate` then loads and checks the client.
pub fn credentials<'a>(authorization: Option<&str>, params: &'a Params) -> Result<Credentials<'a>, OAuthError> {
    let get = |n: &str| params.get(n).map_err(|e| OAuthError::invalid_request(e.to_string()));
    let basic = match authorization {
        Some(h) if h.trim().to_ascii_lowercase().starts_with("basic ") => Some(
            parse_basic(h)
                .ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials").with_basic_challenge(true))?,
        ),
        _ => None,
    };
    let body_id = get("client_id")?;
    let body_secret = get("client_secret")?;
    let assertion_type = get("client_assertion_type")?;
    let assertion = get("client_assertion")?;
    if assertion_type.is_some() || assertion.is_some() {
        if basic.is_some() || body_secret.is_some() {
            return Err(OAuthError::invalid_request("use only one client authentication method"));
        }
        return assertion_credentials(body_id, assertion_type, assertion);
    }
    match (basic, body_secret) {
        (Some(_), Some(_)) => Err(OAuthError::invalid_request("use only one client authentication method")),
        (Some((id, secret)), None) => {
            if body_id.is_some_and(|b| b != id) {
                return Err(OAuthError::invalid_request("client_id does not match the credentials"));
            }
            Ok(Credentials::Secret { client_id: id, secret: Some(secret), method: AuthMethod::ClientSecretBasic })
        }
        (None, Some(secret)) => Ok(Credentials::Secret {
            client_id: body_id.ok_or_else(|| OAuthError::invalid_request("client_id is missing"))?.to_owned(),
            secret: Some(secret.to_owned()),
            method: AuthMethod::ClientSecretPost,
        }),
        (None, None) => Ok(Credentials::Secret {
            client_id: body_id
                .ok_or_else(|| OAuthError::invalid_client("client authentication is required"))?
                .to_owned(),
            secret: None,
            method: AuthMethod::None,
        }),
    }
}

/// The authenticated client, or `invalid_client` (401) / `invalid_request`.
pub async fn authenticate(s: &Services, authorization: Option<&str>, params: &Params) -> Result<Client, OAuthError> {
    let (client_id, secret, method) = match credentials(authorization, params)? {
        Credentials::Assertion { client_id, assertion } => {
            return authenticate_with_assertion(s, &client_id, assertion).await;
        }
        Credentials::Secret { client_id, secret, method } => (client_id, secret, method),
    };
    let basic_used = method == AuthMethod::ClientSecretBasic;
    let fail = |d: &str| OAuthError::invalid_client(d.to_owned()).with_basic_challenge(basic_used);
    let client = s.store.client(&client_id).await?.ok_or_else(|| fail("client authentication failed"))?;
    if secret_matches(&client, secret.as_deref(), method) {
        return Ok(client);
    }
    // Issue #12: after a rotation the previous secret works until the overlap ends, so a
    // relying party can be redeployed with the new one without an outage (RFC 6749 §2.3.1
    // leaves the credentials' lifecycle to the server).
    if let Some(secret) = secret.as_deref()
        && client.auth_method == method
        && client.secret_digest.is_some()
        && let Some(previous) = s.store.previous_client_secret(&client.id).await?
        && previous_secret_matches(&previous, secret, s.now())
    {
        return Ok(client);
    }
    Err(fail("client authentication failed"))
}

/// Whether `secret` is the previous secret of a rotated client and `now` is before the end of
/// its overlap.
pub fn previous_secret_matches(previous: &crate::store::PreviousSecret, secret: &str, now: i64) -> bool {
    now < previous.expires_at && constant_time_eq(digest(secret).as_bytes(), previous.digest.as_bytes())
}

/// Whether the loaded `client` registered `method` and, for the secret methods, `secret` is
/// its secret (compared by digest, in constant time).
pub fn secret_matches(client: &Client, secret: Option<&str>, method: AuthMethod) -> bool {
    if client.auth_method != method {
        return false;
    }
    match (secret, &client.secret_digest) {
        (None, None) => method == AuthMethod::None,
        (Some(secret), Some(stored)) => constant_time_eq(digest(secret).as_bytes(), stored.as_bytes()),
        _ => false,
    }
}

/// `private_key_jwt` (RFC 7523 §2.2): `client_id` is optional and, when sent, must be the
/// assertion's subject.
fn assertion_credentials<'a>(
    body_id: Option<&str>,
    assertion_type: Option<&str>,
    assertion: Option<&'a str>,
) -> Result<Credentials<'a>, OAuthError> {
    let assertion = assertion.ok_or_else(|| OAuthError::invalid_request("client_assertion is missing"))?;
    match assertion_type {
        None => return Err(OAuthError::invalid_request("client_assertion_type is missing")),
        Some(t) if t != client_assertion::JWT_BEARER => {
            return Err(OAuthError::invalid_client("unsupported client_assertion_type"));
        }
        Some(_) => {}
    }
    let fail = || OAuthError::invalid_client("client authentication failed");
    let claimed = client_assertion::claimed_client_id(assertion).ok_or_else(fail)?;
    if body_id.is_some_and(|id| id != claimed) {
        return Err(OAuthError::invalid_client("client_id does not match the client assertion"));
    }
    Ok(Credentials::Assertion { client_id: claimed, assertion })
}

/// The client of a `private_key_jwt` assertion, loaded, and the assertion verified.
async fn authenticate_with_assertion(s: &Services, claimed: &str, assertion: &str) -> Result<Client, OAuthError> {
    let fail = || OAuthError::invalid_client("client authentication failed");
    let client =
        s.store.client(claimed).await?.filter(|c| c.auth_method == AuthMethod::PrivateKeyJwt).ok_or_else(fail)?;
    client_assertion::verify(s, &client, assertion).await?;
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        // "my%20app:s%3Acret+x" base64
        let header = format!("Basic {}", STANDARD.encode("my%20app:s%3Acret+x"));
        assert_eq!(parse_basic(&header), Some(("my app".into(), "s:cret x".into())));
    }

    #[test]
    fn credentials_are_read_without_a_lookup_and_one_method_only() {
        let basic = format!("Basic {}", STANDARD.encode("shop:s3cret"));
        let form = Params::parse("grant_type=client_credentials").unwrap();
        assert_eq!(
            credentials(Some(&basic), &form).unwrap(),
            Credentials::Secret {
                client_id: "shop".into(),
                secret: Some("s3cret".into()),
                method: AuthMethod::ClientSecretBasic
            }
        );
        let both = Params::parse("client_id=shop&client_secret=x").unwrap();
        assert_eq!(credentials(Some(&basic), &both).unwrap_err().code, crate::oidc::OAuthErrorCode::InvalidRequest);
        let public = Params::parse("client_id=spa").unwrap();
        assert_eq!(
            credentials(None, &public).unwrap(),
            Credentials::Secret { client_id: "spa".into(), secret: None, method: AuthMethod::None }
        );
    }

    #[test]
    fn a_previous_secret_works_only_before_its_overlap_ends() {
        let previous = crate::store::PreviousSecret { digest: digest("old-secret"), expires_at: 1_000 };
        assert!(previous_secret_matches(&previous, "old-secret", 999));
        assert!(!previous_secret_matches(&previous, "old-secret", 1_000), "the overlap has ended");
        assert!(!previous_secret_matches(&previous, "other-secret", 999));
    }

    #[test]
    fn malformed_basic_credentials_are_none() {
        assert_eq!(parse_basic("Basic !!!"), None);
        assert_eq!(parse_basic(&format!("Basic {}", STANDARD.encode("nocolon"))), None);
        assert_eq!(parse_basic("Bearer abc"), None);
    }
}
