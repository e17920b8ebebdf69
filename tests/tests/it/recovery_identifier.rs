//! The forgotten identifier (issue #5): Ségur Numérique's reminder (e-mail, arithmetic captcha,
//! secret question, one mail listing every account of the address), and the consular renewal
//! (NUMIC + e-mail, single-use link by e-mail, code by SMS, a new identifier shown once), from the
//! first page to a sign-in at a relying party; and what must not work: unknown accounts (same
//! pages, nothing sent), brute-forced SMS codes, expired and reused links, floods.

use crate::recovery_pages::FlowPages;
use idp::account::login::{self, LoginOutcome};
use idp::account::{audit, secret_question};
use idp::admin::{self, UserSpec};
use idp::domain::user_type::{CaptchaKind, IdentifierRecovery, IdentifyBy, Localized, RecoveryRule, UserType};
use idp::domain::{Secret, User};
use idp::session::ClientInfo;
use idp_tests::browser::{Page, query};
use idp_tests::mail::{Mail, read_outbox};
use idp_tests::rp::Rp;
use idp_tests::{Browser, PASSWORD, RP_CALLBACK, Setup, TestApp};
use openidconnect::TokenResponse;

const SEGUR: &str = "segur";
const STAFF: &str = "personnel";
const CONSULAR: &str = "electeur";
const QUESTION: &str = "Quel est le nom de votre premier animal ?";
const ANSWER: &str = "Médor";
const NUMIC: &str = "FR1234567890";
const PHONE: &str = "+33612345678";
const REMINDER_SUBJECT: &str = "Votre identifiant de connexion";
const RENEWAL_SUBJECT: &str = "Renouvellement de votre identifiant";
const MAIL_SENT: &str = "Procédure terminée, merci de vérifier votre boîte aux lettres.";
const LINK_SENT: &str = "Un courriel vient de vous être envoyé à l'adresse électronique que vous avez renseignée.";
const SMS_STEP: &str = "vous devez renseigner le code qui vous a été envoyé par SMS";
const NEW_IDENTIFIER: &str = "Votre nouvel identifiant est";
const ALREADY_SHOWN: &str = "Votre nouvel identifiant a déjà été affiché";
const LINK_INVALID: &str = "Ce lien n'est plus valable";

fn segur_type() -> UserType {
    let mut t = UserType::default_usager();
    t.id = SEGUR.into();
    t.label = Localized::new("Je suis un fournisseur ou un opérateur", "I am a supplier or an operator");
    // Ségur: a secret question set at the first login, asked to recover.
    t.secret_question = true;
    t.recovery = RecoveryRule {
        captcha: CaptchaKind::Arithmetic,
        ask_secret_question: true,
        identifier: IdentifierRecovery::Email,
        ..RecoveryRule::default()
    };
    t
}

fn consular_type() -> UserType {
    let mut t = UserType::default_usager();
    t.id = CONSULAR.into();
    t.label = Localized::new("Je suis électeur à l'étranger", "I vote abroad");
    t.recovery = RecoveryRule {
        captcha: CaptchaKind::None,
        ask_secret_question: false,
        identifier: IdentifierRecovery::NewIdentifier,
        alternate_id_kinds: vec!["consular_number".into()],
        alternate_id_label: Localized::new("NUMIC", "NUMIC"),
        ..RecoveryRule::default()
    };
    t
}

/// UPHF "Récupérer mon identifiant": staff number and date of birth, no question.
fn staff_type() -> UserType {
    let mut t = UserType::default_usager();
    t.id = STAFF.into();
    t.label = Localized::new("Je suis un personnel", "I am staff");
    t.recovery = RecoveryRule {
        captcha: CaptchaKind::None,
        ask_secret_question: false,
        identify_by: vec![IdentifyBy::AlternateId],
        alternate_id_kinds: vec!["staff_number".into()],
        birth_date: true,
        ..RecoveryRule::default()
    };
    t
}

struct Provider {
    app: TestApp,
    rp: Rp,
}

async fn provider(adjust: impl FnOnce(&mut idp::config::RawConfig) + Send + 'static) -> Provider {
    let app = TestApp::spawn_with(Setup {
        tweak: Box::new(move |raw| {
            raw.user_types = vec![UserType::default_usager(), segur_type(), consular_type(), staff_type()];
            raw.recovery.min_response_ms = 0;
            adjust(raw);
        }),
        ..Setup::default()
    })
    .await;
    let (client, secret) = app.confidential_client("portail", RP_CALLBACK).await;
    let rp = Rp::discover(&app.issuer, &client.id, Some(&secret), RP_CALLBACK).await;
    Provider { app, rp }
}

