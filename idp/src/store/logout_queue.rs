//! The back-channel logout queue (OpenID Connect Back-Channel Logout 1.0, issue #3) over the
//! `db` seam: `SqlStore`'s implementation of `LogoutQueue`, in its own file because it is one
//! concept. Claiming is one conditional `UPDATE … RETURNING` per row (SQLite ≥ 3.35 and
//! PostgreSQL both have it), so two nodes polling together never both send a row.

use async_trait::async_trait;

use super::db::q;
use super::sql::SqlStore;
use super::{LogoutDelivery, LogoutQueue, StoreError};

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: String,
    client_id: String,
    user_id: String,
    sid: String,
    created_at: i64,
    attempts: i64,
    next_attempt_at: i64,
    protocol: String,
    target: Option<String>,
    session_index: Option<String>,
}

impl From<DeliveryRow> for LogoutDelivery {
    fn from(r: DeliveryRow) -> Self {
        LogoutDelivery {
            id: r.id,
            client_id: r.client_id,
            user_id: r.user_id,
            sid: r.sid,
            created_at: r.created_at,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            protocol: r.protocol,
            target: r.target,
            session_index: r.session_index,
        }
    }
}

#[derive(sqlx::FromRow)]
struct IdRow {
    id: String,
}

#[async_trait]
impl LogoutQueue for SqlStore {
    async fn enqueue_logouts(&self, deliveries: &[LogoutDelivery]) -> Result<(), StoreError> {
        if deliveries.is_empty() {
            return Ok(());
        }
        let mut tx = self.db().begin().await?;
        for d in deliveries {
            tx.execute(
                q("INSERT INTO logout_deliveries (id, client_id, user_id, sid, created_at, attempts, next_attempt_at, claimed_until, protocol, target, session_index) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $9, $10)")
                .text(&d.id)
                .text(&d.client_id)
                .text(&d.user_id)
                .text(&d.sid)
                .int(d.created_at)
                .int(d.attempts)
                .int(d.next_attempt_at)
                .text(&d.protocol)
                .opt_text(d.target.as_deref())
                .opt_text(d.session_index.as_deref()),
            )
            .await?;
        }
        tx.commit().await
    }

    async fn claim_due_logouts(
        &self,
        protocol: &str,
        now: i64,
        claim_until: i64,
        limit: i64,
    ) -> Result<Vec<LogoutDelivery>, StoreError> {
        // `SqlStore::claim_due`, with the protocol: each protocol's worker sends its own rows.
        let candidates = self
            .db()
            .all::<IdRow>(
                q("SELECT id FROM logout_deliveries WHERE protocol = $1 AND next_attempt_at <= $2 \
                   AND (claimed_until IS NULL OR claimed_until < $2) ORDER BY next_attempt_at, id LIMIT $3")
                .text(protocol)
                .int(now)
                .int(limit),
            )
            .await?;
        let mut claimed = Vec::new();
        for candidate in candidates {
            let rows = self
                .db()
                .all::<DeliveryRow>(
                    q("UPDATE logout_deliveries SET claimed_until = $1, attempts = attempts + 1 \
                       WHERE id = $2 AND next_attempt_at <= $3 AND (claimed_until IS NULL OR claimed_until < $3) \
                       RETURNING id, client_id, user_id, sid, created_at, attempts, next_attempt_at, protocol, target, session_index")
                    .int(claim_until)
                    .text(&candidate.id)
                    .int(now),
                )
                .await?;
            claimed.extend(rows.into_iter().map(LogoutDelivery::from));
        }
        Ok(claimed)
    }

    async fn finish_logout(&self, id: &str) -> Result<(), StoreError> {
        self.db().execute(q("DELETE FROM logout_deliveries WHERE id = $1").text(id)).await.map(|_| ())
    }

    async fn retry_logout(&self, id: &str, next_attempt_at: i64) -> Result<(), StoreError> {
        self.db()
            .execute(
                q("UPDATE logout_deliveries SET next_attempt_at = $1, claimed_until = NULL WHERE id = $2")
                    .int(next_attempt_at)
                    .text(id),
            )
            .await
            .map(|_| ())
    }

    async fn pending_logouts(&self) -> Result<Vec<LogoutDelivery>, StoreError> {
        self.db()
            .all::<DeliveryRow>(q(
                "SELECT id, client_id, user_id, sid, created_at, attempts, next_attempt_at, protocol, target, session_index FROM logout_deliveries ORDER BY created_at, id",
            ))
            .await
            .map(|rows| rows.into_iter().map(LogoutDelivery::from).collect())
    }
}
