//! Contract tests of the recovery store methods (issue #5), on whichever durable backend the
//! environment selects (SQLite, or PostgreSQL with `IDP_TEST_POSTGRES_URL`): lookups by e-mail
//! and alternate identifier, the recovery profile, the identifier renewal, expired tokens, the
//! propagation webhook queue and its place in the password change's transaction.

use idp::domain::{Email, Login, NewUser, User};
use idp::store::sql::SqlStore;
use idp::store::{
    AccountStore, PasswordChange, PasswordStore, RecoveryStore, StoreError, UserStore, UserToken, WebhookDelivery,
    WebhookQueue,
};

const NOW: i64 = 1_700_000_000;

async fn store() -> (SqlStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = idp_tests::fresh_database_url(dir.path()).await;
    (SqlStore::open(&url).await.expect("the store opens and migrates"), dir)
}

async fn user(store: &SqlStore, login: &str, email: &str, at: i64) -> User {
    let new = NewUser {
        login: Login::parse(login).unwrap(),
        email: Email::parse(email).unwrap(),
        given_name: "Camille".into(),
        family_name: "Dupont".into(),
        phone_number: None,
        address: None,
        user_type: "usager".into(),
        password_hash: "$argon2id$not-a-real-hash".into(),
        start: idp::domain::AccountStart::Ready,
        birth_date: None,
        identifiers: Vec::new(),
    };
    store.create_user(new, at).await.unwrap()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn kinds(items: &[&str]) -> Vec<String> {
    items.iter().map(|k| (*k).to_owned()).collect()
}

fn token(user: &User, digest: &str, purpose: &str, expires_at: i64) -> UserToken {
    UserToken {
        digest: digest.into(),
        user_id: user.id.clone(),
        purpose: purpose.into(),
        created_at: NOW,
        expires_at,
        attempts: 0,
    }
}

fn delivery(id: &str, next_attempt_at: i64) -> WebhookDelivery {
    WebhookDelivery {
        id: id.into(),
        payload: format!("{{\"event\":\"password_changed\",\"sub\":\"{id}\"}}"),
        created_at: NOW,
        attempts: 1,
        next_attempt_at,
        delivered_at: None,
        last_error: None,
    }
}

#[tokio::test]
async fn store_users_by_email_ignore_case_and_list_namesakes_oldest_first() {
    let (store, _dir) = store().await;
    let younger = user(&store, "camille.dupont2", "Camille.Dupont@Example.org", NOW + 10).await;
    let elder = user(&store, "camille.dupont", "camille.dupont@example.org", NOW).await;
    user(&store, "someone.else", "someone@example.org", NOW).await;

    for asked in ["camille.dupont@example.org", "CAMILLE.DUPONT@EXAMPLE.ORG", "  Camille.Dupont@example.org "] {
        let found: Vec<String> = store.users_by_email(asked).await.unwrap().into_iter().map(|u| u.id).collect();
        assert_eq!(found, [elder.id.clone(), younger.id.clone()], "asked {asked:?}");
    }
    assert!(store.users_by_email("camille@example.org").await.unwrap().is_empty());
    assert!(store.users_by_email("%@example.org").await.unwrap().is_empty(), "no pattern matching");
}

#[tokio::test]
async fn store_user_by_identifier_looks_only_in_the_given_kinds() {
    let (store, _dir) = store().await;
    let alice = user(&store, "alice.martin", "alice@example.org", NOW).await;
    let bob = user(&store, "bob.durand", "bob@example.org", NOW).await;
    store.set_recovery_profile(&alice.id, None, &pairs(&[("student_number", "22001234")]), NOW).await.unwrap();
    store.set_recovery_profile(&bob.id, None, &pairs(&[("ine", "22001234")]), NOW).await.unwrap();

    let by = async |k: &[&str], v: &str| store.user_by_identifier(&kinds(k), v).await.unwrap().map(|u| u.login);
    assert_eq!(by(&["student_number"], "22001234").await.as_deref(), Some("alice.martin"));
    assert_eq!(by(&["ine"], " 22001234 ").await.as_deref(), Some("bob.durand"), "the value is trimmed");
    assert_eq!(by(&["staff_number", "ine"], "22001234").await.as_deref(), Some("bob.durand"));
    assert_eq!(by(&["staff_number"], "22001234").await, None, "another kind");
    assert_eq!(by(&[], "22001234").await, None, "no kind, no account");
    assert_eq!(by(&["student_number"], "2200123").await, None, "exact values only");
}

#[tokio::test]
async fn store_recovery_profile_sets_replaces_and_writes_nothing_on_a_conflict() {
    let (store, _dir) = store().await;
    let alice = user(&store, "alice.martin", "alice@example.org", NOW).await;
    let bob = user(&store, "bob.durand", "bob@example.org", NOW).await;
    assert_eq!(store.birth_date(&alice.id).await.unwrap(), None);
    assert!(store.identifiers_of(&alice.id).await.unwrap().is_empty());

    let profile = pairs(&[("student_number", "22001234"), ("ine", "0A1B2C3D4E5")]);
    store.set_recovery_profile(&alice.id, Some("2001-02-03"), &profile, NOW).await.unwrap();
    assert_eq!(store.birth_date(&alice.id).await.unwrap().as_deref(), Some("2001-02-03"));
    assert_eq!(
        store.identifiers_of(&alice.id).await.unwrap(),
        pairs(&[("ine", "0A1B2C3D4E5"), ("student_number", "22001234")]),
        "sorted by kind"
    );

    // A new value of one kind replaces the old one; other kinds and the date stay.
    store.set_recovery_profile(&alice.id, None, &pairs(&[("student_number", "23009999")]), NOW).await.unwrap();
    assert_eq!(store.birth_date(&alice.id).await.unwrap().as_deref(), Some("2001-02-03"));
    assert_eq!(
        store.identifiers_of(&alice.id).await.unwrap(),
        pairs(&[("ine", "0A1B2C3D4E5"), ("student_number", "23009999")])
    );
    assert_eq!(store.user_by_identifier(&kinds(&["student_number"]), "22001234").await.unwrap(), None);
    // Setting a value the account already holds is fine.
    store.set_recovery_profile(&alice.id, None, &pairs(&[("ine", "0A1B2C3D4E5")]), NOW).await.unwrap();

    // Bob asks for a date, a free identifier and alice's INE: a conflict, and none of it lands.
    let conflict = store
        .set_recovery_profile(
            &bob.id,
            Some("1990-05-06"),
            &pairs(&[("staff_number", "A-17"), ("ine", "0A1B2C3D4E5")]),
            NOW,
        )
        .await;
    assert!(matches!(conflict, Err(StoreError::Conflict(_))), "{conflict:?}");
    assert_eq!(store.birth_date(&bob.id).await.unwrap(), None, "the date was not written");
    assert!(store.identifiers_of(&bob.id).await.unwrap().is_empty(), "no identifier was written");
    assert_eq!(store.user_by_identifier(&kinds(&["staff_number"]), "A-17").await.unwrap(), None);
    let ine_holder = store.user_by_identifier(&kinds(&["ine"]), "0A1B2C3D4E5").await.unwrap().unwrap();
    assert_eq!(ine_holder.id, alice.id, "alice keeps her INE");
}

#[tokio::test]
async fn store_renew_login_consumes_the_token_once_and_refuses_a_taken_login() {
    let (store, _dir) = store().await;
    let alice = user(&store, "alice.martin", "alice@example.org", NOW).await;
    user(&store, "bob.durand", "bob@example.org", NOW).await;
    store.insert_user_token(&token(&alice, "d1", "identifier_renewal", NOW + 900)).await.unwrap();

    // Wrong purpose, expired: nothing written, the token stays.
    let new = Login::parse("alice.new").unwrap();
    assert!(!store.renew_login(&alice.id, &new, ("d1", "recovery"), NOW).await.unwrap());
    assert!(!store.renew_login(&alice.id, &new, ("d1", "identifier_renewal"), NOW + 900).await.unwrap());
    // A taken login: a conflict, and the token is not consumed (one transaction).
    let bob = Login::parse("bob.durand").unwrap();
    let taken = store.renew_login(&alice.id, &bob, ("d1", "identifier_renewal"), NOW).await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    assert_eq!(store.user_by_id(&alice.id).await.unwrap().unwrap().login, "alice.martin");
    assert!(store.user_token("d1", "identifier_renewal", NOW).await.unwrap().is_some(), "the token survives");

    // Concurrent renewals with the same token: exactly one wins.
    let logins = ["alice.a", "alice.b", "alice.c", "alice.d", "alice.e"];
    let parsed: Vec<Login> = logins.iter().map(|l| Login::parse(l).unwrap()).collect();
    let attempts = parsed.iter().map(|l| store.renew_login(&alice.id, l, ("d1", "identifier_renewal"), NOW));
    let mut won = Vec::new();
    for (login, result) in logins.iter().zip(join(attempts.collect()).await) {
        if result.unwrap() {
            won.push(*login);
        }
    }
    assert_eq!(won.len(), 1, "single use: {won:?}");
    assert_eq!(store.user_by_id(&alice.id).await.unwrap().unwrap().login, won[0]);
    assert!(store.user_token_any("d1", "identifier_renewal").await.unwrap().is_none(), "consumed");
}

#[tokio::test]
async fn store_user_token_any_returns_expired_tokens_and_user_token_does_not() {
    let (store, _dir) = store().await;
    let alice = user(&store, "alice.martin", "alice@example.org", NOW).await;
    store.insert_user_token(&token(&alice, "old-link", "recovery_link", NOW + 900)).await.unwrap();
    assert!(store.user_token("old-link", "recovery_link", NOW + 900).await.unwrap().is_none(), "expired");
    let expired = store.user_token_any("old-link", "recovery_link").await.unwrap().expect("still readable");
    assert_eq!((expired.user_id.as_str(), expired.expires_at), (alice.id.as_str(), NOW + 900));
    assert!(store.user_token_any("old-link", "activation").await.unwrap().is_none(), "purposes do not mix");
    assert!(store.user_token_any("unknown", "recovery_link").await.unwrap().is_none());
    assert!(!store.take_user_token("old-link", "recovery_link", NOW + 900).await.unwrap(), "expired: not usable");
}

#[tokio::test]
async fn store_webhook_queue_claims_once_retries_finishes_and_purges() {
    let (store, _dir) = store().await;
    store.enqueue_webhook(&delivery("w1", NOW), NOW + 60).await.unwrap();
    assert!(store.claim_due_webhooks(NOW, NOW + 60, 10).await.unwrap().is_empty(), "held by the node that queued it");
    store.retry_webhook("w1", NOW + 30, "answered 500 Internal Server Error").await.unwrap();
    assert!(store.claim_due_webhooks(NOW + 29, NOW + 90, 10).await.unwrap().is_empty(), "not due yet");

    let claims = join((0..4).map(|_| store.claim_due_webhooks(NOW + 30, NOW + 90, 10)).collect()).await;
    let claimed: Vec<_> = claims.into_iter().flat_map(Result::unwrap).collect();
    assert_eq!(claimed.len(), 1, "one claimer wins");
    assert_eq!(claimed[0].attempts, 2, "the attempt is counted");
    assert_eq!(claimed[0].last_error.as_deref(), Some("answered 500 Internal Server Error"));
    assert!(store.claim_due_webhooks(NOW + 31, NOW + 91, 10).await.unwrap().is_empty(), "claimed");
    // A lapsed claim (the node died mid-attempt) is taken over.
    let again = store.claim_due_webhooks(NOW + 91, NOW + 151, 10).await.unwrap();
    assert_eq!(again.iter().map(|d| d.attempts).collect::<Vec<_>>(), [3]);

    store.finish_webhook("w1", NOW + 100).await.unwrap();
    let done = store.webhook_delivery("w1").await.unwrap().unwrap();
    assert_eq!(done.delivered_at, Some(NOW + 100), "kept, delivered");
    assert!(store.claim_due_webhooks(NOW + 10_000, NOW + 10_060, 10).await.unwrap().is_empty(), "never again");
    assert_eq!(store.purge_webhooks(NOW + 100).await.unwrap(), 0, "not delivered before that");
    store.enqueue_webhook(&delivery("w2", NOW), NOW).await.unwrap();
    assert_eq!(store.purge_webhooks(NOW + 101).await.unwrap(), 1, "only the delivered one goes");
    assert!(store.webhook_delivery("w1").await.unwrap().is_none());
    assert!(store.webhook_delivery("w2").await.unwrap().is_some());
}

#[tokio::test]
async fn store_password_change_queues_its_webhook_in_the_same_transaction() {
    let (store, _dir) = store().await;
    let alice = user(&store, "alice.martin", "alice@example.org", NOW).await;
    let change = |hash: &'static str,
                  webhook: Option<&'static WebhookDelivery>,
                  redeem: Option<(&'static str, &'static str)>| {
        PasswordChange { user_id: "", hash, keep: 3, now: NOW, keep_sid: None, redeem_token: redeem, webhook }
    };
    let first: &'static WebhookDelivery = Box::leak(Box::new(delivery("w-change", NOW + 60)));
    let c = PasswordChange { user_id: &alice.id, ..change("$argon2id$new-1", Some(first), None) };
    assert!(store.change_password(&c).await.unwrap());
    let queued = store.webhook_delivery("w-change").await.unwrap().expect("queued with the change");
    assert_eq!((queued.payload.as_str(), queued.attempts, queued.delivered_at), (first.payload.as_str(), 1, None));
    // Unclaimed, due at its next_attempt_at: the worker can take it over from then on.
    assert!(store.claim_due_webhooks(NOW + 59, NOW + 120, 10).await.unwrap().is_empty());
    assert_eq!(store.claim_due_webhooks(NOW + 60, NOW + 120, 10).await.unwrap().len(), 1);

    // The token to redeem is gone: nothing is written, the webhook included.
    let second: &'static WebhookDelivery = Box::leak(Box::new(delivery("w-refused", NOW + 60)));
    let c =
        PasswordChange { user_id: &alice.id, ..change("$argon2id$new-2", Some(second), Some(("gone", "recovery"))) };
    assert!(!store.change_password(&c).await.unwrap());
    assert!(store.webhook_delivery("w-refused").await.unwrap().is_none(), "no notice of a change that did not happen");
    assert_eq!(store.user_by_id(&alice.id).await.unwrap().unwrap().password_hash, "$argon2id$new-1");

    // An unknown user: nothing either.
    let c = PasswordChange { user_id: "nobody", ..change("$argon2id$new-3", Some(second), None) };
    assert!(!store.change_password(&c).await.unwrap());
    assert!(store.webhook_delivery("w-refused").await.unwrap().is_none());
}

/// Polls every future in turn until all are done (concurrency within one task, so the futures
/// may borrow the store).
async fn join<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    outputs.into_iter().map(Option::unwrap).collect()
}

