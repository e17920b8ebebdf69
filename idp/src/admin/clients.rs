//! Clients as an operator manages them (issue #12): list, view, create, update, delete, rotate
//! the secret with an overlap. The CLI, the REST API and the console call these; each checks
//! `Permission::ManageClients` and audits its writes with its actor. A `ClientView` never holds
//! a secret or its digest: a secret is returned once, by `create_client` or
//! `rotate_client_secret`, and only its digest is stored.

use serde::Serialize;
use serde_json::json;

use super::actor::{self, Actor, Permission};
use super::{AdminError, ClientSpec, build_client, groups};
use crate::account::audit;
use crate::crypto;
use crate::domain::client::{ACCOUNT_SPACE_CLIENT_ID, ADMIN_CONSOLE_CLIENT_ID, ClientSettings};
use crate::domain::{AuthMethod, Client, Secret};
use crate::services::Services;

/// What an operator may see of a client: everything but its secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClientView {
    pub id: String,
    pub name: String,
    /// A public client (no secret, PKCE).
    pub public: bool,
    pub auth_method: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub id_token_signing_alg: String,
    pub theme: Option<String>,
    pub first_party: bool,
    pub created_at: i64,
    /// Whether the client authenticates with a secret (whose value is never shown again).
    pub has_secret: bool,
    /// Until when the secret replaced by the last rotation still works (`get_client` only; a
    /// past instant once it stopped).
    pub previous_secret_valid_until: Option<i64>,
    /// CAS (issue #11): whether the client answers for CAS services (`settings.cas_services`).
    pub cas: bool,
    pub settings: ClientSettings,
}

impl ClientView {
    pub fn of(c: &Client) -> ClientView {
        ClientView {
            id: c.id.clone(),
            name: c.name.clone(),
            public: c.is_public(),
            auth_method: c.auth_method.as_str().to_owned(),
            redirect_uris: c.redirect_uris.iter().map(|u| u.as_str().to_owned()).collect(),
            post_logout_redirect_uris: c.post_logout_redirect_uris.iter().map(|u| u.as_str().to_owned()).collect(),
            grant_types: c.grant_types.iter().map(|g| g.as_str().to_owned()).collect(),
            id_token_signing_alg: c.id_token_alg.as_str().to_owned(),
            theme: c.theme.clone(),
            first_party: c.first_party,
            created_at: c.created_at,
            has_secret: c.secret_digest.is_some(),
            previous_secret_valid_until: None,
            cas: !c.settings.cas_services.is_empty(),
            settings: c.settings.clone(),
        }
    }
}

/// Which clients a list shows, and which page of them (sorted by id).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientQuery {
    /// Part of the id or the name, without regard to case.
    pub text: Option<String>,
    /// `Some(true)`: only clients with CAS services; `Some(false)`: only without.
    pub cas: Option<bool>,
    pub offset: usize,
    /// At most `MAX_PAGE`; 0 means `MAX_PAGE`.
    pub limit: usize,
}

pub const MAX_PAGE: usize = 200;

/// One page of a list and how many items the filter keeps in all.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: usize,
}

pub async fn list_clients(s: &Services, actor: &Actor, query: &ClientQuery) -> Result<Page<ClientView>, AdminError> {
    actor.require(Permission::ManageClients)?;
    // A deployment has tens or hundreds of clients, not millions: filtered here.
    let text = query.text.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_lowercase);
    let kept: Vec<ClientView> = s
        .store
        .clients()
        .await?
        .iter()
        .filter(|c| text.as_ref().is_none_or(|t| c.id.to_lowercase().contains(t) || c.name.to_lowercase().contains(t)))
        .filter(|c| query.cas.is_none_or(|cas| cas != c.settings.cas_services.is_empty()))
        .map(ClientView::of)
        .collect();
    let limit = if query.limit == 0 { MAX_PAGE } else { query.limit.min(MAX_PAGE) };
    let total = kept.len();
    Ok(Page { items: kept.into_iter().skip(query.offset).take(limit).collect(), total })
}

pub async fn get_client(s: &Services, actor: &Actor, id: &str) -> Result<ClientView, AdminError> {
    actor.require(Permission::ManageClients)?;
    let client = load(s, id).await?;
    let mut view = ClientView::of(&client);
    view.previous_secret_valid_until = s.store.previous_client_secret(id).await?.map(|p| p.expires_at);
    Ok(view)
}

/// Registers a client (`admin::build_client`'s validation); a confidential client's secret is
/// returned this once.
pub async fn create_client(
    s: &Services,
    actor: &Actor,
    spec: &ClientSpec,
) -> Result<(ClientView, Option<Secret>), AdminError> {
    actor.require(Permission::ManageClients)?;
    let (client, secret) = super::add_client(s, spec).await?;
    let detail = json!({
        "client_id": client.id,
        "auth_method": client.auth_method.as_str(),
        "redirect_uris": client.redirect_uris.iter().map(|u| u.as_str()).collect::<Vec<_>>(),
        "grant_types": client.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
    });
    actor::record(s, actor, audit::CLIENT_CREATED, None, detail).await?;
    Ok((ClientView::of(&client), secret))
}

