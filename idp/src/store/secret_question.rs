//! Secret questions (issue #4) over the `db` seam: `SqlStore`'s implementation of
//! `SecretQuestionStore`, one row per user, the answer as an argon2id hash only.

use async_trait::async_trait;

use super::db::q;
use super::sql::SqlStore;
use super::{SecretQuestionStore, StoreError, StoredSecretQuestion};

#[derive(sqlx::FromRow)]
struct Row {
    user_id: String,
    question: String,
    answer_hash: String,
    updated_at: i64,
}

#[async_trait]
impl SecretQuestionStore for SqlStore {
    async fn set_secret_question(
        &self,
        user_id: &str,
        question: &str,
        answer_hash: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.db()
            .execute(
                q("INSERT INTO secret_questions (user_id, question, answer_hash, updated_at) VALUES ($1, $2, $3, $4) \
                   ON CONFLICT (user_id) DO UPDATE SET question = excluded.question, \
                   answer_hash = excluded.answer_hash, updated_at = excluded.updated_at")
                .text(user_id)
                .text(question)
                .text(answer_hash)
                .int(now),
            )
            .await
            .map(|_| ())
    }

    async fn secret_question(&self, user_id: &str) -> Result<Option<StoredSecretQuestion>, StoreError> {
        let row = self
            .db()
            .optional::<Row>(
                q("SELECT user_id, question, answer_hash, updated_at FROM secret_questions WHERE user_id = $1")
                    .text(user_id),
            )
            .await?;
        Ok(row.map(|r| StoredSecretQuestion {
            user_id: r.user_id,
            question: r.question,
            answer_hash: r.answer_hash,
            updated_at: r.updated_at,
        }))
    }
}