#[tokio::test]
async fn store_create_user_writes_the_recovery_data_with_the_account_or_nothing() {
    let (store, _dir) = store().await;
    let with_profile = |login: &str, student: &str| NewUser {
        login: Login::parse(login).unwrap(),
        email: Email::parse(&format!("{login}@example.org")).unwrap(),
        given_name: "Camille".into(),
        family_name: "Dupont".into(),
        phone_number: None,
        address: None,
        user_type: "sesame".into(),
        password_hash: "$argon2id$not-a-real-hash".into(),
        start: idp::domain::AccountStart::Ready,
        birth_date: Some("2001-02-03".into()),
        identifiers: pairs(&[("student_number", student), ("ine", &format!("ine-{login}"))]),
    };
    let first = store.create_user(with_profile("camille", "22001234"), NOW).await.unwrap();
    assert_eq!(store.birth_date(&first.id).await.unwrap().as_deref(), Some("2001-02-03"));
    assert_eq!(
        store.identifiers_of(&first.id).await.unwrap(),
        pairs(&[("ine", "ine-camille"), ("student_number", "22001234")])
    );
    // Another account with the same student number: refused, and no account half-created.
    let taken = store.create_user(with_profile("dominique", "22001234"), NOW).await;
    assert!(matches!(taken, Err(StoreError::Conflict("identifier"))), "{taken:?}");
    assert!(store.user_by_login("dominique").await.unwrap().is_none(), "nothing written");
    assert!(store.user_by_identifier(&kinds(&["ine"]), "ine-dominique").await.unwrap().is_none());
}
