//! Lockout and throttling (issue #4): three wrong passwords lock an account for twenty minutes
//! (Bonus Eco), the page never tells, the owner gets one e-mail, parallel guesses cannot exceed
//! the limit, nodes share the counters, one address cannot try without limit, and `unlock`
//! (used by recovery, issue #5) lifts a lock.

use idp::account::lockout;
use idp::domain::User;
use idp_tests::browser::Page;
use idp_tests::mail::{Mail, read_outbox};
use idp_tests::rp::Rp;
use idp_tests::{Browser, PASSWORD, RP_CALLBACK, Setup, TestApp};

pub(crate) const LOGIN_FAILED: &str = "Identifiant ou mot de passe incorrect.";
const WRONG: &str = "Wrong-horse-battery-9";

async fn provider() -> (TestApp, Rp, User) {
    provider_with(Setup::default()).await
}

async fn provider_with(setup: Setup) -> (TestApp, Rp, User) {
    let app = TestApp::spawn_with(setup).await;
    let user = app.user("alice.martin").await;
    let (client, secret) = app.confidential_client("shop", RP_CALLBACK).await;
    let rp = Rp::discover(&app.issuer, &client.id, Some(&secret), RP_CALLBACK).await;
    (app, rp, user)
}

async fn login_page(app: &TestApp, rp: &Rp, browser: &Browser) -> Page {
    let page = browser.follow(&app.issuer, browser.get(&rp.start(&[]).url).await).await;
    assert!(page.url.contains("/login?request_id="), "expected the login page, got {}", page.url);
    page
}

/// One sign-in attempt from a fresh login page.
async fn sign_in(app: &TestApp, rp: &Rp, login: &str, password: &str) -> Page {
    let browser = Browser::new();
    let page = login_page(app, rp, &browser).await;
    browser.submit_login(&app.issuer, &page, login, password).await
}

pub(crate) fn assert_refused(page: &Page, what: &str) {
    assert_eq!(page.status, 401, "{what}: unexpected status; the page said: {}", page.body);
    assert!(page.body.contains(LOGIN_FAILED), "{what}: the page does not say {LOGIN_FAILED:?}: {}", page.body);
}

pub(crate) fn assert_signed_in(page: &Page, what: &str) {
    assert!(
        page.location().is_some(),
        "{what}: expected a redirect after signing in, got {}: {}",
        page.status,
        page.body
    );
}

fn outbox(app: &TestApp) -> Vec<Mail> {
    read_outbox(&app.config.outbox_dir)
}

#[tokio::test]
async fn three_wrong_passwords_lock_the_account_for_twenty_minutes() {
    let (app, rp, _) = provider().await;

    for i in 1..=3 {
        assert_refused(&sign_in(&app, &rp, "alice.martin", WRONG).await, &format!("wrong password #{i}"));
    }
    let locked = sign_in(&app, &rp, "alice.martin", PASSWORD).await;
    let wrong = sign_in(&app, &rp, "alice.martin", WRONG).await;

    assert_refused(&locked, "the right password while locked");
    assert_eq!(locked.status, wrong.status, "a locked account answers like a wrong password");
    app.clock.advance(19 * 60);
    assert_refused(&sign_in(&app, &rp, "alice.martin", PASSWORD).await, "after 19 minutes");
    app.clock.advance(60);
    assert_signed_in(&sign_in(&app, &rp, "alice.martin", PASSWORD).await, "after 20 minutes");
}

#[tokio::test]
async fn a_success_resets_the_count_of_failures() {
    let (app, rp, _) = provider().await;

    for _ in 0..2 {
        sign_in(&app, &rp, "alice.martin", WRONG).await;
    }
    assert_signed_in(&sign_in(&app, &rp, "alice.martin", PASSWORD).await, "the right password at the third attempt");
    for _ in 0..2 {
        sign_in(&app, &rp, "alice.martin", WRONG).await;
    }

    assert_signed_in(&sign_in(&app, &rp, "alice.martin", PASSWORD).await, "two failures after a success");
}

