//! CAS single logout (§2.3, Appendix C) and /cas/logout.
//!
//! When a browser session ends, however it ends (`session::end`), `CasLogout` ends the
//! session's proxy granting tickets (§3.3) and queues, for each service that got a ticket in it
//! and whose client keeps `cas_single_logout` on, a `logoutRequest`: a SAML 2.0 `LogoutRequest`
//! naming the service ticket as `SessionIndex`, POSTed form-encoded to the service URL.
//! Delivery goes through the durable queue OpenID Connect back-channel logout uses
//! (`session::delivery`, the rows marked `PROTOCOL_CAS`), so it is retried the same way and
//! sent by one node only.

use std::sync::Arc;

use serde_json::json;

use super::params_service;
use super::ticket;
use crate::account::audit;
use crate::crypto;
use crate::services::{InfraError, Services};
use crate::session::delivery::{self, Outgoing};
use crate::session::{BrowserSession, ClientInfo, LogoutFrame, SessionEndListener};
use crate::store::{LogoutDelivery, PROTOCOL_CAS};

/// The CAS listener of ended sessions, registered in `app.rs`.
pub struct CasLogout;

#[async_trait::async_trait]
impl SessionEndListener for CasLogout {
    async fn session_ended(&self, s: &Services, ended: &BrowserSession) -> Result<Vec<LogoutFrame>, InfraError> {
        ticket::end_pgts(s, &ended.sid).await?;
        let now = s.now();
        let mut deliveries = Vec::new();
        for issued in ticket::take_services(s, &ended.sid).await? {
            let Some(client) = s.store.client(&issued.client_id).await? else { continue };
            if !client.settings.cas_single_logout {
                continue;
            }
            deliveries.push(LogoutDelivery {
                id: crypto::random_token(24),
                client_id: client.id.clone(),
                user_id: ended.user_id.clone(),
                sid: ended.sid.clone(),
                created_at: now,
                attempts: 0,
                next_attempt_at: now,
                protocol: PROTOCOL_CAS.to_owned(),
                target: Some(issued.service.clone()),
                session_index: Some(issued.ticket.clone()),
            });
        }
        s.store.enqueue_logouts(&deliveries).await?;
        for d in &deliveries {
            let detail = json!({ "client_id": d.client_id, "service": d.target });
            audit::record(s, Some(&d.user_id), audit::CAS_SINGLE_LOGOUT_QUEUED, &ClientInfo::default(), detail).await?;
        }
        Ok(Vec::new())
    }
}

/// Appendix C: the `logoutRequest` of one delivery. `ID` is an `xs:ID` (it cannot start with a
/// digit), `IssueInstant` the time of this attempt.
pub fn logout_request(id: &str, issued_at: i64, session_index: &str) -> String {
    let esc = super::response::escape;
    format!(
        "<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
         xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_{}\" Version=\"2.0\" IssueInstant=\"{}\">\
         <saml:NameID>@NOT_USED@</saml:NameID><samlp:SessionIndex>{}</samlp:SessionIndex></samlp:LogoutRequest>",
        esc(id),
        crate::clock::rfc3339(issued_at),
        esc(session_index)
    )
}

/// One pass of the CAS worker over the shared queue.
pub async fn deliver_due(s: &Services, http: &reqwest::Client) -> Result<usize, InfraError> {
    delivery::deliver_due(s, http, PROTOCOL_CAS, |d| prepare(s, d)).await
}

async fn prepare(s: &Services, d: LogoutDelivery) -> Result<(LogoutDelivery, Option<Outgoing>), InfraError> {
    let client = s.store.client(&d.client_id).await?;
    // The client was removed or switched single logout off since: nothing to send.
    let (Some(_), Some(target), Some(index)) =
        (client.filter(|c| c.settings.cas_single_logout), d.target.clone(), d.session_index.clone())
    else {
        return Ok((d, None));
    };
    let body = logout_request(&d.id, s.now(), &index);
    Ok((d, Some(Outgoing { url: target, form: vec![("logoutRequest", body)] })))
}

/// The worker, spawned by `App::serve` next to the OpenID Connect one; stops with it.
pub async fn run(s: Arc<Services>, http: reqwest::Client, stop: tokio::sync::watch::Receiver<bool>) {
    crate::worker::poll("CAS single logout worker", delivery::POLL, stop, || deliver_due(&s, &http)).await;
}

/// /cas/logout (§2.3): where to send the browser once its session has ended: `service` when a
/// client registered it (§2.3.1: only then), else nowhere (the logged-out page). The session
/// itself is ended by the caller through `session::end`, which tells every protocol.
pub async fn redirect_after(s: &Services, query: &str) -> Result<Option<String>, InfraError> {
    let Some(service) = params_service(query) else { return Ok(None) };
    Ok(super::client_of(s, &service).await?.map(|_| service.as_str().to_owned()))
}

/// Audits a sign-out through /cas/logout.
pub async fn record_logout(
    s: &Services,
    session: &BrowserSession,
    query: &str,
    info: &ClientInfo,
) -> Result<(), InfraError> {
    let service = params_service(query).map(|s| s.as_str().to_owned());
    audit::record(s, Some(&session.user_id), audit::CAS_LOGOUT, info, json!({ "service": service })).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logout_request_names_the_ticket_as_session_index() {
        let xml = logout_request("abc", 0, "ST-1<");
        assert!(xml.starts_with("<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\""));
        assert!(xml.contains("ID=\"_abc\""));
        assert!(xml.contains("IssueInstant=\"1970-01-01T00:00:00Z\""));
        assert!(xml.contains("<saml:NameID>@NOT_USED@</saml:NameID><samlp:SessionIndex>ST-1&lt;</samlp:SessionIndex>"));
    }
}
