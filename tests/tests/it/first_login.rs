//! The first-login steps (issue #4), from the login form back to the relying party: a
//! provisional password replaced on the policy page, the secret question, the terms and the
//! captcha, one page per step with "Étape n sur m"; a flow abandoned half-way resumes at the next
//! sign-in; an expired password is changed the same way; bad input (mismatch, policy, history,
//! replayed captcha, tampered cookie, second tab) gets a clear message and writes nothing.

use idp::account::password_change::{self, Reason};
use idp::account::{audit, captcha};
use idp::admin::{self, UserSpec};
use idp::domain::user_type::{CaptchaKind, Localized, PasswordPolicy, UserType};
use idp::domain::{AccountStart, Email, Login, NewUser, Secret, User};
use idp::session::ClientInfo;
use idp_tests::browser::{Page, query};
use idp_tests::rp::{Pending, Rp};
use idp_tests::{Browser, PASSWORD, RP_CALLBACK, Setup, TestApp};
use openidconnect::TokenResponse;

use crate::pages::{assert_themed_error, cookie_value};

const DAY: i64 = 86_400;
const PROVISIONAL: &str = "Provisoire-7431";
const NEW_PASSWORD: &str = "Velo-Rouge-Montagne-58";
const LOGIN_FAILED: &str = "Identifiant ou mot de passe incorrect.";
const HISTORY_RULE: &str = "Différent de vos 3 derniers mots de passe";
const EXPIRED: &str = "Votre connexion a expiré ou n";

/// A type with every first-login step on, except those `adjust` turns off.
fn user_type(id: &str, adjust: impl FnOnce(&mut UserType)) -> UserType {
    let mut t = UserType::default_usager();
    t.id = id.into();
    t.secret_question = true;
    adjust(&mut t);
    t
}

struct Provider {
    app: TestApp,
    rp: Rp,
}

async fn provider(types: Vec<UserType>) -> Provider {
    let app = TestApp::spawn_with(Setup {
        tweak: Box::new(move |raw| {
            raw.user_types = std::iter::once(UserType::default_usager()).chain(types).collect();
        }),
        ..Setup::default()
    })
    .await;
    let (client, secret) = app.confidential_client("shop", RP_CALLBACK).await;
    let rp = Rp::discover(&app.issuer, &client.id, Some(&secret), RP_CALLBACK).await;
    Provider { app, rp }
}

impl Provider {
    async fn user(&self, login: &str, user_type: &str) -> User {
        let spec = UserSpec {
            login: login.into(),
            email: format!("{login}@example.org"),
            given_name: "Camille".into(),
            family_name: "Durand".into(),
            user_type: user_type.into(),
            ..UserSpec::default()
        };
        admin::add_user(&self.app.services, &spec, &Secret::new(PASSWORD)).await.unwrap()
    }

    /// A new account with the provisional password, never activated (`AccountStart::Provisional`).
    async fn new_account(&self, login: &str, user_type: &str) -> User {
        let s = &self.app.services;
        let user = NewUser {
            login: Login::parse(login).unwrap(),
            email: Email::parse(&format!("{login}@example.org")).unwrap(),
            given_name: "Camille".into(),
            family_name: "Durand".into(),
            phone_number: None,
            address: None,
            user_type: user_type.into(),
            password_hash: s.passwords.hash(&Secret::new(PROVISIONAL)).await.unwrap(),
            start: AccountStart::Provisional { expires_at: s.now() + 7 * DAY },
            birth_date: None,
            identifiers: Vec::new(),
        };
        s.store.create_user(user, s.now()).await.unwrap()
    }

    /// What an administrator does: a provisional password valid for `lifetime` seconds.
    async fn make_provisional(&self, user: &User, lifetime: i64) {
        let s = &self.app.services;
        let hash = s.passwords.hash(&Secret::new(PROVISIONAL)).await.unwrap();
        assert!(s.store.set_provisional_password(&user.id, &hash, s.now() + lifetime, s.now()).await.unwrap());
    }

    /// The relying party starts a login; `browser` submits the login form. Returns the answer to
    /// the login form and the relying party's pending request.
    async fn sign_in(&self, browser: &Browser, login: &str, password: &str) -> (Page, Pending) {
        let pending = self.rp.start(&["profile"]);
        let page = browser.follow(&self.app.issuer, browser.get(&pending.url).await).await;
        assert!(page.url.contains("/login?request_id="), "expected the login page, got {}", page.url);
        (browser.submit_login(&self.app.issuer, &page, login, password).await, pending)
    }

    /// Signs in and expects the first-login page.
    async fn sign_in_to_steps(&self, browser: &Browser, login: &str, password: &str) -> (Page, Pending) {
        let (answer, pending) = self.sign_in(browser, login, password).await;
        assert_eq!(answer.status, 303, "the login form should send to the steps: {}", answer.body);
        assert_eq!(answer.location().as_deref(), Some("/first-login"));
        (self.step_page(browser).await, pending)
    }

    async fn step_page(&self, browser: &Browser) -> Page {
        let page = browser.get(&self.app.url("/first-login")).await;
        assert_eq!(page.status, 200, "the steps page: {}", page.body);
        page
    }

