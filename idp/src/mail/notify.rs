//! Mail to a user about their account: rendered in the user's language (their `locale`, French
//! by default) with the theme of their user type, then sent. The durable queue with retries is
//! issue #5: until then a failed render or send is logged (never the content) and the flow that
//! asked for the mail goes on: a mail is a notice, never the only record of what happened.

use serde::Serialize;

use crate::domain::{Lang, User};
use crate::services::Services;

/// Renders `themes/<theme>/mail/<name>.{html,txt}` with `context` (plus `t` and `lang`) and sends
/// it to the user's address. Returns whether the mail was handed to the transport.
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
    match s.mailer.send(&mail).await {
        Ok(()) => true,
        Err(err) => {
            tracing::error!(user_id = %user.id, mail = name, error = %err, "cannot send an e-mail");
            false
        }
    }
}
