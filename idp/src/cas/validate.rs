//! Ticket validation (§2.4–§2.6, §2.8–§2.9): /cas/validate (CAS 1.0), /cas/serviceValidate and
//! /cas/proxyValidate (CAS 2.0), /cas/p3/serviceValidate and /cas/p3/proxyValidate (CAS 3.0).
//! Server to server GETs: a ticket is taken (single use) before anything else is checked, so a
//! ticket presented for the wrong service, or without the fresh sign-in `renew` asks for, is
//! gone all the same (§2.5.3 `INVALID_SERVICE`). Every outcome is audited.

use serde_json::json;

use super::attributes;
use super::response::{self, Format, Success};
use super::ticket::{self, TicketKind, TicketRecord};
use super::{CasError, ErrorCode, Params};
use crate::account::audit;
use crate::domain::cas_service::ServiceUrl;
use crate::services::{InfraError, Services};
use crate::session::ClientInfo;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// CAS 1.0 /validate.
    Validate,
    ServiceValidate,
    ProxyValidate,
    P3ServiceValidate,
    P3ProxyValidate,
}

impl Endpoint {
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Validate => "/cas/validate",
            Endpoint::ServiceValidate => "/cas/serviceValidate",
            Endpoint::ProxyValidate => "/cas/proxyValidate",
            Endpoint::P3ServiceValidate => "/cas/p3/serviceValidate",
            Endpoint::P3ProxyValidate => "/cas/p3/proxyValidate",
        }
    }

    /// §2.5: /serviceValidate MUST NOT validate proxy tickets (nor CAS 1.0's /validate, §2.4).
    fn accepts_proxy_tickets(self) -> bool {
        matches!(self, Endpoint::ProxyValidate | Endpoint::P3ProxyValidate)
    }

    /// CAS 3.0 (§2.8, §2.9) releases attributes; CAS 2.0 did not define them.
    fn releases_attributes(self) -> bool {
        matches!(self, Endpoint::P3ServiceValidate | Endpoint::P3ProxyValidate)
    }
}

/// What the endpoint answers: a content type and a body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub content_type: &'static str,
    pub body: String,
}

/// Validates the ticket of `query` at `endpoint`; `info` is the caller (the application's
/// server), for the audit trail.
pub async fn validate(s: &Services, endpoint: Endpoint, query: &str, info: &ClientInfo) -> Result<Answer, InfraError> {
    let params = Params::parse(query);
    let format = Format::of(&params);
    let result = check(s, endpoint, &params, info).await?;
    if endpoint == Endpoint::Validate {
        let user = result.as_ref().ok().map(|ok| ok.user.as_str());
        return Ok(Answer { content_type: "text/plain; charset=utf-8", body: response::validation_v1(user) });
    }
    Ok(Answer { content_type: format.content_type(), body: response::validation(&result, format) })
}

async fn check(
    s: &Services,
    endpoint: Endpoint,
    params: &Params,
    info: &ClientInfo,
) -> Result<Result<Success, CasError>, InfraError> {
    let request = match read(params) {
        Ok(request) => request,
        Err(err) => return refused(s, endpoint, None, None, err, info).await,
    };
    let Some(record) = ticket::take(s, &request.ticket).await? else {
        let err = CasError::new(ErrorCode::InvalidTicket, format!("Ticket {} not recognized", request.ticket));
        return refused(s, endpoint, None, Some(&request.service), err, info).await;
    };
    let user_id = record.user_id.clone();
    match accept(s, endpoint, &request, record, info).await? {
        Ok(success) => Ok(Ok(success)),
        Err(err) => refused(s, endpoint, Some(&user_id), Some(&request.service), err, info).await,
    }
}

struct Request {
    ticket: String,
    service: String,
    renew: bool,
    pgt_url: Option<String>,
}

