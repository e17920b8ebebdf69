//! Self-service recovery pages (issue #5) shared by both recoveries: the user-type selector
//! (`choose_type`, used by the first page of each) and the support page
//! (`GET /recovery/support`). The forgotten password's pages are in `recovery_password`, the
//! forgotten identifier's in `recovery_identifier`.

use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::parse_params;
use crate::account::recovery::{self, FlowKind, Origin};
use crate::account::signin::Continuation;
use crate::domain::user_type::{IdentifierRecovery, PasswordRecovery, RecoveryHandling, UserType};
use crate::domain::{Client, Lang};
use crate::oidc::authorize;
use crate::oidc::params::Params;
use crate::web::AppState;
use crate::web::browser::Browser;
use crate::web::error::AppError;
use crate::web::pages::{View, with_cookies};

/// What the selector decided.
pub enum Chosen {
    /// Go on with this user type, for the relying party of `origin`.
    Type { user_type: String, origin: Origin },
    /// Answer with this page instead: the selector, the support page, or a redirect to the
    /// type's external service.
    Page(Response),
}

/// The path of each recovery's first page.
pub fn path_of(kind: FlowKind) -> &'static str {
    match kind {
        FlowKind::Password => "/recovery/password",
        FlowKind::Identifier => "/recovery/identifier",
    }
}

/// Where the request came from: its pending authorization request (which names the client and
/// the languages) or a bare `client_id`.
pub async fn origin_of(state: &AppState, params: &Params) -> Result<(Origin, Option<Client>), AppError> {
    let s = &state.services;
    let request_id = param(params, "request_id");
    if let Some(request_id) = request_id.as_deref()
        && let Some((request, client)) = authorize::pending(s, request_id).await?
    {
        let origin = Origin {
            continuation: Some(Continuation::Authorization { request_id: request_id.to_owned() }),
            client_id: Some(client.id.clone()),
            ui_locales: request.ui_locales.clone(),
        };
        return Ok((origin, Some(client)));
    }
    let client = match param(params, "client_id") {
        Some(id) => recovery::client_named(s, &id).await?,
        None => None,
    };
    let origin = Origin { continuation: None, client_id: client.as_ref().map(|c| c.id.clone()), ui_locales: None };
    Ok((origin, client))
}

/// The client of a recovery (`origin_of` names it along with its pending request).
pub async fn client_of(state: &AppState, origin: &Origin) -> Result<Option<Client>, AppError> {
    Ok(origin.client(&state.services).await?)
}

/// A single non-empty parameter; a repeated one counts as absent (these only steer pages).
pub fn param(params: &Params, name: &str) -> Option<String> {
    params.get(name).ok().flatten().map(str::to_owned)
}

/// The page's view: the client's theme, else the chosen type's.
pub fn view_for(
    state: &AppState,
    browser: &Browser,
    client: Option<&Client>,
    origin: &Origin,
    user_type: Option<&UserType>,
) -> View {
    View::with_user_type(state, browser, client, origin.ui_locales.as_deref(), user_type)
}

/// `?a=b&…` keeping the relying party's request and the language.
pub fn query_of(origin: &Origin, lang: Lang, extra: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(&str, &str)> = extra.to_vec();
    if let Some(id) = origin.request_id() {
        pairs.push(("request_id", id));
    } else if let Some(id) = origin.client_id.as_deref() {
        pairs.push(("client_id", id));
    }
    pairs.push(("lang", lang.code()));
    format!("?{}", serde_urlencoded::to_string(&pairs).unwrap_or_default())
}

/// Decides the user type of a recovery server-side, so the selector never flashes: the
/// `user_type` parameter (a hint in a link), else the client's `recovery_user_type`, else the
/// only declared type; otherwise the selector page. A type handled elsewhere answers with a
/// redirect to its service, a type without self-service for `kind` with its support page.
pub async fn choose_type(
    state: &AppState,
    browser: &Browser,
    params: &Params,
    kind: FlowKind,
) -> Result<Chosen, AppError> {
    let types = &state.services.user_types;
    let (origin, client) = origin_of(state, params).await?;
    let hinted = param(params, "user_type").and_then(|id| types.get(&id));
    let by_client = client.as_ref().and_then(|c| c.settings.recovery_user_type.as_deref()).and_then(|id| types.get(id));
    let single = match types.all() {
        [only] => Some(only),
        _ => None,
    };
    let Some(user_type) = hinted.or(by_client).or(single) else {
        let hint = login_hint(params);
        return Ok(Chosen::Page(selector(state, browser, client.as_ref(), &origin, kind, hint.as_deref())));
    };
    let rule = &user_type.recovery;
    let unsupported = match kind {
        FlowKind::Password => rule.password == PasswordRecovery::None,
        FlowKind::Identifier => rule.identifier == IdentifierRecovery::None,
    };
    match rule.handling {
        RecoveryHandling::External => {
            let url = rule.external_url.clone().unwrap_or_else(|| "/".to_owned());
            Ok(Chosen::Page((StatusCode::SEE_OTHER, [(header::LOCATION, url)]).into_response()))
        }
        RecoveryHandling::Support => {
            Ok(Chosen::Page(support(state, browser, client.as_ref(), &origin, Some(user_type))))
        }
        RecoveryHandling::SelfService if unsupported => {
            Ok(Chosen::Page(support(state, browser, client.as_ref(), &origin, Some(user_type))))
        }
        RecoveryHandling::SelfService => Ok(Chosen::Type { user_type: user_type.id.clone(), origin }),
    }
}