/// What an update changes; `None` keeps the current value.
#[derive(Clone, Debug, Default)]
pub struct ClientUpdate {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub grants: Option<Vec<String>>,
    /// Replaces every setting (`merge_settings` builds one from the current settings and
    /// `key=value` pairs).
    pub settings: Option<ClientSettings>,
    /// Replaces `settings.allowed_user_types` (`Some(None)`: every type again).
    pub allowed_user_types: Option<Option<Vec<String>>>,
    /// Replaces `settings.allowed_groups` (`Some(None)`: everyone again).
    pub allowed_groups: Option<Option<Vec<String>>>,
    /// Replaces the CAS service URLs.
    pub cas_services: Option<Vec<String>>,
    pub first_party: Option<bool>,
    /// `Some("")` goes back to the default theme.
    pub theme: Option<String>,
    /// Allow http redirect URIs to hosts other than loopback (never in production).
    pub allow_insecure_http: bool,
}

/// Changes a client's registration with the same validation as its creation
/// (`admin::build_client`); its id, authentication method, secret and creation date stay.
pub async fn update_client(
    s: &Services,
    actor: &Actor,
    id: &str,
    update: &ClientUpdate,
) -> Result<ClientView, AdminError> {
    actor.require(Permission::ManageClients)?;
    let current = load(s, id).await?;
    refuse_server_owned(&current)?;
    let mut settings = update.settings.clone().unwrap_or_else(|| current.settings.clone());
    if let Some(types) = &update.allowed_user_types {
        settings.allowed_user_types = types.clone();
    }
    if let Some(groups) = &update.allowed_groups {
        settings.allowed_groups = groups.clone();
    }
    if let Some(services) = &update.cas_services {
        settings.cas_services = services.clone();
    }
    let uris = |u: &[crate::domain::RedirectUri]| u.iter().map(|u| u.as_str().to_owned()).collect::<Vec<_>>();
    let spec = ClientSpec {
        id: current.id.clone(),
        name: update.name.clone().unwrap_or_else(|| current.name.clone()),
        public: current.is_public(),
        // The stored digest is kept: the secret build_client would generate is dropped.
        secret: None,
        redirect_uris: update.redirect_uris.clone().unwrap_or_else(|| uris(&current.redirect_uris)),
        post_logout_redirect_uris: update
            .post_logout_redirect_uris
            .clone()
            .unwrap_or_else(|| uris(&current.post_logout_redirect_uris)),
        grants: update
            .grants
            .clone()
            .unwrap_or_else(|| current.grant_types.iter().map(|g| g.as_str().to_owned()).collect()),
        auth_method: Some(current.auth_method.as_str().to_owned()),
        id_token_alg: Some(current.id_token_alg.as_str().to_owned()),
        theme: update.theme.clone().or_else(|| current.theme.clone()),
        first_party: update.first_party.unwrap_or(current.first_party),
        allow_insecure_http: update.allow_insecure_http,
        settings,
        cas_services: Vec::new(),
    };
    let (built, _) = build_client(&spec, current.created_at)?;
    groups::check_access_rules(s, &built.settings)?;
    crate::oidc::subject::check_registration(&built).await.map_err(AdminError::Invalid)?;
    let updated = Client { secret_digest: current.secret_digest.clone(), ..built };
    let changed = changed_fields(&current, &updated);
    if !s.store.update_client(&updated).await? {
        return Err(AdminError::NotFound(format!("client {id:?}")));
    }
    actor::record(s, actor, audit::CLIENT_UPDATED, None, json!({ "client_id": id, "changed": changed })).await?;
    get_client(s, actor, id).await
}

/// Removes a client with its consents and refresh tokens.
pub async fn delete_client(s: &Services, actor: &Actor, id: &str) -> Result<(), AdminError> {
    actor.require(Permission::ManageClients)?;
    refuse_server_owned(&load(s, id).await?)?;
    if !s.store.delete_client(id).await? {
        return Err(AdminError::NotFound(format!("client {id:?}")));
    }
    actor::record(s, actor, audit::CLIENT_DELETED, None, json!({ "client_id": id })).await
}

