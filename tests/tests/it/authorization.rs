//! Per-application authorisation (issue #11): an application registered with
//! `allowed_groups` / `allowed_user_types` admits only those users, at the end of a sign-in and
//! on an authorization riding an existing session; `prompt=none` and `access_denied=redirect`
//! answer `error=access_denied` to the client (RFC 6749 §4.1.2.1); a withdrawn right fails the
//! code exchange and the next refresh (`invalid_grant`, RFC 6749 §5.2). And the `groups` scope.

use idp::admin::{self, ClientSpec};
use idp::domain::client::{AccessDenied, ClientSettings};
use idp::domain::user_type::UserType;
use idp_tests::browser::{Page, query};
use idp_tests::{Browser, PASSWORD, RP_CALLBACK, Setup, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support_protocol::{AuthorizeRequest, LOGIN, World, get_userinfo};

const GROUP: &str = "habilites-bonus-eco";
const REFUSED: &str = "les autorisations requises pour vous connecter sur cette application";
const PORTAL: &str = "portal";
const PORTAL_CALLBACK: &str = "https://portal.example/cb";

fn only_group() -> ClientSettings {
    ClientSettings { allowed_groups: Some(vec![GROUP.into()]), ..ClientSettings::default() }
}

/// "shop" admits only the group's members; the group exists, Alice is not in it. "portal"
/// admits everyone.
async fn restricted_world(settings: ClientSettings) -> World {
    let world = World::with_shop_settings(settings).await;
    admin::groups::add_group(&world.app.services, &idp::admin::actor::Actor::cli(), GROUP, "Habilités Bonus Éco")
        .await
        .unwrap();
    world.app.confidential_client(PORTAL, PORTAL_CALLBACK).await;
    world
}

/// From the first answer of the authorization endpoint: the login page, Alice signs in, and
/// what comes next.
async fn sign_in(world: &World, request: &AuthorizeRequest) -> Page {
    let (browser, origin) = (&world.browser, &world.app.issuer);
    let login = browser.follow(origin, browser.get(&request.url(&world.app)).await).await;
    assert!(login.url.contains("/login"), "expected the login page, the user saw {}: {}", login.url, login.body);
    browser.follow(origin, browser.submit_login(origin, &login, LOGIN, PASSWORD).await).await
}

/// Alice signs in for "portal" first: the browser then has a session.
async fn signed_in_at_portal(world: &World) {
    let portal = AuthorizeRequest::new(PORTAL, PORTAL_CALLBACK);
    let callback = world.browser.authorize(&world.app.issuer, &portal.url(&world.app), LOGIN, PASSWORD).await;
    assert!(query(&callback).contains_key("code"), "portal admits everyone: {callback}");
}

fn assert_refusal_page(page: &Page) {
    assert_eq!(page.status, StatusCode::FORBIDDEN, "the user saw {}: {}", page.url, page.body);
    assert!(page.body.contains(REFUSED), "the refusal is explained: {}", page.body);
    assert!(page.body.contains("Client shop"), "the application is named: {}", page.body);
    assert!(page.field("logout_id").is_some() && page.field("csrf").is_some(), "a sign-out form: {}", page.body);
    // Tera escapes the slashes of the href; a browser reads them back.
    assert!(page.body.contains("rp.example") && page.body.contains("Retour à l"), "a link back: {}", page.body);
}

fn assert_access_denied_redirect(page: &Page) {
    let location = page.location().unwrap_or_else(|| panic!("expected a redirect, the user saw: {}", page.body));
    assert!(location.starts_with(RP_CALLBACK), "the user was sent to {location}");
    let params = query(&location);
    assert_eq!(params.get("error").map(String::as_str), Some("access_denied"), "{location}");
    assert_eq!(params.get("state").map(String::as_str), Some("state-1234"), "{location}");
    assert!(!params.contains_key("code"), "{location}");
}

#[tokio::test]
async fn a_user_outside_the_allowed_group_is_refused_at_the_end_of_sign_in_with_a_page() {
    let world = restricted_world(only_group()).await;

    let page = sign_in(&world, &world.request("openid")).await;

    assert_refusal_page(&page);
    let events = world.app.services.store.events_for_user(&world.alice.id, "access_denied", 10).await.unwrap();
    assert_eq!(events.len(), 1, "one audit row for the refusal: {events:?}");
    let detail: Value = serde_json::from_str(&events[0].detail).unwrap();
    assert_eq!(detail["client_id"], "shop", "{detail}");
}

#[tokio::test]
async fn the_refusal_page_signs_the_user_out() {
    let world = restricted_world(only_group()).await;
    let page = sign_in(&world, &world.request("openid")).await;
    assert_eq!(world.app.sessions_of(&world.alice.id).await.len(), 1, "Alice is signed in");

    let form = [
        ("csrf", page.field("csrf").unwrap()),
        ("logout_id", page.field("logout_id").unwrap()),
        ("decision", "logout".to_owned()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let after = world.browser.post(&world.app.url("/logout/confirm"), &form).await;

    assert!(after.status.is_success() || after.status.is_redirection(), "{}: {}", after.status, after.body);
    assert!(world.app.sessions_of(&world.alice.id).await.is_empty(), "the session ended");
}

#[tokio::test]
async fn a_user_riding_an_existing_session_is_refused_too() {
    let world = restricted_world(only_group()).await;
    signed_in_at_portal(&world).await;

    let page = world.browser.get(&world.request("openid").url(&world.app)).await;

    assert_refusal_page(&page);
}

#[tokio::test]
async fn prompt_none_gets_access_denied_at_the_client() {
    let world = restricted_world(only_group()).await;
    signed_in_at_portal(&world).await;

    let page = world.browser.get(&world.request("openid").with("prompt", "none").url(&world.app)).await;

    assert_access_denied_redirect(&page);
}

#[tokio::test]
async fn a_client_registered_with_access_denied_redirect_gets_access_denied() {
    let world = restricted_world(ClientSettings { access_denied: AccessDenied::Redirect, ..only_group() }).await;

    let page = sign_in(&world, &world.request("openid")).await;

    assert_access_denied_redirect(&page);
}

#[tokio::test]
async fn a_member_of_the_allowed_group_passes() {
    let world = restricted_world(only_group()).await;
    admin::groups::add_member(&world.app.services, &idp::admin::actor::Actor::cli(), GROUP, LOGIN).await.unwrap();

    let tokens = world.tokens("openid").await;

    assert!(tokens.json["id_token"].is_string(), "{}", tokens.json);
}

#[tokio::test]
async fn a_user_removed_from_the_group_gets_invalid_grant_at_the_next_refresh() {
    let world = restricted_world(only_group()).await;
    admin::groups::add_member(&world.app.services, &idp::admin::actor::Actor::cli(), GROUP, LOGIN).await.unwrap();
    let tokens = world.tokens("openid offline_access").await;
    let refreshed = world.refresh(tokens.str("refresh_token")).await;
    assert_eq!(refreshed.status, StatusCode::OK, "a member refreshes: {}", refreshed.json);

    assert!(
        admin::groups::remove_member(&world.app.services, &idp::admin::actor::Actor::cli(), GROUP, LOGIN)
            .await
            .unwrap()
    );
    let refused = world.refresh(refreshed.str("refresh_token")).await;

    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.json);
    assert_eq!(refused.error(), "invalid_grant");
}

#[tokio::test]
async fn a_right_withdrawn_before_the_code_exchange_fails_it() {
    let world = restricted_world(only_group()).await;
    admin::groups::add_member(&world.app.services, &idp::admin::actor::Actor::cli(), GROUP, LOGIN).await.unwrap();
    let request = world.request("openid");
    let code = world.code(&request).await;

    admin::groups::remove_member(&world.app.services, &idp::admin::actor::Actor::cli(), GROUP, LOGIN).await.unwrap();
    let answer = world.exchange(&code, &request.verifier).await;

    assert_eq!(answer.error(), "invalid_grant", "{}", answer.json);
}

#[tokio::test]
async fn a_user_of_another_type_than_the_allowed_ones_is_refused() {
    let app = TestApp::spawn_with(Setup {
        tweak: Box::new(|raw| {
            let mut bonus = UserType::default_usager();
            bonus.id = "bonus_eco".into();
            raw.user_types = vec![UserType::default_usager(), bonus];
        }),
        ..Setup::default()
    })
    .await;
    app.user(LOGIN).await;
    let spec = ClientSpec {
        id: "shop".into(),
        name: "Client shop".into(),
        redirect_uris: vec![RP_CALLBACK.into()],
        settings: ClientSettings { allowed_user_types: Some(vec!["bonus_eco".into()]), ..ClientSettings::default() },
        ..ClientSpec::default()
    };
    app.client(spec).await;
    let browser = Browser::new();
    let request = AuthorizeRequest::new("shop", RP_CALLBACK);

    let login = browser.follow(&app.issuer, browser.get(&request.url(&app)).await).await;
    let page = browser.follow(&app.issuer, browser.submit_login(&app.issuer, &login, LOGIN, PASSWORD).await).await;

    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    assert!(page.body.contains(REFUSED), "{}", page.body);
}

#[tokio::test]
async fn registration_refuses_undeclared_user_types_and_empty_lists() {
    let app = TestApp::spawn().await;
    let spec = |settings: ClientSettings| ClientSpec {
        id: "shop".into(),
        redirect_uris: vec![RP_CALLBACK.into()],
        settings,
        ..ClientSpec::default()
    };
    for settings in [
        ClientSettings { allowed_user_types: Some(vec!["martian".into()]), ..ClientSettings::default() },
        ClientSettings { allowed_user_types: Some(vec![]), ..ClientSettings::default() },
        ClientSettings { allowed_groups: Some(vec![]), ..ClientSettings::default() },
        ClientSettings { allowed_groups: Some(vec!["not a slug".into()]), ..ClientSettings::default() },
    ] {
        let refused = admin::add_client(&app.services, &spec(settings.clone())).await;
        assert!(refused.is_err(), "{settings:?} was accepted");
    }
}

#[tokio::test]
async fn the_groups_scope_releases_the_groups_claim_in_the_id_token_and_userinfo() {
    let world = World::new().await;
    for id in ["staff", "admins"] {
        admin::groups::add_group(&world.app.services, &idp::admin::actor::Actor::cli(), id, "").await.unwrap();
        admin::groups::add_member(&world.app.services, &idp::admin::actor::Actor::cli(), id, LOGIN).await.unwrap();
    }

    let tokens = world.tokens("openid groups").await;

    let claims = world.app.services.keys.verify(tokens.str("id_token")).unwrap();
    assert_eq!(claims["groups"], json!(["admins", "staff"]), "{claims}");
    let userinfo = get_userinfo(&world.app, tokens.str("access_token")).await;
    assert_eq!(userinfo.json["groups"], json!(["admins", "staff"]), "{}", userinfo.json);
}

#[tokio::test]
async fn without_the_groups_scope_there_is_no_groups_claim() {
    let world = World::new().await;
    admin::groups::add_group(&world.app.services, &idp::admin::actor::Actor::cli(), "staff", "").await.unwrap();
    admin::groups::add_member(&world.app.services, &idp::admin::actor::Actor::cli(), "staff", LOGIN).await.unwrap();

    let tokens = world.tokens("openid profile").await;

    let claims = world.app.services.keys.verify(tokens.str("id_token")).unwrap();
    assert!(claims.get("groups").is_none(), "{claims}");
    let userinfo = get_userinfo(&world.app, tokens.str("access_token")).await;
    assert!(userinfo.json.get("groups").is_none(), "{}", userinfo.json);
}
