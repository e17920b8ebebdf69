//! Account activation (issue #4): accounts created by an administrator start with a provisional
//! password sent by e-mail (72 h, changed at first sign-in) or with a single-use activation link
//! ("Activer mon compte", 72 h); an administrator reset mails a new provisional password; and
//! passwords of user types with `max_age_days` get one warning e-mail before they expire.

use idp::account::expiry_warning;
use idp::account::login::{self, LoginOutcome};
use idp::account::password_change::{self, Context, Reason};
use idp::admin::{self, UserSpec, UserStart};
use idp::domain::user_type::UserType;
use idp::domain::{Secret, User};
use idp::session::ClientInfo;
use idp_tests::browser::Page;
use idp_tests::mail::{Mail, read_outbox};
use idp_tests::{Browser, PASSWORD, Setup, TestApp};

const HOURS_72: i64 = 72 * 3600;
const DAY: i64 = 86_400;
const NEW_PASSWORD: &str = "Lanterne-Verte-Quinze-42";

fn spec(login: &str) -> UserSpec {
    UserSpec {
        login: login.into(),
        email: format!("{login}@example.org"),
        given_name: "Camille".into(),
        family_name: "Durand".into(),
        ..UserSpec::default()
    }
}

fn outbox(app: &TestApp) -> Vec<Mail> {
    read_outbox(&app.config.outbox_dir)
}

fn mails_with_subject(app: &TestApp, subject: &str) -> Vec<Mail> {
    outbox(app).into_iter().filter(|m| m.subject == subject).collect()
}

async fn accepts(app: &TestApp, login: &str, password: &str) -> bool {
    let outcome = login::authenticate(&app.services, login, &Secret::new(password), &ClientInfo::default(), "test")
        .await
        .unwrap();
    matches!(outcome, LoginOutcome::Success { .. })
}

/// The password of the one `provisional_password` mail sent so far (the line under
/// "Votre mot de passe provisoire :").
fn provisional_password(app: &TestApp) -> String {
    let mails = mails_with_subject(app, "Votre mot de passe provisoire");
    assert_eq!(mails.len(), 1, "expected one provisional password mail: {mails:#?}");
    let text = &mails[0].text;
    let lines: Vec<&str> = text.lines().collect();
    let at = lines.iter().position(|l| l.contains("mot de passe provisoire")).expect("the password label");
    let password = lines[at + 1].trim().to_owned();
    assert!(password.len() >= 20, "the mail should carry a long generated password: {text}");
    password
}

async fn provisional_user(app: &TestApp, login: &str) -> (User, String) {
    let (user, sent) = admin::add_user_starting(&app.services, &spec(login), &UserStart::Provisional).await.unwrap();
    let sent = sent.expect("a provisional password was sent");
    assert!(sent.mailed);
    assert_eq!(sent.expires_at, app.services.now() + HOURS_72);
    (user, provisional_password(app))
}

/// The activation link of the latest `activation` mail.
fn activation_link(app: &TestApp) -> String {
    let mails = mails_with_subject(app, "Activez votre compte");
    assert_eq!(mails.len(), 1, "expected one activation mail: {mails:#?}");
    let prefix = format!("{}/activate?token=", app.issuer);
    let link = mails[0].text.lines().find(|l| l.starts_with(&prefix)).expect("the link in the mail").trim().to_owned();
    let token = link.rsplit('=').next().unwrap();
    assert!(mails[0].html.contains(token), "the HTML part carries the same link");
    link
}

async fn awaiting_activation(app: &TestApp, login: &str) -> (User, String) {
    let (user, sent) = admin::add_user_starting(&app.services, &spec(login), &UserStart::ActivationLink).await.unwrap();
    assert!(sent.is_some_and(|s| s.mailed));
    (user, activation_link(app))
}

