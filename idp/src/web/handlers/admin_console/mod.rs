//! /admin, the administration console (issue #12): a first-party application of the provider
//! that signs in through /authorize exactly as /account does (`account_space::ADMIN_CONSOLE`),
//! keeps its own session cookie (sent to /admin only), and lets people with a role in. Each
//! request builds the viewer's `Actor` and calls the `admin` library with it: the library checks
//! the permission, the pages only hide what the role cannot do.
//!
//! What lives here: entering the console (sign-in, callback, sign-out, the "not authorised"
//! page), the frame every console page shares, and the mapping of `AdminError` to pages. One
//! file per area for the rest (dashboard, clients, users, groups, audit).

pub mod audit;
pub mod clients;
pub mod dashboard;
pub mod groups;
pub mod users;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::{PostedForm, parse_params, see_other};
use crate::account::csrf::Context;
use crate::account_space::{self, ADMIN_CONSOLE, SpaceError, Visitor};
use crate::admin::AdminError;
use crate::admin::actor::{Actor, Permission, Role};
use crate::domain::User;
use crate::oidc::authorize::redirect_with;
use crate::web::AppState;
use crate::web::browser::{Browser, set_cookie_at};
use crate::web::error::AppError;
use crate::web::pages::{View, with_cookies};

/// The console's cookie goes to its own pages only.
pub const ADMIN_COOKIE_PATH: &str = "/admin";

/// A person inside the console: signed in, with a role.
pub struct Console {
    pub actor: Actor,
    pub role: Role,
    pub user: User,
    /// Digest of the console session's cookie: what the console's forms are bound to.
    cookie_digest: String,
}

impl Console {
    /// The CSRF context of every form of the console.
    pub fn csrf_context(&self) -> Context<'_> {
        Context::AdminConsole { session_digest: &self.cookie_digest }
    }

    pub fn may(&self, p: Permission) -> bool {
        self.actor.may(p)
    }
}

/// Who is at the console's door.
enum Door {
    /// Not signed in to the console.
    Outside,
    /// Signed in, without a role: the "not authorised" page.
    NoRole {
        cookie_digest: String,
    },
    Inside(Box<Console>),
}

async fn door(state: &AppState, browser: &Browser) -> Result<Door, AppError> {
    let Some(cookie) = browser.cookie(state.cookies.admin) else {
        return Ok(Door::Outside);
    };
    let s = &state.services;
    let Some(Visitor { user, .. }) = account_space::visitor(s, &ADMIN_CONSOLE, cookie).await? else {
        return Ok(Door::Outside);
    };
    let cookie_digest = crate::crypto::digest(cookie);
    // Read at every request: a role taken away takes effect at once.
    match account_space::console_role(s, &user).await? {
        Some(role) => {
            let actor = Actor::person(&user.id, &user.login, role, browser.client_info());
            Ok(Door::Inside(Box::new(Console { actor, role, user, cookie_digest })))
        }
        None => Ok(Door::NoRole { cookie_digest }),
    }
}

/// The console for a page (GET): `Err` is the response to send instead (to the sign-in, or the
/// "not authorised" page).
pub async fn enter(state: &AppState, browser: &Browser) -> Result<Result<Console, Response>, AppError> {
    match door(state, browser).await? {
        Door::Inside(console) => Ok(Ok(*console)),
        Door::Outside => Ok(Err(sign_in(state, browser).await?)),
        Door::NoRole { cookie_digest } => Ok(Err(not_authorised(state, browser, &cookie_digest))),
    }
}

/// The console for a form (POST): outside, back to /admin (which signs in); no role, refused.
pub async fn enter_form(state: &AppState, browser: &Browser) -> Result<Result<Console, Response>, AppError> {
    match door(state, browser).await? {
        Door::Inside(console) => Ok(Ok(*console)),
        Door::Outside => Ok(Err(see_other("/admin"))),
        Door::NoRole { cookie_digest } => Ok(Err(not_authorised(state, browser, &cookie_digest))),
    }
}

/// `enter`/`enter_form` for a handler returning `Result<Response, AppError>`.
macro_rules! console_or_return {
    ($entered:expr) => {
        match $entered.await? {
            Ok(console) => console,
            Err(response) => return Ok(response),
        }
    };
}
pub(crate) use console_or_return;

