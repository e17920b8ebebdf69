//! Probes for load balancers and orchestrators (issue #10): `GET /healthz` (and its older alias
//! `/health`) says the process answers; `GET /readyz` says whether it can serve now, that is
//! whether the database and the ephemeral store (Redis) answer, and which one does not.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::web::AppState;

/// How long `/readyz` waits for each dependency: a probe must answer quickly.
const READINESS_TIMEOUT: Duration = Duration::from_secs(1);

/// Liveness: 200 as long as the process serves HTTP, whatever its dependencies say (restarting
/// it would not bring them back).
pub async fn healthz_get() -> &'static str {
    "ok"
}

/// Readiness: 200 when the database and the ephemeral store answer, else 503 with
/// `Retry-After`; the JSON body names each one `up` or `down`.
pub async fn readyz_get(State(state): State<AppState>) -> Response {
    let readiness = state.services.readiness(READINESS_TIMEOUT).await;
    let word = |up: bool| if up { "up" } else { "down" };
    let body = json!({
        "status": if readiness.is_ready() { "ready" } else { "unavailable" },
        "database": word(readiness.database),
        "ephemeral": word(readiness.ephemeral),
    });
    if readiness.is_ready() {
        return Json(body).into_response();
    }
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static(crate::web::error::RETRY_AFTER_SECONDS));
    response
}