fn page_text(page: &Page) -> String {
    page.body.replace("&#x27;", "'")
}

/// The answer to the page's arithmetic captcha, as a person would compute it.
impl Provider {
    async fn user(&self, login: &str, email: &str, user_type: &str, phone: Option<&str>) -> User {
        let spec = UserSpec {
            login: login.into(),
            email: email.into(),
            given_name: "Claire".into(),
            family_name: "Dupont".into(),
            user_type: user_type.into(),
            phone_number: phone.map(str::to_owned),
            ..UserSpec::default()
        };
        let user = admin::add_user(&self.app.services, &spec, &Secret::new(PASSWORD)).await.unwrap();
        // Namesakes are told apart by age: the next account is a second younger.
        self.app.clock.advance(1);
        user
    }

    async fn elector(&self) -> User {
        let user = self.user("jean.martin", "jean.martin@example.org", CONSULAR, Some(PHONE)).await;
        let s = &self.app.services;
        let numic = [("consular_number".to_owned(), NUMIC.to_owned())];
        s.store.set_recovery_profile(&user.id, None, &numic, s.now()).await.unwrap();
        user
    }

    fn url(&self, path: &str) -> String {
        self.app.url(path)
    }

    fn pages(&self) -> FlowPages<'_> {
        FlowPages { app: &self.app, path: "/recovery/identifier" }
    }

    async fn first_page(&self, browser: &Browser, user_type: &str) -> Page {
        self.pages().first_page(browser, user_type).await
    }

    async fn submit(&self, browser: &Browser, page: &Page, fields: &[(&str, &str)]) -> Page {
        self.pages().submit(browser, page, fields).await
    }

    async fn next(&self, browser: &Browser, answer: &Page) -> Page {
        self.pages().next(browser, answer).await
    }

    fn mails(&self, subject: &str) -> Vec<Mail> {
        read_outbox(&self.app.config.outbox_dir).into_iter().filter(|m| m.subject == subject).collect()
    }

    /// Every SMS written to the outbox, as (to, text).
    fn sms(&self) -> Vec<(String, String)> {
        let dir = self.app.config.data_dir.join("sms-outbox");
        let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
        entries
            .map(|e| {
                let body: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(e.unwrap().path()).unwrap()).unwrap();
                (body["to"].as_str().unwrap().to_owned(), body["text"].as_str().unwrap().to_owned())
            })
            .collect()
    }

    /// The 6-digit code of the only SMS sent so far.
    fn sms_code(&self) -> String {
        let sms = self.sms();
        assert_eq!(sms.len(), 1, "expected one SMS: {sms:?}");
        assert_eq!(sms[0].0, PHONE);
        let code: String = sms[0].1.chars().filter(char::is_ascii_digit).collect();
        assert_eq!(code.len(), 6, "a 6-digit code in {:?}", sms[0].1);
        code
    }

    /// Ségur's first page: the e-mail and the captcha. Returns the next page.
    async fn ask_reminder(&self, browser: &Browser, email: &str) -> Page {
        let page = self.first_page(browser, SEGUR).await;
        assert!(page_text(&page).contains("Veuillez résoudre l'opération suivante"), "{}", page.body);
        let captcha_id = page.field("captcha_id").unwrap();
        let answer = idp_tests::captcha::solve_page(&page);
        let fields = [
            ("step", "form"),
            ("user_type", SEGUR),
            ("email", email),
            ("captcha_id", captcha_id.as_str()),
            ("captcha_answer", answer.as_str()),
        ];
        let answer = self.submit(browser, &page, &fields).await;
        self.next(browser, &answer).await
    }

    /// The consular first page: NUMIC and e-mail. Returns the answer to the POST.
    async fn ask_renewal(&self, browser: &Browser, numic: &str, email: &str) -> Page {
        let page = self.first_page(browser, CONSULAR).await;
        assert!(page.body.contains("NUMIC"), "the alternate identifier's label: {}", page.body);
        let fields = [("step", "form"), ("user_type", CONSULAR), ("alternate_id", numic), ("email", email)];
        self.submit(browser, &page, &fields).await
    }

    /// The link of the only renewal mail.
    fn renewal_link(&self) -> String {
        let mails = self.mails(RENEWAL_SUBJECT);
        assert_eq!(mails.len(), 1, "expected one renewal mail: {mails:#?}");
        assert_eq!(mails[0].to, "jean.martin@example.org");
        let prefix = self.url("/recovery/identifier/renew?t=");
        let link = mails[0].text.lines().find(|l| l.starts_with(&prefix)).expect("the link in the mail").trim();
        assert!(mails[0].html.contains(link.rsplit('=').next().unwrap()), "the HTML part has the same link");
        link.to_owned()
    }

    /// Opens the link and expects the SMS code step.
    async fn open_link(&self, browser: &Browser, link: &str) -> Page {
        let opened = browser.get(link).await;
        let page = self.next(browser, &opened).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page_text(&page).contains(SMS_STEP), "the SMS step: {}", page.body);
        assert!(page.body.contains("Étape 3 sur 4"), "{}", page.body);
        page
    }

    async fn submit_code(&self, browser: &Browser, page: &Page, code: &str) -> Page {
        self.submit(browser, page, &[("step", "sms_code"), ("code", code)]).await
    }

    async fn accepts(&self, login: &str) -> bool {
        let outcome =
            login::authenticate(&self.app.services, login, &Secret::new(PASSWORD), &ClientInfo::default(), "test")
                .await
                .unwrap();
        matches!(outcome, LoginOutcome::Success { .. })
    }

    /// Signs in at the relying party with `login` and checks the ID token names `user`.
    async fn signs_in_at_rp(&self, browser: &Browser, login: &str, user: &User) {
        let pending = self.rp.start(&["profile"]);
        let callback = browser.authorize(&self.app.issuer, &pending.url, login, PASSWORD).await;
        assert!(callback.starts_with(RP_CALLBACK), "redirected to {callback}");
        let params = query(&callback);
        let tokens = self.rp.exchange(&params["code"], pending.verifier).await.expect("the code exchanges");
        let verifier = self.rp.client.id_token_verifier();
        let claims = tokens.id_token().unwrap().claims(&verifier, &pending.nonce).expect("the ID token verifies");
        assert_eq!(claims.subject().as_str(), user.id);
    }

    async fn events(&self, user: &User, kind: &str) -> usize {
        let events = self.app.services.store.events_for_user(&user.id, kind, 100).await.unwrap();
        events.iter().filter(|e| e.kind == kind).count()
    }
}

