//! Reading the audit trail as an operator (issue #12) over the `db` seam: search with filters
//! and a total, export in chunks by id, the retention purge in batches, the dashboard's daily
//! counts and the queue depths. Writing events stays in `audit`.

use async_trait::async_trait;

use super::db::{Query, q};
use super::sql::SqlStore;
use super::{AuditEvent, StoreError};

/// What an audit search keeps; every `None` (and an empty prefix) lets everything through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub user_id: Option<String>,
    pub client_id: Option<String>,
    /// Exactly this kind.
    pub kind: Option<String>,
    /// Kinds starting with this (`"recovery_"`); `""`: every kind.
    pub kind_prefix: String,
    /// From this instant (inclusive) to `until` (exclusive), Unix seconds.
    pub since: Option<i64>,
    pub until: Option<i64>,
}

/// A stored event with its row id (the export's cursor) and its client column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: i64,
    pub client_id: Option<String>,
    pub event: AuditEvent,
}

/// Events of one kind on one day (`day` 0 is the day starting at `since`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DailyCount {
    pub day: i64,
    pub kind: String,
    pub count: i64,
}

#[async_trait]
pub trait AuditSearchStore {
    /// The events the filter keeps, newest first, `limit` of them after skipping `offset`, and
    /// how many the filter keeps in all.
    async fn search_events(
        &self,
        filter: &AuditFilter,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<AuditRecord>, i64), StoreError>;
    /// The next `limit` events the filter keeps whose id is above `after_id`, oldest first: the
    /// export walks the trail in chunks with it.
    async fn events_after(
        &self,
        filter: &AuditFilter,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, StoreError>;
    /// Deletes up to `limit` of the oldest events dated before `before`; returns how many went.
    async fn purge_events_before(&self, before: i64, limit: i64) -> Result<u64, StoreError>;
    /// Per day from `since` (86,400 s days) to `until`, the count of each of `kinds` (at most five).
    async fn daily_counts(&self, kinds: &[&str], since: i64, until: i64) -> Result<Vec<DailyCount>, StoreError>;
    /// Mails waiting in the mail queue, and logout deliveries waiting in the logout queue.
    async fn queue_depths(&self) -> Result<(i64, i64), StoreError>;
}

#[derive(sqlx::FromRow)]
struct RecordRow {
    id: i64,
    user_id: Option<String>,
    client_id: Option<String>,
    kind: String,
    at: i64,
    ip: String,
    user_agent: String,
    detail: String,
}

impl From<RecordRow> for AuditRecord {
    fn from(r: RecordRow) -> Self {
        AuditRecord {
            id: r.id,
            client_id: r.client_id,
            event: AuditEvent {
                user_id: r.user_id,
                kind: r.kind,
                at: r.at,
                ip: r.ip,
                user_agent: r.user_agent,
                detail: r.detail,
            },
        }
    }
}

#[derive(sqlx::FromRow)]
struct CountRow {
    n: i64,
}

#[derive(sqlx::FromRow)]
struct DailyRow {
    day: i64,
    kind: String,
    n: i64,
}

#[derive(sqlx::FromRow)]
struct IdRow {
    id: i64,
}

// Each filter is either NULL (not applied) or compared; the kind prefix is matched with substr
// (no LIKE wildcards to escape; PostgreSQL has no substr(text, int, bigint), hence the cast).
// $1 user, $2 client, $3 exact kind, $4 prefix length, $5 prefix, $6 since, $7 until (`bind`).
macro_rules! filtered {
    ($head:literal, $tail:literal) => {
        concat!(
            $head,
            " FROM audit_events WHERE (CAST($1 AS TEXT) IS NULL OR user_id = $1) AND (CAST($2 AS TEXT) IS NULL OR client_id = $2) \
             AND (CAST($3 AS TEXT) IS NULL OR kind = $3) AND substr(kind, 1, CAST($4 AS INTEGER)) = $5 \
             AND at >= $6 AND at < $7 ",
            $tail
        )
    };
}

fn bind(query: Query, f: &AuditFilter) -> Query {
    query
        .opt_text(f.user_id.clone())
        .opt_text(f.client_id.clone())
        .opt_text(f.kind.clone())
        .int(f.kind_prefix.chars().count() as i64)
        .text(&f.kind_prefix)
        .int(f.since.unwrap_or(i64::MIN))
        .int(f.until.unwrap_or(i64::MAX))
}

#[async_trait]
impl AuditSearchStore for SqlStore {
    async fn search_events(
        &self,
        filter: &AuditFilter,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<AuditRecord>, i64), StoreError> {
        let rows = self
            .db()
            .all::<RecordRow>(
                bind(
                    q(filtered!(
                        "SELECT id, user_id, client_id, kind, at, ip, user_agent, detail",
                        "ORDER BY at DESC, id DESC LIMIT $8 OFFSET $9"
                    )),
                    filter,
                )
                .int(limit)
                .int(offset),
            )
            .await?;
        let total = self
            .db()
            .optional::<CountRow>(bind(q(filtered!("SELECT CAST(COUNT(*) AS BIGINT) AS n", "")), filter))
            .await?
            .map_or(0, |r| r.n);
        Ok((rows.into_iter().map(AuditRecord::from).collect(), total))
    }

