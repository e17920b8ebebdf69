//! The only module that imports axum: the router (every route in one list, and the routes open
//! to cross-site POSTs next to it), the browser extractor, security headers, the same-origin
//! rule for forms, and the mapping of flow results to HTTP. Handlers are thin:
//! extract, call one flow, map the result (`<resource>_<method>`).

pub mod browser;
pub mod error;
pub mod handlers;
pub mod middleware;
pub mod pages;
pub mod same_origin;
pub mod server;
pub mod user_agent;

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
    /// The administration console's session (issue #12), sent to `/admin` only
    /// (`ADMIN_COOKIE_PATH`), hence `__Secure-` rather than `__Host-` (which requires `Path=/`).
    pub admin: &'static str,
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
                admin: "__Secure-idp_admin",
                first_login: "__Host-idp_first_login",
                recovery: "__Host-idp_recovery",
            }
        } else {
            Self {
                secure,
                session: "idp_session",
                csrf: "idp_csrf",
                account: "idp_account",
                admin: "idp_admin",
                first_login: "idp_first_login",
                recovery: "idp_recovery",
            }
        }
    }
}

/// The routes that take POSTs from other sites' pages, exempt from the same-origin rule
/// (`same_origin`); every other POST must come from the provider's own pages. The machine
/// endpoints are protected by client authentication or a bearer token, never by a browser's
/// cookies (RFC 6749 §3.2, RFC 7662 §2.1, RFC 7009 §2.1, OpenID Connect Core §5.3.1); a relying
/// party's page may post to the authorization endpoint (OpenID Connect Core §3.1.2.1) and to the
/// end-session endpoint (RP-Initiated Logout 1.0 §2), whose confirmation form is ours. There
/// is no back-channel endpoint that receives POSTs. CAS adds none: its validation and proxy
/// endpoints are server-to-server GETs, and POST /cas/login is the provider's own form.
pub const CROSS_SITE_POSTS: &[&str] =
    &["/token", "/introspect", "/revoke", "/userinfo", "/authorize", "/logout", "/register"];

/// The administration console (issue #12; `handlers::admin_console`).
fn admin_console_routes() -> Router<AppState> {
    use handlers::admin_console::{self as console, audit, clients, dashboard, groups, users};
    Router::new()
        .route("/admin", get(console::admin_get))
        .route("/admin/callback", get(console::admin_callback_get))
        .route("/admin/logout", post(console::admin_logout_post))
        .route("/admin/dashboard", get(dashboard::admin_dashboard_get))
        .route("/admin/users", get(users::admin_users_get))
        .route("/admin/users/{id}", get(users::admin_user_get))
        .route("/admin/users/{id}/{action}", get(users::admin_user_confirm_get).post(users::admin_user_action_post))
        .route("/admin/clients", get(clients::admin_clients_get).post(clients::admin_clients_post))
        .route("/admin/clients/new", get(clients::admin_client_new_get))
        .route("/admin/clients/{id}", get(clients::admin_client_get).post(clients::admin_client_post))
        .route(
            "/admin/clients/{id}/rotate",
            get(clients::admin_client_rotate_get).post(clients::admin_client_rotate_post),
        )
        .route(
            "/admin/clients/{id}/delete",
            get(clients::admin_client_delete_get).post(clients::admin_client_delete_post),
        )
        .route("/admin/audit", get(audit::admin_audit_get))
        .route("/admin/audit/export", get(audit::admin_audit_export_get))
        .route("/admin/groups", get(groups::admin_groups_get).post(groups::admin_groups_post))
        .route("/admin/groups/{id}", get(groups::admin_group_get))
        .route("/admin/groups/{id}/members", post(groups::admin_group_members_post))
        .route("/admin/groups/{id}/members/remove", post(groups::admin_group_members_remove_post))
}
/// Path prefixes exempt from the same-origin rule for every unsafe method: the admin REST API
/// (issue #12) authenticates each call with a bearer token in `Authorization`, reads no
/// cookie, and so has no cross-site request forgery to fear (a page elsewhere can make a
/// browser send cookies, never a bearer token it does not have).
pub const CROSS_SITE_PREFIXES: &[&str] = &["/admin/api/"];

/// Every route; `body_timeout` bounds the time a client takes to send a body (issue #10).
pub fn router(state: AppState, max_body_bytes: usize, body_timeout: std::time::Duration) -> Router {
    let same_origin = same_origin::SameOrigin::new(&state.services.issuer, CROSS_SITE_POSTS, CROSS_SITE_PREFIXES);
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
        // RFC 7591 / RFC 7592, 404 unless `dynamic_registration` (issue #12).
        .route("/register", post(handlers::registration::register_post))
        .route(
            "/register/{client_id}",
            get(handlers::registration::register_client_get)
                .put(handlers::registration::register_client_put)
                .delete(handlers::registration::register_client_delete),
        )
        .route("/logout", get(logout::logout_get).post(logout::logout_post))
        .route("/logout/confirm", post(logout::logout_confirm_post))
        .route("/cas/login", get(handlers::cas::cas_login_get).post(handlers::cas::cas_login_post))
        .route("/cas/logout", get(handlers::cas::cas_logout_get))
        .route("/cas/validate", get(handlers::cas::cas_validate_get))
        .route("/cas/serviceValidate", get(handlers::cas::cas_service_validate_get))
        .route("/cas/proxyValidate", get(handlers::cas::cas_proxy_validate_get))
        .route("/cas/proxy", get(handlers::cas::cas_proxy_get))
        .route("/cas/p3/serviceValidate", get(handlers::cas::cas_p3_service_validate_get))
        .route("/cas/p3/proxyValidate", get(handlers::cas::cas_p3_proxy_validate_get))
        .route("/account", get(account::account_get))
        .route("/account/callback", get(account::account_callback_get))
        .route("/account/sessions/revoke", post(account::account_session_revoke_post))
        .route("/account/applications/revoke", post(account::account_application_revoke_post))
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
        .merge(admin_console_routes())
        .route("/activate", get(handlers::activate::activate_get).post(handlers::activate::activate_post))
        .route("/password-policy", get(handlers::password_policy::password_policy_get))
        // The live verdict for the password forms (issue #13, item 3): same origin, CSRF token.
        .route("/password/check", post(handlers::password_check::password_check_post))
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
        .route("/healthz", get(handlers::health::healthz_get))
        .route("/health", get(handlers::health::healthz_get))
        .route("/readyz", get(handlers::health::readyz_get))
        // The admin REST API (issue #12): its routes are listed in `admin_api::router`.
        .merge(handlers::admin_api::router())
        .fallback(handlers::not_found)
        .layer(axum::middleware::from_fn_with_state((body_timeout, max_body_bytes), middleware::body_deadline))
        .layer(axum::middleware::from_fn_with_state(same_origin, same_origin::same_origin_only))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::error_pages))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::security_headers))
        .layer(axum::middleware::from_fn(middleware::request_log))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(state)
}