/// The new identifier shown on `page`.
fn shown_identifier(page: &Page) -> String {
    let start = page.body.find("id=\"new-identifier\"><code>").expect("the new identifier") + 26;
    page.body[start..start + page.body[start..].find('<').unwrap()].to_owned()
}

#[tokio::test]
async fn segur_forgot_identifier_lists_namesakes() {
    let p = provider(|_| {}).await;
    let claire = p.user("claire.dupont", "claire.dupont@example.org", SEGUR, None).await;
    let namesake = p.user("claire.dupont2", "claire.dupont@example.org", SEGUR, None).await;
    for user in [&claire, &namesake] {
        secret_question::set(&p.app.services, &user.id, QUESTION, &Secret::new(ANSWER)).await.unwrap();
    }
    let browser = Browser::new();

    let page = p.ask_reminder(&browser, "Claire.Dupont@example.org").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Étape 2 sur 3"), "{}", page.body);
    assert!(page_text(&page).contains(QUESTION), "the oldest account's question: {}", page.body);
    assert!(p.mails(REMINDER_SUBJECT).is_empty(), "nothing is sent before the answer");

    let answer = p.submit(&browser, &page, &[("step", "secret_question"), ("secret_answer", "médor")]).await;
    let page = p.next(&browser, &answer).await;
    assert!(page.body.contains(MAIL_SENT), "{}", page.body);
    assert!(page.body.contains("Étape 3 sur 3"), "{}", page.body);

    let mails = p.mails(REMINDER_SUBJECT);
    assert_eq!(mails.len(), 1, "one mail for the address: {mails:#?}");
    assert_eq!(mails[0].to, "claire.dupont@example.org");
    for login in ["claire.dupont", "claire.dupont2"] {
        assert!(mails[0].text.lines().any(|l| l.trim() == login), "{login} is listed: {}", mails[0].text);
        assert!(mails[0].html.contains(&format!(">{login}</strong>")), "{}", mails[0].html);
    }
    assert_eq!(p.events(&claire, audit::IDENTIFIER_SENT).await, 1);

    let refreshed = browser.get(&p.url("/recovery/identifier?continue=1")).await;
    assert!(refreshed.body.contains(MAIL_SENT), "a refresh shows the same end: {}", refreshed.body);
    assert_eq!(p.mails(REMINDER_SUBJECT).len(), 1, "a refresh sends nothing");

    p.signs_in_at_rp(&Browser::new(), "claire.dupont2", &namesake).await;
}

