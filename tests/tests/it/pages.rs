//! The pages people see: language, theme per client, static files, security headers and the
//! CSP they rely on, the login form (CSRF, the generic failure message, the session cookie),
//! and themed pages for every error, including the framework's own rejections.

use idp::admin::ClientSpec;
use idp_tests::browser::Page;
use idp_tests::rp::Rp;
use idp_tests::{Browser, PASSWORD, RP_CALLBACK, Setup, TestApp};

const LOGIN_FAILED: &str = "Identifiant ou mot de passe incorrect.";

/// A provider with the user `alice.martin` and the shop, a confidential client at `RP_CALLBACK`.
async fn provider_with_shop() -> (TestApp, Rp) {
    let app = TestApp::spawn().await;
    app.user("alice.martin").await;
    let (client, secret) = app.confidential_client("shop", RP_CALLBACK).await;
    let rp = Rp::discover(&app.issuer, &client.id, Some(&secret), RP_CALLBACK).await;
    (app, rp)
}

/// From an authorization URL to the login page it leads a signed-out browser to.
async fn open_login_page(app: &TestApp, browser: &Browser, authorize_url: &str) -> Page {
    let page = browser.follow(&app.issuer, browser.get(authorize_url).await).await;
    assert_eq!(page.status, 200, "the login page did not show: {}", page.body);
    assert!(page.url.contains("/login?request_id="), "expected the login page, got {}", page.url);
    page
}

fn html_lang(page: &Page) -> &str {
    let at = page.body.find("<html lang=\"").expect("an <html lang> attribute") + 12;
    let end = page.body[at..].find('"').unwrap();
    &page.body[at..at + end]
}

/// The error page of the default theme, in French, with status `status` and `message`.
pub fn assert_themed_error(page: &Page, status: u16, message: &str) {
    assert_eq!(page.status, status, "unexpected status; the page said: {}", page.body);
    assert_eq!(page.location(), None, "an error page, never a redirect");
    assert!(
        page.header("content-type").is_some_and(|t| t.starts_with("text/html")),
        "not an HTML page: {:?}",
        page.header("content-type")
    );
    assert_eq!(html_lang(page), "fr");
    assert!(page.body.contains("Une erreur est survenue"), "not the themed error page: {}", page.body);
    assert!(page.body.contains(message), "the error page does not say {message:?}: {}", page.body);
}

/// The value a `Set-Cookie` header gives its cookie.
pub fn cookie_value(set_cookie: &str) -> &str {
    let pair = set_cookie.split(';').next().unwrap();
    pair.split_once('=').unwrap().1
}

#[tokio::test]
async fn the_login_page_is_in_french_by_default() {
    let (app, rp) = provider_with_shop().await;

    let page = open_login_page(&app, &Browser::new(), &rp.start(&[]).url).await;

    assert_eq!(html_lang(&page), "fr");
    assert!(page.body.contains("Se connecter"), "the login page is not in French: {}", page.body);
}

#[tokio::test]
async fn the_login_page_is_in_english_when_the_authorization_request_asks_for_it() {
    let (app, rp) = provider_with_shop().await;

    let url = rp.start(&[]).url + "&ui_locales=en";
    let page = open_login_page(&app, &Browser::new(), &url).await;

    assert_eq!(html_lang(&page), "en");
    assert!(page.body.contains("Sign in"), "the login page is not in English: {}", page.body);
}

#[tokio::test]
async fn the_login_page_is_in_english_for_a_browser_that_prefers_english() {
    let (app, rp) = provider_with_shop().await;
    let browser = Browser::new();
    let login_url = open_login_page(&app, &browser, &rp.start(&[]).url).await.url;

    let page = browser.get_with(&login_url, &[("accept-language", "en-GB,en;q=0.9")]).await;

    assert_eq!(page.status, 200);
    assert_eq!(html_lang(&page), "en");
    assert!(page.body.contains("Sign in"), "the login page is not in English: {}", page.body);
}

