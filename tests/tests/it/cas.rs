//! CAS 3.0 (issue #11): the protocol rules at /cas, driven over HTTP by a scripted browser and
//! a plain HTTP client playing the application's server. Services are on loopback ports
//! nobody listens on (nothing leaves the machine); single logout and proxy callbacks have their
//! own receivers in `cas_proxy_logout`.

use idp::admin::ClientSpec;
use idp::domain::client::ClientSettings;
use idp_tests::browser::{Page, query};
use idp_tests::{Browser, PASSWORD, TestApp};
use reqwest::StatusCode;
use serde_json::Value;

use crate::flow::urlencode;

/// A service of the `ent` client (a prefix registration).
pub const SERVICE: &str = "http://127.0.0.1:9/ent/";

/// A provider with alice and the CAS client `ent`, releasing mail, givenName and sn.
pub async fn cas_app() -> TestApp {
    cas_app_with(|_| {}).await
}

pub async fn cas_app_with(tweak: impl FnOnce(&mut ClientSpec)) -> TestApp {
    let app = TestApp::spawn().await;
    app.user("alice").await;
    let mut spec = ClientSpec {
        id: "ent".into(),
        name: "ENT".into(),
        cas_services: vec![SERVICE.into()],
        settings: ClientSettings {
            cas_attributes: Some(vec!["mail".into(), "givenName".into(), "sn".into(), "memberOf".into()]),
            ..ClientSettings::default()
        },
        ..ClientSpec::default()
    };
    tweak(&mut spec);
    app.client(spec).await;
    app
}

pub fn login_url(app: &TestApp, service: &str, extra: &str) -> String {
    app.url(&format!("/cas/login?service={}{extra}", urlencode(service)))
}

/// Submits the CAS login page `page` as alice, with the hidden fields it carries; returns the
/// answer to the POST.
pub async fn submit(app: &TestApp, browser: &Browser, page: &Page) -> Page {
    assert_eq!(page.status, StatusCode::OK, "the login page: {}", page.body);
    let action = page.form_action("/cas/login").expect("the login form posts to /cas/login");
    let mut form = vec![("login", "alice".to_owned()), ("password", PASSWORD.to_owned())];
    for name in ["csrf", "service", "renew", "method"] {
        if let Some(value) = page.field(name) {
            form.push((name, value));
        }
    }
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    browser.post(&app.url(&action), &form).await
}

/// Signs alice in for `service` from a fresh login page; returns the ticket the browser is
/// sent back with.
pub async fn sign_in(app: &TestApp, browser: &Browser, service: &str) -> String {
    let page = browser.get(&login_url(app, service, "")).await;
    let back = submit(app, browser, &page).await;
    ticket_of(&back, service)
}

/// The ticket of a redirect back to `service`.
pub fn ticket_of(page: &Page, service: &str) -> String {
    let location = page.location().unwrap_or_else(|| panic!("no redirect back to the service: {}", page.body));
    assert!(location.starts_with(service), "redirected to {location}, not the service");
    query(&location).get("ticket").cloned().expect("a ticket in the redirect")
}

