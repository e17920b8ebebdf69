//! Issue #13, item 8: a page keeps the theme and language of the sign-in it belongs to. The
//! error pages and the form_post page take the client's theme and the request's `ui_locales`;
//! the unknown-client page, whose client is unknown, still takes `ui_locales`; a recovery shown
//! in its user type's theme ends on a login page in that theme; the `lang` of an authorization
//! request carries to the login page it leads to.

use idp::admin::ClientSpec;
use idp_tests::browser::{Browser, Page};
use idp_tests::{RP_CALLBACK, TestApp};

fn themed(page: &Page, theme: &str) -> bool {
    page.stylesheets().iter().any(|s| s.starts_with(&format!("/static/{theme}/")))
}

async fn region_client(app: &TestApp) -> String {
    let spec = ClientSpec {
        id: "region-portal".into(),
        name: "Mes démarches".into(),
        redirect_uris: vec![RP_CALLBACK.into()],
        grants: vec!["authorization_code".into()],
        theme: Some("region".into()),
        ..ClientSpec::default()
    };
    app.client(spec).await.0.id
}

#[tokio::test]
async fn error_and_form_post_pages_take_the_clients_theme_and_ui_locales() {
    let app = TestApp::spawn().await;
    let client_id = region_client(&app).await;
    let browser = Browser::new();

    // An unregistered redirect URI: an error page, but the client is known.
    let wrong = browser
        .get(&app.url(&format!(
            "/authorize?client_id={client_id}&redirect_uri=https%3A%2F%2Fevil.example%2F&response_type=code&scope=openid&ui_locales=en"
        )))
        .await;
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    assert!(themed(&wrong, "region"), "the client's theme: {:?}", wrong.stylesheets());
    assert!(wrong.body.contains("lang=\"en\""), "ui_locales=en: {}", wrong.body);

    // An unknown client: no theme to take, the language still.
    let unknown = browser
        .get(&app.url(
            "/authorize?client_id=nobody&redirect_uri=https%3A%2F%2Frp.example%2F&response_type=code&ui_locales=en",
        ))
        .await;
    assert_eq!(unknown.status, 400, "{}", unknown.body);
    assert!(themed(&unknown, "default"), "{:?}", unknown.stylesheets());
    assert!(unknown.body.contains("lang=\"en\""), "{}", unknown.body);
    let french = browser
        .get(&app.url(
            "/authorize?client_id=nobody&redirect_uri=https%3A%2F%2Frp.example%2F&response_type=code&ui_locales=fr",
        ))
        .await;
    assert!(french.body.contains("lang=\"fr\""), "{}", french.body);

    // An error that goes back to the client by form_post (no code_challenge): the page that
    // posts it is the client's, in its language.
    let callback = "https%3A%2F%2Frp.example%2Fcallback";
    let post = browser
        .get(&app.url(&format!(
            "/authorize?client_id={client_id}&redirect_uri={callback}&response_type=code&scope=openid&response_mode=form_post&state=s1&ui_locales=en&prompt=bogus"
        )))
        .await;
    assert_eq!(post.status, 200, "{}", post.body);
    assert!(post.body.contains("name=\"error\""), "an error posted back: {}", post.body);
    assert!(themed(&post, "region"), "{:?}", post.stylesheets());
    assert!(post.body.contains("lang=\"en\""), "{}", post.body);

    // A 404 under a themed client's query keeps its theme too.
    let missing = browser.get(&app.url(&format!("/no-such-page?client_id={client_id}&ui_locales=en"))).await;
    assert_eq!(missing.status, 404);
    assert!(themed(&missing, "region") && missing.body.contains("lang=\"en\""), "{}", missing.body);
}

#[tokio::test]
async fn the_lang_of_the_authorization_request_carries_to_the_login_page() {
    let app = TestApp::spawn().await;
    let client_id = region_client(&app).await;
    let callback = "https%3A%2F%2Frp.example%2Fcallback";
    let authorize = format!(
        "/authorize?client_id={client_id}&redirect_uri={callback}&response_type=code&scope=openid&state=s1\
         &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
    );
    for (lang, expected) in [("en", Some("en")), ("fr", Some("fr")), ("xx", None)] {
        let browser = Browser::new();
        let answer = browser.get(&app.url(&format!("{authorize}&lang={lang}"))).await;
        assert_eq!(answer.status, 303, "{}", answer.body);
        let location = answer.location().unwrap();
        assert!(location.starts_with("/login?request_id="), "{location}");
        assert_eq!(location.contains("&lang="), expected.is_some(), "{location}");
        if let Some(code) = expected {
            assert!(location.ends_with(&format!("&lang={code}")), "{location}");
            let login = browser.get(&app.url(&location)).await;
            assert!(login.body.contains(&format!("<html lang=\"{code}\"")), "{}", login.body);
        }
    }
}
