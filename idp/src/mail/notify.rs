//! Mail to a user about their account: rendered in the user's language (their `locale`, French
//! by default) with the theme of their user type, then queued durably and sent (`queue`): a
//! transport failure is retried until the mail goes. Only a failure to render or to store the
//! mail is logged (never its content) and reported to the caller.

use serde::Serialize;

use crate::domain::{Lang, User};
use crate::services::Services;

/// Renders `themes/<theme>/mail/<name>.{html,txt}` with `context` (plus `t` and `lang`) and sends
/// it to the user's address. Returns whether the mail is queued (false: logged).
pub async fn send<C: Serialize>(s: &Services, user: &User, name: &str, context: &C) -> bool {
    let lang = user.locale.as_deref().and_then(Lang::from_tag).unwrap_or_default();
    let theme = s.user_types.get(&user.user_type).and_then(|t| t.theme.as_deref());
    let mail = match s.mail_renderer.render(theme, lang, name, &user.email, context) {
        Ok(mail) => mail,
        Err(err) => {
            tracing::error!(user_id = %user.id, mail = name, error = %err, "cannot render an e-mail");
            return false;
        }
    };
    match super::queue::submit(s, mail).await {
        Ok(()) => true,
        Err(err) => {
            tracing::error!(user_id = %user.id, mail = name, error = %err, "cannot queue an e-mail");
            false
        }
    }
}
