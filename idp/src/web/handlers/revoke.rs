//! POST /revoke (RFC 7009 §2.1): form body, client authentication as at the token endpoint;
//! success is 200 with an empty body (§2.2).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::oidc::revoke;
use crate::web::AppState;
use crate::web::error::AppError;

pub async fn revoke_post(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, AppError> {
    let params = super::token::machine_form(&headers, &body)?;
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    revoke::revoke(&state.services, authorization, &params).await.map_err(AppError::OAuth)?;
    Ok(StatusCode::OK.into_response())
}
