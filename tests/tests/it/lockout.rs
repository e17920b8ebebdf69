//! Lockout and throttling (issue #4): three wrong passwords lock an account for twenty minutes
//! (Bonus Eco), the page does not tell by default, the owner gets one e-mail, parallel guesses
//! cannot exceed the limit, nodes share the counters, one address cannot try without limit, and
//! `unlock` (used by recovery, issue #5) lifts a lock. Issue #13: a page that tells (Bonus Eco's)
//! shows the lock message for a typed identifier failed three times, account or not.

use idp::account::lockout;
use idp::admin::{self, ClientSpec, UserSpec};
use idp::domain::client::ClientSettings;
use idp::domain::{Secret, User};
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

// --- Issue #13: the lock message on a page that tells (Bonus Eco) ---------------------------

const LOCKED: &str = "Le compte a été verrouillé suite à un trop grand nombre d&#x27;échecs de connexion avec cet identifiant utilisateur.";

/// The seed portals' user types (`deploy/seed-portals.example.toml`: Bonus Eco tells), a
/// Bonus Eco account `bonus.pro`, and a client preselecting Bonus Eco, with `tell_locked` as
/// given (`None`: the type's setting).
async fn bonus_eco(tell_locked: Option<bool>) -> (TestApp, Rp) {
    let seed = idp::config::Config::from_sources(include_str!("../../../deploy/seed-portals.example.toml"), &[])
        .expect("the seed example is valid");
    let types = seed.user_types.all().to_vec();
    let app =
        TestApp::spawn_with(Setup { tweak: Box::new(move |raw| raw.user_types = types), ..Setup::default() }).await;
    let spec = UserSpec {
        login: "bonus.pro".into(),
        email: "bonus.pro@example.org".into(),
        given_name: "Paul".into(),
        family_name: "Roux".into(),
        user_type: "bonus_eco".into(),
        ..UserSpec::default()
    };
    admin::add_user(&app.services, &spec, &Secret::new(PASSWORD)).await.unwrap();
    let client = ClientSpec {
        id: "bonus-eco".into(),
        name: "Extranet Bonus Eco".into(),
        redirect_uris: vec![RP_CALLBACK.into()],
        grants: vec!["authorization_code".into()],
        settings: ClientSettings {
            recovery_user_type: Some("bonus_eco".into()),
            tell_locked,
            ..ClientSettings::default()
        },
        ..ClientSpec::default()
    };
    let (client, secret) = app.client(client).await;
    let rp = Rp::discover(&app.issuer, &client.id, secret.as_deref(), RP_CALLBACK).await;
    (app, rp)
}

/// The alert above the form: what the page says about the attempt.
fn alert(page: &Page) -> &str {
    let start = page.body.find("role=\"alert\"").unwrap_or_else(|| panic!("no alert on the page: {}", page.body));
    let end = start + page.body[start..].find("</div>").unwrap();
    &page.body[start..end]
}

/// `text` without the value of its `request_id` (each login page has its own request).
fn without_request_id(text: &str) -> String {
    let Some(start) = text.find("request_id=") else { return text.to_owned() };
    let value = start + "request_id=".len();
    let end = value + text[value..].find(['&', '"']).unwrap_or(text.len() - value);
    format!("{}request_id=…{}", &text[..start], &text[end..])
}

fn assert_told_locked(page: &Page, minutes: &str, what: &str) {
    assert_eq!(page.status, 401, "{what}: unexpected status; the page said: {}", page.body);
    let said = alert(page);
    assert!(said.contains(LOCKED), "{what}: the page does not say the account is locked: {said}");
    assert!(said.contains(&format!("{minutes}\u{a0}minutes")), "{what}: not {minutes} minutes to wait: {said}");
    assert!(said.contains("href=\"/recovery/password?"), "{what}: no link to the password recovery: {said}");
    assert!(!said.contains(LOGIN_FAILED), "{what}: the generic failure as well: {said}");
}

