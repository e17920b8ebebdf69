//! The durable mail queue: a mail is stored before it is sent, retried with backoff while the
//! SMTP server is down, delivered once when it is back, and never sent twice, even by another
//! node or after a restart. Real SMTP over loopback (`idp_tests::smtp::SmtpSink`).

use idp::mail::notify;
use idp::mail::queue::{self, backoff};
use idp::mail::render::AccountLocked;
use idp_tests::smtp::SmtpSink;
use idp_tests::{Setup, TestApp};

/// An app whose mail goes to SMTP on 127.0.0.1:`port`, with an explicit master key so that a
/// second node can share its database.
async fn app_with_smtp(port: u16, key: &str, database_url: Option<String>) -> TestApp {
    let key = key.to_owned();
    TestApp::spawn_with(Setup {
        database_url,
        tweak: Box::new(move |raw| {
            raw.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
            raw.master_key = Some(key);
        }),
        ..Setup::default()
    })
    .await
}

/// 2026-01-15T11:34:00Z: 12:34 in Paris, "12 h 34" in the French mail.
const LOCKED_UNTIL: i64 = 1_768_476_840;
const LOCKED_UNTIL_FR: &str = "12\u{a0}h\u{a0}34";

async fn queue_lock_mail(app: &TestApp) {
    let user = app.user("alice.martin").await;
    let context = AccountLocked { name: "Alice".into(), until: LOCKED_UNTIL, reset_url: app.url("/recovery/password") };
    assert!(notify::send(&app.services, &user, None, "account_locked", &context).await, "the mail is queued");
}

/// A slow SMTP server does not hold the request that queued the mail (a recovery page must not
/// take longer because an account exists): the request returns while the server has not
/// accepted the mail yet; the attempt goes on in the background and the mail arrives once, the
/// worker leaving the claimed row alone.
#[tokio::test]
async fn a_slow_smtp_server_does_not_hold_the_request_and_the_mail_arrives_once() {
    let sink = SmtpSink::start(0).await;
    let app = app_with_smtp(sink.port, &idp::master_key::MasterKey::generate().encode(), None).await;
    sink.hold();
    queue_lock_mail(&app).await;
    assert!(sink.messages().is_empty(), "the request returned before the server accepted the mail");
    assert_eq!(app.services.store.pending_mail().await.unwrap().len(), 1, "stored first");
    // The worker runs meanwhile: the row is claimed by the attempt under way.
    assert_eq!(idp::mail::queue::deliver_due(&app.services).await.unwrap(), 0);
    sink.release();
    assert_eq!(sink.wait_for(1, 10).await.len(), 1);
    for _ in 0..100 {
        if app.services.store.pending_mail().await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(app.services.store.pending_mail().await.unwrap().is_empty(), "deleted once accepted");
    assert_eq!(idp::mail::queue::deliver_due(&app.services).await.unwrap(), 0);
    assert_eq!(sink.messages().len(), 1, "sent once");
}

#[tokio::test]
async fn smtp_down_then_back_up_the_mail_arrives_once() {
    let port = SmtpSink::free_port().await;
    let app = app_with_smtp(port, &idp::master_key::MasterKey::generate().encode(), None).await;
    queue_lock_mail(&app).await;

    let pending = app.services.store.pending_mail().await.unwrap();
    assert_eq!(pending.len(), 1, "the first attempt failed: the mail waits in the queue");
    assert_eq!(pending[0].attempts, 1);
    assert!(pending[0].last_error.is_some(), "the transport error is kept");
    assert!(
        pending[0].text.starts_with("aes256gcm:")
            && !pending[0].text.contains(LOCKED_UNTIL_FR)
            && !pending[0].html.contains(LOCKED_UNTIL_FR),
        "bodies are sealed at rest"
    );
    assert!(pending[0].next_attempt_at >= app.services.now() + backoff(1) - 1, "the retry is scheduled later");

    let sink = SmtpSink::start(port).await;
    assert_eq!(queue::deliver_due(&app.services).await.unwrap(), 0, "not due before the backoff");
    app.clock.advance(backoff(1));
    // The app's own worker may get there first: count what the server received.
    let _ = queue::deliver_due(&app.services).await.unwrap();
    let received = sink.wait_for(1, 10).await;
    assert_eq!(received.len(), 1);
    let mail = idp_tests::mail::parse(&received[0]);
    assert_eq!(mail.to, "alice.martin@example.org");
    assert!(mail.subject.contains("verrouillé"), "{}", mail.subject);
    assert!(mail.text.contains(LOCKED_UNTIL_FR) && mail.html.contains(LOCKED_UNTIL_FR), "{mail:?}");
    assert!(received[0].contains(&format!("Message-ID: <{}@", pending[0].id)), "the queue id is the Message-ID");
    assert!(app.services.store.pending_mail().await.unwrap().is_empty(), "a delivered mail leaves the queue");

    app.clock.advance(3600);
    assert_eq!(queue::deliver_due(&app.services).await.unwrap(), 0);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(sink.messages().len(), 1, "never sent twice");
}

#[tokio::test]
async fn a_mail_queued_by_a_node_that_went_away_is_sent_once_by_another() {
    let port = SmtpSink::free_port().await;
    let key = idp::master_key::MasterKey::generate().encode();
    let first = app_with_smtp(port, &key, None).await;
    queue_lock_mail(&first).await;
    assert_eq!(first.services.store.pending_mail().await.unwrap().len(), 1);

    // A second node on the same database (a restart looks the same to the queue). The first
    // one's clock stands still: its worker never finds the mail due.
    let second = app_with_smtp(port, &key, Some(first.config.database_url.clone())).await;
    let sink = SmtpSink::start(port).await;
    second.clock.advance(backoff(1) + 5);
    let _ = queue::deliver_due(&second.services).await.unwrap();
    assert_eq!(sink.wait_for(1, 10).await.len(), 1);

    first.clock.advance(backoff(1) + 5);
    assert_eq!(queue::deliver_due(&first.services).await.unwrap(), 0, "the row is gone: nothing to resend");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(sink.messages().len(), 1, "delivered exactly once across the two nodes");
}

#[tokio::test]
async fn with_a_working_transport_the_mail_leaves_the_queue_at_once() {
    let sink = SmtpSink::start(0).await;
    let app = app_with_smtp(sink.port, &idp::master_key::MasterKey::generate().encode(), None).await;
    queue_lock_mail(&app).await;
    assert_eq!(sink.messages().len(), 1, "sent during the request that queued it");
    assert!(app.services.store.pending_mail().await.unwrap().is_empty());
}

/// The real SMTP server `.ci/run` starts on loopback (Debian's aiosmtpd, delivering to a Maildir):
/// `IDP_TEST_SMTP_URL` and `IDP_TEST_SMTP_MAILDIR`. Without them the test is skipped, except under
/// CI, where it fails.
fn real_smtp() -> Option<(String, std::path::PathBuf)> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match (var("IDP_TEST_SMTP_URL"), var("IDP_TEST_SMTP_MAILDIR")) {
        (Some(url), Some(maildir)) => Some((url, maildir.into())),
        _ => {
            assert!(std::env::var_os("CI").is_none(), "CI must provide IDP_TEST_SMTP_URL and IDP_TEST_SMTP_MAILDIR");
            eprintln!("skipped: needs IDP_TEST_SMTP_URL and IDP_TEST_SMTP_MAILDIR (a real SMTP server)");
            None
        }
    }
}

