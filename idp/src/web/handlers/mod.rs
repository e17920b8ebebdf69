//! Request handlers, one file per resource, named `<resource>_<method>`.

pub mod account;
pub mod authorize;
pub mod consent;
pub mod discovery;
pub mod login;
pub mod logout;
pub mod static_files;
pub mod token;
pub mod userinfo;

use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{IntoResponse, Response};

use super::error::AppError;
use crate::oidc::params::Params;

pub async fn not_found() -> AppError {
    AppError::page(StatusCode::NOT_FOUND, "error_not_found")
}

/// 303 See Other: after a form post the browser must GET the next page (RFC 9110 §15.4.4).
pub fn see_other(location: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, location.to_owned())]).into_response()
}

/// Query or form parameters; malformed ones are a themed 400.
pub fn parse_params(raw: &str) -> Result<Params, AppError> {
    Params::parse(raw).map_err(|_| AppError::page(StatusCode::BAD_REQUEST, "error_bad_request"))
}

/// The single value of a form field, or an error page.
pub fn field<'a>(params: &'a Params, name: &str) -> Result<Option<&'a str>, AppError> {
    params.get(name).map_err(|_| AppError::page(StatusCode::BAD_REQUEST, "error_bad_request"))
}

/// `application/x-www-form-urlencoded` bodies only.
pub fn form_body(headers: &axum::http::HeaderMap, body: &[u8]) -> Result<Params, AppError> {
    let is_form = headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
    });
    if !is_form {
        return Err(AppError::page(StatusCode::UNSUPPORTED_MEDIA_TYPE, "error_bad_request"));
    }
    let text = std::str::from_utf8(body).map_err(|_| AppError::page(StatusCode::BAD_REQUEST, "error_bad_request"))?;
    parse_params(text)
}
