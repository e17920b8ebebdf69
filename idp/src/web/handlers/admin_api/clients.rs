//! /admin/api/v1/clients: relying parties, OpenID Connect and CAS. A client secret appears in
//! exactly two answers, the creation and the rotation; every other view has none.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{Caller, needs};
use super::paging::{Order, Page, Window};
use super::problem::{ApiJson, ApiPath, ApiQuery, ItemErrors, Problem, ReadErrors, WriteErrors};
use super::{created, timestamp};
use crate::admin::{self, ClientSpec};
use crate::domain::Client;
use crate::web::AppState;

/// A client as the API shows it: never its secret (nor the secret's digest).
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientView {
    pub id: String,
    pub name: String,
    /// A public client (no secret; PKCE).
    pub public: bool,
    /// `client_secret_basic`, `client_secret_post`, `private_key_jwt` or `none`.
    pub auth_method: String,
    pub grant_types: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub id_token_alg: String,
    pub theme: Option<String>,
    /// Skips the consent page.
    pub first_party: bool,
    /// RFC 3339.
    pub created_at: String,
    /// Every other option (`ClientSettings`: allowed scopes, token formats and lifetimes, logout
    /// URIs, CAS services and attributes, allowed user types and groups…).
    #[schema(value_type = Object)]
    pub settings: serde_json::Value,
}

impl From<&Client> for ClientView {
    fn from(c: &Client) -> Self {
        ClientView {
            id: c.id.clone(),
            name: c.name.clone(),
            public: c.is_public(),
            auth_method: c.auth_method.as_str().to_owned(),
            grant_types: c.grant_types.iter().map(|g| g.as_str().to_owned()).collect(),
            redirect_uris: c.redirect_uris.iter().map(|u| u.as_str().to_owned()).collect(),
            post_logout_redirect_uris: c.post_logout_redirect_uris.iter().map(|u| u.as_str().to_owned()).collect(),
            id_token_alg: c.id_token_alg.as_str().to_owned(),
            theme: c.theme.clone(),
            first_party: c.first_party,
            created_at: timestamp(c.created_at),
            settings: serde_json::to_value(&c.settings).unwrap_or_default(),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientSort {
    #[default]
    Id,
    Name,
    CreatedAt,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ClientListQuery {
    /// 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    #[param(minimum = 0)]
    pub offset: Option<u64>,
    #[param(inline)]
    pub sort: Option<ClientSort>,
    #[param(inline)]
    pub order: Option<Order>,
    /// Part of the id or the name, case-insensitive.
    pub q: Option<String>,
    /// Only clients with this grant type (`authorization_code`, `client_credentials`, …).
    pub grant_type: Option<String>,
}

/// Registers a client; `settings` takes the keys of `idp client add --setting`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientCreate {
    /// 1 to 128 letters, digits, `.`, `_`, `~` or `-`.
    #[schema(pattern = "^[A-Za-z0-9._~-]{1,128}$")]
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// A public client (PKCE, no secret).
    #[serde(default)]
    pub public: bool,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Default `authorization_code` (none for a CAS-only client).
    #[serde(default)]
    pub grant_types: Vec<String>,
    pub auth_method: Option<String>,
    pub id_token_alg: Option<String>,
    pub theme: Option<String>,
    #[serde(default)]
    pub first_party: bool,
    /// Allows http redirect URIs to hosts other than loopback (development only).
    #[serde(default)]
    pub allow_insecure_http: bool,
    /// CAS service URLs.
    #[serde(default)]
    pub cas_services: Vec<String>,
    #[schema(value_type = Option<Object>)]
    pub settings: Option<serde_json::Value>,
}

/// The client, and its secret: shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientCreated {
    pub client: ClientView,
    /// Confidential clients only; stored as a digest, never shown again.
    pub client_secret: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ClientId {
    /// The client id.
    #[param(pattern = "^[A-Za-z0-9._~-]{1,128}$")]
    pub id: String,
}

/// List clients.
#[utoipa::path(get, path = "/admin/api/v1/clients", tag = "clients", params(ClientListQuery),
    security(("bearer" = ["idp.admin"])),
    responses((status = 200, description = "A page of clients", body = Page<ClientView>), ReadErrors))]
pub async fn clients_get(
    State(state): State<AppState>,
    _caller: Caller<needs::ManageClients>,
    ApiQuery(query): ApiQuery<ClientListQuery>,
) -> Result<Json<Page<ClientView>>, Problem> {
    let window = Window::parse(query.limit, query.offset)?;
    let mut clients = state.services.store.clients().await.map_err(|e| Problem::from(admin::AdminError::from(e)))?;
    if let Some(q) = query.q.as_deref().map(str::to_lowercase).filter(|q| !q.is_empty()) {
        clients.retain(|c| c.id.to_lowercase().contains(&q) || c.name.to_lowercase().contains(&q));
    }
    if let Some(grant) = &query.grant_type {
        clients.retain(|c| c.grant_types.iter().any(|g| g.as_str() == grant));
    }
    match query.sort.unwrap_or_default() {
        ClientSort::Id => clients.sort_by(|a, b| a.id.cmp(&b.id)),
        ClientSort::Name => clients.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id))),
        ClientSort::CreatedAt => clients.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id))),
    }
    if query.order == Some(Order::Desc) {
        clients.reverse();
    }
    Ok(Json(window.page_of(clients.iter().map(ClientView::from).collect())))
}