async fn submit(browser: &Browser, app: &TestApp, form_page: &Page, new: &str, confirm: &str) -> Page {
    let csrf = form_page.field("csrf").expect("the form's CSRF token");
    let token = form_page.field("token").expect("the token travels in the form");
    browser
        .post(
            &app.url("/activate"),
            &[("csrf", &csrf), ("token", &token), ("new_password", new), ("confirm_password", confirm)],
        )
        .await
}

fn assert_invalid_link_page(page: &Page, what: &str) {
    assert_eq!(page.status, 410, "{what}: unexpected status; the page said: {}", page.body);
    assert!(page.body.contains("Ce lien n&#x27;est plus valable"), "{what}: not the themed page: {}", page.body);
    assert!(page.body.contains("Demandez un nouveau lien"), "{what}: the page should say whom to ask");
    assert!(!page.body.contains("name=\"new_password\""), "{what}: no password form on a dead link");
}

#[tokio::test]
async fn a_provisional_password_arrives_by_mail_and_signs_in() {
    let app = TestApp::spawn().await;
    let (user, password) = provisional_user(&app, "camille.durand").await;
    assert!(user.must_change_password);
    let mail = &mails_with_subject(&app, "Votre mot de passe provisoire")[0];
    assert_eq!(mail.to, "camille.durand@example.org");
    assert!(mail.text.contains("Vous devrez le changer à la première connexion"), "{}", mail.text);
    assert!(mail.text.contains(&format!("{}/account", app.issuer)), "the sign-in URL: {}", mail.text);
    assert!(mail.html.contains(&password));
    assert!(accepts(&app, "camille.durand", &password).await, "the mailed password signs in");
    let stored = app.services.store.user_by_id(&user.id).await.unwrap().unwrap();
    assert!(stored.must_change_password, "the first sign-in must still change it");
    assert!(!accepts(&app, "camille.durand", PASSWORD).await);
}

#[tokio::test]
async fn a_provisional_password_stops_working_after_72_hours() {
    let app = TestApp::spawn().await;
    let (_, password) = provisional_user(&app, "camille.durand").await;
    app.clock.advance(HOURS_72 - 60);
    assert!(accepts(&app, "camille.durand", &password).await, "still valid a minute before the end");
    app.clock.advance(60);
    assert!(!accepts(&app, "camille.durand", &password).await, "refused once 72 hours have passed");
}

#[tokio::test]
async fn an_administrator_reset_mails_a_new_provisional_password_and_ends_the_old_one() {
    let app = TestApp::spawn().await;
    app.user("alice.martin").await;
    assert!(accepts(&app, "alice.martin", PASSWORD).await);
    let sent = admin::reset_password(&app.services, "alice.martin").await.unwrap();
    assert!(sent.mailed);
    let password = provisional_password(&app);
    assert!(!accepts(&app, "alice.martin", PASSWORD).await, "the old password no longer works");
    assert!(accepts(&app, "alice.martin", &password).await);
    assert!(admin::reset_password(&app.services, "nobody").await.is_err());
}

