//! The accessibility gate (issue #13, item 15): headless Chromium visits every page state a
//! person meets (sign-in, recovery, consent, errors, account, first login), in French and in
//! English, 1280 px and 390 px wide, injects axe-core (npm, pinned in `tests/axe/`) and fails on
//! any violation of its default rules (WCAG 2 A/AA and best practices), listing them all; and
//! keyboard-only walks of the login form, the selector, the recovery by code and the captcha
//! page, with a visible focus indicator on every element the login page's Tab stops reach.
//!
//! axe-core comes from `npm ci --prefix tests/axe` (`.ci/run` does it and exports
//! `IDP_TEST_AXE_JS`). Without it, or without chromedriver, the tests skip outside CI and fail
//! inside it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use idp::account::secret_question;
use idp::admin::{self, ClientSpec, UserSpec};
use idp::domain::Secret;
use idp::domain::user_type::CaptchaKind;
use idp_tests::mail::read_outbox;
use idp_tests::rp::Rp;
use idp_tests::{PASSWORD, RP_CALLBACK, Setup, TestApp};
use serde_json::{Value, json};

use crate::chromium::{PATIENCE, body_text, chromium_available, in_chromium, is_on, wait_for_url};

const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";
const WIDTHS: [(u32, u32); 2] = [(1280, 900), (390, 844)];
const LANGS: [&str; 2] = ["fr", "en"];
const NEW_PASSWORD: &str = "Velo-Rouge-Montagne-58";
const ANSWER: &str = "Médor";

/// axe-core's `axe.min.js`: `IDP_TEST_AXE_JS`, or `tests/axe/node_modules/…` of the workspace.
fn axe_source(test: &str) -> Option<String> {
    let path = std::env::var_os("IDP_TEST_AXE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("axe/node_modules/axe-core/axe.min.js"));
    match std::fs::read_to_string(&path) {
        Ok(source) => Some(source),
        Err(err) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{} is missing ({err}): CI must run `npm ci --prefix tests/axe`",
                path.display()
            );
            eprintln!("SKIPPED {test}: {} is missing (run `npm ci --prefix tests/axe`)", path.display());
            None
        }
    }
}

/// The seed portals' user types, plus `imagecap`, Bonus Eco's recovery with the image captcha
/// (no seed type asks for it during recovery); two clients, one in the Region's theme.
async fn provider() -> (TestApp, Rp, Rp) {
    let app = TestApp::spawn_with(Setup {
        tweak: Box::new(|raw| {
            let seeds =
                idp::config::Config::from_sources(include_str!("../../../deploy/seed-portals.example.toml"), &[])
                    .expect("the seed portals example is valid");
            let mut types = seeds.user_types.all().to_vec();
            // The seed's on-screen "secrets non renseignés" message (the revealing mode, off by
            // default) is a page too: audit it (issue #13, item 2).
            for t in types.iter_mut().filter(|t| t.id == "bonus_eco") {
                t.recovery.missing_secret_notice = idp::domain::user_type::MissingSecretNotice::Page;
            }
            let mut image = types.iter().find(|t| t.id == "bonus_eco").expect("the Bonus Eco type").clone();
            image.id = "imagecap".into();
            image.recovery.captcha = CaptchaKind::Image;
            types.push(image);
            raw.user_types = types;
            raw.recovery.support = seeds.recovery.support.clone();
            raw.recovery.min_response_ms = 0;
        }),
        ..Setup::default()
    })
    .await;
    let (client, secret) = app.confidential_client("portail", RP_CALLBACK).await;
    let portail = Rp::discover(&app.issuer, &client.id, Some(&secret), RP_CALLBACK).await;
    let spec = ClientSpec {
        id: "region-portal".into(),
        name: "Mes démarches".into(),
        redirect_uris: vec![RP_CALLBACK.into()],
        grants: vec!["authorization_code".into()],
        theme: Some("region".into()),
        ..ClientSpec::default()
    };
    let (region, region_secret) = app.client(spec).await;
    let region = Rp::discover(&app.issuer, &region.id, region_secret.as_deref(), RP_CALLBACK).await;
    (app, portail, region)
}

