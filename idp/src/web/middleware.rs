//! Middleware: security headers on every response, themed pages for errors (the handlers
//! leave an `ErrorPage` marker; plain framework rejections such as 405 and 413 get one too),
//! and the deadline on request bodies (issue #10).

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::AppState;
use super::browser::Browser;
use super::error::{ErrorPage, oauth_json, unavailable_json};
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
    matches!(path, "/token" | "/userinfo" | "/introspect" | "/revoke" | "/jwks" | "/.well-known/openid-configuration")
}

/// Headers of the handler's answer that its themed page keeps.
const KEPT_HEADERS: [header::HeaderName; 3] = [header::SET_COOKIE, header::RETRY_AFTER, header::CONNECTION];

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
    // The admin REST API answers RFC 9457 problems, whatever failed (issue #12).
    if super::handlers::admin_api::is_api_path(&path) {
        return super::handlers::admin_api::problem::finish(response);
    }
    let marker = response.extensions().get::<ErrorPage>().cloned();
    let status = response.status();
    let marker = match marker {
        // A dependency is down, or the body came too slowly: machines get JSON there too.
        Some(_) if is_machine_endpoint(&path) && status == StatusCode::SERVICE_UNAVAILABLE => {
            return unavailable_json();
        }
        Some(_) if is_machine_endpoint(&path) && status == StatusCode::REQUEST_TIMEOUT => {
            let mut response = oauth_json(&OAuthError::invalid_request("the request body was not received in time"));
            *response.status_mut() = StatusCode::REQUEST_TIMEOUT;
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            return response;
        }
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
    let view = match marker.view.clone() {
        Some(view) => view,
        // A dependency is down or failed: no lookups, the default theme.
        None if status.is_server_error() => View::new(&state, &browser, None, None),
        None => View::of_request(&state, &browser).await,
    };
    let context = ErrorContext {
        title: state.text(&view, "error_title"),
        message: state.text(&view, marker.key),
        code: marker.code.clone(),
    };
    let mut themed = state.page(status, &view, "error.html", &context, None, Default::default());
    // Keep cookies the handler set (e.g. a cleared session), Retry-After and Connection.
    for name in KEPT_HEADERS {
        for value in response.headers().get_all(&name) {
            themed.headers_mut().append(name.clone(), value.clone());
        }
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

/// Issue #10: a client has `limit` from the end of the head to send the whole body (a POST that
/// announces a `Content-Length` and sends nothing is cut). Past it the body reads fail, and the
/// answer, whatever the handler made of that failure, is 408 and the connection closes (RFC 9110
/// §15.5.9). A body announced larger than `max_bytes` is refused at once (413, as axum's own
/// limit would after reading), without waiting for it.
pub async fn body_deadline(
    State((limit, max_bytes)): State<(Duration, usize)>,
    request: Request,
    next: Next,
) -> Response {
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|length| length > max_bytes as u64) {
        let mut response = (StatusCode::PAYLOAD_TOO_LARGE, "length limit exceeded").into_response();
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        return response;
    }
    let timed_out = Arc::new(AtomicBool::new(false));
    let flag = timed_out.clone();
    let request = request
        .map(|inner| Body::new(DeadlineBody { inner, deadline: Box::pin(tokio::time::sleep(limit)), timed_out: flag }));
    let response = next.run(request).await;
    if !timed_out.load(Ordering::Relaxed) {
        return response;
    }
    tracing::info!("request body not received in time");
    let mut response =
        super::error::AppError::page(StatusCode::REQUEST_TIMEOUT, "error_request_timeout").into_response();
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A request body that fails once its deadline has passed.
struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<tokio::time::Sleep>>,
    timed_out: Arc<AtomicBool>,
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.timed_out.store(true, Ordering::Relaxed);
                Poll::Ready(Some(Err(axum::Error::new("request body timeout"))))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
