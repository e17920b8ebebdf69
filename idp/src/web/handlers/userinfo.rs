//! GET and POST /userinfo with a bearer token in the header, or (POST) in the form body
//! (RFC 6750 §2.1, §2.2); never both (§2).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use crate::oidc::params::Params;
use crate::oidc::{OAuthError, OAuthErrorCode, userinfo};
use crate::web::AppState;
use crate::web::error::AppError;

fn bearer(headers: &HeaderMap) -> Result<Option<String>, AppError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value =
        value.to_str().map_err(|_| AppError::Bearer(OAuthError::invalid_request("malformed Authorization header")))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(Some(token.trim().to_owned()))
        }
        _ => Err(AppError::Bearer(OAuthError::new(OAuthErrorCode::InvalidToken, ""))),
    }
}

async fn answer(state: &AppState, token: Option<String>) -> Result<Response, AppError> {
    let Some(token) = token else {
        // RFC 6750 §3.1: no credentials, no error code.
        return Err(AppError::Bearer(OAuthError::new(OAuthErrorCode::InvalidToken, "")));
    };
    let claims = userinfo::userinfo(&state.services, &token).await.map_err(AppError::Bearer)?;
    Ok(Json(claims).into_response())
}

pub async fn userinfo_get(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    let token = bearer(&headers)?;
    answer(&state, token).await
}

pub async fn userinfo_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let header_token = bearer(&headers)?;
    let body_token = if super::is_form(&headers) {
        let params = std::str::from_utf8(&body)
            .ok()
            .and_then(|t| Params::parse(t).ok())
            .ok_or_else(|| AppError::Bearer(OAuthError::invalid_request("malformed form body")))?;
        params.get_owned("access_token").map_err(|e| AppError::Bearer(OAuthError::invalid_request(e.to_string())))?
    } else {
        None
    };
    let token = match (header_token, body_token) {
        (Some(_), Some(_)) => {
            return Err(AppError::Bearer(OAuthError::invalid_request("more than one method used to send the token")));
        }
        (a, b) => a.or(b),
    };
    answer(&state, token).await
}
