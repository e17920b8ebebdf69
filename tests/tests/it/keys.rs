//! Signing keys (issue #3): rotation publishes the next key before it signs and keeps retired
//! keys until the tokens they signed have expired; every node sees a rotation after its
//! periodic reload; keys are encrypted at rest under the master key, and a wrong master key
//! stops the start with a clear message.

use idp::clock::Clock;
use idp::domain::SigningAlg;
use idp::master_key::MasterKey;
use idp::oidc::jws::KeyMaterial;
use idp::oidc::keys::{KeyError, KeyState, MIN_PUBLISHED_BEFORE_SIGNING, Rotation};
use idp_tests::{Setup, TestApp};

use crate::support_protocol::World;
use crate::token_formats::{jwks_kids, jwt_part, verify_with_jwks};

fn kid_of(jwt: &str) -> String {
    jwt_part(jwt, 0)["kid"].as_str().unwrap().to_owned()
}

fn kids_in(app: &TestApp, alg: SigningAlg, state: KeyState) -> Vec<String> {
    app.services.keys.list().into_iter().filter(|k| k.alg == alg && k.state == state).map(|k| k.kid).collect()
}

async fn rotate(app: &TestApp, alg: SigningAlg) -> Result<Rotation, KeyError> {
    app.services.keys.rotate(app.services.store.as_ref(), alg, app.clock.now(), false).await
}

/// Rotates `alg` once its next key has been published long enough.
async fn rotate_when_allowed(app: &TestApp, alg: SigningAlg) -> Rotation {
    app.clock.advance(MIN_PUBLISHED_BEFORE_SIGNING);
    rotate(app, alg).await.expect("the rotation succeeds")
}

/// The raw `signing_keys` rows (kid, alg, secret, state), read with sqlx, not through the store.
async fn raw_key_rows(database_url: &str) -> Vec<(String, String, String, String)> {
    const SQL: &str = "SELECT kid, alg, secret, state FROM signing_keys ORDER BY kid";
    if database_url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(database_url).await.unwrap();
        let rows = sqlx::query_as(SQL).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows
    } else {
        let pool = sqlx::PgPool::connect(database_url).await.unwrap();
        let rows = sqlx::query_as(SQL).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows
    }
}