#[tokio::test]
async fn the_language_switch_shows_the_login_page_in_english() {
    let (app, rp) = provider_with_shop().await;
    let browser = Browser::new();
    let french = open_login_page(&app, &browser, &rp.start(&[]).url).await;
    let switch = french.link_with("hreflang=\"en\"").expect("a link to the English page");
    assert!(switch.starts_with("/login?") && switch.contains("lang=en"), "the switch links to {switch}");

    let english = browser.get(&app.url(&switch)).await;

    assert_eq!(english.status, 200, "{}", english.body);
    assert_eq!(html_lang(&english), "en");
    assert_eq!(english.field("request_id"), french.field("request_id"), "the same sign-in request goes on");
}

#[tokio::test]
async fn after_a_failed_sign_in_the_login_page_stays_in_the_chosen_language() {
    let (app, rp) = provider_with_shop().await;
    let browser = Browser::new();
    let french = open_login_page(&app, &browser, &rp.start(&[]).url).await;
    let english = browser.get(&app.url(&french.link_with("hreflang=\"en\"").unwrap())).await;

    let page = browser.submit_login(&app.issuer, &english, "alice.martin", "Wrong-password-1").await;

    assert_eq!(page.status, 401, "{}", page.body);
    assert_eq!(html_lang(&page), "en", "the user chose English: {}", page.body);
    assert!(page.body.contains("Incorrect username or password."), "{}", page.body);
}

#[tokio::test]
async fn the_language_switch_after_a_failed_sign_in_keeps_the_sign_in_request() {
    let (app, rp) = provider_with_shop().await;
    let browser = Browser::new();
    let login = open_login_page(&app, &browser, &rp.start(&[]).url).await;
    let failed = browser.submit_login(&app.issuer, &login, "alice.martin", "Wrong-password-1").await;
    let switch = failed.link_with("hreflang=\"en\"").expect("a link to the English page");

    let english = browser.get(&app.url(&switch)).await;

    assert_eq!(english.status, 200, "the switch {switch} led to: {}", english.body);
    assert_eq!(html_lang(&english), "en");
    assert_eq!(english.field("request_id"), login.field("request_id"), "the same sign-in request goes on");
}

#[tokio::test]
async fn a_client_with_the_region_theme_gets_the_region_login_page() {
    let app = TestApp::spawn().await;
    let (client, secret) = app
        .client(ClientSpec {
            id: "regional-portal".into(),
            name: "Portail régional".into(),
            redirect_uris: vec![RP_CALLBACK.into()],
            theme: Some("region".into()),
            ..ClientSpec::default()
        })
        .await;
    let rp = Rp::discover(&app.issuer, &client.id, secret.as_deref(), RP_CALLBACK).await;

    let page = open_login_page(&app, &Browser::new(), &rp.start(&[]).url).await;

    assert_eq!(page.stylesheets(), ["/static/region/style.css"]);
    assert!(page.body.contains("Mes démarches en région"), "not the region brand: {}", page.body);
}

#[tokio::test]
async fn a_client_without_a_theme_gets_the_default_login_page() {
    let (app, rp) = provider_with_shop().await;

    let page = open_login_page(&app, &Browser::new(), &rp.start(&[]).url).await;

    assert_eq!(page.stylesheets(), ["/static/default/style.css"]);
    assert!(page.body.contains("Compte unique"), "not the default brand: {}", page.body);
    assert!(!page.body.contains("Mes démarches en région"), "the region brand leaked: {}", page.body);
}

#[tokio::test]
async fn a_theme_serves_the_default_file_it_does_not_override() {
    let app = TestApp::spawn().await;
    let browser = Browser::new();

    let region = browser.get(&app.url("/static/region/app.js")).await;
    let default = browser.get(&app.url("/static/default/app.js")).await;

    assert_eq!(region.status, 200);
    assert!(region.header("content-type").is_some_and(|t| t.starts_with("text/javascript")));
    assert!(!region.body.is_empty());
    assert_eq!(region.body, default.body, "the region theme falls back to the default app.js");
}

