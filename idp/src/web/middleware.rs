//! Middleware: security headers on every response, and themed pages for errors (the handlers
//! leave an `ErrorPage` marker; plain framework rejections such as 405 and 413 get one too).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;

use super::AppState;
use super::browser::Browser;
use super::error::{ErrorPage, oauth_json};
use super::pages::{CSP, View};
use crate::oidc::OAuthError;

/// One log line per request, with a request id echoed in `x-request-id`. The query string is
/// never logged: it carries codes, tokens and hints.
pub async fn request_log(request: Request, next: Next) -> Response {
    let id = crate::crypto::random_token(9);
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = std::time::Instant::now();
    let span = tracing::info_span!("request", %id, %method, %path);
    let mut response = tracing::Instrument::instrument(next.run(request), span.clone()).await;
    let status = response.status().as_u16();
    let micros = started.elapsed().as_micros() as u64;
    if status >= 500 {
        tracing::error!(parent: &span, status, micros, "request failed");
    } else {
        tracing::info!(parent: &span, status, micros, "request");
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

pub async fn security_headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    // Static files and discovery set their own caching; everything else (error pages for a
    // missing static file included) is never stored.
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if state.cookies.secure {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    response
}

#[derive(Serialize)]
struct ErrorContext {
    title: String,
    message: String,
    code: String,
}

/// Endpoints for machines answer JSON even for framework rejections.
fn is_machine_endpoint(path: &str) -> bool {
    matches!(path, "/token" | "/userinfo" | "/jwks" | "/.well-known/openid-configuration")
}

pub async fn error_pages(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let browser = {
        let mut p = parts.clone();
        <Browser as axum::extract::FromRequestParts<AppState>>::from_request_parts(&mut p, &state)
            .await
            .unwrap_or_default()
    };
    let path = parts.uri.path().to_owned();
    let response = next.run(Request::from_parts(parts, body)).await;
    let marker = response.extensions().get::<ErrorPage>().cloned();
    let status = response.status();
    let marker = match marker {
        Some(m) => m,
        None if status.is_client_error() && is_framework_rejection(&response) => {
            if is_machine_endpoint(&path) {
                return oauth_json(&OAuthError::invalid_request(reason(status)));
            }
            let key = match status {
                StatusCode::METHOD_NOT_ALLOWED => "error_method",
                StatusCode::PAYLOAD_TOO_LARGE => "error_payload_too_large",
                StatusCode::NOT_FOUND => "error_not_found",
                _ => "error_bad_request",
            };
            ErrorPage { key, code: String::new(), view: None }
        }
        None => return response,
    };
    let view = marker.view.clone().unwrap_or_else(|| View::new(&state, &browser, None, None));
    let context = ErrorContext {
        title: state.text(&view, "error_title"),
        message: state.text(&view, marker.key),
        code: marker.code.clone(),
    };
    let mut themed = state.page(status, &view, "error.html", &context, None, Default::default());
    // Keep cookies the handler set (e.g. a cleared session).
    for cookie in response.headers().get_all(header::SET_COOKIE) {
        themed.headers_mut().append(header::SET_COOKIE, cookie.clone());
    }
    themed
}

/// axum's own rejections are short plain-text bodies (or empty for 405).
fn is_framework_rejection(response: &Response<Body>) -> bool {
    let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    content_type.is_empty() || content_type.starts_with("text/plain")
}

fn reason(status: StatusCode) -> String {
    status.canonical_reason().unwrap_or("bad request").to_lowercase()
}
