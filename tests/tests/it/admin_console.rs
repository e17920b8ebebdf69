//! The administration console (/admin, issue #12) over HTTP: it signs in through /authorize
//! like /account, lets only people with a role in, binds every form to its own session, and
//! each page and action works for the roles that may use it.

use idp::admin::actor::Role;
use idp_tests::browser::{Page, query};
use idp_tests::{Browser, PASSWORD, TestApp};

/// Gives `login` a console role.
pub(crate) async fn grant_role(app: &TestApp, login: &str, role: Role) {
    let who = idp::admin::users::UserRef::Login(login.into());
    idp::admin::users::set_role(&app.services, &idp::admin::actor::Actor::cli(), &who, Some(role)).await.unwrap();
}

/// A provider with an admin (`ada`), a support agent (`sam`), an auditor (`aude`) and a user
/// without a role (`alice.martin`).
pub(crate) async fn provider() -> TestApp {
    let app = TestApp::spawn().await;
    for (login, role) in [("ada", Some(Role::Admin)), ("sam", Some(Role::Support)), ("aude", Some(Role::Auditor))] {
        app.user(login).await;
        if let Some(role) = role {
            grant_role(&app, login, role).await;
        }
    }
    app.user("alice.martin").await;
    app
}

/// Opens `path` of the console in `browser`, signing `login` in on the way; returns the page
/// the console answers once signed in.
pub(crate) async fn open_console(app: &TestApp, browser: &Browser, login: &str, path: &str) -> Page {
    let login_page = browser.follow(&app.issuer, browser.get(&app.url(path)).await).await;
    assert!(login_page.url.contains("/login?"), "expected the login page, got {}", login_page.url);
    let signed_in = browser.submit_login(&app.issuer, &login_page, login, PASSWORD).await;
    let console = browser.follow(&app.issuer, signed_in).await;
    if path == "/admin" {
        return console;
    }
    browser.get(&app.url(path)).await
}

#[tokio::test]
async fn the_console_sends_a_signed_out_visitor_through_authorize_with_its_own_client_and_pkce() {
    let app = provider().await;

    let page = Browser::new().get(&app.url("/admin")).await;

    assert_eq!(page.status, 303);
    let location = page.location().unwrap();
    assert!(location.starts_with(&app.url("/authorize?")), "redirected to {location}");
    let params = query(&location);
    assert_eq!(params["client_id"], "idp-admin-console");
    assert_eq!(params["redirect_uri"], app.url("/admin/callback"));
    assert_eq!(params["code_challenge_method"], "S256");
    assert!(params.contains_key("state") && params.contains_key("nonce"));
}

#[tokio::test]
async fn signing_in_sets_a_console_cookie_sent_to_the_admin_pages_only() {
    let app = provider().await;
    let browser = Browser::new();
    let login_page = browser.follow(&app.issuer, browser.get(&app.url("/admin")).await).await;
    let signed_in = browser.submit_login(&app.issuer, &login_page, "ada", PASSWORD).await;
    let mut page = signed_in;
    let mut cookie = None;
    for _ in 0..5 {
        if let Some(set) = page.set_cookie("idp_admin") {
            cookie = Some(set);
            break;
        }
        let Some(location) = page.location() else { break };
        let next = if location.starts_with('/') { app.url(&location) } else { location };
        page = browser.get(&next).await;
    }

    let cookie = cookie.expect("the callback sets the console cookie");
    assert!(cookie.contains("Path=/admin;"), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
}

#[tokio::test]
async fn an_admin_lands_on_the_console_with_every_area_in_the_navigation() {
    let app = provider().await;

    let page = open_console(&app, &Browser::new(), "ada", "/admin").await;

    assert_eq!(page.status, 200, "{}", page.body);
    for area in ["/admin/dashboard", "/admin/users", "/admin/clients", "/admin/groups", "/admin/audit"] {
        assert!(page.body.contains(&format!("href=\"{area}?")), "no link to {area}: {}", page.body);
    }
    assert!(page.body.contains("<strong>ada</strong>"), "the viewer is not named: {}", page.body);
}

#[tokio::test]
async fn a_support_agent_sees_only_the_users_in_the_navigation() {
    let app = provider().await;

    let page = open_console(&app, &Browser::new(), "sam", "/admin").await;

    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.url.ends_with("/admin/users"), "support starts at the users: {}", page.url);
    assert!(page.body.contains("href=\"/admin/users?"), "{}", page.body);
    for hidden in ["/admin/clients", "/admin/groups", "/admin/audit", "/admin/dashboard"] {
        assert!(!page.body.contains(&format!("href=\"{hidden}?")), "support sees {hidden}: {}", page.body);
    }
}

