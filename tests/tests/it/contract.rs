//! Contract tests of the two storage seams, run on whichever backends the environment selects:
//! the durable store (`SqlStore` on SQLite, or PostgreSQL with `IDP_TEST_POSTGRES_URL`) and
//! the ephemeral store (always `MemoryEphemeral`, plus `RedisEphemeral` with
//! `IDP_TEST_REDIS_URL`). The flows rely on these promises, whatever the backend: uniqueness,
//! cascades, single use under concurrency, expiry.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use idp::domain::{AuthMethod, Client, Email, GrantType, Login, NewUser, RedirectUri, Scopes, SigningAlg, User};
use idp::ephemeral::Ephemeral;
use idp::ephemeral::memory::MemoryEphemeral;
use idp::ephemeral::redis::RedisEphemeral;
use idp::store::sql::SqlStore;
use idp::store::{
    AccountStore, AuditEvent, AuditStore, ClientStore, GrantStore, KeyStore, MailQueue, QueuedMail, RefreshToken,
    StoreError, UserStore, UserToken,
};

const NOW: i64 = 1_700_000_000;

/// Polls every future in turn until all are done: concurrency within one task, so the
/// futures may borrow (`&dyn Ephemeral`, `&SqlStore`).
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending { Poll::Pending } else { Poll::Ready(()) }
    })
    .await;
    outputs.into_iter().map(Option::unwrap).collect()
}

// ---------------------------------------------------------------------------------------------
// Durable store
// ---------------------------------------------------------------------------------------------

/// A migrated store on a fresh database; the directory holds the SQLite file.
async fn store() -> (SqlStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = idp_tests::fresh_database_url(dir.path()).await;
    (SqlStore::open(&url).await.expect("the store opens and migrates"), dir)
}

fn new_user(login: &str) -> NewUser {
    new_user_with(Login::parse(login).unwrap(), &format!("{login}@example.org"))
}

/// A ready account of the default type with a placeholder hash: what the store contract tests
/// create.
pub(crate) fn new_user_with(login: Login, email: &str) -> NewUser {
    NewUser {
        login,
        email: Email::parse(email).unwrap(),
        given_name: "Alice".into(),
        family_name: "Martin".into(),
        phone_number: None,
        address: None,
        user_type: "usager".into(),
        password_hash: "$argon2id$not-a-real-hash".into(),
        start: idp::domain::AccountStart::Ready,
        birth_date: None,
        identifiers: Vec::new(),
    }
}

fn client(id: &str) -> Client {
    Client {
        id: id.into(),
        name: format!("Client {id}"),
        secret_digest: Some(idp::crypto::digest("a-secret-of-at-least-thirty-two-chars")),
        redirect_uris: vec![RedirectUri::parse(&format!("https://{id}.example/callback"), false).unwrap()],
        post_logout_redirect_uris: vec![],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        auth_method: AuthMethod::ClientSecretBasic,
        id_token_alg: SigningAlg::RS256,
        theme: None,
        first_party: false,
        created_at: NOW,
        settings: Default::default(),
    }
}

fn scopes(raw: &str) -> Scopes {
    Scopes::parse(raw).unwrap()
}

fn refresh(digest: &str, grant_id: &str, client_id: &str, user_id: &str) -> RefreshToken {
    RefreshToken {
        digest: digest.into(),
        grant_id: grant_id.into(),
        client_id: client_id.into(),
        user_id: user_id.into(),
        scopes: scopes("openid offline_access"),
        auth_time: NOW,
        sid: Some("sid-1".into()),
        amr: vec!["pwd".into()],
        created_at: NOW,
        expires_at: NOW + 3600,
        used_at: None,
    }
}

/// A store with one user and one client, which refresh tokens and consents need.
async fn store_with_user_and_client() -> (SqlStore, tempfile::TempDir, User, Client) {
    let (store, dir) = store().await;
    let user = store.create_user(new_user("alice.martin"), NOW).await.unwrap();
    let shop = client("shop");
    store.create_client(&shop).await.unwrap();
    (store, dir, user, shop)
}

