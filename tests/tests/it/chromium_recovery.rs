//! The recovery pages in a real browser (issue #5): headless Chromium opens "Mot de passe
//! perdu", picks its user type in the selector ("Pour vous diriger vers le bon service…"),
//! gives its e-mail address, types the security code from the mail, lets the generator choose a
//! new password on the policy page, and lands on the success page with its identifier and
//! e-mail masked; the new password is then the account's. Cookies (the flow's own, the CSRF
//! one), redirects after each POST, the CSP and the password page's script all meet a real
//! browser here. Skipped like the other Chromium tests when chromedriver is missing outside CI.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use fantoccini::{Client, Locator};
use idp::admin::{self, UserSpec};
use idp::domain::Secret;
use idp::domain::user_type::{IdentifyBy, Localized, PasswordRecovery, UserType};
use idp::services::Services;
use idp_tests::mail::read_outbox;
use idp_tests::{PASSWORD, Setup, TestApp};

use crate::chromium::{PATIENCE, body_text, chromium_available, in_chromium, is_on, wait_for_url};

fn region_type(id: &str, fr: &str) -> UserType {
    let mut t = UserType { id: id.into(), label: Localized::new(fr, fr), ..UserType::default_usager() };
    t.recovery.identify_by = vec![IdentifyBy::Email];
    t.recovery.captcha = idp::domain::user_type::CaptchaKind::None;
    t.recovery.ask_secret_question = false;
    t.recovery.password = PasswordRecovery::Code;
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_walks_the_selector_and_the_security_code_to_a_new_password() {
    if !chromium_available(module_path!()) {
        return;
    }
    let app = TestApp::spawn_with(Setup {
        tweak: Box::new(|raw| {
            raw.user_types = vec![
                region_type("usager", "Je suis un usager des services de la Région"),
                region_type("elu", "Je suis un élu de la Région"),
            ];
            raw.recovery.min_response_ms = 0;
        }),
        ..Setup::default()
    })
    .await;
    let spec = UserSpec {
        login: "claire.dupont".into(),
        email: "claire.dupont@gmail.com".into(),
        given_name: "Claire".into(),
        family_name: "Dupont".into(),
        user_type: "usager".into(),
        ..UserSpec::default()
    };
    let claire = admin::add_user(&app.services, &spec, &Secret::new(PASSWORD)).await.unwrap();
    let issuer = app.issuer.clone();
    let outbox = app.config.outbox_dir.clone();
    let services = app.services.clone();
    in_chromium(|browser| recover(browser, issuer, outbox, services, claire.id)).await;
}

async fn click(browser: &Client, xpath: &str) {
    browser.find(Locator::XPath(xpath)).await.unwrap_or_else(|e| panic!("no {xpath}: {e}")).click().await.unwrap();
}

/// Waits for an element of the next page.
async fn wait_for(browser: &Client, what: &str, css: &str) {
    let deadline = Instant::now() + PATIENCE;
    while browser.find(Locator::Css(css)).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "waited {PATIENCE:?} for {what}; the page says:\n{}",
            body_text(browser).await
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The security code of the newest mail to `to`, from the link it carries (`…&c=123456`).
async fn code_from_mail(outbox: &Path, to: &str) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let mails: Vec<_> = read_outbox(outbox).into_iter().filter(|m| m.to.contains(to)).collect();
        if let Some(code) = mails.iter().find_map(|m| {
            let at = m.text.find("c=")?;
            let digits: String = m.text[at + 2..].chars().take_while(char::is_ascii_digit).collect();
            (digits.len() == 6).then_some(digits)
        }) {
            return code;
        }
        assert!(Instant::now() < deadline, "no security code mailed to {to} within {PATIENCE:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn recover(browser: Client, issuer: String, outbox: PathBuf, services: Arc<Services>, user_id: String) {
    // "Mot de passe perdu": the selector, in French.
    browser.goto(&format!("{issuer}/recovery/password?lang=fr")).await.unwrap();
    wait_for_url(&browser, "the recovery page", |u| is_on(u, &issuer, "/recovery/password")).await;
    let page = body_text(&browser).await;
    assert!(page.contains("Pour vous diriger vers le bon service"), "the selector is shown:\n{page}");
    assert!(page.contains("Je suis un élu de la Région") && page.contains("J'ai besoin de support"), "{page}");
    click(&browser, "//a[contains(., 'Je suis un usager des services de la Région')]").await;

    // The e-mail address.
    wait_for(&browser, "the identification form", "input#identifier").await;
    browser.find(Locator::Id("identifier")).await.unwrap().send_keys("claire.dupont@gmail.com").await.unwrap();
    click(&browser, "//form[.//input[@name='identifier']]//button[@type='submit']").await;

    // The security code from the mail.
    wait_for(&browser, "the security code page", "input#code").await;
    let page = body_text(&browser).await;
    assert!(page.contains("code de sécurité"), "the code page explains itself:\n{page}");
    let code = code_from_mail(&outbox, "claire.dupont@gmail.com").await;
    browser.find(Locator::Id("code")).await.unwrap().send_keys(&code).await.unwrap();
    click(&browser, "//button[@name='action' and @value='verify']").await;

    // The policy page: the generator fills both fields.
    wait_for(&browser, "the new password page", "input#new_password").await;
    click(&browser, "//*[@data-generate-password]").await;
    let deadline = Instant::now() + PATIENCE;
    let new_password = loop {
        let value = browser.find(Locator::Id("new_password")).await.unwrap().prop("value").await.unwrap();
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            break v;
        }
        assert!(Instant::now() < deadline, "the generator filled nothing within {PATIENCE:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let confirmation = browser.find(Locator::Id("confirm_password")).await.unwrap().prop("value").await.unwrap();
    assert_eq!(confirmation.as_deref(), Some(new_password.as_str()));
    click(&browser, "//form[.//input[@name='new_password']]//button[@type='submit' and not(@value='cancel')]").await;

    // The success page, masked as the Region shows it.
    wait_for(&browser, "the success page", "#recovery-done").await;
    let page = body_text(&browser).await;
    assert!(page.contains("c…@…mail.com"), "the e-mail is masked:\n{page}");
    assert!(!page.contains("claire.dupont@gmail.com"), "the address is never shown whole:\n{page}");
    let stored = services.store.user_by_id(&user_id).await.unwrap().unwrap().password_hash;
    assert!(
        services.passwords.verify(&Secret::new(new_password), Some(&stored)).await.unwrap(),
        "the generated password is now the account's"
    );
    assert!(!services.passwords.verify(&Secret::new(PASSWORD), Some(&stored)).await.unwrap(), "the old one is gone");
}

/// Issue #13, item 9 (Bonus Eco: "je saisis mon login et je clique sur le lien"): in a real
/// browser, the identifier typed on the login page is in the recovery's identifier field after
/// "Mot de passe perdu ?", and Enter in the login form still signs in (the button comes after
/// the form's own submit button in tree order).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_carries_the_typed_login_to_mot_de_passe_perdu() {
    if !chromium_available(module_path!()) {
        return;
    }
    let app = TestApp::spawn_with(Setup {
        tweak: Box::new(|raw| {
            let mut bonus = region_type("bonus_eco", "Je suis un professionnel");
            bonus.recovery.identify_by = vec![IdentifyBy::Login];
            raw.user_types = vec![bonus];
            raw.recovery.min_response_ms = 0;
        }),
        ..Setup::default()
    })
    .await;
    let (client, secret) = app.confidential_client("portail", idp_tests::RP_CALLBACK).await;
    let rp = idp_tests::rp::Rp::discover(&app.issuer, &client.id, Some(&secret), idp_tests::RP_CALLBACK).await;
    let start = rp.start(&["profile"]).url;
    let issuer = app.issuer.clone();
    in_chromium(|browser| async move {
        browser.goto(&start).await.unwrap();
        wait_for_url(&browser, "the login page", |u| is_on(u, &issuer, "/login")).await;
        // Enter in the form signs in: a wrong password, so the login page again, with its error.
        let login = browser.find(Locator::Css("input[name='login']")).await.unwrap();
        login.send_keys("pro.bonus").await.unwrap();
        let password = browser.find(Locator::Css("input[name='password']")).await.unwrap();
        password.send_keys("not-the-password\u{E007}").await.unwrap();
        wait_for(&browser, "the login error", "#login-error").await;
        assert!(is_on(&browser.current_url().await.unwrap(), &issuer, "/login"));

        // The page kept the typed login; "Mot de passe perdu ?" takes it along.
        let field = browser.find(Locator::Css("input[name='login']")).await.unwrap();
        assert_eq!(field.prop("value").await.unwrap().as_deref(), Some("pro.bonus"));
        click(&browser, "//button[@name='forgot' and @value='password']").await;
        wait_for_url(&browser, "the recovery page", |u| is_on(u, &issuer, "/recovery/password")).await;
        wait_for(&browser, "the identification form", "input#identifier").await;
        let identifier = browser.find(Locator::Id("identifier")).await.unwrap().prop("value").await.unwrap();
        assert_eq!(identifier.as_deref(), Some("pro.bonus"), "{}", body_text(&browser).await);
    })
    .await;
}