/// GET `path` with `params`, as the application's server does; the body.
pub async fn backchannel(app: &TestApp, path: &str, params: &[(&str, &str)]) -> String {
    let url = reqwest::Url::parse_with_params(&app.url(path), params).unwrap();
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

pub async fn p3_json(app: &TestApp, ticket: &str, service: &str, extra: &[(&str, &str)]) -> Value {
    let mut params = vec![("ticket", ticket), ("service", service), ("format", "JSON")];
    params.extend_from_slice(extra);
    serde_json::from_str(&backchannel(app, "/cas/p3/serviceValidate", &params).await).unwrap()
}

fn failure_code(json: &Value) -> String {
    json["serviceResponse"]["authenticationFailure"]["code"].as_str().unwrap_or("(success)").to_owned()
}

#[tokio::test]
async fn a_service_ticket_validates_once_with_the_released_attributes() {
    let app = cas_app().await;
    let browser = Browser::new();
    let service = format!("{SERVICE}home?x=1");
    let ticket = sign_in(&app, &browser, &service).await;
    assert!(ticket.starts_with("ST-"), "{ticket}");

    let xml = backchannel(&app, "/cas/p3/serviceValidate", &[("ticket", &ticket), ("service", &service)]).await;

    assert!(xml.starts_with("<cas:serviceResponse xmlns:cas=\"http://www.yale.edu/tp/cas\">"), "{xml}");
    assert!(xml.contains("<cas:user>alice</cas:user>"), "{xml}");
    assert!(xml.contains("<cas:mail>alice@example.org</cas:mail>"), "{xml}");
    assert!(xml.contains("<cas:givenName>Alice</cas:givenName>") && xml.contains("<cas:sn>Martin</cas:sn>"), "{xml}");
    assert!(xml.contains("<cas:isFromNewLogin>true</cas:isFromNewLogin>"), "{xml}");
    assert!(xml.contains("<cas:authenticationDate>"), "{xml}");
    let again = backchannel(&app, "/cas/p3/serviceValidate", &[("ticket", &ticket), ("service", &service)]).await;
    assert!(again.contains("<cas:authenticationFailure code=\"INVALID_TICKET\">"), "a ticket is single use: {again}");
}

#[tokio::test]
async fn a_ticket_presented_for_another_service_is_refused_and_consumed() {
    let app = cas_app().await;
    let browser = Browser::new();
    let ticket = sign_in(&app, &browser, SERVICE).await;

    let wrong = p3_json(&app, &ticket, &format!("{SERVICE}other"), &[]).await;
    let right = p3_json(&app, &ticket, SERVICE, &[]).await;

    assert_eq!(failure_code(&wrong), "INVALID_SERVICE");
    assert_eq!(failure_code(&right), "INVALID_TICKET", "the ticket is gone after INVALID_SERVICE");
}

#[tokio::test]
async fn the_cas_1_and_2_endpoints_answer_in_their_own_shapes() {
    let app = cas_app().await;
    let browser = Browser::new();
    let t1 = sign_in(&app, &browser, SERVICE).await;
    let v1 = backchannel(&app, "/cas/validate", &[("ticket", &t1), ("service", SERVICE)]).await;
    assert_eq!(v1, "yes\nalice\n");
    assert_eq!(backchannel(&app, "/cas/validate", &[("ticket", &t1), ("service", SERVICE)]).await, "no\n\n");

    let t2 = ticket_of(&browser.get(&login_url(&app, SERVICE, "")).await, SERVICE);
    let v2 = backchannel(&app, "/cas/serviceValidate", &[("ticket", &t2), ("service", SERVICE)]).await;
    assert!(
        v2.contains("<cas:user>alice</cas:user>") && !v2.contains("cas:attributes"),
        "CAS 2.0 has no attributes: {v2}"
    );

    let missing = backchannel(&app, "/cas/serviceValidate", &[("service", SERVICE)]).await;
    assert!(missing.contains("code=\"INVALID_REQUEST\""), "{missing}");
    let json: Value = serde_json::from_str(
        &backchannel(&app, "/cas/proxyValidate", &[("ticket", "ST-nope"), ("service", SERVICE), ("format", "JSON")])
            .await,
    )
    .unwrap();
    assert_eq!(failure_code(&json), "INVALID_TICKET");
}

#[tokio::test]
async fn single_sign_on_issues_a_ticket_without_a_login_page_and_renew_insists_on_one() {
    let app = cas_app().await;
    let browser = Browser::new();
    sign_in(&app, &browser, SERVICE).await;

    let sso = browser.get(&login_url(&app, SERVICE, "")).await;
    let sso_ticket = ticket_of(&sso, SERVICE);
    let refused = p3_json(&app, &sso_ticket, SERVICE, &[("renew", "true")]).await;
    assert_eq!(failure_code(&refused), "INVALID_TICKET", "renew refuses a single sign-on ticket");

    let sso_again = ticket_of(&browser.get(&login_url(&app, SERVICE, "")).await, SERVICE);
    let ok = p3_json(&app, &sso_again, SERVICE, &[]).await;
    let success = &ok["serviceResponse"]["authenticationSuccess"];
    assert_eq!(success["user"], "alice");
    assert_eq!(success["attributes"]["isFromNewLogin"], "false");
    assert_eq!(success["attributes"]["mail"], "alice@example.org");

    let renew_page = browser.get(&login_url(&app, SERVICE, "&renew=true")).await;
    assert!(renew_page.location().is_none(), "renew=true shows the login page even with a session");
    let fresh = ticket_of(&submit(&app, &browser, &renew_page).await, SERVICE);
    let renewed = p3_json(&app, &fresh, SERVICE, &[("renew", "true")]).await;
    assert_eq!(renewed["serviceResponse"]["authenticationSuccess"]["attributes"]["isFromNewLogin"], "true");
}

#[tokio::test]
async fn gateway_without_a_session_returns_to_the_service_without_a_ticket() {
    let app = cas_app().await;
    let page = Browser::new().get(&login_url(&app, SERVICE, "&gateway=true")).await;
    let location = page.location().expect("a redirect back");
    assert_eq!(location, SERVICE, "no ticket without a session");
}

#[tokio::test]
async fn an_unknown_service_gets_an_error_page_and_no_redirect() {
    let app = cas_app().await;
    for service in [
        "http://127.0.0.1:9/other/",
        "http://127.0.0.1:9/ent/../admin",
        "http://127.0.0.1:9/ent/%2e%2e/admin",
        "http://127.0.0.1:99/ent/",
        "http://127.0.0.1:9/enterprise",
    ] {
        let page = Browser::new().get(&login_url(&app, service, "&gateway=true")).await;
        assert!(page.location().is_none(), "{service} redirected to {:?}", page.location());
        assert!(page.status.is_client_error(), "{service}: {}", page.status);
        assert!(page.body.contains("n’est pas enregistré") || page.status == StatusCode::BAD_REQUEST, "{}", page.body);
    }
}

#[tokio::test]
async fn a_service_ticket_expires_after_cas_ticket_ttl() {
    let app = cas_app().await;
    let browser = Browser::new();
    let ticket = sign_in(&app, &browser, SERVICE).await;

    app.clock.advance(app.config.lifetimes.cas_ticket + 1);

    assert_eq!(failure_code(&p3_json(&app, &ticket, SERVICE, &[]).await), "INVALID_TICKET");
}

#[tokio::test]
async fn method_post_answers_with_a_form_that_posts_the_ticket() {
    let app = cas_app().await;
    let browser = Browser::new();
    let page = browser.get(&login_url(&app, SERVICE, "&method=POST")).await;
    let back = submit(&app, &browser, &page).await;
    assert_eq!(back.status, StatusCode::OK);
    assert!(back.form_action(SERVICE).is_some(), "a form that posts to the service: {}", back.body);
    let ticket = back.field("ticket").expect("the form carries the ticket");
    assert!(ticket.starts_with("ST-"));
    let csp = back.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("form-action 'self' http://127.0.0.1:9"), "{csp}");
}