async fn execute_raw(database_url: &str, sql: &'static str, binds: &[&str]) {
    if database_url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(database_url).await.unwrap();
        binds.iter().fold(sqlx::query(sql), |q, b| q.bind(*b)).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(database_url).await.unwrap();
        binds.iter().fold(sqlx::query(sql), |q, b| q.bind(*b)).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

/// A second node on `first`'s database, with the master key `master` (which `first` must use).
async fn second_node(first: &TestApp, master: &MasterKey) -> anyhow::Result<TestApp> {
    let master = master.encode();
    TestApp::try_spawn_with(Setup {
        database_url: Some(first.config.database_url.clone()),
        tweak: Box::new(move |raw| raw.master_key = Some(master)),
        ..Setup::default()
    })
    .await
}

async fn node_with_master_key(master: &MasterKey) -> TestApp {
    let master = master.encode();
    TestApp::spawn_with(Setup { tweak: Box::new(move |raw| raw.master_key = Some(master)), ..Setup::default() }).await
}

#[tokio::test]
async fn the_jwks_publishes_exactly_the_active_and_next_key_of_every_algorithm() {
    let app = TestApp::spawn().await;

    let mut published = jwks_kids(&app).await;

    let mut expected = Vec::new();
    for alg in SigningAlg::ALL {
        let active = kids_in(&app, alg, KeyState::Active);
        let next = kids_in(&app, alg, KeyState::Next);
        assert_eq!((active.len(), next.len()), (1, 1), "{alg}: one active and one next key");
        expected.extend(active.into_iter().chain(next));
    }
    published.sort();
    expected.sort();
    assert_eq!(published, expected, "the JWKS is exactly the keys in use");
}

#[tokio::test]
async fn the_next_key_is_published_before_it_signs_and_signs_after_rotation() {
    let world = World::new().await;
    let app = &world.app;
    let active = kids_in(app, SigningAlg::RS256, KeyState::Active)[0].clone();
    let next = kids_in(app, SigningAlg::RS256, KeyState::Next)[0].clone();
    assert!(jwks_kids(app).await.contains(&next), "the next key is in the JWKS from the start");
    let old_id_token = world.tokens("openid").await.str("id_token").to_owned();
    assert_eq!(kid_of(&old_id_token), active, "the active key signs, not the next one");

    let rotation = rotate_when_allowed(app, SigningAlg::RS256).await;

    assert_eq!(rotation.activated, next, "rotate promotes the published next key");
    let published = jwks_kids(app).await;
    assert!(published.contains(&rotation.next), "the new next key is published at once");
    assert!(published.contains(&active), "the retired key stays published");
    let new_id_token = world.tokens("openid").await.str("id_token").to_owned();
    assert_eq!(kid_of(&new_id_token), next, "the former next key signs new ID tokens");
    verify_with_jwks(app, &new_id_token).await;
    verify_with_jwks(app, &old_id_token).await;
    assert_eq!(kids_in(app, SigningAlg::RS256, KeyState::Retired), vec![active]);
}

#[tokio::test]
async fn rotate_refuses_a_next_key_published_too_recently_unless_forced() {
    let app = TestApp::spawn().await;
    let before = app.services.keys.list();

    let refused = rotate(&app, SigningAlg::ES256).await;

    assert!(matches!(refused, Err(KeyError::TooSoon { .. })), "{refused:?}");
    assert_eq!(app.services.keys.list(), before, "nothing changed");
    let forced = app.services.keys.rotate(app.services.store.as_ref(), SigningAlg::ES256, app.clock.now(), true).await;
    assert!(forced.is_ok(), "{forced:?}");
}

#[tokio::test]
async fn a_rotation_touches_only_its_algorithm() {
    let app = TestApp::spawn().await;
    let es256_active = kids_in(&app, SigningAlg::ES256, KeyState::Active);

    rotate_when_allowed(&app, SigningAlg::RS256).await;

    assert_eq!(kids_in(&app, SigningAlg::ES256, KeyState::Active), es256_active);
}

#[tokio::test]
async fn a_retired_key_leaves_the_jwks_once_the_tokens_it_signed_have_expired() {
    let app = TestApp::spawn().await;
    let active = kids_in(&app, SigningAlg::EdDSA, KeyState::Active)[0].clone();
    rotate_when_allowed(&app, SigningAlg::EdDSA).await;
    let until = app.services.keys.list().into_iter().find(|k| k.kid == active).unwrap().published_until.unwrap();
    let longest = app.config.lifetimes.id_token.max(app.config.lifetimes.access_token);
    assert!(until >= app.clock.now() + longest, "kept at least as long as any token it signed");

    app.clock.advance(until - app.clock.now() - 1);
    app.services.reload_keys().await.unwrap();
    assert!(jwks_kids(&app).await.contains(&active), "still published just before");
    app.clock.advance(2);
    app.services.reload_keys().await.unwrap();
    assert!(!jwks_kids(&app).await.contains(&active), "dropped once no token it signed can be valid");

    rotate_when_allowed(&app, SigningAlg::EdDSA).await;
    let rows = raw_key_rows(&app.config.database_url).await;
    assert!(!rows.iter().any(|r| r.0 == active), "and deleted from the store at the next rotation");
}

#[tokio::test]
async fn a_second_node_on_the_same_database_sees_the_rotation_after_reload() {
    let master = MasterKey::generate();
    let first = node_with_master_key(&master).await;
    let second = second_node(&first, &master).await.expect("the second node starts");
    assert_eq!(jwks_kids(&second).await.len(), jwks_kids(&first).await.len(), "both publish the same keys");
    let next = kids_in(&second, SigningAlg::ES256, KeyState::Next)[0].clone();

    let rotation = rotate_when_allowed(&first, SigningAlg::ES256).await;
    assert!(!jwks_kids(&second).await.contains(&rotation.next), "not before its reload");

    second.services.reload_keys().await.unwrap();

    assert!(jwks_kids(&second).await.contains(&rotation.next), "the new next key is published on every node");
    let signing = second.services.keys.active(SigningAlg::ES256).unwrap();
    assert_eq!(signing.kid, next, "the second node signs with the promoted key");
    let mut first_kids = jwks_kids(&first).await;
    let mut second_kids = jwks_kids(&second).await;
    first_kids.sort();
    second_kids.sort();
    assert_eq!(first_kids, second_kids);
}

#[tokio::test]
async fn signing_keys_are_not_stored_in_clear() {
    let app = TestApp::spawn().await;

    let rows = raw_key_rows(&app.config.database_url).await;

    assert_eq!(rows.len(), 6, "an active and a next key per algorithm");
    for (kid, alg, secret, _) in rows {
        let alg: SigningAlg = alg.parse().unwrap();
        assert!(KeyMaterial::import(alg, &secret).is_err(), "the key {kid} is readable from the database row");
        assert!(secret.starts_with("aes256gcm:"), "the key {kid} is sealed: {}", &secret[..12]);
    }
}

#[tokio::test]
async fn keys_stored_in_clear_by_an_earlier_version_are_encrypted_at_start() {
    let master = MasterKey::generate();
    let first = node_with_master_key(&master).await;
    let legacy = KeyMaterial::generate(SigningAlg::ES256).unwrap().export().unwrap();
    let created = (first.clock.now() - 10).to_string();
    execute_raw(
        &first.config.database_url,
        "INSERT INTO signing_keys (kid, alg, secret, created_at, retired_at) VALUES ($1, 'ES256', $2, CAST($3 AS BIGINT), NULL)",
        &["es256-legacy", &legacy, &created],
    )
    .await;

    let second = second_node(&first, &master).await.expect("starts with the legacy key");

    let row = raw_key_rows(&first.config.database_url).await.into_iter().find(|r| r.0 == "es256-legacy").unwrap();
    assert!(row.2.starts_with("aes256gcm:") && !row.2.contains(&legacy), "the legacy key is now sealed");
    assert_eq!(row.3, "active", "a key of an earlier version was active");
    assert!(jwks_kids(&second).await.contains(&"es256-legacy".to_owned()), "and still published");
}

#[tokio::test]
async fn a_wrong_master_key_stops_the_start_with_a_clear_message() {
    let first = node_with_master_key(&MasterKey::generate()).await;
    let before = raw_key_rows(&first.config.database_url).await;

    let Err(err) = second_node(&first, &MasterKey::generate()).await else {
        panic!("a node started with a master key that does not open the stored keys");
    };

    let message = format!("{err:#}");
    assert!(message.contains("cannot be decrypted with this master key"), "the operator saw: {message}");
    assert!(message.contains("IDP_MASTER_KEY"), "and where to look: {message}");
    assert_eq!(raw_key_rows(&first.config.database_url).await, before, "nothing was written");
}

#[tokio::test]
async fn the_embedded_setup_generates_a_private_master_key_once() {
    let setup = || Setup {
        tweak: Box::new(|raw| {
            raw.master_key = None;
            raw.database_url = Some(format!("sqlite:{}", raw.data_dir.join("idp.db").display()));
        }),
        ..Setup::default()
    };
    let app = TestApp::spawn_with(setup()).await;

    let path = app.config.data_dir.join("master.key");
    let key = std::fs::read_to_string(&path).expect("master.key in the data directory");
    assert!(MasterKey::parse(&key).is_ok(), "base64 of 32 bytes");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600, "readable by the owner only");
    }
}