/// A new secret, returned this once. The old one keeps working until `now + overlap`
/// (`secret_overlap` when `None`; 0 stops it at once), so the relying party can be redeployed
/// without an outage; a secret rotated before that is forgotten (only one previous secret).
pub async fn rotate_client_secret(
    s: &Services,
    actor: &Actor,
    id: &str,
    overlap: Option<i64>,
) -> Result<(Secret, i64), AdminError> {
    actor.require(Permission::ManageClients)?;
    let overlap = overlap.unwrap_or(s.admin.secret_overlap);
    if !(0..=crate::config::MAX_DURATION).contains(&overlap) {
        return Err(AdminError::Invalid(format!(
            "the overlap must be between 0 and {} seconds",
            crate::config::MAX_DURATION
        )));
    }
    let client = load(s, id).await?;
    refuse_server_owned(&client)?;
    if client.secret_digest.is_none()
        || !matches!(client.auth_method, AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost)
    {
        return Err(AdminError::Invalid(format!("client {id:?} does not authenticate with a secret")));
    }
    let secret = Secret::new(crypto::random_token(32));
    let until = s.now() + overlap;
    if !s.store.rotate_client_secret(id, &crypto::digest(secret.expose()), until).await? {
        return Err(AdminError::NotFound(format!("client {id:?}")));
    }
    let detail = json!({ "client_id": id, "previous_valid_until": until });
    actor::record(s, actor, audit::CLIENT_SECRET_ROTATED, None, detail).await?;
    Ok((secret, until))
}

/// The current settings with `key=value` pairs laid over them (as `--setting` on the command
/// line: a value is JSON when it is JSON, a string otherwise; `key=null` unsets an option).
pub fn merge_settings(current: &ClientSettings, pairs: &[String]) -> Result<ClientSettings, AdminError> {
    let mut object = match serde_json::to_value(current) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    for pair in pairs {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| AdminError::Invalid(format!("--setting {pair:?}: expected key=value")))?;
        let value = serde_json::from_str(value).unwrap_or_else(|_| serde_json::Value::String(value.to_owned()));
        object.insert(key.trim().to_owned(), value);
    }
    serde_json::from_value(serde_json::Value::Object(object))
        .map_err(|e| AdminError::Invalid(format!("--setting: {e}")))
}

async fn load(s: &Services, id: &str) -> Result<Client, AdminError> {
    s.store.client(id).await?.ok_or_else(|| AdminError::NotFound(format!("client {id:?}")))
}

/// The account space's client is registered by the server at every start: changing it here
/// would last until the next one.
fn refuse_server_owned(client: &Client) -> Result<(), AdminError> {
    if client.id == ACCOUNT_SPACE_CLIENT_ID || client.id == ADMIN_CONSOLE_CLIENT_ID {
        return Err(AdminError::Invalid(format!("client {:?} belongs to the server itself", client.id)));
    }
    Ok(())
}

/// The names of the registration's fields that differ (the audit trail's `changed`).
fn changed_fields(old: &Client, new: &Client) -> Vec<String> {
    let mut changed = Vec::new();
    let mut check = |name: &str, differs: bool| {
        if differs {
            changed.push(name.to_owned());
        }
    };
    check("name", old.name != new.name);
    check("redirect_uris", old.redirect_uris != new.redirect_uris);
    check("post_logout_redirect_uris", old.post_logout_redirect_uris != new.post_logout_redirect_uris);
    check("grant_types", old.grant_types != new.grant_types);
    check("theme", old.theme != new.theme);
    check("first_party", old.first_party != new.first_party);
    let (a, b) = (serde_json::to_value(&old.settings).ok(), serde_json::to_value(&new.settings).ok());
    if let (Some(serde_json::Value::Object(a)), Some(serde_json::Value::Object(b))) = (a, b) {
        let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            if a.get(key) != b.get(key) {
                check(key, true);
            }
        }
    }
    changed
}

/// Most registrations one initial access token may allow.
pub const MAX_REGISTRATION_TOKEN_USES: i64 = 1000;

/// An RFC 7591 initial access token for `/register`, returned this once (its digest is stored):
/// good for `uses` registrations (1: single use) until `now + ttl`.
pub async fn issue_registration_token(
    s: &Services,
    actor: &Actor,
    ttl: i64,
    uses: i64,
) -> Result<(Secret, i64), AdminError> {
    actor.require(Permission::ManageClients)?;
    if !(1..=crate::config::MAX_DURATION).contains(&ttl) {
        return Err(AdminError::Invalid("the lifetime must be positive and at most ten years".into()));
    }
    if !(1..=MAX_REGISTRATION_TOKEN_USES).contains(&uses) {
        return Err(AdminError::Invalid(format!("uses must be between 1 and {MAX_REGISTRATION_TOKEN_USES}")));
    }
    let token = Secret::new(crypto::random_token(32));
    let (now, expires_at) = (s.now(), s.now() + ttl);
    s.store.insert_registration_token(&crypto::digest(token.expose()), now, expires_at, uses).await?;
    let detail = json!({ "expires_at": expires_at, "uses": uses });
    actor::record(s, actor, audit::REGISTRATION_TOKEN_ISSUED, None, detail).await?;
    Ok((token, expires_at))
}
