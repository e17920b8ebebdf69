//! /account on a 390 px wide phone screen (issue #13, item 13): with an open session on another
//! browser, a consented application and recent sign-ins, nothing on the page is wider than the
//! screen, nor any table wider than its box, so nobody has to scroll sideways to read a session
//! or remove an application's access.

use fantoccini::Client;
use idp::admin::ClientSpec;
use idp::domain::Scopes;
use idp_tests::{Browser, PASSWORD, RP_CALLBACK, TestApp};

use crate::chromium::{body_text, chromium_available, in_chromium, is_on, submit_login_form, wait_for_url};

const PHONE_WIDTH: u32 = 390;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_shows_the_account_page_without_horizontal_scrolling_on_a_390_px_screen() {
    if !chromium_available(module_path!()) {
        return;
    }
    let app = TestApp::spawn().await;
    let alice = app.user("alice.martin").await;
    app.client(ClientSpec {
        id: "mediatheque".into(),
        name: "Médiathèque intercommunale du Pays de Fontainebleau".into(),
        redirect_uris: vec![RP_CALLBACK.into()],
        ..ClientSpec::default()
    })
    .await;
    let scopes = Scopes::parse("openid profile email offline_access").unwrap();
    app.services.store.save_consent(&alice.id, "mediatheque", &scopes, app.services.now()).await.unwrap();
    // Another open session, from a browser with a long User-Agent, and a failed sign-in.
    let other = Browser::with_user_agent(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    );
    let login = other.follow(&app.issuer, other.get(&app.url("/account")).await).await;
    other.submit_login(&app.issuer, &login, "alice.martin", "not her password").await;
    let login = other.follow(&app.issuer, other.get(&app.url("/account")).await).await;
    other.submit_login(&app.issuer, &login, "alice.martin", PASSWORD).await;

    let issuer = app.issuer.clone();
    in_chromium(|browser| read_the_account_page_on_a_phone(browser, issuer)).await;
}

async fn read_the_account_page_on_a_phone(browser: Client, issuer: String) {
    browser.set_window_size(PHONE_WIDTH, 844).await.unwrap();
    browser.goto(&format!("{issuer}/account")).await.unwrap();
    wait_for_url(&browser, "the login page", |url| is_on(url, &issuer, "/login")).await;
    submit_login_form(&browser, "alice.martin", PASSWORD).await;
    wait_for_url(&browser, "the account page", |url| is_on(url, &issuer, "/account")).await;

    let text = body_text(&browser).await;
    // Chromium asks for English.
    assert!(text.contains("Médiathèque intercommunale"), "the application is listed:\n{text}");
    assert!(text.contains("Edge on Windows"), "the other session is listed:\n{text}");
    let widths = browser
        .execute(
            "return [window.innerWidth, document.documentElement.scrollWidth, \
             Array.from(document.querySelectorAll('body *')) \
               .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5) \
               .slice(0, 5).map(e => e.tagName + '.' + e.className + ': ' + e.textContent.trim().slice(0, 40)), \
             Array.from(document.querySelectorAll('.table-wrapper')) \
               .filter(w => w.scrollWidth > w.clientWidth).map(w => w.getAttribute('aria-labelledby'))];",
            vec![],
        )
        .await
        .unwrap();
    let inner = widths[0].as_u64().unwrap();
    let scroll = widths[1].as_u64().unwrap();
    assert!(inner <= u64::from(PHONE_WIDTH), "the window is a phone's, {inner} px wide");
    assert!(scroll <= inner, "the page is {scroll} px wide on a {inner} px screen; too wide: {}", widths[2]);
    // A table scrolling sideways inside its own box would pass the test above: none does.
    assert_eq!(widths[3], serde_json::json!([]), "these tables scroll sideways on a {inner} px screen");
}