#[tokio::test]
async fn a_user_without_a_role_gets_a_not_authorised_page_with_a_way_to_sign_out() {
    let app = provider().await;
    let browser = Browser::new();

    let page = open_console(&app, &browser, "alice.martin", "/admin").await;

    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains("Accès non autorisé"), "{}", page.body);
    assert!(page.body.contains("action=\"/admin/logout\""), "no sign-out form: {}", page.body);
    let logout = browser.post(&app.url("/admin/logout"), &[("csrf", &page.field("csrf").unwrap())]).await;
    assert_eq!(logout.status, 303);
    assert!(logout.location().unwrap().contains("/logout?"), "{:?}", logout.location());
    let again = browser.get(&app.url("/admin")).await;
    assert!(again.location().unwrap().contains("/authorize?"), "the console session ended");
}

#[tokio::test]
async fn a_signed_in_account_space_does_not_open_the_console_without_its_own_sign_in() {
    let app = provider().await;
    let browser = Browser::new();
    let account = browser.follow(&app.issuer, browser.get(&app.url("/account")).await).await;
    let signed = browser.submit_login(&app.issuer, &account, "ada", PASSWORD).await;
    browser.follow(&app.issuer, signed).await;

    let page = browser.get(&app.url("/admin/groups")).await;

    // The provider session is there, so the console's sign-in needs no password; but it goes
    // through /authorize with the console's own client.
    assert_eq!(page.status, 303);
    assert!(page.location().unwrap().contains("client_id=idp-admin-console"), "{:?}", page.location());
}

#[tokio::test]
async fn a_console_form_without_its_token_is_refused() {
    let app = provider().await;
    let browser = Browser::new();
    let groups = open_console(&app, &browser, "ada", "/admin/groups").await;
    assert_eq!(groups.status, 200, "{}", groups.body);

    let forged = browser.post(&app.url("/admin/groups"), &[("id", "forged"), ("csrf", "x")]).await;
    let missing = browser.post(&app.url("/admin/groups"), &[("id", "forged")]).await;

    assert_eq!(forged.status, 403);
    assert_eq!(missing.status, 403);
    assert!(
        idp::admin::groups::show_group(&app.services, &idp::admin::actor::Actor::cli(), "forged").await.is_err(),
        "no group was created"
    );
}

#[tokio::test]
async fn an_admin_creates_a_group_and_adds_and_removes_a_member() {
    let app = provider().await;
    let browser = Browser::new();
    let groups = open_console(&app, &browser, "ada", "/admin/groups").await;
    let csrf = groups.field("csrf").unwrap();

    let created =
        browser.post(&app.url("/admin/groups?lang=en"), &[("csrf", &csrf), ("id", "agents"), ("name", "Agents")]).await;
    assert_eq!(created.status, 303, "{}", created.body);
    let group_url = created.location().unwrap();
    assert!(group_url.starts_with("/admin/groups/agents?notice=group_created"), "{group_url}");
    let page = browser.get(&app.url(&group_url)).await;
    assert!(page.body.contains("The group was created."), "{}", page.body);

    let added =
        browser.post(&app.url("/admin/groups/agents/members"), &[("csrf", &csrf), ("login", "alice.martin")]).await;
    assert_eq!(added.status, 303, "{}", added.body);
    assert_eq!(
        idp::admin::groups::show_group(&app.services, &idp::admin::actor::Actor::cli(), "agents")
            .await
            .unwrap()
            .members,
        vec!["alice.martin"]
    );

    let removed = browser
        .post(&app.url("/admin/groups/agents/members/remove"), &[("csrf", &csrf), ("login", "alice.martin")])
        .await;
    assert_eq!(removed.status, 303, "{}", removed.body);
    assert!(
        idp::admin::groups::show_group(&app.services, &idp::admin::actor::Actor::cli(), "agents")
            .await
            .unwrap()
            .members
            .is_empty()
    );
}

#[tokio::test]
async fn a_bad_group_id_is_shown_back_on_the_form_and_nothing_is_created() {
    let app = provider().await;
    let browser = Browser::new();
    let groups = open_console(&app, &browser, "ada", "/admin/groups").await;

    let page = browser
        .post(&app.url("/admin/groups"), &[("csrf", &groups.field("csrf").unwrap()), ("id", "no spaces"), ("name", "")])
        .await;

    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.body.contains("La saisie a été refusée"), "{}", page.body);
    assert_eq!(page.field("id").as_deref(), Some("no spaces"), "the input is kept");
}

#[tokio::test]
async fn a_support_agent_gets_a_themed_403_on_the_admin_only_pages() {
    let app = provider().await;
    let browser = Browser::new();
    open_console(&app, &browser, "sam", "/admin").await;

    for path in ["/admin/groups", "/admin/groups/any"] {
        let page = browser.get(&app.url(path)).await;
        assert_eq!(page.status, 403, "{path}: {}", page.body);
        assert!(page.body.contains("Votre rôle ne permet pas"), "{path}: {}", page.body);
    }
}