#[tokio::test]
async fn an_activation_link_sets_the_password_end_to_end() {
    let app = TestApp::spawn().await;
    let (user, link) = awaiting_activation(&app, "camille.durand").await;
    let mail = &mails_with_subject(&app, "Activez votre compte")[0];
    assert!(mail.text.contains("Ce lien est valable jusqu'au"), "{}", mail.text);
    assert!(!accepts(&app, "camille.durand", PASSWORD).await, "no usable password before activation");

    let browser = Browser::new();
    let page = browser.get(&link).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<h1>Activer mon compte</h1>"), "{}", page.body);
    assert!(page.body.contains("name=\"new_password\"") && page.body.contains("name=\"confirm_password\""));
    assert!(page.body.contains("camille.durand"));
    // Mail scanners prefetch links: showing the page twice leaves the link usable.
    let page = browser.get(&link).await;
    assert_eq!(page.status, 200);

    let done = submit(&browser, &app, &page, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Votre compte est activé"), "{}", done.body);
    assert!(done.body.contains("href=\"/account\"") && done.body.contains("Se connecter"), "{}", done.body);
    assert!(accepts(&app, "camille.durand", NEW_PASSWORD).await, "the chosen password signs in");
    let stored = app.services.store.user_by_id(&user.id).await.unwrap().unwrap();
    assert!(!stored.must_change_password);
    assert_eq!(mails_with_subject(&app, "Votre mot de passe a été modifié").len(), 1, "the confirmation mail");
}

#[tokio::test]
async fn an_activation_link_works_only_once() {
    let app = TestApp::spawn().await;
    let (_, link) = awaiting_activation(&app, "camille.durand").await;
    let browser = Browser::new();
    let page = browser.get(&link).await;
    assert_eq!(submit(&browser, &app, &page, NEW_PASSWORD, NEW_PASSWORD).await.status, 200);
    assert_invalid_link_page(&browser.get(&link).await, "the link opened again");
    let again = submit(&browser, &app, &page, "Autre-Chemin-Bleu-77", "Autre-Chemin-Bleu-77").await;
    assert_invalid_link_page(&again, "the form posted again");
    assert!(accepts(&app, "camille.durand", NEW_PASSWORD).await, "the first password stays");
    assert!(!accepts(&app, "camille.durand", "Autre-Chemin-Bleu-77").await);
}

#[tokio::test]
async fn an_activation_link_expires_after_72_hours() {
    let app = TestApp::spawn().await;
    let (_, link) = awaiting_activation(&app, "camille.durand").await;
    let browser = Browser::new();
    let page = browser.get(&link).await;
    assert_eq!(page.status, 200);
    app.clock.advance(HOURS_72);
    assert_invalid_link_page(&browser.get(&link).await, "opened after 72 hours");
    let late = submit(&browser, &app, &page, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_invalid_link_page(&late, "posted after 72 hours");
    assert!(!accepts(&app, "camille.durand", NEW_PASSWORD).await);
}

#[tokio::test]
async fn a_tampered_activation_token_gets_the_themed_page() {
    let app = TestApp::spawn().await;
    let (_, link) = awaiting_activation(&app, "camille.durand").await;
    let last = link.chars().last().unwrap();
    let tampered = format!("{}{}", &link[..link.len() - 1], if last == 'A' { 'B' } else { 'A' });
    let browser = Browser::new();
    assert_invalid_link_page(&browser.get(&tampered).await, "one character changed");
    assert_invalid_link_page(&browser.get(&app.url("/activate?token=%00%FF")).await, "garbage");
    assert_invalid_link_page(&browser.get(&app.url("/activate")).await, "no token at all");
    // The real link still works.
    assert_eq!(browser.get(&link).await.status, 200);
}

#[tokio::test]
async fn an_activation_post_needs_the_csrf_token() {
    let app = TestApp::spawn().await;
    let (_, link) = awaiting_activation(&app, "camille.durand").await;
    let browser = Browser::new();
    let page = browser.get(&link).await;
    let token = page.field("token").unwrap();
    let forged = browser
        .post(
            &app.url("/activate"),
            &[("token", &token), ("new_password", NEW_PASSWORD), ("confirm_password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert!(!accepts(&app, "camille.durand", NEW_PASSWORD).await);
    assert_eq!(submit(&browser, &app, &page, NEW_PASSWORD, NEW_PASSWORD).await.status, 200, "the link still works");
}

#[tokio::test]
async fn a_policy_violation_shows_the_messages_and_keeps_the_link() {
    let app = TestApp::spawn().await;
    let (_, link) = awaiting_activation(&app, "camille.durand").await;
    let browser = Browser::new();
    let page = browser.get(&link).await;

    let weak = submit(&browser, &app, &page, "court", "court").await;
    assert_eq!(weak.status, 422, "{}", weak.body);
    assert!(weak.body.contains("id=\"password-errors\""), "the reasons are listed: {}", weak.body);
    assert!(weak.body.contains("8 caractères"), "the length rule is named: {}", weak.body);

    let switch = weak.link_with("hreflang=\"en\"").expect("a language switch");
    let english = browser.get(&app.url(&switch)).await;
    assert!(english.body.contains("<h1>Activate my account</h1>"), "the switch keeps the link: {}", english.body);

    let mismatch = submit(&browser, &app, &weak, NEW_PASSWORD, "Lanterne-Verte-Quinze-43").await;
    assert_eq!(mismatch.status, 422);
    assert!(mismatch.body.contains("Les deux mots de passe ne sont pas identiques."), "{}", mismatch.body);

    let done = submit(&browser, &app, &mismatch, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(done.status, 200, "the link survived the refusals: {}", done.body);
    assert!(accepts(&app, "camille.durand", NEW_PASSWORD).await);
}

#[tokio::test]
async fn the_activation_page_is_in_english_on_request() {
    let app = TestApp::spawn().await;
    let (_, link) = awaiting_activation(&app, "camille.durand").await;
    let page = Browser::new().get_with(&link, &[("Accept-Language", "en-GB,en;q=0.9")]).await;
    assert!(page.body.contains("<h1>Activate my account</h1>"), "{}", page.body);
}

/// Two types: `bonus_eco` (passwords expire after 90 days, warning 14 days before) and the
/// default `usager` (no expiry).
fn expiring_types() -> Setup {
    Setup {
        tweak: Box::new(|raw| {
            let mut bonus = UserType::default_usager();
            bonus.id = "bonus_eco".into();
            bonus.password_policy.max_age_days = Some(90);
            bonus.password_policy.expiry_warning_days = 14;
            raw.user_types = vec![UserType::default_usager(), bonus];
        }),
        ..Setup::default()
    }
}

async fn typed_user(app: &TestApp, login: &str, user_type: &str) -> User {
    let spec = UserSpec { user_type: user_type.into(), ..spec(login) };
    admin::add_user(&app.services, &spec, &Secret::new(PASSWORD)).await.unwrap()
}

fn warnings(app: &TestApp) -> Vec<Mail> {
    mails_with_subject(app, "Votre mot de passe va expirer")
}

#[tokio::test]
async fn the_expiry_warning_is_sent_once_per_password() {
    let app = TestApp::spawn_with(expiring_types()).await;
    let user = typed_user(&app, "bonus.user", "bonus_eco").await;
    typed_user(&app, "usager.user", "usager").await;

    app.clock.advance(75 * DAY);
    assert_eq!(expiry_warning::run_once(&app.services).await.unwrap(), 0, "too early: 15 days left");
    app.clock.advance(DAY + 60);
    assert_eq!(expiry_warning::run_once(&app.services).await.unwrap(), 1, "14 days left: one warning");
    let sent = warnings(&app);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, "bonus.user@example.org", "only the type with max_age_days is warned");
    assert!(sent[0].text.contains("expirera le"), "{}", sent[0].text);
    assert!(sent[0].text.contains(&format!("{}/account/password", app.issuer)), "{}", sent[0].text);

    app.clock.advance(DAY);
    assert_eq!(expiry_warning::run_once(&app.services).await.unwrap(), 0, "not twice for one password");
    assert_eq!(warnings(&app).len(), 1);

    // A new password: no warning until it gets old in turn.
    let user = app.services.store.user_by_id(&user.id).await.unwrap().unwrap();
    let info = ClientInfo::default();
    let ctx = Context { reason: Reason::Account, info: &info, keep_sid: None, redeem_token: None };
    let new = Secret::new(NEW_PASSWORD);
    password_change::change(&app.services, &user, &new, &new, &ctx).await.unwrap();
    app.clock.advance(60);
    assert_eq!(expiry_warning::run_once(&app.services).await.unwrap(), 0, "a fresh password is not warned");
    app.clock.advance(76 * DAY + 60);
    assert_eq!(expiry_warning::run_once(&app.services).await.unwrap(), 1, "the new password gets its own warning");
    assert_eq!(warnings(&app).len(), 2);
}

#[tokio::test]
async fn users_of_types_without_max_age_are_never_warned() {
    let app = TestApp::spawn_with(expiring_types()).await;
    typed_user(&app, "usager.user", "usager").await;
    app.clock.advance(3650 * DAY);
    assert_eq!(expiry_warning::run_once(&app.services).await.unwrap(), 0);
    assert!(warnings(&app).is_empty());
}

/// The user types of `deploy/seed-portals.example.toml`, as an installation would load them.
fn seed_portals() -> Setup {
    Setup {
        tweak: Box::new(|raw| {
            let seeds =
                idp::config::Config::from_sources(include_str!("../../../deploy/seed-portals.example.toml"), &[])
                    .expect("the seed portals example is valid");
            raw.user_types = seeds.user_types.all().to_vec();
        }),
        ..Setup::default()
    }
}

#[tokio::test]
async fn the_seed_portals_run_bonus_eco_from_provisional_password_to_expiry_warning() {
    let app = TestApp::spawn_with(seed_portals()).await;
    let bonus = UserSpec { user_type: "bonus_eco".into(), ..spec("pro.bonus") };
    admin::add_user_starting(&app.services, &bonus, &UserStart::Provisional).await.unwrap();
    let password = provisional_password(&app);
    assert!(accepts(&app, "pro.bonus", &password).await, "the provisional password signs in");
    let user = app.services.store.user_by_login("pro.bonus").await.unwrap().unwrap();
    let info = ClientInfo::default();
    let ctx = Context { reason: Reason::FirstLogin, info: &info, keep_sid: None, redeem_token: None };
    let new = Secret::new(NEW_PASSWORD);
    password_change::change(&app.services, &user, &new, &new, &ctx).await.unwrap();
    // A Région user with a final password never expires.
    admin::add_user(&app.services, &UserSpec { user_type: "elu".into(), ..spec("elu.region") }, &Secret::new(PASSWORD))
        .await
        .unwrap();
    app.clock.advance(76 * DAY + 60);
    assert_eq!(expiry_warning::run_once(&app.services).await.unwrap(), 1, "90 days minus 14: one warning");
    assert_eq!(warnings(&app)[0].to, "pro.bonus@example.org");
}

#[tokio::test]
async fn the_seed_portals_activation_page_uses_the_type_theme_and_policy() {
    let app = TestApp::spawn_with(seed_portals()).await;
    let agent = UserSpec { user_type: "agent_lycee".into(), ..spec("agent.lycee") };
    admin::add_user_starting(&app.services, &agent, &UserStart::ActivationLink).await.unwrap();
    let page = Browser::new().get(&activation_link(&app)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.replace("&#x2F;", "/").contains("/static/region/"), "the Région theme: {}", page.body);
    assert!(page.body.contains("user_type=agent_lycee"), "the type's policy feeds the checklist: {}", page.body);
}

#[tokio::test]
async fn nodes_running_the_expiry_job_together_send_one_warning_per_password() {
    let app = TestApp::spawn_with(expiring_types()).await;
    for i in 0..3 {
        typed_user(&app, &format!("bonus.user{i}"), "bonus_eco").await;
    }
    app.clock.advance(80 * DAY);
    let s = &app.services;
    let runs = tokio::join!(expiry_warning::run_once(s), expiry_warning::run_once(s), expiry_warning::run_once(s));
    let total = runs.0.unwrap() + runs.1.unwrap() + runs.2.unwrap();
    assert_eq!(total, 3, "each password is warned by one run only");
    assert_eq!(warnings(&app).len(), 3);
}
