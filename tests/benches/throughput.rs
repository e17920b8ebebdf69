//! Throughput of the provider, in process, on loopback: discovery, JWKS, code issuance and
//! exchange, and logins per second against raw argon2id verifications per second with the same
//! (OWASP) parameters. Prints figures; asserts nothing (machines are noisy: compare ratios).
//!
//!     cargo bench -p idp-tests --bench throughput
//!
//! The load generator shares the machine's cores with the server, so absolute numbers are a
//! floor; the login/argon2 ratio is the figure that travels.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use idp::admin::ClientSpec;
use idp::domain::Secret;
use idp_tests::browser::query;
use idp_tests::{Browser, PASSWORD, RP_CALLBACK, Setup, TestApp};

const CONCURRENCY: usize = 32;
/// Accounts the login benchmark signs in (more than `CONCURRENCY`).
const LOGIN_USERS: usize = 64;

/// Runs `op` from `CONCURRENCY` tasks for `duration` or until it answers `None` (out of
/// prepared inputs); returns successful operations per second.
async fn load<F, Fut>(duration: Duration, op: F) -> f64
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<bool>> + Send,
{
    let op = Arc::new(op);
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (op, done) = (op.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            while start.elapsed() < duration {
                match op().await {
                    Some(true) => {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    Some(false) => {}
                    None => break,
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn authorize_url(app: &TestApp, client_id: &str) -> String {
    format!(
        "{}?response_type=code&client_id={client_id}&redirect_uri={}&scope=openid&state=s",
        app.url("/authorize"),
        url::form_urlencoded::byte_serialize(RP_CALLBACK.as_bytes()).collect::<String>()
    )
}

#[tokio::main]
async fn main() {
    let app = TestApp::spawn_with(Setup {
        tweak: Box::new(|raw| {
            raw.argon2_m_cost = 19 * 1024;
            raw.argon2_t_cost = 2;
            raw.argon2_p_cost = 1;
            // Thousands of authorizations from one address: the per-address limit would refuse
            // them (decision 0013); this bench measures code issuance.
            raw.pending_requests_per_ip = 0;
            // Every request comes from this one loopback address: the per-address cap on
            // sign-ins in flight (issue #10) would measure itself, not the provider.
            raw.login_ip_max_in_flight = 0;
        }),
        ..Setup::default()
    })
    .await;
    let app = Arc::new(app);
    app.user("bench.user").await;
    let spec = ClientSpec {
        id: "bench".into(),
        redirect_uris: vec![RP_CALLBACK.into()],
        first_party: true,
        secret: Some(Secret::new("bench-secret-bench-secret-bench-secret-0")),
        ..ClientSpec::default()
    };
    app.client(spec).await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let seconds = Duration::from_secs(3);
    println!("idp throughput (in process, loopback, {CONCURRENCY} concurrent clients, {} cores)", num_cores());

    let url = app.url("/.well-known/openid-configuration");
    let h = http.clone();
    let discovery = load(seconds, move || {
        let (h, url) = (h.clone(), url.clone());
        async move { Some(h.get(&url).send().await.is_ok_and(|r| r.status() == 200)) }
    })
    .await;
    println!("  discovery           {discovery:>10.0} req/s");

    let url = app.url("/jwks");
    let h = http.clone();
    let jwks = load(seconds, move || {
        let (h, url) = (h.clone(), url.clone());
        async move { Some(h.get(&url).send().await.is_ok_and(|r| r.status() == 200)) }
    })
    .await;
    println!("  jwks                {jwks:>10.0} req/s");

    // One signed-in browser; each authorization then issues a code at once (first-party client).
    let browser = Browser::new();
    let first = browser.authorize(&app.issuer, &authorize_url(&app, "bench"), "bench.user", PASSWORD).await;
    assert!(query(&first).contains_key("code"));
    let codes = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (b, url, sink) = (browser.http.clone(), authorize_url(&app, "bench"), codes.clone());
    let issued = load(seconds, move || {
        let (b, url, sink) = (b.clone(), url.clone(), sink.clone());
        async move {
            let Ok(r) = b.get(&url).send().await else { return Some(false) };
            let Some(loc) = r.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned) else {
                return Some(false);
            };
            let code = query(&loc).remove("code")?;
            sink.lock().unwrap().push(code);
            Some(true)
        }
    })
    .await;
    println!("  authorize (code)    {issued:>10.0} req/s");

    let token_url = app.url("/token");
    let h = http.clone();
    let pool = codes.clone();
    let exchanged = load(seconds, move || {
        let (h, token_url, pool) = (h.clone(), token_url.clone(), pool.clone());
        async move {
            let code = pool.lock().unwrap().pop()?;
            let form = [("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", RP_CALLBACK)];
            Some(
                h.post(&token_url)
                    .basic_auth("bench", Some("bench-secret-bench-secret-bench-secret-0"))
                    .form(&form)
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200),
            )
        }
    })
    .await;
    let left = codes.lock().unwrap().len();
    println!(
        "  token (code, RS256) {exchanged:>10.0} req/s{}",
        if left == 0 { "  (used every prepared code)" } else { "" }
    );

    // Logins: pending requests prepared first, then only the POST /login is timed. One account
    // per prepared request: the lockout counts attempts in flight per account (parallel guesses
    // never get more than `max_failures` evaluations), so 32 concurrent sign-ins of one account
    // would mostly be refused, which is not the traffic a portal sees.
    let login_browser = Browser::new();
    let mut pending = Vec::new();
    for i in 0..LOGIN_USERS {
        app.user(&format!("bench.login{i}")).await;
    }
    for i in 0..1500 {
        let page = login_browser.get(&authorize_url(&app, "bench")).await;
        let location = page.location().unwrap();
        pending.push((query(&format!("{}{location}", app.issuer))["request_id"].clone(), i % LOGIN_USERS));
    }
    let login_page = login_browser.get(&format!("{}/login?request_id={}", app.issuer, pending[0].0)).await;
    let csrf = login_page.field("csrf").unwrap();
    let pending = Arc::new(std::sync::Mutex::new(pending));
    let (b, login_url) = (login_browser.http.clone(), app.url("/login"));
    let logins = load(seconds, move || {
        let (b, login_url, pending, csrf) = (b.clone(), login_url.clone(), pending.clone(), csrf.clone());
        async move {
            let (id, user) = pending.lock().unwrap().pop()?;
            let login = format!("bench.login{user}");
            let form = [("csrf", csrf.as_str()), ("request_id", &id), ("login", &login), ("password", PASSWORD)];
            Some(b.post(&login_url).form(&form).send().await.is_ok_and(|r| r.status() == 303))
        }
    })
    .await;
    println!("  login (argon2id)    {logins:>10.1} req/s");

    let services = app.services.clone();
    let hash = services.passwords.hash(&Secret::new(PASSWORD)).await.unwrap();
    let raw = load(seconds, move || {
        let (services, hash) = (services.clone(), hash.clone());
        async move { Some(services.passwords.verify(&Secret::new(PASSWORD), Some(&hash)).await.unwrap()) }
    })
    .await;
    println!("  argon2id verify     {raw:>10.1} /s  (m=19456 KiB t=2 p=1, same bounded pool)");
    println!("  logins / raw argon2 {:>10.2}", logins / raw);
}

fn num_cores() -> usize {
    std::thread::available_parallelism().map(usize::from).unwrap_or(1)
}
