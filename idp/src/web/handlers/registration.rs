//! POST /register (RFC 7591 §3) and GET, PUT, DELETE /register/{client_id} (RFC 7592 §2), each
//! with a bearer token: the flow is `oidc::registration`. Errors are JSON (RFC 7591 §3.2.2);
//! a bad token gets 401 with `WWW-Authenticate` (RFC 6750 §3.1); off, the endpoints are 404.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::oidc::registration::{self, Answer, RegistrationError};
use crate::web::AppState;
use crate::web::browser::Browser;
use crate::web::error::AppError;

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim())
}

fn answer(result: Result<Answer, RegistrationError>) -> Response {
    match result {
        Ok(Answer { created, body }) => {
            let status = if created { StatusCode::CREATED } else { StatusCode::OK };
            // RFC 7591 §3.2.1: the response carries credentials.
            (status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
        }
        Err(err) => error(err),
    }
}

fn error(err: RegistrationError) -> Response {
    let status = match err {
        RegistrationError::Infra(infra) => return AppError::Infra(infra).into_response(),
        RegistrationError::Disabled => StatusCode::NOT_FOUND,
        RegistrationError::InvalidToken => StatusCode::UNAUTHORIZED,
        RegistrationError::InvalidRedirectUri(_) | RegistrationError::InvalidClientMetadata(_) => {
            StatusCode::BAD_REQUEST
        }
    };
    let mut response =
        (status, Json(json!({ "error": err.code(), "error_description": err.to_string() }))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer error=\"invalid_token\""));
    }
    response
}

pub async fn register_post(
    State(state): State<AppState>,
    browser: Browser,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer(registration::register(&state.services, bearer(&headers), &body, &browser.client_info()).await)
}

pub async fn register_client_get(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    answer(registration::read(&state.services, &client_id, bearer(&headers)).await)
}

pub async fn register_client_put(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    browser: Browser,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer(registration::replace(&state.services, &client_id, bearer(&headers), &body, &browser.client_info()).await)
}

pub async fn register_client_delete(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    browser: Browser,
    headers: HeaderMap,
) -> Response {
    match registration::delete(&state.services, &client_id, bearer(&headers), &browser.client_info()).await {
        // RFC 7592 §2.3: 204 No Content.
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(err) => error(err),
    }
}
