//! The password policy (issue #4): the policy published as JSON for the page, the history of
//! argon2id hashes, the transparent rehash of an old-recipe hash at sign-in, and the expiry
//! flag of a password older than its user type allows.

use idp::account::login::{self, LoginOutcome};
use idp::account::password::PasswordHasher;
use idp::account::policy;
use idp::admin::{self, UserSpec};
use idp::config::Argon2Params;
use idp::domain::Secret;
use idp::domain::lang::Lang;
use idp::domain::user_type::{PasswordPolicy, UserType};
use idp::session::ClientInfo;
use idp::store::PasswordChange;
use idp::theme::{PageFrame, Themes};
use idp::web::handlers::password_policy::page_rules;
use idp_tests::{Browser, PASSWORD, Setup, TestApp};
use serde_json::Value;

const DAY: i64 = 86_400;

/// Bonus Eco: expiry after 90 days; UPHF Sésame: different from the last 3.
fn bonus_eco() -> UserType {
    let mut t = UserType::default_usager();
    t.id = "beneficiaire".into();
    t.password_policy =
        PasswordPolicy { max_age_days: Some(90), history: 3, min_symbols: 1, ..PasswordPolicy::default() };
    t
}

async fn app_with_bonus_eco() -> TestApp {
    TestApp::spawn_with(Setup {
        tweak: Box::new(|raw| raw.user_types = vec![UserType::default_usager(), bonus_eco()]),
        ..Setup::default()
    })
    .await
}

async fn policy_json(app: &TestApp, query: &str) -> (u16, Value) {
    let page = Browser::new().get(&app.url(&format!("/password-policy{query}"))).await;
    (page.status.as_u16(), serde_json::from_str(&page.body).unwrap_or(Value::Null))
}

async fn sign_in(app: &TestApp, login: &str, password: &str) -> LoginOutcome {
    login::authenticate(
        &app.services,
        login,
        &Secret::new(password),
        &ClientInfo { user_agent: "test".into(), ip: "127.0.0.1".into(), lang: None },
        "test-client",
    )
    .await
    .unwrap()
}

fn rule<'a>(json: &'a Value, name: &str) -> Option<&'a Value> {
    json["rules"].as_array().unwrap().iter().find(|r| r["rule"] == name)
}

#[tokio::test]
async fn the_default_policy_is_published_with_french_and_english_labels() {
    let app = TestApp::spawn().await;
    let (status, json) = policy_json(&app, "").await;

    assert_eq!(status, 200);
    assert_eq!(json["user_type"], "usager");
    assert_eq!(json["min_length"], 8);
    let min_length = rule(&json, "min_length").expect("the minimum length is listed");
    assert_eq!(min_length["label"]["fr"], "Au moins 8 caractères");
    assert_eq!(min_length["label"]["en"], "At least 8 characters");
    assert_eq!(rule(&json, "history").unwrap()["label"]["fr"], "Différent de vos 3 derniers mots de passe");
    assert!(rule(&json, "symbols").is_none(), "the default type asks for no symbol");
    assert_eq!(json["strength_labels"]["fr"][0], "Très faible");
    assert_eq!(json["strength_labels"]["fr"][4], "Excellente");
    assert_eq!(json["strength_labels"]["en"][4], "Excellent");
    assert!(json.get("common").is_none(), "one judge (decision 0018): the page gets no list to estimate with");
}

#[tokio::test]
async fn the_policy_of_a_declared_type_is_published_and_an_unknown_type_is_not_found() {
    let app = app_with_bonus_eco().await;

    let (status, json) = policy_json(&app, "?user_type=beneficiaire").await;
    assert_eq!(status, 200);
    assert_eq!(json["user_type"], "beneficiaire");
    assert_eq!(rule(&json, "symbols").unwrap()["value"], 1);

    let (status, json) = policy_json(&app, "?user_type=inconnu").await;
    assert_eq!(status, 404);
    assert_eq!(json["error"], "unknown_user_type");
}

#[tokio::test]
async fn a_user_of_an_undeclared_type_is_refused() {
    let app = TestApp::spawn().await;
    let spec = UserSpec {
        login: "intrus".into(),
        email: "intrus@example.org".into(),
        user_type: "martien".into(),
        ..UserSpec::default()
    };
    let err = admin::add_user(&app.services, &spec, &Secret::new(PASSWORD)).await.unwrap_err();
    assert!(err.to_string().contains("martien"), "{err}");
}

