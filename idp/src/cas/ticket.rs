//! CAS tickets in the ephemeral store (§3): service tickets (`ST-`), proxy tickets (`PT-`), proxy
//! granting tickets (`PGT-`) and their IOUs (`PGTIOU-`). Random (256 bits, §3.7's alphabet:
//! letters, digits and `-`), kept under their SHA-256 so a dump of the store holds no usable
//! ticket. Service and proxy tickets are single use (an atomic take, §3.1.1) and live
//! `cas_ticket_ttl`; a proxy granting ticket lives as long as its browser session (§3.3).
//!
//! Per session, CAS remembers which services got a ticket (single logout) and which proxy
//! granting tickets it holds (ended with it): two sets under the session id.

use serde::{Deserialize, Serialize};

use crate::crypto;
use crate::ephemeral::{self, ttl_until};
use crate::services::{InfraError, Services};
use crate::session::BrowserSession;

pub const SERVICE_PREFIX: &str = "ST-";
pub const PROXY_PREFIX: &str = "PT-";
pub const PGT_PREFIX: &str = "PGT-";
pub const PGT_IOU_PREFIX: &str = "PGTIOU-";

/// §3.1 and §3.2: at most 256 characters.
const MAX_TICKET_LEN: usize = 256;

/// A new ticket: `prefix` and 64 hexadecimal digits.
pub fn new_ticket(prefix: &str) -> String {
    let hex: String = crypto::random_bytes(32).iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{hex}")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketKind {
    Service,
    Proxy,
}

/// What a service or proxy ticket stands for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketRecord {
    pub kind: TicketKind,
    pub user_id: String,
    pub sid: String,
    pub client_id: String,
    /// The normalised service URL it was issued for (`domain::cas_service`).
    pub service: String,
    /// Issued right after the user proved a credential (`renew`, `isFromNewLogin`).
    pub fresh: bool,
    pub auth_time: i64,
    pub expires_at: i64,
    /// Proxy tickets: the proxies it went through, most recent first (§2.6.2 `cas:proxies`).
    pub proxies: Vec<String>,
}

/// A proxy granting ticket: who, for which session, and the proxy chain so far.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PgtRecord {
    pub user_id: String,
    pub sid: String,
    pub client_id: String,
    pub auth_time: i64,
    /// The `pgtUrl` it was sent to, then the earlier proxies (most recent first).
    pub proxies: Vec<String>,
}

fn ticket_key(ticket: &str) -> String {
    format!("cas_ticket:{}", crypto::digest(ticket))
}

fn pgt_key(pgt: &str) -> String {
    format!("cas_pgt:{}", crypto::digest(pgt))
}

fn session_services_key(sid: &str) -> String {
    format!("cas_session_services:{sid}")
}

fn session_pgts_key(sid: &str) -> String {
    format!("cas_session_pgts:{sid}")
}

/// One service that got a ticket in a session (single logout).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedService {
    pub client_id: String,
    pub service: String,
    pub ticket: String,
}

/// Stores a new service or proxy ticket for `record`; returns the ticket.
pub async fn issue(s: &Services, prefix: &str, record: &TicketRecord) -> Result<String, InfraError> {
    let ticket = new_ticket(prefix);
    let ttl = ttl_until(record.expires_at, s.now());
    ephemeral::put_json(s.ephemeral.as_ref(), &ticket_key(&ticket), record, ttl).await?;
    Ok(ticket)
}

/// The record of a service or proxy ticket, taken (no second validation can see it), if it is
/// known and unexpired.
pub async fn take(s: &Services, ticket: &str) -> Result<Option<TicketRecord>, InfraError> {
    if ticket.is_empty() || ticket.len() > MAX_TICKET_LEN {
        return Ok(None);
    }
    let record: Option<TicketRecord> = ephemeral::take_json(s.ephemeral.as_ref(), &ticket_key(ticket)).await?;
    Ok(record.filter(|r| r.expires_at > s.now()))
}

/// Remembers that `service` got `ticket` in `session` (single logout), for as long as the
/// session lives.
pub async fn remember_service(
    s: &Services,
    session: &BrowserSession,
    issued: &IssuedService,
) -> Result<(), InfraError> {
    let member = serde_json::to_string(issued).map_err(|e| crate::ephemeral::EphemeralError::Corrupt(e.to_string()))?;
    let ttl = ttl_until(session.expires_at, s.now());
    s.ephemeral.set_add(&session_services_key(&session.sid), &member, ttl).await?;
    Ok(())
}

/// The services that got a ticket in session `sid`, forgotten on the way.
pub async fn take_services(s: &Services, sid: &str) -> Result<Vec<IssuedService>, InfraError> {
    let key = session_services_key(sid);
    let members = s.ephemeral.set_members(&key).await?;
    s.ephemeral.delete(&key).await?;
    Ok(members.iter().filter_map(|m| serde_json::from_str(m).ok()).collect())
}

/// Stores a proxy granting ticket for the life of `session`; returns it.
pub async fn issue_pgt(s: &Services, session: &BrowserSession, record: &PgtRecord) -> Result<String, InfraError> {
    let pgt = new_ticket(PGT_PREFIX);
    let ttl = ttl_until(session.expires_at, s.now());
    ephemeral::put_json(s.ephemeral.as_ref(), &pgt_key(&pgt), record, ttl).await?;
    s.ephemeral.set_add(&session_pgts_key(&session.sid), &crypto::digest(&pgt), ttl).await?;
    Ok(pgt)
}

/// A proxy granting ticket's record (it can be used again, §3.3), if it is known.
pub async fn pgt(s: &Services, pgt: &str) -> Result<Option<PgtRecord>, InfraError> {
    if !pgt.starts_with(PGT_PREFIX) || pgt.len() > MAX_TICKET_LEN {
        return Ok(None);
    }
    Ok(ephemeral::get_json(s.ephemeral.as_ref(), &pgt_key(pgt)).await?)
}

/// Forgets one proxy granting ticket (its callback refused it).
pub async fn forget_pgt(s: &Services, pgt: &str) -> Result<(), InfraError> {
    Ok(s.ephemeral.delete(&pgt_key(pgt)).await?)
}

/// Ends every proxy granting ticket of session `sid` (§3.3: a PGT MUST end with the session).
pub async fn end_pgts(s: &Services, sid: &str) -> Result<(), InfraError> {
    let key = session_pgts_key(sid);
    for digest in s.ephemeral.set_members(&key).await? {
        s.ephemeral.delete(&format!("cas_pgt:{digest}")).await?;
    }
    s.ephemeral.delete(&key).await?;
    Ok(())
}

/// The lifetime of a new service or proxy ticket.
pub fn expires_at(s: &Services) -> i64 {
    s.now() + s.lifetimes.cas_ticket
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_use_the_specifications_alphabet_and_are_distinct() {
        let a = new_ticket(SERVICE_PREFIX);
        assert!(a.starts_with("ST-") && a.len() == 67 && a.len() <= MAX_TICKET_LEN);
        assert!(a[3..].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(a, new_ticket(SERVICE_PREFIX));
    }
}
