//! The token request (RFC 6749 §3.2), parsed once from the form into one shape per grant, so a
//! grant function receives exactly the parameters its section defines and never reads the form
//! again. Parsing reads no store: a repeated or oversized parameter (§3.2: "MUST NOT be
//! included more than once") or a missing required one is `invalid_request`, an unknown
//! `grant_type` is `unsupported_grant_type` (§5.2). What needs the client or the grant to judge
//! (the scope against what was granted, the code against its record) stays with the grant.
//! Client authentication has its own parser (`client_auth::credentials`).

use super::params::Params;
use super::{OAuthError, OAuthErrorCode};
use crate::domain::{GrantType, Secret};

/// A token request, by grant type.
#[derive(Debug)]
pub enum TokenRequest {
    /// `grant_type=authorization_code` (RFC 6749 §4.1.3).
    AuthorizationCode(CodeExchange),
    /// `grant_type=refresh_token` (RFC 6749 §6).
    RefreshToken(RefreshRequest),
    /// `grant_type=client_credentials` (RFC 6749 §4.4.2).
    ClientCredentials(ClientCredentialsRequest),
}

/// RFC 6749 §4.1.3 and RFC 7636 §4.5.
#[derive(Debug)]
pub struct CodeExchange {
    pub code: Secret,
    /// Required by §4.1.3 when the authorization request had one, which ours always do; its
    /// absence is therefore a mismatch (`invalid_grant`), judged against the code's record.
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<Secret>,
}

/// RFC 6749 §6.
#[derive(Debug)]
pub struct RefreshRequest {
    pub refresh_token: Secret,
    /// As sent; narrowed against the original grant by the refresh grant (`invalid_scope`).
    pub scope: Option<String>,
}

/// RFC 6749 §4.4.2.
#[derive(Debug)]
pub struct ClientCredentialsRequest {
    /// As sent; checked against the client's `allowed_scopes` by the grant (`invalid_scope`).
    pub scope: Option<String>,
}

impl TokenRequest {
    /// The request in `params`, or the RFC 6749 §5.2 error it deserves.
    pub fn parse(params: &Params) -> Result<Self, OAuthError> {
        let get = |name: &str| params.get(name).map_err(|e| OAuthError::invalid_request(e.to_string()));
        let require = |name: &str| get(name)?.ok_or_else(|| OAuthError::invalid_request(format!("{name} is missing")));
        let owned = |v: Option<&str>| v.map(str::to_owned);
        match get("grant_type")? {
            None => Err(OAuthError::invalid_request("grant_type is missing")),
            Some("authorization_code") => Ok(Self::AuthorizationCode(CodeExchange {
                code: Secret::new(require("code")?),
                redirect_uri: owned(get("redirect_uri")?),
                code_verifier: get("code_verifier")?.map(Secret::new),
            })),
            Some("refresh_token") => Ok(Self::RefreshToken(RefreshRequest {
                refresh_token: Secret::new(require("refresh_token")?),
                scope: owned(get("scope")?),
            })),
            Some("client_credentials") => {
                Ok(Self::ClientCredentials(ClientCredentialsRequest { scope: owned(get("scope")?) }))
            }
            Some(_) => Err(OAuthError::new(OAuthErrorCode::UnsupportedGrantType, "unsupported grant_type")),
        }
    }

    pub fn grant_type(&self) -> GrantType {
        match self {
            Self::AuthorizationCode(_) => GrantType::AuthorizationCode,
            Self::RefreshToken(_) => GrantType::RefreshToken,
            Self::ClientCredentials(_) => GrantType::ClientCredentials,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(form: &str) -> Result<TokenRequest, OAuthError> {
        TokenRequest::parse(&Params::parse(form).unwrap())
    }

    fn refused(form: &str) -> (OAuthErrorCode, String) {
        let e = parse(form).unwrap_err();
        (e.code, e.description)
    }

    #[test]
    fn an_authorization_code_request_carries_its_three_parameters() {
        let TokenRequest::AuthorizationCode(exchange) =
            parse("grant_type=authorization_code&code=c&redirect_uri=https%3A%2F%2Frp%2Fcb&code_verifier=v").unwrap()
        else {
            panic!("not an authorization code request");
        };
        assert_eq!(exchange.code.expose(), "c");
        assert_eq!(exchange.redirect_uri.as_deref(), Some("https://rp/cb"));
        assert_eq!(exchange.code_verifier.as_ref().map(Secret::expose), Some("v"));
    }

    #[test]
    fn a_missing_or_unknown_grant_type_is_refused_as_rfc_6749_says() {
        assert_eq!(refused("code=c"), (OAuthErrorCode::InvalidRequest, "grant_type is missing".into()));
        assert_eq!(refused("grant_type=password").0, OAuthErrorCode::UnsupportedGrantType);
    }

    #[test]
    fn a_repeated_parameter_is_invalid_request() {
        for form in [
            "grant_type=refresh_token&grant_type=refresh_token&refresh_token=r",
            "grant_type=authorization_code&code=a&code=b",
            "grant_type=refresh_token&refresh_token=r&scope=a&scope=b",
            "grant_type=client_credentials&scope=a&scope=b",
        ] {
            assert_eq!(refused(form).0, OAuthErrorCode::InvalidRequest, "{form}");
        }
    }

    #[test]
    fn a_required_parameter_left_out_or_empty_is_named() {
        assert_eq!(refused("grant_type=authorization_code&code=").1, "code is missing");
        assert_eq!(refused("grant_type=refresh_token").1, "refresh_token is missing");
    }

    #[test]
    fn optional_parameters_may_be_left_out() {
        let request = parse("grant_type=client_credentials").unwrap();
        assert!(matches!(request, TokenRequest::ClientCredentials(ClientCredentialsRequest { scope: None })));
        assert_eq!(request.grant_type(), GrantType::ClientCredentials);
    }

    #[test]
    fn secrets_never_print() {
        let request = parse("grant_type=refresh_token&refresh_token=hunter2").unwrap();
        assert!(!format!("{request:?}").contains("hunter2"));
    }
}