#[tokio::test]
async fn every_cas_event_is_audited() {
    let app = cas_app().await;
    let browser = Browser::new();
    let ticket = sign_in(&app, &browser, SERVICE).await;
    p3_json(&app, &ticket, SERVICE, &[]).await;
    p3_json(&app, &ticket, SERVICE, &[]).await;
    Browser::new().get(&login_url(&app, "http://127.0.0.1:9/other/", "")).await;

    let user = app.services.store.user_by_login("alice").await.unwrap().unwrap();
    let mut kinds = Vec::new();
    for kind in ["cas_ticket_issued", "cas_ticket_validated", "cas_ticket_refused"] {
        if !app.services.store.events_for_user(&user.id, kind, 10).await.unwrap().is_empty() {
            kinds.push(kind);
        }
    }
    assert_eq!(kinds, ["cas_ticket_issued", "cas_ticket_validated"], "per-user events");
}

#[tokio::test]
async fn the_authorisation_gate_runs_before_any_ticket_and_member_of_lists_the_groups() {
    let app = cas_app_with(|spec| spec.settings.allowed_groups = Some(vec!["staff".into()])).await;
    idp::admin::groups::add_group(&app.services, &idp::admin::actor::Actor::cli(), "staff", "Personnels")
        .await
        .unwrap();
    let browser = Browser::new();

    let page = browser.get(&login_url(&app, SERVICE, "")).await;
    let refused = submit(&app, &browser, &page).await;

    assert_eq!(refused.status, StatusCode::FORBIDDEN, "the access-denied page: {}", refused.body);
    assert!(refused.location().is_none(), "no redirect, so no ticket");
    let user = app.services.store.user_by_login("alice").await.unwrap().unwrap();
    let denied = app.services.store.events_for_user(&user.id, "cas_login_refused", 10).await.unwrap();
    assert_eq!(denied.len(), 1, "the refusal is audited");

    idp::admin::groups::add_member(&app.services, &idp::admin::actor::Actor::cli(), "staff", "alice").await.unwrap();
    let ticket = ticket_of(&browser.get(&login_url(&app, SERVICE, "")).await, SERVICE);
    let json = p3_json(&app, &ticket, SERVICE, &[]).await;
    assert_eq!(json["serviceResponse"]["authenticationSuccess"]["attributes"]["memberOf"], "staff", "{json}");
}

