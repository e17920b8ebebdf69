//! /admin/clients: the applications (OpenID Connect and CAS): search, create (the secret shown
//! once), edit, rotate the secret and delete, each destructive step behind a confirmation page.
//! Admins only (`Permission::ManageClients`); `admin::clients` does the work and the checks.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::{Console, console_or_return, enter, enter_form, format_time, input_error, with_notice};
use crate::admin::actor::Permission;
use crate::admin::clients::{self, ClientQuery, ClientUpdate, ClientView};
use crate::admin::{AdminError, ClientSpec};
use crate::oidc::params::Params;
use crate::web::AppState;
use crate::web::browser::Browser;
use crate::web::error::AppError;
use crate::web::handlers::{PostedForm, field, parse_params, see_other};

/// The grants a console form offers, each as a checkbox `grant_<name>`.
const GRANTS: [&str; 3] = ["authorization_code", "refresh_token", "client_credentials"];

#[derive(Serialize)]
struct ClientRow {
    id: String,
    name: String,
    kind: &'static str,
    created: String,
}

#[derive(Serialize)]
struct ClientsPage {
    q: String,
    clients: Vec<ClientRow>,
    total: usize,
}

/// The fields of the create and edit forms, as typed (kept on a refused submission).
#[derive(Serialize, Default, Clone)]
struct ClientFields {
    id: String,
    name: String,
    public: bool,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    cas_services: String,
    grant_authorization_code: bool,
    grant_refresh_token: bool,
    grant_client_credentials: bool,
    first_party: bool,
    allowed_user_types: String,
    allowed_groups: String,
    allow_insecure_http: bool,
}

#[derive(Serialize)]
struct ClientFormPage {
    /// `true` on the edit page (the id and the client type are fixed).
    editing: bool,
    fields: ClientFields,
    error: String,
    /// The edit page's facts.
    has_secret: bool,
    previous_secret_valid_until: String,
    created: String,
}

#[derive(Serialize)]
struct SecretPage {
    id: String,
    secret: String,
    /// Set after a rotation: until when the previous secret still works.
    previous_valid_until: String,
}

#[derive(Serialize)]
struct ConfirmPage {
    id: String,
    name: String,
    /// `rotate` or `delete`.
    action: &'static str,
    overlap_hours: String,
    error: String,
}

