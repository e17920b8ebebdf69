//! The consent page: which information the application will receive; the decision is
//! remembered per user, client and scopes.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::authorize::{SignedInRequest, respond, signed_in_form, signed_in_request};
use super::{PostedForm, field};
use crate::oidc::authorize;
use crate::web::AppState;
use crate::web::browser::Browser;
use crate::web::error::AppError;
use crate::web::pages::{origin_of, with_cookies};

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
    let page = match signed_in_request(&state, &browser, query.as_deref()).await? {
        Ok(page) => page,
        Err(sign_in) => return Ok(sign_in),
    };
    let SignedInRequest { request, client, user_name, view, csrf, set_cookie: set } = page;
    let page = ConsentPage {
        csrf,
        request_id: &request.id,
        client_name: &client.name,
        user_name,
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
    form: PostedForm,
) -> Result<Response, AppError> {
    let (params, request_id, session) = match signed_in_form(&state, &browser, form).await? {
        Ok(checked) => checked,
        Err(sign_in) => return Ok(sign_in),
    };
    let approved = match field(&params, "decision")? {
        Some("allow") => true,
        Some("deny") => false,
        _ => return Err(AppError::page(StatusCode::BAD_REQUEST, "error_bad_request")),
    };
    let outcome = authorize::resume_after_consent(&state.services, &request_id, Some(&session), approved).await?;
    respond(&state, &browser, outcome, Vec::new()).await
}