#[tokio::test]
async fn the_last_three_passwords_are_refused_and_older_ones_forgotten() {
    let app = TestApp::spawn().await;
    let user = app.user("alice").await;
    let s = &app.services;
    for (i, password) in ["Deuxieme-mdp-2", "Troisieme-mdp-3"].into_iter().enumerate() {
        let hash = s.passwords.hash(&Secret::new(password)).await.unwrap();
        assert!(s.store.change_password(&change(&user.id, &hash, s.now() + i as i64)).await.unwrap());
    }
    let history = s.store.password_history(&user.id, 3).await.unwrap();
    assert_eq!(history.len(), 3, "the first password is the first history entry");
    assert!(s.passwords.verify(&Secret::new("Troisieme-mdp-3"), Some(&history[0])).await.unwrap(), "newest first");
    assert!(policy::is_in_history(&s.passwords, &Secret::new(PASSWORD), &history).await.unwrap());

    let hash = s.passwords.hash(&Secret::new("Quatrieme-mdp-4")).await.unwrap();
    s.store.change_password(&change(&user.id, &hash, s.now() + 10)).await.unwrap();
    let history = s.store.password_history(&user.id, 3).await.unwrap();
    assert!(
        !policy::is_in_history(&s.passwords, &Secret::new(PASSWORD), &history).await.unwrap(),
        "the fourth-last password is allowed again"
    );
    assert!(matches!(sign_in(&app, "alice", "Quatrieme-mdp-4").await, LoginOutcome::Success { .. }));
    assert!(!s.store.change_password(&change("no-such-user", &hash, s.now())).await.unwrap());
}

#[tokio::test]
async fn a_hash_with_old_parameters_is_replaced_at_sign_in() {
    let app = TestApp::spawn().await;
    let user = app.user("alice").await;
    let old_recipe = PasswordHasher::new(Argon2Params { m_cost: 512, t_cost: 2, p_cost: 1 }, 1).unwrap();
    let old_hash = old_recipe.hash(&Secret::new(PASSWORD)).await.unwrap();
    app.services.store.set_password_hash(&user.id, &old_hash, app.services.now()).await.unwrap();
    assert!(app.services.passwords.needs_rehash(&old_hash));

    assert!(matches!(sign_in(&app, "alice", PASSWORD).await, LoginOutcome::Success { .. }));

    let stored = app.services.store.user_by_id(&user.id).await.unwrap().unwrap().password_hash;
    assert_ne!(stored, old_hash);
    assert!(!app.services.passwords.needs_rehash(&stored), "the new hash uses the configured recipe");
    assert!(matches!(sign_in(&app, "alice", PASSWORD).await, LoginOutcome::Success { .. }));
}

#[tokio::test]
async fn a_password_older_than_ninety_days_is_flagged_at_sign_in() {
    let app = app_with_bonus_eco().await;
    let spec = UserSpec {
        login: "benoit".into(),
        email: "benoit@example.org".into(),
        user_type: "beneficiaire".into(),
        ..UserSpec::default()
    };
    admin::add_user(&app.services, &spec, &Secret::new(PASSWORD)).await.unwrap();

    app.clock.advance(89 * DAY);
    let outcome = sign_in(&app, "benoit", PASSWORD).await;
    assert!(matches!(outcome, LoginOutcome::Success { password_expired: false, .. }), "{outcome:?}");

    app.clock.advance(DAY);
    let outcome = sign_in(&app, "benoit", PASSWORD).await;
    assert!(matches!(outcome, LoginOutcome::Success { password_expired: true, .. }), "{outcome:?}");
}

#[tokio::test]
async fn a_user_type_without_max_age_never_expires() {
    let app = TestApp::spawn().await;
    app.user("alice").await;
    app.clock.advance(3_650 * DAY);
    let outcome = sign_in(&app, "alice", PASSWORD).await;
    assert!(matches!(outcome, LoginOutcome::Success { password_expired: false, .. }), "{outcome:?}");
}

