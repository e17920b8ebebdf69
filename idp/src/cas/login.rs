//! /cas/login as credential requestor (§2.1): decides, for a `service`, between a service
//! ticket now (single sign-on), a sign-in first (no session, or `renew`), or straight back
//! without a ticket (`gateway` and nobody signed in). An unknown service gets a page, never a
//! redirect. The sign-in itself is `account`'s: this module hands it a
//! `Continuation::Cas` and `resume` picks up from there with the new session.
//!
//! A ticket is issued only after the authorisation gate (`account::authorization`), is bound to its service,
//! recorded for single logout, and the client joins the session's list (/account).

use serde_json::json;

use super::ticket::{self, IssuedService, TicketKind, TicketRecord};
use super::{CasError, ErrorCode, Params, client_of, with_param};
use crate::account::audit;
use crate::account::authorization::{self, Access};
use crate::account::signin::Continuation;
use crate::domain::Client;
use crate::domain::cas_service::ServiceUrl;
use crate::services::{InfraError, Services};
use crate::session::{self, BrowserSession, ClientInfo};

/// Why no ticket and no redirect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A malformed request (a repeated parameter, a service that is not a URL).
    InvalidRequest,
    /// No client registered the service: an error page, no redirect (§2.1.1 leaves it to the
    /// server; redirecting to an unknown URL would make the provider an open redirector).
    UnknownService,
    /// The authorisation gate (`account::authorization`) refused the user this application;
    /// `session` is theirs, for the access-denied page (sign out from it).
    Denied { client: Box<Client>, session: Box<BrowserSession> },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoginOutcome {
    Refused(Refusal),
    /// Back to the service: with `ticket`, or without one (`gateway`).
    Redirect(String),
    /// `method=POST`: a page whose form the browser posts to the service.
    FormPost {
        action: String,
        fields: Vec<(String, String)>,
        /// The service's client, for the page's theme (issue #13).
        client_id: String,
    },
    /// Sign in first, then `resume` with this continuation; the client is for the page.
    SignIn {
        continuation: Continuation,
        client: Box<Client>,
    },
    /// No service: the account space, which says who is signed in (§2.1.1) or signs in first.
    AccountSpace,
}

/// The parameters of §2.1.1.
struct LoginRequest {
    service: Option<ServiceUrl>,
    renew: bool,
    gateway: bool,
    post: bool,
}

fn read(params: &Params) -> Result<LoginRequest, CasError> {
    let service = match params.get("service")?.filter(|v| !v.is_empty()) {
        None => None,
        Some(raw) => Some(
            ServiceUrl::parse(raw).ok_or_else(|| CasError::new(ErrorCode::InvalidRequest, "service is not a URL"))?,
        ),
    };
    let post = match params.get("method")? {
        None => false,
        Some(m) if m.eq_ignore_ascii_case("POST") => true,
        Some(m) if m.eq_ignore_ascii_case("GET") => false,
        Some(_) => return Err(CasError::new(ErrorCode::InvalidRequest, "method must be GET or POST")),
    };
    // §2.1.1: with both set, `renew` wins (gateway is ignored).
    let renew = params.flag("renew")?;
    Ok(LoginRequest { service, renew, gateway: params.flag("gateway")? && !renew, post })
}

/// GET /cas/login: `session` is the browser's live session, if any.
pub async fn start(
    s: &Services,
    query: &str,
    session: Option<&BrowserSession>,
    info: &ClientInfo,
) -> Result<LoginOutcome, InfraError> {
    let Ok(request) = read(&Params::parse(query)) else {
        return Ok(LoginOutcome::Refused(Refusal::InvalidRequest));
    };
    let Some(service) = request.service else { return Ok(LoginOutcome::AccountSpace) };
    let Some(client) = client_of(s, &service).await? else {
        let detail = json!({ "reason": "unknown_service", "service": service.as_str() });
        audit::record(s, None, audit::CAS_LOGIN_REFUSED, info, detail).await?;
        return Ok(LoginOutcome::Refused(Refusal::UnknownService));
    };
    let continuation = Continuation::Cas {
        client_id: client.id.clone(),
        service: service.as_str().to_owned(),
        renew: request.renew,
        post: request.post,
    };
    match session {
        Some(session) if !request.renew => issue(s, &client, &service, session, false, request.post, info).await,
        // §2.1.1: `gateway` without a session goes back to the service without a ticket.
        None if request.gateway => Ok(LoginOutcome::Redirect(service.as_str().to_owned())),
        _ => Ok(LoginOutcome::SignIn { continuation, client: Box::new(client) }),
    }
}

