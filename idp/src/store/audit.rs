//! The audit trail (issue #4) over the `db` seam: `SqlStore`'s implementation of `AuditStore`.

use async_trait::async_trait;

use super::db::q;
use super::sql::SqlStore;
use super::{AuditEvent, AuditStore, StoreError};

#[derive(sqlx::FromRow)]
struct Row {
    user_id: Option<String>,
    kind: String,
    at: i64,
    ip: String,
    user_agent: String,
    detail: String,
}

#[async_trait]
impl AuditStore for SqlStore {
    async fn record_event(&self, e: &AuditEvent) -> Result<(), StoreError> {
        // The client an event concerns gets a column of its own, so the trail can be searched
        // by client (issue #12, `audit_search`).
        let client_id = serde_json::from_str::<serde_json::Value>(&e.detail)
            .ok()
            .and_then(|d| d.get("client_id").and_then(|c| c.as_str()).map(str::to_owned));
        self.db()
            .execute(
                q("INSERT INTO audit_events (user_id, kind, at, ip, user_agent, detail, client_id) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .opt_text(e.user_id.clone())
                    .text(&e.kind)
                    .int(e.at)
                    .text(&e.ip)
                    .text(&e.user_agent)
                    .text(&e.detail)
                    .opt_text(client_id),
            )
            .await
            .map(|_| ())
    }

    async fn events_for_user(
        &self,
        user_id: &str,
        kind_prefix: &str,
        limit: i64,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        // The prefix is matched with substr (no LIKE wildcards to escape); PostgreSQL has no
        // substr(text, int, bigint), hence the cast.
        let rows = self
            .db()
            .all::<Row>(
                q("SELECT user_id, kind, at, ip, user_agent, detail FROM audit_events \
                   WHERE user_id = $1 AND substr(kind, 1, CAST($2 AS INTEGER)) = $3 ORDER BY at DESC, id DESC LIMIT $4")
                .text(user_id)
                .int(kind_prefix.chars().count() as i64)
                .text(kind_prefix)
                .int(limit),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| AuditEvent {
                user_id: r.user_id,
                kind: r.kind,
                at: r.at,
                ip: r.ip,
                user_agent: r.user_agent,
                detail: r.detail,
            })
            .collect())
    }
}