fn themes() -> Themes {
    Themes::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../themes"))).unwrap()
}

fn render_fields(lang: Lang, errors: &[&str]) -> String {
    let themes = themes();
    let rules = page_rules(&themes, "default", lang, &PasswordPolicy::default());
    let context = serde_json::json!({
        "password_rules": rules,
        "password_policy_url": "/password-policy?user_type=usager",
        "password_check_url": "/password/check",
        "password_check_form": "account",
        "password_errors": errors,
    });
    let frame = PageFrame { lang, theme: "default".into(), lang_switch_url: String::new() };
    themes.render("password_fields.html", &frame, &context).unwrap().replace("&#x2F;", "/").replace("&#x27;", "'")
}

#[test]
fn the_password_fields_list_the_rules_without_javascript_in_french_and_english() {
    let fr = render_fields(Lang::Fr, &[]);
    let en = render_fields(Lang::En, &[]);

    assert!(fr.contains(r#"name="new_password""#) && fr.contains(r#"name="confirm_password""#), "{fr}");
    assert!(fr.contains(r#"<li class="password-rule" data-rule="min_length">Au moins 8 caractères</li>"#), "{fr}");
    assert!(fr.contains("Différent de vos 3 derniers mots de passe"), "{fr}");
    assert!(fr.contains(r#"data-policy-url="/password-policy?user_type=usager""#), "{fr}");
    assert!(fr.contains(r#"data-check-url="/password/check" data-check-form="account""#), "{fr}");
    assert!(fr.contains(r#"<script src="/static/default/password.js" defer></script>"#), "{fr}");
    assert!(fr.contains("Générer un mot de passe pour moi"), "{fr}");
    assert!(!fr.contains("password-errors"), "no error list without errors: {fr}");
    assert!(en.contains("At least 8 characters"), "{en}");
    assert!(en.contains("Generate a password for me"), "{en}");
}

#[test]
fn the_password_fields_show_one_message_per_failed_rule() {
    let fr = render_fields(Lang::Fr, &["Au moins 8 caractères", "Pas un mot de passe courant ou déjà divulgué"]);
    assert!(fr.contains(r#"id="password-errors" role="alert""#), "{fr}");
    assert!(fr.contains("<li>Pas un mot de passe courant ou déjà divulgué</li>"), "{fr}");
    assert_password_errors_are_a_valid_live_region(&fr);
    assert!(fr.contains(r#"aria-invalid="true""#), "{fr}");
}

#[tokio::test]
async fn the_page_script_is_served_by_the_provider() {
    let app = TestApp::spawn().await;
    let page = Browser::new().get(&app.url("/static/default/password.js")).await;
    assert_eq!(page.status.as_u16(), 200);
    assert!(page.header("content-type").unwrap_or_default().contains("javascript"));
    assert!(page.body.contains("crypto.getRandomValues"));
}

/// A password change keeping 3 history entries, no session kept, no token to redeem.
fn change<'a>(user_id: &'a str, hash: &'a str, now: i64) -> PasswordChange<'a> {
    PasswordChange { user_id, hash, keep: 3, now, keep_sid: None, redeem_token: None, webhook: None }
}

/// axe's `listitem` and `aria-allowed-role` (issue #13, item 6): the live region is a <div
/// role="alert">, its messages a plain <ul> inside it, and no <li> stands outside a list.
fn assert_password_errors_are_a_valid_live_region(html: &str) {
    let start = html.find(r#"id="password-errors""#).expect("the error region");
    let open = html[..start].rfind('<').unwrap();
    assert!(html[open..].starts_with("<div "), "the live region is a <div>: {}", &html[open..start + 40]);
    let region = &html[open..open + html[open..].find("</div>").unwrap()];
    assert!(region.contains(r#"role="alert""#), "{region}");
    let inner = &region[region.find('>').unwrap() + 1..];
    let inner = inner.trim();
    assert!(inner.starts_with("<ul>") && inner.ends_with("</ul>"), "the messages are one list: {inner}");
    assert!(
        !html.contains(r#"<ul class="alert"#) && !html.contains(r#"<ul role="alert""#),
        "no list with role=alert: {html}"
    );
    assert_eq!(inner.matches("<li>").count(), inner.matches("</li>").count());
}