#[tokio::test]
async fn store_audit_events_are_per_user_newest_first_and_filtered_by_kind_prefix() {
    let (store, _dir, alice, _) = store_with_user_and_client().await;
    let event = |user: Option<&str>, kind: &str, at: i64| AuditEvent {
        user_id: user.map(str::to_owned),
        kind: kind.into(),
        at,
        ip: "192.0.2.1".into(),
        user_agent: "test".into(),
        detail: "{}".into(),
    };
    for e in [
        event(Some(&alice.id), "sign_in", NOW),
        event(Some(&alice.id), "sign_in_failed", NOW + 1),
        event(Some(&alice.id), "password_changed", NOW + 2),
        event(Some("someone-else"), "sign_in", NOW + 3),
        event(None, "sign_in_failed", NOW + 4),
    ] {
        store.record_event(&e).await.unwrap();
    }
    let sign_ins = store.events_for_user(&alice.id, "sign_in", 10).await.unwrap();
    let kinds: Vec<_> = sign_ins.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["sign_in_failed", "sign_in"], "newest first, this user's only, kind prefix");
    assert_eq!(store.events_for_user(&alice.id, "", 10).await.unwrap().len(), 3);
    assert_eq!(store.events_for_user(&alice.id, "", 1).await.unwrap()[0].kind, "password_changed");
}

#[tokio::test]
async fn store_one_time_tokens_are_single_use_expire_and_die_after_too_many_failures() {
    let (store, _dir, alice, _) = store_with_user_and_client().await;
    let token = |digest: &str| UserToken {
        digest: digest.into(),
        user_id: alice.id.clone(),
        purpose: "activation".into(),
        created_at: NOW,
        expires_at: NOW + 900,
        attempts: 0,
    };
    store.insert_user_token(&token("first")).await.unwrap();
    store.insert_user_token(&token("second")).await.unwrap();
    assert!(store.user_token("first", "activation", NOW).await.unwrap().is_none(), "a newer token replaces it");
    assert!(store.user_token("second", "recovery", NOW).await.unwrap().is_none(), "purposes do not mix");
    assert!(store.user_token("second", "activation", NOW + 900).await.unwrap().is_none(), "expired");
    let taken = join_all((0..5).map(|_| store.take_user_token("second", "activation", NOW)).collect()).await;
    assert_eq!(taken.into_iter().filter(|t| *t.as_ref().unwrap()).count(), 1, "single use under concurrency");

    store.insert_user_token(&token("third")).await.unwrap();
    assert_eq!(store.fail_user_token(&alice.id, "activation", 3).await.unwrap(), 2);
    assert_eq!(store.fail_user_token(&alice.id, "activation", 3).await.unwrap(), 1);
    assert_eq!(store.fail_user_token(&alice.id, "activation", 3).await.unwrap(), 0);
    assert!(store.user_token("third", "activation", NOW).await.unwrap().is_none(), "dead after 3 failures");
}

#[tokio::test]
async fn store_queued_mail_is_claimed_by_one_caller_at_a_time() {
    let (store, _dir) = store().await;
    let mail = QueuedMail {
        id: "m1".into(),
        to: "alice@example.org".into(),
        subject: "Bonjour".into(),
        text: "sealed".into(),
        html: "sealed".into(),
        created_at: NOW,
        attempts: 1,
        next_attempt_at: NOW,
        last_error: None,
    };
    store.enqueue_mail(&mail, NOW + 120).await.unwrap();
    assert!(store.claim_due_mail(NOW, NOW + 120, 10).await.unwrap().is_empty(), "held by the node that queued it");
    store.retry_mail("m1", NOW + 30, "connection refused").await.unwrap();
    assert!(store.claim_due_mail(NOW + 29, NOW + 150, 10).await.unwrap().is_empty(), "not due yet");
    let claims = join_all((0..4).map(|_| store.claim_due_mail(NOW + 30, NOW + 150, 10)).collect()).await;
    let claimed: Vec<_> = claims.into_iter().flat_map(Result::unwrap).collect();
    assert_eq!(claimed.len(), 1, "one claimer wins");
    assert_eq!(claimed[0].attempts, 2);
    assert_eq!(claimed[0].last_error.as_deref(), Some("connection refused"));
    store.finish_mail("m1").await.unwrap();
    assert!(store.pending_mail().await.unwrap().is_empty());
}

#[tokio::test]
async fn store_refuses_a_duplicate_login_with_a_conflict() {
    let (store, _dir) = store().await;
    store.create_user(new_user("alice.martin"), NOW).await.unwrap();
    let again = store.create_user(new_user("alice.martin"), NOW).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "expected Conflict, got {again:?}");
}

#[tokio::test]
async fn store_refuses_a_duplicate_client_id_with_a_conflict() {
    let (store, _dir) = store().await;
    store.create_client(&client("shop")).await.unwrap();
    let other = Client { name: "Another shop".into(), ..client("shop") };
    let again = store.create_client(&other).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "expected Conflict, got {again:?}");
    assert_eq!(store.client("shop").await.unwrap(), Some(client("shop")), "the first registration stays");
}

