//! The image of an image captcha (issue #4), served by the IdP itself (CSP `img-src 'self'`).
//! Reading the image does not consume the challenge; answering it does (`account::captcha`).

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::account::captcha::{self, Challenge, ChallengeKind};
use crate::domain::user_type::CaptchaKind;
use crate::oidc::params::Params;
use crate::oidc::pending_limits;
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
/// `counted_ip`: the browser's address when nobody signed in yet (a new challenge counts
/// against the per-address limit on pending records); `None` after a password was checked.
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
    Ok(Some(match captcha::swap_to_arithmetic(s, id, purpose).await? {
        Some(challenge) => challenge,
        None => {
            if let Some(ip) = counted_ip {
                admit(s, ip).await?;
            }
            captcha::issue_kind(s, ChallengeKind::Arithmetic, purpose).await?
        }
    }))
}

/// A new challenge of `kind` for a form shown before anybody signed in (the recoveries): it
/// is kept for its lifetime, so it counts against the per-address limit on pending records
/// (decision 0013); past the limit, the "too many requests" page.
pub async fn issue_for(
    s: &Services,
    ip: &str,
    kind: CaptchaKind,
    purpose: &str,
) -> Result<Option<Challenge>, AppError> {
    if kind == CaptchaKind::None {
        return Ok(None);
    }
    admit(s, ip).await?;
    Ok(captcha::issue(s, kind, purpose).await?)
}

async fn admit(s: &Services, ip: &str) -> Result<(), AppError> {
    if pending_limits::admit(s, ip).await? {
        Ok(())
    } else {
        Err(AppError::from_page_error(crate::oidc::authorize::PageError::TooManyRequests, None))
    }
}
