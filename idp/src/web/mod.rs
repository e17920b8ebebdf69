//! The only module that imports axum: the router (every route in one list), the browser
//! extractor, security headers, and the mapping of flow results to HTTP. Handlers are thin:
//! extract, call one flow, map the result (`<resource>_<method>`).

pub mod browser;
pub mod error;
pub mod handlers;
pub mod middleware;
pub mod pages;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::services::Services;
use crate::theme::Themes;
use handlers::{
    account, authorize, consent, discovery, introspect, login, logout, revoke, select_account, static_files, token,
    userinfo,
};

#[derive(Clone)]
pub struct AppState {
    pub services: Arc<Services>,
    pub themes: Arc<Themes>,
    pub cookies: CookieNames,
    pub default_theme: String,
    /// Which peers' forwarding header names the client (`domain::client_address`, issue #10).
    pub proxies: Arc<crate::domain::client_address::ProxySettings>,
}

/// `__Host-` names (and `Secure`) when the issuer is https (RFC 6265bis §4.1.3.2).
#[derive(Clone, Debug)]
pub struct CookieNames {
    pub secure: bool,
    pub session: &'static str,
    pub csrf: &'static str,
    pub account: &'static str,
    pub first_login: &'static str,
    /// The recovery flow in progress (issue #5, `account::recovery`).
    pub recovery: &'static str,
}

impl CookieNames {
    pub fn new(secure: bool) -> Self {
        if secure {
            Self {
                secure,
                session: "__Host-idp_session",
                csrf: "__Host-idp_csrf",
                account: "__Host-idp_account",
                first_login: "__Host-idp_first_login",
                recovery: "__Host-idp_recovery",
            }
        } else {
            Self {
                secure,
                session: "idp_session",
                csrf: "idp_csrf",
                account: "idp_account",
                first_login: "idp_first_login",
                recovery: "idp_recovery",
            }
        }
    }
}

pub fn router(state: AppState, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery::discovery_get))
        .route("/jwks", get(discovery::jwks_get))
        .route("/authorize", get(authorize::authorize_get).post(authorize::authorize_post))
        .route("/login", get(login::login_get).post(login::login_post))
        .route(
            "/first-login",
            get(handlers::first_login::first_login_get).post(handlers::first_login::first_login_post),
        )
        .route("/consent", get(consent::consent_get).post(consent::consent_post))
        .route("/select_account", get(select_account::select_account_get).post(select_account::select_account_post))
        .route("/token", post(token::token_post))
        .route("/introspect", post(introspect::introspect_post))
        .route("/revoke", post(revoke::revoke_post))
        .route("/userinfo", get(userinfo::userinfo_get).post(userinfo::userinfo_post))
        .route("/logout", get(logout::logout_get).post(logout::logout_post))
        .route("/logout/confirm", post(logout::logout_confirm_post))
        .route("/account", get(account::account_get))
        .route("/account/callback", get(account::account_callback_get))
        .route("/account/sessions/revoke", post(account::account_session_revoke_post))
        .route("/account/logout", post(account::account_logout_post))
        .route(
            "/account/password",
            get(handlers::account_security::account_password_get)
                .post(handlers::account_security::account_password_post),
        )
        .route(
            "/account/secret-question",
            get(handlers::account_security::account_secret_question_get)
                .post(handlers::account_security::account_secret_question_post),
        )
        .route("/activate", get(handlers::activate::activate_get).post(handlers::activate::activate_post))
        .route("/password-policy", get(handlers::password_policy::password_policy_get))
        .route("/recovery/support", get(handlers::recovery::recovery_support_get))
        .route(
            "/recovery/password",
            get(handlers::recovery_password::recovery_password_get)
                .post(handlers::recovery_password::recovery_password_post),
        )
        .route(
            "/recovery/password/link",
            get(handlers::recovery_password::recovery_password_link_get)
                .post(handlers::recovery_password::recovery_password_link_post),
        )
        .route(
            "/recovery/identifier",
            get(handlers::recovery_identifier::recovery_identifier_get)
                .post(handlers::recovery_identifier::recovery_identifier_post),
        )
        .route("/recovery/identifier/renew", get(handlers::recovery_identifier::recovery_identifier_renew_get))
        .route("/captcha/{file}", get(handlers::captcha::captcha_image_get))
        .route("/static/{theme}/{file}", get(static_files::static_get))
        .route("/health", get(|| async { "ok" }))
        .fallback(handlers::not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::error_pages))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::security_headers))
        .layer(axum::middleware::from_fn(middleware::request_log))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(state)
}
