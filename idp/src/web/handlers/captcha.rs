//! The image of an image captcha (issue #4), served by the IdP itself (CSP `img-src 'self'`).
//! Reading the image does not consume the challenge; answering it does (`account::captcha`).

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::account::captcha::{self, Challenge, ChallengeKind};
use crate::oidc::params::Params;
use crate::services::Services;
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

/// The form asked for the accessible alternative of its image captcha ("an operation
/// instead", works without JavaScript): the arithmetic challenge replacing it for `purpose`
/// (a new one when the image's has gone). `None` when the form answers its captcha instead.
pub async fn arithmetic_instead(s: &Services, params: &Params, purpose: &str) -> Result<Option<Challenge>, AppError> {
    if super::field(params, "captcha_alternative")? != Some("arithmetic") {
        return Ok(None);
    }
    let id = super::field(params, "captcha_id")?.unwrap_or_default();
    Ok(Some(match captcha::swap_to_arithmetic(s, id, purpose).await? {
        Some(challenge) => challenge,
        None => captcha::issue_kind(s, ChallengeKind::Arithmetic, purpose).await?,
    }))
}