    async fn events_after(
        &self,
        filter: &AuditFilter,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = self
            .db()
            .all::<RecordRow>(
                bind(
                    q(filtered!(
                        "SELECT id, user_id, client_id, kind, at, ip, user_agent, detail",
                        "AND id > $8 ORDER BY id LIMIT $9"
                    )),
                    filter,
                )
                .int(after_id)
                .int(limit),
            )
            .await?;
        Ok(rows.into_iter().map(AuditRecord::from).collect())
    }

    async fn purge_events_before(&self, before: i64, limit: i64) -> Result<u64, StoreError> {
        // A bounded batch per statement: a purge of millions of rows never holds the (SQLite:
        // only) writer for long; the caller loops.
        let ids = self
            .db()
            .all::<IdRow>(q("SELECT id FROM audit_events WHERE at < $1 ORDER BY id LIMIT $2").int(before).int(limit))
            .await?;
        let Some(last) = ids.last().map(|r| r.id) else { return Ok(0) };
        self.db().execute(q("DELETE FROM audit_events WHERE at < $1 AND id <= $2").int(before).int(last)).await
    }

    async fn daily_counts(&self, kinds: &[&str], since: i64, until: i64) -> Result<Vec<DailyCount>, StoreError> {
        // One grouped query; at most five kinds (the dashboard's), unused slots repeat the first.
        let kind = |i: usize| kinds.get(i).or(kinds.first()).copied().unwrap_or("");
        let rows = self
            .db()
            .all::<DailyRow>(
                q("SELECT CAST((at - $1) / 86400 AS BIGINT) AS day, kind, CAST(COUNT(*) AS BIGINT) AS n \
                   FROM audit_events WHERE at >= $1 AND at < $2 AND kind IN ($3, $4, $5, $6, $7) \
                   GROUP BY 1, 2")
                .int(since)
                .int(until)
                .text(kind(0))
                .text(kind(1))
                .text(kind(2))
                .text(kind(3))
                .text(kind(4)),
            )
            .await?;
        Ok(rows.into_iter().map(|r| DailyCount { day: r.day, kind: r.kind, count: r.n }).collect())
    }

    async fn queue_depths(&self) -> Result<(i64, i64), StoreError> {
        let count = |sql: &'static str| async move {
            self.db().optional::<CountRow>(q(sql)).await.map(|r| r.map_or(0, |r| r.n))
        };
        let mail = count("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM mail_queue").await?;
        let logout = count("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM logout_deliveries").await?;
        Ok((mail, logout))
    }
}