/// §2.5.1: `service` and `ticket` are required, `pgtUrl` and `renew` optional, none repeated.
fn read(params: &Params) -> Result<Request, CasError> {
    let (service, ticket) = (params.get("service")?, params.get("ticket")?);
    let (Some(service), Some(ticket)) = (service.filter(|v| !v.is_empty()), ticket.filter(|v| !v.is_empty())) else {
        return Err(CasError::new(ErrorCode::InvalidRequest, "'service' and 'ticket' parameters are both required"));
    };
    Ok(Request {
        ticket: ticket.to_owned(),
        service: service.to_owned(),
        renew: params.flag("renew")?,
        pgt_url: params.get("pgtUrl")?.filter(|v| !v.is_empty()).map(str::to_owned),
    })
}

async fn accept(
    s: &Services,
    endpoint: Endpoint,
    request: &Request,
    record: TicketRecord,
    info: &ClientInfo,
) -> Result<Result<Success, CasError>, InfraError> {
    let ticket_name = &request.ticket;
    if record.kind == TicketKind::Proxy && !endpoint.accepts_proxy_tickets() {
        let at = endpoint.path();
        return Ok(Err(CasError::new(
            ErrorCode::InvalidTicket,
            format!("Ticket {ticket_name} is a proxy ticket, not accepted at {at}"),
        )));
    }
    if ServiceUrl::parse(&request.service).map(|s| s.as_str().to_owned()) != Some(record.service.clone()) {
        return Ok(Err(CasError::new(
            ErrorCode::InvalidService,
            format!("Ticket {ticket_name} does not match the supplied service; it is no longer valid"),
        )));
    }
    if request.renew && !record.fresh {
        return Ok(Err(CasError::new(
            ErrorCode::InvalidTicket,
            format!("Ticket {ticket_name} did not come from an initial login and renew is set"),
        )));
    }
    let (Some(user), Some(client)) =
        (s.store.user_by_id(&record.user_id).await?, s.store.client(&record.client_id).await?)
    else {
        return Ok(Err(CasError::new(ErrorCode::InvalidTicket, format!("Ticket {ticket_name} not recognized"))));
    };
    if user.disabled {
        return Ok(Err(CasError::new(ErrorCode::InvalidTicket, format!("Ticket {ticket_name} not recognized"))));
    }
    let pgt_iou = match &request.pgt_url {
        None => None,
        Some(url) => match super::proxy::grant(s, &record, &client, url).await? {
            Ok(iou) => iou,
            Err(err) => return Ok(Err(err)),
        },
    };
    let attributes = if endpoint.releases_attributes() {
        let groups = crate::account::authorization::groups_of(s, &user.id).await?;
        let mut all = vec![
            ("authenticationDate".to_owned(), vec![crate::clock::rfc3339(record.auth_time)]),
            ("isFromNewLogin".to_owned(), vec![record.fresh.to_string()]),
            ("longTermAuthenticationRequestTokenUsed".to_owned(), vec!["false".to_owned()]),
        ];
        all.extend(attributes::released(&user, &client, &groups));
        Some(all)
    } else {
        None
    };
    let success = Success {
        user: attributes::user_name(s, &user, &client).await?,
        attributes,
        pgt_iou,
        proxies: if endpoint.accepts_proxy_tickets() { record.proxies.clone() } else { Vec::new() },
    };
    let detail = json!({
        "client_id": client.id,
        "service": record.service,
        "endpoint": endpoint.path(),
        "kind": if record.kind == TicketKind::Proxy { "proxy" } else { "service" },
        "proxy_granted": success.pgt_iou.is_some(),
    });
    audit::record(s, Some(&user.id), audit::CAS_TICKET_VALIDATED, info, detail).await?;
    Ok(Ok(success))
}

async fn refused(
    s: &Services,
    endpoint: Endpoint,
    user_id: Option<&str>,
    service: Option<&str>,
    err: CasError,
    info: &ClientInfo,
) -> Result<Result<Success, CasError>, InfraError> {
    let service: Option<String> = service.map(|v| v.chars().take(300).collect());
    let detail = json!({ "code": err.code.as_str(), "endpoint": endpoint.path(), "service": service });
    audit::record(s, user_id, audit::CAS_TICKET_REFUSED, info, detail).await?;
    Ok(Err(err))
}
