//! The propagation webhook (issue #5, `idp::account::recovery::propagation`): every password
//! change is announced to `recovery.propagation_url` by a signed POST without the password,
//! queued in the change's transaction; a receiver that refuses gets it again from the worker
//! after the backoff, exactly once acknowledged; the waiting page's status follows.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use idp::account::password_change::{self, Context, Reason};
use idp::account::recovery::propagation::{self, PropagationStatus};
use idp::domain::Secret;
use idp::mail::queue::backoff;
use idp::session::ClientInfo;
use idp_tests::{Browser, PASSWORD, Setup, TestApp};
use sha2::{Digest, Sha256};

const NEW_PASSWORD: &str = "Nouveau-Cheval-Batterie-7";
const SECRET: &str = "propagation-shared-secret";

/// One request as the receiver saw it.
#[derive(Clone, Debug)]
struct Received {
    delivery: String,
    signature: Option<String>,
    content_type: Option<String>,
    body: String,
    answered: u16,
}

/// A downstream system on loopback: records every POST and answers with `status`.
struct Receiver {
    url: String,
    status: Arc<AtomicU16>,
    got: Arc<Mutex<Vec<Received>>>,
}

type Shared = (Arc<AtomicU16>, Arc<Mutex<Vec<Received>>>);

async fn receive(State((status, got)): State<Shared>, headers: HeaderMap, body: String) -> StatusCode {
    let answered = status.load(Ordering::SeqCst);
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    got.lock().unwrap().push(Received {
        delivery: header("x-idp-delivery").unwrap_or_default(),
        signature: header("x-idp-signature"),
        content_type: header("content-type"),
        body,
        answered,
    });
    StatusCode::from_u16(answered).unwrap()
}

impl Receiver {
    async fn start(status: u16) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks/password", listener.local_addr().unwrap());
        let status = Arc::new(AtomicU16::new(status));
        let got = Arc::new(Mutex::new(Vec::new()));
        let router = axum::Router::new()
            .route("/hooks/password", axum::routing::post(receive))
            .with_state((status.clone(), got.clone()));
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self { url, status, got }
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits up to `secs` seconds for at least `n` requests.
    async fn wait_for(&self, n: usize, secs: u64) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while self.received().len() < n && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.received()
    }
}

async fn app_sending_to(receiver: &Receiver) -> TestApp {
    let url = receiver.url.clone();
    TestApp::spawn_with(Setup {
        tweak: Box::new(move |raw| {
            raw.recovery.min_response_ms = 0;
            raw.recovery.propagation_url = Some(url);
            raw.recovery.propagation_secret = Some(SECRET.into());
        }),
        ..Setup::default()
    })
    .await
}

/// HMAC-SHA256 (RFC 2104), written here from SHA-256 alone so the check does not reuse the
/// server's code; lowercase hex.
fn hmac_hex(key: &[u8], message: &[u8]) -> String {
    let mut block = [0u8; 64];
    block[..key.len()].copy_from_slice(key);
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(message).finalize();
    let outer = Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize();
    outer.iter().map(|b| format!("{b:02x}")).collect()
}