/// The sign-in a posted login form is for: its `service`, `renew` and `method` fields (the
/// page's locator, `sign_in_fields`) read back as at GET; `None` when the service is not (or no
/// longer) registered.
pub async fn sign_in_for(s: &Services, fields: &str) -> Result<Option<(Continuation, Client)>, InfraError> {
    let Ok(LoginRequest { service: Some(service), renew, post, .. }) = read(&Params::parse(fields)) else {
        return Ok(None);
    };
    let Some(client) = client_of(s, &service).await? else { return Ok(None) };
    let continuation =
        Continuation::Cas { client_id: client.id.clone(), service: service.as_str().to_owned(), renew, post };
    Ok(Some((continuation, client)))
}

/// The fields of the login form that name a CAS sign-in (read back by `sign_in_for`).
pub fn sign_in_fields(continuation: &Continuation) -> Vec<(&'static str, String)> {
    let Continuation::Cas { service, renew, post, .. } = continuation else { return Vec::new() };
    let mut fields = vec![("service", service.clone())];
    if *renew {
        fields.push(("renew", "true".to_owned()));
    }
    if *post {
        fields.push(("method", "POST".to_owned()));
    }
    fields
}

/// Resumes a `Continuation::Cas` once the user has signed in (`session` is the new one): the
/// ticket says it came from a fresh sign-in, as `renew` requires.
pub async fn resume(
    s: &Services,
    client_id: &str,
    service: &str,
    post: bool,
    session: &BrowserSession,
    info: &ClientInfo,
) -> Result<LoginOutcome, InfraError> {
    let Some(service) = ServiceUrl::parse(service) else {
        return Ok(LoginOutcome::Refused(Refusal::UnknownService));
    };
    // The client may have been changed or removed while the user was signing in.
    let client = s.store.client(client_id).await?.filter(|c| c.has_cas_service(&service));
    let Some(client) = client else { return Ok(LoginOutcome::Refused(Refusal::UnknownService)) };
    issue(s, &client, &service, session, true, post, info).await
}

async fn issue(
    s: &Services,
    client: &Client,
    service: &ServiceUrl,
    session: &BrowserSession,
    fresh: bool,
    post: bool,
    info: &ClientInfo,
) -> Result<LoginOutcome, InfraError> {
    let Some(user) = s.store.user_by_id(&session.user_id).await? else { return Ok(LoginOutcome::AccountSpace) };
    // A refusal is audited by the gate (`access_denied`) and here with the service.
    if authorization::check(s, &user, client).await? == Access::Denied {
        let detail = json!({ "reason": "denied", "client_id": client.id, "service": service.as_str() });
        audit::record(s, Some(&user.id), audit::CAS_LOGIN_REFUSED, info, detail).await?;
        return Ok(LoginOutcome::Refused(Refusal::Denied {
            client: Box::new(client.clone()),
            session: Box::new(session.clone()),
        }));
    }
    let record = TicketRecord {
        kind: TicketKind::Service,
        user_id: user.id.clone(),
        sid: session.sid.clone(),
        client_id: client.id.clone(),
        service: service.as_str().to_owned(),
        fresh,
        auth_time: session.auth_time,
        expires_at: ticket::expires_at(s),
        proxies: Vec::new(),
    };
    let st = ticket::issue(s, ticket::SERVICE_PREFIX, &record).await?;
    let issued =
        IssuedService { client_id: client.id.clone(), service: service.as_str().to_owned(), ticket: st.clone() };
    ticket::remember_service(s, session, &issued).await?;
    session::remember_client(s, session, &client.id).await?;
    let detail = json!({ "client_id": client.id, "service": service.as_str(), "kind": "service", "renew": fresh });
    audit::record(s, Some(&user.id), audit::CAS_TICKET_ISSUED, info, detail).await?;
    if post {
        return Ok(LoginOutcome::FormPost {
            action: service.as_str().to_owned(),
            fields: vec![("ticket".to_owned(), st)],
            client_id: client.id.clone(),
        });
    }
    Ok(LoginOutcome::Redirect(with_param(service.as_str(), "ticket", &st)))
}