async fn sign_in(state: &AppState, browser: &Browser) -> Result<Response, AppError> {
    match account_space::begin_login(&state.services, &ADMIN_CONSOLE, &browser.ip).await? {
        Some(url) => Ok(see_other(&url)),
        None => Err(AppError::from_page_error(crate::oidc::authorize::PageError::TooManyRequests, None)),
    }
}

#[derive(Serialize)]
struct NotAuthorisedPage {
    csrf: String,
}

fn not_authorised(state: &AppState, browser: &Browser, cookie_digest: &str) -> Response {
    let (csrf, set) = state.form_token(browser, &Context::AdminConsole { session_digest: cookie_digest });
    let view = View::new(state, browser, None, None);
    state.page(
        StatusCode::FORBIDDEN,
        &view,
        "admin_not_authorised.html",
        &NotAuthorisedPage { csrf },
        None,
        with_cookies(set),
    )
}

/// What the navigation shows: the areas the viewer's role may open.
#[derive(Serialize)]
struct Nav {
    dashboard: bool,
    clients: bool,
    users: bool,
    groups: bool,
    audit: bool,
}

/// What every console page gets besides its own content.
#[derive(Serialize)]
struct Frame<'a, T: Serialize> {
    csrf: &'a str,
    viewer: &'a str,
    role: &'static str,
    /// The area of the page, to mark the current link of the navigation.
    area: &'static str,
    nav: Nav,
    /// A translated confirmation after a redirect, or empty.
    notice: String,
    #[serde(flatten)]
    page: &'a T,
}

/// The confirmations a console page shows after a redirect (`?notice=…`): only these catalog
/// keys (with the `admin_notice_` prefix), anything else is ignored.
const NOTICES: &[&str] = &[
    "client_updated",
    "client_deleted",
    "user_unlocked",
    "user_reset_sent",
    "user_activation_sent",
    "user_secret_question_reset",
    "user_sessions_ended",
    "user_updated",
    "user_disabled",
    "user_enabled",
    "user_deleted",
    "user_role_set",
    "group_created",
    "member_added",
    "member_removed",
];

/// `path` showing `notice` (one of `NOTICES`), in the language of the form that led there.
pub fn with_notice(path: &str, notice: &str, lang: crate::domain::Lang) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}notice={notice}&lang={}", lang.code())
}

impl Console {
    /// Renders a console page: `area` marks the navigation, `query` is the request's (for the
    /// notice).
    pub fn render<T: Serialize>(
        &self,
        state: &AppState,
        browser: &Browser,
        status: StatusCode,
        template: &str,
        area: &'static str,
        page: &T,
    ) -> Response {
        let (csrf, set) = state.form_token(browser, &self.csrf_context());
        let view = View::new(state, browser, None, None);
        let notice = browser
            .query
            .as_deref()
            .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
            .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "notice").map(|(_, v)| v))
            .filter(|n| NOTICES.contains(&n.as_str()))
            .map(|n| state.text(&view, &format!("admin_notice_{n}")))
            .unwrap_or_default();
        let frame = Frame {
            csrf: &csrf,
            viewer: &self.user.login,
            role: self.role.as_str(),
            area,
            nav: Nav {
                dashboard: self.may(Permission::ReadAudit),
                clients: self.may(Permission::ManageClients),
                users: self.may(Permission::ViewUsers),
                groups: self.may(Permission::ManageGroups),
                audit: self.may(Permission::ReadAudit),
            },
            notice,
            page,
        };
        state.page(status, &view, template, &frame, None, with_cookies(set))
    }

    /// The page for a library refusal: bad input goes back to the form (`form` re-rendered with
    /// the error by the caller), the rest are themed error pages.
    pub fn refusal(&self, err: AdminError) -> AppError {
        match err {
            AdminError::Forbidden => AppError::page(StatusCode::FORBIDDEN, "admin_error_forbidden"),
            AdminError::NotFound(_) => AppError::page(StatusCode::NOT_FOUND, "error_not_found"),
            AdminError::Infra(e) => e.into(),
            AdminError::Field(_) | AdminError::Invalid(_) | AdminError::Duplicate(_) => {
                AppError::page(StatusCode::BAD_REQUEST, "error_bad_request")
            }
        }
    }

    /// A themed 403 unless the viewer's role permits `p`: the pages of an area the role cannot
    /// open are refused before anything is read.
    pub fn require(&self, p: Permission) -> Result<(), AppError> {
        self.actor.require(p).map_err(|e| self.refusal(e))
    }
}

