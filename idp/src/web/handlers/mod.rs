//! Request handlers, one file per resource, named `<resource>_<method>`.

pub mod access_denied;
pub mod account;
pub mod account_security;
pub mod activate;
pub mod admin_api;
pub mod admin_console;
pub mod authorize;
pub mod captcha;
pub mod cas;
pub mod consent;
pub mod discovery;
pub mod first_login;
pub mod health;
pub mod introspect;
pub mod login;
pub mod logout;
pub mod password_check;
pub mod password_policy;
pub mod recovery;
pub mod recovery_identifier;
pub mod recovery_password;
pub mod registration;
pub mod resume;
pub mod revoke;
pub mod select_account;
pub mod static_files;
pub mod token;
pub mod userinfo;

use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{IntoResponse, Response};

use axum::body::Bytes;

use super::AppState;
use super::browser::Browser;
use super::error::AppError;
use crate::account::csrf;
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

/// True for an `application/x-www-form-urlencoded` body (parameters allowed).
pub fn is_form(headers: &axum::http::HeaderMap) -> bool {
    headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
    })
}

/// `application/x-www-form-urlencoded` bodies only.
pub fn form_body(headers: &axum::http::HeaderMap, body: &[u8]) -> Result<Params, AppError> {
    if !is_form(headers) {
        return Err(AppError::page(StatusCode::UNSUPPORTED_MEDIA_TYPE, "error_bad_request"));
    }
    let text = std::str::from_utf8(body).map_err(|_| AppError::page(StatusCode::BAD_REQUEST, "error_bad_request"))?;
    parse_params(text)
}

/// A form posted by a person, form-encoded. Its fields are out of reach until its CSRF token is
/// checked against what the form acts on (`check`): every state-changing page form goes
/// through this extractor, so none can forget the check, and none can check it against nothing
/// (`account::csrf` says why the context matters). Only the fields that name that state (a
/// request id, a link) are readable before, through `locator`.
pub struct PostedForm {
    params: Params,
    csrf_cookie: Option<String>,
}

impl PostedForm {
    /// A field that names the state the form acts on (`request_id`, `logout_id`, a link's
    /// token, the recovery step), read to find that state before the check.
    pub fn locator(&self, name: &str) -> Result<Option<&str>, AppError> {
        field(&self.params, name)
    }

    /// The form's fields, once its token is this browser's for `context`; a themed 403
    /// otherwise.
    pub fn check(self, state: &AppState, context: csrf::Context<'_>) -> Result<Params, AppError> {
        let submitted = field(&self.params, "csrf")?;
        if !csrf::is_valid(&state.services.csrf_key, self.csrf_cookie.as_deref(), submitted, &context) {
            return Err(AppError::csrf());
        }
        Ok(self.params)
    }
}

impl axum::extract::FromRequest<AppState> for PostedForm {
    type Rejection = AppError;

    async fn from_request(request: axum::extract::Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let browser = <Browser as axum::extract::FromRequestParts<AppState>>::from_request_parts(&mut parts, state)
            .await
            .unwrap_or_default();
        let bytes = <Bytes as axum::extract::FromRequest<AppState>>::from_request(
            axum::extract::Request::from_parts(parts.clone(), body),
            state,
        )
        .await
        .map_err(|rejection| match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => AppError::page(StatusCode::PAYLOAD_TOO_LARGE, "error_payload_too_large"),
            status => AppError::page(status, "error_bad_request"),
        })?;
        let params = form_body(&parts.headers, &bytes)?;
        Ok(PostedForm { params, csrf_cookie: browser.cookie(state.cookies.csrf).map(str::to_owned) })
    }
}