async fn wait_for_status(app: &TestApp, id: &str, want: PropagationStatus, secs: u64) -> PropagationStatus {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let status = propagation::status(&app.services, id).await.unwrap();
        if status == want || Instant::now() >= deadline {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn cli() -> ClientInfo {
    ClientInfo { user_agent: "test".into(), ip: "203.0.113.9".into(), lang: None }
}

#[tokio::test]
async fn a_password_changed_in_the_account_space_is_announced_once_signed_and_without_the_password() {
    let receiver = Receiver::start(200).await;
    let app = app_sending_to(&receiver).await;
    let alice = app.user("alice.martin").await;
    assert!(receiver.received().is_empty(), "creating an account is not a change");

    let browser = Browser::new();
    let login_page = browser.follow(&app.issuer, browser.get(&app.url("/account")).await).await;
    let account = browser
        .follow(&app.issuer, browser.submit_login(&app.issuer, &login_page, "alice.martin", PASSWORD).await)
        .await;
    assert_eq!(account.status, 200, "{}", account.body);
    let form = browser.get(&app.url("/account/password")).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let action = form.form_action("/account/password").expect("a form that posts to /account/password");
    let csrf = form.field("csrf").expect("a CSRF token");
    let fields = [
        ("csrf", csrf.as_str()),
        ("current_password", PASSWORD),
        ("new_password", NEW_PASSWORD),
        ("confirm_password", NEW_PASSWORD),
    ];
    let done = browser.post(&app.url(&action), &fields).await;
    assert!(done.status.is_redirection(), "the change is accepted: {} {}", done.status, done.body);

    let got = receiver.wait_for(1, 15).await;
    assert_eq!(got.len(), 1, "one notice: {got:?}");
    let notice = &got[0];
    assert_eq!(notice.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        notice.signature.as_deref(),
        Some(format!("sha256={}", hmac_hex(SECRET.as_bytes(), notice.body.as_bytes())).as_str())
    );
    assert!(!notice.body.contains(NEW_PASSWORD) && !notice.body.contains(PASSWORD), "no password: {}", notice.body);
    assert!(!notice.body.contains("argon2"), "no hash either: {}", notice.body);
    let payload: serde_json::Value = serde_json::from_str(&notice.body).unwrap();
    assert_eq!(payload["event"], "password_changed");
    assert_eq!(payload["sub"], alice.id.as_str());
    assert_eq!(payload["login"], "alice.martin");
    assert_eq!(payload["user_type"], alice.user_type.as_str());
    assert_eq!(payload["reason"], "account");
    assert!(payload["changed_at"].as_i64().unwrap() >= app.services.now() - 5);
    assert_eq!(payload.as_object().unwrap().len(), 6, "nothing else: {payload}");

    // The receiver's delivery id is the row the waiting page follows; acknowledged = delivered.
    assert_eq!(
        wait_for_status(&app, &notice.delivery, PropagationStatus::Delivered, 10).await,
        PropagationStatus::Delivered
    );
    app.clock.advance(3600);
    assert_eq!(propagation::deliver_due(&app.services).await.unwrap(), 0, "an acknowledged notice is not sent again");
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn a_refused_notice_is_retried_by_the_worker_and_acknowledged_exactly_once() {
    let receiver = Receiver::start(500).await;
    let app = app_sending_to(&receiver).await;
    let alice = app.user("alice.martin").await;
    let info = cli();
    let ctx = Context { reason: Reason::Recovery, info: &info, keep_sid: None, redeem_token: None };
    let changed =
        password_change::change(&app.services, &alice, &Secret::new(NEW_PASSWORD), &Secret::new(NEW_PASSWORD), &ctx)
            .await
            .expect("the change is committed");
    let id = changed.propagation_id.expect("a delivery is queued with the change");
    assert_eq!(propagation::status(&app.services, &id).await.unwrap(), PropagationStatus::Pending);

    // The immediate attempt is refused (500): the row waits for the backoff, with the error.
    let first = receiver.wait_for(1, 15).await;
    assert_eq!(first.len(), 1, "one immediate attempt: {first:?}");
    assert_eq!((first[0].delivery.as_str(), first[0].answered), (id.as_str(), 500));
    let deadline = Instant::now() + Duration::from_secs(10);
    let row = loop {
        let row = app.services.store.webhook_delivery(&id).await.unwrap().expect("the delivery is stored");
        if row.last_error.is_some() || Instant::now() >= deadline {
            break row;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(row.last_error.as_deref(), Some("answered 500 Internal Server Error"));
    assert_eq!(row.delivered_at, None);
    assert_eq!(propagation::status(&app.services, &id).await.unwrap(), PropagationStatus::Pending);
    assert!(
        !row.payload.contains(NEW_PASSWORD)
            && serde_json::from_str::<serde_json::Value>(&row.payload).unwrap()["reason"] == "recovery",
        "{}",
        row.payload
    );

    // The receiver is back; once the backoff has passed, the worker (not this test) delivers.
    receiver.status.store(200, Ordering::SeqCst);
    app.clock.advance(backoff(1) + 1);
    assert_eq!(wait_for_status(&app, &id, PropagationStatus::Delivered, 20).await, PropagationStatus::Delivered);
    let all = receiver.received();
    assert_eq!(all.len(), 2, "refused once, acknowledged once: {all:?}");
    assert_eq!((all[1].delivery.as_str(), all[1].answered), (id.as_str(), 200));
    assert_eq!(all[0].body, all[1].body, "the same notice");

    // Never again, however long we wait; a day after, the row is purged (then unknown = pending).
    app.clock.advance(3600);
    assert_eq!(propagation::deliver_due(&app.services).await.unwrap(), 0);
    app.clock.advance(24 * 3600);
    assert_eq!(propagation::deliver_due(&app.services).await.unwrap(), 0);
    assert!(app.services.store.webhook_delivery(&id).await.unwrap().is_none(), "purged a day after delivery");
    assert_eq!(propagation::status(&app.services, &id).await.unwrap(), PropagationStatus::Pending);
    assert_eq!(receiver.received().len(), 2);
}

#[tokio::test]
async fn without_a_propagation_url_nothing_is_queued() {
    let app =
        TestApp::spawn_with(Setup { tweak: Box::new(|raw| raw.recovery.min_response_ms = 0), ..Setup::default() })
            .await;
    let alice = app.user("alice.martin").await;
    let info = cli();
    let ctx = Context { reason: Reason::Account, info: &info, keep_sid: None, redeem_token: None };
    let changed =
        password_change::change(&app.services, &alice, &Secret::new(NEW_PASSWORD), &Secret::new(NEW_PASSWORD), &ctx)
            .await
            .unwrap();
    assert_eq!(changed.propagation_id, None);
}