#[tokio::test]
async fn an_unknown_static_file_is_a_themed_404() {
    let app = TestApp::spawn().await;

    let page = Browser::new().get(&app.url("/static/unknown/x.css")).await;

    assert_themed_error(&page, 404, "La page demandée n’existe pas.");
}

/// One page of each template, and the framework's error pages, as one browser meets them.
async fn every_kind_of_page() -> Vec<(&'static str, Page)> {
    let (app, rp) = provider_with_shop().await;
    let browser = Browser::new();
    let mut pages = Vec::new();

    let login = browser.follow(&app.issuer, browser.get(&app.url("/account")).await).await;
    let account =
        browser.follow(&app.issuer, browser.submit_login(&app.issuer, &login, "alice.martin", PASSWORD).await).await;
    assert!(account.url.ends_with("/account"), "expected the account page, got {}", account.url);
    pages.push(("login", login));
    pages.push(("account", account));

    let consent = browser.follow(&app.issuer, browser.get(&rp.start(&["email"]).url).await).await;
    assert!(consent.url.contains("/consent?"), "expected the consent page, got {}", consent.url);
    pages.push(("consent", consent));

    pages.push(("not found", browser.get(&app.url("/nowhere")).await));
    pages.push(("static file not found", browser.get(&app.url("/static/default/nothing.css")).await));
    pages.push(("method not allowed", browser.send(browser.http.delete(app.url("/login"))).await));
    let too_large = browser.http.post(app.url("/login")).form(&[("password", "x".repeat(app.config.max_body_bytes))]);
    pages.push(("payload too large", browser.send(too_large).await));

    let confirm = browser.get(&app.url("/logout")).await;
    let csrf = confirm.field("csrf").expect("a CSRF token on the logout confirmation");
    let logout_id = confirm.field("logout_id").expect("a logout_id on the logout confirmation");
    pages.push(("logout confirmation", confirm));
    let logged_out = browser
        .post(&app.url("/logout/confirm"), &[("csrf", &csrf), ("logout_id", &logout_id), ("decision", "logout")])
        .await;
    pages.push(("logged out", logged_out));

    for (name, page) in &pages {
        assert!(
            page.header("content-type").is_some_and(|t| t.starts_with("text/html")),
            "the {name} page is not HTML: {}",
            page.body
        );
    }
    pages
}

#[tokio::test]
async fn every_html_page_carries_a_strict_content_security_policy_and_is_never_cached() {
    for (name, page) in every_kind_of_page().await {
        let csp = page.header("content-security-policy").unwrap_or_else(|| panic!("the {name} page has no CSP"));
        assert!(!csp.contains("unsafe-inline"), "the {name} page allows inline code: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "the {name} page may be framed: {csp}");
        assert_eq!(page.header("x-content-type-options").as_deref(), Some("nosniff"), "the {name} page");
        assert_eq!(page.header("cache-control").as_deref(), Some("no-store"), "the {name} page");
    }
}

#[tokio::test]
async fn no_page_has_inline_scripts_or_styles() {
    for (name, page) in every_kind_of_page().await {
        for (at, _) in page.body.match_indices("<script") {
            let tag = &page.body[at..at + page.body[at..].find('>').unwrap()];
            assert!(tag.contains(" src="), "the {name} page has an inline script: {tag}");
        }
        assert!(!page.body.contains("<style"), "the {name} page has a <style> element");
        assert!(!page.body.contains("style="), "the {name} page has a style= attribute");
    }
}

#[tokio::test]
async fn the_login_page_lets_its_form_lead_to_the_clients_redirect_origin() {
    let (app, rp) = provider_with_shop().await;

    let page = open_login_page(&app, &Browser::new(), &rp.start(&[]).url).await;

    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("form-action 'self' https://rp.example;"), "form-action does not allow the client: {csp}");
}

