//! Self-service security in /account (issue #4): changing the password through the real pages
//! (current password, policy, history, confirmation e-mail, the other sessions end and this one
//! stays), wrong current passwords counting towards the lockout, changing the secret question,
//! and the recent sign-ins, which never show another user's.

use std::time::{Duration, Instant};

use idp::account::secret_question::{self, Outcome};
use idp::domain::{Secret, User};
use idp_tests::browser::{Page, query};
use idp_tests::mail::{Mail, read_outbox};
use idp_tests::rp::Rp;
use idp_tests::{Browser, PASSWORD, TestApp};

/// Satisfies the default policy and shares nothing with alice's name, login or e-mail.
const NEW_PASSWORD: &str = "Nouveau-Cheval-Batterie-7";
const WRONG: &str = "Wrong-horse-battery-9";
const LOGIN_FAILED: &str = "Identifiant ou mot de passe incorrect.";
const WRONG_CURRENT: &str = "Le mot de passe actuel est incorrect.";
const PASSWORD_CHANGED: &str = "Votre mot de passe a bien été modifié.";

/// `account::provider` (alice, bob, the first-party shop), with alice.
async fn provider() -> (TestApp, Rp, User) {
    let (app, rp) = crate::account::provider().await;
    let alice = app.services.store.user_by_login("alice.martin").await.unwrap().expect("alice exists");
    (app, rp, alice)
}

/// Opens /account in `browser` and signs `login` in on the way; returns the account page.
async fn open_account(app: &TestApp, browser: &Browser, login: &str, password: &str) -> Page {
    let login_page = browser.follow(&app.issuer, browser.get(&app.url("/account")).await).await;
    assert!(login_page.url.contains("/login?"), "expected the login page, got {}", login_page.url);
    let page = browser.follow(&app.issuer, browser.submit_login(&app.issuer, &login_page, login, password).await).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.url.contains("/account"), "expected the account page, got {}", page.url);
    page
}

/// One sign-in at the shop in `browser`: `Some(code)` on success, `None` when the login page
/// refuses.
async fn sign_in_at_the_shop(app: &TestApp, rp: &Rp, browser: &Browser, login: &str, password: &str) -> Option<String> {
    let pending = rp.start(&[]);
    let login_page = browser.follow(&app.issuer, browser.get(&pending.url).await).await;
    assert!(login_page.url.contains("/login?"), "expected the login page, got {}", login_page.url);
    let answer = browser.submit_login(&app.issuer, &login_page, login, password).await;
    if answer.status == 401 {
        assert!(answer.body.contains(LOGIN_FAILED), "a refusal says why: {}", answer.body);
        return None;
    }
    let callback = browser.follow(&app.issuer, answer).await.location().expect("a redirect back to the shop");
    let code = query(&callback).get("code").cloned().unwrap_or_else(|| panic!("the shop got no code: {callback}"));
    rp.exchange(&code, pending.verifier).await.expect("the shop exchanges the code for tokens");
    Some(code)
}

/// A silent authorization at the shop: `true` for a code, `false` for `login_required`.
async fn is_signed_in(app: &TestApp, rp: &Rp, browser: &Browser) -> bool {
    let silent = rp.start(&[]).url + "&prompt=none";
    let page = browser.follow(&app.issuer, browser.get(&silent).await).await;
    let params = query(&page.location().expect("a silent authorization redirects back"));
    match params.get("error").map(String::as_str) {
        None if params.contains_key("code") => true,
        Some("login_required") => false,
        other => panic!("unexpected answer to prompt=none: {other:?}"),
    }
}

/// Fills in and sends the form of `path` (a page of the account space) with `fields`, as a
/// browser would: the form's own action and CSRF token.
async fn submit(app: &TestApp, browser: &Browser, path: &str, fields: &[(&str, &str)]) -> Page {
    let form = browser.get(&app.url(path)).await;
    assert_eq!(form.status, 200, "{path} is shown: {}", form.body);
    let action = form.form_action(path).unwrap_or_else(|| panic!("a form that posts to {path}"));
    let csrf = form.field("csrf").expect("the form has a CSRF token");
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    browser.post(&app.url(&action), &all).await
}

async fn change_password(app: &TestApp, browser: &Browser, current: &str, new: &str, confirm: &str) -> Page {
    let fields = [("current_password", current), ("new_password", new), ("confirm_password", confirm)];
    submit(app, browser, "/account/password", &fields).await
}

/// The messages of the page's list of failed rules (`password_fields.html`).
fn password_errors(page: &Page) -> String {
    let start = page.body.find("id=\"password-errors\"").unwrap_or_else(|| panic!("no rule errors: {}", page.body));
    let end = start + page.body[start..].find("</ul>").unwrap();
    page.body[start..end].to_owned()
}

