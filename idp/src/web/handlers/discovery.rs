//! Discovery document and JWKS.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::oidc::discovery;
use crate::web::AppState;

pub async fn discovery_get(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(discovery::document(&state.services.issuer, state.services.admin.dynamic_registration)),
    )
}

pub async fn jwks_get(State(state): State<AppState>) -> impl IntoResponse {
    // Key rotation waits this long (plus one reload) before a published next key signs.
    let cache = format!("public, max-age={}", crate::oidc::keys::JWKS_MAX_AGE);
    ([(header::CACHE_CONTROL, cache)], Json(state.services.keys.jwks()))
}
