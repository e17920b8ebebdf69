//! The password-expiry warning (issue #4: "expiry after D days with a warning e-mail before"):
//! for every user type with `max_age_days`, users whose password is older than
//! `max_age_days - expiry_warning_days` and who were not warned since their last change get one
//! `password_expiry_warning` e-mail. `app.rs` runs `run_once` every
//! `password_expiry_check_interval`; the forced change at sign-in lives elsewhere
//! (`password_age`, first-login flow). Several nodes may run it at once: a user is marked
//! (conditionally) before the mail is queued, so only one node sends it.

use serde::Serialize;
use serde_json::json;

use super::audit;
use crate::mail::notify;
use crate::services::{InfraError, Services};
use crate::session::ClientInfo;

/// Users handled per query: the job loops until a type has no one left.
const BATCH: i64 = 200;

/// Context of the `password_expiry_warning` e-mail.
#[derive(Serialize)]
struct ExpiryWarning<'a> {
    name: String,
    login: &'a str,
    expires: i64,
    change_url: String,
    sign_in_url: String,
}

/// Sends the warnings due now; returns how many were sent.
pub async fn run_once(s: &Services) -> Result<usize, InfraError> {
    let now = s.now();
    let info = ClientInfo { user_agent: "expiry-warning-job".into(), ip: "-".into(), lang: None };
    let mut sent = 0;
    for user_type in s.user_types.all() {
        let p = &user_type.password_policy;
        let Some(max_age_days) = p.max_age_days else { continue };
        let max_age = i64::from(max_age_days) * 86_400;
        let warn_before = i64::from(p.expiry_warning_days.min(max_age_days)) * 86_400;
        let changed_before = now - (max_age - warn_before);
        loop {
            let due = s.store.users_due_expiry_warning(&user_type.id, changed_before, BATCH).await?;
            let done = (due.len() as i64) < BATCH;
            for user in &due {
                // Marked first, even if the mail could not be queued (logged by `notify`): it
                // must not be retried every interval; the forced change at sign-in still
                // protects the account.
                if !s.store.mark_expiry_warned(&user.id, now).await? {
                    continue;
                }
                let changed_at = s.store.password_changed_at(&user.id).await?.unwrap_or(user.updated_at);
                let context = ExpiryWarning {
                    name: user.display_name(),
                    login: &user.login,
                    expires: changed_at + max_age,
                    change_url: s.endpoint("/account/password"),
                    sign_in_url: s.endpoint("/account"),
                };
                notify::send(s, user, None, "password_expiry_warning", &context).await;
                audit::record(s, Some(&user.id), audit::EXPIRY_WARNING_SENT, &info, json!({})).await?;
                sent += 1;
            }
            if done {
                break;
            }
        }
    }
    Ok(sent)
}
