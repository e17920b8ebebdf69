//! Other users' sign-in latency while one address floods POST /login (issue #10), with the
//! real (OWASP) argon2 parameters. Prints figures; asserts nothing (machines are noisy).
//!
//!     cargo bench -p idp-tests --bench login_flood
//!
//! The flooder connects from 127.0.0.66 with `FLOODERS` concurrent requests of wrong passwords
//! for unknown accounts; each measured sign-in comes from another loopback address (127.0.0.x
//! are all loopback on Linux), so no proxy is involved. Three phases, each on a fresh app:
//! quiet (no flood), a flood from an address the per-address limit has blocked (after its 50
//! failures), and a flood from an address that is never blocked (`login_ip_max_failures = 0`),
//! where only the per-address cap on verifications in flight helps. It uses only settings that
//! existed before issue #10, so the same file measures the code before the change.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use idp::admin::ClientSpec;
use idp::domain::Secret;
use idp_tests::browser::query;
use idp_tests::{PASSWORD, RP_CALLBACK, Setup, TestApp};

const FLOODERS: usize = 32;
const SAMPLES: usize = 30;

fn client_from(last_octet: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last_octet)))
        .build()
        .unwrap()
}

fn authorize_url(app: &TestApp) -> String {
    format!(
        "{}?response_type=code&client_id=bench&redirect_uri={}&scope=openid&state=s",
        app.url("/authorize"),
        url::form_urlencoded::byte_serialize(RP_CALLBACK.as_bytes()).collect::<String>()
    )
}

/// A login page for a pending request: (request_id, csrf).
async fn login_form(app: &TestApp, http: &reqwest::Client) -> (String, String) {
    let r = http.get(authorize_url(app)).send().await.unwrap();
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let request_id = query(&format!("{}{location}", app.issuer))["request_id"].clone();
    let page = http.get(format!("{}{location}", app.issuer)).send().await.unwrap().text().await.unwrap();
    let at = page.find("name=\"csrf\"").unwrap();
    let tag = &page[page[..at].rfind('<').unwrap()..at + page[at..].find('>').unwrap()];
    let v = tag.find("value=\"").unwrap() + 7;
    let csrf = tag[v..v + tag[v..].find('"').unwrap()].to_owned();
    (request_id, csrf)
}

async fn app_with(ip_max_failures: u32) -> Arc<TestApp> {
    let app = TestApp::spawn_with(Setup {
        tweak: Box::new(move |raw| {
            raw.argon2_m_cost = 19 * 1024;
            raw.argon2_t_cost = 2;
            raw.argon2_p_cost = 1;
            raw.login_ip_max_failures = ip_max_failures;
        }),
        ..Setup::default()
    })
    .await;
    app.user("bench.victim").await;
    let spec = ClientSpec {
        id: "bench".into(),
        redirect_uris: vec![RP_CALLBACK.into()],
        first_party: true,
        secret: Some(Secret::new("bench-secret-bench-secret-bench-secret-0")),
        ..ClientSpec::default()
    };
    app.client(spec).await;
    Arc::new(app)
}

/// Starts the flood; returns the stop flag and the counts of answers (401, 429, other).
fn flood(app: &Arc<TestApp>, http: reqwest::Client, form: (String, String)) -> (Arc<AtomicBool>, Arc<[AtomicU64; 3]>) {
    let stop = Arc::new(AtomicBool::new(false));
    let counts: Arc<[AtomicU64; 3]> = Arc::new(Default::default());
    for t in 0..FLOODERS {
        let (app, http, stop, counts, form) = (app.clone(), http.clone(), stop.clone(), counts.clone(), form.clone());
        tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let login = format!("nobody{t}x{n}");
                let body = [("csrf", form.1.as_str()), ("request_id", &form.0), ("login", &login), ("password", "x")];
                let status = match http.post(app.url("/login")).form(&body).send().await {
                    Ok(r) => r.status().as_u16(),
                    Err(_) => 0,
                };
                let slot = match status {
                    401 => 0,
                    429 => 1,
                    _ => 2,
                };
                counts[slot].fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    (stop, counts)
}

/// `SAMPLES` sign-ins of other users, one after the other, each from its own address: the
/// milliseconds of their POST /login.
async fn victims(app: &Arc<TestApp>) -> Vec<f64> {
    let mut millis = Vec::new();
    for i in 0..SAMPLES {
        let http = client_from(10 + i as u8);
        let (request_id, csrf) = login_form(app, &http).await;
        let body =
            [("csrf", csrf.as_str()), ("request_id", &request_id), ("login", "bench.victim"), ("password", PASSWORD)];
        let started = Instant::now();
        let r = http.post(app.url("/login")).form(&body).send().await.unwrap();
        millis.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(r.status(), 303, "the victim's sign-in failed: {}", r.text().await.unwrap());
    }
    millis
}

fn summary(mut ms: Vec<f64>) -> String {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    format!("p50 {:>7.1} ms  p95 {:>7.1} ms  max {:>7.1} ms", at(0.5), at(0.95), at(1.0))
}

async fn phase(name: &str, ip_max_failures: u32, flooding: bool) {
    let app = app_with(ip_max_failures).await;
    let flood = if flooding {
        // One browser (its CSRF cookie) for the whole flood.
        let http = client_from(66);
        let form = login_form(&app, &http).await;
        let running = flood(&app, http, form);
        tokio::time::sleep(Duration::from_secs(3)).await; // past the 50 failures, queues full
        Some(running)
    } else {
        None
    };
    let started = Instant::now();
    let verified_start = app.services.passwords.verifications();
    let ms = victims(&app).await;
    let seconds = started.elapsed().as_secs_f64();
    let verified = app.services.passwords.verifications() - verified_start;
    let mut line = format!("  {name:<34} {}  argon2 {:>5.1}/s", summary(ms), verified as f64 / seconds);
    if let Some((stop, counts)) = flood {
        stop.store(true, Ordering::Relaxed);
        let [refused, busy, other] = &*counts;
        line.push_str(&format!(
            "  flood answers: {} 401, {} 429, {} other",
            refused.load(Ordering::Relaxed),
            busy.load(Ordering::Relaxed),
            other.load(Ordering::Relaxed)
        ));
    }
    println!("{line}");
}

#[tokio::main]
async fn main() {
    let cores = std::thread::available_parallelism().map(usize::from).unwrap_or(1);
    println!(
        "sign-in latency of other users during a flood from one address ({FLOODERS} concurrent, {cores} cores, m=19456 KiB t=2)"
    );
    phase("quiet", 50, false).await;
    phase("flood, blocked address", 50, true).await;
    phase("flood, never-blocked address", 0, true).await;
}
