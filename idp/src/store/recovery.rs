//! Recovery (issue #5) over the `db` seam: `SqlStore`'s implementation of `RecoveryStore`
//! (lookups by e-mail and alternate identifier, the date of birth, the identifier renewal) and
//! of `WebhookQueue` (the propagation webhook's durable queue, claim protocol of `mail_queue`).

use async_trait::async_trait;

use super::db::q;
use super::sql::{LOGIN_OR_SKELETON, LoginRow, SqlStore, UserRow, select_users};
use super::{RecoveryStore, StoreError, WebhookDelivery, WebhookQueue};
use crate::domain::{Login, User};

/// Lookups by e-mail return at most this many accounts (namesakes sharing an address).
const MAX_ACCOUNTS_PER_EMAIL: i64 = 20;

#[derive(sqlx::FromRow)]
struct BirthDateRow {
    birth_date: Option<String>,
}

#[derive(sqlx::FromRow)]
struct IdentifierRow {
    kind: String,
    value: String,
    user_id: String,
}

#[async_trait]
impl RecoveryStore for SqlStore {
    async fn users_by_email(&self, email: &str) -> Result<Vec<User>, StoreError> {
        let sql = select_users!("WHERE LOWER(email) = LOWER($1) ORDER BY created_at, id LIMIT $2");
        let rows = self.db().all::<UserRow>(q(sql).text(email.trim()).int(MAX_ACCOUNTS_PER_EMAIL)).await?;
        Ok(rows.into_iter().map(User::from).collect())
    }

    async fn user_by_identifier(&self, kinds: &[String], value: &str) -> Result<Option<User>, StoreError> {
        let sql = select_users!("WHERE id = (SELECT user_id FROM user_identifiers WHERE kind = $1 AND value = $2)");
        for kind in kinds {
            if let Some(row) = self.db().optional::<UserRow>(q(sql).text(kind).text(value.trim())).await? {
                return Ok(Some(row.into()));
            }
        }
        Ok(None)
    }

    async fn birth_date(&self, user_id: &str) -> Result<Option<String>, StoreError> {
        let row =
            self.db().optional::<BirthDateRow>(q("SELECT birth_date FROM users WHERE id = $1").text(user_id)).await?;
        Ok(row.and_then(|r| r.birth_date))
    }

    async fn identifiers_of(&self, user_id: &str) -> Result<Vec<(String, String)>, StoreError> {
        let rows = self
            .db()
            .all::<IdentifierRow>(
                q("SELECT kind, value, user_id FROM user_identifiers WHERE user_id = $1 ORDER BY kind, value")
                    .text(user_id),
            )
            .await?;
        Ok(rows.into_iter().map(|r| (r.kind, r.value)).collect())
    }

    async fn set_recovery_profile(
        &self,
        user_id: &str,
        birth_date: Option<&str>,
        identifiers: &[(String, String)],
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.db().begin().await?;
        if let Some(date) = birth_date {
            tx.execute(
                q("UPDATE users SET birth_date = $1, updated_at = $2 WHERE id = $3").text(date).int(now).text(user_id),
            )
            .await?;
        }
        for (kind, value) in identifiers {
            let holder = tx
                .optional::<IdentifierRow>(
                    q("SELECT kind, value, user_id FROM user_identifiers WHERE kind = $1 AND value = $2")
                        .text(kind)
                        .text(value),
                )
                .await?;
            match holder {
                Some(row) if row.user_id != user_id => return Err(StoreError::Conflict("identifier")),
                Some(_) => continue,
                None => {}
            }
            tx.execute(q("DELETE FROM user_identifiers WHERE user_id = $1 AND kind = $2").text(user_id).text(kind))
                .await?;
            tx.execute(
                q("INSERT INTO user_identifiers (kind, value, user_id) VALUES ($1, $2, $3)")
                    .text(kind)
                    .text(value)
                    .text(user_id),
            )
            .await?;
        }
        tx.commit().await
    }