#[tokio::test]
async fn the_owner_gets_one_lock_email_in_french_with_a_reset_link() {
    let (app, rp, _) = provider().await;

    for _ in 0..5 {
        sign_in(&app, &rp, "alice.martin", WRONG).await;
    }

    let mails = outbox(&app);
    assert_eq!(mails.len(), 1, "one e-mail per lock, not per failure: {mails:?}");
    let mail = &mails[0];
    assert!(mail.to.contains("alice.martin@example.org"), "sent to {}", mail.to);
    assert_eq!(mail.subject, "Votre compte est verrouillé temporairement");
    let link = app.url("/recovery/password");
    // Tera escapes `'` and `/` in the HTML part.
    let html = mail.html.replace("&#x27;", "'").replace("&#x2F;", "/");
    for (part, body) in [("text", &mail.text), ("html", &html)] {
        assert!(body.contains("Votre compte est verrouillé jusqu'à"), "{part}: {body}");
        assert!(body.contains("Ce n'était pas vous"), "{part}: {body}");
        assert!(body.contains(&link), "the {part} part has no reset link: {body}");
    }
    assert!(html.contains(&format!("href=\"{link}\"")), "the reset link is not a link: {html}");
    let at = mail.text.find("jusqu'à ").unwrap() + "jusqu'à ".len();
    // "14 h 35 (heure de Paris)" (no-break spaces): the lock's end, in the portal's zone.
    let time: Vec<char> = mail.text[at..].chars().take(7).collect();
    let digits = [0, 1, 5, 6].iter().all(|&i| time[i].is_ascii_digit());
    assert!(digits && time[2..5] == ['\u{a0}', 'h', '\u{a0}'], "{time:?}");
    assert!(mail.text[at..].contains(" (heure de Paris)"), "{}", mail.text);
}

#[tokio::test]
async fn an_unknown_account_gets_the_same_answer_as_a_locked_one() {
    let (app, rp, _) = provider().await;
    for _ in 0..3 {
        sign_in(&app, &rp, "alice.martin", WRONG).await;
    }

    let locked = sign_in(&app, &rp, "alice.martin", PASSWORD).await;
    let unknown = sign_in(&app, &rp, "nobody.here", PASSWORD).await;
    let wrong = sign_in(&app, &rp, "alice.martin", WRONG).await;

    for (what, page) in [("locked", &locked), ("unknown", &unknown), ("wrong", &wrong)] {
        assert_refused(page, what);
    }
    assert_eq!(outbox(&app).len(), 1, "nothing is sent for an unknown account");
}

#[tokio::test]
async fn parallel_guesses_cannot_exceed_the_limit() {
    let (app, _, user) = provider().await;

    // The gate the login flow passes: of ten concurrent attempts, exactly three are evaluated.
    let attempts = futures_join(10, |_| {
        let services = app.services.clone();
        let user = user.clone();
        async move { lockout::begin(&services, Some(&user), "192.0.2.1").await.unwrap().is_admitted() }
    })
    .await;

    assert_eq!(attempts.iter().filter(|a| **a).count(), 3, "admitted: {attempts:?}");
}

#[tokio::test]
async fn parallel_wrong_passwords_lock_once_and_the_right_one_is_then_refused() {
    let (app, rp, _) = provider().await;
    let app = std::sync::Arc::new(app);
    let rp = std::sync::Arc::new(rp);

    let pages = futures_join(10, |_| {
        let (app, rp) = (app.clone(), rp.clone());
        async move { sign_in(&app, &rp, "alice.martin", WRONG).await.status }
    })
    .await;

    assert!(pages.iter().all(|s| *s == 401), "{pages:?}");
    assert_refused(&sign_in(&app, &rp, "alice.martin", PASSWORD).await, "the right password after the burst");
    assert_eq!(outbox(&app).len(), 1, "one lock, one e-mail");
}

#[tokio::test]
async fn unlock_lifts_a_lock_at_once() {
    let (app, rp, user) = provider().await;
    for _ in 0..3 {
        sign_in(&app, &rp, "alice.martin", WRONG).await;
    }
    assert!(lockout::is_locked(&app.services, &user.id).await.unwrap());

    lockout::unlock(&app.services, &user.id).await.unwrap();

    assert!(!lockout::is_locked(&app.services, &user.id).await.unwrap());
    assert_signed_in(&sign_in(&app, &rp, "alice.martin", PASSWORD).await, "after unlock");
}

