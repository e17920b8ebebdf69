//! A dependency down (issue #10): with Redis or PostgreSQL unreachable, requests get 503 with
//! `Retry-After` (a themed page for people, `temporarily_unavailable` JSON for the OAuth
//! endpoints), never a 500 or a hang; `/readyz` names what is down; once the dependency is back
//! the flows work again by themselves.
//!
//! Redis: each test runs a redis-server of its own on a free port, stopped and restarted (without
//! redis-server the test is skipped locally and fails in CI). PostgreSQL: the app reaches the
//! shared server through a TCP proxy of the test, which cuts every connection (only when
//! `IDP_TEST_POSTGRES_URL` is set).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use idp_tests::rp::Rp;
use idp_tests::{Browser, PASSWORD, RP_CALLBACK, Setup, TestApp};
use reqwest::StatusCode;
use tokio::net::TcpListener;
use tokio::process::{Child, Command};

/// A bound far above the configured waits: an answer slower than this is a hang.
const HANG: Duration = Duration::from_secs(15);

fn redis_server_available(test: &str) -> bool {
    let found = std::process::Command::new("redis-server").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var_os("CI").is_none(), "redis-server is missing: CI must install it ({test})");
        eprintln!("skipping {test}: redis-server is not installed");
    }
    found
}

async fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port()
}

async fn start_redis(port: u16) -> Child {
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("redis-server starts");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("redis-server did not listen on {port}");
}

async fn stop(mut child: Child) {
    child.kill().await.unwrap();
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn timed(request: reqwest::RequestBuilder) -> reqwest::Response {
    tokio::time::timeout(HANG, request.send()).await.expect("the request hung").unwrap()
}

/// GET /authorize, then POST /token with an unknown code, then /readyz: each answers 503 with
/// `Retry-After`, a themed page or `temporarily_unavailable` JSON; `/readyz` says `down` for
/// `which`.
async fn assert_unavailable(app: &TestApp, rp: &Rp, client_id: &str, secret: &str, which: &str) {
    let page = timed(http().get(rp.start(&[]).url)).await;
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE, "GET /authorize with {which} down");
    assert!(page.headers().contains_key("retry-after"), "GET /authorize: Retry-After");
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let body = page.text().await.unwrap();
    assert!(body.contains("Le service est momentanément indisponible."), "a themed page: {body}");

    let token = timed(http().post(app.url("/token")).basic_auth(client_id, Some(secret)).form(&[
        ("grant_type", "authorization_code"),
        ("code", "no-such-code"),
        ("redirect_uri", RP_CALLBACK),
    ]))
    .await;
    assert_eq!(token.status(), StatusCode::SERVICE_UNAVAILABLE, "POST /token with {which} down");
    assert!(token.headers().contains_key("retry-after"), "POST /token: Retry-After");
    let json: serde_json::Value = token.json().await.unwrap();
    assert_eq!(json["error"], "temporarily_unavailable");

    let ready = timed(http().get(app.url("/readyz"))).await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE, "/readyz with {which} down");
    assert!(ready.headers().contains_key("retry-after"));
    let json: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(json["status"], "unavailable");
    assert_eq!(json[which], "down", "{json}");

    let live = timed(http().get(app.url("/healthz"))).await;
    assert_eq!(live.status(), StatusCode::OK, "the process is alive all along");
}

/// Waits (bounded) until `/readyz` says ready again.
async fn wait_until_ready(app: &TestApp) {
    for _ in 0..100 {
        let ready = timed(http().get(app.url("/readyz"))).await;
        if ready.status() == StatusCode::OK {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the provider never became ready again");
}

/// A full sign-in and code exchange.
async fn sign_in_works(app: &TestApp, rp: &Rp) {
    let pending = rp.start(&[]);
    let back = Browser::new().authorize(&app.issuer, &pending.url, "alice.martin", PASSWORD).await;
    let code = idp_tests::browser::query(&back).remove("code").unwrap_or_else(|| panic!("no code in {back}"));
    rp.exchange(&code, pending.verifier).await.expect("the code exchange works");
}

#[tokio::test]
async fn with_redis_down_requests_get_503_quickly_and_work_again_once_it_is_back() {
    if !redis_server_available("with_redis_down_requests_get_503_quickly_and_work_again_once_it_is_back") {
        return;
    }
    let port = free_port().await;
    let redis = start_redis(port).await;
    let app = TestApp::spawn_with(Setup {
        tweak: Box::new(move |raw| {
            raw.redis_url = Some(format!("redis://127.0.0.1:{port}"));
            raw.redis_timeout_ms = 500;
        }),
        ..Setup::default()
    })
    .await;
    app.user("alice.martin").await;
    let (client, secret) = app.confidential_client("shop", RP_CALLBACK).await;
    let rp = Rp::discover(&app.issuer, &client.id, Some(&secret), RP_CALLBACK).await;
    sign_in_works(&app, &rp).await;

    stop(redis).await;
    assert_unavailable(&app, &rp, &client.id, &secret, "ephemeral").await;

    let _redis = start_redis(port).await;
    wait_until_ready(&app).await;
    sign_in_works(&app, &rp).await;
}

/// A TCP proxy to `upstream` that can cut every connection and refuse new ones.
struct CuttableProxy {
    port: u16,
    cut: Arc<AtomicBool>,
    cuts: tokio::sync::watch::Sender<u64>,
}

impl CuttableProxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let (cuts, _) = tokio::sync::watch::channel(0u64);
        let (is_cut, on_cut) = (cut.clone(), cuts.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if is_cut.load(Ordering::SeqCst) {
                    continue; // dropped: closed at once
                }
                let upstream = upstream.clone();
                let mut cut_signal = on_cut.subscribe();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(&upstream).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut_signal.changed() => {}
                    }
                });
            }
        });
        Self { port, cut, cuts }
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.cuts.send_modify(|n| *n += 1);
    }

    fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn with_postgres_down_requests_get_503_quickly_and_work_again_once_it_is_back() {
    let (Some(_), _) = idp_tests::backends() else {
        eprintln!("skipping: PostgreSQL outage needs IDP_TEST_POSTGRES_URL (SQLite is a local file)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let direct = idp_tests::fresh_database_url(dir.path()).await;
    let mut url = url::Url::parse(&direct).unwrap();
    let upstream = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let proxy = CuttableProxy::start(upstream).await;
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(proxy.port)).unwrap();
    let app = TestApp::spawn_with(Setup {
        database_url: Some(url.to_string()),
        tweak: Box::new(|raw| raw.database_timeout_ms = 500),
        ..Setup::default()
    })
    .await;
    app.user("alice.martin").await;
    let (client, secret) = app.confidential_client("shop", RP_CALLBACK).await;
    let rp = Rp::discover(&app.issuer, &client.id, Some(&secret), RP_CALLBACK).await;
    sign_in_works(&app, &rp).await;

    proxy.cut();
    assert_unavailable(&app, &rp, &client.id, &secret, "database").await;

    proxy.restore();
    wait_until_ready(&app).await;
    sign_in_works(&app, &rp).await;
}