    /// Submits the form of `page` with `fields` (the page's own CSRF token and step).
    async fn submit(&self, browser: &Browser, page: &Page, fields: &[(&str, &str)]) -> Page {
        let csrf = page.field("csrf").expect("the step form has a CSRF token");
        let step = page.field("step").expect("the step form names its step");
        let mut form = vec![("csrf", csrf.as_str()), ("step", step.as_str())];
        form.extend_from_slice(fields);
        browser.post(&self.app.url("/first-login?lang=fr"), &form).await
    }

    async fn submit_password(&self, browser: &Browser, page: &Page, new: &str, confirm: &str) -> Page {
        self.submit(browser, page, &[("new_password", new), ("confirm_password", confirm)]).await
    }

    async fn submit_secret_question(&self, browser: &Browser, page: &Page) -> Page {
        let question = "Dans quelle ville êtes-vous né(e) ?";
        self.submit(browser, page, &[("secret_question_choice", question), ("secret_answer", "Limoges")]).await
    }

    /// Follows the answer of the last step to the relying party (approving the consent page if
    /// it shows up) and checks the code gives a verified ID token for `user`.
    async fn back_to_rp(&self, browser: &Browser, answer: Page, pending: Pending, user: &User) {
        let origin = &self.app.issuer;
        let mut page = browser.follow(origin, answer).await;
        if page.url.contains("/consent") {
            let csrf = page.field("csrf").unwrap();
            let request_id = page.field("request_id").unwrap();
            let form = [("csrf", csrf.as_str()), ("request_id", request_id.as_str()), ("decision", "allow")];
            page = browser.follow(origin, browser.post(&format!("{origin}/consent"), &form).await).await;
        }
        let callback = page.location().unwrap_or_else(|| panic!("no redirect to the relying party: {}", page.body));
        assert!(callback.starts_with(RP_CALLBACK), "redirected to {callback}");
        let params = query(&callback);
        assert_eq!(params["state"], *pending.state.secret());
        let tokens = self.rp.exchange(&params["code"], pending.verifier).await.expect("the code exchanges");
        let verifier = self.rp.client.id_token_verifier();
        let claims = tokens.id_token().unwrap().claims(&verifier, &pending.nonce).expect("the ID token verifies");
        assert_eq!(claims.subject().as_str(), user.id);
    }

    async fn password_is(&self, user: &User, password: &str) -> bool {
        let s = &self.app.services;
        let stored = s.store.user_by_id(&user.id).await.unwrap().unwrap();
        s.passwords.verify(&Secret::new(password), Some(&stored.password_hash)).await.unwrap()
    }

    async fn events(&self, user: &User, kind: &str) -> usize {
        let events = self.app.services.store.events_for_user(&user.id, kind, 100).await.unwrap();
        events.iter().filter(|e| e.kind == kind).count()
    }
}

fn assert_step(page: &Page, step: &str, progress: &str) {
    assert_eq!(page.field("step").as_deref(), Some(step), "expected the {step} step: {}", page.body);
    assert!(page.body.contains(progress), "the page does not say {progress:?}: {}", page.body);
}

fn assert_back_to_steps(page: &Page) {
    assert_eq!(page.status, 303, "expected a redirect to the current step: {}", page.body);
    assert_eq!(page.location().as_deref(), Some("/first-login"));
}

/// The answer to the page's arithmetic captcha, as a person would compute it.
fn page_text(page: &Page) -> String {
    page.body.replace("&#x27;", "'")
}

