//! Self-hosted captchas and secret questions (issue #4), as the account modules that first
//! login and recovery (issue #5) build on: single use, expiry, binding to a form, the image
//! route, races; secret answers normalised, hashed with argon2id and limited in attempts; the
//! form fragments rendered through the theme.

use std::sync::Arc;

use idp::account::captcha::{self, Challenge, ChallengeKind};
use idp::account::secret_question::{self, Outcome};
use idp::domain::Secret;
use idp::domain::lang::Lang;
use idp::domain::user_type::CaptchaKind;
use idp::theme::{PageFrame, Themes};
use idp_tests::{Browser, TestApp};

use crate::pages::assert_themed_error;

const PURPOSE: &str = "recovery_password";

/// The answer to "a + b" or "a − b", as a person would compute it.
fn solve(challenge: &Challenge) -> String {
    idp_tests::captcha::solve_operation(
        challenge.operation.as_deref().expect("an arithmetic challenge shows its operation"),
    )
}

async fn arithmetic(app: &TestApp, purpose: &str) -> Challenge {
    captcha::issue(&app.services, CaptchaKind::Arithmetic, purpose).await.unwrap().unwrap()
}

/// What the image shows, read where only the server can: the ephemeral record.
async fn image_answer(app: &TestApp, id: &str) -> String {
    let raw = app.services.ephemeral.get(&format!("captcha:{id}")).await.unwrap().unwrap();
    let record: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    record["answer"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_captcha_verifies_once_and_a_replay_is_refused() {
    let app = TestApp::spawn().await;
    let challenge = arithmetic(&app, PURPOSE).await;
    let answer = solve(&challenge);
    assert!(challenge.image_url.is_none());

    assert!(captcha::verify(&app.services, &challenge.id, PURPOSE, &format!("  {answer} ")).await.unwrap());
    assert!(
        !captcha::verify(&app.services, &challenge.id, PURPOSE, &answer).await.unwrap(),
        "a replayed captcha was accepted"
    );
}

#[tokio::test]
async fn a_wrong_answer_burns_the_captcha() {
    let app = TestApp::spawn().await;
    let challenge = arithmetic(&app, PURPOSE).await;
    let answer = solve(&challenge);
    let wrong = (answer.parse::<u32>().unwrap() + 1).to_string();

    assert!(!captcha::verify(&app.services, &challenge.id, PURPOSE, &wrong).await.unwrap());
    assert!(
        !captcha::verify(&app.services, &challenge.id, PURPOSE, &answer).await.unwrap(),
        "a second try after a wrong answer was accepted"
    );
}

#[tokio::test]
async fn an_expired_captcha_is_refused() {
    let app = TestApp::spawn().await;
    let challenge = arithmetic(&app, PURPOSE).await;

    app.clock.advance(captcha::LIFETIME_SECONDS + 1);

    assert!(!captcha::verify(&app.services, &challenge.id, PURPOSE, &solve(&challenge)).await.unwrap());
}

#[tokio::test]
async fn a_captcha_issued_for_another_form_is_refused() {
    let app = TestApp::spawn().await;
    let challenge = arithmetic(&app, "first_login").await;

    assert!(!captcha::verify(&app.services, &challenge.id, PURPOSE, &solve(&challenge)).await.unwrap());
}

#[tokio::test]
async fn no_captcha_is_issued_when_the_user_type_requires_none() {
    let app = TestApp::spawn().await;
    assert_eq!(captcha::issue(&app.services, CaptchaKind::None, PURPOSE).await.unwrap(), None);
}

/// The image as the browser fetches it: status, headers and raw bytes.
async fn fetch_image(app: &TestApp, url: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let response = reqwest::get(app.url(url)).await.unwrap();
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    (status, headers, response.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn an_image_captcha_is_served_as_a_png_without_caching_and_answered_case_insensitively() {
    let app = TestApp::spawn().await;
    let challenge = captcha::issue(&app.services, CaptchaKind::Image, PURPOSE).await.unwrap().unwrap();
    assert_eq!(challenge.kind, ChallengeKind::Image);
    let url = challenge.image_url.clone().expect("an image challenge has an image");
    assert_eq!(url, format!("/captcha/{}.png", challenge.id));

    let (status, headers, png) = fetch_image(&app, &url).await;

    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&png));
    let header = |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(header("content-type").as_deref(), Some("image/png"));
    assert_eq!(header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(header("content-security-policy").as_deref(), Some("default-src 'none'"), "an inert image");
    assert_eq!(png[..8], [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'], "the PNG signature");
    assert_eq!(&png[12..16], b"IHDR");
    assert_eq!(png[16..24], [0, 0, 0, 200, 0, 0, 0, 70], "200 × 70, as the <img> says");
    assert!(png.len() < 20_000, "{} bytes", png.len());
    let answer = image_answer(&app, &challenge.id).await;
    for needle in [answer.clone(), answer.to_lowercase()] {
        assert!(
            !png.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "the answer {needle} is in the image's bytes"
        );
    }
    assert_eq!(fetch_image(&app, &url).await.2, png, "a reload shows the same picture");

    let typed = format!(" {} ", answer.to_lowercase());
    assert!(captcha::verify(&app.services, &challenge.id, PURPOSE, &typed).await.unwrap());
    let gone = Browser::new().get(&app.url(&url)).await;
    assert_themed_error(&gone, 404, "La page demandée n’existe pas.");
}

#[tokio::test]
async fn an_unknown_captcha_image_is_a_themed_404() {
    let app = TestApp::spawn().await;
    for path in ["/captcha/unknown.svg", "/captcha/unknown.png", "/captcha/unknown"] {
        let page = Browser::new().get(&app.url(path)).await;
        assert_themed_error(&page, 404, "La page demandée n’existe pas.");
    }
    // An arithmetic challenge has no image.
    let challenge = arithmetic(&app, PURPOSE).await;
    let page = Browser::new().get(&app.url(&format!("/captcha/{}.png", challenge.id))).await;
    assert_themed_error(&page, 404, "La page demandée n’existe pas.");
    // Nor is a live image challenge served under another name (the SVG is gone).
    let image = captcha::issue(&app.services, CaptchaKind::Image, PURPOSE).await.unwrap().unwrap();
    for name in [format!("{}.svg", image.id), image.id.clone(), format!("{}.png.svg", image.id)] {
        let page = Browser::new().get(&app.url(&format!("/captcha/{name}"))).await;
        assert_themed_error(&page, 404, "La page demandée n’existe pas.");
    }
}

#[tokio::test]
async fn the_image_captcha_swaps_to_an_operation_for_the_same_form() {
    let app = TestApp::spawn().await;
    let image = captcha::issue(&app.services, CaptchaKind::Image, PURPOSE).await.unwrap().unwrap();
    let answer = image_answer(&app, &image.id).await;

    let operation = captcha::swap_to_arithmetic(&app.services, &image.id, PURPOSE).await.unwrap().unwrap();

    assert_eq!(operation.kind, ChallengeKind::Arithmetic);
    assert!(!captcha::verify(&app.services, &image.id, PURPOSE, &answer).await.unwrap(), "the image lives on");
    assert!(captcha::verify(&app.services, &operation.id, PURPOSE, &solve(&operation)).await.unwrap());
    let other_form = captcha::issue(&app.services, CaptchaKind::Image, "first_login").await.unwrap().unwrap();
    assert_eq!(captcha::swap_to_arithmetic(&app.services, &other_form.id, PURPOSE).await.unwrap(), None);
}

#[tokio::test]
async fn fifty_concurrent_answers_to_one_captcha_pass_exactly_once() {
    let app = TestApp::spawn().await;
    let challenge = arithmetic(&app, PURPOSE).await;
    let answer = solve(&challenge);
    let services = app.services.clone();

    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (services, id, answer) = (Arc::clone(&services), challenge.id.clone(), answer.clone());
            tokio::spawn(async move { captcha::verify(&services, &id, PURPOSE, &answer).await.unwrap() })
        })
        .collect();
    let mut passed = 0;
    for task in tasks {
        passed += usize::from(task.await.unwrap());
    }

    assert_eq!(passed, 1, "one captcha answered {passed} times");
}

#[tokio::test]
async fn a_secret_answer_is_checked_regardless_of_case_accents_and_spaces() {
    let app = TestApp::spawn().await;
    let user = app.user("alice.martin").await;
    let question = "Quel est votre animal préféré ?";

    secret_question::set(&app.services, &user.id, question, &Secret::new("Éléphant rose")).await.unwrap();

    assert_eq!(secret_question::question_of(&app.services, &user.id).await.unwrap().as_deref(), Some(question));
    for typed in ["  Éléphant  Rose", "elephant rose", "ELEPHANT ROSE"] {
        let outcome = secret_question::check(&app.services, &user.id, &Secret::new(typed)).await.unwrap();
        assert_eq!(outcome, Outcome::Correct, "{typed:?} was refused");
    }
    let outcome = secret_question::check(&app.services, &user.id, &Secret::new("éléphant gris")).await.unwrap();
    assert_eq!(outcome, Outcome::Wrong);
}

#[tokio::test]
async fn a_user_without_a_secret_question_is_told_apart_from_a_wrong_answer() {
    let app = TestApp::spawn().await;
    let user = app.user("alice.martin").await;

    assert_eq!(secret_question::question_of(&app.services, &user.id).await.unwrap(), None);
    let outcome = secret_question::check(&app.services, &user.id, &Secret::new("anything")).await.unwrap();
    assert_eq!(outcome, Outcome::NotSet);
}

#[tokio::test]
async fn a_secret_question_or_answer_of_the_wrong_length_is_refused() {
    let app = TestApp::spawn().await;
    let user = app.user("alice.martin").await;

    let short_question = secret_question::set(&app.services, &user.id, "Ah ?", &Secret::new("réponse")).await;
    assert!(matches!(short_question, Err(secret_question::SecretQuestionError::BadQuestion)));
    let blank_answer = secret_question::set(&app.services, &user.id, "Votre ville ?", &Secret::new("   a  ")).await;
    assert!(matches!(blank_answer, Err(secret_question::SecretQuestionError::BadAnswer)));
    assert_eq!(secret_question::question_of(&app.services, &user.id).await.unwrap(), None, "nothing was stored");
}

#[tokio::test]
async fn too_many_wrong_secret_answers_refuse_even_the_right_one() {
    let app = TestApp::spawn().await;
    let user = app.user("alice.martin").await;
    secret_question::set(&app.services, &user.id, "Votre ville natale ?", &Secret::new("Nîmes")).await.unwrap();

    for _ in 0..secret_question::MAX_ATTEMPTS {
        let outcome = secret_question::check(&app.services, &user.id, &Secret::new("Paris")).await.unwrap();
        assert_eq!(outcome, Outcome::Wrong);
    }

    let outcome = secret_question::check(&app.services, &user.id, &Secret::new("nimes")).await.unwrap();
    assert_eq!(outcome, Outcome::TooManyAttempts);
}

#[tokio::test]
async fn the_secret_answer_is_stored_as_an_argon2id_hash_and_can_be_replaced() {
    let app = TestApp::spawn().await;
    let user = app.user("alice.martin").await;
    secret_question::set(&app.services, &user.id, "Votre ville natale ?", &Secret::new("Nîmes")).await.unwrap();

    let row = app.services.store.secret_question(&user.id).await.unwrap().unwrap();
    assert!(row.answer_hash.starts_with("$argon2id$"), "not an argon2id hash: {}", row.answer_hash);
    assert!(!row.answer_hash.to_lowercase().contains("nimes"));

    secret_question::set(&app.services, &user.id, "Votre premier animal ?", &Secret::new("Médor")).await.unwrap();
    let row = app.services.store.secret_question(&user.id).await.unwrap().unwrap();
    assert_eq!(row.question, "Votre premier animal ?");
    let outcome = secret_question::check(&app.services, &user.id, &Secret::new("medor")).await.unwrap();
    assert_eq!(outcome, Outcome::Correct);
}

fn themes() -> Themes {
    Themes::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../themes"))).unwrap()
}

/// The fragment as a browser reads it (Tera also escapes `'` and `/`).
fn render(page: &str, lang: Lang, context: &serde_json::Value) -> String {
    let html = themes().render(page, &frame(lang), context).unwrap();
    html.replace("&#x27;", "'").replace("&#x2F;", "/")
}

fn frame(lang: Lang) -> PageFrame {
    PageFrame { lang, theme: "default".into(), lang_switch_url: String::new() }
}

#[test]
fn the_arithmetic_captcha_fragment_asks_the_operation_in_french_and_english() {
    let challenge = Challenge {
        id: "abc123".into(),
        kind: ChallengeKind::Arithmetic,
        operation: Some("9 + 0".into()),
        image_url: None,
    };
    let context = serde_json::json!({ "captcha": challenge });

    let fr = render("captcha_fields.html", Lang::Fr, &context);
    let en = render("captcha_fields.html", Lang::En, &context);

    assert!(fr.contains("Veuillez résoudre l'opération suivante\u{a0}:"), "{fr}");
    assert!(fr.contains("9 + 0 = ?"), "{fr}");
    assert!(fr.contains(r#"name="captcha_id" value="abc123""#), "{fr}");
    assert!(fr.contains(r#"name="captcha_answer""#), "{fr}");
    assert!(!fr.contains("<img"), "{fr}");
    assert!(en.contains("Please solve the following operation:"), "{en}");
}

#[test]
fn the_image_captcha_fragment_has_alt_text_and_the_accessible_alternative() {
    let challenge = Challenge {
        id: "abc123".into(),
        kind: ChallengeKind::Image,
        operation: None,
        image_url: Some("/captcha/abc123.png".into()),
    };
    let context = serde_json::json!({ "captcha": challenge, "captcha_error": true });

    let fr = render("captcha_fields.html", Lang::Fr, &context);
    let en = render("captcha_fields.html", Lang::En, &context);

    assert!(fr.contains(r#"src="/captcha/abc123.png" alt="Image de caractères déformés"#), "{fr}");
    assert!(fr.contains(r#"name="captcha_alternative" value="arithmetic""#), "{fr}");
    assert!(fr.contains("Je préfère résoudre une opération"), "{fr}");
    assert!(fr.contains("La vérification a échoué ou a expiré."), "{fr}");
    assert!(fr.contains(r#"aria-invalid="true""#), "{fr}");
    assert!(en.contains("I prefer to solve an operation"), "{en}");
    assert!(en.contains(r#"alt="Image of distorted characters"#), "{en}");

    // Enter in the answer field presses the form's default button, the first submit button in
    // tree order (HTML, implicit submission): it must send the answer, not ask for an operation
    // (issue #13, item 7). It is nameless, like the including forms' main buttons, out of the
    // tab order and hidden from assistive technology, which reach the visible buttons.
    for html in [&fr, &en] {
        let first = html.find(r#"type="submit""#).expect("a submit button");
        let tag = &html[html[..first].rfind('<').unwrap()..];
        let tag = &tag[..tag.find('>').unwrap()];
        assert!(!tag.contains("name="), "the default button submits no alternative: {tag}");
        assert!(!tag.contains("formnovalidate"), "the default button checks the answer is given: {tag}");
        assert!(tag.contains(r#"tabindex="-1""#) && tag.contains(r#"aria-hidden="true""#), "{tag}");
        assert!(first < html.find("captcha_alternative").unwrap(), "the default button comes first");
    }
}

#[test]
fn the_secret_question_fragment_offers_the_list_or_ones_own_question() {
    let context = serde_json::json!({
        "secret_question_mode": "choose",
        "secret_questions": ["Dans quelle ville êtes-vous né(e) ?", "Quel était le nom de votre école primaire ?"],
        "secret_question_choice": "custom",
        "secret_question_custom": "Mon <plat> préféré ?",
    });

    let fr = render("secret_question_fields.html", Lang::Fr, &context);
    let en = render("secret_question_fields.html", Lang::En, &context);

    assert!(fr.contains(r#"<option value="Dans quelle ville êtes-vous né(e) ?">"#), "{fr}");
    assert!(fr.contains(r#"<option value="custom" selected>Je préfère écrire ma propre question</option>"#), "{fr}");
    assert!(fr.contains(r#"name="secret_question_custom""#), "{fr}");
    assert!(fr.contains("Mon &lt;plat&gt; préféré ?"), "the question the user wrote is escaped: {fr}");
    assert!(fr.contains(r#"name="secret_answer""#), "{fr}");
    assert!(fr.contains("Les majuscules, les accents et les espaces en trop ne comptent pas."), "{fr}");
    assert!(en.contains("I prefer to write my own question"), "{en}");
    assert!(en.contains("Secret answer"), "{en}");
}

#[test]
fn the_secret_question_fragment_asks_the_users_question_with_its_error() {
    let context = serde_json::json!({
        "secret_question_mode": "answer",
        "secret_question": "Votre ville natale ?",
        "secret_question_error": "secret_question_wrong",
    });

    let fr = render("secret_question_fields.html", Lang::Fr, &context);

    assert!(fr.contains("<strong>Votre ville natale ?</strong>"), "{fr}");
    assert!(fr.contains("La réponse secrète est incorrecte."), "{fr}");
    assert!(!fr.contains("<select"), "{fr}");
    assert!(fr.contains(r#"name="secret_answer""#), "{fr}");
}

#[tokio::test]
async fn the_configured_secret_questions_are_offered_in_the_page_language() {
    let app = TestApp::spawn().await;

    let fr = secret_question::offered(&app.services, Lang::Fr);
    let en = secret_question::offered(&app.services, Lang::En);

    assert!(fr.iter().any(|q| q == "Dans quelle ville êtes-vous né(e) ?"), "{fr:?}");
    assert!(en.iter().any(|q| q == "In which city were you born?"), "{en:?}");
    assert_eq!(fr.len(), en.len());
}
