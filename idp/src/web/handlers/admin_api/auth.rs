//! `Authorization: Bearer <access token>` on every admin API call (RFC 6750 §2.1; the header
//! only: no form or query token, and no cookie, so a browser never sends one on its own and
//! the API needs no CSRF token nor the same-origin rule, `web::CROSS_SITE_PREFIXES`).
//! `admin::api_token` says whom the token speaks for; this extractor maps its refusals to
//! RFC 6750 §3 challenges inside RFC 9457 problems, and refuses an operation the token's roles
//! do not permit (`Caller<N: Needs>`) with `insufficient_scope` and the scopes that would.

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};

use super::problem::Problem;
use crate::admin::actor::{Actor, Permission, Role};
use crate::admin::api_token::{self, ApiTokenError};
use crate::web::AppState;
use crate::web::browser::Browser;

/// The realm of the challenges (RFC 6750 §3).
const REALM: &str = "idp-admin";

/// The actor of an authenticated call whose roles permit `N::PERMISSION`, checked before any
/// other part of the request is read: a caller without the scope learns nothing from the
/// validation of a body it may not send.
pub struct Caller<N> {
    pub actor: Actor,
    needs: PhantomData<N>,
}

/// What an operation needs (`Caller<needs::ManageClients>`).
pub trait Needs {
    const PERMISSION: Permission;
}

/// One marker per `Permission`.
pub mod needs {
    use super::{Needs, Permission};

    pub struct ViewUsers;
    pub struct SupportUsers;
    pub struct ManageUsers;
    pub struct ManageClients;
    pub struct ManageGroups;
    pub struct ManageKeys;
    pub struct ReadAudit;

    impl Needs for ViewUsers {
        const PERMISSION: Permission = Permission::ViewUsers;
    }
    impl Needs for SupportUsers {
        const PERMISSION: Permission = Permission::SupportUsers;
    }
    impl Needs for ManageUsers {
        const PERMISSION: Permission = Permission::ManageUsers;
    }
    impl Needs for ManageClients {
        const PERMISSION: Permission = Permission::ManageClients;
    }
    impl Needs for ManageGroups {
        const PERMISSION: Permission = Permission::ManageGroups;
    }
    impl Needs for ManageKeys {
        const PERMISSION: Permission = Permission::ManageKeys;
    }
    impl Needs for ReadAudit {
        const PERMISSION: Permission = Permission::ReadAudit;
    }
}

/// 403 `insufficient_scope` naming the scopes any one of which would permit `p` (RFC 6750
/// §3.1).
fn insufficient_scope(p: Permission) -> Problem {
    let scopes: Vec<&str> = Role::ALL.into_iter().filter(|r| r.permits(p)).map(Role::scope).collect();
    let problem = Problem::new(
        StatusCode::FORBIDDEN,
        "insufficient-scope",
        "Insufficient scope",
        format!("this operation needs a token with one of the scopes: {}", scopes.join(", ")),
    );
    with_challenge(problem, &format!("error=\"insufficient_scope\", scope=\"{}\"", scopes.join(" ")))
}

/// `problem` with a `WWW-Authenticate: Bearer` challenge carrying `params`.
fn with_challenge(problem: Problem, params: &str) -> Problem {
    let value = if params.is_empty() {
        format!("Bearer realm=\"{REALM}\"")
    } else {
        format!("Bearer realm=\"{REALM}\", {params}")
    };
    match HeaderValue::from_str(&value) {
        Ok(value) => problem.with_header(header::WWW_AUTHENTICATE, value),
        Err(_) => problem,
    }
}

fn unauthorized(detail: &str, params: &str) -> Problem {
    with_challenge(Problem::new(StatusCode::UNAUTHORIZED, "invalid-token", "Unauthorized", detail), params)
}

/// The token of the `Authorization` header: `None` when there is no bearer credential at all
/// (RFC 6750 §3.1: then the challenge carries no error code).
fn bearer_token(parts: &Parts) -> Result<Option<String>, Problem> {
    let mut values = parts.headers.get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Ok(None);
    };
    let invalid = || unauthorized("the Authorization header is not a bearer token", "error=\"invalid_token\"");
    let value = value.to_str().map_err(|_| invalid())?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
            let token = token.trim();
            // RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
            let well_formed = !token.is_empty()
                && token.trim_end_matches('=').bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b));
            if well_formed { Ok(Some(token.to_owned())) } else { Err(invalid()) }
        }
        _ => Ok(None),
    }
}

impl<N: Needs + Send + Sync> FromRequestParts<AppState> for Caller<N> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let Some(token) = bearer_token(parts)? else {
            return Err(unauthorized("send an access token: Authorization: Bearer <token>", ""));
        };
        let browser = match Browser::from_request_parts(parts, state).await {
            Ok(browser) => browser,
            Err(never) => match never {},
        };
        match api_token::actor_for_token(&state.services, &token, browser.client_info()).await {
            Ok(actor) if actor.may(N::PERMISSION) => Ok(Caller { actor, needs: PhantomData }),
            Ok(_) => Err(insufficient_scope(N::PERMISSION)),
            Err(ApiTokenError::Invalid) => {
                Err(unauthorized(&ApiTokenError::Invalid.to_string(), "error=\"invalid_token\""))
            }
            Err(ApiTokenError::PersonToken) => Err(Problem::new(
                StatusCode::FORBIDDEN,
                "person-token",
                "Token of a person",
                ApiTokenError::PersonToken.to_string(),
            )),
            Err(ApiTokenError::Unavailable) => Err(Problem::unavailable()),
            Err(ApiTokenError::Internal) => Err(Problem::internal()),
        }
    }
}