#[tokio::test]
async fn a_sign_in_that_owes_first_login_steps_comes_back_to_the_service_with_a_fresh_ticket() {
    use idp::domain::user_type::{Localized, UserType};
    let app = TestApp::spawn_with(idp_tests::Setup {
        tweak: Box::new(|raw| {
            let mut agent = UserType::default_usager();
            agent.id = "agent".into();
            agent.secret_question = false;
            agent.terms = Some(Localized::new("Charte informatique des agents.", "IT charter for staff."));
            raw.user_types = vec![UserType::default_usager(), agent];
        }),
        ..idp_tests::Setup::default()
    })
    .await;
    let spec = idp::admin::UserSpec {
        login: "alice".into(),
        email: "alice@example.org".into(),
        given_name: "Alice".into(),
        family_name: "Martin".into(),
        user_type: "agent".into(),
        ..idp::admin::UserSpec::default()
    };
    idp::admin::add_user(&app.services, &spec, &idp::domain::Secret::new(PASSWORD)).await.unwrap();
    app.client(ClientSpec { id: "ent".into(), cas_services: vec![SERVICE.into()], ..ClientSpec::default() }).await;
    let browser = Browser::new();

    let page = browser.get(&login_url(&app, SERVICE, "")).await;
    let answer = submit(&app, &browser, &page).await;
    assert_eq!(answer.location().as_deref(), Some("/first-login"), "the terms come first: {}", answer.body);
    let step = browser.get(&app.url("/first-login")).await;
    let csrf = step.field("csrf").unwrap();
    let name = step.field("step").unwrap();
    let back = browser
        .post(&app.url("/first-login?lang=fr"), &[("csrf", &csrf), ("step", &name), ("accept_terms", "yes")])
        .await;

    let ticket = ticket_of(&back, SERVICE);
    let json = p3_json(&app, &ticket, SERVICE, &[("renew", "true")]).await;
    assert_eq!(json["serviceResponse"]["authenticationSuccess"]["user"], "alice", "{json}");
}
