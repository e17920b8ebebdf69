//! The mails of a recovery are in the language of its pages (issue #13, item 12): the
//! relying party's `ui_locales`, or the language switch, not French by default; and their
//! times are in the portal's zone.

use super::{CHANGED_SUBJECT, CODE_SUBJECT, NEW_PASSWORD, Provider, newest_code, provider, text};
use idp::clock::Clock;
use idp_tests::browser::Page;
use idp_tests::{Browser, mail::Mail};

const EN_CODE_SUBJECT: &str = "Your security code";
const EN_CHANGED_SUBJECT: &str = "Your password was changed";

/// Posts `fields` to the page's own form (its `?lang=`), as a browser would, and follows the
/// redirect to the next step.
async fn step(p: &Provider, browser: &Browser, page: &Page, fields: &[(&str, &str)]) -> Page {
    let action = page.form_action("/recovery/password").expect("a recovery form");
    let csrf = page.field("csrf").expect("a CSRF token");
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    let answer = browser.post(&p.url(&action), &form).await;
    p.next(browser, &answer).await
}

/// From the first page (e-mail address asked, no captcha: "usager") to the success page.
async fn recover(p: &Provider, browser: &Browser, first: &Page, code_subject: &str) -> Page {
    let user_type = first.field("user_type").expect("the user type");
    let mut fields = vec![("action", "identify"), ("user_type", user_type.as_str())];
    fields.push(("identifier", "claire.dupont@gmail.com"));
    let request_id = first.field("request_id");
    if let Some(id) = &request_id {
        fields.push(("request_id", id));
    }
    let code_page = step(p, browser, first, &fields).await;
    assert_eq!(p.mails(code_subject).len(), 1, "one code mail titled {code_subject:?}: {:#?}", p.all_mails());
    let code = code_of(&p.mails(code_subject)[0]);
    let policy = step(p, browser, &code_page, &[("action", "verify"), ("code", &code)]).await;
    let fields = [("action", "password"), ("new_password", NEW_PASSWORD), ("confirm_password", NEW_PASSWORD)];
    step(p, browser, &policy, &fields).await
}

fn code_of(mail: &Mail) -> String {
    mail.text
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit()))
        .expect("a 6-digit code")
        .to_owned()
}

/// `mail_date_time_format` of the portal's zone for Unix time `t`.
fn portal_date_time(t: i64, pattern: &str) -> String {
    let iso = idp::clock::LocalTimeZone::default().local_iso(t);
    pattern
        .replace("{Y}", &iso[..4])
        .replace("{m}", &iso[5..7])
        .replace("{d}", &iso[8..10])
        .replace("{H}", &iso[11..13])
        .replace("{M}", &iso[14..16])
}

fn assert_english(mail: &Mail) {
    assert!(mail.html.contains("<html lang=\"en\">"), "the HTML part is not English: {}", mail.html);
    assert!(mail.text.starts_with("Hello"), "the text part is not English: {}", mail.text);
    assert!(!mail.text.contains("Bonjour") && !mail.html.contains("Bonjour"), "French in an English mail");
}

#[tokio::test]
async fn a_recovery_started_in_english_by_the_relying_party_sends_english_mails_with_paris_times() {
    let p = provider(|_| {}).await;
    p.user("claire.dupont", "claire.dupont@gmail.com", "usager").await;
    let browser = Browser::new();
    let login =
        browser.follow(&p.app.issuer, browser.get(&(p.rp.start(&["profile"]).url + "&ui_locales=en")).await).await;
    assert!(login.body.contains("<html lang=\"en\""), "the login page is English: {}", login.body);
    let lost = browser.forgot_password(&p.app.issuer, &login, "").await.location().expect("the lost-password button");
    let selector = browser.get(&p.url(&lost)).await;
    let first = browser.get(&p.url(&super::href(&selector, "/recovery/password?user_type=usager").unwrap())).await;
    assert!(first.body.contains("<html lang=\"en\""), "the recovery page is English: {}", first.body);

    let done = recover(&p, &browser, &first, EN_CODE_SUBJECT).await;
    assert!(done.body.contains("<html lang=\"en\""), "{}", done.body);

    assert!(p.mails(CODE_SUBJECT).is_empty(), "no French code mail");
    assert_english(&p.mails(EN_CODE_SUBJECT)[0]);
    let changed = p.mails(EN_CHANGED_SUBJECT);
    assert_eq!(changed.len(), 1, "the English confirmation: {:#?}", p.all_mails());
    assert_english(&changed[0]);
    // "changed on 2026-12-03 at 14:10 (Paris time)": the moment of the change, in Paris.
    let when = portal_date_time(p.app.clock.now(), "{Y}-{m}-{d} at {H}:{M}");
    assert!(changed[0].text.contains(&format!("{when} (Paris time)")), "{when} not in {}", changed[0].text);
}

#[tokio::test]
async fn a_recovery_switched_to_english_sends_english_mails() {
    let p = provider(|_| {}).await;
    p.user("claire.dupont", "claire.dupont@gmail.com", "usager").await;
    let browser = Browser::new();
    let french = p.first_page(&browser, "usager").await;
    let switch = french.link_with("hreflang=\"en\"").expect("the language switch");
    let first = browser.get(&p.url(&switch)).await;
    assert!(first.body.contains("<html lang=\"en\""), "the switched page is English: {}", first.body);

    recover(&p, &browser, &first, EN_CODE_SUBJECT).await;

    assert_english(&p.mails(EN_CODE_SUBJECT)[0]);
    assert_english(&p.mails(EN_CHANGED_SUBJECT)[0]);
}

#[tokio::test]
async fn a_recovery_in_french_sends_french_mails_even_to_an_english_reading_browser() {
    let p = provider(|_| {}).await;
    p.user("claire.dupont", "claire.dupont@gmail.com", "usager").await;
    let browser = Browser::new();
    // The relying party asked for French; the browser would prefer English.
    let url = p.rp.start(&["profile"]).url + "&ui_locales=fr";
    let login = browser.follow(&p.app.issuer, browser.get_with(&url, &[("accept-language", "en")]).await).await;
    let lost = browser.forgot_password(&p.app.issuer, &login, "").await.location().expect("the lost-password button");
    let selector = browser.get_with(&p.url(&lost), &[("accept-language", "en")]).await;
    let usager = p.url(&super::href(&selector, "/recovery/password?user_type=usager").unwrap());
    let first = browser.get_with(&usager, &[("accept-language", "en")]).await;
    assert!(text(&first).contains("Adresse électronique"), "the recovery page is French: {}", first.body);

    recover(&p, &browser, &first, CODE_SUBJECT).await;

    let code = &p.mails(CODE_SUBJECT)[0];
    assert!(code.html.contains("<html lang=\"fr\">") && code.text.starts_with("Bonjour"), "{}", code.text);
    assert_eq!(newest_code(&p, &[]), code_of(code));
    let changed = &p.mails(CHANGED_SUBJECT)[0];
    let when = portal_date_time(p.app.clock.now(), "{d}/{m}/{Y} à {H}\u{a0}h\u{a0}{M}");
    assert!(changed.text.contains(&format!("{when} (heure de Paris)")), "{when} not in {}", changed.text);
}
