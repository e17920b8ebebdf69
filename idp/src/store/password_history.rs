//! Password history and age (issue #4) over the `db` seam: `SqlStore`'s implementation of
//! `PasswordStore`. Hashes only (argon2id), never passwords. The propagation webhook delivery
//! of a change (issue #5) is queued in the change's transaction.

use async_trait::async_trait;

use super::db::q;
use super::sql::SqlStore;
use super::{PasswordChange, PasswordStore, StoreError};

#[derive(sqlx::FromRow)]
struct HashRow {
    hash: String,
}

#[derive(sqlx::FromRow)]
struct ChangedRow {
    changed_at: i64,
}

#[async_trait]
impl PasswordStore for SqlStore {
    async fn password_history(&self, user_id: &str, limit: u32) -> Result<Vec<String>, StoreError> {
        let rows = self
            .db()
            .all::<HashRow>(
                q("SELECT hash FROM password_history WHERE user_id = $1 ORDER BY id DESC LIMIT $2")
                    .text(user_id)
                    .int(i64::from(limit)),
            )
            .await?;
        Ok(rows.into_iter().map(|r| r.hash).collect())
    }

    async fn change_password(&self, c: &PasswordChange<'_>) -> Result<bool, StoreError> {
        let mut tx = self.db().begin().await?;
        if let Some((digest, purpose)) = c.redeem_token {
            let taken = tx
                .execute(
                    q("DELETE FROM user_tokens WHERE digest = $1 AND purpose = $2 AND user_id = $3 AND expires_at > $4")
                        .text(digest)
                        .text(purpose)
                        .text(c.user_id)
                        .int(c.now),
                )
                .await?;
            if taken == 0 {
                return Ok(false);
            }
        }
        let updated = tx
            .execute(
                q("UPDATE users SET password_hash = $1, password_changed_at = $2, updated_at = $2, \
                   must_change_password = FALSE, provisional_expires_at = NULL, sessions_not_before = $2 \
                   WHERE id = $3")
                .text(c.hash)
                .int(c.now)
                .text(c.user_id),
            )
            .await?;
        if updated == 0 {
            return Ok(false);
        }
        tx.execute(
            q("INSERT INTO password_history (user_id, hash, created_at) VALUES ($1, $2, $3)")
                .text(c.user_id)
                .text(c.hash)
                .int(c.now),
        )
        .await?;
        // Only the newest `keep` entries are ever compared: the older ones go.
        tx.execute(
            q("DELETE FROM password_history WHERE user_id = $1 AND id NOT IN \
               (SELECT id FROM password_history WHERE user_id = $1 ORDER BY id DESC LIMIT $2)")
            .text(c.user_id)
            .int(i64::from(c.keep.max(1))),
        )
        .await?;
        // The other sessions' refresh tokens die with them (RFC 6749 §10.4: a changed
        // credential should not leave long-lived grants behind).
        tx.execute(
            q("DELETE FROM refresh_tokens WHERE user_id = $1 AND (sid IS NULL OR sid <> $2)")
                .text(c.user_id)
                .text(c.keep_sid.unwrap_or_default()),
        )
        .await?;
        if let Some(d) = c.webhook {
            tx.execute(
                q("INSERT INTO webhook_deliveries (id, payload, created_at, attempts, next_attempt_at, claimed_until, \
                   delivered_at, last_error) VALUES ($1, $2, $3, $4, $5, NULL, NULL, NULL)")
                .text(&d.id)
                .text(&d.payload)
                .int(d.created_at)
                .int(d.attempts)
                .int(d.next_attempt_at),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn password_changed_at(&self, user_id: &str) -> Result<Option<i64>, StoreError> {
        let row = self
            .db()
            .optional::<ChangedRow>(
                q("SELECT COALESCE(password_changed_at, updated_at) AS changed_at FROM users WHERE id = $1")
                    .text(user_id),
            )
            .await?;
        Ok(row.map(|r| r.changed_at))
    }
}
