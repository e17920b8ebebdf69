//! The account choice of `prompt=select_account` (OpenID Connect Core §3.1.2.1): "continue as
//! … / use another account", and the form-post response page (`response_mode=form_post`).

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;

use super::authorize::{SignedInRequest, respond, signed_in_form, signed_in_request};
use super::{PostedForm, field};
use crate::oidc::authorize;
use crate::web::AppState;
use crate::web::browser::Browser;
use crate::web::error::AppError;
use crate::web::pages::{View, origin_of, with_cookies};

#[derive(Serialize)]
struct SelectAccountPage<'a> {
    csrf: String,
    request_id: &'a str,
    client_name: &'a str,
    user_name: String,
}

pub async fn select_account_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let page = match signed_in_request(&state, &browser, query.as_deref()).await? {
        Ok(page) => page,
        Err(sign_in) => return Ok(sign_in),
    };
    let SignedInRequest { request, client, user_name, view, csrf, set_cookie: set } = page;
    let page = SelectAccountPage { csrf, request_id: &request.id, client_name: &client.name, user_name };
    Ok(state.page(
        StatusCode::OK,
        &view,
        "select_account.html",
        &page,
        origin_of(&request.redirect_uri).as_deref(),
        with_cookies(set),
    ))
}

pub async fn select_account_post(
    State(state): State<AppState>,
    browser: Browser,
    form: PostedForm,
) -> Result<Response, AppError> {
    let (params, request_id, session) = match signed_in_form(&state, &browser, form).await? {
        Ok(checked) => checked,
        Err(sign_in) => return Ok(sign_in),
    };
    let keep_account = match field(&params, "choice")? {
        Some("continue") => true,
        Some("other") => false,
        _ => return Err(AppError::page(StatusCode::BAD_REQUEST, "error_bad_request")),
    };
    let outcome =
        authorize::resume_after_account_choice(&state.services, &request_id, Some(&session), keep_account).await?;
    respond(&state, &browser, outcome, Vec::new()).await
}

#[derive(Serialize)]
struct FormField {
    name: String,
    value: String,
}

#[derive(Serialize)]
struct FormPostPage {
    action: String,
    fields: Vec<FormField>,
}

/// OAuth 2.0 Form Post Response Mode §2: a page whose form posts the response to the redirect
/// URI, sent by `form_post.js` (no inline script) or by the visible button without JavaScript.
/// CSP `form-action` names the redirect URI's origin.
/// `view` is the client's theme and the language of its request (issue #13).
pub fn form_post_page(
    state: &AppState,
    mut view: View,
    action: String,
    fields: Vec<(String, String)>,
    headers: HeaderMap,
) -> Response {
    // A language link would repeat the authorization request: none on this page.
    view.lang_switch_url = String::new();
    let target = origin_of(&action);
    let page =
        FormPostPage { action, fields: fields.into_iter().map(|(name, value)| FormField { name, value }).collect() };
    state.page(StatusCode::OK, &view, "form_post.html", &page, target.as_deref(), headers)
}
