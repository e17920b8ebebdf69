//! Protocol errors, one variant per RFC code. Endpoints answer them as JSON (RFC 6749 §5.2),
//! the authorization endpoint as a redirect (RFC 6749 §4.1.2.1), the userinfo endpoint in
//! `WWW-Authenticate` (RFC 6750 §3).

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OAuthErrorCode {
    /// RFC 6749 §4.1.2.1 / §5.2: missing, repeated or malformed parameter.
    InvalidRequest,
    /// RFC 6749 §5.2: client authentication failed (401).
    InvalidClient,
    /// RFC 6749 §5.2: the code or refresh token is invalid, expired, revoked, or was issued to
    /// another client or redirect URI; PKCE verifier mismatch (RFC 7636 §4.6).
    InvalidGrant,
    /// RFC 6749 §4.1.2.1 / §5.2: this client may not use this grant or response type.
    UnauthorizedClient,
    /// RFC 6749 §5.2.
    UnsupportedGrantType,
    /// RFC 6749 §4.1.2.1.
    UnsupportedResponseType,
    /// RFC 6749 §4.1.2.1 / §5.2.
    InvalidScope,
    /// RFC 6749 §4.1.2.1: the user or server refused.
    AccessDenied,
    /// RFC 6749 §4.1.2.1.
    ServerError,
    /// RFC 6749 §4.1.2.1: the server is temporarily unable to handle the request (a dependency
    /// is down); answered 503 with `Retry-After` by the other endpoints too (issue #10).
    TemporarilyUnavailable,
    /// OpenID Connect Core §3.1.2.6: `prompt=none` and nobody is signed in.
    LoginRequired,
    /// OpenID Connect Core §3.1.2.6: `prompt=none` and consent is needed.
    ConsentRequired,
    /// OpenID Connect Core §3.1.2.6: `prompt=none` and an interaction is needed.
    InteractionRequired,
    /// OpenID Connect Core §3.1.2.6.
    RequestNotSupported,
    RequestUriNotSupported,
    /// OpenID Connect Core §3.1.2.6: the request object is invalid (or signed, which is not
    /// accepted).
    InvalidRequestObject,
    /// RFC 6750 §3.1: the access token is expired, revoked, malformed or unknown (401).
    InvalidToken,
    /// RFC 6750 §3.1: the token lacks the scope needed (403).
    InsufficientScope,
}

impl OAuthErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::InteractionRequired => "interaction_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::InvalidRequestObject => "invalid_request_object",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
        }
    }
}

/// A protocol error with a human description (ASCII, no secrets, RFC 6749 §5.2).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}: {description}", code.as_str())]
pub struct OAuthError {
    pub code: OAuthErrorCode,
    pub description: String,
    /// The client tried HTTP Basic: a 401 must carry `WWW-Authenticate: Basic` (RFC 6749 §5.2).
    pub basic_challenge: bool,
}

impl OAuthError {
    pub fn new(code: OAuthErrorCode, description: impl Into<String>) -> Self {
        Self { code, description: description.into(), basic_challenge: false }
    }
    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidRequest, d)
    }
    pub fn invalid_grant(d: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidGrant, d)
    }
    pub fn invalid_client(d: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidClient, d)
    }
    pub fn server_error() -> Self {
        Self::new(OAuthErrorCode::ServerError, "the server could not complete the request")
    }
    pub fn temporarily_unavailable() -> Self {
        Self::new(OAuthErrorCode::TemporarilyUnavailable, "the service is temporarily unavailable, try again later")
    }
    /// The server failed (`server_error`) or a dependency is down (`temporarily_unavailable`):
    /// nothing the client did.
    pub fn is_infra(&self) -> bool {
        matches!(self.code, OAuthErrorCode::ServerError | OAuthErrorCode::TemporarilyUnavailable)
    }
    pub fn with_basic_challenge(mut self, basic: bool) -> Self {
        self.basic_challenge = basic;
        self
    }
}