#[tokio::test]
async fn the_login_form_carries_a_csrf_token_bound_to_a_cookie() {
    let (app, rp) = provider_with_shop().await;

    let page = open_login_page(&app, &Browser::new(), &rp.start(&[]).url).await;

    assert!(page.field("csrf").is_some_and(|t| t.len() >= 32), "no CSRF token in the login form");
    assert!(page.set_cookie("idp_csrf").is_some(), "no CSRF cookie: {:?}", page.set_cookies());
}

#[tokio::test]
async fn a_login_without_a_csrf_token_is_refused_and_opens_no_session() {
    let (app, rp) = provider_with_shop().await;
    let alice = app.services.store.user_by_login("alice.martin").await.unwrap().unwrap();
    let browser = Browser::new();
    let login = open_login_page(&app, &browser, &rp.start(&[]).url).await;

    let request_id = login.field("request_id").unwrap();
    let page = browser
        .post(&app.url("/login"), &[("request_id", &request_id), ("login", "alice.martin"), ("password", PASSWORD)])
        .await;

    assert_themed_error(&page, 403, "ce formulaire n’est plus valide");
    assert_eq!(page.set_cookie("idp_session"), None);
    assert!(app.sessions_of(&alice.id).await.is_empty(), "a session was opened");
}

#[tokio::test]
async fn a_login_with_another_browsers_csrf_token_is_refused_and_opens_no_session() {
    let (app, rp) = provider_with_shop().await;
    let alice = app.services.store.user_by_login("alice.martin").await.unwrap().unwrap();
    let browser = Browser::new();
    let login = open_login_page(&app, &browser, &rp.start(&[]).url).await;
    let attacker = open_login_page(&app, &Browser::new(), &rp.start(&[]).url).await;

    let page = browser
        .post(
            &app.url("/login"),
            &[
                ("csrf", &attacker.field("csrf").unwrap()),
                ("request_id", &login.field("request_id").unwrap()),
                ("login", "alice.martin"),
                ("password", PASSWORD),
            ],
        )
        .await;

    assert_themed_error(&page, 403, "ce formulaire n’est plus valide");
    assert_eq!(page.set_cookie("idp_session"), None);
    assert!(app.sessions_of(&alice.id).await.is_empty(), "a session was opened");
}

#[tokio::test]
async fn a_wrong_password_shows_the_generic_message_with_status_401() {
    let (app, rp) = provider_with_shop().await;
    let browser = Browser::new();
    let login = open_login_page(&app, &browser, &rp.start(&[]).url).await;

    let page = browser.submit_login(&app.issuer, &login, "alice.martin", "Wrong-password-1").await;

    assert_eq!(page.status, 401);
    assert!(page.body.contains(LOGIN_FAILED), "the login page does not say {LOGIN_FAILED:?}: {}", page.body);
    assert_eq!(page.set_cookie("idp_session"), None);
}

#[tokio::test]
async fn an_unknown_identifier_gets_the_same_message_as_a_wrong_password() {
    let (app, rp) = provider_with_shop().await;
    let browser = Browser::new();
    let login = open_login_page(&app, &browser, &rp.start(&[]).url).await;

    let page = browser.submit_login(&app.issuer, &login, "nobody.here", PASSWORD).await;

    assert_eq!(page.status, 401);
    assert!(page.body.contains(LOGIN_FAILED), "the login page does not say {LOGIN_FAILED:?}: {}", page.body);
}

