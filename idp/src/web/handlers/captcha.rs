//! The image of an image captcha (issue #4), served by the IdP itself (CSP `img-src 'self'`).
//! Reading the image does not consume the challenge; answering it does (`account::captcha`).

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::account::captcha;
use crate::web::AppState;
use crate::web::error::AppError;

/// GET /captcha/{id}.svg
pub async fn captcha_image_get(State(state): State<AppState>, Path(file): Path<String>) -> Result<Response, AppError> {
    let Some(id) = file.strip_suffix(".svg") else {
        return Err(AppError::page(StatusCode::NOT_FOUND, "error_not_found"));
    };
    match captcha::image_svg(&state.services, id).await? {
        Some(svg) => Ok((
            [
                (header::CONTENT_TYPE, "image/svg+xml"),
                (header::CACHE_CONTROL, "no-store"),
                (header::CONTENT_SECURITY_POLICY, "default-src 'none'"),
            ],
            svg,
        )
            .into_response()),
        None => Err(AppError::page(StatusCode::NOT_FOUND, "error_not_found")),
    }
}
