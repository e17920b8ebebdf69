//! Proxy authentication (§2.5.4, §2.7): a service validating a ticket with `pgtUrl` is sent a
//! proxy granting ticket at that URL (`pgtId`, with the `pgtIou` the validation answer names),
//! and /cas/proxy turns that ticket into proxy tickets for other registered services.
//!
//! The `pgtUrl` must be a CAS service of the same client as the validated ticket: registration
//! already required https (http only for loopback or under `--allow-insecure-http`, the tests'
//! allowance), and matching keeps the scheme, so an http callback works only where one was
//! registered. The provider issues the PGT only when the callback answers 200 (§2.5.4); a
//! failed callback leaves the validation successful, without `cas:proxyGrantingTicket`.

use std::time::Duration;

use serde_json::json;

use super::response::{self, Format};
use super::ticket::{self, PgtRecord, TicketKind, TicketRecord};
use super::validate::Answer;
use super::{CasError, ErrorCode, Params, client_of};
use crate::account::audit;
use crate::account::authorization::{self, Access};
use crate::domain::Client;
use crate::domain::cas_service::ServiceUrl;
use crate::services::{InfraError, Services};
use crate::session::{self, ClientInfo};

/// Sends a proxy granting ticket for the validated `record` of `client` to `pgt_url`; returns
/// its IOU, `None` when the callback did not take it, or the refusal of the URL itself.
pub async fn grant(
    s: &Services,
    record: &TicketRecord,
    client: &Client,
    pgt_url: &str,
) -> Result<Result<Option<String>, CasError>, InfraError> {
    let Some(url) = ServiceUrl::parse(pgt_url) else {
        return Ok(Err(CasError::new(ErrorCode::InvalidProxyCallback, "the pgtUrl is not an acceptable URL")));
    };
    match client_of(s, &url).await? {
        None => {
            return Ok(Err(CasError::new(ErrorCode::InvalidProxyCallback, "the pgtUrl is not a registered service")));
        }
        Some(owner) if owner.id != client.id => {
            return Ok(Err(CasError::new(
                ErrorCode::UnauthorizedServiceProxy,
                "the pgtUrl belongs to another application",
            )));
        }
        Some(_) => {}
    }
    // §3.3: a proxy granting ticket lives as long as the sign-in it stands for.
    let Some(session) = session::by_sid(s, &record.sid).await? else { return Ok(Ok(None)) };
    let mut proxies = vec![url.as_str().to_owned()];
    proxies.extend(record.proxies.iter().cloned());
    let pgt_record = PgtRecord {
        user_id: record.user_id.clone(),
        sid: record.sid.clone(),
        client_id: client.id.clone(),
        auth_time: record.auth_time,
        proxies,
    };
    let pgt = ticket::issue_pgt(s, &session, &pgt_record).await?;
    let iou = ticket::new_ticket(ticket::PGT_IOU_PREFIX);
    if !callback(url.as_str(), &pgt, &iou).await {
        ticket::forget_pgt(s, &pgt).await?;
        tracing::info!(client_id = %client.id, "the CAS proxy callback did not answer 200; no proxy granting ticket");
        return Ok(Ok(None));
    }
    let detail = json!({ "client_id": client.id, "pgt_url": url.as_str() });
    audit::record(s, Some(&record.user_id), audit::CAS_PROXY_GRANTED, &ClientInfo::default(), detail).await?;
    Ok(Ok(Some(iou)))
}

/// §2.5.4: GET `pgtUrl?pgtId=…&pgtIou=…`, no redirect followed; only 200 counts.
async fn callback(url: &str, pgt: &str, iou: &str) -> bool {
    let Ok(http) = crate::http::client("CAS proxy callback", Duration::from_secs(10)) else { return false };
    let target = super::with_param(&super::with_param(url, "pgtId", pgt), "pgtIou", iou);
    matches!(http.get(target).send().await, Ok(r) if r.status().as_u16() == 200)
}

/// /cas/proxy (§2.7): a proxy ticket for `targetService`, from a proxy granting ticket.
pub async fn proxy(s: &Services, query: &str, info: &ClientInfo) -> Result<Answer, InfraError> {
    let params = Params::parse(query);
    let format = Format::of(&params);
    let result = issue(s, &params, info).await?;
    if let Err(err) = &result {
        let detail = json!({ "code": err.code.as_str(), "endpoint": "/cas/proxy" });
        audit::record(s, None, audit::CAS_TICKET_REFUSED, info, detail).await?;
    }
    Ok(Answer { content_type: format.content_type(), body: response::proxy(&result, format) })
}

async fn issue(s: &Services, params: &Params, info: &ClientInfo) -> Result<Result<String, CasError>, InfraError> {
    let (pgt, target) = match (params.get("pgt"), params.get("targetService")) {
        (Ok(Some(p)), Ok(Some(t))) if !p.is_empty() && !t.is_empty() => (p, t),
        _ => {
            return Ok(Err(CasError::new(
                ErrorCode::InvalidRequest,
                "'pgt' and 'targetService' parameters are both required",
            )));
        }
    };
    let unknown = || CasError::new(ErrorCode::InvalidTicket, format!("Ticket {pgt} not recognized"));
    let Some(record) = ticket::pgt(s, pgt).await? else { return Ok(Err(unknown())) };
    let Some(session) = session::by_sid(s, &record.sid).await? else { return Ok(Err(unknown())) };
    let unauthorized = || CasError::new(ErrorCode::UnauthorizedService, "the target service is not registered");
    let Some(service) = ServiceUrl::parse(target) else { return Ok(Err(unauthorized())) };
    let Some(target_client) = client_of(s, &service).await? else { return Ok(Err(unauthorized())) };
    let Some(user) = s.store.user_by_id(&record.user_id).await? else { return Ok(Err(unknown())) };
    if !session.is_valid_for(&user) {
        return Ok(Err(unknown()));
    }
    if authorization::check(s, &user, &target_client).await? == Access::Denied {
        return Ok(Err(CasError::new(ErrorCode::UnauthorizedService, "the user may not use the target service")));
    }
    let pt_record = TicketRecord {
        kind: TicketKind::Proxy,
        user_id: record.user_id.clone(),
        sid: record.sid.clone(),
        client_id: target_client.id.clone(),
        service: service.as_str().to_owned(),
        fresh: false,
        auth_time: record.auth_time,
        expires_at: ticket::expires_at(s),
        proxies: record.proxies.clone(),
    };
    let pt = ticket::issue(s, ticket::PROXY_PREFIX, &pt_record).await?;
    let detail = json!({ "client_id": target_client.id, "service": service.as_str(), "kind": "proxy", "renew": false });
    audit::record(s, Some(&user.id), audit::CAS_TICKET_ISSUED, info, detail).await?;
    Ok(Ok(pt))
}