#[tokio::test]
async fn a_successful_login_sets_an_httponly_samesite_lax_session_cookie_not_secure_over_http() {
    let (app, rp) = provider_with_shop().await;
    let browser = Browser::new();
    let login = open_login_page(&app, &browser, &rp.start(&[]).url).await;

    let page = browser.submit_login(&app.issuer, &login, "alice.martin", PASSWORD).await;

    assert_eq!(page.status, 303, "{}", page.body);
    let cookie = page.set_cookie("idp_session").expect("a session cookie");
    let attributes: Vec<&str> = cookie.split(';').map(str::trim).skip(1).collect();
    assert!(attributes.contains(&"HttpOnly"), "{cookie}");
    assert!(attributes.contains(&"SameSite=Lax"), "{cookie}");
    assert!(attributes.contains(&"Path=/"), "{cookie}");
    assert!(!attributes.contains(&"Secure"), "a Secure cookie would not come back over http: {cookie}");
}

/// The provider thinks it is served at `https://idp.example` (behind a TLS proxy); the test
/// still reaches it on its local http address. The test client keeps no cookie jar (it would
/// not send `Secure` cookies over http), it sends the CSRF cookie itself.
#[tokio::test]
async fn behind_https_the_cookies_get_the_host_prefix_and_secure() {
    let app = TestApp::spawn_with(Setup {
        tweak: Box::new(|raw| raw.issuer = "https://idp.example".into()),
        ..Setup::default()
    })
    .await;
    app.user("alice.martin").await;
    app.confidential_client("shop", RP_CALLBACK).await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let browser = Browser { http };
    let authorize = format!(
        "/authorize?response_type=code&client_id=shop&redirect_uri={}&scope=openid&state=s1",
        crate::flow::urlencode(RP_CALLBACK)
    );
    let login = browser.follow(&app.issuer, browser.get(&app.url(&authorize)).await).await;
    let csrf_cookie = login.set_cookie("__Host-idp_csrf").expect("a __Host- CSRF cookie");
    assert!(csrf_cookie.contains("; Secure"), "{csrf_cookie}");

    let page = browser
        .send(
            browser
                .http
                .post(app.url("/login"))
                .header("cookie", format!("__Host-idp_csrf={}", cookie_value(&csrf_cookie)))
                .form(&[
                    ("csrf", login.field("csrf").unwrap().as_str()),
                    ("request_id", &login.field("request_id").unwrap()),
                    ("login", "alice.martin"),
                    ("password", PASSWORD),
                ]),
        )
        .await;

    assert_eq!(page.status, 303, "{}", page.body);
    let session = page.set_cookie("__Host-idp_session").expect("a __Host- session cookie");
    assert!(session.contains("; Secure") && session.contains("; Path=/"), "{session}");
    assert!(!session.contains("Domain="), "__Host- cookies have no Domain: {session}");
    assert_eq!(page.set_cookie("idp_session"), None, "no unprefixed cookie over https");
}

/// Signs alice in with a fresh browser; returns the session cookie's value.
async fn a_session_cookie(app: &TestApp, rp: &Rp) -> String {
    let browser = Browser::new();
    let login = open_login_page(app, &browser, &rp.start(&[]).url).await;
    let page = browser.submit_login(&app.issuer, &login, "alice.martin", PASSWORD).await;
    cookie_value(&page.set_cookie("idp_session").expect("a session cookie")).to_owned()
}

/// What a browser holding only the session cookie `value` sees on a new authorization.
async fn authorize_with_session_cookie(app: &TestApp, rp: &Rp, value: &str) -> Page {
    let browser = Browser::new();
    let cookie = format!("idp_session={value}");
    let mut page = browser.get_with(&rp.start(&[]).url, &[("cookie", &cookie)]).await;
    while let Some(location) = page.location().filter(|l| l.starts_with('/')) {
        page = browser.get_with(&app.url(&location), &[("cookie", &cookie)]).await;
    }
    page
}

