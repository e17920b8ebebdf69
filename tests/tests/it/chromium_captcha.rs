//! The image captcha in a real browser (issue #13, item 7): headless Chromium opens "Mot de
//! passe perdu" for a type that asks an image captcha, the PNG loads (under the strict CSP's
//! `img-src 'self'`), and typing the characters then Enter in the answer field submits the
//! answer (the form's default button), not the "an operation instead" button: the security code
//! page follows, not an arithmetic captcha. The characters are read where only the server can,
//! in the ephemeral record. Skipped like the other Chromium tests when chromedriver is missing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use idp::admin::{self, UserSpec};
use idp::domain::Secret;
use idp::domain::user_type::{CaptchaKind, IdentifyBy, Localized, PasswordRecovery, UserType};
use idp::services::Services;
use idp_tests::{PASSWORD, Setup, TestApp};

use crate::chromium::{PATIENCE, body_text, chromium_available, in_chromium};

/// WebDriver's Enter key (W3C WebDriver, "Keyboard actions").
const ENTER: &str = "\u{E007}";

fn image_captcha_type() -> UserType {
    let label = "Je suis un usager des services de la Région";
    let mut t = UserType { id: "usager".into(), label: Localized::new(label, label), ..UserType::default_usager() };
    t.recovery.identify_by = vec![IdentifyBy::Email];
    t.recovery.captcha = CaptchaKind::Image;
    t.recovery.ask_secret_question = false;
    t.recovery.password = PasswordRecovery::Code;
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_shows_the_captcha_image_and_enter_in_the_answer_field_submits_the_answer() {
    if !chromium_available(module_path!()) {
        return;
    }
    let app = TestApp::spawn_with(Setup {
        tweak: Box::new(|raw| {
            raw.user_types = vec![image_captcha_type()];
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
    admin::add_user(&app.services, &spec, &Secret::new(PASSWORD)).await.unwrap();
    let issuer = app.issuer.clone();
    let services = app.services.clone();
    in_chromium(|browser| answer_with_enter(browser, issuer, services)).await;
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
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What the image shows, read where only the server can: the ephemeral record.
async fn image_answer(services: &Services, id: &str) -> String {
    let raw = services.ephemeral.get(&format!("captcha:{id}")).await.unwrap().expect("the challenge is stored");
    let record: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    record["answer"].as_str().unwrap().to_owned()
}

async fn answer_with_enter(browser: Client, issuer: String, services: Arc<Services>) {
    browser.goto(&format!("{issuer}/recovery/password?user_type=usager&lang=fr")).await.unwrap();
    wait_for(&browser, "the identification form with its image captcha", "img.captcha__image").await;

    // The picture loaded: a PNG of 200 × 70 pixels, served by the IdP itself.
    let src = browser.find(Locator::Css("img.captcha__image")).await.unwrap().attr("src").await.unwrap();
    assert!(src.is_some_and(|s| s.starts_with("/captcha/") && s.ends_with(".png")), "the image is our PNG");
    let deadline = Instant::now() + PATIENCE;
    let natural_width = loop {
        let width = browser
            .execute(
                "const img = document.querySelector('img.captcha__image'); return img.complete ? img.naturalWidth : -1;",
                vec![],
            )
            .await
            .unwrap();
        match width.as_i64() {
            Some(-1) | None => {}
            Some(w) => break w,
        }
        assert!(Instant::now() < deadline, "the captcha image did not finish loading within {PATIENCE:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(natural_width, 200, "the browser decoded the captcha image (naturalWidth 0 is a broken image)");

    // The e-mail address, then the characters and Enter in the captcha's field.
    browser.find(Locator::Id("identifier")).await.unwrap().send_keys("claire.dupont@gmail.com").await.unwrap();
    let id = browser
        .find(Locator::Css("input[name='captcha_id']"))
        .await
        .unwrap()
        .attr("value")
        .await
        .unwrap()
        .expect("the form names its captcha");
    let answer = image_answer(&services, &id).await;
    browser.find(Locator::Id("captcha_answer")).await.unwrap().send_keys(&format!("{answer}{ENTER}")).await.unwrap();

    // Enter submitted the answer: the security code page, not an operation instead.
    wait_for(&browser, "the security code page", "input#code").await;
    let page = body_text(&browser).await;
    assert!(page.contains("code de sécurité"), "the code page follows:\n{page}");
    assert!(
        browser.find(Locator::Css(".captcha__operation")).await.is_err(),
        "Enter asked for an arithmetic captcha instead of submitting the answer:\n{page}"
    );
    assert!(
        services.ephemeral.get(&format!("captcha:{id}")).await.unwrap().is_none(),
        "the answered challenge is consumed"
    );
}