#[tokio::test]
async fn one_address_is_throttled_after_too_many_failures() {
    let (app, rp, _) = provider_with(Setup {
        tweak: Box::new(|raw| {
            raw.login_ip_max_failures = 4;
            raw.login_ip_window = 900;
        }),
        ..Setup::default()
    })
    .await;

    // Four different unknown accounts: no account lock involved.
    for i in 0..4 {
        assert_refused(&sign_in(&app, &rp, &format!("nobody{i}"), WRONG).await, "an unknown account");
    }

    assert_refused(&sign_in(&app, &rp, "alice.martin", PASSWORD).await, "the right password from a throttled address");
    app.clock.advance(900);
    assert_signed_in(&sign_in(&app, &rp, "alice.martin", PASSWORD).await, "in the next window");
}

#[tokio::test]
async fn a_throttled_address_is_refused_without_hashing_and_alike_for_every_account() {
    let (app, rp, _) =
        provider_with(Setup { tweak: Box::new(|raw| raw.login_ip_max_failures = 2), ..Setup::default() }).await;
    for i in 0..2 {
        sign_in(&app, &rp, &format!("nobody{i}"), WRONG).await;
    }
    let verified = app.services.passwords.verifications();

    let known = sign_in(&app, &rp, "alice.martin", PASSWORD).await;
    let unknown = sign_in(&app, &rp, "nobody.else", PASSWORD).await;

    assert_eq!(app.services.passwords.verifications(), verified, "no argon2 verification for a throttled address");
    assert_refused(&known, "the right password from a throttled address");
    assert_refused(&unknown, "an unknown account from a throttled address");
    let failure = |page: &Page| page.body.contains(LOGIN_FAILED) && page.status == 401;
    assert_eq!(failure(&known), failure(&unknown), "the same answer whatever the account");
}

#[tokio::test]
async fn an_address_with_too_many_sign_ins_in_flight_is_told_to_retry_without_hashing() {
    let (app, rp, _) = provider_with(Setup {
        tweak: Box::new(|raw| {
            raw.login_ip_max_in_flight = 1;
            raw.login_ip_queue_ms = 50;
        }),
        ..Setup::default()
    })
    .await;
    // Another sign-in from this address holds the only turn.
    let held = app.services.login_in_flight.turn(Some("127.0.0.1")).await.unwrap();
    let verified = app.services.passwords.verifications();

    let busy = sign_in(&app, &rp, "alice.martin", PASSWORD).await;

    assert_eq!(busy.status, 429, "the page said: {}", busy.body);
    assert!(busy.body.contains("Trop de connexions sont en cours depuis votre réseau"), "{}", busy.body);
    assert_eq!(busy.header("retry-after").as_deref(), Some("2"));
    assert_eq!(app.services.passwords.verifications(), verified, "nothing was verified");
    drop(held);
    assert_signed_in(&sign_in(&app, &rp, "alice.martin", PASSWORD).await, "once the turn is given back");
}

#[tokio::test]
async fn two_nodes_sharing_postgres_and_redis_share_the_counters() {
    let (postgres, redis) = idp_tests::backends();
    if postgres.is_none() {
        eprintln!("skipped: needs IDP_TEST_POSTGRES_URL and IDP_TEST_REDIS_URL (two nodes share nothing in-process)");
        return;
    }
    assert!(redis.is_some(), "IDP_TEST_POSTGRES_URL is set: this test needs IDP_TEST_REDIS_URL too");
    let (first, rp_first, _) = provider().await;
    let (prefix, key) = (first.config.redis_prefix.clone(), first.config.master_key.clone().unwrap().encode());
    let second = TestApp::spawn_with(Setup {
        database_url: Some(first.config.database_url.clone()),
        tweak: Box::new(move |raw| {
            raw.redis_prefix = prefix;
            raw.master_key = Some(key);
        }),
        ..Setup::default()
    })
    .await;
    // Only the authorization URL is used: the secret is not checked.
    let rp_second = Rp::discover(&second.issuer, "shop", Some("unused"), RP_CALLBACK).await;

    sign_in(&first, &rp_first, "alice.martin", WRONG).await;
    sign_in(&second, &rp_second, "alice.martin", WRONG).await;
    sign_in(&first, &rp_first, "alice.martin", WRONG).await;

    assert_refused(
        &sign_in(&second, &rp_second, "alice.martin", PASSWORD).await,
        "the second node after three failures",
    );
    second.clock.advance(20 * 60);
    assert_signed_in(&sign_in(&second, &rp_second, "alice.martin", PASSWORD).await, "after 20 minutes");
}

/// Runs `n` futures concurrently on the runtime and collects their results.
async fn futures_join<F, Fut, T>(n: usize, make: F) -> Vec<T>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = (0..n).map(|i| tokio::spawn(make(i))).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
