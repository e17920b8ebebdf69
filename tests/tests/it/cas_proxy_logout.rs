//! CAS 3.0 (issue #11): proxy tickets through a `pgtUrl` callback, single logout delivered to
//! the service, and one browser session shared with OpenID Connect. A tiny axum server on
//! 127.0.0.1:0 plays the application: its GET /pgt is the proxy callback, and every POST to it
//! is a single logout request.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use idp::admin::ClientSpec;
use idp::domain::client::ClientSettings;
use idp_tests::browser::query;
use idp_tests::{Browser, TestApp};
use serde_json::Value;

use crate::cas::{backchannel, login_url, p3_json, sign_in, ticket_of};

#[derive(Clone, Default)]
struct Seen {
    pgts: Arc<Mutex<Vec<(String, String)>>>,
    logout_requests: Arc<Mutex<Vec<String>>>,
}

/// The application: `base` ends with `/`.
struct App {
    base: String,
    seen: Seen,
}

impl App {
    async fn start(callback_status: StatusCode) -> Self {
        let seen = Seen::default();
        let router = Router::new()
            .route(
                "/pgt",
                get(|State((seen, status)): State<(Seen, StatusCode)>, Query(q): Query<Vec<(String, String)>>| async move {
                    let get = |n: &str| q.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap_or_default();
                    seen.pgts.lock().unwrap().push((get("pgtId"), get("pgtIou")));
                    status
                }),
            )
            .fallback(|State((seen, _)): State<(Seen, StatusCode)>, body: String| async move {
                let request = url::form_urlencoded::parse(body.as_bytes())
                    .find(|(k, _)| k == "logoutRequest")
                    .map(|(_, v)| v.into_owned());
                if let Some(r) = request {
                    seen.logout_requests.lock().unwrap().push(r);
                }
                StatusCode::OK
            })
            .with_state((seen.clone(), callback_status));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { base, seen }
    }