#[tokio::test]
async fn a_provisional_password_goes_through_forced_change_and_secret_question_back_to_the_relying_party() {
    let p = provider(vec![user_type("elu", |_| {})]).await;
    let user = p.user("camille.durand", "elu").await;
    p.make_provisional(&user, 7 * DAY).await;
    let browser = Browser::new();

    let (page, pending) = p.sign_in_to_steps(&browser, "camille.durand", PROVISIONAL).await;
    assert_step(&page, "password", "Étape 1 sur 2");
    assert!(page.body.contains(idp_tests::browser::ALL_REQUIRED), "{}", page.body);
    assert_eq!(page.check_required_notices(), 1, "the password step: every field required");
    assert!(page.body.contains(r#"<progress class="first-login-progress__bar" max="2" value="1""#), "{}", page.body);
    assert!(page.body.contains("Choisissez votre mot de passe"), "{}", page.body);
    assert!(page.body.contains("Au moins 8 caractères"), "the policy rules are listed: {}", page.body);
    assert!(page.body.contains("Client shop"), "the page names the service: {}", page.body);
    let english = browser.get(&p.app.url("/first-login?lang=en")).await;
    assert!(english.body.contains("Step 1 of 2") && english.body.contains("At least 8 characters"), "{}", english.body);

    let answer = p.submit_password(&browser, &page, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_back_to_steps(&answer);
    let page = p.step_page(&browser).await;
    assert_step(&page, "secret_question", "Étape 2 sur 2");
    assert!(page.body.contains("Dans quelle ville êtes-vous né(e) ?"), "the configured questions: {}", page.body);
    // The own question is optional: the notice says so, and the field is marked (issue #13).
    assert!(page.body.contains(idp_tests::browser::REQUIRED_BUT_OPTIONAL), "{}", page.body);
    assert_eq!(page.check_required_notices(), 1);

    let answer = p.submit_secret_question(&browser, &page).await;
    p.back_to_rp(&browser, answer, pending, &user).await;

    let stored = p.app.services.store.user_by_id(&user.id).await.unwrap().unwrap();
    assert!(!stored.must_change_password && stored.activated_at.is_some(), "{stored:?}");
    assert_eq!(p.events(&user, audit::SECRET_QUESTION_SET).await, 1);
    assert_eq!(p.app.sessions_of(&user.id).await.len(), 1, "one session, made at the end");

    let again = Browser::new();
    let (answer, pending) = p.sign_in(&again, "camille.durand", NEW_PASSWORD).await;
    assert_ne!(answer.location().as_deref(), Some("/first-login"), "no step is owed any more");
    p.back_to_rp(&again, answer, pending, &user).await;
    let (refused, _) = p.sign_in(&Browser::new(), "camille.durand", PROVISIONAL).await;
    assert_eq!(refused.status, 401, "the provisional password still works: {}", refused.body);
    assert!(refused.body.contains(LOGIN_FAILED));
}

#[tokio::test]
async fn abandoning_after_the_new_password_resumes_at_the_secret_question_at_the_next_sign_in() {
    let p = provider(vec![user_type("elu", |_| {})]).await;
    let user = p.user("camille.durand", "elu").await;
    p.make_provisional(&user, 7 * DAY).await;
    let first = Browser::new();
    let (page, _) = p.sign_in_to_steps(&first, "camille.durand", PROVISIONAL).await;
    assert_back_to_steps(&p.submit_password(&first, &page, NEW_PASSWORD, NEW_PASSWORD).await);
    assert!(p.app.sessions_of(&user.id).await.is_empty(), "no session before the steps are done");

    let (refused, _) = p.sign_in(&Browser::new(), "camille.durand", PROVISIONAL).await;
    assert_eq!(refused.status, 401, "the provisional password is gone: {}", refused.body);
    let second = Browser::new();
    let (page, pending) = p.sign_in_to_steps(&second, "camille.durand", NEW_PASSWORD).await;
    assert_step(&page, "secret_question", "Étape 1 sur 1");

    let answer = p.submit_secret_question(&second, &page).await;
    p.back_to_rp(&second, answer, pending, &user).await;
    assert_eq!(p.events(&user, audit::PASSWORD_CHANGED).await, 1);
}

#[tokio::test]
async fn the_full_flow_asks_the_password_the_question_the_terms_and_a_captcha_in_four_steps() {
    let p = provider(vec![user_type("agent", |t| {
        t.terms = Some(Localized::new(
            "Règlement intérieur : l'usage du portail est réservé aux agents.",
            "Internal rules: the portal is for staff only.",
        ));
        t.captcha = CaptchaKind::Arithmetic;
    })])
    .await;
    let user = p.new_account("camille.durand", "agent").await;
    let browser = Browser::new();

    let (page, pending) = p.sign_in_to_steps(&browser, "camille.durand", PROVISIONAL).await;
    assert_step(&page, "password", "Étape 1 sur 4");
    assert_back_to_steps(&p.submit_password(&browser, &page, NEW_PASSWORD, NEW_PASSWORD).await);
    let page = p.step_page(&browser).await;
    assert_step(&page, "secret_question", "Étape 2 sur 4");
    assert_back_to_steps(&p.submit_secret_question(&browser, &page).await);

    let page = p.step_page(&browser).await;
    assert_step(&page, "terms", "Étape 3 sur 4");
    assert!(page_text(&page).contains("Règlement intérieur : l'usage du portail est réservé aux agents."));
    assert!(page_text(&page).contains("J'accepte"), "{}", page.body);
    let unticked = p.submit(&browser, &page, &[]).await;
    assert_eq!(unticked.status, 400);
    assert!(page_text(&unticked).contains("Vous devez cocher"), "{}", unticked.body);
    let stored = p.app.services.store.user_by_id(&user.id).await.unwrap().unwrap();
    assert_eq!(stored.terms_accepted_at, None, "terms accepted without the box ticked");
    assert_back_to_steps(&p.submit(&browser, &unticked, &[("accept_terms", "yes")]).await);

    let page = p.step_page(&browser).await;
    assert_step(&page, "captcha", "Étape 4 sur 4");
    assert!(page_text(&page).contains("Veuillez résoudre l'opération suivante"), "{}", page.body);
    let captcha_id = page.field("captcha_id").unwrap();
    let answer = p
        .submit(
            &browser,
            &page,
            &[("captcha_id", &captcha_id), ("captcha_answer", &idp_tests::captcha::solve_page(&page))],
        )
        .await;
    p.back_to_rp(&browser, answer, pending, &user).await;

    let stored = p.app.services.store.user_by_id(&user.id).await.unwrap().unwrap();
    assert!(stored.terms_accepted_at.is_some() && stored.activated_at.is_some(), "{stored:?}");
    assert_eq!(p.events(&user, audit::TERMS_ACCEPTED).await, 1);
    assert_eq!(p.events(&user, audit::ACTIVATED).await, 1);
    let (answer, _) = p.sign_in(&Browser::new(), "camille.durand", NEW_PASSWORD).await;
    assert_ne!(answer.location().as_deref(), Some("/first-login"), "the captcha is for the first login only");
}

#[tokio::test]
async fn an_expired_provisional_password_is_refused_like_a_wrong_one() {
    let p = provider(vec![user_type("elu", |_| {})]).await;
    let user = p.user("camille.durand", "elu").await;
    p.make_provisional(&user, 3600).await;

    p.app.clock.advance(3601);

    let (expired, _) = p.sign_in(&Browser::new(), "camille.durand", PROVISIONAL).await;
    let (wrong, _) = p.sign_in(&Browser::new(), "camille.durand", "Pas-le-bon-42").await;
    assert_eq!((expired.status.as_u16(), wrong.status.as_u16()), (401, 401));
    assert!(expired.body.contains(LOGIN_FAILED), "{}", expired.body);
    assert!(expired.set_cookie("idp_first_login").is_none(), "no step flow for an expired password");
}

/// Bonus Eco: the password expires after 90 days; the last 3 are refused.
fn bonus_eco() -> UserType {
    user_type("beneficiaire", |t| {
        t.secret_question = false;
        t.password_policy = PasswordPolicy { max_age_days: Some(90), history: 3, ..PasswordPolicy::default() };
    })
}

/// The Bonus Eco user's password; `PASSWORD`, the one they were created with, is the previous one.
const CURRENT: &str = "Actuel-Sapin-Dore-46";

/// A Bonus Eco user whose history holds `PASSWORD` then `CURRENT`.
async fn bonus_eco_user(p: &Provider) -> User {
    let user = p.user("benoit.leroy", "beneficiaire").await;
    let info = ClientInfo::default();
    let ctx = password_change::Context { reason: Reason::Account, info: &info, keep_sid: None, redeem_token: None };
    let s = &p.app.services;
    password_change::change(s, &user, &Secret::new(CURRENT), &Secret::new(CURRENT), &ctx).await.unwrap();
    s.store.user_by_id(&user.id).await.unwrap().unwrap()
}

#[tokio::test]
async fn an_expired_password_is_changed_at_sign_in_then_the_relying_party_gets_its_code() {
    let p = provider(vec![bonus_eco()]).await;
    let user = bonus_eco_user(&p).await;
    p.app.clock.advance(91 * DAY);
    let browser = Browser::new();

    let (page, pending) = p.sign_in_to_steps(&browser, "benoit.leroy", CURRENT).await;
    assert_step(&page, "password", "Étape 1 sur 1");
    assert!(page_text(&page).contains("Votre mot de passe a expiré"), "{}", page.body);

    let answer = p.submit_password(&browser, &page, NEW_PASSWORD, NEW_PASSWORD).await;
    p.back_to_rp(&browser, answer, pending, &user).await;

    let changes = p.app.services.store.events_for_user(&user.id, audit::PASSWORD_CHANGED, 10).await.unwrap();
    assert!(changes[0].detail.contains("\"expired\""), "{:?}", changes[0]);
    let (answer, _) = p.sign_in(&Browser::new(), "benoit.leroy", NEW_PASSWORD).await;
    assert_ne!(answer.location().as_deref(), Some("/first-login"), "the new password is not expired");
}

#[tokio::test]
async fn the_forced_change_refuses_the_current_password_and_one_of_the_last_three() {
    let p = provider(vec![bonus_eco()]).await;
    let user = bonus_eco_user(&p).await;
    p.app.clock.advance(91 * DAY);
    let browser = Browser::new();
    let (page, _) = p.sign_in_to_steps(&browser, "benoit.leroy", CURRENT).await;

    for (reused, what) in [(CURRENT, "the current password"), (PASSWORD, "a previous password")] {
        let refused = p.submit_password(&browser, &page, reused, reused).await;
        assert_eq!(refused.status, 400, "{what} was accepted: {}", refused.body);
        assert_step(&refused, "password", "Étape 1 sur 1");
        assert!(refused.body.contains(&format!("<li>{HISTORY_RULE}</li>")), "{what}: {}", refused.body);
    }
    let weak = p.submit_password(&browser, &page, "court", "court").await;
    assert!(weak.body.contains("<li>Au moins 8 caractères</li>"), "one message per broken rule: {}", weak.body);
    assert!(p.password_is(&user, CURRENT).await, "a refused password was written");
    assert_eq!(p.events(&user, audit::PASSWORD_CHANGED).await, 1, "only the change of the set-up");
}

#[tokio::test]
async fn a_mismatched_confirmation_is_refused_and_nothing_is_written() {
    let p = provider(vec![user_type("elu", |_| {})]).await;
    let user = p.user("camille.durand", "elu").await;
    p.make_provisional(&user, 7 * DAY).await;
    let browser = Browser::new();
    let (page, _) = p.sign_in_to_steps(&browser, "camille.durand", PROVISIONAL).await;

    let refused = p.submit_password(&browser, &page, NEW_PASSWORD, "Velo-Rouge-Montagne-59").await;

    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("Les deux mots de passe ne sont pas identiques."), "{}", refused.body);
    assert_step(&refused, "password", "Étape 1 sur 2");
    assert!(p.password_is(&user, PROVISIONAL).await);
    assert!(p.app.services.store.user_by_id(&user.id).await.unwrap().unwrap().must_change_password);
}

#[tokio::test]
async fn a_tampered_or_missing_step_cookie_gets_a_themed_page_and_changes_nothing() {
    let p = provider(vec![user_type("elu", |_| {})]).await;
    let user = p.user("camille.durand", "elu").await;
    p.make_provisional(&user, 7 * DAY).await;
    let browser = Browser::new();
    let (answer, _) = p.sign_in(&browser, "camille.durand", PROVISIONAL).await;
    let set_cookie = answer.set_cookie("idp_first_login").expect("the flow's cookie");
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    let secret = cookie_value(&set_cookie).to_owned();
    let tampered = format!("{}{}", &secret[..secret.len() - 1], if secret.ends_with('A') { 'B' } else { 'A' });

    let missing = Browser::new().get(&p.app.url("/first-login")).await;
    assert_themed_error(&missing, 400, EXPIRED);

    // Another browser with a valid CSRF cookie and token of its own, and the tampered secret.
    let other = Browser::new();
    let login_page = other.follow(&p.app.issuer, other.get(&p.rp.start(&[]).url).await).await;
    let csrf_cookie = cookie_value(&login_page.set_cookie("idp_csrf").unwrap()).to_owned();
    let cookies = format!("idp_first_login={tampered}; idp_csrf={csrf_cookie}");
    let jarless =
        Browser { http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap() };
    let shown = jarless.get_with(&p.app.url("/first-login"), &[("cookie", &cookies)]).await;
    assert_themed_error(&shown, 400, EXPIRED);
    let form = [
        ("csrf", login_page.field("csrf").unwrap()),
        ("step", "password".to_owned()),
        ("new_password", NEW_PASSWORD.to_owned()),
        ("confirm_password", NEW_PASSWORD.to_owned()),
    ];
    let posted =
        jarless.send(jarless.http.post(p.app.url("/first-login")).header("cookie", &cookies).form(&form)).await;
    assert_themed_error(&posted, 400, EXPIRED);

    assert!(p.password_is(&user, PROVISIONAL).await, "a tampered flow changed the password");
    assert_step(&p.step_page(&browser).await, "password", "Étape 1 sur 2");
}

#[tokio::test]
async fn a_replayed_burned_or_expired_captcha_is_refused() {
    let p = provider(vec![user_type("robotique", |t| {
        t.secret_question = false;
        t.captcha = CaptchaKind::Arithmetic;
    })])
    .await;
    let first = p.new_account("camille.durand", "robotique").await;
    let second = p.new_account("dominique.petit", "robotique").await;
    let (b1, b2) = (Browser::new(), Browser::new());
    let (page1, pending1) = p.sign_in_to_steps(&b1, "camille.durand", PROVISIONAL).await;
    let (page2, pending2) = p.sign_in_to_steps(&b2, "dominique.petit", PROVISIONAL).await;
    assert_step(&page1, "password", "Étape 1 sur 2");
    assert_back_to_steps(&p.submit_password(&b1, &page1, NEW_PASSWORD, NEW_PASSWORD).await);
    assert_back_to_steps(&p.submit_password(&b2, &page2, NEW_PASSWORD, NEW_PASSWORD).await);
    let (page1, page2) = (p.step_page(&b1).await, p.step_page(&b2).await);
    assert_step(&page1, "captcha", "Étape 2 sur 2");

    let id1 = page1.field("captcha_id").unwrap();
    let right1 = idp_tests::captcha::solve_page(&page1);
    let wrong = (right1.parse::<u32>().unwrap() + 1).to_string();
    let burned = p.submit(&b1, &page1, &[("captcha_id", &id1), ("captcha_answer", &wrong)]).await;
    assert_eq!(burned.status, 400);
    assert!(page_text(&burned).contains("La vérification a échoué ou a expiré."), "{}", burned.body);
    let again = p.submit(&b1, &page1, &[("captcha_id", &id1), ("captcha_answer", &right1)]).await;
    assert_eq!(again.status, 400, "a burned captcha was accepted");

    let id = again.field("captcha_id").unwrap();
    let right = idp_tests::captcha::solve_page(&again);
    let solved = p.submit(&b1, &again, &[("captcha_id", &id), ("captcha_answer", &right)]).await;
    p.back_to_rp(&b1, solved, pending1, &first).await;

    let replayed = p.submit(&b2, &page2, &[("captcha_id", &id), ("captcha_answer", &right)]).await;
    assert_eq!(replayed.status, 400, "a solved captcha was accepted again: {}", replayed.body);
    assert!(p.app.sessions_of(&second.id).await.is_empty());
    let stale_id = replayed.field("captcha_id").unwrap();
    p.app.clock.advance(captcha::LIFETIME_SECONDS + 1);
    let stale = p
        .submit(
            &b2,
            &replayed,
            &[("captcha_id", &stale_id), ("captcha_answer", &idp_tests::captcha::solve_page(&replayed))],
        )
        .await;
    assert_eq!(stale.status, 400, "an expired captcha was accepted: {}", stale.body);
    let id2 = stale.field("captcha_id").unwrap();
    let answer2 = idp_tests::captcha::solve_page(&stale);
    let solved = p.submit(&b2, &stale, &[("captcha_id", &id2), ("captcha_answer", &answer2)]).await;
    p.back_to_rp(&b2, solved, pending2, &second).await;
}

#[tokio::test]
async fn a_second_post_of_the_password_step_goes_to_the_next_step_without_changing_the_password_again() {
    let p = provider(vec![user_type("elu", |_| {})]).await;
    let user = p.user("camille.durand", "elu").await;
    p.make_provisional(&user, 7 * DAY).await;
    let browser = Browser::new();
    let (page, _) = p.sign_in_to_steps(&browser, "camille.durand", PROVISIONAL).await;

    let csrf = page.field("csrf").unwrap();
    let not_current = [("csrf", csrf.as_str()), ("step", "terms"), ("accept_terms", "yes")];
    assert_back_to_steps(&browser.post(&p.app.url("/first-login"), &not_current).await);
    let unknown = [("csrf", csrf.as_str()), ("step", "admin"), ("new_password", "x")];
    assert_back_to_steps(&browser.post(&p.app.url("/first-login"), &unknown).await);
    assert_step(&p.step_page(&browser).await, "password", "Étape 1 sur 2");
    assert_back_to_steps(&p.submit_password(&browser, &page, NEW_PASSWORD, NEW_PASSWORD).await);
    let second_tab = p.submit_password(&browser, &page, "Autre-Chemin-Vert-64", "Autre-Chemin-Vert-64").await;

    assert_back_to_steps(&second_tab);
    assert_step(&p.step_page(&browser).await, "secret_question", "Étape 2 sur 2");
    assert!(p.password_is(&user, NEW_PASSWORD).await, "the second tab changed the password again");
    assert_eq!(p.events(&user, audit::PASSWORD_CHANGED).await, 1);
}

#[tokio::test]
async fn the_forced_change_ends_the_other_sessions_of_the_user() {
    let p = provider(vec![bonus_eco()]).await;
    let user = bonus_eco_user(&p).await;
    p.app.clock.advance(90 * DAY - 3600);
    let elsewhere = Browser::new();
    let (answer, pending) = p.sign_in(&elsewhere, "benoit.leroy", CURRENT).await;
    p.back_to_rp(&elsewhere, answer, pending, &user).await;
    let before = p.app.sessions_of(&user.id).await;
    assert_eq!(before.len(), 1, "signed in on another device before the expiry");

    p.app.clock.advance(2 * 3600);
    let browser = Browser::new();
    let (page, pending) = p.sign_in_to_steps(&browser, "benoit.leroy", CURRENT).await;
    let answer = p.submit_password(&browser, &page, NEW_PASSWORD, NEW_PASSWORD).await;
    p.back_to_rp(&browser, answer, pending, &user).await;

    let after = p.app.sessions_of(&user.id).await;
    assert_eq!(after.len(), 1, "{after:?}");
    assert_ne!(after[0].sid, before[0].sid, "the other device's session survived the forced change");
}

/// Terms only, for a ready account (created with its final password).
fn terms_only(adjust: impl FnOnce(&mut UserType)) -> UserType {
    user_type("agent", |t| {
        t.secret_question = false;
        t.terms = Some(Localized::new("Charte informatique des agents.", "IT charter for staff."));
        adjust(t);
    })
}

#[tokio::test]
async fn a_step_done_in_another_browser_is_not_asked_again() {
    let p = provider(vec![terms_only(|_| {})]).await;
    let user = p.user("camille.durand", "agent").await;
    let (b1, b2) = (Browser::new(), Browser::new());
    let (page1, pending1) = p.sign_in_to_steps(&b1, "camille.durand", PASSWORD).await;
    let (page2, pending2) = p.sign_in_to_steps(&b2, "camille.durand", PASSWORD).await;
    assert_step(&page2, "terms", "Étape 1 sur 1");

    let answer = p.submit(&b1, &page1, &[("accept_terms", "yes")]).await;
    p.back_to_rp(&b1, answer, pending1, &user).await;

    assert_back_to_steps(&p.submit(&b2, &page2, &[("accept_terms", "yes")]).await);
    let ready = p.step_page(&b2).await;
    assert_eq!(ready.field("step").as_deref(), Some("continue"), "{}", ready.body);
    assert!(ready.body.contains("Votre compte est prêt") && !ready.body.contains("Étape"), "{}", ready.body);
    let answer = p.submit(&b2, &ready, &[]).await;
    p.back_to_rp(&b2, answer, pending2, &user).await;
    assert_eq!(p.events(&user, audit::TERMS_ACCEPTED).await, 1, "the terms were recorded twice");
    assert_eq!(p.app.sessions_of(&user.id).await.len(), 2);
}

#[tokio::test]
async fn the_user_type_theme_dresses_the_steps_when_the_client_has_none() {
    let p = provider(vec![terms_only(|t| t.theme = Some("region".into()))]).await;
    p.user("camille.durand", "agent").await;

    let (page, _) = p.sign_in_to_steps(&Browser::new(), "camille.durand", PASSWORD).await;

    assert_eq!(page.stylesheets(), ["/static/region/style.css"]);
    assert!(page.body.contains("Charte informatique des agents."), "{}", page.body);
}

#[tokio::test]
async fn the_steps_end_on_the_account_page_when_the_authorization_request_is_gone() {
    let p = provider(vec![terms_only(|_| {})]).await;
    let user = p.user("camille.durand", "agent").await;
    let browser = Browser::new();
    let login = browser.follow(&p.app.issuer, browser.get(&p.rp.start(&[]).url).await).await;
    let request_id = login.field("request_id").unwrap();
    assert_back_to_steps(&browser.submit_login(&p.app.issuer, &login, "camille.durand", PASSWORD).await);
    let page = p.step_page(&browser).await;

    p.app.services.ephemeral.delete(&format!("authreq:{request_id}")).await.unwrap();
    let answer = p.submit(&browser, &page, &[("accept_terms", "yes")]).await;

    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(answer.location().as_deref(), Some("/account"));
    assert!(answer.set_cookie("idp_session").is_some(), "signed in all the same");
    assert!(answer.set_cookie("idp_first_login").is_some_and(|c| c.contains("Max-Age=0")), "the flow's cookie goes");
    assert_eq!(p.app.sessions_of(&user.id).await.len(), 1);
    assert_themed_error(&browser.get(&p.app.url("/first-login")).await, 400, EXPIRED);
}

#[tokio::test]
async fn an_image_captcha_can_be_swapped_for_an_operation_without_javascript() {
    let p = provider(vec![user_type("robotique", |t| {
        t.secret_question = false;
        t.captcha = CaptchaKind::Image;
    })])
    .await;
    let user = p.new_account("camille.durand", "robotique").await;
    let browser = Browser::new();
    let (page, pending) = p.sign_in_to_steps(&browser, "camille.durand", PROVISIONAL).await;
    assert_back_to_steps(&p.submit_password(&browser, &page, NEW_PASSWORD, NEW_PASSWORD).await);
    let page = p.step_page(&browser).await;
    assert_step(&page, "captcha", "Étape 2 sur 2");
    assert!(page.body.contains("class=\"captcha__image\""), "an image first: {}", page.body);

    let image_id = page.field("captcha_id").unwrap();
    let src = format!("/captcha/{image_id}.png");
    let body = page.body.replace("&#x2F;", "/");
    assert!(body.contains(&format!("src=\"{src}\"")), "the page shows the PNG: {}", page.body);
    let image = reqwest::get(p.app.url(&src)).await.unwrap();
    assert_eq!(image.status(), 200);
    assert_eq!(image.headers()["content-type"], "image/png");
    assert!(image.bytes().await.unwrap().starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    let swapped = p.submit(&browser, &page, &[("captcha_id", &image_id), ("captcha_alternative", "arithmetic")]).await;
    assert_eq!(swapped.status, 200, "{}", swapped.body);
    assert_step(&swapped, "captcha", "Étape 2 sur 2");
    let id = swapped.field("captcha_id").unwrap();
    assert_ne!(id, image_id);

    let answer = p
        .submit(
            &browser,
            &swapped,
            &[("captcha_id", &id), ("captcha_answer", &idp_tests::captcha::solve_page(&swapped))],
        )
        .await;
    p.back_to_rp(&browser, answer, pending, &user).await;
}

#[tokio::test]
async fn two_tabs_posting_the_password_step_at_once_change_the_password_once() {
    let p = provider(vec![user_type("elu", |_| {})]).await;
    let user = p.user("camille.durand", "elu").await;
    p.make_provisional(&user, 7 * DAY).await;
    let browser = Browser::new();
    let (page, _) = p.sign_in_to_steps(&browser, "camille.durand", PROVISIONAL).await;

    let (a, b) = tokio::join!(
        p.submit_password(&browser, &page, NEW_PASSWORD, NEW_PASSWORD),
        p.submit_password(&browser, &page, "Autre-Chemin-Vert-64", "Autre-Chemin-Vert-64"),
    );

    assert_back_to_steps(&a);
    assert_back_to_steps(&b);
    assert_eq!(p.events(&user, audit::PASSWORD_CHANGED).await, 1, "both tabs changed the password");
    assert_step(&p.step_page(&browser).await, "secret_question", "Étape 2 sur 2");
}

/// Bonus Eco from end to end: an administrator creates the account with a provisional password,
/// the owner reads it in the e-mail, signs in at the relying party, chooses a new password and a
/// secret question, and lands back at the relying party with a verified ID token.
#[tokio::test]
async fn bonus_eco_a_mailed_provisional_password_leads_through_the_steps_to_the_relying_party() {
    let p = provider(vec![user_type("beneficiaire", |_| {})]).await;
    let spec = UserSpec {
        login: "camille.durand".into(),
        email: "camille.durand@example.org".into(),
        given_name: "Camille".into(),
        family_name: "Durand".into(),
        user_type: "beneficiaire".into(),
        ..UserSpec::default()
    };
    let (user, sent) = admin::add_user_starting(&p.app.services, &spec, &admin::UserStart::Provisional).await.unwrap();
    assert!(sent.is_some_and(|s| s.mailed), "the provisional password is mailed");
    let mails = idp_tests::mail::read_outbox(&p.app.config.outbox_dir);
    assert_eq!(mails.len(), 1, "{mails:#?}");
    let lines: Vec<&str> = mails[0].text.lines().collect();
    let at = lines.iter().position(|l| l.contains("mot de passe provisoire")).expect("the password label");
    let provisional = lines[at + 1].trim().to_owned();

    let browser = Browser::new();
    let (page, pending) = p.sign_in_to_steps(&browser, "camille.durand", &provisional).await;
    assert_step(&page, "password", "Étape 1 sur 2");
    let answer = p.submit_password(&browser, &page, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_back_to_steps(&answer);
    let page = p.step_page(&browser).await;
    assert_step(&page, "secret_question", "Étape 2 sur 2");
    let answer = p.submit_secret_question(&browser, &page).await;
    p.back_to_rp(&browser, answer, pending, &user).await;

    assert!(p.password_is(&user, NEW_PASSWORD).await);
    let mails = idp_tests::mail::read_outbox(&p.app.config.outbox_dir);
    assert!(mails.iter().any(|m| m.subject == "Votre mot de passe a été modifié"), "the change is confirmed by mail");
    let (refused, _) = p.sign_in(&Browser::new(), "camille.durand", &provisional).await;
    assert_eq!(refused.status, 401, "the provisional password is gone");
}

#[tokio::test]
async fn a_new_version_of_the_terms_is_asked_again_at_the_next_sign_in_and_links_its_document() {
    let p = provider(vec![terms_only(|t| {
        t.terms_version = Some("2026-09".into());
        t.terms_url = Some("https://www.uphf.fr/reglement-interieur.pdf".into());
    })])
    .await;
    let s = &p.app.services;
    let user = p.user("camille.durand", "agent").await;
    let link = "href=\"https://www.uphf.fr/reglement-interieur.pdf\"";

    // Never accepted: the ordinary introduction, the document linked beside the box.
    let (page, pending) = p.sign_in_to_steps(&Browser::new(), "camille.durand", PASSWORD).await;
    assert_step(&page, "terms", "Étape 1 sur 1");
    let body = page.body.replace("&#x2F;", "/");
    assert!(body.contains(link) && body.contains("Lire le document complet"), "{}", page.body);
    assert!(!page_text(&page).contains("ont changé"), "{}", page.body);
    drop(pending);

    // Accepted an earlier version, or before versions were recorded: asked again, saying why.
    for earlier in [Some("2025-09"), None] {
        s.store.accept_terms(&user.id, s.now() - DAY, earlier).await.unwrap();
        let browser = Browser::new();
        let (page, pending) = p.sign_in_to_steps(&browser, "camille.durand", PASSWORD).await;
        assert_step(&page, "terms", "Étape 1 sur 1");
        assert!(page_text(&page).contains("Les conditions d'utilisation ont changé"), "{earlier:?}: {}", page.body);
        let answer = p.submit(&browser, &page, &[("accept_terms", "yes")]).await;
        p.back_to_rp(&browser, answer, pending, &user).await;
        let stored = s.store.user_by_id(&user.id).await.unwrap().unwrap();
        assert_eq!(stored.terms_version.as_deref(), Some("2026-09"), "{earlier:?}");
    }

    // The current version accepted: the next sign-in goes straight back to the relying party.
    let browser = Browser::new();
    let (answer, pending) = p.sign_in(&browser, "camille.durand", PASSWORD).await;
    assert_ne!(answer.location().as_deref(), Some("/first-login"), "asked again: {}", answer.body);
    p.back_to_rp(&browser, answer, pending, &user).await;
    assert_eq!(p.events(&user, audit::TERMS_ACCEPTED).await, 2);
}

#[tokio::test]
async fn the_steps_go_on_in_the_language_of_the_login_page() {
    let p = provider(vec![terms_only(|_| {})]).await;
    p.user("camille.durand", "agent").await;
    for (lang, title, other) in
        [("en", "Terms of use", "Conditions d'utilisation"), ("fr", "Conditions d'utilisation", "Terms of use")]
    {
        let browser = Browser::new();
        let pending = p.rp.start(&["profile"]);
        let login = browser.follow(&p.app.issuer, browser.get(&pending.url).await).await;
        // The person switched the login page's language; the request has no ui_locales.
        let login = browser.get(&format!("{}&lang={lang}", login.url)).await;
        assert_eq!(login.status, 200, "{}", login.body);
        let answer = browser.submit_login(&p.app.issuer, &login, "camille.durand", PASSWORD).await;
        assert_eq!(answer.location().as_deref(), Some("/first-login"), "{}", answer.body);
        let page = p.step_page(&browser).await;
        let text = page_text(&page);
        assert!(text.contains(&format!("<html lang=\"{lang}\"")), "{lang}: {}", page.body);
        assert!(text.contains(title) && !text.contains(other), "{lang}: {}", page.body);
    }
}
