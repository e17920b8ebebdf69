//! /admin/api/v1/keys: the signing keys (JWKS) and their rotation. No private key ever leaves
//! the server: a key is its id, algorithm, state and dates.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{Caller, needs};
use super::paging::{Page, Window};
use super::problem::{ApiJson, ApiQuery, Problem, ReadErrors, WriteErrors};
use super::timestamp;
use crate::domain::SigningAlg;
use crate::oidc::keys::{KeyError, KeyInfo};
use crate::web::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    pub kid: String,
    /// RS256, ES256 or EdDSA.
    pub alg: String,
    /// `next` (published, not signing yet), `active` or `retired` (published until `published_until`).
    pub state: String,
    /// RFC 3339 dates.
    pub created_at: String,
    pub activated_at: Option<String>,
    pub retired_at: Option<String>,
    pub published_until: Option<String>,
}

impl From<KeyInfo> for KeyView {
    fn from(k: KeyInfo) -> Self {
        KeyView {
            kid: k.kid,
            alg: k.alg.as_str().to_owned(),
            state: k.state.as_str().to_owned(),
            created_at: timestamp(k.created_at),
            activated_at: k.activated_at.map(timestamp),
            retired_at: k.retired_at.map(timestamp),
            published_until: k.published_until.map(timestamp),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct KeyListQuery {
    /// 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    #[param(minimum = 0)]
    pub offset: Option<u64>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyRotate {
    /// Only this algorithm (RS256, ES256 or EdDSA); all of them when absent.
    pub alg: Option<String>,
    /// Promote a next key even if it was published too recently for every relying party to
    /// have fetched it.
    #[serde(default)]
    pub force: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyRotation {
    pub alg: String,
    /// The former next key, now signing.
    pub activated: String,
    /// The new next key, published from now on.
    pub next: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyRotated {
    pub rotations: Vec<KeyRotation>,
}

/// List the signing keys.
#[utoipa::path(get, path = "/admin/api/v1/keys", tag = "keys", params(KeyListQuery),
    security(("bearer" = ["idp.admin"])),
    responses((status = 200, description = "The keys", body = Page<KeyView>), ReadErrors))]
pub async fn keys_get(
    State(state): State<AppState>,
    _caller: Caller<needs::ManageKeys>,
    ApiQuery(query): ApiQuery<KeyListQuery>,
) -> Result<Json<Page<KeyView>>, Problem> {
    let window = Window::parse(query.limit, query.offset)?;
    Ok(Json(window.page_of(state.services.keys.list().into_iter().map(KeyView::from).collect())))
}

/// Rotate the signing keys: each next key becomes active, the active one retires, a new next
/// key is published.
#[utoipa::path(post, path = "/admin/api/v1/keys/rotate", tag = "keys", request_body = KeyRotate,
    security(("bearer" = ["idp.admin"])),
    responses((status = 200, description = "Rotated", body = KeyRotated), WriteErrors))]
pub async fn keys_rotate_post(
    State(state): State<AppState>,
    _caller: Caller<needs::ManageKeys>,
    ApiJson(body): ApiJson<KeyRotate>,
) -> Result<Json<KeyRotated>, Problem> {
    let algs =
        match &body.alg {
            Some(a) => vec![a.parse::<SigningAlg>().map_err(|e| {
                Problem::bad_request(format!("alg: {e}")).with_field(Some("/alg".into()), e.to_string())
            })?],
            None => SigningAlg::ALL.to_vec(),
        };
    let s = &state.services;
    let mut rotations = Vec::with_capacity(algs.len());
    for alg in algs {
        let r = s.keys.rotate(s.store.as_ref(), alg, s.now(), body.force).await.map_err(key_problem)?;
        rotations.push(KeyRotation { alg: r.alg.as_str().to_owned(), activated: r.activated, next: r.next });
    }
    Ok(Json(KeyRotated { rotations }))
}

fn key_problem(err: KeyError) -> Problem {
    match err {
        KeyError::NoNextKey { .. } | KeyError::TooSoon { .. } | KeyError::Concurrent { .. } => {
            Problem::new(StatusCode::CONFLICT, "key-rotation", "Cannot rotate now", err.to_string())
        }
        KeyError::Store(e) => crate::admin::AdminError::from(e).into(),
        other => {
            tracing::error!(error = %other, "key rotation failed");
            Problem::internal()
        }
    }
}