/// The messages of a Maildir (`new/`, `cur/`) addressed to `to`.
fn maildir_messages_to(maildir: &std::path::Path, to: &str) -> Vec<idp_tests::mail::Mail> {
    ["new", "cur"]
        .iter()
        .flat_map(|sub| std::fs::read_dir(maildir.join(sub)).into_iter().flatten().filter_map(Result::ok))
        .filter_map(|entry| std::fs::read_to_string(entry.path()).ok())
        .map(|raw| idp_tests::mail::parse(&raw))
        .filter(|m| m.to == to)
        .collect()
}

#[tokio::test]
async fn a_real_smtp_server_receives_the_provisional_password_that_then_signs_in() {
    let Some((url, maildir)) = real_smtp() else { return };
    let app =
        TestApp::spawn_with(Setup { tweak: Box::new(move |raw| raw.smtp_url = Some(url)), ..Setup::default() }).await;
    // A unique address: the server's mailbox is shared by every test of the run.
    let login = format!("smtp.{}", idp::crypto::random_token(6).to_lowercase().replace(['-', '_'], "x"));
    let spec = idp::admin::UserSpec {
        login: login.clone(),
        email: format!("{login}@example.org"),
        given_name: "Camille".into(),
        family_name: "Durand".into(),
        ..idp::admin::UserSpec::default()
    };
    let (_, sent) =
        idp::admin::add_user_starting(&app.services, &spec, &idp::admin::UserStart::Provisional).await.unwrap();
    assert!(sent.is_some_and(|s| s.mailed));
    // The first attempt is the request's own (queue::submit waits SUBMIT_WAIT for it, then lets
    // it finish in the background): the row leaves the queue without any retry, however loaded
    // the machine is. Polled, not timed (a loaded CI machine once took over 200 ms).
    let mut pending = app.services.store.pending_mail().await.unwrap();
    for _ in 0..200 {
        if pending.is_empty() {
            break;
        }
        assert!(
            pending.iter().all(|m| m.attempts == 1 && m.last_error.is_none()),
            "no retry was needed ({} queued)",
            pending.len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        pending = app.services.store.pending_mail().await.unwrap();
    }
    assert!(pending.is_empty(), "the server accepted it on the first attempt");

    let mut received = Vec::new();
    for _ in 0..100 {
        received = maildir_messages_to(&maildir, &format!("{login}@example.org"));
        if !received.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(received.len(), 1, "the SMTP server received the mail once");
    let mail = &received[0];
    assert_eq!(mail.subject, "Votre mot de passe provisoire");
    let lines: Vec<&str> = mail.text.lines().collect();
    let at = lines.iter().position(|l| l.contains("mot de passe provisoire")).expect("the password label");
    let password = lines[at + 1].trim();
    let info = idp::session::ClientInfo::default();
    let outcome = idp::account::login::authenticate(
        &app.services,
        &login,
        &idp::domain::Secret::new(password),
        &info,
        "smtp-test",
    )
    .await
    .unwrap();
    assert!(matches!(outcome, idp::account::login::LoginOutcome::Success { .. }), "the mailed password signs in");
}

/// The recovery code of "Mot de passe perdu" (issue #5) through the real SMTP server: the
/// scripted browser asks for it, reads it from what the server received, and sets a new
/// password with it.
#[tokio::test]
async fn a_real_smtp_server_receives_the_recovery_code_that_then_sets_a_new_password() {
    let Some((url, maildir)) = real_smtp() else { return };
    let app = TestApp::spawn_with(Setup {
        tweak: Box::new(move |raw| {
            raw.smtp_url = Some(url);
            raw.recovery.min_response_ms = 0;
        }),
        ..Setup::default()
    })
    .await;
    let login = format!("smtp.{}", idp::crypto::random_token(6).to_lowercase().replace(['-', '_'], "x"));
    let email = format!("{login}@example.org");
    let spec = idp::admin::UserSpec {
        login: login.clone(),
        email: email.clone(),
        given_name: "Camille".into(),
        family_name: "Durand".into(),
        ..idp::admin::UserSpec::default()
    };
    idp::admin::add_user(&app.services, &spec, &idp::domain::Secret::new(idp_tests::PASSWORD)).await.unwrap();

    let pages = crate::recovery_pages::FlowPages { app: &app, path: "/recovery/password" };
    let browser = idp_tests::Browser::new();
    let first = pages.first_page(&browser, "usager").await;
    let answer = idp_tests::captcha::solve_page(&first);
    let captcha_id = first.field("captcha_id").expect("the default rule has an arithmetic captcha");
    let fields = [
        ("action", "identify"),
        ("user_type", "usager"),
        ("identifier", email.as_str()),
        ("captcha_id", captcha_id.as_str()),
        ("captcha_answer", answer.as_str()),
    ];
    let code_page = pages.next(&browser, &pages.submit(&browser, &first, &fields).await).await;
    assert!(code_page.body.contains("name=\"code\""), "the code page: {}", code_page.body);

    let mut received = Vec::new();
    for _ in 0..100 {
        received = maildir_messages_to(&maildir, &email);
        if !received.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(received.len(), 1, "the SMTP server received the code once");
    assert_eq!(received[0].subject, "Votre code de sécurité");
    let at = received[0].text.find("c=").expect("the mail's link holds the code") + 2;
    let code: String = received[0].text[at..].chars().take_while(char::is_ascii_digit).collect();
    assert_eq!(code.len(), 6);

    let verified = pages.submit(&browser, &code_page, &[("action", "verify"), ("code", &code)]).await;
    let policy_page = pages.next(&browser, &verified).await;
    let new = "Velo-Rouge-Montagne-58";
    let fields = [("action", "password"), ("new_password", new), ("confirm_password", new)];
    let done = pages.next(&browser, &pages.submit(&browser, &policy_page, &fields).await).await;
    assert!(done.body.contains("id=\"recovery-done\""), "the success page: {}", done.body);
    let user = app.services.store.user_by_login(&login).await.unwrap().unwrap();
    assert!(app.services.passwords.verify(&idp::domain::Secret::new(new), Some(&user.password_hash)).await.unwrap());
}
