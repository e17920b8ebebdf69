//! User search over 100,000 accounts (issue #12: "under 50 ms for a prefix search on login or
//! e-mail"), through the library function the CLI, the admin API and the console call
//! (`admin::users::search_users`, which also counts the matches). Prints the median and p95;
//! asserts nothing (machines are noisy).
//!
//!     cargo bench -p idp-tests --bench user_search
//!
//! SQLite always; PostgreSQL as well when IDP_TEST_POSTGRES_URL is set (the suite's variable).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use idp::admin::actor::{Actor, Role};
use idp::admin::users::{self, UserQuery};
use idp::clock::Clock;
use idp::domain::{AccountStart, Email, Login, NewUser};
use idp::session::ClientInfo;
use idp_tests::{Setup, TestApp};

const USERS: usize = 100_000;
const CHUNK: usize = 10_000;
const SAMPLES: usize = 200;

const GIVEN: [&str; 8] = ["alice", "bruno", "chloe", "david", "emma", "farid", "gaelle", "hugo"];
const FAMILY: [&str; 8] = ["martin", "bernard", "dubois", "thomas", "robert", "richard", "petit", "durand"];

fn person(i: usize) -> NewUser {
    let (given, family) = (GIVEN[i % 8], FAMILY[(i / 8) % 8]);
    NewUser {
        login: Login::parse_new(&format!("{given}.{family}{i:06}")).unwrap(),
        email: Email::parse(&format!("{family}.{given}{i:06}@mairie{}.fr", i % 97)).unwrap(),
        given_name: given.into(),
        family_name: family.into(),
        phone_number: None,
        address: None,
        user_type: "usager".into(),
        password_hash: idp::domain::UNUSABLE_PASSWORD_HASH.into(),
        start: AccountStart::Ready,
        birth_date: None,
        identifiers: Vec::new(),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn measure(app: &TestApp, what: &str, query: impl Fn(usize) -> UserQuery) {
    let actor = Actor::person("bench", "bench", Role::Support, ClientInfo::default());
    let mut times = Vec::with_capacity(SAMPLES);
    let (mut found, mut total) = (0, 0);
    for i in 0..SAMPLES {
        let q = query(i * 487 % USERS);
        let start = Instant::now();
        let page = users::search_users(&app.services, &actor, &q).await.unwrap();
        times.push(start.elapsed());
        found += page.items.len();
        total += page.total;
    }
    times.sort();
    println!(
        "  {what:<34} median {:>7.2} ms   p95 {:>7.2} ms   ({:.1} shown, {:.1} matching, per search)",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.95).as_secs_f64() * 1e3,
        found as f64 / SAMPLES as f64,
        total as f64 / SAMPLES as f64
    );
}

async fn run(backend: &str, database_url: String) {
    let app = TestApp::spawn_with(Setup { database_url: Some(database_url), ..Setup::default() }).await;
    let start = Instant::now();
    let now = app.clock.now();
    for chunk in (0..USERS).collect::<Vec<_>>().chunks(CHUNK) {
        let batch: Vec<NewUser> = chunk.iter().map(|i| person(*i)).collect();
        app.services.store.insert_users_bulk(&batch, now).await.unwrap();
    }
    println!("{backend}: {USERS} users inserted in {:.1} s", start.elapsed().as_secs_f64());
    // A prefix that names about one account (its number's last digit left open), and a shorter
    // one that names about a thousand (the first page of 50 is read, all of them counted).
    let login = |i: usize| format!("{}.{}{:05}", GIVEN[i % 8], FAMILY[(i / 8) % 8], i / 10);
    let email = |i: usize| format!("{}.{}{:05}", FAMILY[(i / 8) % 8], GIVEN[i % 8], i / 10);
    measure(&app, "login prefix (narrow)", |i| UserQuery { login: Some(login(i)), ..UserQuery::default() }).await;
    measure(&app, "e-mail prefix (narrow)", |i| UserQuery { email: Some(email(i)), ..UserQuery::default() }).await;
    measure(&app, "free text q (login or e-mail)", |i| UserQuery { q: Some(login(i)), ..UserQuery::default() }).await;
    measure(&app, "login prefix (broad)", |i| UserQuery {
        login: Some(format!("{}.{}0", GIVEN[i % 8], FAMILY[(i / 8) % 8])),
        ..UserQuery::default()
    })
    .await;
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    run("SQLite", format!("sqlite:{}", dir.path().join("bench.db").display())).await;
    if idp_tests::backends().0.is_some() {
        run("PostgreSQL", idp_tests::fresh_database_url(dir.path()).await).await;
    } else {
        println!("PostgreSQL: skipped (set IDP_TEST_POSTGRES_URL to measure it)");
    }
}
