//! Password history and age (issue #4) over the `db` seam: `SqlStore`'s implementation of
//! `PasswordStore`. Hashes only (argon2id), never passwords.

use async_trait::async_trait;

use super::db::q;
use super::sql::SqlStore;
use super::{PasswordStore, StoreError};

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

    async fn change_password(&self, user_id: &str, hash: &str, keep: u32, now: i64) -> Result<bool, StoreError> {
        let mut tx = self.db().begin().await?;
        let updated = tx
            .execute(
                q("UPDATE users SET password_hash = $1, password_changed_at = $2, updated_at = $2 WHERE id = $3")
                    .text(hash)
                    .int(now)
                    .text(user_id),
            )
            .await?;
        if updated == 0 {
            return Ok(false);
        }
        tx.execute(
            q("INSERT INTO password_history (user_id, hash, created_at) VALUES ($1, $2, $3)")
                .text(user_id)
                .text(hash)
                .int(now),
        )
        .await?;
        // Only the newest `keep` entries are ever compared: the older ones go.
        tx.execute(
            q("DELETE FROM password_history WHERE user_id = $1 AND id NOT IN \
               (SELECT id FROM password_history WHERE user_id = $1 ORDER BY id DESC LIMIT $2)")
            .text(user_id)
            .int(i64::from(keep.max(1))),
        )
        .await?;
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