    /// Waits (10 s at most) for `n` logout requests.
    async fn logout_requests(&self, n: usize) -> Vec<String> {
        for _ in 0..200 {
            if self.seen.logout_requests.lock().unwrap().len() >= n {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        self.seen.logout_requests.lock().unwrap().clone()
    }
}

async fn provider(app: &App, id: &str, single_logout: bool) -> TestApp {
    let provider = TestApp::spawn().await;
    provider.user("alice").await;
    register(&provider, app, id, single_logout).await;
    provider
}

async fn register(provider: &TestApp, app: &App, id: &str, single_logout: bool) {
    provider
        .client(ClientSpec {
            id: id.into(),
            name: id.to_uppercase(),
            cas_services: vec![app.base.clone()],
            settings: ClientSettings { cas_single_logout: single_logout, ..ClientSettings::default() },
            ..ClientSpec::default()
        })
        .await;
}

#[tokio::test]
async fn a_proxy_gets_a_granting_ticket_at_its_callback_and_proxy_tickets_for_other_services() {
    let proxy_app = App::start(StatusCode::OK).await;
    let backend = App::start(StatusCode::OK).await;
    let provider = provider(&proxy_app, "portal", false).await;
    register(&provider, &backend, "mail", false).await;
    let browser = Browser::new();
    let ticket = sign_in(&provider, &browser, &proxy_app.base).await;
    let pgt_url = format!("{}pgt", proxy_app.base);

    let validated = p3_json(&provider, &ticket, &proxy_app.base, &[("pgtUrl", &pgt_url)]).await;

    let iou = validated["serviceResponse"]["authenticationSuccess"]["proxyGrantingTicket"].as_str().unwrap().to_owned();
    let (pgt, sent_iou) = proxy_app.seen.pgts.lock().unwrap()[0].clone();
    assert_eq!(sent_iou, iou, "the callback got the IOU the answer names");
    assert!(pgt.starts_with("PGT-") && iou.starts_with("PGTIOU-"));

    let xml = backchannel(&provider, "/cas/proxy", &[("pgt", &pgt), ("targetService", &backend.base)]).await;
    let pt = xml.split("<cas:proxyTicket>").nth(1).and_then(|r| r.split('<').next()).expect(&xml).to_owned();
    assert!(pt.starts_with("PT-"), "{xml}");
    let at_service_validate =
        backchannel(&provider, "/cas/serviceValidate", &[("ticket", &pt), ("service", &backend.base)]).await;
    assert!(at_service_validate.contains("code=\"INVALID_TICKET\""), "a proxy ticket is not a service ticket");

    let xml = backchannel(&provider, "/cas/proxy", &[("pgt", &pgt), ("targetService", &backend.base)]).await;
    let pt = xml.split("<cas:proxyTicket>").nth(1).and_then(|r| r.split('<').next()).unwrap().to_owned();
    let proxied = backchannel(&provider, "/cas/p3/proxyValidate", &[("ticket", &pt), ("service", &backend.base)]).await;
    assert!(proxied.contains("<cas:user>alice</cas:user>"), "{proxied}");
    assert!(proxied.contains(&format!("<cas:proxy>{pgt_url}</cas:proxy>")), "{proxied}");

    let unregistered =
        backchannel(&provider, "/cas/proxy", &[("pgt", &pgt), ("targetService", "http://127.0.0.1:9/x/")]).await;
    assert!(unregistered.contains("<cas:proxyFailure code=\"UNAUTHORIZED_SERVICE\">"), "{unregistered}");

    // The granting ticket ends with the browser session.
    browser.get(&provider.url("/cas/logout")).await;
    let after = backchannel(&provider, "/cas/proxy", &[("pgt", &pgt), ("targetService", &backend.base)]).await;
    assert!(after.contains("code=\"INVALID_TICKET\""), "{after}");
}

#[tokio::test]
async fn a_callback_that_does_not_answer_200_gets_no_granting_ticket() {
    let proxy_app = App::start(StatusCode::NOT_FOUND).await;
    let provider = provider(&proxy_app, "portal", false).await;
    let ticket = sign_in(&provider, &Browser::new(), &proxy_app.base).await;

    let json = p3_json(&provider, &ticket, &proxy_app.base, &[("pgtUrl", &format!("{}pgt", proxy_app.base))]).await;

    let success = &json["serviceResponse"]["authenticationSuccess"];
    assert_eq!(success["user"], "alice", "the validation itself succeeds");
    assert_eq!(success["proxyGrantingTicket"], Value::Null);
}

#[tokio::test]
async fn a_pgt_url_of_another_application_or_unregistered_is_refused() {
    let proxy_app = App::start(StatusCode::OK).await;
    let other = App::start(StatusCode::OK).await;
    let provider = provider(&proxy_app, "portal", false).await;
    register(&provider, &other, "other", false).await;
    let browser = Browser::new();

    let t1 = sign_in(&provider, &browser, &proxy_app.base).await;
    let foreign = p3_json(&provider, &t1, &proxy_app.base, &[("pgtUrl", &format!("{}pgt", other.base))]).await;
    let t2 = ticket_of(&browser.get(&login_url(&provider, &proxy_app.base, "")).await, &proxy_app.base);
    let unknown = p3_json(&provider, &t2, &proxy_app.base, &[("pgtUrl", "https://127.0.0.1:9/pgt")]).await;

    assert_eq!(foreign["serviceResponse"]["authenticationFailure"]["code"], "UNAUTHORIZED_SERVICE_PROXY");
    assert_eq!(unknown["serviceResponse"]["authenticationFailure"]["code"], "INVALID_PROXY_CALLBACK");
    assert!(other.seen.pgts.lock().unwrap().is_empty(), "nothing was sent to the other application");
}

#[tokio::test]
async fn ending_the_session_sends_each_service_a_logout_request_naming_its_ticket() {
    let app = App::start(StatusCode::OK).await;
    let quiet = App::start(StatusCode::OK).await;
    let provider = provider(&app, "ent", true).await;
    register(&provider, &quiet, "quiet", false).await;
    let browser = Browser::new();
    let ticket = sign_in(&provider, &browser, &format!("{}home", app.base)).await;
    ticket_of(&browser.get(&login_url(&provider, &quiet.base, "")).await, &quiet.base);

    let out = browser.get(&provider.url(&format!("/cas/logout?service={}", crate::flow::urlencode(&app.base)))).await;

    assert_eq!(out.location().as_deref(), Some(app.base.as_str()), "back to the registered service");
    let requests = app.logout_requests(1).await;
    assert_eq!(requests.len(), 1, "one logoutRequest");
    assert!(requests[0].starts_with("<samlp:LogoutRequest"), "{}", requests[0]);
    assert!(requests[0].contains(&format!("<samlp:SessionIndex>{ticket}</samlp:SessionIndex>")), "{}", requests[0]);
    assert!(quiet.seen.logout_requests.lock().unwrap().is_empty(), "cas_single_logout=false is not told");
    let again = browser.get(&login_url(&provider, &app.base, "&gateway=true")).await;
    assert_eq!(again.location().as_deref(), Some(app.base.as_str()), "signed out: gateway comes back without a ticket");
}

#[tokio::test]
async fn cas_logout_never_redirects_to_an_unregistered_service() {
    let app = App::start(StatusCode::OK).await;
    let provider = provider(&app, "ent", false).await;
    let page = Browser::new().get(&provider.url("/cas/logout?service=https%3A%2F%2Fevil.example%2F")).await;
    assert!(page.location().is_none(), "redirected to {:?}", page.location());
    assert_eq!(page.status, StatusCode::OK, "the logged-out page");
}

#[tokio::test]
async fn one_browser_session_serves_cas_and_openid_connect_both_ways() {
    let app = App::start(StatusCode::OK).await;
    let provider = provider(&app, "ent", false).await;
    provider
        .client(ClientSpec {
            id: "shop".into(),
            redirect_uris: vec![idp_tests::RP_CALLBACK.into()],
            first_party: true,
            ..ClientSpec::default()
        })
        .await;
    let authorize = provider.url(&format!(
        "/authorize?response_type=code&client_id=shop&redirect_uri={}&scope=openid&state=s1&nonce=n1",
        crate::flow::urlencode(idp_tests::RP_CALLBACK)
    ));

    // CAS first, then OpenID Connect without a login page.
    let browser = Browser::new();
    sign_in(&provider, &browser, &app.base).await;
    let oidc = browser.follow(&provider.issuer, browser.get(&authorize).await).await;
    let location = oidc.location().expect("straight back to the relying party");
    assert!(location.starts_with(idp_tests::RP_CALLBACK) && query(&location).contains_key("code"), "{location}");

    // OpenID Connect first, then CAS without a login page.
    let browser = Browser::new();
    let back = browser.authorize(&provider.issuer, &authorize, "alice", idp_tests::PASSWORD).await;
    assert!(query(&back).contains_key("code"));
    let cas = browser.get(&login_url(&provider, &app.base, "")).await;
    assert!(ticket_of(&cas, &app.base).starts_with("ST-"), "single sign-on into the CAS service");
    let sessions =
        provider.sessions_of(&provider.services.store.user_by_login("alice").await.unwrap().unwrap().id).await;
    let second = sessions.iter().find(|s| s.clients.iter().any(|c| c == "shop")).expect("the OpenID Connect session");
    assert!(second.clients.iter().any(|c| c == "ent"), "the CAS application joined the same session's list");
}
