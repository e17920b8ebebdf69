//! /account: who am I, my sessions (close the others), the applications I consented to
//! (withdraw the consent), my recent sign-ins, links to the security pages (`account_security`),
//! sign out. Times are in the portal's time zone, browsers named ("Firefox sur Linux"). See `crate::account_space` for how it signs in
//! through the provider's own OpenID Connect endpoints.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::{PostedForm, parse_params, see_other};
use crate::account::csrf::Context;
use crate::account::{audit, secret_question, self_service};
use crate::account_space::{self, ACCOUNT, AccountSession, SpaceError, Visitor};
use crate::domain::{Lang, User};
use crate::oidc::authorize::redirect_with;
use crate::session::BrowserSession;
use crate::web::AppState;
use crate::web::browser::{Browser, clear_cookie, set_cookie};
use crate::web::error::AppError;
use crate::web::pages::{View, with_cookies};

#[derive(Serialize)]
struct UserView {
    login: String,
    name: String,
    email: String,
    sub: String,
}

#[derive(Serialize)]
struct SessionView {
    id: String,
    created: String,
    last_seen: String,
    /// "Firefox sur Linux" (`browser_text`).
    browser: String,
    ip: String,
    current: bool,
}

/// One line of "Activité récente": a sign-in or a failed sign-in.
#[derive(Serialize)]
struct ActivityView {
    when: String,
    failed: bool,
    ip: String,
    browser: String,
}

/// An application the user consented to, with its "Retirer l'accès" form.
#[derive(Serialize)]
struct ApplicationView {
    client_id: String,
    name: String,
    granted: String,
    /// The scopes as the consent page words them (`scope_<name>`), else their names.
    scopes: Vec<String>,
}

#[derive(Serialize)]
struct AccountPage {
    csrf: String,
    user: UserView,
    sessions: Vec<SessionView>,
    applications: Vec<ApplicationView>,
    activity: Vec<ActivityView>,
    /// The city of the portal's time zone ("Paris"), named above the tables.
    time_zone: String,
    /// Whether the user type uses a secret question, or the user has one anyway.
    show_secret_question: bool,
    has_secret_question: bool,
    notice: String,
}

/// The confirmations /account shows after a redirect (`?notice=…`); anything else is ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Notice {
    SessionClosed,
    PasswordChanged,
    SecretQuestionSet,
    ApplicationRevoked,
}

impl Notice {
    const ALL: [Self; 4] =
        [Self::SessionClosed, Self::PasswordChanged, Self::SecretQuestionSet, Self::ApplicationRevoked];

    fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|n| n.as_str() == value)
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::SessionClosed => "session_closed",
            Self::PasswordChanged => "password_changed",
            Self::SecretQuestionSet => "secret_question_set",
            Self::ApplicationRevoked => "application_revoked",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Self::SessionClosed => "account_session_closed",
            Self::PasswordChanged => "account_password_changed",
            Self::SecretQuestionSet => "account_secret_question_changed",
            Self::ApplicationRevoked => "account_application_revoked",
        }
    }
}

/// /account showing `notice`, in `lang`.
pub(super) fn account_url(notice: Notice, lang: Lang) -> String {
    format!("/account?notice={}&lang={}", notice.as_str(), lang.code())
}

/// A signed-in visitor of the account space.
pub(super) struct Signed {
    pub(super) acct: AccountSession,
    pub(super) user: User,
    /// The user's live browser sessions; this browser's (`acct.sid`) is one of them.
    pub(super) sessions: Vec<BrowserSession>,
    /// Digest of the account session's cookie: what the space's forms are bound to.
    pub(super) cookie_digest: String,
}

impl Signed {
    /// The CSRF context of every form of the account space.
    pub(super) fn csrf_context(&self) -> Context<'_> {
        Context::AccountSpace { session_digest: &self.cookie_digest }
    }
}

