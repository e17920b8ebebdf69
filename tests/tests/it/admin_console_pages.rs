//! The administration console's pages over HTTP (issue #12): clients (create with the secret
//! shown once, edit, rotate and delete behind a confirmation), users (search, detail, the
//! support actions and the admin ones), the audit trail (filters, export) and the dashboard,
//! each for the roles that may use it and refused to the others.

use idp::account::lockout;
use idp::admin::ClientSpec;
use idp_tests::browser::Page;
use idp_tests::mail::read_outbox;
use idp_tests::{Browser, TestApp};

use crate::admin_console::{open_console, provider};

/// A browser signed in to the console as `login`, and the CSRF token of its forms.
async fn console_as(app: &TestApp, login: &str, path: &str) -> (Browser, Page, String) {
    let browser = Browser::new();
    let page = open_console(app, &browser, login, path).await;
    let csrf = page.field("csrf").unwrap_or_else(|| panic!("{path}: a form with a token: {}", page.body));
    (browser, page, csrf)
}

fn shop_form<'a>(csrf: &'a str, id: &'a str, redirect: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("id", id),
        ("name", "Boutique"),
        ("client_type", "confidential"),
        ("redirect_uris", redirect),
        ("post_logout_redirect_uris", ""),
        ("cas_services", ""),
        ("grant_authorization_code", "on"),
        ("allowed_user_types", ""),
        ("allowed_groups", ""),
    ]
}

#[tokio::test]
async fn an_admin_creates_a_confidential_client_and_sees_its_secret_once() {
    let app = provider().await;
    let (browser, _, csrf) = console_as(&app, "ada", "/admin/clients/new").await;

    let page = browser.post(&app.url("/admin/clients"), &shop_form(&csrf, "shop", "https://shop.example/cb")).await;

    assert_eq!(page.status, 200, "{}", page.body);
    let at = page.body.find("id=\"client-secret\"").expect("the secret is shown");
    let secret: String = page.body[at..].split('>').nth(1).unwrap().chars().take_while(|c| *c != '<').collect();
    assert_eq!(secret.len(), 43, "a whole secret: {secret:?}");
    assert!(page.body.contains("data-copy-target=\"client-secret\""), "with a copy button");
    let client = app.services.store.client("shop").await.unwrap().expect("the client exists");
    assert_eq!(client.secret_digest, Some(idp::crypto::digest(&secret)), "the secret shown is the client's");
    let again = browser.get(&app.url("/admin/clients/shop")).await;
    assert!(!again.body.contains(&secret), "the secret is never shown again");
}

#[tokio::test]
async fn a_refused_client_is_shown_back_on_the_form_and_nothing_is_created() {
    let app = provider().await;
    let (browser, _, csrf) = console_as(&app, "ada", "/admin/clients/new").await;

    let page = browser.post(&app.url("/admin/clients"), &shop_form(&csrf, "shop", "not a url")).await;

    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.body.contains("La saisie a été refusée"), "{}", page.body);
    assert!(page.body.contains("not a url"), "the input is kept: {}", page.body);
    assert!(app.services.store.client("shop").await.unwrap().is_none());
}

#[tokio::test]
async fn the_client_list_finds_a_client_by_part_of_its_name() {
    let app = provider().await;
    app.confidential_client("shop", "https://shop.example/cb").await;
    app.confidential_client("library", "https://library.example/cb").await;
    let (browser, _, _) = console_as(&app, "ada", "/admin/clients").await;

    let page = browser.get(&app.url("/admin/clients?q=SHO")).await;

    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("href=\"/admin/clients/shop?"), "{}", page.body);
    assert!(!page.body.contains("href=\"/admin/clients/library?"), "{}", page.body);
}

#[tokio::test]
async fn an_admin_renames_a_client() {
    let app = provider().await;
    app.confidential_client("shop", "https://shop.example/cb").await;
    let (browser, _, csrf) = console_as(&app, "ada", "/admin/clients/shop").await;
    let mut form = shop_form(&csrf, "shop", "https://shop.example/cb");
    form.retain(|(k, _)| *k != "name");
    form.push(("name", "La boutique"));

    let page = browser.post(&app.url("/admin/clients/shop"), &form).await;

    assert_eq!(page.status, 303, "{}", page.body);
    assert!(page.location().unwrap().contains("notice=client_updated"));
    assert_eq!(app.services.store.client("shop").await.unwrap().unwrap().name, "La boutique");
}

