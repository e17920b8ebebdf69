//! The audit trail as an operator reads it (issue #12, `idp::admin::audit`): search by user,
//! client, kind or kind prefix and date range, newest first with a total; export as JSON lines
//! in chunks; retention purge. Run on whichever backends the environment selects.

use idp::admin::AdminError;
use idp::admin::actor::{Actor, Role};
use idp::admin::audit::{self, AuditQuery};
use idp::session::ClientInfo;
use idp_tests::{Setup, TestApp};
use serde_json::json;

fn info() -> ClientInfo {
    ClientInfo { user_agent: "test".into(), ip: "192.0.2.1".into(), lang: None }
}

/// Records `kind` for `user` (and `client`) at the app's current time.
async fn event(app: &TestApp, user: Option<&str>, kind: &'static str, client: Option<&str>) {
    let detail = match client {
        Some(c) => json!({ "client_id": c }),
        None => json!({}),
    };
    idp::account::audit::record(&app.services, user, kind, &info(), detail).await.unwrap();
}

async fn search(app: &TestApp, query: AuditQuery) -> (Vec<String>, usize) {
    let page = audit::search_audit(&app.services, &Actor::cli(), &query).await.unwrap();
    (page.items.into_iter().map(|e| e.kind).collect(), page.total)
}

#[tokio::test]
async fn search_filters_by_user_client_and_kind_newest_first() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice.martin").await;
    event(&app, Some(&alice.id), "sign_in", Some("shop")).await;
    app.clock.advance(1);
    event(&app, Some(&alice.id), "sign_in_failed", Some("mail")).await;
    app.clock.advance(1);
    event(&app, None, "sign_in_failed", Some("shop")).await;

    let by_login = search(&app, AuditQuery { user: Some("alice.martin".into()), ..Default::default() }).await;
    let by_client = search(&app, AuditQuery { client: Some("shop".into()), ..Default::default() }).await;
    let by_kind = search(&app, AuditQuery { kind: Some("sign_in_failed".into()), ..Default::default() }).await;
    let both = AuditQuery { user: Some(alice.id.clone()), client: Some("shop".into()), ..Default::default() };

    assert_eq!(by_login, (vec!["sign_in_failed".to_owned(), "sign_in".to_owned()], 2), "newest first");
    assert_eq!(by_client, (vec!["sign_in_failed".to_owned(), "sign_in".to_owned()], 2));
    assert_eq!(by_kind.1, 2);
    assert_eq!(search(&app, both).await, (vec!["sign_in".to_owned()], 1), "a user id works too");
}

#[tokio::test]
async fn a_kind_ending_with_a_star_is_a_prefix() {
    let app = TestApp::spawn().await;
    for kind in ["recovery_started", "recovery_sent", "sign_in"] {
        event(&app, None, kind, None).await;
    }

    let (kinds, total) = search(&app, AuditQuery { kind: Some("recovery_*".into()), ..Default::default() }).await;

    assert_eq!(total, 2);
    assert!(kinds.iter().all(|k| k.starts_with("recovery_")), "{kinds:?}");
    let (_, exact) = search(&app, AuditQuery { kind: Some("recovery_".into()), ..Default::default() }).await;
    assert_eq!(exact, 0, "without a star the kind is exact");
}

#[tokio::test]
async fn search_keeps_a_date_range_with_its_start_and_without_its_end() {
    let app = TestApp::spawn().await;
    let start = app.services.now();
    for _ in 0..3 {
        event(&app, None, "sign_in", None).await;
        app.clock.advance(100);
    }

    let (_, total) =
        search(&app, AuditQuery { since: Some(start + 100), until: Some(start + 200), ..Default::default() }).await;

    assert_eq!(total, 1, "only the event at start + 100");
    let backwards = AuditQuery { since: Some(start + 200), until: Some(start), ..Default::default() };
    assert!(matches!(audit::search_audit(&app.services, &Actor::cli(), &backwards).await, Err(AdminError::Invalid(_))));
}

#[tokio::test]
async fn search_pages_carry_the_total() {
    let app = TestApp::spawn().await;
    for _ in 0..7 {
        event(&app, None, "sign_in", None).await;
        app.clock.advance(1);
    }
    let query = AuditQuery { kind: Some("sign_in".into()), offset: 5, limit: 5, ..Default::default() };

    let page = audit::search_audit(&app.services, &Actor::cli(), &query).await.unwrap();

    assert_eq!((page.items.len(), page.total), (2, 7));
    assert!(page.items[0].at > page.items[1].at, "still newest first");
}

#[tokio::test]
async fn only_auditors_and_admins_read_the_trail() {
    let app = TestApp::spawn().await;
    let support = Actor::client("desk", vec![Role::Support], info());
    let auditor = Actor::client("cnil", vec![Role::Auditor], info());

    assert!(matches!(
        audit::search_audit(&app.services, &support, &AuditQuery::default()).await,
        Err(AdminError::Forbidden)
    ));
    assert!(matches!(
        audit::export_audit(&app.services, &support, &AuditQuery::default()).await,
        Err(AdminError::Forbidden)
    ));
    assert!(audit::search_audit(&app.services, &auditor, &AuditQuery::default()).await.is_ok());
}

