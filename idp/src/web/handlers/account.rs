//! /account: who am I, my sessions (close the others), sign out. See `account::space` for how
//! it signs in through the provider's own OpenID Connect endpoints.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::{CheckedForm, field, parse_params, see_other};
use crate::account::session;
use crate::account::space::{self, AccountSession, SpaceError};
use crate::oidc::authorize::redirect_with;
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
    user_agent: String,
    ip: String,
    current: bool,
}

#[derive(Serialize)]
struct AccountPage {
    csrf: String,
    user: UserView,
    sessions: Vec<SessionView>,
    notice: String,
}

async fn account_session(state: &AppState, browser: &Browser) -> Result<Option<(String, AccountSession)>, AppError> {
    let Some(cookie) = browser.cookie(state.cookies.account) else {
        return Ok(None);
    };
    Ok(space::session(&state.services, cookie).await?.map(|s| (cookie.to_owned(), s)))
}

/// UTC to the minute, readable in both languages: `2026-11-18 11:06 UTC`.
fn format_time(unix: i64) -> String {
    let iso = crate::clock::rfc3339(unix);
    format!("{} {} UTC", &iso[..10], &iso[11..16])
}

pub async fn account_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let closed = parse_params(query.as_deref().unwrap_or_default())?.get("closed").ok().flatten() == Some("1");
    let Some((_, acct)) = account_session(&state, &browser).await? else {
        return Ok(see_other(&space::begin_login(&state.services).await?));
    };
    let Some(claims) = space::claims(&state.services, &acct).await? else {
        // The access token died (expired or signed out elsewhere): sign in again.
        return Ok(see_other(&space::begin_login(&state.services).await?));
    };
    let sessions = session::list_for_user(&state.services, &acct.sub).await?;
    let view = View::new(&state, &browser, None, None);
    let (cookie, set) = state.csrf_cookie(&browser);
    let text = |k: &str| claims[k].as_str().unwrap_or_default().to_owned();
    let page = AccountPage {
        csrf: state.csrf_token(&cookie),
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
                created: format_time(s.created_at),
                last_seen: format_time(s.auth_time),
                user_agent: s.user_agent.clone(),
                ip: s.ip.clone(),
                current: acct.sid.as_deref() == Some(s.sid.as_str()),
            })
            .collect(),
        notice: if closed { state.text(&view, "account_session_closed") } else { String::new() },
    };
    Ok(state.page(StatusCode::OK, &view, "account.html", &page, None, with_cookies(set)))
}

pub async fn account_callback_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let params = parse_params(query.as_deref().unwrap_or_default())?;
    match space::finish_login(&state.services, &params).await {
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
    CheckedForm(params): CheckedForm,
) -> Result<Response, AppError> {
    let Some((_, acct)) = account_session(&state, &browser).await? else {
        return Ok(see_other("/account"));
    };
    let sid = field(&params, "session_id")?.unwrap_or_default();
    // Only the user's own sessions can be closed.
    if let Some(target) = session::by_sid(&state.services, sid).await?
        && target.user_id == acct.sub
    {
        session::end(&state.services, &target).await?;
        return Ok(see_other("/account?closed=1"));
    }
    Ok(see_other("/account"))
}

pub async fn account_logout_post(
    State(state): State<AppState>,
    browser: Browser,
    CheckedForm(_): CheckedForm,
) -> Result<Response, AppError> {
    let Some((cookie, acct)) = account_session(&state, &browser).await? else {
        return Ok(see_other("/account"));
    };
    space::end(&state.services, &cookie).await?;
    // RP-initiated logout, exactly as an external client does it.
    let location = redirect_with(
        &state.services.endpoint("/logout"),
        &[("id_token_hint", Some(&acct.id_token)), ("client_id", Some(space::CLIENT_ID))],
    );
    let mut response = see_other(&location);
    response.headers_mut().extend(with_cookies([clear_cookie(state.cookies.account, state.cookies.secure)]));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::format_time;

    #[test]
    fn times_are_formatted_in_utc() {
        assert_eq!(format_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_time(1_795_000_000), "2026-11-18 11:06 UTC");
    }
}