#[tokio::test]
async fn rotating_a_secret_asks_for_confirmation_then_shows_the_new_secret() {
    let app = provider().await;
    let (_, old) = app.confidential_client("shop", "https://shop.example/cb").await;
    let (browser, _, csrf) = console_as(&app, "ada", "/admin/clients/shop").await;

    let confirm = browser.get(&app.url("/admin/clients/shop/rotate")).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert!(confirm.body.contains("action=\"/admin/clients/shop/rotate?"), "a confirmation form: {}", confirm.body);
    assert_eq!(
        app.services.store.client("shop").await.unwrap().unwrap().secret_digest,
        Some(idp::crypto::digest(&old)),
        "opening the confirmation changes nothing"
    );

    let page = browser.post(&app.url("/admin/clients/shop/rotate"), &[("csrf", &csrf), ("overlap_hours", "1")]).await;

    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"client-secret\""), "the new secret is shown: {}", page.body);
    let digest = app.services.store.client("shop").await.unwrap().unwrap().secret_digest;
    assert_ne!(digest, Some(idp::crypto::digest(&old)), "the secret changed");
}

#[tokio::test]
async fn deleting_a_client_asks_for_confirmation_first() {
    let app = provider().await;
    app.confidential_client("shop", "https://shop.example/cb").await;
    let (browser, _, csrf) = console_as(&app, "ada", "/admin/clients/shop").await;

    let confirm = browser.get(&app.url("/admin/clients/shop/delete")).await;
    assert_eq!(confirm.status, 200);
    assert!(app.services.store.client("shop").await.unwrap().is_some(), "not deleted by opening the page");

    let page = browser.post(&app.url("/admin/clients/shop/delete"), &[("csrf", &csrf)]).await;

    assert_eq!(page.status, 303, "{}", page.body);
    assert!(page.location().unwrap().starts_with("/admin/clients?notice=client_deleted"));
    assert!(app.services.store.client("shop").await.unwrap().is_none());
}

#[tokio::test]
async fn support_and_auditors_get_a_403_on_every_client_page_and_action() {
    let app = provider().await;
    app.confidential_client("shop", "https://shop.example/cb").await;
    for login in ["sam", "aude"] {
        let browser = Browser::new();
        let page = open_console(&app, &browser, login, "/admin").await;
        let csrf = page.field("csrf").unwrap();
        for path in ["/admin/clients", "/admin/clients/new", "/admin/clients/shop", "/admin/clients/shop/delete"] {
            let page = browser.get(&app.url(path)).await;
            assert_eq!(page.status, 403, "{login} {path}: {}", page.body);
        }
        let delete = browser.post(&app.url("/admin/clients/shop/delete"), &[("csrf", &csrf)]).await;
        assert_eq!(delete.status, 403, "{login}: {}", delete.body);
        assert!(app.services.store.client("shop").await.unwrap().is_some(), "{login} deleted nothing");
    }
}

#[tokio::test]
async fn support_finds_an_account_by_login_prefix() {
    let app = provider().await;
    let (browser, _, _) = console_as(&app, "sam", "/admin/users").await;

    let page = browser.get(&app.url("/admin/users?login=alice")).await;

    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(">alice.martin</a>"), "{}", page.body);
    assert!(!page.body.contains(">ada</a>"), "only the prefix matches: {}", page.body);
}

async fn lock(app: &TestApp, login: &str) -> String {
    let user = app.services.store.user_by_login(login).await.unwrap().unwrap();
    for _ in 0..3 {
        let attempt = lockout::begin(&app.services, Some(&user), "192.0.2.7").await.unwrap();
        lockout::finish(&app.services, attempt, Some(&user), false, None).await.unwrap();
    }
    assert!(lockout::is_locked(&app.services, &user.id).await.unwrap());
    user.id
}