/// Register a client.
///
/// The answer carries the client secret of a confidential client: the only time it is shown.
#[utoipa::path(post, path = "/admin/api/v1/clients", tag = "clients", request_body = ClientCreate,
    security(("bearer" = ["idp.admin"])),
    responses((status = 201, description = "Created; `Location` names it", body = ClientCreated), WriteErrors))]
pub async fn clients_post(
    State(state): State<AppState>,
    _caller: Caller<needs::ManageClients>,
    ApiJson(body): ApiJson<ClientCreate>,
) -> Result<Response, Problem> {
    let settings = match body.settings {
        None => Default::default(),
        Some(value) => serde_json::from_value(value).map_err(|e| {
            Problem::bad_request(format!("settings: {e}")).with_field(Some("/settings".into()), e.to_string())
        })?,
    };
    let spec = ClientSpec {
        id: body.id,
        name: body.name,
        public: body.public,
        secret: None,
        redirect_uris: body.redirect_uris,
        post_logout_redirect_uris: body.post_logout_redirect_uris,
        grants: body.grant_types,
        auth_method: body.auth_method,
        id_token_alg: body.id_token_alg,
        theme: body.theme,
        first_party: body.first_party,
        allow_insecure_http: body.allow_insecure_http,
        settings,
        cas_services: body.cas_services,
    };
    let (client, secret) = admin::add_client(&state.services, &spec).await?;
    let answer =
        ClientCreated { client: ClientView::from(&client), client_secret: secret.map(|s| s.expose().to_owned()) };
    Ok(created(&format!("/clients/{}", client.id), answer))
}

/// Show a client.
#[utoipa::path(get, path = "/admin/api/v1/clients/{id}", tag = "clients", params(ClientId),
    security(("bearer" = ["idp.admin"])),
    responses((status = 200, description = "The client", body = ClientView), ItemErrors))]
pub async fn client_get(
    State(state): State<AppState>,
    _caller: Caller<needs::ManageClients>,
    ApiPath(ClientId { id }): ApiPath<ClientId>,
) -> Result<Json<ClientView>, Problem> {
    let client = state.services.store.client(&id).await.map_err(|e| Problem::from(admin::AdminError::from(e)))?;
    let client = client.ok_or_else(|| Problem::not_found(format!("client {id:?} not found")))?;
    Ok(Json(ClientView::from(&client)))
}

/// Delete a client.
#[utoipa::path(delete, path = "/admin/api/v1/clients/{id}", tag = "clients", params(ClientId),
    security(("bearer" = ["idp.admin"])),
    responses((status = 204, description = "Deleted"), ItemErrors))]
pub async fn client_delete(
    State(state): State<AppState>,
    _caller: Caller<needs::ManageClients>,
    ApiPath(ClientId { id }): ApiPath<ClientId>,
) -> Result<StatusCode, Problem> {
    let deleted =
        state.services.store.delete_client(&id).await.map_err(|e| Problem::from(admin::AdminError::from(e)))?;
    if deleted { Ok(StatusCode::NO_CONTENT) } else { Err(Problem::not_found(format!("client {id:?} not found"))) }
}