#[tokio::test]
async fn a_tampered_session_cookie_means_signed_out() {
    let (app, rp) = provider_with_shop().await;
    let genuine = a_session_cookie(&app, &rp).await;
    let signed_in = authorize_with_session_cookie(&app, &rp, &genuine).await;
    assert!(signed_in.url.contains("/consent?"), "the genuine cookie signs in: {}", signed_in.url);

    let last = genuine.chars().last().unwrap();
    let tampered = format!("{}{}", &genuine[..genuine.len() - 1], if last == 'A' { 'B' } else { 'A' });
    let page = authorize_with_session_cookie(&app, &rp, &tampered).await;

    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.url.contains("/login?"), "expected the login page, got {}", page.url);
}

#[tokio::test]
async fn an_unknown_session_cookie_means_signed_out() {
    let (app, rp) = provider_with_shop().await;

    let page = authorize_with_session_cookie(&app, &rp, &idp::crypto::random_token(32)).await;

    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.url.contains("/login?"), "expected the login page, got {}", page.url);
}

#[tokio::test]
async fn the_login_page_of_an_unknown_request_is_a_themed_400() {
    let app = TestApp::spawn().await;

    let page = Browser::new().get(&app.url("/login?request_id=no-such-request")).await;

    assert_themed_error(&page, 400, "Votre demande de connexion a expiré.");
}

#[tokio::test]
async fn a_login_submitted_after_the_request_expired_is_a_themed_400() {
    let (app, rp) = provider_with_shop().await;
    let browser = Browser::new();
    let login = open_login_page(&app, &browser, &rp.start(&[]).url).await;

    app.clock.advance(app.config.lifetimes.auth_request + 1);
    let page = browser.submit_login(&app.issuer, &login, "alice.martin", PASSWORD).await;

    assert_themed_error(&page, 400, "Votre demande de connexion a expiré.");
    assert_eq!(page.set_cookie("idp_session"), None);
}

#[tokio::test]
async fn a_login_form_over_the_size_limit_is_a_themed_413() {
    let app = TestApp::spawn().await;
    let browser = Browser::new();

    let body = [("login", "alice.martin".to_owned()), ("password", "x".repeat(app.config.max_body_bytes + 1))];
    let page = browser.send(browser.http.post(app.url("/login")).form(&body)).await;

    assert_themed_error(&page, 413, "Les données envoyées sont trop volumineuses.");
}

#[tokio::test]
async fn a_token_request_over_the_size_limit_is_a_json_invalid_request() {
    let app = TestApp::spawn().await;
    let browser = Browser::new();

    let body = [("grant_type", "authorization_code".to_owned()), ("code", "x".repeat(app.config.max_body_bytes + 1))];
    let page = browser.send(browser.http.post(app.url("/token")).form(&body)).await;

    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.header("content-type").is_some_and(|t| t.starts_with("application/json")), "{}", page.body);
    let json: serde_json::Value = serde_json::from_str(&page.body).unwrap();
    assert_eq!(json["error"], "invalid_request");
}

#[tokio::test]
async fn an_unknown_path_is_a_themed_404() {
    let app = TestApp::spawn().await;

    let page = Browser::new().get(&app.url("/no/such/page")).await;

    assert_themed_error(&page, 404, "La page demandée n’existe pas.");
}

#[tokio::test]
async fn a_wrong_method_is_a_themed_405() {
    let app = TestApp::spawn().await;
    let browser = Browser::new();

    let page = browser.send(browser.http.delete(app.url("/login"))).await;

    assert_themed_error(&page, 405, "Cette page ne peut pas être utilisée de cette manière.");
}

#[tokio::test]
async fn a_form_post_that_is_not_form_encoded_is_a_themed_415() {
    let (app, rp) = provider_with_shop().await;
    let browser = Browser::new();
    let login = open_login_page(&app, &browser, &rp.start(&[]).url).await;

    let json = serde_json::json!({
        "csrf": login.field("csrf").unwrap(),
        "request_id": login.field("request_id").unwrap(),
        "login": "alice.martin",
        "password": PASSWORD,
    });
    let page = browser.send(browser.http.post(app.url("/login")).json(&json)).await;

    assert_themed_error(&page, 415, "La demande reçue est invalide.");
}