/// The visitor of the account space, if signed in (`account_space::visitor`).
pub(super) async fn signed_in(state: &AppState, browser: &Browser) -> Result<Option<Signed>, AppError> {
    let Some(cookie) = browser.cookie(state.cookies.account) else {
        return Ok(None);
    };
    let Some(Visitor { session: acct, user, sessions }) =
        account_space::visitor(&state.services, &ACCOUNT, cookie).await?
    else {
        return Ok(None);
    };
    Ok(Some(Signed { acct, user, sessions, cookie_digest: crate::crypto::digest(cookie) }))
}

/// `18/11/2026 12:06 CET`: local time of the portal's zone, with the zone's abbreviation.
fn format_time(state: &AppState, unix: i64) -> String {
    state.services.time_zone.date_time_abbreviated(unix)
}

/// "Firefox sur Linux", "Firefox", or "Navigateur inconnu", from the catalogs.
fn browser_text(state: &AppState, view: &View, user_agent: &str) -> String {
    let name = crate::web::user_agent::browser_name(user_agent);
    match (name.browser, name.os) {
        (Some(browser), Some(os)) => {
            state.text(view, "account_browser_on_os").replace("{browser}", browser).replace("{os}", os)
        }
        (Some(browser), None) => browser.to_owned(),
        (None, _) => state.text(view, "account_browser_unknown"),
    }
}

/// To the sign-in of the account space, or the "too many requests" page (decision 0013).
pub async fn sign_in(state: &AppState, browser: &Browser) -> Result<Response, AppError> {
    match account_space::begin_login(&state.services, &ACCOUNT, &browser.ip).await? {
        Some(url) => Ok(see_other(&url)),
        None => Err(AppError::from_page_error(crate::oidc::authorize::PageError::TooManyRequests, None)),
    }
}

pub async fn account_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let params = parse_params(query.as_deref().unwrap_or_default())?;
    let notice = params.get("notice").ok().flatten().and_then(Notice::parse);
    let Some(signed) = signed_in(&state, &browser).await? else {
        return sign_in(&state, &browser).await;
    };
    let (csrf, set) = state.form_token(&browser, &signed.csrf_context());
    let Signed { acct, user, sessions, .. } = signed;
    let Some(claims) = account_space::claims(&state.services, &acct).await? else {
        // The access token died (expired or signed out elsewhere): sign in again.
        return sign_in(&state, &browser).await;
    };
    let s = &state.services;
    let activity = self_service::recent_sign_ins(s, &user.id).await?;
    let applications = self_service::consented_applications(s, &user.id).await?;
    let has_secret_question = secret_question::question_of(s, &user.id).await?.is_some();
    let uses_secret_question = s.user_types.get(&user.user_type).is_some_and(|t| t.secret_question);
    let view = View::new(&state, &browser, None, None);
    let text = |k: &str| claims[k].as_str().unwrap_or_default().to_owned();
    let page = AccountPage {
        csrf,
        user: UserView {
            login: text("preferred_username"),
            name: text("name"),
            email: text("email"),
            sub: text("sub"),
        },
        sessions: sessions
            .iter()
            .map(|s| SessionView {
                id: s.sid.clone(),
                created: format_time(&state, s.created_at),
                last_seen: format_time(&state, s.auth_time),
                browser: browser_text(&state, &view, &s.user_agent),
                ip: s.ip.clone(),
                current: acct.sid.as_deref() == Some(s.sid.as_str()),
            })
            .collect(),
        applications: applications
            .into_iter()
            .map(|a| ApplicationView {
                granted: format_time(&state, a.granted_at),
                scopes: a.scopes.iter().map(|scope| scope_label(&state, &view, scope)).collect(),
                client_id: a.client_id,
                name: a.name,
            })
            .collect(),
        activity: activity
            .into_iter()
            .map(|e| ActivityView {
                when: format_time(&state, e.at),
                failed: e.kind == audit::SIGN_IN_FAILED,
                ip: e.ip,
                browser: browser_text(&state, &view, &e.user_agent),
            })
            .collect(),
        time_zone: s.time_zone.city(),
        show_secret_question: uses_secret_question || has_secret_question,
        has_secret_question,
        notice: notice.map(|n| state.text(&view, n.key())).unwrap_or_default(),
    };
    Ok(state.page(StatusCode::OK, &view, "account.html", &page, None, with_cookies(set)))
}

