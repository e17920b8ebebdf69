//! The admin REST API (issue #12): JSON under `/admin/api/v1`, described by the OpenAPI 3.1
//! document at `GET /admin/api/openapi.json`, which utoipa generates from these handlers and
//! their types (`ApiDoc`). One file per resource; each handler extracts, checks the caller's
//! permission (`auth::Caller`), calls one `admin::` function and maps the result. Failures are
//! RFC 9457 problems (`problem`); lists follow `paging`.
//!
//! Authentication is a bearer access token of this provider (`auth`): the API reads no cookie,
//! so a browser cannot be made to call it with someone's credentials, and it is exempt from
//! the same-origin rule (`web::CROSS_SITE_PREFIXES`).

pub mod auth;
pub mod clients;
pub mod groups;
pub mod keys;
pub mod paging;
pub mod problem;
pub mod user_types;
pub mod users;
pub mod users_import;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::web::AppState;

/// Where the API lives.
pub const ADMIN: &str = "/admin/api";

/// Whether `path` belongs to the API (its errors are problems, not themed pages).
pub fn is_api_path(path: &str) -> bool {
    path == ADMIN || path.starts_with("/admin/api/")
}

/// Every route of the API, each in the OpenAPI document too (`ApiDoc`).
pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/admin/api/openapi.json", get(openapi_get))
        .route("/admin/api/v1/clients", get(clients::clients_get).post(clients::clients_post))
        .route("/admin/api/v1/clients/{id}", get(clients::client_get).delete(clients::client_delete))
        .route("/admin/api/v1/users", post(users::users_post))
        .route("/admin/api/v1/users/import", post(users_import::users_import_post))
        .route("/admin/api/v1/groups", get(groups::groups_get).post(groups::groups_post))
        .route("/admin/api/v1/groups/{id}", get(groups::group_get))
        .route(
            "/admin/api/v1/groups/{id}/members/{login}",
            put(groups::group_member_put).delete(groups::group_member_delete),
        )
        .route("/admin/api/v1/user-types", get(user_types::user_types_get))
        .route("/admin/api/v1/keys", get(keys::keys_get))
        .route("/admin/api/v1/keys/rotate", post(keys::keys_rotate_post))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "idp administration API",
        version = "1",
        description = "Administration of the identity provider: clients, users, groups, user types, \
            signing keys, audit trail. Authenticate with an access token of this provider \
            (`Authorization: Bearer …`) holding `idp.admin`, `idp.support` or `idp.audit`; each \
            operation lists the scopes any one of which permits it. Errors are RFC 9457 \
            `application/problem+json`."
    ),
    paths(
        clients::clients_get,
        clients::clients_post,
        clients::client_get,
        clients::client_delete,
        users::users_post,
        users_import::users_import_post,
        groups::groups_get,
        groups::groups_post,
        groups::group_get,
        groups::group_member_put,
        groups::group_member_delete,
        user_types::user_types_get,
        keys::keys_get,
        keys::keys_rotate_post,
    ),
    components(schemas(problem::Problem, problem::FieldProblem)),
    modifiers(&BearerScheme),
    tags(
        (name = "clients", description = "Relying parties (OpenID Connect and CAS)"),
        (name = "users", description = "Accounts"),
        (name = "groups", description = "Groups of users"),
        (name = "user-types", description = "The configured user types"),
        (name = "keys", description = "Signing keys"),
    )
)]
pub struct ApiDoc;

/// The `bearer` security scheme every operation names.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(
                "An access token of this provider, opaque or JWT: `client_credentials` for a machine \
                 client whose `allowed_scopes` include the scopes listed per operation.",
            ))
            .build();
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// GET /admin/api/openapi.json: the document, public (it holds no data).
pub async fn openapi_get() -> Response {
    let mut response = Json(ApiDoc::openapi()).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// RFC 3339, as every date of the API.
pub fn timestamp(t: i64) -> String {
    crate::clock::rfc3339(t)
}

/// 201 Created with `Location` (RFC 9110 §15.3.2); `path` is under `/admin/api/v1`.
pub fn created(path: &str, body: impl Serialize) -> Response {
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("{ADMIN}/v1{path}")) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}