#[tokio::test]
async fn store_upsert_client_creates_then_replaces() {
    let (store, _dir) = store().await;
    store.upsert_client(&client("shop")).await.unwrap();
    assert_eq!(store.client("shop").await.unwrap(), Some(client("shop")));

    let replacement = Client {
        name: "Boutique".into(),
        secret_digest: None,
        redirect_uris: vec![RedirectUri::parse("http://127.0.0.1:5173/callback", false).unwrap()],
        post_logout_redirect_uris: vec![RedirectUri::parse("http://127.0.0.1:5173/", false).unwrap()],
        grant_types: vec![GrantType::AuthorizationCode],
        auth_method: AuthMethod::None,
        id_token_alg: SigningAlg::EdDSA,
        theme: Some("region".into()),
        first_party: true,
        ..client("shop")
    };
    store.upsert_client(&replacement).await.unwrap();
    assert_eq!(store.client("shop").await.unwrap(), Some(replacement));
    assert_eq!(store.clients().await.unwrap().iter().filter(|c| c.id == "shop").count(), 1);
}

#[tokio::test]
async fn store_delete_client_takes_its_consents_and_refresh_tokens_along() {
    let (store, _dir, user, shop) = store_with_user_and_client().await;
    let other = client("other");
    store.create_client(&other).await.unwrap();
    for c in [&shop, &other] {
        store.save_consent(&user.id, &c.id, &scopes("openid profile"), NOW).await.unwrap();
        store
            .insert_refresh_token(&refresh(&format!("rt-{}", c.id), &format!("g-{}", c.id), &c.id, &user.id))
            .await
            .unwrap();
    }

    assert!(store.delete_client("shop").await.unwrap(), "there was a client to delete");
    assert_eq!(store.client("shop").await.unwrap(), None);
    assert_eq!(store.consent(&user.id, "shop").await.unwrap(), None, "its consent is gone");
    assert_eq!(store.refresh_token("rt-shop").await.unwrap(), None, "its refresh token is gone");
    assert!(store.consent(&user.id, "other").await.unwrap().is_some(), "other clients keep their consents");
    assert!(store.refresh_token("rt-other").await.unwrap().is_some(), "and their refresh tokens");
    assert!(!store.delete_client("shop").await.unwrap(), "false when there is no such client");
}

#[tokio::test]
async fn store_save_consent_keeps_the_union_of_the_scopes() {
    let (store, _dir, user, shop) = store_with_user_and_client().await;
    assert_eq!(store.consent(&user.id, &shop.id).await.unwrap(), None);
    store.save_consent(&user.id, &shop.id, &scopes("openid profile"), NOW).await.unwrap();
    store.save_consent(&user.id, &shop.id, &scopes("openid email"), NOW + 1).await.unwrap();
    assert_eq!(store.consent(&user.id, &shop.id).await.unwrap(), Some(scopes("openid profile email")));
}

#[tokio::test]
async fn store_concurrent_consents_lose_no_scope() {
    let (store, _dir, user, shop) = store_with_user_and_client().await;
    let asked = ["openid profile", "openid email", "openid phone", "openid address", "openid offline_access"];
    let saves = asked.into_iter().map(|raw| {
        let (store, user_id, client_id) = (store.clone(), user.id.clone(), shop.id.clone());
        tokio::spawn(async move { store.save_consent(&user_id, &client_id, &scopes(raw), NOW).await })
    });
    for save in saves.collect::<Vec<_>>() {
        save.await.unwrap().unwrap();
    }
    assert_eq!(
        store.consent(&user.id, &shop.id).await.unwrap(),
        Some(scopes("openid profile email phone address offline_access")),
        "every decision is in the stored union"
    );
}