async fn stored_hash(app: &TestApp, user: &User) -> String {
    app.services.store.user_by_id(&user.id).await.unwrap().unwrap().password_hash
}

async fn events(app: &TestApp, user: &User, kind: &str) -> usize {
    app.services.store.events_for_user(&user.id, kind, 50).await.unwrap().len()
}

/// The mails to `to` with `subject`, waiting a little for the mail queue.
async fn mails_to(app: &TestApp, to: &str, subject: &str) -> Vec<Mail> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let found: Vec<Mail> = read_outbox(&app.config.outbox_dir)
            .into_iter()
            .filter(|m| m.to.contains(to) && m.subject == subject)
            .collect();
        if !found.is_empty() || Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn assert_changed(page: &Page, what: &str) {
    assert_eq!(page.status, 303, "{what}: {}", page.body);
    let location = page.location().unwrap();
    assert!(location.contains("notice=password_changed"), "{what}: back to /account with a notice, got {location}");
}

fn assert_nothing_changed_page(page: &Page, what: &str) {
    assert_eq!(page.status, 400, "{what}: the form is shown again with a 400: {}", page.body);
    assert!(page.body.contains("action=\"/account/password"), "{what}: the password form again: {}", page.body);
    assert!(page.body.contains("Erreur\u{a0}:"), "{what}: the title says there is an error: {}", page.body);
}

