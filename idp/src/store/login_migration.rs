//! The data step of `idp migrate` for logins (issue #10, item 6), after the SQL migrations:
//! logins written before the PRECIS rule are brought to it and every login gets its skeleton,
//! as `domain::login::plan_migration` decides; what cannot be done is reported, not merged.

use super::StoreError;
use super::db::q;
use super::sql::SqlStore;
use crate::domain::login::{LoginFinding, StoredLogin, plan_migration};

#[derive(sqlx::FromRow)]
struct StoredLoginRow {
    id: String,
    login: String,
    login_skeleton: Option<String>,
}

impl SqlStore {
    /// Normalises the stored logins and fills in their skeletons, in one transaction (a login
    /// created meanwhile by another node makes it fail whole: run it again); returns the rows
    /// left as they were, and why. Idempotent.
    pub async fn migrate_logins(&self) -> Result<Vec<LoginFinding>, StoreError> {
        let rows = self
            .db()
            .all::<StoredLoginRow>(q("SELECT id, login, login_skeleton FROM users ORDER BY created_at, id"))
            .await?;
        let rows: Vec<StoredLogin> =
            rows.into_iter().map(|r| StoredLogin { id: r.id, login: r.login, skeleton: r.login_skeleton }).collect();
        let plan = plan_migration(&rows);
        if plan.updates.is_empty() {
            return Ok(plan.findings);
        }
        let mut tx = self.db().begin().await?;
        // Skeletons that move are cleared first, so that the UNIQUE index never sees one twice
        // in the middle of the transaction.
        for update in &plan.updates {
            tx.execute(q("UPDATE users SET login_skeleton = NULL WHERE id = $1").text(&update.id)).await?;
        }
        for update in &plan.updates {
            tx.execute(
                q("UPDATE users SET login = $1, login_skeleton = $2 WHERE id = $3")
                    .text(&update.login)
                    .opt_text(update.skeleton.clone())
                    .text(&update.id),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(plan.findings)
    }
}
