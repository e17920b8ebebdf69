//! /admin/api/v1/clients: relying parties, OpenID Connect and CAS. A client secret appears in
//! exactly two answers, the creation and the rotation; every other view has none.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{Caller, needs};
use super::paging::{Order, Page, Window};
use super::problem::{ApiJson, ApiPath, ApiQuery, ItemErrors, OptionalJson, Problem, ReadErrors, WriteErrors};
use super::{created, timestamp};
use crate::admin::ClientSpec;
use crate::admin::clients::{self, ClientQuery, ClientUpdate};
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
    pub id_token_signing_alg: String,
    pub theme: Option<String>,
    /// Skips the consent page.
    pub first_party: bool,
    /// RFC 3339.
    pub created_at: String,
    /// Whether the client authenticates with a secret (whose value is never shown again).
    pub has_secret: bool,
    /// Until when the secret replaced by the last rotation still works (RFC 3339; one client only).
    pub previous_secret_valid_until: Option<String>,
    /// Whether it answers for CAS services.
    pub cas: bool,
    /// Every other option (`ClientSettings`: allowed scopes, token formats and lifetimes, logout
    /// URIs, CAS services and attributes, allowed user types and groups…).
    #[schema(value_type = Object)]
    pub settings: serde_json::Value,
}

impl From<clients::ClientView> for ClientView {
    fn from(c: clients::ClientView) -> Self {
        ClientView {
            id: c.id,
            name: c.name,
            public: c.public,
            auth_method: c.auth_method,
            grant_types: c.grant_types,
            redirect_uris: c.redirect_uris,
            post_logout_redirect_uris: c.post_logout_redirect_uris,
            id_token_signing_alg: c.id_token_signing_alg,
            theme: c.theme,
            first_party: c.first_party,
            created_at: timestamp(c.created_at),
            has_secret: c.has_secret,
            previous_secret_valid_until: c.previous_secret_valid_until.map(timestamp),
            cas: c.cas,
            settings: serde_json::to_value(&c.settings).unwrap_or_default(),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientSort {
    #[default]
    Id,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ClientListQuery {
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    #[param(minimum = 0)]
    pub offset: Option<u64>,
    #[param(inline)]
    pub sort: Option<ClientSort>,
    #[param(inline)]
    pub order: Option<Order>,
    /// Part of the id or the name, case-insensitive.
    pub q: Option<String>,
    /// `true`: only clients with CAS services; `false`: only without.
    pub cas: Option<bool>,
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

/// Changes a registration: each member given replaces the current value, the others stay.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientPatch {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub grant_types: Option<Vec<String>>,
    /// Settings laid over the current ones, key by key (`null` unsets one).
    #[schema(value_type = Option<Object>)]
    pub settings: Option<serde_json::Map<String, serde_json::Value>>,
    /// `null`: every user type again.
    #[serde(default, deserialize_with = "present")]
    pub allowed_user_types: Option<Option<Vec<String>>>,
    /// `null`: everyone again.
    #[serde(default, deserialize_with = "present")]
    pub allowed_groups: Option<Option<Vec<String>>>,
    pub cas_services: Option<Vec<String>>,
    pub first_party: Option<bool>,
    /// `""`: the default theme.
    pub theme: Option<String>,
    #[serde(default)]
    pub allow_insecure_http: bool,
}

/// A member that is present, even as `null` (`Some(None)`), against one that is absent (`None`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// The client, and its secret: shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientCreated {
    pub client: ClientView,
    /// Confidential clients only; stored as a digest, never shown again.
    pub client_secret: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretRotate {
    /// Seconds during which the old secret still works (`secret_overlap` when absent; 0 stops it
    /// at once).
    #[schema(minimum = 0)]
    pub overlap: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SecretRotated {
    /// The new secret: shown this once.
    pub client_secret: String,
    /// Until when the old one still works (RFC 3339).
    pub previous_secret_valid_until: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ClientId {
    /// The client id.
    #[param(pattern = "^[A-Za-z0-9._~-]{1,128}$")]
    pub id: String,
}

/// List clients (by id).
#[utoipa::path(get, path = "/admin/api/v1/clients", tag = "clients", params(ClientListQuery),
    security(("bearer" = ["idp.admin"])),
    responses((status = 200, description = "A page of clients", body = Page<ClientView>), ReadErrors))]
pub async fn clients_get(
    State(state): State<AppState>,
    caller: Caller<needs::ManageClients>,
    ApiQuery(query): ApiQuery<ClientListQuery>,
) -> Result<Json<Page<ClientView>>, Problem> {
    let window = Window::parse(query.limit, query.offset)?;
    let s = &state.services;
    let mut ask = ClientQuery { text: query.q, cas: query.cas, offset: 0, limit: window.limit as usize };
    let offset = usize::try_from(window.offset).unwrap_or(usize::MAX);
    let descending = query.order == Some(Order::Desc);
    if descending {
        // The library lists by id: a descending page is the mirror slice, reversed.
        let total = clients::list_clients(s, &caller.actor, &ClientQuery { limit: 1, ..ask.clone() }).await?.total;
        let end = total.saturating_sub(offset);
        ask.offset = end.saturating_sub(window.limit as usize);
        ask.limit = end - ask.offset;
    } else {
        ask.offset = offset;
    }
    let mut page = if ask.limit == 0 {
        clients::Page {
            items: Vec::new(),
            total: clients::list_clients(s, &caller.actor, &ClientQuery { limit: 1, ..ask }).await?.total,
        }
    } else {
        clients::list_clients(s, &caller.actor, &ask).await?
    };
    if descending {
        page.items.reverse();
    }
    Ok(Json(Page {
        items: page.items.into_iter().map(ClientView::from).collect(),
        total: page.total as u64,
        limit: window.limit,
        offset: window.offset,
    }))
}

/// Register a client.
///
/// The answer carries the client secret of a confidential client: the only time it is shown.
#[utoipa::path(post, path = "/admin/api/v1/clients", tag = "clients", request_body = ClientCreate,
    security(("bearer" = ["idp.admin"])),
    responses((status = 201, description = "Created; `Location` names it", body = ClientCreated), WriteErrors))]
pub async fn clients_post(
    State(state): State<AppState>,
    caller: Caller<needs::ManageClients>,
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
    let (client, secret) = clients::create_client(&state.services, &caller.actor, &spec).await?;
    let location = format!("/clients/{}", client.id);
    let answer = ClientCreated { client: client.into(), client_secret: secret.map(|s| s.expose().to_owned()) };
    Ok(created(&location, answer))
}

/// Show a client.
#[utoipa::path(get, path = "/admin/api/v1/clients/{id}", tag = "clients", params(ClientId),
    security(("bearer" = ["idp.admin"])),
    responses((status = 200, description = "The client", body = ClientView), ItemErrors))]