async fn user(app: &TestApp, login: &str, email: &str, user_type: &str) -> idp::domain::User {
    let spec = UserSpec {
        login: login.into(),
        email: email.into(),
        given_name: "Claire".into(),
        family_name: "Dupont".into(),
        user_type: user_type.into(),
        ..UserSpec::default()
    };
    admin::add_user(&app.services, &spec, &Secret::new(PASSWORD)).await.unwrap()
}

/// Answers the page's arithmetic captcha and presses Enter.
async fn answer_captcha(browser: &Client) {
    let operation = browser.find(Locator::Css(".captcha__operation")).await.unwrap().text().await.unwrap();
    let operation = operation.split(" = ?").next().unwrap().trim().to_owned();
    let answer = idp_tests::captcha::solve_operation(&operation);
    type_into(browser, "input[name='captcha_answer']", &format!("{answer}{ENTER}")).await;
}

/// `url` with its `lang` parameter set to `lang`.
fn in_lang(url: &str, lang: &str) -> String {
    let mut url = url::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> =
        url.query_pairs().filter(|(k, _)| k != "lang").map(|(k, v)| (k.into(), v.into())).collect();
    url.query_pairs_mut().clear().extend_pairs(pairs).append_pair("lang", lang);
    url.to_string()
}

/// Waits for an element of the next page.
async fn wait_for(browser: &Client, what: &str, css: &str) {
    let deadline = Instant::now() + PATIENCE;
    while browser.find(Locator::Css(css)).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "waited {PATIENCE:?} for {what} ({css}); the browser is at {} showing:\n{}",
            browser.current_url().await.unwrap(),
            body_text(browser).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the page no longer has `css` (the form was accepted).
async fn wait_for_absence(browser: &Client, what: &str, css: &str) {
    let deadline = Instant::now() + PATIENCE;
    while browser.find(Locator::Css(css)).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "waited {PATIENCE:?} for {what}; the page says:\n{}",
            body_text(browser).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn type_into(browser: &Client, css: &str, text: &str) {
    browser.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no {css}: {e}")).send_keys(text).await.unwrap();
}

/// The security code of the newest mail to `to`, from the link it carries (`…&c=123456`).
async fn code_from_mail(outbox: &Path, to: &str, seen: usize) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let mails: Vec<_> = read_outbox(outbox).into_iter().filter(|m| m.to.contains(to)).collect();
        if mails.len() > seen
            && let Some(code) = mails.iter().rev().find_map(|m| {
                let at = m.text.find("c=")?;
                let digits: String = m.text[at + 2..].chars().take_while(char::is_ascii_digit).collect();
                (digits.len() == 6).then_some(digits)
            })
        {
            return code;
        }
        assert!(Instant::now() < deadline, "no security code mailed to {to} within {PATIENCE:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn mails_to(outbox: &Path, to: &str) -> usize {
    read_outbox(outbox).into_iter().filter(|m| m.to.contains(to)).count()
}

/// Runs axe on the current page at both widths and appends its violations to `found`.
struct Auditor {
    browser: Client,
    axe: String,
    found: Vec<String>,
    audited: Vec<String>,
}

impl Auditor {
    async fn audit(&mut self, state: &str) {
        let url = self.browser.current_url().await.unwrap();
        let lang = self.browser.execute("return document.documentElement.lang", vec![]).await.unwrap();
        let label = format!("{state} [lang={}] {}", lang.as_str().unwrap_or("?"), url.path());
        for (width, height) in WIDTHS {
            self.browser.set_window_size(width, height).await.unwrap();
            let loaded = self.browser.execute("return typeof window.axe !== 'undefined'", vec![]).await.unwrap();
            if loaded != Value::Bool(true) {
                self.browser.execute(&format!("{}\nreturn true;", self.axe), vec![]).await.expect("axe-core loads");
            }
            let script = "const done = arguments[arguments.length - 1];
                axe.run(document, { resultTypes: ['violations'] })
                  .then(r => done({
                      passes: r.passes.length,
                      incomplete: r.incomplete.map(v => v.id + ' ' + v.nodes.map(n => n.target.join(' ')).join(' | ')),
                      violations: r.violations.map(v => ({
                          id: v.id, impact: v.impact, help: v.help,
                          targets: v.nodes.map(n => n.target.join(' ')),
                      })),
                  }))
                  .catch(e => done({ error: String(e) }));";
            let result = self.browser.execute_async(script, vec![]).await.expect("axe.run answers");
            let violations =
                result["violations"].as_array().unwrap_or_else(|| panic!("axe.run failed on {label}: {result}"));
            // An honest gate: axe did check rules on this page (a broken injection checks none).
            assert!(result["passes"].as_u64().unwrap_or(0) > 5, "axe checked almost nothing on {label}: {result}");
            if result["incomplete"].as_array().is_some_and(|i| !i.is_empty()) {
                eprintln!("axe could not decide on {label} @{width}px (left to people): {}", result["incomplete"]);
            }
            for v in violations {
                self.found.push(format!(
                    "{label} @{width}px: {} ({}) {}: {}",
                    v["id"].as_str().unwrap_or("?"),
                    v["impact"].as_str().unwrap_or("?"),
                    v["help"].as_str().unwrap_or(""),
                    v["targets"]
                        .as_array()
                        .map(|t| t.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" | "))
                        .unwrap_or_default(),
                ));
            }
        }
        self.audited.push(label);
    }

    /// The current page (a GET page) in French, then in English.
    async fn audit_both(&mut self, state: &str) {
        for lang in LANGS {
            self.switch_to(lang).await;
            self.audit(state).await;
        }
    }

    /// Reloads the current (GET) page with `?lang=`, and checks the page took it.
    async fn switch_to(&self, lang: &str) {
        let url = self.browser.current_url().await.unwrap().to_string();
        self.browser.goto(&in_lang(&url, lang)).await.unwrap();
        let shown = self.browser.execute("return document.documentElement.lang", vec![]).await.unwrap();
        assert_eq!(shown, json!(lang), "{url} with lang={lang}:\n{}", body_text(&self.browser).await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axe_finds_no_accessibility_violation_on_any_page_in_either_language_or_width() {
    let test = "axe_finds_no_accessibility_violation_on_any_page_in_either_language_or_width";
    if !chromium_available(test) {
        return;
    }
    let Some(axe) = axe_source(test) else { return };
    let started = Instant::now();
    let (app, portail, region) = provider().await;
    user(&app, "claire.dupont", "claire.dupont@gmail.com", "usager").await;
    user(&app, "pro.bonus", "pro.bonus@example.org", "bonus_eco").await;
    let segur = user(&app, "op.segur", "op.segur@example.org", "segur_operateur").await;
    let question = "Quel est le nom de votre premier animal ?";
    secret_question::set(&app.services, &segur.id, question, &Secret::new(ANSWER)).await.unwrap();
    let issuer = app.issuer.clone();
    let outbox = app.config.outbox_dir.clone();
    let portail_start = move || portail.start(&["profile"]).url;
    let region_start = region.start(&["profile"]).url;
    let (tx, rx) = tokio::sync::oneshot::channel();
    in_chromium(|browser| async move {
            let mut auditor = Auditor { browser: browser.clone(), axe, found: Vec::new(), audited: Vec::new() };
            let a = &mut auditor;

            // The gate can fail: a page with an unlabelled image and field and no language.
            browser
                .goto("data:text/html,<html><head><title>t</title></head><body><img src='x.png'><input></body></html>")
                .await
                .unwrap();
            a.audit("known-bad page").await;
            let caught: Vec<String> = a.found.drain(..).collect();
            for rule in ["image-alt", "label", "html-has-lang"] {
                assert!(caught.iter().any(|v| v.contains(&format!(": {rule} ("))), "axe misses {rule}: {caught:#?}");
            }
            a.audited.clear();

            for lang in LANGS {
                // The login page (default theme), then the same with an error.
                browser.goto(&portail_start()).await.unwrap();
                wait_for_url(&browser, "the login page", |u| is_on(u, &issuer, "/login")).await;
                a.switch_to(lang).await;
                a.audit("login").await;
                type_into(&browser, "input[name='login']", "claire.dupont").await;
                type_into(&browser, "input[name='password']", &format!("not-the-password{ENTER}")).await;
                wait_for(&browser, "the login error", "#login-error").await;
                a.audit("login with an error").await;
            }

            // The Region's login page.
            browser.goto(&region_start).await.unwrap();
            wait_for_url(&browser, "the Region's login page", |u| is_on(u, &issuer, "/login")).await;
            a.audit_both("login (region theme)").await;

            // An unknown client: the error page.
            browser
                .goto(&format!(
                    "{issuer}/authorize?client_id=nobody&redirect_uri=https%3A%2F%2Frp.example%2F&response_type=code&scope=openid"
                ))
                .await
                .unwrap();
            a.audit_both("error (unknown client)").await;

            // The recovery: the selector, the first page of several types, the support page.
            browser.goto(&format!("{issuer}/recovery/password")).await.unwrap();
            a.audit_both("recovery selector").await;
            for (user_type, what) in [
                ("bonus_eco", "recovery identify (login, arithmetic captcha)"),
                ("imagecap", "recovery identify (login, image captcha)"),
                ("sesame", "recovery identify (alternate id, birth date)"),
                ("usager", "recovery identify (e-mail, region theme)"),
            ] {
                browser.goto(&format!("{issuer}/recovery/password?user_type={user_type}")).await.unwrap();
                wait_for(&browser, what, "input[name='identifier']").await;
                a.audit_both(what).await;
            }
            browser.goto(&format!("{issuer}/recovery/identifier?user_type=segur_operateur")).await.unwrap();
            a.audit_both("identifier recovery").await;
            browser.goto(&format!("{issuer}/recovery/support")).await.unwrap();
            a.audit_both("support").await;

            // Bonus Eco without a secret question: the support number; Ségur with one: the
            // question, then "check your mailbox".
            browser.goto(&format!("{issuer}/recovery/password?user_type=bonus_eco&lang=fr")).await.unwrap();
            type_into(&browser, "input#identifier", "pro.bonus").await;
            answer_captcha(&browser).await;
            wait_for_absence(&browser, "the page after the captcha", "input[name='captcha_answer']").await;
            a.audit_both("recovery without a secret question (support)").await;
            browser.goto(&format!("{issuer}/recovery/password?user_type=segur_operateur&lang=fr")).await.unwrap();
            type_into(&browser, "input#identifier", "op.segur").await;
            answer_captcha(&browser).await;
            wait_for(&browser, "the secret question", "input[name='secret_answer']").await;
            a.audit_both("recovery secret question").await;
            type_into(&browser, "input[name='secret_answer']", &format!("{ANSWER}{ENTER}")).await;
            wait_for_absence(&browser, "the page after the answer", "input[name='secret_answer']").await;
            a.audit_both("recovery link sent").await;

            // The recovery by code: the code page, the new password page, the success page.
            browser.goto(&format!("{issuer}/recovery/password?user_type=usager&lang=fr")).await.unwrap();
            let seen = mails_to(&outbox, "claire.dupont@gmail.com");
            type_into(&browser, "input#identifier", &format!("claire.dupont@gmail.com{ENTER}")).await;
            wait_for(&browser, "the security code page", "input#code").await;
            a.audit_both("recovery code").await;
            let code = code_from_mail(&outbox, "claire.dupont@gmail.com", seen).await;
            type_into(&browser, "input#code", &format!("{code}{ENTER}")).await;
            wait_for(&browser, "the new password page", "input#new_password").await;
            a.audit_both("recovery new password").await;
            type_into(&browser, "input#new_password", NEW_PASSWORD).await;
            type_into(&browser, "input#confirm_password", &format!("{NEW_PASSWORD}{ENTER}")).await;
            wait_for(&browser, "the success page", "#recovery-done").await;
            a.audit_both("recovery done").await;

            // First login of a Bonus Eco professional: the secret question step.
            browser.delete_all_cookies().await.unwrap();
            browser.goto(&portail_start()).await.unwrap();
            wait_for_url(&browser, "the login page", |u| is_on(u, &issuer, "/login")).await;
            type_into(&browser, "input[name='login']", "pro.bonus").await;
            type_into(&browser, "input[name='password']", &format!("{PASSWORD}{ENTER}")).await;
            wait_for_url(&browser, "the first login steps", |u| is_on(u, &issuer, "/first-login")).await;
            a.audit_both("first login").await;

            // Signed in: the consent page, then the account space.
            browser.delete_all_cookies().await.unwrap();
            browser.goto(&in_lang(&portail_start(), "fr")).await.unwrap();
            wait_for_url(&browser, "the login page", |u| is_on(u, &issuer, "/login")).await;
            type_into(&browser, "input[name='login']", "claire.dupont").await;
            type_into(&browser, "input[name='password']", &format!("{NEW_PASSWORD}{ENTER}")).await;
            wait_for_url(&browser, "the consent page", |u| is_on(u, &issuer, "/consent")).await;
            a.audit_both("consent").await;
            browser.goto(&format!("{issuer}/account")).await.unwrap();
            wait_for_url(&browser, "the account page", |u| is_on(u, &issuer, "/account")).await;
            wait_for(&browser, "the account page", "main").await;
            a.audit_both("account").await;
            for (path, what) in [("/account/password", "account password"), ("/account/secret-question", "account secret question")] {
                browser.goto(&format!("{issuer}{path}")).await.unwrap();
                wait_for_url(&browser, what, |u| is_on(u, &issuer, path)).await;
                a.audit_both(what).await;
            }
            browser.goto(&format!("{}&prompt=select_account", portail_start())).await.unwrap();
            wait_for_url(&browser, "the account chooser", |u| is_on(u, &issuer, "/select_account")).await;
            a.audit_both("select account").await;

            // Signing out: the confirmation, then the signed-out page.
            browser.goto(&format!("{issuer}/logout")).await.unwrap();
            wait_for(&browser, "the sign-out confirmation", "form button[type='submit']").await;
            a.audit_both("logout confirmation").await;
            browser.find(Locator::Css("form button[type='submit']")).await.unwrap().click().await.unwrap();
            wait_for_url(&browser, "the signed-out page", |u| is_on(u, &issuer, "/logout/confirm")).await;
            a.audit("signed out").await;

            let _ = tx.send((auditor.found, auditor.audited));
    })
    .await;
    let (found, audited) = rx.await.expect("the scenario finished");
    eprintln!("axe audited {} page states in {:?}:\n  {}", audited.len(), started.elapsed(), audited.join("\n  "));
    assert!(found.is_empty(), "axe-core found {} violations:\n{}", found.len(), found.join("\n"));
}

/// What has the focus, and whether it shows (a computed outline or box-shadow).
async fn focused(browser: &Client) -> Value {
    let script = "const e = document.activeElement;
        const s = getComputedStyle(e);
        const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
        return {
            tag: e.tagName.toLowerCase(), name: e.getAttribute('name') || '', id: e.id || '',
            text: (e.innerText || e.value || '').trim().slice(0, 80),
            outline: s.outlineStyle + ' ' + s.outlineWidth + ' ' + s.outlineColor, shadow: s.boxShadow,
            visible: outline || s.boxShadow !== 'none',
        };";
    browser.execute(script, vec![]).await.unwrap()
}

async fn press(browser: &Client, keys: &str) {
    browser.active_element().await.unwrap().send_keys(keys).await.unwrap();
}

/// Presses Tab until the focused element matches `wanted` (at most 40 times); with
/// `check_focus`, every element on the way must show its focus.
async fn tab_to(browser: &Client, what: &str, check_focus: bool, wanted: impl Fn(&Value) -> bool) -> Value {
    let mut path = Vec::new();
    for _ in 0..40 {
        let now = focused(browser).await;
        if check_focus && now["tag"] != "body" {
            assert_eq!(now["visible"], json!(true), "no visible focus indicator on {now} (on the way to {what})");
        }
        if wanted(&now) {
            return now;
        }
        path.push(format!("{} {} {}", now["tag"], now["name"], now["text"]));
        press(browser, TAB).await;
    }
    panic!("Tab never reached {what}; it went through:\n{}", path.join("\n"));
}

/// Every Tab stop of the page, in order, each with a visible focus indicator.
async fn tab_through(browser: &Client) -> Vec<String> {
    let mut stops = Vec::new();
    for _ in 0..40 {
        press(browser, TAB).await;
        let now = focused(browser).await;
        if now["tag"] == "body" {
            return stops;
        }
        assert_eq!(now["visible"], json!(true), "no visible focus indicator on {now} (after {stops:?})");
        stops.push(format!("{} {} {}", now["tag"], now["name"], now["text"]));
    }
    stops
}

fn named(name: &str) -> impl Fn(&Value) -> bool + '_ {
    move |v: &Value| v["name"] == name
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyboard_alone_signs_in_picks_a_recovery_and_answers_the_code_and_the_captcha() {
    if !chromium_available(module_path!()) {
        return;
    }
    let (app, portail, _) = provider().await;
    user(&app, "claire.dupont", "claire.dupont@gmail.com", "usager").await;
    user(&app, "pro.bonus", "pro.bonus@example.org", "bonus_eco").await;
    let issuer = app.issuer.clone();
    let outbox = app.config.outbox_dir.clone();
    let start = portail.start(&["profile"]).url;
    in_chromium(|browser| async move {
        // The login form: Tab to the identifier, type, Tab to the password, type, Enter.
        browser.goto(&in_lang(&start, "fr")).await.unwrap();
        wait_for_url(&browser, "the login page", |u| is_on(u, &issuer, "/login")).await;
        let stops = tab_through(&browser).await;
        assert!(stops.len() >= 4, "the login page has few Tab stops: {stops:?}");
        eprintln!("the login page's Tab stops, each with a visible focus: {stops:#?}");
        browser.refresh().await.unwrap();
        wait_for(&browser, "the login page again", "input[name='login']").await;
        tab_to(&browser, "the identifier", true, named("login")).await;
        press(&browser, "claire.dupont").await;
        tab_to(&browser, "the password", true, named("password")).await;
        // Shift-Tab goes back to the identifier, Tab forward again.
        press(&browser, "\u{E008}\u{E004}\u{E000}").await;
        assert_eq!(focused(&browser).await["name"], "login", "Shift-Tab from the password");
        tab_to(&browser, "the password again", true, named("password")).await;
        press(&browser, PASSWORD).await;
        press(&browser, ENTER).await;
        wait_for_url(&browser, "the consent page, signed in", |u| is_on(u, &issuer, "/consent")).await;
        browser.delete_all_cookies().await.unwrap();

        // The selector: Tab to a choice, Enter opens its page; then the recovery by code.
        browser.goto(&format!("{issuer}/recovery/password?lang=fr")).await.unwrap();
        tab_to(&browser, "the Region's users' choice", true, |v| {
            v["tag"] == "a" && v["text"].as_str().is_some_and(|t| t.contains("usager des services de la Région"))
        })
        .await;
        press(&browser, ENTER).await;
        wait_for(&browser, "the identification page", "input#identifier").await;
        tab_to(&browser, "the e-mail field", true, named("identifier")).await;
        let seen = mails_to(&outbox, "claire.dupont@gmail.com");
        press(&browser, &format!("claire.dupont@gmail.com{ENTER}")).await;
        wait_for(&browser, "the security code page", "input#code").await;
        let code = code_from_mail(&outbox, "claire.dupont@gmail.com", seen).await;
        tab_to(&browser, "the code field", true, named("code")).await;
        press(&browser, &format!("{code}{ENTER}")).await;
        wait_for(&browser, "the new password page", "input#new_password").await;

        // The captcha page: the identifier, the operation's answer, Enter.
        browser.goto(&format!("{issuer}/recovery/password?user_type=bonus_eco&lang=fr")).await.unwrap();
        wait_for(&browser, "the captcha page", ".captcha__operation").await;
        tab_to(&browser, "the identifier", true, named("identifier")).await;
        press(&browser, "pro.bonus").await;
        tab_to(&browser, "the captcha's answer", true, named("captcha_answer")).await;
        let operation = browser.find(Locator::Css(".captcha__operation")).await.unwrap().text().await.unwrap();
        let operation = operation.split(" = ?").next().unwrap().trim().to_owned();
        press(&browser, &format!("{}{ENTER}", idp_tests::captcha::solve_operation(&operation))).await;
        wait_for_absence(&browser, "the page after the captcha", "input[name='captcha_answer']").await;
        // No secret question set for this account: the Bonus Eco support number.
        let page = body_text(&browser).await;
        assert!(page.contains("0 800 74 74 00"), "the page after the captcha:\n{page}");
    })
    .await;
}