fn client_path(id: &str) -> String {
    format!("/admin/clients/{}", super::segment(id))
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

fn list_of(text: &str) -> Option<Vec<String>> {
    let items: Vec<String> =
        text.split([',', '\n']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
    if items.is_empty() { None } else { Some(items) }
}

impl ClientFields {
    fn parse(params: &Params) -> Result<Self, AppError> {
        let text = |name: &str| -> Result<String, AppError> { Ok(field(params, name)?.unwrap_or_default().to_owned()) };
        let checked = |name: &str| -> Result<bool, AppError> { Ok(field(params, name)?.is_some()) };
        Ok(ClientFields {
            id: text("id")?.trim().to_owned(),
            name: text("name")?,
            public: text("client_type")? == "public",
            redirect_uris: text("redirect_uris")?,
            post_logout_redirect_uris: text("post_logout_redirect_uris")?,
            cas_services: text("cas_services")?,
            grant_authorization_code: checked("grant_authorization_code")?,
            grant_refresh_token: checked("grant_refresh_token")?,
            grant_client_credentials: checked("grant_client_credentials")?,
            first_party: checked("first_party")?,
            allowed_user_types: text("allowed_user_types")?,
            allowed_groups: text("allowed_groups")?,
            allow_insecure_http: checked("allow_insecure_http")?,
        })
    }

    fn of(view: &ClientView) -> Self {
        let has = |g: &str| view.grant_types.iter().any(|t| t == g);
        ClientFields {
            id: view.id.clone(),
            name: view.name.clone(),
            public: view.public,
            redirect_uris: view.redirect_uris.join("\n"),
            post_logout_redirect_uris: view.post_logout_redirect_uris.join("\n"),
            cas_services: view.settings.cas_services.join("\n"),
            grant_authorization_code: has("authorization_code"),
            grant_refresh_token: has("refresh_token"),
            grant_client_credentials: has("client_credentials"),
            first_party: view.first_party,
            allowed_user_types: view.settings.allowed_user_types.clone().unwrap_or_default().join(", "),
            allowed_groups: view.settings.allowed_groups.clone().unwrap_or_default().join(", "),
            allow_insecure_http: false,
        }
    }

    fn grants(&self) -> Vec<String> {
        let on = [self.grant_authorization_code, self.grant_refresh_token, self.grant_client_credentials];
        GRANTS.iter().zip(on).filter(|(_, on)| *on).map(|(g, _)| (*g).to_owned()).collect()
    }

    fn spec(&self) -> ClientSpec {
        let settings = crate::domain::client::ClientSettings {
            allowed_user_types: list_of(&self.allowed_user_types),
            allowed_groups: list_of(&self.allowed_groups),
            ..Default::default()
        };
        ClientSpec {
            id: self.id.clone(),
            name: self.name.trim().to_owned(),
            public: self.public,
            redirect_uris: lines(&self.redirect_uris),
            post_logout_redirect_uris: lines(&self.post_logout_redirect_uris),
            grants: self.grants(),
            first_party: self.first_party,
            allow_insecure_http: self.allow_insecure_http,
            settings,
            cas_services: lines(&self.cas_services),
            ..ClientSpec::default()
        }
    }

    fn update(&self) -> ClientUpdate {
        ClientUpdate {
            name: Some(self.name.trim().to_owned()),
            redirect_uris: Some(lines(&self.redirect_uris)),
            post_logout_redirect_uris: Some(lines(&self.post_logout_redirect_uris)),
            grants: Some(self.grants()),
            allowed_user_types: Some(list_of(&self.allowed_user_types)),
            allowed_groups: Some(list_of(&self.allowed_groups)),
            cas_services: Some(lines(&self.cas_services)),
            first_party: Some(self.first_party),
            allow_insecure_http: self.allow_insecure_http,
            ..ClientUpdate::default()
        }
    }
}

pub async fn admin_clients_get(State(state): State<AppState>, browser: Browser) -> Result<Response, AppError> {
    let console = console_or_return!(enter(&state, &browser));
    console.require(Permission::ManageClients)?;
    let params = parse_params(browser.query.as_deref().unwrap_or_default())?;
    let q = field(&params, "q")?.unwrap_or_default().trim().to_owned();
    let query = ClientQuery { text: Some(q.clone()).filter(|q| !q.is_empty()), ..ClientQuery::default() };
    let found = clients::list_clients(&state.services, &console.actor, &query).await.map_err(|e| console.refusal(e))?;
    let page = ClientsPage {
        q,
        total: found.total,
        clients: found
            .items
            .into_iter()
            .map(|c| ClientRow {
                kind: if c.cas && c.redirect_uris.is_empty() {
                    "cas"
                } else if c.public {
                    "public"
                } else {
                    "confidential"
                },
                id: c.id,
                name: c.name,
                created: format_time(c.created_at),
            })
            .collect(),
    };
    Ok(console.render(&state, &browser, StatusCode::OK, "admin_clients.html", "clients", &page))
}

fn form_page(console: &Console, state: &AppState, browser: &Browser, page: ClientFormPage) -> Response {
    let status = if page.error.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    console.render(state, browser, status, "admin_client_form.html", "clients", &page)
}

fn new_form(fields: ClientFields, error: String) -> ClientFormPage {
    ClientFormPage {
        editing: false,
        fields,
        error,
        has_secret: false,
        previous_secret_valid_until: String::new(),
        created: String::new(),
    }
}

pub async fn admin_client_new_get(State(state): State<AppState>, browser: Browser) -> Result<Response, AppError> {
    let console = console_or_return!(enter(&state, &browser));
    console.require(Permission::ManageClients)?;
    let fields = ClientFields { grant_authorization_code: true, ..ClientFields::default() };
    Ok(form_page(&console, &state, &browser, new_form(fields, String::new())))
}

/// Creates the client; the answer is the page with its secret, shown this once (never in a
/// URL, never stored in clear).
pub async fn admin_clients_post(
    State(state): State<AppState>,
    browser: Browser,
    form: PostedForm,
) -> Result<Response, AppError> {
    let console = console_or_return!(enter_form(&state, &browser));
    let params = form.check(&state, console.csrf_context())?;
    console.require(Permission::ManageClients)?;
    let fields = ClientFields::parse(&params)?;
    match clients::create_client(&state.services, &console.actor, &fields.spec()).await {
        Ok((view, secret)) => {
            let page = SecretPage {
                id: view.id,
                secret: secret.map(|s| s.expose().to_owned()).unwrap_or_default(),
                previous_valid_until: String::new(),
            };
            Ok(console.render(&state, &browser, StatusCode::OK, "admin_client_secret.html", "clients", &page))
        }
        Err(e) => match input_error(&e) {
            Some(error) => Ok(form_page(&console, &state, &browser, new_form(fields, error))),
            None => Err(console.refusal(e)),
        },
    }
}

async fn edit_page(
    state: &AppState,
    browser: &Browser,
    console: &Console,
    id: &str,
    typed: Option<(ClientFields, String)>,
) -> Result<Response, AppError> {
    let view = clients::get_client(&state.services, &console.actor, id).await.map_err(|e| console.refusal(e))?;
    let (fields, error) = typed.unwrap_or_else(|| (ClientFields::of(&view), String::new()));
    let page = ClientFormPage {
        editing: true,
        fields: ClientFields { id: view.id.clone(), public: view.public, ..fields },
        error,
        has_secret: view.has_secret,
        previous_secret_valid_until: view.previous_secret_valid_until.map(format_time).unwrap_or_default(),
        created: format_time(view.created_at),
    };
    Ok(form_page(console, state, browser, page))
}

pub async fn admin_client_get(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let console = console_or_return!(enter(&state, &browser));
    console.require(Permission::ManageClients)?;
    edit_page(&state, &browser, &console, &id, None).await
}

pub async fn admin_client_post(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
    form: PostedForm,
) -> Result<Response, AppError> {
    let console = console_or_return!(enter_form(&state, &browser));
    let params = form.check(&state, console.csrf_context())?;
    console.require(Permission::ManageClients)?;
    let fields = ClientFields::parse(&params)?;
    match clients::update_client(&state.services, &console.actor, &id, &fields.update()).await {
        Ok(_) => Ok(see_other(&with_notice(&client_path(&id), "client_updated", browser.lang(None)))),
        Err(e @ (AdminError::Field(_) | AdminError::Invalid(_) | AdminError::Duplicate(_))) => {
            let error = input_error(&e).unwrap_or_default();
            edit_page(&state, &browser, &console, &id, Some((fields, error))).await
        }
        Err(e) => Err(console.refusal(e)),
    }
}

async fn confirm_page(
    state: &AppState,
    browser: &Browser,
    console: &Console,
    id: &str,
    action: &'static str,
    error: String,
) -> Result<Response, AppError> {
    let view = clients::get_client(&state.services, &console.actor, id).await.map_err(|e| console.refusal(e))?;
    let page = ConfirmPage {
        id: view.id,
        name: view.name,
        action,
        overlap_hours: (state.services.admin.secret_overlap / 3600).to_string(),
        error,
    };
    let status = if page.error.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    Ok(console.render(state, browser, status, "admin_client_confirm.html", "clients", &page))
}

pub async fn admin_client_rotate_get(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let console = console_or_return!(enter(&state, &browser));
    console.require(Permission::ManageClients)?;
    confirm_page(&state, &browser, &console, &id, "rotate", String::new()).await
}

/// The confirmed rotation: the new secret is shown this once, with until when the old one works.
pub async fn admin_client_rotate_post(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
    form: PostedForm,
) -> Result<Response, AppError> {
    let console = console_or_return!(enter_form(&state, &browser));
    let params = form.check(&state, console.csrf_context())?;
    console.require(Permission::ManageClients)?;
    let hours = field(&params, "overlap_hours")?.unwrap_or_default().trim();
    let overlap = match hours {
        "" => None,
        h => match h.parse::<i64>() {
            Ok(h) if h >= 0 => Some(h.saturating_mul(3600)),
            _ => return confirm_page(&state, &browser, &console, &id, "rotate", format!("{h:?}: hours")).await,
        },
    };
    match clients::rotate_client_secret(&state.services, &console.actor, &id, overlap).await {
        Ok((secret, until)) => {
            let page = SecretPage { id, secret: secret.expose().to_owned(), previous_valid_until: format_time(until) };
            Ok(console.render(&state, &browser, StatusCode::OK, "admin_client_secret.html", "clients", &page))
        }
        Err(e @ AdminError::Invalid(_)) => {
            let error = input_error(&e).unwrap_or_default();
            confirm_page(&state, &browser, &console, &id, "rotate", error).await
        }
        Err(e) => Err(console.refusal(e)),
    }
}

pub async fn admin_client_delete_get(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let console = console_or_return!(enter(&state, &browser));
    console.require(Permission::ManageClients)?;
    confirm_page(&state, &browser, &console, &id, "delete", String::new()).await
}

pub async fn admin_client_delete_post(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
    form: PostedForm,
) -> Result<Response, AppError> {
    let console = console_or_return!(enter_form(&state, &browser));
    form.check(&state, console.csrf_context())?;
    console.require(Permission::ManageClients)?;
    match clients::delete_client(&state.services, &console.actor, &id).await {
        Ok(()) => Ok(see_other(&with_notice("/admin/clients", "client_deleted", browser.lang(None)))),
        Err(e @ AdminError::Invalid(_)) => {
            let error = input_error(&e).unwrap_or_default();
            confirm_page(&state, &browser, &console, &id, "delete", error).await
        }
        Err(e) => Err(console.refusal(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::{ClientFields, list_of};

    #[test]
    fn the_form_becomes_a_spec_with_one_uri_per_line_and_the_checked_grants() {
        let fields = ClientFields {
            id: "shop".into(),
            name: " Shop ".into(),
            redirect_uris: "https://a.example/cb\r\n\n  https://b.example/cb ".into(),
            grant_authorization_code: true,
            grant_refresh_token: true,
            allowed_groups: "agents, elus".into(),
            ..ClientFields::default()
        };
        let spec = fields.spec();
        assert_eq!(spec.name, "Shop");
        assert_eq!(spec.redirect_uris, vec!["https://a.example/cb", "https://b.example/cb"]);
        assert_eq!(spec.grants, vec!["authorization_code", "refresh_token"]);
        assert_eq!(spec.settings.allowed_groups, Some(vec!["agents".to_owned(), "elus".to_owned()]));
        assert_eq!(spec.settings.allowed_user_types, None, "empty: no restriction");
    }

    #[test]
    fn an_empty_list_is_no_restriction() {
        assert_eq!(list_of(" , "), None);
    }
}
