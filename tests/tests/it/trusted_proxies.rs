//! The client's address behind a reverse proxy (issue #10): forwarding headers are believed
//! only from `trusted_proxies` (the test's loopback connection plays the proxy), and then
//! every per-address rule, the audit trail and the sessions of /account use the forwarded
//! client. From an untrusted peer they are ignored: rotating spoofed headers does not escape
//! the per-address throttle.

use idp::config::RawConfig;
use idp::domain::User;
use idp::domain::client_address::ForwardedHeader;
use idp::session;
use idp_tests::browser::Page;
use idp_tests::rp::Rp;
use idp_tests::{Browser, PASSWORD, RP_CALLBACK, Setup, TestApp};

use crate::lockout::{assert_refused, assert_signed_in};

const WRONG: &str = "Wrong-horse-battery-9";
/// Failed sign-ins that block an address in these tests.
const LIMIT: u32 = 3;

async fn provider(tweak: impl FnOnce(&mut RawConfig) + Send + 'static) -> (TestApp, Rp, User) {
    let app = TestApp::spawn_with(Setup {
        tweak: Box::new(move |raw| {
            raw.login_ip_max_failures = LIMIT;
            raw.login_ip_window = 900;
            tweak(raw);
        }),
        ..Setup::default()
    })
    .await;
    let user = app.user("alice.martin").await;
    let (client, secret) = app.confidential_client("shop", RP_CALLBACK).await;
    let rp = Rp::discover(&app.issuer, &client.id, Some(&secret), RP_CALLBACK).await;
    (app, rp, user)
}

/// One sign-in from a fresh browser whose POST /login carries `headers`.
async fn sign_in(app: &TestApp, rp: &Rp, login: &str, password: &str, headers: &[(&str, &str)]) -> Page {
    let browser = Browser::new();
    let page = browser.follow(&app.issuer, browser.get(&rp.start(&[]).url).await).await;
    assert!(page.url.contains("/login?request_id="), "expected the login page, got {}", page.url);
    let action = page.form_action("/login").expect("a form that posts to /login");
    let (csrf, request_id) = (page.field("csrf").unwrap(), page.field("request_id").unwrap());
    let mut request = browser.http.post(format!("{}{action}", app.issuer)).form(&[
        ("csrf", csrf.as_str()),
        ("request_id", &request_id),
        ("login", login),
        ("password", password),
    ]);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    browser.send(request).await
}

fn xff(address: &str) -> [(&'static str, String); 1] {
    [("x-forwarded-for", address.to_owned())]
}

fn borrowed<'a>(headers: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    headers.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The address recorded with the latest `kind` event of `user`.
async fn audited_ip(app: &TestApp, user: &User, kind: &str) -> String {
    let events = app.services.store.events_for_user(&user.id, kind, 1).await.unwrap();
    events.first().unwrap_or_else(|| panic!("no {kind} event")).ip.clone()
}

#[tokio::test]
async fn spoofed_forwarding_headers_from_an_untrusted_peer_do_not_escape_the_throttle() {
    let (app, rp, user) = provider(|_| {}).await;

    // Every failure claims another client, in both headers.
    for i in 0..LIMIT {
        let forwarded = format!("for=198.51.100.{i}");
        let claimed = format!("198.51.100.{i}");
        let headers = [("x-forwarded-for", claimed.as_str()), ("forwarded", forwarded.as_str())];
        assert_refused(&sign_in(&app, &rp, &format!("nobody{i}"), WRONG, &headers).await, "an unknown account");
    }
    let fresh = [("x-forwarded-for", "203.0.113.77"), ("forwarded", "for=203.0.113.77")];

    assert_refused(
        &sign_in(&app, &rp, "alice.martin", PASSWORD, &fresh).await,
        "the right password, claiming yet another address: the socket address is throttled",
    );
    app.clock.advance(900);
    assert_signed_in(&sign_in(&app, &rp, "alice.martin", PASSWORD, &fresh).await, "in the next window");
    assert_eq!(audited_ip(&app, &user, "sign_in").await, "127.0.0.1", "the audit trail has the socket address");
}

#[tokio::test]
async fn behind_a_trusted_proxy_two_forwarded_clients_are_throttled_separately() {
    let (app, rp, _) = provider(|raw| raw.trusted_proxies = vec!["127.0.0.1/32".into()]).await;
    let blocked = xff("198.51.100.1");
    let other = xff("198.51.100.2");

    for i in 0..LIMIT {
        assert_refused(&sign_in(&app, &rp, &format!("nobody{i}"), WRONG, &borrowed(&blocked)).await, "unknown");
    }

    assert_refused(
        &sign_in(&app, &rp, "alice.martin", PASSWORD, &borrowed(&blocked)).await,
        "the right password from the blocked client",
    );
    assert_signed_in(
        &sign_in(&app, &rp, "alice.martin", PASSWORD, &borrowed(&other)).await,
        "another client behind the same proxy is not blocked",
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_client_spoofing_the_left_of_the_list_gains_nothing() {
    let (app, rp, _) = provider(|raw| raw.trusted_proxies = vec!["127.0.0.1/32".into()]).await;

    // The proxy appends the real client (198.51.100.1) to what the client sent.
    for i in 0..LIMIT {
        let header = format!("10.0.0.{i}, 198.51.100.1");
        let headers = [("x-forwarded-for", header.as_str())];
        assert_refused(&sign_in(&app, &rp, &format!("nobody{i}"), WRONG, &headers).await, "unknown");
    }

    let headers = [("x-forwarded-for", "203.0.113.9, 198.51.100.1")];
    assert_refused(&sign_in(&app, &rp, "alice.martin", PASSWORD, &headers).await, "the rightmost client is blocked");
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_audit_trail_and_the_sessions_show_the_forwarded_client() {
    let (app, rp, user) = provider(|raw| raw.trusted_proxies = vec!["127.0.0.1".into()]).await;

    assert_refused(&sign_in(&app, &rp, "alice.martin", WRONG, &borrowed(&xff("198.51.100.7"))).await, "wrong");
    assert_signed_in(
        &sign_in(&app, &rp, "alice.martin", PASSWORD, &borrowed(&xff("198.51.100.8:4711"))).await,
        "the right password",
    );

    assert_eq!(audited_ip(&app, &user, "sign_in_failed").await, "198.51.100.7");
    assert_eq!(audited_ip(&app, &user, "sign_in").await, "198.51.100.8", "the port is dropped");
    let sessions = session::list_for_user(&app.services, &user.id).await.unwrap();
    let ips: Vec<&str> = sessions.iter().map(|s| s.ip.as_str()).collect();
    assert_eq!(ips, ["198.51.100.8"], "the session /account lists");
}

#[tokio::test]
async fn with_forwarded_configured_rfc_7239_is_read_and_x_forwarded_for_ignored() {
    let (app, rp, user) = provider(|raw| {
        raw.trusted_proxies = vec!["127.0.0.1/32".into()];
        raw.forwarded_header = ForwardedHeader::Forwarded;
    })
    .await;

    let headers = [
        ("forwarded", "for=192.0.2.1, for=\"[2001:db8:cafe::17]:4711\";proto=https"),
        ("x-forwarded-for", "203.0.113.5"),
    ];
    assert_signed_in(&sign_in(&app, &rp, "alice.martin", PASSWORD, &headers).await, "the right password");

    assert_eq!(audited_ip(&app, &user, "sign_in").await, "2001:db8:cafe::17");
}