/// The consent page's words for `scope` (`scope_<name>`); its name when the catalogs have none.
fn scope_label(state: &AppState, view: &View, scope: &str) -> String {
    let key = format!("scope_{scope}");
    let text = state.text(view, &key);
    if text == key { scope.to_owned() } else { text }
}

pub async fn account_callback_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let params = parse_params(query.as_deref().unwrap_or_default())?;
    match account_space::finish_login(&state.services, &ACCOUNT, &params).await {
        Ok((cookie, _)) => {
            let mut response = see_other("/account");
            response.headers_mut().extend(with_cookies([set_cookie(
                state.cookies.account,
                &cookie,
                state.cookies.secure,
                None,
            )]));
            Ok(response)
        }
        Err(SpaceError::Infra(e)) => Err(e.into()),
        Err(SpaceError::UnknownState) => Err(AppError::expired()),
        Err(SpaceError::Refused(reason)) => {
            tracing::info!(%reason, "account sign-in refused");
            let view = View::new(&state, &browser, None, None);
            Err(AppError::Page {
                status: StatusCode::BAD_REQUEST,
                key: "error_invalid_request",
                code: String::new(),
                view: Some(view),
            })
        }
    }
}

pub async fn account_session_revoke_post(
    State(state): State<AppState>,
    browser: Browser,
    form: PostedForm,
) -> Result<Response, AppError> {
    let Some(signed) = signed_in(&state, &browser).await? else {
        return Ok(see_other("/account"));
    };
    let params = form.check(&state, signed.csrf_context())?;
    let sid = super::field(&params, "session_id")?.unwrap_or_default();
    // Only the user's own sessions can be closed.
    if self_service::close_session(&state.services, &signed.user.id, sid, &browser.client_info()).await? {
        let lang = View::new(&state, &browser, None, None).lang;
        return Ok(see_other(&account_url(Notice::SessionClosed, lang)));
    }
    Ok(see_other("/account"))
}

/// "Retirer l'accès": withdraws the consent to one application and its refresh tokens, for
/// this user only (issue #13).
pub async fn account_application_revoke_post(
    State(state): State<AppState>,
    browser: Browser,
    form: PostedForm,
) -> Result<Response, AppError> {
    let Some(signed) = signed_in(&state, &browser).await? else {
        return Ok(see_other("/account"));
    };
    let params = form.check(&state, signed.csrf_context())?;
    let client_id = super::field(&params, "client_id")?.unwrap_or_default();
    if self_service::withdraw_consent(&state.services, &signed.user.id, client_id, &browser.client_info()).await? {
        let lang = View::new(&state, &browser, None, None).lang;
        return Ok(see_other(&account_url(Notice::ApplicationRevoked, lang)));
    }
    Ok(see_other("/account"))
}

pub async fn account_logout_post(
    State(state): State<AppState>,
    browser: Browser,
    form: PostedForm,
) -> Result<Response, AppError> {
    let Some(cookie) = browser.cookie(state.cookies.account) else {
        return Ok(see_other("/account"));
    };
    let Some(acct) = account_space::session(&state.services, &ACCOUNT, cookie).await? else {
        return Ok(see_other("/account"));
    };
    let digest = crate::crypto::digest(cookie);
    form.check(&state, Context::AccountSpace { session_digest: &digest })?;
    account_space::end(&state.services, &ACCOUNT, cookie).await?;
    // RP-initiated logout, exactly as an external client does it.
    let location = redirect_with(
        &state.services.endpoint("/logout"),
        &[("id_token_hint", Some(&acct.id_token)), ("client_id", Some(account_space::CLIENT_ID))],
    );
    let mut response = see_other(&location);
    response.headers_mut().extend(with_cookies([clear_cookie(state.cookies.account, state.cookies.secure)]));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::Notice;

    #[test]
    fn only_known_notices_are_shown() {
        for notice in Notice::ALL {
            assert_eq!(Notice::parse(notice.as_str()), Some(notice));
        }
        assert_eq!(Notice::parse("error_internal"), None);
        assert_eq!(Notice::parse(""), None);
    }
}
