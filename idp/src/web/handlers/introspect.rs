//! POST /introspect (RFC 7662 §2): form body, client authentication as at the token endpoint,
//! a JSON answer that is never cached (the active state of a token changes).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::oidc::introspect;
use crate::web::AppState;
use crate::web::error::AppError;

pub async fn introspect_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let params = super::token::machine_form(&headers, &body)?;
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let answer = introspect::introspect(&state.services, authorization, &params).await.map_err(AppError::OAuth)?;
    let mut response = Json(answer).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
