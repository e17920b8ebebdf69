//! The recovery rate limits (per identifier, e-mail and address) and what a refused request
//! costs: a themed 429, and one audit row per limit and window however many are refused.

use idp::account::audit;
use idp_tests::Browser;

use super::{THROTTLED, provider};
use crate::pages::assert_themed_error;

#[tokio::test]
async fn requests_are_limited_per_identifier_and_per_address() {
    let p = provider(|raw| {
        raw.recovery.limit_per_identifier = 2;
        raw.recovery.limit_per_ip = 4;
    })
    .await;
    p.user("prenom.nom", "prenom.nom@example.org", "segur_operateur").await;

    for _ in 0..2 {
        let browser = Browser::new();
        let first = p.first_page(&browser, "segur_operateur").await;
        assert_eq!(p.identify(&browser, &first, "prenom.nom", None).await.status, 303);
    }
    let browser = Browser::new();
    let first = p.first_page(&browser, "segur_operateur").await;
    let refused = p.identify(&browser, &first, "prenom.nom", None).await;
    assert_themed_error(&refused, 429, THROTTLED);

    // Other identifiers from the same address: the fourth request is the address's last.
    let first = p.first_page(&browser, "segur_operateur").await;
    assert_eq!(p.identify(&browser, &first, "someone.else", None).await.status, 303);
    let first = p.first_page(&browser, "segur_operateur").await;
    let refused = p.identify(&browser, &first, "a.third.one", None).await;
    assert_themed_error(&refused, 429, THROTTLED);
}

/// `audit_events` rows of `kind`, read with sqlx, not through the store.
async fn audit_rows(database_url: &str, kind: &str) -> i64 {
    const SQL: &str = "SELECT COUNT(*) FROM audit_events WHERE kind = $1";
    if database_url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(database_url).await.unwrap();
        let (n,): (i64,) = sqlx::query_as(SQL).bind(kind).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    } else {
        let pool = sqlx::PgPool::connect(database_url).await.unwrap();
        let (n,): (i64,) = sqlx::query_as(SQL).bind(kind).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    }
}

#[tokio::test]
async fn a_flood_of_refused_requests_is_audited_once_per_window_not_once_per_request() {
    let p = provider(|raw| raw.recovery.limit_per_ip = 2).await;
    let browser = Browser::new();
    for i in 0..2 {
        let first = p.first_page(&browser, "segur_operateur").await;
        assert_eq!(p.identify(&browser, &first, &format!("someone.{i}"), None).await.status, 303);
    }
    for i in 0..4 {
        let first = p.first_page(&browser, "segur_operateur").await;
        let refused = p.identify(&browser, &first, &format!("flood.{i}"), None).await;
        assert_themed_error(&refused, 429, THROTTLED);
    }
    assert_eq!(
        audit_rows(&p.app.config.database_url, audit::RECOVERY_THROTTLED).await,
        1,
        "four refusals in one window write one audit row, so a flood grows no table"
    );
}