#[tokio::test]
async fn a_bonus_eco_account_failed_three_times_is_told_it_is_locked_with_the_wait_and_a_recovery_link() {
    let (app, rp) = bonus_eco(None).await;

    for i in 1..=2 {
        assert_refused(&sign_in(&app, &rp, "bonus.pro", WRONG).await, &format!("wrong password #{i}"));
    }
    let third = sign_in(&app, &rp, "bonus.pro", WRONG).await;
    app.clock.advance(5 * 60);
    let right = sign_in(&app, &rp, "bonus.pro", PASSWORD).await;

    assert_told_locked(&third, "20", "the third wrong password");
    assert_told_locked(&right, "15", "the right password five minutes into the lock");
    app.clock.advance(15 * 60);
    assert_signed_in(&sign_in(&app, &rp, "bonus.pro", PASSWORD).await, "once the twenty minutes are over");
    assert_eq!(outbox(&app).len(), 1, "the owner still gets the lock e-mail");
}

#[tokio::test]
async fn an_unknown_identifier_failed_three_times_gets_the_same_lock_message_as_a_locked_account() {
    let (app, rp) = bonus_eco(None).await;
    for _ in 0..3 {
        sign_in(&app, &rp, "bonus.pro", WRONG).await;
        sign_in(&app, &rp, "nobody.here", WRONG).await;
    }

    let locked = sign_in(&app, &rp, "bonus.pro", PASSWORD).await;
    let unknown = sign_in(&app, &rp, "nobody.here", PASSWORD).await;
    // The same identifier as typed differently: the counter is keyed by its PRECIS form.
    let respelled = sign_in(&app, &rp, " NOBODY.HERE ", WRONG).await;

    assert_told_locked(&locked, "20", "the locked account");
    assert_told_locked(&unknown, "20", "the unknown identifier");
    assert_told_locked(&respelled, "20", "the unknown identifier in capitals");
    assert_eq!(
        without_request_id(alert(&locked)),
        without_request_id(alert(&unknown)),
        "the message does not tell which one has an account"
    );
    assert_eq!(locked.status, unknown.status);
    assert_eq!(outbox(&app).len(), 1, "a lock e-mail for the account only");
}

#[tokio::test]
async fn an_identifier_failed_fewer_than_three_times_or_another_one_gets_the_ordinary_message() {
    let (app, rp) = bonus_eco(None).await;
    for _ in 0..3 {
        sign_in(&app, &rp, "nobody.here", WRONG).await;
    }
    sign_in(&app, &rp, "someone.else", WRONG).await;

    let twice = sign_in(&app, &rp, "someone.else", WRONG).await;
    let never = sign_in(&app, &rp, "a.third.one", WRONG).await;
    let account = sign_in(&app, &rp, "bonus.pro", WRONG).await;

    for (what, page) in [("failed twice", &twice), ("never failed", &never), ("an account failed once", &account)] {
        assert_refused(page, what);
        assert!(!page.body.contains(LOCKED), "{what}: told locked: {}", alert(page));
    }
}

#[tokio::test]
async fn a_client_that_switches_the_message_off_gives_the_generic_failure_even_to_a_locked_account() {
    let (app, rp) = bonus_eco(Some(false)).await;
    for _ in 0..3 {
        sign_in(&app, &rp, "bonus.pro", WRONG).await;
    }

    let locked = sign_in(&app, &rp, "bonus.pro", PASSWORD).await;

    assert_refused(&locked, "the right password on a locked account, message off");
    assert!(!locked.body.contains(LOCKED), "told locked: {}", alert(&locked));
}

#[tokio::test]
async fn the_lock_message_is_in_english_too() {
    let (app, rp) = bonus_eco(None).await;
    for _ in 0..3 {
        sign_in(&app, &rp, "nobody.here", WRONG).await;
    }
    let browser = Browser::new();
    let french = login_page(&app, &rp, &browser).await;
    let english = browser.get(&app.url(&french.link_with("hreflang=\"en\"").expect("a language switch"))).await;

    let told = browser.submit_login(&app.issuer, &english, "nobody.here", WRONG).await;

    let said = alert(&told);
    assert!(said.contains("The account has been locked after too many failed sign-ins with this username."), "{said}");
    assert!(said.contains("Please wait 20 minutes before trying again."), "{said}");
    assert!(said.contains("Forgotten your password? Reset it"), "{said}");
}
