//! Mail to a user about their account: rendered in the language of the flow that sends it (the
//! page the user acted on, issue #13 item 12), else in the user's (their `locale`, French by
//! default), with the theme of their user type, then queued durably and sent (`queue`): a
//! transport failure is retried until the mail goes. Only a failure to render or to store the
//! mail is logged (never its content) and reported to the caller.

use serde::Serialize;

use crate::domain::{Lang, User};
use crate::services::Services;

/// Renders `themes/<theme>/mail/<name>.{html,txt}` with `context` (plus `t` and `lang`) and sends
/// it to the user's address, in `flow_lang` (the page's language when the user acted on a page;
/// `None` for a job or an administrator acting on the account). Returns whether the mail is
/// queued (false: logged).
pub async fn send<C: Serialize>(s: &Services, user: &User, flow_lang: Option<Lang>, name: &str, context: &C) -> bool {
    let lang = flow_lang.or_else(|| user.locale.as_deref().and_then(Lang::from_tag)).unwrap_or_default();
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