#[tokio::test]
async fn store_rotate_refresh_token_is_single_use() {
    let (store, _dir, user, shop) = store_with_user_and_client().await;
    let first = refresh("rt-1", "g-1", &shop.id, &user.id);
    store.insert_refresh_token(&first).await.unwrap();

    let second = refresh("rt-2", "g-1", &shop.id, &user.id);
    assert!(store.rotate_refresh_token("rt-1", &second, NOW + 10).await.unwrap(), "the first rotation succeeds");
    assert_eq!(store.refresh_token("rt-1").await.unwrap().unwrap().used_at, Some(NOW + 10), "the old one is spent");
    assert_eq!(store.refresh_token("rt-2").await.unwrap(), Some(second));

    let replay = refresh("rt-3", "g-1", &shop.id, &user.id);
    assert!(!store.rotate_refresh_token("rt-1", &replay, NOW + 20).await.unwrap(), "a replayed rotation fails");
    assert_eq!(store.refresh_token("rt-3").await.unwrap(), None, "and writes nothing");
    assert_eq!(store.refresh_token("rt-1").await.unwrap().unwrap().used_at, Some(NOW + 10), "not even used_at");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn store_twenty_concurrent_rotations_of_one_token_let_exactly_one_through() {
    let (store, _dir, user, shop) = store_with_user_and_client().await;
    store.insert_refresh_token(&refresh("rt-0", "g-1", &shop.id, &user.id)).await.unwrap();

    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let (store, new) = (store.clone(), refresh(&format!("rt-new-{i}"), "g-1", &shop.id, &user.id));
        tasks.spawn(async move { store.rotate_refresh_token("rt-0", &new, NOW + 10).await });
    }
    let results: Vec<bool> = tasks.join_all().await.into_iter().map(|r| r.expect("no database error")).collect();
    assert_eq!(results.iter().filter(|ok| **ok).count(), 1, "exactly one rotation wins: {results:?}");

    let mut stored = 0;
    for i in 0..20 {
        stored += usize::from(store.refresh_token(&format!("rt-new-{i}")).await.unwrap().is_some());
    }
    assert_eq!(stored, 1, "exactly one new token is stored");
}

#[tokio::test]
async fn store_revoke_grant_deletes_every_token_of_the_grant_and_only_those() {
    let (store, _dir, user, shop) = store_with_user_and_client().await;
    for digest in ["a-1", "a-2", "a-3"] {
        store.insert_refresh_token(&refresh(digest, "grant-a", &shop.id, &user.id)).await.unwrap();
    }
    store.insert_refresh_token(&refresh("b-1", "grant-b", &shop.id, &user.id)).await.unwrap();

    assert_eq!(store.revoke_grant("grant-a").await.unwrap(), 3);
    for digest in ["a-1", "a-2", "a-3"] {
        assert_eq!(store.refresh_token(digest).await.unwrap(), None, "{digest} survived its grant's revocation");
    }
    assert!(store.refresh_token("b-1").await.unwrap().is_some(), "another grant is untouched");
    assert_eq!(store.revoke_grant("grant-a").await.unwrap(), 0);
}

#[tokio::test]
async fn store_server_secret_keeps_the_first_value_stored() {
    let (store, _dir) = store().await;
    assert_eq!(store.server_secret("csrf_key", "first", NOW).await.unwrap(), "first");
    assert_eq!(store.server_secret("csrf_key", "second", NOW + 1).await.unwrap(), "first");
    assert_eq!(store.server_secret("other_key", "third", NOW).await.unwrap(), "third", "one value per name");
}

// ---------------------------------------------------------------------------------------------
// Ephemeral store
// ---------------------------------------------------------------------------------------------

