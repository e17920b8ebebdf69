//! The image of an image captcha (issue #4), served by the IdP itself (CSP `img-src 'self'`).
//! Reading the image does not consume the challenge; answering it does (`account::captcha`).

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::account::captcha::{self, Challenge, TooManyPending};
use crate::account::recovery::gate::CaptchaAnswer;
use crate::oidc::params::Params;
use crate::services::Services;
use crate::web::AppState;
use crate::web::error::AppError;

/// GET /captcha/{id}.png (any other name, `.svg` included, is the themed 404 page).
pub async fn captcha_image_get(State(state): State<AppState>, Path(file): Path<String>) -> Result<Response, AppError> {
    let Some(id) = file.strip_suffix(".png") else {
        return Err(AppError::page(StatusCode::NOT_FOUND, "error_not_found"));
    };
    match captcha::image_png(&state.services, id).await? {
        Some(png) => Ok((
            [
                (header::CONTENT_TYPE, "image/png"),
                (header::CACHE_CONTROL, "no-store"),
                (header::CONTENT_SECURITY_POLICY, "default-src 'none'"),
            ],
            png,
        )
            .into_response()),
        None => Err(AppError::page(StatusCode::NOT_FOUND, "error_not_found")),
    }
}

/// The form asked for the accessible alternative of its image captcha ("an operation
/// instead", works without JavaScript): the arithmetic challenge replacing it for `purpose`
/// (`captcha::arithmetic_instead`). `None` when the form answers its captcha instead. The
/// recoveries decide this in `account::recovery::gate`; this is for the first-login form.
pub async fn arithmetic_instead(
    s: &Services,
    counted_ip: Option<&str>,
    params: &Params,
    purpose: &str,
) -> Result<Option<Challenge>, AppError> {
    if super::field(params, "captcha_alternative")? != Some("arithmetic") {
        return Ok(None);
    }
    let id = super::field(params, "captcha_id")?.unwrap_or_default();
    match captcha::arithmetic_instead(s, counted_ip, id, purpose).await? {
        Ok(challenge) => Ok(Some(challenge)),
        Err(TooManyPending) => Err(too_many_requests()),
    }
}

/// The "too many requests" page of a form that would exceed the per-address limit on pending
/// records (decision 0013).
pub fn too_many_requests() -> AppError {
    AppError::from_page_error(crate::oidc::authorize::PageError::TooManyRequests, None)
}

/// What a recovery's first page posted about its captcha (`recovery::gate` checks it).
pub fn answer_of(params: &Params) -> Result<CaptchaAnswer, AppError> {
    Ok(CaptchaAnswer {
        id: super::field(params, "captcha_id")?.unwrap_or_default().to_owned(),
        answer: super::field(params, "captcha_answer")?.unwrap_or_default().to_owned(),
        wants_arithmetic: super::field(params, "captcha_alternative")? == Some("arithmetic"),
    })
}
