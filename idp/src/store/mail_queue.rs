//! The durable mail queue over the `db` seam: `SqlStore`'s implementation of `MailQueue`, with
//! the same claim protocol as the back-channel logout queue (`logout_queue`).

use async_trait::async_trait;

use super::db::q;
use super::sql::SqlStore;
use super::{MailQueue, QueuedMail, StoreError};

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    recipient: String,
    subject: String,
    text_body: String,
    html_body: String,
    created_at: i64,
    attempts: i64,
    next_attempt_at: i64,
    last_error: Option<String>,
}

impl From<Row> for QueuedMail {
    fn from(r: Row) -> Self {
        Self {
            id: r.id,
            to: r.recipient,
            subject: r.subject,
            text: r.text_body,
            html: r.html_body,
            created_at: r.created_at,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            last_error: r.last_error,
        }
    }
}

#[async_trait]
impl MailQueue for SqlStore {
    async fn enqueue_mail(&self, m: &QueuedMail, claim_until: i64) -> Result<(), StoreError> {
        self.db()
            .execute(
                q("INSERT INTO mail_queue (id, recipient, subject, text_body, html_body, created_at, attempts, \
                   next_attempt_at, claimed_until, last_error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL)")
                .text(&m.id)
                .text(&m.to)
                .text(&m.subject)
                .text(&m.text)
                .text(&m.html)
                .int(m.created_at)
                .int(m.attempts)
                .int(m.next_attempt_at)
                .int(claim_until),
            )
            .await
            .map(|_| ())
    }

    async fn claim_due_mail(&self, now: i64, claim_until: i64, limit: i64) -> Result<Vec<QueuedMail>, StoreError> {
        let rows: Vec<Row> = self
            .claim_due(
                "SELECT id FROM mail_queue WHERE next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until < $1) \
                 ORDER BY next_attempt_at, id LIMIT $2",
                "UPDATE mail_queue SET claimed_until = $1, attempts = attempts + 1 \
                 WHERE id = $2 AND next_attempt_at <= $3 AND (claimed_until IS NULL OR claimed_until < $3) \
                 RETURNING id, recipient, subject, text_body, html_body, created_at, attempts, next_attempt_at, last_error",
                now,
                claim_until,
                limit,
            )
            .await?;
        Ok(rows.into_iter().map(QueuedMail::from).collect())
    }

    async fn finish_mail(&self, id: &str) -> Result<(), StoreError> {
        self.db().execute(q("DELETE FROM mail_queue WHERE id = $1").text(id)).await.map(|_| ())
    }

    async fn retry_mail(&self, id: &str, next_attempt_at: i64, error: &str) -> Result<(), StoreError> {
        self.db()
            .execute(
                q("UPDATE mail_queue SET next_attempt_at = $1, claimed_until = NULL, last_error = $2 WHERE id = $3")
                    .int(next_attempt_at)
                    .text(error.chars().take(500).collect::<String>())
                    .text(id),
            )
            .await
            .map(|_| ())
    }

    async fn pending_mail(&self) -> Result<Vec<QueuedMail>, StoreError> {
        self.db()
            .all::<Row>(q(
                "SELECT id, recipient, subject, text_body, html_body, created_at, attempts, next_attempt_at, last_error \
                 FROM mail_queue ORDER BY created_at, id",
            ))
            .await
            .map(|rows| rows.into_iter().map(QueuedMail::from).collect())
    }
}
