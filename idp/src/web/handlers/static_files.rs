//! Theme assets, served by the IdP itself (no third-party assets).

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::web::AppState;
use crate::web::error::AppError;

pub async fn static_get(State(state): State<AppState>, Path((theme, file)): Path<(String, String)>) -> Response {
    match state.themes.static_file(&theme, &file) {
        Some(f) => {
            ([(header::CONTENT_TYPE, f.content_type), (header::CACHE_CONTROL, "public, max-age=3600")], f.bytes.clone())
                .into_response()
        }
        None => AppError::page(StatusCode::NOT_FOUND, "error_not_found").into_response(),
    }
}