#[derive(Serialize)]
struct SelectorChoice {
    label: String,
    description: String,
    url: String,
}

#[derive(Serialize)]
struct SelectorPage {
    kind: &'static str,
    client_name: String,
    choices: Vec<SelectorChoice>,
    support_url: String,
    login_url: String,
}

/// "Pour vous diriger vers le bon service, cliquez sur le cas qui vous concerne" (GET only:
/// links, nothing to post, nothing about accounts).
fn selector(
    state: &AppState,
    browser: &Browser,
    client: Option<&Client>,
    origin: &Origin,
    kind: FlowKind,
    login_hint: Option<&str>,
) -> Response {
    let view = view_for(state, browser, client, origin, None);
    let path = path_of(kind);
    // The login typed on the login page goes on to the chosen type's first page (issue #13).
    let hint: Vec<(&str, &str)> = login_hint.map(|h| ("login_hint", h)).into_iter().collect();
    let choices = state
        .services
        .user_types
        .all()
        .iter()
        .map(|t| SelectorChoice {
            label: t.label.get(view.lang).to_owned(),
            description: t.description.get(view.lang).to_owned(),
            url: format!(
                "{path}{}",
                query_of(origin, view.lang, &[&[("user_type", t.id.as_str())], &hint[..]].concat())
            ),
        })
        .collect();
    let page = SelectorPage {
        kind: kind_str(kind),
        client_name: client.map(|c| c.name.clone()).unwrap_or_default(),
        choices,
        support_url: format!("/recovery/support{}", query_of(origin, view.lang, &[])),
        login_url: login_url(origin, view.lang, None),
    };
    state.page(StatusCode::OK, &view, "recovery_select.html", &page, None, with_cookies(None))
}

fn kind_str(kind: FlowKind) -> &'static str {
    match kind {
        FlowKind::Password => "password",
        FlowKind::Identifier => "identifier",
    }
}

/// The longest identifier a `login_hint` carries to a recovery's first page.
const MAX_LOGIN_HINT: usize = 256;

/// The identifier typed on the login page before "Mot de passe perdu ?" (`login_hint`, as
/// OpenID Connect names it), to fill in the recovery's identifier field: trimmed, none when
/// empty or longer than any identifier.
pub fn login_hint(params: &Params) -> Option<String> {
    let hint = param(params, "login_hint")?;
    let hint = hint.trim();
    (!hint.is_empty() && hint.chars().count() <= MAX_LOGIN_HINT).then(|| hint.to_owned())
}

/// Back to the login page of the pending request, or to /account.
/// With a `user_type` that has a theme, the login page keeps that theme when its client has
/// none: a flow ends in the theme it was shown in (issue #13).
pub fn login_url(origin: &Origin, lang: Lang, user_type: Option<&UserType>) -> String {
    match origin.request_id() {
        Some(id) => {
            let mut pairs = vec![("request_id", id)];
            if let Some(t) = user_type.filter(|t| t.theme.is_some()) {
                pairs.push(("user_type", t.id.as_str()));
            }
            pairs.push(("lang", lang.code()));
            format!("/login?{}", serde_urlencoded::to_string(pairs).unwrap_or_default())
        }
        None => "/account".to_owned(),
    }
}

#[derive(Serialize)]
struct SupportPage {
    type_label: String,
    support: String,
    support_url: String,
    login_url: String,
}

/// The support contact: the type's when one is named, else the installation's.
fn support(
    state: &AppState,
    browser: &Browser,
    client: Option<&Client>,
    origin: &Origin,
    user_type: Option<&UserType>,
) -> Response {
    let view = view_for(state, browser, client, origin, user_type);
    let (support, support_url) = state.services.recovery.support_for(user_type, view.lang);
    let page = SupportPage {
        type_label: user_type.map(|t| t.label.get(view.lang).to_owned()).unwrap_or_default(),
        support,
        support_url,
        login_url: login_url(origin, view.lang, user_type),
    };
    state.page(StatusCode::OK, &view, "recovery_support.html", &page, None, with_cookies(None))
}

/// `GET /recovery/support[?user_type=…]`: "J'ai besoin de support".
pub async fn recovery_support_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let params = parse_params(query.as_deref().unwrap_or_default())?;
    let (origin, client) = origin_of(&state, &params).await?;
    let user_type = param(&params, "user_type").and_then(|id| state.services.user_types.get(&id).cloned());
    Ok(support(&state, &browser, client.as_ref(), &origin, user_type.as_ref()))
}