// --- The store's promises behind rotation, on whichever backend runs ---

fn stored(kid: &str, state: &str, created_at: i64) -> idp::store::StoredKey {
    idp::store::StoredKey {
        kid: kid.into(),
        alg: "ES256".into(),
        secret: "aes256gcm:x:y".into(),
        state: state.into(),
        created_at,
        activated_at: (state == "active").then_some(created_at),
        retired_at: None,
    }
}

#[tokio::test]
async fn store_rotation_is_a_compare_and_swap_on_the_next_key() {
    use idp::store::KeyStore;
    let dir = tempfile::tempdir().unwrap();
    let store = idp::store::sql::SqlStore::open(&idp_tests::fresh_database_url(dir.path()).await).await.unwrap();
    store.insert_signing_key(&stored("a", "active", 1)).await.unwrap();
    store.insert_signing_key(&stored("n", "next", 2)).await.unwrap();

    let (n1, n2) = (stored("n1", "next", 3), stored("n2", "next", 3));
    let (one, two) =
        tokio::join!(store.rotate_signing_key("ES256", "n", &n1, 3), store.rotate_signing_key("ES256", "n", &n2, 3),);

    let outcomes = [one.unwrap(), two.unwrap()];
    assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1, "exactly one rotation wins: {outcomes:?}");
    let keys = store.signing_keys().await.unwrap();
    let states: Vec<(&str, &str)> = keys.iter().map(|k| (k.kid.as_str(), k.state.as_str())).collect();
    assert!(states.contains(&("a", "retired")) && states.contains(&("n", "active")), "{states:?}");
    assert_eq!(states.iter().filter(|(_, s)| *s == "next").count(), 1, "one new next key: {states:?}");
    assert_eq!(keys.iter().find(|k| k.kid == "a").unwrap().retired_at, Some(3));
}

#[tokio::test]
async fn store_purges_only_keys_retired_before_the_cutoff() {
    use idp::store::KeyStore;
    let dir = tempfile::tempdir().unwrap();
    let store = idp::store::sql::SqlStore::open(&idp_tests::fresh_database_url(dir.path()).await).await.unwrap();
    store.insert_signing_key(&stored("a", "active", 1)).await.unwrap();
    store.insert_signing_key(&stored("n", "next", 2)).await.unwrap();
    store.rotate_signing_key("ES256", "n", &stored("n2", "next", 10), 10).await.unwrap();

    assert_eq!(store.purge_retired_keys(10).await.unwrap(), 0, "retired at 10: not before 10");
    assert_eq!(store.purge_retired_keys(11).await.unwrap(), 1);
    let kids: Vec<String> = store.signing_keys().await.unwrap().into_iter().map(|k| k.kid).collect();
    assert_eq!(kids, ["n", "n2"], "active and next keys are never purged");
}
