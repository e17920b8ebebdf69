//! `AppError`, the one error type of the handlers, and its responses: a themed page for people
//! (rendered by the `error_pages` middleware, which knows the theme and language), RFC 6749
//! §5.2 JSON for the token endpoint, RFC 6750 §3 `WWW-Authenticate` for the userinfo endpoint.
//! The one place where "a dependency is unavailable" becomes 503 with `Retry-After` (issue #10):
//! `InfraError::is_unavailable` for pages, `OAuthErrorCode::TemporarilyUnavailable` for JSON.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::oidc::authorize::PageError;
use crate::oidc::{OAuthError, OAuthErrorCode};
use crate::services::InfraError;

use super::pages::View;

/// Marker left on a response for the `error_pages` middleware to render.
#[derive(Clone, Debug)]
pub struct ErrorPage {
    pub key: &'static str,
    pub code: String,
    pub view: Option<View>,
}

#[derive(Debug)]
pub enum AppError {
    Page { status: StatusCode, key: &'static str, code: String, view: Option<View> },
    Infra(InfraError),
    OAuth(OAuthError),
    Bearer(OAuthError),
}

impl AppError {
    pub fn page(status: StatusCode, key: &'static str) -> Self {
        AppError::Page { status, key, code: String::new(), view: None }
    }

    pub fn csrf() -> Self {
        AppError::page(StatusCode::FORBIDDEN, "error_csrf")
    }

    pub fn expired() -> Self {
        AppError::page(StatusCode::BAD_REQUEST, "error_request_expired")
    }

    pub fn from_page_error(err: PageError, view: Option<View>) -> Self {
        let (status, key, code) = match err {
            PageError::UnknownClient => (StatusCode::BAD_REQUEST, "error_unknown_client", "unknown_client".to_owned()),
            PageError::InvalidRedirectUri => {
                (StatusCode::BAD_REQUEST, "error_invalid_redirect_uri", "invalid_redirect_uri".to_owned())
            }
            PageError::RequestExpired => {
                (StatusCode::BAD_REQUEST, "error_request_expired", "request_expired".to_owned())
            }
            PageError::TooManyRequests => {
                (StatusCode::TOO_MANY_REQUESTS, "error_too_many_requests", "too_many_requests".to_owned())
            }
            PageError::InvalidRequest(detail) => {
                (StatusCode::BAD_REQUEST, "error_invalid_request", format!("invalid_request: {detail}"))
            }
        };
        AppError::Page { status, key, code, view }
    }
}

impl From<InfraError> for AppError {
    fn from(err: InfraError) -> Self {
        AppError::Infra(err)
    }
}

/// Seconds a client is told to wait when a dependency is down (RFC 9110 §10.2.3): about the
/// time the Redis client and the database pool take to reconnect.
pub const RETRY_AFTER_SECONDS: &str = "5";

/// RFC 6749 §4.1.2.1 `temporarily_unavailable` as JSON, 503 with `Retry-After`.
pub fn unavailable_json() -> Response {
    oauth_json(&OAuthError::temporarily_unavailable())
}

fn oauth_status(code: OAuthErrorCode) -> StatusCode {
    match code {
        OAuthErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        OAuthErrorCode::InvalidClient | OAuthErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
        OAuthErrorCode::InsufficientScope => StatusCode::FORBIDDEN,
        OAuthErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

pub fn oauth_json(err: &OAuthError) -> Response {
    let status = oauth_status(err.code);
    let mut response =
        (status, Json(json!({"error": err.code.as_str(), "error_description": err.description}))).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECONDS));
    }
    if err.basic_challenge && status == StatusCode::UNAUTHORIZED {
        headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"idp\", charset=\"UTF-8\""));
    }
    response
}

/// RFC 6750 §3: a request without a token gets no error code; others get one.
pub fn bearer_error(err: &OAuthError) -> Response {
    if err.code == OAuthErrorCode::TemporarilyUnavailable {
        // Not a problem with the token: no challenge, just "try again later".
        return oauth_json(err);
    }
    let status = match err.code {
        OAuthErrorCode::InvalidRequest => StatusCode::BAD_REQUEST,
        code => oauth_status(code),
    };
    let challenge = if err.code == OAuthErrorCode::InvalidToken && err.description.is_empty() {
        "Bearer realm=\"idp\"".to_owned()
    } else {
        format!(
            "Bearer realm=\"idp\", error=\"{}\", error_description=\"{}\"",
            err.code.as_str(),
            err.description.replace('"', "'")
        )
    };
    let mut response =
        (status, Json(json!({"error": err.code.as_str(), "error_description": err.description}))).into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::Page { status, key, code, view } => {
                (status, axum::Extension(ErrorPage { key, code, view })).into_response()
            }
            AppError::Infra(err) if err.is_unavailable() => {
                tracing::warn!(error = %err, "a dependency is unavailable");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECONDS))],
                    axum::Extension(ErrorPage { key: "error_unavailable", code: String::new(), view: None }),
                )
                    .into_response()
            }
            AppError::Infra(err) => {
                tracing::error!(error = %err, "infrastructure failure");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    axum::Extension(ErrorPage { key: "error_internal", code: String::new(), view: None }),
                )
                    .into_response()
            }
            AppError::OAuth(err) => oauth_json(&err),
            AppError::Bearer(err) => bearer_error(&err),
        }
    }
}