    async fn renew_login(
        &self,
        user_id: &str,
        new_login: &Login,
        token: (&str, &str),
        now: i64,
    ) -> Result<bool, StoreError> {
        let skeleton = new_login.skeleton();
        let mut tx = self.db().begin().await?;
        if tx.optional::<LoginRow>(q(LOGIN_OR_SKELETON).text(new_login.as_str()).text(&skeleton)).await?.is_some() {
            return Err(StoreError::Conflict("login"));
        }
        let taken = tx
            .execute(
                q("DELETE FROM user_tokens WHERE digest = $1 AND purpose = $2 AND user_id = $3 AND expires_at > $4")
                    .text(token.0)
                    .text(token.1)
                    .text(user_id)
                    .int(now),
            )
            .await?;
        if taken == 0 {
            return Ok(false);
        }
        let updated = tx
            .execute(
                q("UPDATE users SET login = $1, login_skeleton = $2, updated_at = $3 WHERE id = $4")
                    .text(new_login.as_str())
                    .text(&skeleton)
                    .int(now)
                    .text(user_id),
            )
            .await
            .map_err(|err| match err {
                StoreError::Conflict(_) => StoreError::Conflict("login"),
                other => other,
            })?;
        if updated == 0 {
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }
}

#[derive(sqlx::FromRow)]
struct WebhookRow {
    id: String,
    payload: String,
    created_at: i64,
    attempts: i64,
    next_attempt_at: i64,
    delivered_at: Option<i64>,
    last_error: Option<String>,
}

impl From<WebhookRow> for WebhookDelivery {
    fn from(r: WebhookRow) -> Self {
        Self {
            id: r.id,
            payload: r.payload,
            created_at: r.created_at,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            delivered_at: r.delivered_at,
            last_error: r.last_error,
        }
    }
}

#[async_trait]
impl WebhookQueue for SqlStore {
    async fn enqueue_webhook(&self, d: &WebhookDelivery, claim_until: i64) -> Result<(), StoreError> {
        self.db()
            .execute(
                q("INSERT INTO webhook_deliveries (id, payload, created_at, attempts, next_attempt_at, claimed_until, \
                   delivered_at, last_error) VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL)")
                .text(&d.id)
                .text(&d.payload)
                .int(d.created_at)
                .int(d.attempts)
                .int(d.next_attempt_at)
                .int(claim_until),
            )
            .await
            .map(|_| ())
    }

    async fn claim_due_webhooks(
        &self,
        now: i64,
        claim_until: i64,
        limit: i64,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        let rows: Vec<WebhookRow> = self
            .claim_due(
                "SELECT id FROM webhook_deliveries WHERE delivered_at IS NULL AND next_attempt_at <= $1 \
                 AND (claimed_until IS NULL OR claimed_until < $1) ORDER BY next_attempt_at, id LIMIT $2",
                "UPDATE webhook_deliveries SET claimed_until = $1, attempts = attempts + 1 \
                 WHERE id = $2 AND delivered_at IS NULL AND next_attempt_at <= $3 \
                 AND (claimed_until IS NULL OR claimed_until < $3) \
                 RETURNING id, payload, created_at, attempts, next_attempt_at, delivered_at, last_error",
                now,
                claim_until,
                limit,
            )
            .await?;
        Ok(rows.into_iter().map(WebhookDelivery::from).collect())
    }

    async fn finish_webhook(&self, id: &str, now: i64) -> Result<(), StoreError> {
        self.db()
            .execute(
                q("UPDATE webhook_deliveries SET delivered_at = $1, claimed_until = NULL WHERE id = $2")
                    .int(now)
                    .text(id),
            )
            .await
            .map(|_| ())
    }

    async fn retry_webhook(&self, id: &str, next_attempt_at: i64, error: &str) -> Result<(), StoreError> {
        self.db()
            .execute(
                q("UPDATE webhook_deliveries SET next_attempt_at = $1, claimed_until = NULL, last_error = $2 \
                   WHERE id = $3")
                .int(next_attempt_at)
                .text(error.chars().take(500).collect::<String>())
                .text(id),
            )
            .await
            .map(|_| ())
    }

    async fn webhook_delivery(&self, id: &str) -> Result<Option<WebhookDelivery>, StoreError> {
        let sql = "SELECT id, payload, created_at, attempts, next_attempt_at, delivered_at, last_error \
                   FROM webhook_deliveries WHERE id = $1";
        Ok(self.db().optional::<WebhookRow>(q(sql).text(id)).await?.map(WebhookDelivery::from))
    }

    async fn purge_webhooks(&self, delivered_before: i64) -> Result<u64, StoreError> {
        self.db().execute(q("DELETE FROM webhook_deliveries WHERE delivered_at < $1").int(delivered_before)).await
    }
}