#[tokio::test]
async fn support_unlocks_a_locked_account_from_its_page() {
    let app = provider().await;
    let id = lock(&app, "alice.martin").await;
    let (browser, _, csrf) = console_as(&app, "sam", "/admin/users").await;
    let page = browser.get(&app.url(&format!("/admin/users/{id}"))).await;
    assert!(page.body.contains(&format!("action=\"/admin/users/{id}/unlock?")), "an unlock form: {}", page.body);

    let done = browser.post(&app.url(&format!("/admin/users/{id}/unlock")), &[("csrf", &csrf)]).await;

    assert_eq!(done.status, 303, "{}", done.body);
    assert!(!lockout::is_locked(&app.services, &id).await.unwrap(), "the lock is lifted");
    let after = browser.get(&app.url(&done.location().unwrap())).await;
    assert!(after.body.contains("Le compte a été déverrouillé."), "{}", after.body);
}

#[tokio::test]
async fn support_sends_a_provisional_password_by_mail() {
    let app = provider().await;
    let alice = app.services.store.user_by_login("alice.martin").await.unwrap().unwrap();
    let (browser, _, csrf) = console_as(&app, "sam", "/admin/users").await;
    let before = read_outbox(&app.config.outbox_dir).len();

    let done = browser.post(&app.url(&format!("/admin/users/{}/reset-password", alice.id)), &[("csrf", &csrf)]).await;

    assert_eq!(done.status, 303, "{}", done.body);
    let mails = read_outbox(&app.config.outbox_dir);
    assert_eq!(mails.len(), before + 1, "one mail");
    assert!(mails.iter().any(|m| m.to.contains("alice.martin@example.org")), "to alice");
}

#[tokio::test]
async fn support_sees_no_admin_forms_and_is_refused_the_admin_actions() {
    let app = provider().await;
    let alice = app.services.store.user_by_login("alice.martin").await.unwrap().unwrap();
    let (browser, _, csrf) = console_as(&app, "sam", "/admin/users").await;

    let page = browser.get(&app.url(&format!("/admin/users/{}", alice.id))).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for admin_only in ["/update?", "/role?", "/disable?", "/delete?"] {
        assert!(!page.body.contains(admin_only), "support sees {admin_only}: {}", page.body);
    }
    for action in ["disable", "delete", "role", "update"] {
        let refused = browser
            .post(&app.url(&format!("/admin/users/{}/{action}", alice.id)), &[("csrf", &csrf), ("role", "admin")])
            .await;
        assert_eq!(refused.status, 403, "{action}: {}", refused.body);
    }
    let still = app.services.store.user_by_id(&alice.id).await.unwrap().expect("not deleted");
    assert!(!still.disabled, "not disabled");
}

#[tokio::test]
async fn an_admin_disables_after_confirming_then_enables_an_account() {
    let app = provider().await;
    let alice = app.services.store.user_by_login("alice.martin").await.unwrap().unwrap();
    let (browser, _, csrf) = console_as(&app, "ada", "/admin/users").await;

    let confirm = browser.get(&app.url(&format!("/admin/users/{}/disable", alice.id))).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert!(!app.services.store.user_by_id(&alice.id).await.unwrap().unwrap().disabled, "not yet");

    let disabled = browser.post(&app.url(&format!("/admin/users/{}/disable", alice.id)), &[("csrf", &csrf)]).await;
    assert_eq!(disabled.status, 303, "{}", disabled.body);
    assert!(app.services.store.user_by_id(&alice.id).await.unwrap().unwrap().disabled);

    let enabled = browser.post(&app.url(&format!("/admin/users/{}/enable", alice.id)), &[("csrf", &csrf)]).await;
    assert_eq!(enabled.status, 303, "{}", enabled.body);
    assert!(!app.services.store.user_by_id(&alice.id).await.unwrap().unwrap().disabled);
}

