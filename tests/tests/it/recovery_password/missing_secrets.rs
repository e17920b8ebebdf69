//! An account whose type requires a secret question it never set (issue #13, item 2):
//! `missing_secret_notice = "mail"` (an unknown login's pages, the message by mail) or "page".

use super::*;

/// `missing_secret_notice` of the Bonus Eco type.
fn bonus_eco_notice(raw: &mut idp::config::RawConfig, notice: MissingSecretNotice) {
    let bonus = raw.user_types.iter_mut().find(|t| t.id == "bonus_eco").unwrap();
    bonus.recovery.missing_secret_notice = notice;
}

#[tokio::test]
async fn bonus_eco_without_secrets_set_to_page_shows_the_support_message_and_sends_nothing() {
    let p = provider(|raw| bonus_eco_notice(raw, MissingSecretNotice::Page)).await;
    p.user("pro.neuf", "pro.neuf@example.org", "bonus_eco").await;
    let browser = Browser::new();

    let first = p.first_page(&browser, "bonus_eco").await;
    let page = p.next(&browser, &p.identify(&browser, &first, "pro.neuf", None).await).await;
    let body = text(&page);
    assert!(
        body.contains("L'ensemble des secrets (question/réponse secrètes) n'étant pas renseigné pour votre compte utilisateur, merci de bien vouloir contacter le service assistance")
            && body.contains("0 800 74 74 00"),
        "{body}"
    );
    assert!(p.all_mails().is_empty(), "nothing sent");
    assert!(p.accepts("pro.neuf", PASSWORD).await, "the password is untouched");
}

const MISSING_SECRET_SUBJECT: &str = "Votre demande n'a pas pu aboutir";
const SECRETS_NOT_SET: &str =
    "L'ensemble des secrets (question/réponse secrètes) n'étant pas renseigné pour votre compte utilisateur";

/// A page with what differs between two runs of the same steps blanked: hidden values (CSRF
/// tokens, captcha ids) and the captcha's operation.
fn comparable(page: &Page) -> String {
    let mut out = String::new();
    let mut rest = text(page);
    while let Some(at) = rest.find("value=\"") {
        out.push_str(&rest[..at + 7]);
        rest = rest[at + 7..].split_once('"').map(|(_, after)| format!("\"{after}")).unwrap_or_default();
    }
    out.push_str(&rest);
    out
}

/// The pages of a Bonus Eco recovery for `login` up to "Procédure terminée", with a wrong answer
/// to whatever question is asked (the owner does not know one: none was set).
async fn bonus_eco_pages(p: &Provider, login: &str) -> Vec<Page> {
    let browser = Browser::new();
    let first = p.first_page(&browser, "bonus_eco").await;
    let question = p.next(&browser, &p.identify(&browser, &first, login, None).await).await;
    let done = p.answer_question(&browser, &question, "je ne sais pas").await;
    vec![question, done]
}

#[tokio::test]
async fn by_default_an_account_without_secrets_gets_an_unknown_logins_pages_and_its_owner_the_message_by_mail() {
    let p = provider(|_| {}).await;
    p.user("pro.neuf", "pro.neuf@example.org", "bonus_eco").await;

    let known = bonus_eco_pages(&p, "pro.neuf").await;
    let mails = p.all_mails();
    let s = &p.app.services;
    let actor = idp::admin::actor::Actor::cli();
    idp::admin::users::delete_user(s, &actor, &idp::admin::users::UserRef::Login("pro.neuf".into())).await.unwrap();
    let unknown = bonus_eco_pages(&p, "pro.neuf").await;

    for (step, (k, u)) in ["the question", "the last page"].iter().zip(known.iter().zip(&unknown)) {
        assert_eq!(k.status, u.status, "{step}");
        assert_eq!(comparable(k), comparable(u), "{step}: the account's page differs from an unknown login's");
        assert!(!text(k).contains(SECRETS_NOT_SET), "{step}: the page tells: {}", k.body);
    }
    assert!(text(&known[0]).contains("secret_answer"), "a (decoy) question is asked: {}", known[0].body);
    assert!(text(&known[1]).contains(MAIL_SENT), "{}", known[1].body);
    assert_eq!(mails.len(), 1, "one mail, the notice: {mails:#?}");
    let notice = &mails[0];
    assert_eq!(notice.to, "pro.neuf@example.org");
    assert_eq!(notice.subject, MISSING_SECRET_SUBJECT);
    let html = notice.html.replace("&#x27;", "'").replace("&#x2F;", "/");
    for (part, body) in [("text", &notice.text), ("html", &html)] {
        assert!(body.contains(SECRETS_NOT_SET) && body.contains("0 800 74 74 00"), "{part}: {body}");
        assert!(body.contains("pro.neuf"), "{part} names the account: {body}");
    }
    assert_eq!(p.all_mails().len(), 1, "nothing is sent for the unknown login");
}