/// Every ephemeral backend of this run, each empty (Redis: a fresh key prefix).
async fn ephemerals() -> Vec<(&'static str, Box<dyn Ephemeral>)> {
    let mut backends: Vec<(&'static str, Box<dyn Ephemeral>)> = vec![("memory", Box::new(MemoryEphemeral::new()))];
    if let Some(url) = idp_tests::backends().1 {
        let prefix = format!("t_{}:", idp::crypto::random_token(9));
        let redis =
            RedisEphemeral::connect(&url, &prefix).await.expect("IDP_TEST_REDIS_URL is set but Redis is unreachable");
        backends.push(("redis", Box::new(redis)));
    }
    backends
}

const TTL: Duration = Duration::from_secs(60);

async fn put_then_get(name: &str, e: &dyn Ephemeral) {
    assert_eq!(e.get("missing").await.unwrap(), None, "{name}");
    e.put("k", b"one".to_vec(), TTL).await.unwrap();
    assert_eq!(e.get("k").await.unwrap().as_deref(), Some(&b"one"[..]), "{name}: get returns what was put");
    assert_eq!(e.get("k").await.unwrap().as_deref(), Some(&b"one"[..]), "{name}: get does not consume");
    e.put("k", b"two".to_vec(), TTL).await.unwrap();
    assert_eq!(e.get("k").await.unwrap().as_deref(), Some(&b"two"[..]), "{name}: put replaces");
    e.delete("k").await.unwrap();
    assert_eq!(e.get("k").await.unwrap(), None, "{name}: delete removes");
}

async fn take_once(name: &str, e: &dyn Ephemeral) {
    e.put("code", b"payload".to_vec(), TTL).await.unwrap();
    assert_eq!(e.take("code").await.unwrap().as_deref(), Some(&b"payload"[..]), "{name}: take returns the value");
    assert_eq!(e.take("code").await.unwrap(), None, "{name}: a second take gets nothing");
    assert_eq!(e.get("code").await.unwrap(), None, "{name}: the value is gone");
}

async fn concurrent_takes(name: &str, e: &dyn Ephemeral) {
    e.put("code", b"payload".to_vec(), TTL).await.unwrap();
    let takes = join_all((0..50).map(|_| e.take("code")).collect()).await;
    let winners = takes.into_iter().map(Result::unwrap).filter(Option::is_some).count();
    assert_eq!(winners, 1, "{name}: exactly one of 50 concurrent takes gets the value");
}

async fn concurrent_increments(name: &str, e: &dyn Ephemeral) {
    let counts = join_all((0..50).map(|_| e.incr("attempts", TTL)).collect()).await;
    let mut counts: Vec<i64> = counts.into_iter().map(Result::unwrap).collect();
    counts.sort_unstable();
    assert_eq!(counts, (1..=50).collect::<Vec<i64>>(), "{name}: every increment counts, once");
    assert_eq!(e.incr("attempts", TTL).await.unwrap(), 51, "{name}");
    assert_eq!(e.incr("other", TTL).await.unwrap(), 1, "{name}: counters are per key");
}

async fn sets(name: &str, e: &dyn Ephemeral) {
    assert!(e.set_members("sessions").await.unwrap().is_empty(), "{name}: a missing set is empty");
    e.set_add("sessions", "s1", TTL).await.unwrap();
    e.set_add("sessions", "s2", TTL).await.unwrap();
    e.set_add("sessions", "s1", TTL).await.unwrap();
    let mut members = e.set_members("sessions").await.unwrap();
    members.sort();
    assert_eq!(members, ["s1", "s2"], "{name}: a set holds each member once");
    e.set_remove("sessions", "s1").await.unwrap();
    e.set_remove("sessions", "never-added").await.unwrap();
    assert_eq!(e.set_members("sessions").await.unwrap(), ["s2"], "{name}: set_remove removes one member");
    e.set_remove("sessions", "s2").await.unwrap();
    assert!(e.set_members("sessions").await.unwrap().is_empty(), "{name}");
}

#[tokio::test]
async fn ephemeral_get_returns_what_put_stored() {
    for (name, e) in ephemerals().await {
        put_then_get(name, e.as_ref()).await;
    }
}

#[tokio::test]
async fn ephemeral_take_is_single_use() {
    for (name, e) in ephemerals().await {
        take_once(name, e.as_ref()).await;
    }
}

#[tokio::test]
async fn ephemeral_fifty_concurrent_takes_let_exactly_one_through() {
    for (name, e) in ephemerals().await {
        concurrent_takes(name, e.as_ref()).await;
    }
}

#[tokio::test]
async fn ephemeral_incr_counts_fifty_concurrent_increments() {
    for (name, e) in ephemerals().await {
        concurrent_increments(name, e.as_ref()).await;
    }
}

#[tokio::test]
async fn ephemeral_sets_add_remove_and_list_members() {
    for (name, e) in ephemerals().await {
        sets(name, e.as_ref()).await;
    }
}

/// Writes a value, a counter and a set with a 1 s TTL, waits 2 s, and finds them gone.
async fn expiry(name: &str, e: &dyn Ephemeral) {
    let short = Duration::from_secs(1);
    e.put("value", b"v".to_vec(), short).await.unwrap();
    e.put("taken", b"v".to_vec(), short).await.unwrap();
    e.incr("counter", short).await.unwrap();
    e.set_add("set", "m", short).await.unwrap();
    assert!(e.get("value").await.unwrap().is_some(), "{name}: alive before its TTL");

    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(e.get("value").await.unwrap(), None, "{name}: get after the TTL");
    assert_eq!(e.take("taken").await.unwrap(), None, "{name}: take after the TTL");
    assert!(e.set_members("set").await.unwrap().is_empty(), "{name}: set after the TTL");
    assert_eq!(e.incr("counter", short).await.unwrap(), 1, "{name}: a counter starts again after its TTL");
}

#[tokio::test]
async fn ephemeral_values_counters_and_sets_expire_after_their_ttl() {
    let backends = ephemerals().await;
    // One shared wait for every backend.
    join_all(backends.iter().map(|(name, e)| expiry(name, e.as_ref())).collect()).await;
}