/// The message of a refused input, for the form that sent it: the library's own words (the
/// field and what is wrong), never internal text (`Infra` is not an input error).
pub fn input_error(err: &AdminError) -> Option<String> {
    match err {
        AdminError::Field(_) | AdminError::Invalid(_) | AdminError::Duplicate(_) | AdminError::NotFound(_) => {
            Some(err.to_string())
        }
        AdminError::Forbidden | AdminError::Infra(_) => None,
    }
}

/// `value` as one path segment of a redirect (ids are checked slugs; this only keeps a bad one
/// from changing the path).
pub fn segment(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// UTC to the minute, readable in both languages: `2026-11-18 11:06 UTC` (operators compare
/// times with logs; /account shows people the portal's local time instead).
pub fn format_time(unix: i64) -> String {
    let iso = crate::clock::rfc3339(unix);
    format!("{} {} UTC", &iso[..10], &iso[11..16])
}

/// /admin: the viewer's first page (the dashboard, or the users for support).
pub async fn admin_get(State(state): State<AppState>, browser: Browser) -> Result<Response, AppError> {
    let console = console_or_return!(enter(&state, &browser));
    let home = if console.may(Permission::ReadAudit) { "/admin/dashboard" } else { "/admin/users" };
    Ok(see_other(home))
}

pub async fn admin_callback_get(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let params = parse_params(query.as_deref().unwrap_or_default())?;
    match account_space::finish_login(&state.services, &ADMIN_CONSOLE, &params).await {
        Ok((cookie, _)) => {
            let mut response = see_other("/admin");
            response.headers_mut().extend(with_cookies([set_cookie_at(
                state.cookies.admin,
                &cookie,
                ADMIN_COOKIE_PATH,
                state.cookies.secure,
                None,
            )]));
            Ok(response)
        }
        Err(SpaceError::Infra(e)) => Err(e.into()),
        Err(SpaceError::UnknownState) => Err(AppError::expired()),
        Err(SpaceError::Refused(reason)) => {
            tracing::info!(%reason, "console sign-in refused");
            Err(AppError::page(StatusCode::BAD_REQUEST, "error_invalid_request"))
        }
    }
}

/// Signs out of the console and of the provider (RP-initiated logout, as /account does).
pub async fn admin_logout_post(
    State(state): State<AppState>,
    browser: Browser,
    form: PostedForm,
) -> Result<Response, AppError> {
    let Some(cookie) = browser.cookie(state.cookies.admin) else {
        return Ok(see_other("/admin"));
    };
    let s = &state.services;
    let Some(session) = account_space::session(s, &ADMIN_CONSOLE, cookie).await? else {
        return Ok(see_other("/admin"));
    };
    let digest = crate::crypto::digest(cookie);
    form.check(&state, Context::AdminConsole { session_digest: &digest })?;
    account_space::end(s, &ADMIN_CONSOLE, cookie).await?;
    let location = redirect_with(
        &s.endpoint("/logout"),
        &[("id_token_hint", Some(&session.id_token)), ("client_id", Some(ADMIN_CONSOLE.client_id))],
    );
    let mut response = see_other(&location);
    let clear = set_cookie_at(state.cookies.admin, "", ADMIN_COOKIE_PATH, state.cookies.secure, Some(0));
    response.headers_mut().extend(with_cookies([clear]));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::with_notice;

    #[test]
    fn a_notice_is_added_to_the_query() {
        let en = crate::domain::Lang::En;
        assert_eq!(with_notice("/admin/users/u1", "user_unlocked", en), "/admin/users/u1?notice=user_unlocked&lang=en");
        assert_eq!(with_notice("/admin/users?q=a", "user_deleted", en), "/admin/users?q=a&notice=user_deleted&lang=en");
    }
}
