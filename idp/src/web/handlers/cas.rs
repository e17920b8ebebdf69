//! The CAS 3.0 endpoints under /cas (`crate::cas`): thin handlers, each extracting the request,
//! calling one `cas` function and mapping its outcome: a redirect, an auto-posted form
//! (`method=POST`), a themed page (the generic login page, the access-denied page, an error),
//! or the XML/JSON/text answer of a validation endpoint.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::authorize::current_session;
use super::login::{LoginTarget, show, submit};
use super::{PostedForm, see_other};
use crate::account::signin::Continuation;
use crate::cas::login::{self as cas_login, LoginOutcome, Refusal};
use crate::cas::validate::{self, Answer, Endpoint};
use crate::cas::{proxy, single_logout};
use crate::domain::Client;
use crate::services::InfraError;
use crate::session;
use crate::web::AppState;
use crate::web::browser::{Browser, clear_cookie};
use crate::web::error::AppError;
use crate::web::pages::{View, origin_of, with_cookies};

/// The path of the CAS login form.
const CAS_FORM: &str = "/cas/login";

/// GET /cas/login (§2.1, credential requestor).
pub async fn cas_login_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let session = current_session(&state, &browser).await?;
    let query = query.unwrap_or_default();
    let outcome = cas_login::start(&state.services, &query, session.as_ref(), &browser.client_info()).await?;
    respond(&state, &browser, outcome, Vec::new()).await
}

/// POST /cas/login (§2.2, credential acceptor): the provider's own login form, posted back with
/// the `service`, `renew` and `method` it was shown for.
pub async fn cas_login_post(
    State(state): State<AppState>,
    browser: Browser,
    form: PostedForm,
) -> Result<Response, AppError> {
    let mut fields = Vec::new();
    for name in ["service", "renew", "method"] {
        if let Some(value) = form.locator(name)? {
            fields.push((name, value.to_owned()));
        }
    }
    let fields = serde_urlencoded::to_string(&fields).unwrap_or_default();
    let Some((continuation, client)) = cas_login::sign_in_for(&state.services, &fields).await? else {
        return Err(AppError::page(StatusCode::BAD_REQUEST, "cas_error_unknown_service"));
    };
    submit(&state, &browser, &target(continuation, client), form).await
}

/// The generic login page's target for a CAS sign-in.
fn target(continuation: Continuation, client: Client) -> LoginTarget {
    let locator = cas_login::sign_in_fields(&continuation);
    let redirect_origin = match &continuation {
        Continuation::Cas { service, .. } => origin_of(service),
        _ => None,
    };
    LoginTarget {
        continuation,
        recovery_query: vec![("client_id", client.id.clone())],
        client,
        ui_locales: None,
        login_hint: None,
        form_path: CAS_FORM,
        locator,
        redirect_origin,
    }
}

/// Maps a CAS login outcome to a response; `cookies` are Set-Cookie values to send along (the
/// session a sign-in just started).
pub async fn respond(
    state: &AppState,
    browser: &Browser,
    outcome: LoginOutcome,
    cookies: Vec<String>,
) -> Result<Response, AppError> {
    let redirect = |url: &str, cookies: Vec<String>| {
        let mut response = see_other(url);
        response.headers_mut().extend(with_cookies(cookies));
        response
    };
    match outcome {
        LoginOutcome::Refused(Refusal::InvalidRequest) => {
            Err(AppError::page(StatusCode::BAD_REQUEST, "error_invalid_request"))
        }
        LoginOutcome::Refused(Refusal::UnknownService) => {
            Err(AppError::page(StatusCode::BAD_REQUEST, "cas_error_unknown_service"))
        }
        LoginOutcome::Refused(Refusal::Denied { client, session }) => {
            super::access_denied::page_for_service(state, browser, &client, &session, cookies).await
        }
        LoginOutcome::Redirect(url) => Ok(redirect(&url, cookies)),
        LoginOutcome::FormPost { action, fields, client_id } => {
            let client = state.services.store.client(&client_id).await.map_err(InfraError::from)?;
            let view = View::new(state, browser, client.as_ref(), None);
            Ok(super::select_account::form_post_page(state, view, action, fields, with_cookies(cookies)))
        }
        LoginOutcome::AccountSpace => Ok(redirect("/account", cookies)),
        LoginOutcome::SignIn { continuation, client } => Ok(show(state, browser, &target(continuation, *client))),
    }
}

fn answer(a: Answer) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(a.content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    (StatusCode::OK, headers, a.body).into_response()
}

async fn validate_at(
    state: &AppState,
    browser: &Browser,
    endpoint: Endpoint,
    query: Option<String>,
) -> Result<Response, AppError> {
    let a = validate::validate(&state.services, endpoint, query.as_deref().unwrap_or_default(), &browser.client_info())
        .await?;
    Ok(answer(a))
}

/// GET /cas/validate (CAS 1.0, §2.4).
pub async fn cas_validate_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    validate_at(&state, &browser, Endpoint::Validate, query).await
}

/// GET /cas/serviceValidate (CAS 2.0, §2.5).
pub async fn cas_service_validate_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    validate_at(&state, &browser, Endpoint::ServiceValidate, query).await
}

/// GET /cas/proxyValidate (CAS 2.0, §2.6).
pub async fn cas_proxy_validate_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    validate_at(&state, &browser, Endpoint::ProxyValidate, query).await
}

/// GET /cas/p3/serviceValidate (CAS 3.0, §2.8).
pub async fn cas_p3_service_validate_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    validate_at(&state, &browser, Endpoint::P3ServiceValidate, query).await
}

/// GET /cas/p3/proxyValidate (CAS 3.0, §2.9).
pub async fn cas_p3_proxy_validate_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    validate_at(&state, &browser, Endpoint::P3ProxyValidate, query).await
}

/// GET /cas/proxy (§2.7).
pub async fn cas_proxy_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let a = proxy::proxy(&state.services, query.as_deref().unwrap_or_default(), &browser.client_info()).await?;
    Ok(answer(a))
}

/// GET /cas/logout (§2.3): ends the browser session (every protocol is told: OpenID Connect
/// back- and front-channel logout, CAS single logout), then back to `service` if a client
/// registered it, else the logged-out page. A GET, as the specification has it: the session
/// cookie is `SameSite=Lax`, so another site can only end it through a visible top-level
/// navigation to this page, never from an image or a script.
pub async fn cas_logout_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let s = &state.services;
    let query = query.unwrap_or_default();
    let mut frames = Vec::new();
    if let Some(current) = current_session(&state, &browser).await? {
        frames = session::end(s, &current).await?;
        single_logout::record_logout(s, &current, &query, &browser.client_info()).await?;
    }
    let cookies = vec![clear_cookie(state.cookies.session, state.cookies.secure)];
    let location = single_logout::redirect_after(s, &query).await?;
    let view = View::new(&state, &browser, None, None);
    Ok(super::logout::after_sign_out(&state, &view, "", &frames, location.as_deref(), cookies))
}