#[tokio::test]
async fn a_password_changed_from_the_account_works_at_a_relying_party_and_the_old_one_no_longer_does() {
    let (app, rp, alice) = provider().await;
    let browser = Browser::new();
    let account = open_account(&app, &browser, "alice.martin", PASSWORD).await;
    assert!(account.body.contains("href=\"/account/password"), "the account page links to the password page");

    let page = change_password(&app, &browser, PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;

    assert_changed(&page, "change");
    let back = browser.follow(&app.issuer, page).await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert!(back.body.contains(PASSWORD_CHANGED), "the account page confirms: {}", back.body);
    assert!(sign_in_at_the_shop(&app, &rp, &Browser::new(), "alice.martin", PASSWORD).await.is_none(), "old password");
    assert!(sign_in_at_the_shop(&app, &rp, &Browser::new(), "alice.martin", NEW_PASSWORD).await.is_some(), "new one");
    assert_eq!(events(&app, &alice, "password_changed").await, 1, "the change is audited");
}

#[tokio::test]
async fn changing_the_password_ends_the_users_other_sessions_and_keeps_this_one() {
    let (app, rp, _) = provider().await;
    let phone = Browser::new();
    sign_in_at_the_shop(&app, &rp, &phone, "alice.martin", PASSWORD).await.unwrap();
    // Already signed in at the provider: /account opens without the login page.
    let phone_account = phone.follow(&app.issuer, phone.get(&app.url("/account")).await).await;
    assert!(phone_account.status == 200 && phone_account.url.contains("/account"), "{}", phone_account.url);
    let bobs_browser = Browser::new();
    sign_in_at_the_shop(&app, &rp, &bobs_browser, "bob.durand", PASSWORD).await.unwrap();
    let laptop = Browser::new();
    open_account(&app, &laptop, "alice.martin", PASSWORD).await;

    let page = change_password(&app, &laptop, PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;

    assert_changed(&page, "change from the laptop");
    assert!(!is_signed_in(&app, &rp, &phone).await, "the phone's provider session ended");
    let phone_account = phone.get(&app.url("/account")).await;
    assert_eq!(phone_account.status, 303, "the phone's account space ended too: {}", phone_account.body);
    assert!(phone_account.location().unwrap().contains("/authorize?"), "it asks to sign in again");
    assert!(is_signed_in(&app, &rp, &laptop).await, "the laptop stays signed in");
    let laptop_account = laptop.get(&app.url("/account")).await;
    assert_eq!(laptop_account.status, 200, "the laptop's account space stays open: {}", laptop_account.body);
    assert_eq!(laptop_account.body.matches("Session actuelle").count(), 1, "{}", laptop_account.body);
    assert!(!laptop_account.body.contains("action=\"/account/sessions/revoke\""), "no other session is left");
    assert!(is_signed_in(&app, &rp, &bobs_browser).await, "another user's session is not touched");
}

#[tokio::test]
async fn changing_the_password_sends_a_confirmation_email_in_french() {
    let (app, _, _) = provider().await;
    let browser = Browser::new();
    open_account(&app, &browser, "alice.martin", PASSWORD).await;

    let page = change_password(&app, &browser, PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;

    assert_changed(&page, "change");
    let mails = mails_to(&app, "alice.martin@example.org", "Votre mot de passe a été modifié").await;
    assert_eq!(mails.len(), 1, "one confirmation e-mail; the outbox holds {:?}", read_outbox(&app.config.outbox_dir));
    assert!(mails[0].text.contains("alice.martin"), "the mail names the account: {}", mails[0].text);
    assert!(mails[0].text.contains("a été modifié le"), "the mail says when, in French: {}", mails[0].text);
    assert!(!mails[0].text.contains(NEW_PASSWORD), "the mail never contains the password");
}

#[tokio::test]
async fn a_wrong_current_password_is_refused_and_nothing_changes() {
    let (app, rp, alice) = provider().await;
    let browser = Browser::new();
    open_account(&app, &browser, "alice.martin", PASSWORD).await;
    let before = stored_hash(&app, &alice).await;

    let page = change_password(&app, &browser, WRONG, NEW_PASSWORD, NEW_PASSWORD).await;

    assert_nothing_changed_page(&page, "wrong current password");
    assert!(page.body.contains(WRONG_CURRENT), "the page says the current password is wrong: {}", page.body);
    assert!(!page.body.contains("id=\"password-errors\""), "the new password is not judged: {}", page.body);
    assert_eq!(stored_hash(&app, &alice).await, before);
    assert!(sign_in_at_the_shop(&app, &rp, &Browser::new(), "alice.martin", PASSWORD).await.is_some());
}

#[tokio::test]
async fn a_mismatched_confirmation_is_refused_and_nothing_changes() {
    let (app, _, alice) = provider().await;
    let browser = Browser::new();
    open_account(&app, &browser, "alice.martin", PASSWORD).await;
    let before = stored_hash(&app, &alice).await;

    let page = change_password(&app, &browser, PASSWORD, NEW_PASSWORD, "Nouveau-Cheval-Batterie-8").await;

    assert_nothing_changed_page(&page, "mismatch");
    assert!(password_errors(&page).contains("Les deux mots de passe ne sont pas identiques."), "{}", page.body);
    assert_eq!(stored_hash(&app, &alice).await, before);
    assert_eq!(events(&app, &alice, "password_changed").await, 0);
}

#[tokio::test]
async fn a_password_breaking_a_rule_shows_the_rules_message_and_nothing_changes() {
    let (app, _, alice) = provider().await;
    let browser = Browser::new();
    open_account(&app, &browser, "alice.martin", PASSWORD).await;
    let before = stored_hash(&app, &alice).await;

    let page = change_password(&app, &browser, PASSWORD, "court7", "court7").await;

    assert_nothing_changed_page(&page, "rule violation");
    let errors = password_errors(&page);
    assert!(errors.contains("Au moins 8 caractères"), "the length rule's message: {errors}");
    assert!(errors.contains("Au moins 1 lettre majuscule"), "the upper-case rule's message: {errors}");
    assert!(!errors.contains("Au moins 1 chiffre"), "a rule that holds is not listed: {errors}");
    assert_eq!(stored_hash(&app, &alice).await, before);
    assert_eq!(events(&app, &alice, "password_changed").await, 0);
    assert!(mails_to(&app, "alice.martin@example.org", "Votre mot de passe a été modifié").await.is_empty());
}

#[tokio::test]
async fn one_of_the_last_three_passwords_is_refused() {
    let (app, _, alice) = provider().await;
    let browser = Browser::new();
    open_account(&app, &browser, "alice.martin", PASSWORD).await;
    assert_changed(&change_password(&app, &browser, PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await, "first change");
    let before = stored_hash(&app, &alice).await;

    let page = change_password(&app, &browser, NEW_PASSWORD, PASSWORD, PASSWORD).await;

    assert_nothing_changed_page(&page, "a recent password");
    assert!(
        password_errors(&page).contains("Différent de vos 3 derniers mots de passe"),
        "the history rule's message: {}",
        page.body
    );
    assert_eq!(stored_hash(&app, &alice).await, before);
    let same = change_password(&app, &browser, NEW_PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;
    assert!(password_errors(&same).contains("Différent de vos 3 derniers mots de passe"), "the current one either");
}

#[tokio::test]
async fn wrong_current_passwords_count_towards_the_lockout() {
    let (app, rp, alice) = provider().await;
    let browser = Browser::new();
    open_account(&app, &browser, "alice.martin", PASSWORD).await;

    for i in 1..=3 {
        let page = change_password(&app, &browser, WRONG, NEW_PASSWORD, NEW_PASSWORD).await;
        assert!(page.body.contains(WRONG_CURRENT), "wrong current password #{i}: {}", page.body);
    }
    let locked = change_password(&app, &browser, PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;

    assert_eq!(locked.status, 429, "{}", locked.body);
    assert!(locked.body.contains("votre compte est verrouillé temporairement"), "{}", locked.body);
    assert!(sign_in_at_the_shop(&app, &rp, &Browser::new(), "alice.martin", PASSWORD).await.is_none(), "locked");
    assert_eq!(events(&app, &alice, "password_changed").await, 0);
    assert_eq!(events(&app, &alice, "sign_in_failed").await, 5, "three wrong, one refused here, one at the shop");
    app.clock.advance(20 * 60);
    // The account space's own token has expired meanwhile: the provider session signs it in again.
    let account = browser.follow(&app.issuer, browser.get(&app.url("/account")).await).await;
    assert!(account.url.contains("/account") && account.status == 200, "{}: {}", account.url, account.body);
    let page = change_password(&app, &browser, PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_changed(&page, "once the lock is over");
}

#[tokio::test]
async fn a_new_secret_question_is_checked_with_its_new_answer() {
    let (app, _, alice) = provider().await;
    let s = &app.services;
    secret_question::set(s, &alice.id, "Quel est mon plat préféré ?", &Secret::new("Choucroute")).await.unwrap();
    let browser = Browser::new();
    let account = open_account(&app, &browser, "alice.martin", PASSWORD).await;
    assert!(account.body.contains("href=\"/account/secret-question"), "the account page links to the page");
    let question = "Dans quelle ville êtes-vous né(e) ?";

    let fields = [
        ("current_password", PASSWORD),
        ("secret_question_choice", question),
        ("secret_question_custom", ""),
        ("secret_answer", "  Saint-Étienne "),
    ];
    let page = submit(&app, &browser, "/account/secret-question", &fields).await;

    assert_eq!(page.status, 303, "{}", page.body);
    let back = browser.follow(&app.issuer, page).await;
    assert!(back.body.contains("Votre question secrète a bien été modifiée."), "{}", back.body);
    assert_eq!(secret_question::question_of(s, &alice.id).await.unwrap().as_deref(), Some(question));
    assert_eq!(secret_question::check(s, &alice.id, &Secret::new("saint-etienne")).await.unwrap(), Outcome::Correct);
    assert_eq!(secret_question::check(s, &alice.id, &Secret::new("Choucroute")).await.unwrap(), Outcome::Wrong);
    assert_eq!(events(&app, &alice, "secret_question_set").await, 1, "the change is audited");
}

#[tokio::test]
async fn a_secret_question_change_needs_the_current_password_and_a_valid_answer() {
    let (app, _, alice) = provider().await;
    let s = &app.services;
    secret_question::set(s, &alice.id, "Quel est mon plat préféré ?", &Secret::new("Choucroute")).await.unwrap();
    let browser = Browser::new();
    open_account(&app, &browser, "alice.martin", PASSWORD).await;
    let own = [("secret_question_choice", "custom"), ("secret_question_custom", "Mon premier concert ?")];

    let wrong = submit(
        &app,
        &browser,
        "/account/secret-question",
        &[own[0], own[1], ("current_password", WRONG), ("secret_answer", "Téléphone")],
    )
    .await;
    let short = submit(
        &app,
        &browser,
        "/account/secret-question",
        &[own[0], own[1], ("current_password", PASSWORD), ("secret_answer", "x")],
    )
    .await;

    assert_eq!(wrong.status, 400, "{}", wrong.body);
    assert!(wrong.body.contains(WRONG_CURRENT), "{}", wrong.body);
    assert!(wrong.body.contains("value=\"Mon premier concert ?\""), "the question typed is kept: {}", wrong.body);
    assert_eq!(short.status, 400, "{}", short.body);
    assert!(short.body.contains("La réponse doit comporter de 2 à 100 caractères."), "{}", short.body);
    assert_eq!(
        secret_question::question_of(s, &alice.id).await.unwrap().as_deref(),
        Some("Quel est mon plat préféré ?")
    );
    assert_eq!(secret_question::check(s, &alice.id, &Secret::new("choucroute")).await.unwrap(), Outcome::Correct);
}

#[tokio::test]
async fn recent_activity_lists_a_failed_and_a_successful_sign_in_and_never_another_users() {
    let (app, rp, _) = provider().await;
    // Bob signs in with Firefox on Linux; Alice's browser sends no User-Agent ("Navigateur
    // inconnu"), so Bob's browser showing up on her page would be his sign-ins leaking.
    let bobs_browser =
        Browser::with_user_agent("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0");
    assert!(sign_in_at_the_shop(&app, &rp, &bobs_browser, "bob.durand", WRONG).await.is_none());
    assert!(sign_in_at_the_shop(&app, &rp, &bobs_browser, "bob.durand", PASSWORD).await.is_some());
    assert!(sign_in_at_the_shop(&app, &rp, &Browser::new(), "alice.martin", WRONG).await.is_none());

    let page = open_account(&app, &Browser::new(), "alice.martin", PASSWORD).await;

    assert!(page.body.contains("Activité récente"), "{}", page.body);
    assert_eq!(page.body.matches("class=\"activity__event").count(), 2, "alice's two sign-ins: {}", page.body);
    assert_eq!(page.body.matches("activity__event is-failed").count(), 1, "one failure, marked: {}", page.body);
    assert!(page.body.contains("Échec") && page.body.contains("Réussie"), "{}", page.body);
    assert!(page.body.contains("127.0.0.1"), "the address is shown: {}", page.body);
    assert!(page.body.contains("Navigateur inconnu"), "her browser is listed: {}", page.body);
    assert!(!page.body.contains("Firefox sur Linux"), "never another user's sign-ins: {}", page.body);
}

#[tokio::test]
async fn closing_a_session_from_the_account_is_audited() {
    let (app, rp, alice) = provider().await;
    let phone = Browser::new();
    sign_in_at_the_shop(&app, &rp, &phone, "alice.martin", PASSWORD).await.unwrap();
    let laptop = Browser::new();
    let account = open_account(&app, &laptop, "alice.martin", PASSWORD).await;

    let page = laptop
        .post(
            &app.url("/account/sessions/revoke"),
            &[("csrf", &account.field("csrf").unwrap()), ("session_id", &account.field("session_id").unwrap())],
        )
        .await;

    assert_eq!(page.status, 303, "{}", page.body);
    assert!(!is_signed_in(&app, &rp, &phone).await);
    let ended = app.services.store.events_for_user(&alice.id, "sessions_ended", 10).await.unwrap();
    assert_eq!(ended.len(), 1);
    assert!(ended[0].detail.contains("closed_from_account"), "{}", ended[0].detail);
}

#[tokio::test]
async fn the_security_pages_need_an_account_session_and_a_csrf_token() {
    let (app, _, alice) = provider().await;
    let stranger = Browser::new();
    for path in ["/account/password", "/account/secret-question"] {
        let page = stranger.get(&app.url(path)).await;
        assert_eq!(page.status, 303, "{path}: {}", page.body);
        assert!(page.location().unwrap().contains("/authorize?"), "{path} asks to sign in");
    }
    let browser = Browser::new();
    open_account(&app, &browser, "alice.martin", PASSWORD).await;
    let before = stored_hash(&app, &alice).await;

    let forged = browser
        .post(
            &app.url("/account/password"),
            &[("current_password", PASSWORD), ("new_password", NEW_PASSWORD), ("confirm_password", NEW_PASSWORD)],
        )
        .await;

    assert_eq!(forged.status, 403, "{}", forged.body);
    assert_eq!(stored_hash(&app, &alice).await, before);
}

#[tokio::test]
async fn the_security_pages_are_in_english_when_asked() {
    let (app, _, alice) = provider().await;
    let s = &app.services;
    secret_question::set(s, &alice.id, "Quel est mon plat préféré ?", &Secret::new("Choucroute")).await.unwrap();
    let browser = Browser::new();
    open_account(&app, &browser, "alice.martin", PASSWORD).await;

    let account = browser.get(&app.url("/account?lang=en")).await;
    let password = browser.get(&app.url("/account/password?lang=en")).await;
    let question = browser.get(&app.url("/account/secret-question?lang=en")).await;

    assert_eq!(account.status, 200, "{}", account.body);
    assert!(
        account.body.contains("Recent activity") && account.body.contains("Change my password"),
        "{}",
        account.body
    );
    assert_eq!(password.status, 200, "{}", password.body);
    assert!(password.body.contains("Current password") && password.body.contains("At least 8 characters"));
    assert_eq!(question.status, 200, "{}", question.body);
    assert!(question.body.contains("Your current question:") && question.body.contains("What was the name of your"));
    let wrong = browser
        .post(
            &app.url(&password.form_action("/account/password").unwrap()),
            &[
                ("csrf", &password.field("csrf").unwrap()),
                ("current_password", WRONG),
                ("new_password", NEW_PASSWORD),
                ("confirm_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert!(wrong.body.contains("The current password is incorrect."), "{}", wrong.body);
}