pub async fn client_get(
    State(state): State<AppState>,
    caller: Caller<needs::ManageClients>,
    ApiPath(ClientId { id }): ApiPath<ClientId>,
) -> Result<Json<ClientView>, Problem> {
    Ok(Json(clients::get_client(&state.services, &caller.actor, &id).await?.into()))
}

/// Change a client, with the validation of its registration.
#[utoipa::path(patch, path = "/admin/api/v1/clients/{id}", tag = "clients", params(ClientId), request_body = ClientPatch,
    security(("bearer" = ["idp.admin"])),
    responses((status = 200, description = "The client as changed", body = ClientView), WriteErrors))]
pub async fn client_patch(
    State(state): State<AppState>,
    caller: Caller<needs::ManageClients>,
    ApiPath(ClientId { id }): ApiPath<ClientId>,
    ApiJson(body): ApiJson<ClientPatch>,
) -> Result<Json<ClientView>, Problem> {
    let s = &state.services;
    let settings = match body.settings {
        None => None,
        Some(object) => {
            let current = clients::get_client(s, &caller.actor, &id).await?.settings;
            let pairs: Vec<String> = object.iter().map(|(k, v)| format!("{k}={v}")).collect();
            Some(clients::merge_settings(&current, &pairs)?)
        }
    };
    let update = ClientUpdate {
        name: body.name,
        redirect_uris: body.redirect_uris,
        post_logout_redirect_uris: body.post_logout_redirect_uris,
        grants: body.grant_types,
        settings,
        allowed_user_types: body.allowed_user_types,
        allowed_groups: body.allowed_groups,
        cas_services: body.cas_services,
        first_party: body.first_party,
        theme: body.theme,
        allow_insecure_http: body.allow_insecure_http,
    };
    Ok(Json(clients::update_client(s, &caller.actor, &id, &update).await?.into()))
}

/// Delete a client, with its consents and refresh tokens.
#[utoipa::path(delete, path = "/admin/api/v1/clients/{id}", tag = "clients", params(ClientId),
    security(("bearer" = ["idp.admin"])),
    responses((status = 204, description = "Deleted"), ItemErrors))]
pub async fn client_delete(
    State(state): State<AppState>,
    caller: Caller<needs::ManageClients>,
    ApiPath(ClientId { id }): ApiPath<ClientId>,
) -> Result<StatusCode, Problem> {
    clients::delete_client(&state.services, &caller.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Rotate a client's secret; the old one still works during the overlap.
///
/// The answer carries the new secret: the only time it is shown. The body may be empty.
#[utoipa::path(post, path = "/admin/api/v1/clients/{id}/rotate-secret", tag = "clients", params(ClientId),
    request_body(content = Option<SecretRotate>),
    security(("bearer" = ["idp.admin"])),
    responses((status = 200, description = "The new secret", body = SecretRotated), WriteErrors))]
pub async fn client_rotate_secret_post(
    State(state): State<AppState>,
    caller: Caller<needs::ManageClients>,
    ApiPath(ClientId { id }): ApiPath<ClientId>,
    OptionalJson(body): OptionalJson<SecretRotate>,
) -> Result<Json<SecretRotated>, Problem> {
    let (secret, until) = clients::rotate_client_secret(&state.services, &caller.actor, &id, body.overlap).await?;
    Ok(Json(SecretRotated { client_secret: secret.expose().to_owned(), previous_secret_valid_until: timestamp(until) }))
}
