//! The administration console in a real browser (issue #12): headless Chromium signs in to
//! /admin through the provider's login page, (a) an admin creates a client and the example
//! relying party (`clients/demo-rp`) then signs in with it, (b) a support agent unlocks a
//! locked account and sends it a provisional password (the mail is in the outbox), (c) a
//! support agent cannot reach the client pages. The console's cookie (Path=/admin), the CSRF
//! forms, the confirmation pages and the CSP meet a real browser here. Skipped like the other
//! Chromium tests when chromedriver is missing outside CI; failed under CI.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use fantoccini::{Client, Locator};
use idp::account::lockout;
use idp::admin::actor::Role;
use idp::services::Services;
use idp_tests::mail::read_outbox;
use idp_tests::{PASSWORD, TestApp};
use tokio::net::TcpListener;

use crate::admin_console::grant_role;
use crate::chromium::{PATIENCE, body_text, chromium_available, in_chromium, is_on, submit_login_form, wait_for_url};

async fn click(browser: &Client, xpath: &str) {
    browser.find(Locator::XPath(xpath)).await.unwrap_or_else(|e| panic!("no {xpath}: {e}")).click().await.unwrap();
}

/// Waits until the page shows `text`; the failure shows what it shows instead.
async fn wait_for_text(browser: &Client, what: &str, text: &str) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let body = body_text(browser).await;
        if body.contains(text) {
            return body;
        }
        assert!(Instant::now() < deadline, "waited {PATIENCE:?} for {what} ({text:?}); the page says:\n{body}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn fill(browser: &Client, id: &str, value: &str) {
    let input = browser.find(Locator::Id(id)).await.unwrap_or_else(|e| panic!("no #{id}: {e}"));
    input.clear().await.unwrap();
    input.send_keys(value).await.unwrap();
}

