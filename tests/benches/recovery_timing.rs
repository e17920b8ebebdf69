//! Does the time a recovery request takes tell whether the account exists? (issue #5)
//!
//!     cargo bench -p idp-tests --bench recovery_timing
//!
//! Posts the first page of "Mot de passe perdu" (an e-mail address, a type that mails a
//! security code) for an existing account and for an unknown address, alternately, one request
//! at a time, first with the padding off (`min_response_ms = 0`: the raw difference — an
//! existing account costs a token insert, a queued mail and an audit row) then with the default
//! padding. Prints medians and 90th percentiles, and the known/unknown ratio of the medians,
//! which should be close to 1.00 with the padding. Asserts nothing: machines are noisy.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use idp::admin::{self, UserSpec};
use idp::domain::Secret;
use idp::domain::user_type::{CaptchaKind, IdentifyBy, PasswordRecovery, UserType};
use idp_tests::{Browser, PASSWORD, Setup, TestApp};

const ROUNDS: usize = 60;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn measure(min_response_ms: u64) -> (Vec<Duration>, Vec<Duration>) {
    let app = TestApp::spawn_with(Setup {
        tweak: Box::new(move |raw| {
            let mut t = UserType::default_usager();
            t.recovery.identify_by = vec![IdentifyBy::Email];
            t.recovery.captcha = CaptchaKind::None;
            t.recovery.ask_secret_question = false;
            t.recovery.password = PasswordRecovery::Code;
            raw.user_types = vec![t];
            raw.recovery.min_response_ms = min_response_ms;
            raw.recovery.limit_per_identifier = 1_000_000;
            raw.recovery.limit_per_email = 1_000_000;
            raw.recovery.limit_per_ip = 1_000_000;
        }),
        ..Setup::default()
    })
    .await;
    let spec = UserSpec {
        login: "claire.dupont".into(),
        email: "claire.dupont@example.org".into(),
        given_name: "Claire".into(),
        family_name: "Dupont".into(),
        ..UserSpec::default()
    };
    admin::add_user(&app.services, &spec, &Secret::new(PASSWORD)).await.unwrap();
    let browser = Browser::new();
    let page = browser.get(&app.url("/recovery/password?user_type=usager&lang=fr")).await;
    let csrf = page.field("csrf").expect("the first page has its CSRF token");
    let url = app.url("/recovery/password?lang=fr");
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS * 2 {
        let identifier = if round % 2 == 0 { "claire.dupont@example.org" } else { "nobody.here@example.org" };
        let form =
            [("csrf", csrf.as_str()), ("action", "identify"), ("user_type", "usager"), ("identifier", identifier)];
        let started = Instant::now();
        let response = browser.http.post(&url).form(&form).send().await.unwrap();
        let elapsed = started.elapsed();
        assert!(response.status().is_redirection() || response.status().is_success(), "{}", response.status());
        // The first rounds warm up connections and caches.
        if round >= 10 {
            if round % 2 == 0 { known.push(elapsed) } else { unknown.push(elapsed) }
        }
    }
    known.sort();
    unknown.sort();
    (known, unknown)
}

#[tokio::main]
async fn main() {
    println!("recovery first page: existing account vs unknown address ({ROUNDS} requests each, sequential)");
    for padding in [0, idp::config::RecoverySettings::default().min_response_ms] {
        let (known, unknown) = measure(padding).await;
        let (km, um) = (percentile(&known, 0.5), percentile(&unknown, 0.5));
        println!(
            "  min_response_ms={padding:<4} known median {:>7.1} ms p90 {:>7.1} ms | unknown median {:>7.1} ms p90 {:>7.1} ms | ratio {:.2}",
            km.as_secs_f64() * 1e3,
            percentile(&known, 0.9).as_secs_f64() * 1e3,
            um.as_secs_f64() * 1e3,
            percentile(&unknown, 0.9).as_secs_f64() * 1e3,
            km.as_secs_f64() / um.as_secs_f64(),
        );
    }
}
