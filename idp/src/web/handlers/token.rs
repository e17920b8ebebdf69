//! POST /token (RFC 6749 §3.2): form body only, JSON answers, never cached (§5.1).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::oidc::params::Params;
use crate::oidc::{OAuthError, token};
use crate::web::AppState;
use crate::web::error::AppError;

/// The form body of a request from a client's back end (token, introspection, revocation),
/// or an RFC 6749 §5.2 `invalid_request`.
pub fn machine_form(headers: &HeaderMap, body: &[u8]) -> Result<Params, AppError> {
    if !super::is_form(headers) {
        return Err(AppError::OAuth(OAuthError::invalid_request("the body must be application/x-www-form-urlencoded")));
    }
    std::str::from_utf8(body)
        .ok()
        .and_then(|text| Params::parse(text).ok())
        .ok_or_else(|| AppError::OAuth(OAuthError::invalid_request("malformed form body")))
}

pub async fn token_post(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, AppError> {
    let params = machine_form(&headers, &body)?;
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let response = token::token(&state.services, authorization, &params).await.map_err(AppError::OAuth)?;
    let mut response = Json(response).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}
