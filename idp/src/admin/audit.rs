//! The audit trail as an operator reads it (issue #12): search by user, client, kind (or kind
//! prefix) and date range, newest first, paged with a total; export as JSON lines in chunks (a
//! trail of millions of rows is never loaded at once); and the retention purge the worker runs
//! (`audit_retention_days`). Reading needs `Permission::ReadAudit`; an export is itself audited.
//! Writing events is `account::audit`'s.

use serde::Serialize;
use serde_json::{Value, json};

use super::AdminError;
use super::actor::{self, Actor, Permission};
use super::clients::Page;
use crate::account::audit;
use crate::services::{InfraError, Services};
use crate::store::{AuditFilter, AuditRecord};

/// What a search keeps; every `None` lets everything through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// A login, or a user id.
    pub user: Option<String>,
    pub client: Option<String>,
    /// An event kind (`sign_in_failed`), or a prefix ending with `*` (`recovery_*`).
    pub kind: Option<String>,
    /// From (inclusive) and to (exclusive), Unix seconds.
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub offset: usize,
    /// At most `MAX_PAGE`; 0 means `DEFAULT_PAGE`.
    pub limit: usize,
}

pub const DEFAULT_PAGE: usize = 50;
pub const MAX_PAGE: usize = 500;
/// Rows read per store call by the export and the purge.
pub const CHUNK: i64 = 1000;

/// One event as an operator sees it; `detail` is the stored JSON object (never a secret).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub kind: String,
    pub user_id: Option<String>,
    pub client_id: Option<String>,
    pub ip: String,
    pub user_agent: String,
    pub detail: Value,
}

impl From<AuditRecord> for AuditEntry {
    fn from(r: AuditRecord) -> Self {
        AuditEntry {
            id: r.id,
            at: r.event.at,
            kind: r.event.kind,
            user_id: r.event.user_id,
            client_id: r.client_id,
            ip: r.event.ip,
            user_agent: r.event.user_agent,
            detail: serde_json::from_str(&r.event.detail).unwrap_or(Value::String(r.event.detail)),
        }
    }
}

pub async fn search_audit(s: &Services, actor: &Actor, query: &AuditQuery) -> Result<Page<AuditEntry>, AdminError> {
    actor.require(Permission::ReadAudit)?;
    let filter = filter(s, query).await?;
    let limit = match query.limit {
        0 => DEFAULT_PAGE,
        n => n.min(MAX_PAGE),
    };
    let offset = i64::try_from(query.offset).map_err(|_| AdminError::Invalid("offset is too large".into()))?;
    let (rows, total) = s.store.search_events(&filter, offset, limit as i64).await?;
    Ok(Page { items: rows.into_iter().map(AuditEntry::from).collect(), total: total.max(0) as usize })
}

/// An export under way: `next_chunk` gives the next JSON lines (oldest first), `None` at the
/// end. The CLI writes them to standard output; the API streams them.
pub struct AuditExport {
    filter: AuditFilter,
    after_id: i64,
    done: bool,
}

/// Starts an export of what `query` keeps (its paging is ignored: everything goes out).
pub async fn export_audit(s: &Services, actor: &Actor, query: &AuditQuery) -> Result<AuditExport, AdminError> {
    actor.require(Permission::ReadAudit)?;
    let filter = filter(s, query).await?;
    // Nested: a top-level `client_id` would file the export under that client.
    let detail = json!({ "filter": {
        "user_id": filter.user_id,
        "client_id": filter.client_id,
        "kind": query.kind,
        "since": filter.since,
        "until": filter.until,
    }});
    actor::record(s, actor, audit::AUDIT_EXPORTED, None, detail).await?;
    Ok(AuditExport { filter, after_id: 0, done: false })
}

impl AuditExport {
    /// Up to `CHUNK` events, one JSON object per line, each line ending with `\n`.
    pub async fn next_chunk(&mut self, s: &Services) -> Result<Option<String>, AdminError> {
        if self.done {
            return Ok(None);
        }
        let rows = s.store.events_after(&self.filter, self.after_id, CHUNK).await?;
        if (rows.len() as i64) < CHUNK {
            self.done = true;
        }
        let Some(last) = rows.last().map(|r| r.id) else { return Ok(None) };
        self.after_id = last;
        let mut out = String::new();
        for row in rows {
            let line = serde_json::to_string(&AuditEntry::from(row))
                .map_err(|e| InfraError::Store(crate::store::StoreError::Corrupt(e.to_string())))?;
            out.push_str(&line);
            out.push('\n');
        }
        Ok(Some(out))
    }
}

/// The retention purge (`audit_retention_days`; 0 keeps everything): deletes the events older
/// than that in batches of `CHUNK`, so the trail is never locked for long. Returns how many
/// went. Run by the worker; not an operator action, so not itself audited.
pub async fn purge_expired(s: &Services) -> Result<u64, InfraError> {
    let days = s.admin.audit_retention_days;
    if days <= 0 {
        return Ok(0);
    }
    let before = s.now() - days * 86_400;
    let mut purged = 0;
    loop {
        let n = s.store.purge_events_before(before, CHUNK).await?;
        purged += n;
        if n < CHUNK as u64 {
            break;
        }
    }
    if purged > 0 {
        tracing::info!(purged, days, "audit retention: old events purged");
    }
    Ok(purged)
}

/// How often the worker purges (`purge_expired`): retention is counted in days.
pub const RETENTION_POLL: std::time::Duration = std::time::Duration::from_secs(3600);

/// The retention worker: `purge_expired` every `RETENTION_POLL`, until `stop`. Several nodes may
/// run it at once: each batch deletes what is still there.
pub async fn run_retention(s: std::sync::Arc<Services>, stop: tokio::sync::watch::Receiver<bool>) {
    crate::worker::poll("audit retention worker", RETENTION_POLL, stop, || purge_expired(&s)).await;
}

async fn filter(s: &Services, query: &AuditQuery) -> Result<AuditFilter, AdminError> {
    let trimmed = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let user_id = match trimmed(&query.user) {
        None => None,
        // A login names its account; anything else is taken as an account id (a deleted
        // account's events keep its id).
        Some(user) => Some(match s.store.user_by_login(&user).await.map_err(InfraError::from)? {
            Some(found) => found.id,
            None => user,
        }),
    };
    let (kind, kind_prefix) = match trimmed(&query.kind) {
        None => (None, String::new()),
        Some(k) => match k.strip_suffix('*') {
            Some(prefix) => (None, prefix.to_owned()),
            None => (Some(k), String::new()),
        },
    };
    if let (Some(since), Some(until)) = (query.since, query.until)
        && since >= until
    {
        return Err(AdminError::Invalid("the start of the period must be before its end".into()));
    }
    Ok(AuditFilter {
        user_id,
        client_id: trimmed(&query.client),
        kind,
        kind_prefix,
        since: query.since,
        until: query.until,
    })
}