#[tokio::test]
async fn a_wrong_secret_answer_ends_the_same_way_and_sends_nothing() {
    let p = provider(|_| {}).await;
    let claire = p.user("claire.dupont", "claire.dupont@example.org", SEGUR, None).await;
    secret_question::set(&p.app.services, &claire.id, QUESTION, &Secret::new(ANSWER)).await.unwrap();
    let browser = Browser::new();

    let page = p.ask_reminder(&browser, "claire.dupont@example.org").await;
    let answer = p.submit(&browser, &page, &[("step", "secret_question"), ("secret_answer", "Rex")]).await;
    let page = p.next(&browser, &answer).await;

    assert!(page.body.contains(MAIL_SENT), "{}", page.body);
    assert!(p.mails(REMINDER_SUBJECT).is_empty());
    assert_eq!(p.events(&claire, audit::RECOVERY_SECRET_FAILED).await, 1);
}

#[tokio::test]
async fn an_unknown_address_gets_the_same_pages_and_no_mail() {
    let p = provider(|_| {}).await;
    let claire = p.user("claire.dupont", "claire.dupont@example.org", SEGUR, None).await;
    secret_question::set(&p.app.services, &claire.id, QUESTION, &Secret::new(ANSWER)).await.unwrap();
    let browser = Browser::new();

    let page = p.ask_reminder(&browser, "personne@example.org").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Étape 2 sur 3"), "a (decoy) question step too: {}", page.body);
    assert!(page.body.contains("name=\"secret_answer\""), "{}", page.body);
    let answer = p.submit(&browser, &page, &[("step", "secret_question"), ("secret_answer", ANSWER)]).await;
    let page = p.next(&browser, &answer).await;

    assert!(page.body.contains(MAIL_SENT), "{}", page.body);
    assert!(read_outbox(&p.app.config.outbox_dir).is_empty(), "nothing is sent for an unknown address");
}

