//! The consent page: which information the application will receive; the decision is
//! remembered per user, client and scopes.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::authorize::{current_session, respond};
use super::{CheckedForm, field, parse_params, see_other};
use crate::oidc::authorize;
use crate::web::AppState;
use crate::web::browser::Browser;
use crate::web::error::AppError;
use crate::web::pages::{View, origin_of, with_cookies};

#[derive(Serialize)]
struct ScopeLine {
    name: String,
    description: String,
}

#[derive(Serialize)]
struct ConsentPage<'a> {
    csrf: String,
    request_id: &'a str,
    client_name: &'a str,
    user_name: String,
    scopes: Vec<ScopeLine>,
}

pub async fn consent_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let params = parse_params(query.as_deref().unwrap_or_default())?;
    let request_id = field(&params, "request_id")?.unwrap_or_default();
    let Some((request, client)) = authorize::pending(&state.services, request_id).await? else {
        return Err(AppError::expired());
    };
    let Some(session) = current_session(&state, &browser).await? else {
        return Ok(see_other(&format!("/login?request_id={}", request.id)));
    };
    let user = state.services.store.user_by_id(&session.user_id).await.map_err(crate::services::InfraError::from)?;
    let view = View::new(&state, &browser, Some(&client), request.ui_locales.as_deref());
    let (cookie, set) = state.csrf_cookie(&browser);
    let page = ConsentPage {
        csrf: state.csrf_token(&cookie),
        request_id: &request.id,
        client_name: &client.name,
        user_name: user.map(|u| u.display_name()).unwrap_or_default(),
        scopes: request
            .consent_scopes()
            .iter()
            .map(|s| ScopeLine { name: s.to_owned(), description: state.text(&view, &format!("scope_{s}")) })
            .collect(),
    };
    Ok(state.page(
        StatusCode::OK,
        &view,
        "consent.html",
        &page,
        origin_of(&request.redirect_uri).as_deref(),
        with_cookies(set),
    ))
}

pub async fn consent_post(
    State(state): State<AppState>,
    browser: Browser,
    CheckedForm(params): CheckedForm,
) -> Result<Response, AppError> {
    let approved = match field(&params, "decision")? {
        Some("allow") => true,
        Some("deny") => false,
        _ => return Err(AppError::page(StatusCode::BAD_REQUEST, "error_bad_request")),
    };
    let session = current_session(&state, &browser).await?;
    let request_id = field(&params, "request_id")?.unwrap_or_default();
    let outcome = authorize::resume_after_consent(&state.services, request_id, session.as_ref(), approved).await?;
    respond(&state, &browser, outcome, Vec::new())
}