/// Opens /admin and signs `login` in on the provider's login page.
async fn sign_in_to_the_console(browser: &Client, issuer: &str, login: &str) {
    browser.goto(&format!("{issuer}/admin?lang=fr")).await.unwrap();
    wait_for_url(browser, "the provider's login page", |u| is_on(u, issuer, "/login")).await;
    submit_login_form(browser, login, PASSWORD).await;
    wait_for_url(browser, "the console", |u| u.as_str().starts_with(&format!("{issuer}/admin/"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_an_admin_creates_a_client_in_the_console_and_the_example_relying_party_signs_in_with_it() {
    if !chromium_available(module_path!()) {
        return;
    }
    let app = TestApp::spawn().await;
    let ada = app.user("ada").await;
    grant_role(&app, "ada", Role::Admin).await;
    let rp_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let rp_base = format!("http://{}", rp_listener.local_addr().unwrap());
    let issuer = app.issuer.clone();

    in_chromium(|browser| async move {
        sign_in_to_the_console(&browser, &issuer, "ada").await;
        browser.goto(&format!("{issuer}/admin/clients/new?lang=fr")).await.unwrap();
        wait_for_text(&browser, "the new client form", "Nouvelle application").await;
        fill(&browser, "client-id", "boutique").await;
        fill(&browser, "client-name", "Boutique").await;
        fill(&browser, "client-redirect-uris", &format!("{rp_base}/callback")).await;
        fill(&browser, "client-logout-uris", &format!("{rp_base}/")).await;
        click(&browser, "//input[@name='grant_refresh_token']").await;
        click(&browser, "//form[.//input[@name='redirect_uris' or @name='id']]//button[@type='submit']").await;

        let page = wait_for_text(&browser, "the secret shown once", "il ne sera plus jamais affiché").await;
        let secret = browser.find(Locator::Id("client-secret")).await.unwrap().text().await.unwrap();
        assert_eq!(secret.trim().len(), 43, "a 32-byte secret, shown whole:\n{page}");
        assert!(
            browser
                .find(Locator::Css("button[data-copy-target='client-secret']"))
                .await
                .unwrap()
                .is_displayed()
                .await
                .unwrap(),
            "with JavaScript the copy button is shown"
        );

        // The example relying party, configured with what the console gave.
        let rp = demo_rp::router(demo_rp::Config {
            issuer: issuer.clone(),
            client_id: "boutique".into(),
            client_secret: Some(secret.trim().to_owned()),
            base_url: rp_base.clone(),
            ..demo_rp::Config::default()
        })
        .await
        .expect("the example relying party discovers the provider");
        tokio::spawn(async move { axum::serve(rp_listener, rp).await });

        browser.goto(&rp_base).await.unwrap();
        click(&browser, "//a[contains(., 'Se connecter')]").await;
        // Ada is signed in at the provider already: the consent page of this third-party client.
        let url = wait_for_url(&browser, "the consent page or the relying party", |u| {
            is_on(u, &issuer, "/consent") || is_on(u, &issuer, "/login") || u.as_str().starts_with(&rp_base)
        })
        .await;
        if url.path() == "/login" {
            submit_login_form(&browser, "ada", PASSWORD).await;
            wait_for_url(&browser, "the consent page or the relying party", |u| {
                is_on(u, &issuer, "/consent") || u.as_str().starts_with(&rp_base)
            })
            .await;
        }
        if browser.current_url().await.unwrap().path() == "/consent" {
            click(&browser, "//button[@name='decision' and @value='allow']").await;
        }
        wait_for_url(&browser, "the relying party's home page, signed in", |u| is_on(u, &rp_base, "/")).await;
        let page = wait_for_text(&browser, "the signed-in page", "Se déconnecter").await;
        assert!(page.contains(&ada.id), "the relying party shows ada's sub {}:\n{page}", ada.id);
    })
    .await;
}

/// Three wrong passwords, as the login page counts them.
async fn lock(s: &Services, login: &str) {
    let user = s.store.user_by_login(login).await.unwrap().unwrap();
    for _ in 0..3 {
        let attempt = lockout::begin(s, Some(&user), "192.0.2.7").await.unwrap();
        lockout::finish(s, attempt, Some(&user), false, None).await.unwrap();
    }
    assert!(lockout::is_locked(s, &user.id).await.unwrap(), "the account is locked to begin with");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_a_support_agent_unlocks_a_locked_account_and_sends_a_provisional_password() {
    if !chromium_available(module_path!()) {
        return;
    }
    let app = TestApp::spawn().await;
    app.user("sam").await;
    grant_role(&app, "sam", Role::Support).await;
    let claire = app.user("claire.dupont").await;
    lock(&app.services, "claire.dupont").await;
    let issuer = app.issuer.clone();
    let outbox = app.config.outbox_dir.clone();
    let services = app.services.clone();
    let before = read_outbox(&outbox).into_iter().filter(|m| m.to.contains("claire.dupont@example.org")).count();

    in_chromium(|browser| support_walk(browser, issuer, outbox, services, claire.id, before)).await;
}

async fn support_walk(
    browser: Client,
    issuer: String,
    outbox: PathBuf,
    services: Arc<Services>,
    user_id: String,
    mails_before: usize,
) {
    sign_in_to_the_console(&browser, &issuer, "sam").await;
    browser.goto(&format!("{issuer}/admin/users?lang=fr")).await.unwrap();
    fill(&browser, "users-login", "claire").await;
    click(&browser, "//form[@role='search']//button[@type='submit']").await;
    wait_for_text(&browser, "the search results", "claire.dupont").await;
    click(&browser, "//a[contains(., 'claire.dupont')]").await;

    let page = wait_for_text(&browser, "the account page", "Déverrouiller le compte").await;
    assert!(page.contains("verrouillé"), "the account shows as locked:\n{page}");
    click(&browser, "//button[contains(., 'Déverrouiller le compte')]").await;
    wait_for_text(&browser, "the confirmation", "Le compte a été déverrouillé.").await;
    assert!(!lockout::is_locked(&services, &user_id).await.unwrap(), "the lock is lifted");

    click(&browser, "//button[contains(., 'Envoyer un mot de passe provisoire')]").await;
    wait_for_text(&browser, "the confirmation", "Un mot de passe provisoire a été envoyé").await;
    wait_for_mail(&outbox, "claire.dupont@example.org", mails_before).await;
}

async fn wait_for_mail(outbox: &Path, to: &str, before: usize) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let mails: Vec<_> = read_outbox(outbox).into_iter().filter(|m| m.to.contains(to)).collect();
        if mails.len() > before {
            let newest = mails.iter().find(|m| m.subject.to_lowercase().contains("provisoire")).unwrap_or(&mails[0]);
            assert!(!newest.text.is_empty(), "the mail has a text part");
            return;
        }
        assert!(Instant::now() < deadline, "no provisional password mailed to {to} within {PATIENCE:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_a_support_agent_cannot_reach_the_client_pages() {
    if !chromium_available(module_path!()) {
        return;
    }
    let app = TestApp::spawn().await;
    app.user("sam").await;
    grant_role(&app, "sam", Role::Support).await;
    let issuer = app.issuer.clone();

    in_chromium(|browser| async move {
        sign_in_to_the_console(&browser, &issuer, "sam").await;
        let nav = body_text(&browser).await;
        assert!(!nav.contains("Applications"), "the navigation has no client pages for support:\n{nav}");
        for path in ["/admin/clients", "/admin/clients/new", "/admin/clients/idp-account"] {
            browser.goto(&format!("{issuer}{path}?lang=fr")).await.unwrap();
            let page = wait_for_text(&browser, "the refusal", "Votre rôle ne permet pas").await;
            assert!(!page.contains("Nouvelle application"), "{path} shows nothing of the clients:\n{page}");
        }
    })
    .await;
}