#[tokio::test]
async fn consular_new_identifier() {
    let p = provider(|_| {}).await;
    let elector = p.elector().await;
    p.signs_in_at_rp(&Browser::new(), "jean.martin", &elector).await;
    assert_eq!(p.app.sessions_of(&elector.id).await.len(), 1);
    let browser = Browser::new();

    let answer = p.ask_renewal(&browser, NUMIC, "Jean.Martin@example.org").await;
    let page = p.next(&browser, &answer).await;
    assert!(page_text(&page).contains(LINK_SENT), "{}", page.body);
    assert!(page.body.contains("Étape 2 sur 4"), "{}", page.body);
    let link_sent = page.body.clone();
    let link = p.renewal_link();
    assert!(p.sms().is_empty(), "the SMS waits for the link");

    // Opened on another device; a refresh or a second opening sends no second SMS.
    let phone = Browser::new();
    let page = p.open_link(&phone, &link).await;
    p.open_link(&phone, &link).await;
    p.open_link(&Browser::new(), &link).await;
    let code = p.sms_code();

    let shown = p.submit_code(&phone, &page, &code).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(shown.body.contains(NEW_IDENTIFIER), "{}", shown.body);
    assert!(page_text(&shown).contains("Copiez-le et conservez-le en lieu sûr, il ne vous sera pas renvoyé"));
    let new_identifier = shown_identifier(&shown);
    assert_eq!(new_identifier.len(), 12, "{new_identifier}");
    // One heading throughout the renewal, and a copy button for the identifier (issue #13,
    // item 11): the form, the link-sent page, the SMS step, the identifier and the end.
    let form = p.first_page(&Browser::new(), CONSULAR).await;
    for body in [&form.body, &link_sent, &page.body, &shown.body] {
        assert!(body.contains("<h1>Renouvellement de votre identifiant</h1>"), "{body}");
        assert!(
            !body.contains("J&#x27;ai oublié mon identifiant") && !body.contains("J'ai oublié mon identifiant"),
            "{body}"
        );
    }
    assert!(shown.body.contains(r#"data-copy="new-identifier""#), "{}", shown.body);
    assert!(shown.body.contains("Copier l’identifiant"), "{}", shown.body);
    assert!(shown.body.contains(r#"id="copy-status" role="status""#), "{}", shown.body);
    assert!(new_identifier.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()), "{new_identifier}");
    let stored = p.app.services.store.user_by_id(&elector.id).await.unwrap().unwrap();
    assert_eq!(stored.login, new_identifier);
    assert_eq!(p.events(&elector, audit::IDENTIFIER_RENEWED).await, 1);
    assert_eq!(p.app.sessions_of(&elector.id).await.len(), 1, "existing sessions stay valid");

    let refreshed = browser_get_continue(&p, &phone).await;
    assert!(page_text(&refreshed).contains(ALREADY_SHOWN), "{}", refreshed.body);
    assert!(!refreshed.body.contains(&new_identifier), "shown once only: {}", refreshed.body);
    let reposted = p.next(&phone, &p.submit_code(&phone, &page, &code).await).await;
    assert!(page_text(&reposted).contains(ALREADY_SHOWN), "{}", reposted.body);
    assert!(!reposted.body.contains(&new_identifier), "a re-POST does not show it again: {}", reposted.body);

    let reused = Browser::new().get(&link).await;
    assert_eq!(reused.status, 410, "the link is single use: {}", reused.body);
    assert!(page_text(&reused).contains(LINK_INVALID), "{}", reused.body);

    assert!(!p.accepts("jean.martin").await, "the old identifier no longer signs in");
    assert!(p.accepts(&new_identifier).await, "the new identifier with the old password");
    p.signs_in_at_rp(&Browser::new(), &new_identifier, &elector).await;
}

async fn browser_get_continue(p: &Provider, browser: &Browser) -> Page {
    let page = browser.get(&p.url("/recovery/identifier?continue=1")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    page
}

#[tokio::test]
async fn a_numic_with_another_address_or_unknown_gets_the_same_page_and_no_mail() {
    let p = provider(|_| {}).await;
    p.elector().await;
    p.user("paul.durand", "paul.durand@example.org", CONSULAR, Some(PHONE)).await;

    let mut pages = Vec::new();
    for (numic, email) in [
        (NUMIC, "paul.durand@example.org"),
        ("FR0000000000", "jean.martin@example.org"),
        (NUMIC, "jean.martin@example.org"),
    ] {
        let browser = Browser::new();
        let answer = p.ask_renewal(&browser, numic, email).await;
        assert_eq!(answer.status, 303);
        let page = p.next(&browser, &answer).await;
        assert!(page_text(&page).contains(LINK_SENT), "{}", page.body);
        pages.push((answer.location(), page.status));
    }
    assert!(pages.windows(2).all(|w| w[0] == w[1]), "the same answer every time: {pages:?}");
    assert_eq!(read_outbox(&p.app.config.outbox_dir).len(), 1, "only the matching pair got a mail");
    p.renewal_link();
}

#[tokio::test]
async fn five_wrong_sms_codes_kill_the_code_and_the_link() {
    let p = provider(|_| {}).await;
    let elector = p.elector().await;
    let browser = Browser::new();
    p.ask_renewal(&browser, NUMIC, "jean.martin@example.org").await;
    let link = p.renewal_link();
    let page = p.open_link(&browser, &link).await;
    let code = p.sms_code();
    let wrong = if code == "000000" { "111111" } else { "000000" };

    for left in (1..=4).rev() {
        let refused = p.submit_code(&browser, &page, wrong).await;
        assert_eq!(refused.status, 400, "{}", refused.body);
        assert!(refused.body.contains(&format!("Essais restants\u{a0}: {left}")), "{left} left: {}", refused.body);
    }
    let dead = p.submit_code(&browser, &page, wrong).await;
    assert_eq!(dead.status, 400, "{}", dead.body);
    assert!(page_text(&dead).contains("Trop de codes erronés"), "{}", dead.body);

    let late = p.submit_code(&browser, &page, &code).await;
    assert!(!late.body.contains(NEW_IDENTIFIER), "the right code comes too late: {}", late.body);
    let reopened = Browser::new().get(&link).await;
    assert_eq!(reopened.status, 410, "the link died with its code: {}", reopened.body);
    let stored = p.app.services.store.user_by_id(&elector.id).await.unwrap().unwrap();
    assert_eq!(stored.login, "jean.martin");
    assert_eq!(p.events(&elector, audit::RECOVERY_CODE_FAILED).await, 5);
}

#[tokio::test]
async fn an_expired_renewal_link_offers_to_start_again() {
    let p = provider(|_| {}).await;
    p.elector().await;
    p.ask_renewal(&Browser::new(), NUMIC, "jean.martin@example.org").await;
    let link = p.renewal_link();

    p.app.clock.advance(p.app.config.recovery.code_lifetime + 1);
    let page = Browser::new().get(&link).await;

    assert_eq!(page.status, 410, "{}", page.body);
    assert!(page_text(&page).contains(LINK_INVALID), "{}", page.body);
    let unescaped = page.body.replace("&#x2F;", "/").replace("&amp;", "&");
    assert!(unescaped.contains("href=\"/recovery/identifier?user_type=electeur&"), "a restart link: {}", page.body);
    assert!(p.sms().is_empty(), "no SMS for an expired link");
}

#[tokio::test]
async fn renewal_requests_are_rate_limited_per_address_known_or_not() {
    let p = provider(|raw| raw.recovery.limit_per_email = 2).await;
    p.elector().await;

    for email in ["jean.martin@example.org", "nobody@example.org"] {
        for _ in 0..2 {
            assert_eq!(p.ask_renewal(&Browser::new(), NUMIC, email).await.status, 303);
        }
        let refused = p.ask_renewal(&Browser::new(), NUMIC, email).await;
        assert_eq!(refused.status, 429, "{}", refused.body);
        assert!(refused.body.contains("Trop de demandes"), "a themed page: {}", refused.body);
    }
    assert_eq!(p.mails(RENEWAL_SUBJECT).len(), 2, "the refused request sent nothing");
}

#[tokio::test]
async fn uphf_forgot_identifier_by_staff_number_needs_the_right_birth_date() {
    let p = provider(|_| {}).await;
    let agent = p.user("p.lefebvre", "pauline.lefebvre@example.org", STAFF, None).await;
    let s = &p.app.services;
    let staff_number = [("staff_number".to_owned(), "P04512".to_owned())];
    s.store.set_recovery_profile(&agent.id, Some("1984-03-07"), &staff_number, s.now()).await.unwrap();

    for (birth_date, mails) in [("1984-07-03", 0), ("1984-03-07", 1)] {
        let browser = Browser::new();
        let page = p.first_page(&browser, STAFF).await;
        assert!(page.body.contains("Numéro personnel") && page.body.contains("name=\"birth_date\""), "{}", page.body);
        let fields = [("step", "form"), ("user_type", STAFF), ("alternate_id", "P04512"), ("birth_date", birth_date)];
        let answer = p.submit(&browser, &page, &fields).await;
        let page = p.next(&browser, &answer).await;
        assert!(page.body.contains(MAIL_SENT) && page.body.contains("Étape 2 sur 2"), "{}", page.body);
        let sent = p.mails(REMINDER_SUBJECT);
        assert_eq!(sent.len(), mails, "born {birth_date}: {sent:#?}");
    }
    let mail = &p.mails(REMINDER_SUBJECT)[0];
    assert_eq!(mail.to, "pauline.lefebvre@example.org");
    assert!(mail.text.lines().any(|l| l.trim() == "p.lefebvre"), "{}", mail.text);
}

#[tokio::test]
async fn the_login_page_leads_to_the_identifier_form_of_the_chosen_type_for_the_same_request() {
    let p = provider(|_| {}).await;
    let browser = Browser::new();
    let pending = p.rp.start(&["profile"]);
    let login_page = browser.follow(&p.app.issuer, browser.get(&pending.url).await).await;
    let request_id = login_page.field("request_id").expect("the login page names its request");

    let link = login_page.link_with("/recovery/identifier").expect("an \"Identifiant oublié ?\" link");
    let selector = browser.get(&p.url(&link)).await;
    assert_eq!(selector.status, 200, "{}", selector.body);
    let choice = selector.link_with("user_type=segur").expect("the Ségur type in the selector");
    let form = browser.get(&p.url(&choice)).await;

    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("Étape 1 sur 3") && form.body.contains("name=\"email\""), "{}", form.body);
    assert_eq!(form.field("request_id"), Some(request_id.clone()), "the form keeps the request");
    assert_eq!(form.field("user_type").as_deref(), Some(SEGUR));
    let back = form.link_with("btn--tertiary").expect("a way back to the login page");
    assert!(back.starts_with("/login?") && back.contains(&request_id), "{back}");
}