#[tokio::test]
async fn an_export_gives_every_kept_event_once_as_json_lines_in_chunks() {
    let app = TestApp::spawn().await;
    let count = audit::CHUNK as usize + 5;
    for _ in 0..count {
        event(&app, None, "sign_in", Some("shop")).await;
    }
    event(&app, None, "sign_in", Some("other")).await;
    let auditor = Actor::client("cnil", vec![Role::Auditor], info());

    let mut export =
        audit::export_audit(&app.services, &auditor, &AuditQuery { client: Some("shop".into()), ..Default::default() })
            .await
            .unwrap();
    let mut chunks = Vec::new();
    while let Some(chunk) = export.next_chunk(&app.services).await.unwrap() {
        chunks.push(chunk);
    }

    assert_eq!(chunks.len(), 2, "one chunk of {} and the rest", audit::CHUNK);
    let lines: Vec<serde_json::Value> =
        chunks.concat().lines().map(|l| serde_json::from_str(l).expect("each line is JSON")).collect();
    assert_eq!(lines.len(), count);
    assert!(lines.iter().all(|l| l["client_id"] == "shop"));
    let mut ids: Vec<i64> = lines.iter().map(|l| l["id"].as_i64().unwrap()).collect();
    ids.dedup();
    assert_eq!(ids.len(), count, "no event twice");
    let (kinds, _) = search(&app, AuditQuery { kind: Some("audit_exported".into()), ..Default::default() }).await;
    assert_eq!(kinds.len(), 1, "the export itself is audited");
}

#[tokio::test]
async fn the_retention_purge_removes_only_events_older_than_the_setting() {
    let app =
        TestApp::spawn_with(Setup { tweak: Box::new(|raw| raw.audit_retention_days = 30), ..Default::default() }).await;
    event(&app, None, "sign_in", None).await;
    app.clock.advance(31 * 86_400);
    event(&app, None, "sign_in_failed", None).await;

    let purged = audit::purge_expired(&app.services).await.unwrap();

    assert!(purged >= 1, "the old sign-in went");
    let (kinds, _) = search(&app, AuditQuery::default()).await;
    assert!(kinds.contains(&"sign_in_failed".to_owned()) && !kinds.contains(&"sign_in".to_owned()), "{kinds:?}");
}

#[tokio::test]
async fn a_retention_of_zero_keeps_the_trail_forever() {
    let app =
        TestApp::spawn_with(Setup { tweak: Box::new(|raw| raw.audit_retention_days = 0), ..Default::default() }).await;
    event(&app, None, "sign_in", None).await;
    app.clock.advance(3650 * 86_400);

    assert_eq!(audit::purge_expired(&app.services).await.unwrap(), 0);
    assert_eq!(search(&app, AuditQuery { kind: Some("sign_in".into()), ..Default::default() }).await.1, 1);
}

#[tokio::test]
async fn the_dashboard_counts_each_kind_per_day_for_thirty_days() {
    let app = TestApp::spawn().await;
    event(&app, None, "sign_in", None).await;
    event(&app, None, "sign_in", None).await;
    event(&app, None, "account_locked", None).await;
    app.clock.advance(86_400);
    event(&app, None, "sign_in_failed", None).await;
    event(&app, None, "recovery_started", None).await;
    event(&app, None, "activated", None).await;
    event(&app, None, "client_created", None).await;

    let figures = idp::admin::system::dashboard_figures(&app.services, &Actor::cli()).await.unwrap();

    assert_eq!(figures.days.len(), 30);
    let today = &figures.days[29];
    let yesterday = &figures.days[28];
    assert!(today.day <= app.services.now() && app.services.now() < today.day + 86_400, "the last day is today");
    assert_eq!((yesterday.sign_ins, yesterday.lockouts, yesterday.failed_sign_ins), (2, 1, 0));
    assert_eq!((today.failed_sign_ins, today.recoveries, today.activations, today.sign_ins), (1, 1, 1, 0));
    assert_eq!((figures.mail_queue, figures.logout_queue), (0, 0));
    let support = Actor::client("desk", vec![Role::Support], info());
    assert!(matches!(idp::admin::system::dashboard_figures(&app.services, &support).await, Err(AdminError::Forbidden)));
}

#[tokio::test]
async fn keys_are_listed_and_rotated_by_admins_only_and_the_rotation_is_audited() {
    let app = TestApp::spawn().await;
    let before = idp::admin::system::list_keys(&app.services, &Actor::cli()).unwrap();
    assert!(before.iter().any(|k| k.state == "active") && before.iter().any(|k| k.state == "next"));
    let auditor = Actor::client("cnil", vec![Role::Auditor], info());
    assert!(matches!(idp::admin::system::list_keys(&app.services, &auditor), Err(AdminError::Forbidden)));

    let rotations = idp::admin::system::rotate_keys(&app.services, &Actor::cli(), None, true).await.unwrap();

    assert_eq!(rotations.len(), idp::domain::SigningAlg::ALL.len());
    let after = idp::admin::system::list_keys(&app.services, &Actor::cli()).unwrap();
    for r in &rotations {
        assert!(after.iter().any(|k| k.kid == r.activated && k.state == "active"), "{} signs now", r.activated);
    }
    let (kinds, _) = search(&app, AuditQuery { kind: Some("keys_rotated".into()), ..Default::default() }).await;
    assert_eq!(kinds.len(), rotations.len());
    let types = idp::admin::system::user_types(&app.services, &Actor::cli()).unwrap();
    assert!(!types.is_empty() && types.iter().all(|t| t.password_policy.min_length > 0));
}