#[tokio::test]
async fn an_admin_deletes_an_account_after_confirming() {
    let app = provider().await;
    let alice = app.services.store.user_by_login("alice.martin").await.unwrap().unwrap();
    let (browser, _, csrf) = console_as(&app, "ada", "/admin/users").await;

    let done = browser.post(&app.url(&format!("/admin/users/{}/delete", alice.id)), &[("csrf", &csrf)]).await;

    assert_eq!(done.status, 303, "{}", done.body);
    assert!(done.location().unwrap().starts_with("/admin/users?notice=user_deleted"));
    assert!(app.services.store.user_by_id(&alice.id).await.unwrap().is_none());
}

#[tokio::test]
async fn an_admin_gives_a_role_and_that_person_enters_the_console() {
    let app = provider().await;
    let alice = app.services.store.user_by_login("alice.martin").await.unwrap().unwrap();
    let (browser, _, csrf) = console_as(&app, "ada", "/admin/users").await;

    let done = browser
        .post(&app.url(&format!("/admin/users/{}/role", alice.id)), &[("csrf", &csrf), ("role", "auditor")])
        .await;

    assert_eq!(done.status, 303, "{}", done.body);
    let page = open_console(&app, &Browser::new(), "alice.martin", "/admin").await;
    assert_eq!(page.status, 200, "alice gets in: {}", page.body);
    assert!(page.body.contains("href=\"/admin/audit?"), "as an auditor: {}", page.body);
}

#[tokio::test]
async fn an_auditor_filters_the_audit_trail_and_exports_it_as_json_lines() {
    let app = provider().await;
    let (browser, _, _) = console_as(&app, "aude", "/admin/audit").await;

    let page = browser.get(&app.url("/admin/audit?kind=sign_in")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<code>sign_in</code>"), "the console sign-ins are there: {}", page.body);

    let export = browser.get(&app.url("/admin/audit/export?kind=sign_in")).await;
    assert_eq!(export.status, 200);
    assert!(export.header("content-disposition").unwrap().contains("attachment"));
    let lines: Vec<serde_json::Value> = export.body.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!lines.is_empty(), "at least one event");
    assert!(lines.iter().all(|e| e["kind"] == "sign_in"), "only what the filter keeps: {lines:?}");
}

#[tokio::test]
async fn a_bad_date_in_the_audit_filters_is_said_plainly() {
    let app = provider().await;
    let (browser, _, _) = console_as(&app, "aude", "/admin/audit").await;

    let page = browser.get(&app.url("/admin/audit?since=2026-02-30")).await;

    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.body.contains("La saisie a été refusée"), "{}", page.body);
}

#[tokio::test]
async fn the_dashboard_draws_the_chart_as_inline_svg_with_the_queue_depths() {
    let app = provider().await;

    let (_, page, _) = console_as(&app, "ada", "/admin/dashboard").await;

    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<svg"), "an inline SVG chart: {}", page.body);
    assert!(!page.body.contains("<script>"), "no inline script");
    assert!(page.body.contains("id=\"mail-queue\""), "{}", page.body);
    assert!(page.body.contains("id=\"logout-queue\""), "{}", page.body);
}

#[tokio::test]
async fn support_gets_a_403_on_the_dashboard_and_the_audit_trail() {
    let app = provider().await;
    let (browser, _, _) = console_as(&app, "sam", "/admin/users").await;

    for path in ["/admin/dashboard", "/admin/audit", "/admin/audit/export"] {
        let page = browser.get(&app.url(path)).await;
        assert_eq!(page.status, 403, "{path}: {}", page.body);
    }
}

#[tokio::test]
async fn every_console_page_carries_the_strict_content_security_policy() {
    let app = provider().await;
    let (browser, _, _) = console_as(&app, "ada", "/admin/users").await;
    app.client(ClientSpec {
        id: "shop".into(),
        name: "Shop".into(),
        redirect_uris: vec!["https://shop.example/cb".into()],
        ..ClientSpec::default()
    })
    .await;

    for path in
        ["/admin/dashboard", "/admin/users", "/admin/clients", "/admin/clients/shop", "/admin/groups", "/admin/audit"]
    {
        let page = browser.get(&app.url(path)).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        let csp = page.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("script-src 'self'") && csp.contains("style-src 'self'"), "{path}: {csp}");
        assert!(!page.body.contains(" style=\""), "{path}: no inline style");
    }
}
