//! The forgotten password (issue #5), as the seed portals do it, from the user-type selector to
//! a sign-in with the new password: Nouvelle-Aquitaine's security code, Ségur Numérique's
//! single-use link (from another device), Bonus Eco's provisional password, UPHF Sésame's
//! student number and date of birth; and what must not work: unknown accounts (same pages,
//! nothing sent), brute-forced, expired and reused codes and links, floods, forged forms.

use crate::recovery_pages::FlowPages;
use idp::account::login::{self, LoginOutcome};
use idp::account::{audit, secret_question};
use idp::admin::{self, ClientSpec, UserSpec};
use idp::domain::client::ClientSettings;
use idp::domain::user_type::MissingSecretNotice;
use idp::domain::{Secret, User};
use idp::session::ClientInfo;
use idp_tests::browser::{Page, query};
use idp_tests::mail::{Mail, read_outbox};
use idp_tests::rp::{Pending, Rp};
use idp_tests::{Browser, PASSWORD, RP_CALLBACK, Setup, TestApp};
use openidconnect::TokenResponse;

mod limits;
mod login_hint;
mod mail_language;
mod missing_secrets;

const NEW_PASSWORD: &str = "Velo-Rouge-Montagne-58";
const QUESTION: &str = "Quel est le nom de votre premier animal ?";
const ANSWER: &str = "Médor";
const CODE_SUBJECT: &str = "Votre code de sécurité";
const LINK_SUBJECT: &str = "Réinitialisation de votre mot de passe";
const PROVISIONAL_SUBJECT: &str = "Votre mot de passe provisoire";
const CHANGED_SUBJECT: &str = "Votre mot de passe a été modifié";
const SELECTOR: &str = "Pour vous diriger vers le bon service, cliquez sur le cas qui vous concerne";
const CODE_PAGE: &str = "Pour vérifier votre identité, un code de sécurité a été envoyé à votre adresse de messagerie. Veuillez entrer le code de sécurité ici.";
const MAIL_SENT: &str = "Procédure terminée, merci de vérifier votre boîte aux lettres.";
const CODE_DEAD: &str = "Ce code n'est plus valide.";
const LINK_INVALID: &str = "Ce lien n'est plus valide";
const LINK_EXPIRED: &str = "Ce lien a expiré.";
const SUCCESS: &str = "Votre mot de passe a été modifié.";
const THROTTLED: &str = "Trop de demandes ont été faites.";

struct Provider {
    app: TestApp,
    rp: Rp,
}

/// The user types of `deploy/seed-portals.example.toml` (and its `[recovery]` support text),
/// with `adjust` on top.
async fn provider(adjust: impl FnOnce(&mut idp::config::RawConfig) + Send + 'static) -> Provider {
    let app = TestApp::spawn_with(Setup {
        tweak: Box::new(move |raw| {
            let seeds =
                idp::config::Config::from_sources(include_str!("../../../deploy/seed-portals.example.toml"), &[])
                    .expect("the seed portals example is valid");
            raw.user_types = seeds.user_types.all().to_vec();
            raw.recovery.support = seeds.recovery.support.clone();
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

fn text(page: &Page) -> String {
    page.body.replace("&#x27;", "'").replace("&#x2F;", "/").replace("&amp;", "&")
}

/// The answer to the page's arithmetic captcha, as a person would compute it.
/// The first `href` of `page` that starts with `prefix`, unescaped.
fn href(page: &Page, prefix: &str) -> Option<String> {
    let body = text(page);
    let marker = format!("href=\"{prefix}");
    let at = body.find(&marker)? + 6;
    let end = body[at..].find('"')?;
    Some(body[at..at + end].to_owned())
}

impl Provider {
    fn url(&self, path: &str) -> String {
        self.app.url(path)
    }

    fn pages(&self) -> FlowPages<'_> {
        FlowPages { app: &self.app, path: "/recovery/password" }
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

    async fn user(&self, login: &str, email: &str, user_type: &str) -> User {
        let spec = UserSpec {
            login: login.into(),
            email: email.into(),
            given_name: "Claire".into(),
            family_name: "Dupont".into(),
            user_type: user_type.into(),
            ..UserSpec::default()
        };
        admin::add_user(&self.app.services, &spec, &Secret::new(PASSWORD)).await.unwrap()
    }

    async fn with_question(&self, user: &User) {
        secret_question::set(&self.app.services, &user.id, QUESTION, &Secret::new(ANSWER)).await.unwrap();
    }

    fn mails(&self, subject: &str) -> Vec<Mail> {
        read_outbox(&self.app.config.outbox_dir).into_iter().filter(|m| m.subject == subject).collect()
    }

    fn all_mails(&self) -> Vec<Mail> {
        read_outbox(&self.app.config.outbox_dir)
    }

    /// The code of the only security-code mail, checked in both parts and in its link.
    fn code(&self) -> String {
        let mails = self.mails(CODE_SUBJECT);
        assert_eq!(mails.len(), 1, "expected one code mail: {mails:#?}");
        let code = newest_code(self, &[]);
        assert!(mails[0].html.contains(&code), "the HTML part has the code too");
        assert!(mails[0].text.contains(&format!("&c={code}")), "the mail's link carries the same code");
        code
    }

    /// The links of the reset-link mails, in no particular order.
    fn links(&self, subject: &str) -> Vec<String> {
        let prefix = self.url("/recovery/password/link?");
        self.mails(subject)
            .iter()
            .map(|m| m.text.lines().map(str::trim).find(|l| l.starts_with(&prefix)).expect("a link").to_owned())
            .collect()
    }

    /// Fills the first page: identifier (and date of birth), and the captcha when there is one.
    async fn identify(&self, browser: &Browser, page: &Page, identifier: &str, birth_date: Option<&str>) -> Page {
        let user_type = page.field("user_type").unwrap();
        let mut fields =
            vec![("action", "identify".to_owned()), ("user_type", user_type), ("identifier", identifier.into())];
        if let Some(request_id) = page.field("request_id") {
            fields.push(("request_id", request_id));
        }
        if let Some(born) = birth_date {
            fields.push(("birth_date", born.into()));
        }
        if let Some(id) = page.field("captcha_id") {
            fields.push(("captcha_answer", idp_tests::captcha::solve_page(page)));
            fields.push(("captcha_id", id));
        }
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.submit(browser, page, &fields).await
    }

    async fn answer_question(&self, browser: &Browser, page: &Page, answer: &str) -> Page {
        assert!(text(page).contains(QUESTION) || page.body.contains("secret_answer"), "the question: {}", page.body);
        let answer = self.submit(browser, page, &[("action", "answer"), ("secret_answer", answer)]).await;
        self.next(browser, &answer).await
    }

    async fn verify(&self, browser: &Browser, page: &Page, code: &str) -> Page {
        self.submit(browser, page, &[("action", "verify"), ("code", code)]).await
    }

    async fn new_password(&self, browser: &Browser, page: &Page, password: &str) -> Page {
        assert!(page.body.contains("name=\"new_password\""), "the policy page: {}", page.body);
        let fields = [("action", "password"), ("new_password", password), ("confirm_password", password)];
        self.submit(browser, page, &fields).await
    }

    async fn accepts(&self, login: &str, password: &str) -> bool {
        let outcome =
            login::authenticate(&self.app.services, login, &Secret::new(password), &ClientInfo::default(), "test")
                .await
                .unwrap();
        matches!(outcome, LoginOutcome::Success { .. })
    }

    async fn events(&self, user: &User, kind: &str) -> usize {
        let events = self.app.services.store.events_for_user(&user.id, kind, 100).await.unwrap();
        events.iter().filter(|e| e.kind == kind).count()
    }

    /// Follows `page` to the relying party (approving the consent page if it shows up) and
    /// checks the ID token names `user`.
    async fn back_to_rp(&self, browser: &Browser, page: Page, pending: Pending, user: &User) {
        let origin = &self.app.issuer;
        let mut page = browser.follow(origin, page).await;
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
}

/// The code of the newest code mail: the one not in `seen`.
fn newest_code(p: &Provider, seen: &[String]) -> String {
    let codes: Vec<String> = p
        .mails(CODE_SUBJECT)
        .iter()
        .map(|m| {
            m.text
                .lines()
                .map(str::trim)
                .find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit()))
                .expect("a 6-digit code")
                .to_owned()
        })
        .collect();
    let fresh: Vec<&String> = codes.iter().filter(|c| !seen.contains(c)).collect();
    assert_eq!(fresh.len(), 1, "expected exactly one new code: {codes:?} (seen {seen:?})");
    fresh[0].clone()
}

#[tokio::test]
async fn nouvelle_aquitaine_code_and_selector() {
    let p = provider(|_| {}).await;
    let user = p.user("claire.dupont", "claire.dupont@gmail.com", "usager").await;
    let browser = Browser::new();

    // The relying party sends the person to the login page, whose form has a "Mot de passe
    // perdu ?" button; nothing typed yet, so nothing carries over.
    let pending = p.rp.start(&["profile"]);
    let login_page = browser.follow(&p.app.issuer, browser.get(&pending.url).await).await;
    assert!(login_page.body.contains("name=\"forgot\" value=\"password\""), "{}", login_page.body);
    let pressed = browser.forgot_password(&p.app.issuer, &login_page, "").await;
    assert_eq!(pressed.status, 303, "{}", pressed.body);
    let lost = pressed.location().expect("to the password recovery");
    assert!(lost.starts_with("/recovery/password?"), "{lost}");
    assert!(lost.contains("request_id="), "the link keeps the pending request: {lost}");
    assert!(!lost.contains("login_hint"), "{lost}");
    assert!(href(&login_page, "/recovery/identifier?").is_some(), "and the identifier recovery");

    // The selector: every type, with its description, and "J'ai besoin de support".
    let selector = browser.get(&p.url(&lost)).await;
    assert_eq!(selector.status, 200);
    let body = text(&selector);
    assert!(body.contains(SELECTOR), "{body}");
    for label in [
        "Je suis un usager des services de la Région",
        "Je suis un élu de la Région",
        "Je suis un agent des lycées",
        "Je suis un agent du siège",
        "Demandeur d'aide, gestionnaire d'un lycée, partenaire, prestataire",
        "J'ai besoin de support",
    ] {
        assert!(body.contains(label), "the selector lacks {label:?}");
    }
    // The schools' agents go to their own service; the head office's to its support desk.
    let lycee = browser.get(&p.url(&href(&selector, "/recovery/password?user_type=agent_lycee").unwrap())).await;
    assert_eq!(lycee.status, 303);
    assert_eq!(lycee.location().as_deref(), Some("https://lycees.example/mot-de-passe-oublie"));
    let siege = browser.get(&p.url(&href(&selector, "/recovery/password?user_type=agent_siege").unwrap())).await;
    assert_eq!(siege.status, 200);
    assert!(text(&siege).contains("Service informatique du siège : poste 4242"), "{}", siege.body);
    let support = browser.get(&p.url(&href(&selector, "/recovery/support?").unwrap())).await;
    assert!(
        text(&support).contains("Contactez l'assistance de votre organisation"),
        "the installation's: {}",
        support.body
    );
    // Each type's support page shows its own contact, never another portal's (issue #13): the
    // Region's telephone for its users, Ségur's contact form alone, the installation's for a
    // type that names none (UPHF).
    let of = |id: &str| p.url(&format!("/recovery/support?user_type={id}&lang=fr"));
    let usager = text(&browser.get(&of("usager")).await);
    assert!(usager.contains("Assistance : 05 57 57 80 00"), "{usager}");
    let segur = text(&browser.get(&of("segur_operateur")).await);
    assert!(segur.contains("https://segurnum.asp-public.fr/segurnum/contacter-assistance"), "{segur}");
    assert!(!segur.contains("05 57 57 80 00") && !segur.contains("votre organisation"), "{segur}");
    let sesame = text(&browser.get(&of("sesame")).await);
    assert!(sesame.contains("votre organisation") && !sesame.contains("05 57"), "{sesame}");

    // "Je suis un usager": the e-mail address, then the code page.
    let first = browser.get(&p.url(&href(&selector, "/recovery/password?user_type=usager").unwrap())).await;
    assert_eq!(first.status, 200);
    assert!(first.body.contains("Étape 1 sur 3"), "{}", first.body);
    assert!(text(&first).contains("Adresse électronique"), "the field is the e-mail address: {}", first.body);
    let answer = p.identify(&browser, &first, "claire.dupont@gmail.com", None).await;
    let code_page = p.next(&browser, &answer).await;
    assert!(text(&code_page).contains(CODE_PAGE), "{}", code_page.body);
    assert!(code_page.body.contains("Étape 2 sur 3"));
    for button in ["Vérifier le code", "Renvoyer le code", "Annuler"] {
        assert!(code_page.body.contains(button), "the code page lacks {button:?}");
    }
    let mails = p.mails(CODE_SUBJECT);
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, "claire.dupont@gmail.com");
    let code = p.code();

    // The code leads to the policy page, then the success page, masked.
    let policy_page = p.next(&browser, &p.verify(&browser, &code_page, &code).await).await;
    assert!(policy_page.body.contains("Étape 3 sur 3"), "{}", policy_page.body);
    assert!(text(&policy_page).contains("/password-policy?user_type=usager"), "the live checklist");
    // Titled and laid out as seed 004 shows it, by the Region's theme (issue #13, item 5).
    let policy = text(&policy_page);
    assert!(policy.contains("<h1>Modifier le mot de passe</h1>"), "{policy}");
    assert!(policy.contains("<title>Modifier le mot de passe – "), "{policy}");
    let buttons: Vec<&str> =
        ["Modifier le mot de passe</button>", "type=\"reset\"", ">Réinitialiser</button>", ">Annuler</button>"]
            .into_iter()
            .filter(|b| !policy.contains(b))
            .collect();
    assert!(buttons.is_empty(), "the form lacks {buttons:?}: {policy}");
    assert!(text(&code_page).contains("<h1>Mot de passe oublié</h1>"), "{}", code_page.body);
    let done = p.next(&browser, &p.new_password(&browser, &policy_page, NEW_PASSWORD).await).await;
    let body = text(&done);
    assert!(body.contains("Réussite") && body.contains(SUCCESS), "{body}");
    assert!(body.contains("c…t") && body.contains("c…@…mail.com"), "masked identifier and e-mail: {body}");
    assert!(!body.contains("claire.dupont"), "nothing unmasked: {body}");
    assert_eq!(p.mails(CHANGED_SUBJECT).len(), 1, "the confirmation mail");
    assert!(p.accepts("claire.dupont", NEW_PASSWORD).await);
    assert!(!p.accepts("claire.dupont", PASSWORD).await);

    // "Continuer" goes back to the login page of the pending request, which now takes the new
    // password and returns to the relying party.
    let back = href(&done, "/login?request_id=").expect("Continuer back to the relying party's login");
    let login_again = browser.get(&p.url(&back)).await;
    assert_eq!(login_again.status, 200);
    // The recovery was in the Region's theme (its user type's; the client has none): so is the
    // login page it ends on, its form and its language switch (issue #13, item 8).
    let region = |page: &Page| page.stylesheets().iter().any(|s| s.starts_with("/static/region/"));
    assert!(region(&done) && region(&login_again), "{back}: {:?}", login_again.stylesheets());
    assert!(text(&login_again).contains("user_type=usager&lang=en"), "the language switch keeps it");
    let failed = browser.submit_login(&p.app.issuer, &login_again, "claire.dupont", "wrong-password").await;
    assert!(region(&failed), "a failed attempt keeps it: {:?}", failed.stylesheets());
    let signed_in = browser.submit_login(&p.app.issuer, &login_again, "claire.dupont", NEW_PASSWORD).await;
    p.back_to_rp(&browser, signed_in, pending, &user).await;

    // The code was single use: the flow's pages stay on success, the code page is gone.
    assert_eq!(p.events(&user, audit::RECOVERY_STARTED).await, 1);
    assert_eq!(p.events(&user, audit::RECOVERY_SENT).await, 1);
}

#[tokio::test]
async fn segur_forgot_password_by_link() {
    let p = provider(|_| {}).await;
    let user = p.user("prenom.nom", "prenom.nom@example.org", "segur_operateur").await;
    p.with_question(&user).await;
    let browser = Browser::new();

    let first = p.first_page(&browser, "segur_operateur").await;
    let body = text(&first);
    assert!(
        body.contains("Identifiant utilisateur") && body.contains("Veuillez résoudre l'opération suivante"),
        "{body}"
    );
    // A wrong captcha: the same page, a new operation, nothing started.
    let wrong = p
        .submit(
            &browser,
            &first,
            &[
                ("action", "identify"),
                ("user_type", "segur_operateur"),
                ("identifier", "prenom.nom"),
                ("captcha_id", &first.field("captcha_id").unwrap()),
                ("captcha_answer", "999"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("captcha__operation"), "a new challenge: {}", wrong.body);

    let question = p.next(&browser, &p.identify(&browser, &wrong, "prenom.nom", None).await).await;
    assert!(question.body.contains("Étape 2 sur 4"), "{}", question.body);
    assert!(text(&question).contains(QUESTION), "the account's question: {}", question.body);
    let sent = p.answer_question(&browser, &question, "  médor ").await;
    assert!(text(&sent).contains(MAIL_SENT), "{}", sent.body);
    assert!(text(&sent).contains("15 minutes"), "{}", sent.body);
    let links = p.links(LINK_SUBJECT);
    assert_eq!(links.len(), 1);
    assert_eq!(p.mails(LINK_SUBJECT)[0].to, "prenom.nom@example.org");
    // The link mail holds no code and does not speak of one (issue #13, item 5), in both parts;
    // its lifetime is the guide's sentence, a counted text.
    let link_mail = &p.mails(LINK_SUBJECT)[0];
    for part in [&link_mail.text, &link_mail.html] {
        assert!(!part.to_lowercase().contains("code"), "{part}");
        assert!(part.contains("Ce lien a une durée de validité de 15 minutes."), "{part}");
    }

    // Another device: the link alone shows the policy page; showing it consumes nothing.
    let other = Browser::new();
    let form = other.get(&links[0]).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let form = other.get(&links[0]).await;
    assert_eq!(form.status, 200, "a refresh still shows the form: {}", form.body);
    let done = p.next(&other, &p.new_password(&other, &form, NEW_PASSWORD).await).await;
    assert!(text(&done).contains(SUCCESS), "{}", done.body);
    assert!(p.accepts("prenom.nom", NEW_PASSWORD).await);

    // The link was single use.
    let reused = Browser::new().get(&links[0]).await;
    assert_eq!(reused.status, 410);
    assert!(text(&reused).contains(LINK_INVALID), "{}", reused.body);

    // An expired link offers a new one, which works.
    let browser = Browser::new();
    let first = p.first_page(&browser, "segur_operateur").await;
    let question = p.next(&browser, &p.identify(&browser, &first, "prenom.nom", None).await).await;
    p.answer_question(&browser, &question, ANSWER).await;
    let second = p.links(LINK_SUBJECT).into_iter().find(|l| *l != links[0]).unwrap();
    p.app.clock.advance(16 * 60);
    let expired = Browser::new();
    let page = expired.get(&second).await;
    assert_eq!(page.status, 410);
    assert!(text(&page).contains(LINK_EXPIRED) && text(&page).contains("Recevoir un nouveau lien"), "{}", page.body);
    let csrf = page.field("csrf").unwrap();
    let fields = [("csrf", csrf.as_str()), ("h", &page.field("h").unwrap()), ("c", &page.field("c").unwrap())];
    let resent = expired.post(&p.url("/recovery/password/link?lang=fr"), &fields).await;
    assert_eq!(resent.status, 200);
    assert!(text(&resent).contains(MAIL_SENT), "{}", resent.body);
    let links_now = p.links(LINK_SUBJECT);
    assert_eq!(links_now.len(), 3);
    let third = links_now.into_iter().find(|l| *l != links[0] && *l != second).unwrap();
    let form = expired.get(&third).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let done = p.next(&expired, &p.new_password(&expired, &form, "Autre-Chemin-Vert-91").await).await;
    assert!(text(&done).contains(SUCCESS), "{}", done.body);
    assert!(p.accepts("prenom.nom", "Autre-Chemin-Vert-91").await);
}

#[tokio::test]
async fn bonus_eco_provisional_password() {
    let p = provider(|_| {}).await;
    let user = p.user("pro.bonus", "pro.bonus@example.org", "bonus_eco").await;
    p.with_question(&user).await;
    let browser = Browser::new();

    let first = p.first_page(&browser, "bonus_eco").await;
    assert!(text(&first).contains("Veuillez résoudre l'opération suivante"), "{}", first.body);
    let question = p.next(&browser, &p.identify(&browser, &first, "pro.bonus", None).await).await;
    let done = p.answer_question(&browser, &question, ANSWER).await;
    assert!(text(&done).contains(MAIL_SENT), "{}", done.body);
    let mails = p.mails(PROVISIONAL_SUBJECT);
    assert_eq!(mails.len(), 1);
    assert!(mails[0].text.contains("À votre demande, un nouveau mot de passe provisoire"), "{}", mails[0].text);
    let provisional = mails[0]
        .text
        .lines()
        .skip_while(|l| !l.contains("Votre mot de passe provisoire"))
        .nth(1)
        .unwrap()
        .trim()
        .to_owned();
    assert!(!p.accepts("pro.bonus", PASSWORD).await, "the old password no longer works");

    // Signing in with it forces the change (the first-login steps), then the relying party.
    let pending = p.rp.start(&["profile"]);
    let login_page = browser.follow(&p.app.issuer, browser.get(&pending.url).await).await;
    let mut answer = browser.submit_login(&p.app.issuer, &login_page, "pro.bonus", &provisional).await;
    assert_eq!(answer.location().as_deref(), Some("/first-login"), "the forced change: {}", answer.body);
    loop {
        if answer.location().as_deref() != Some("/first-login") {
            break;
        }
        let page = browser.get(&p.url("/first-login")).await;
        let step = page.field("step").unwrap();
        let csrf = page.field("csrf").unwrap();
        let mut form = vec![("csrf", csrf.clone()), ("step", step.clone())];
        match step.as_str() {
            "password" => {
                form.push(("new_password", NEW_PASSWORD.into()));
                form.push(("confirm_password", NEW_PASSWORD.into()));
            }
            "captcha" => {
                let id = page.field("captcha_id").unwrap();
                let swap = [
                    ("csrf", csrf.as_str()),
                    ("step", "captcha"),
                    ("captcha_id", &id),
                    ("captcha_alternative", "arithmetic"),
                ];
                let arithmetic = browser.post(&p.url("/first-login?lang=fr"), &swap).await;
                form.push(("captcha_id", arithmetic.field("captcha_id").unwrap()));
                form.push(("captcha_answer", idp_tests::captcha::solve_page(&arithmetic)));
            }
            other => panic!("unexpected first-login step {other}: {}", page.body),
        }
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        answer = browser.post(&p.url("/first-login?lang=fr"), &form).await;
        assert_ne!(answer.status, 400, "the step was refused: {}", answer.body);
    }
    p.back_to_rp(&browser, answer, pending, &user).await;
    assert!(p.accepts("pro.bonus", NEW_PASSWORD).await);
}

#[tokio::test]
async fn uphf_recover_by_student_number() {
    let p = provider(|_| {}).await;
    let user = p.user("jdupont", "jean.dupont@uphf.example", "sesame").await;
    let s = &p.app.services;
    let numbers = [("student_number".to_owned(), "22001234".to_owned())];
    s.store.set_recovery_profile(&user.id, Some("2001-04-12"), &numbers, s.now()).await.unwrap();
    p.with_question(&user).await;
    let browser = Browser::new();

    let first = p.first_page(&browser, "sesame").await;
    assert!(text(&first).contains("Numéro personnel") && first.body.contains("type=\"date\""), "{}", first.body);
    let question = p.next(&browser, &p.identify(&browser, &first, "22001234", Some("2001-04-12")).await).await;
    assert!(question.body.contains("Étape 2 sur 4"), "{}", question.body);
    let code_page = p.answer_question(&browser, &question, ANSWER).await;
    assert!(text(&code_page).contains(CODE_PAGE), "{}", code_page.body);
    let code = p.code();
    let policy_page = p.next(&browser, &p.verify(&browser, &code_page, &code).await).await;
    // "Ne doit pas contenir votre login".
    let refused = p.new_password(&browser, &policy_page, "Jdupont-Velo-2024").await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    let done = p.next(&browser, &p.new_password(&browser, &refused, NEW_PASSWORD).await).await;
    assert!(text(&done).contains(SUCCESS), "{}", done.body);
    let confirmations = p.mails(CHANGED_SUBJECT);
    assert_eq!(confirmations.len(), 1, "the confirmation mail");
    assert_eq!(confirmations[0].to, "jean.dupont@uphf.example");
    assert!(p.accepts("jdupont", NEW_PASSWORD).await);
}

#[tokio::test]
async fn a_wrong_date_of_birth_or_secret_answer_looks_the_same_and_sends_nothing() {
    let p = provider(|_| {}).await;
    let user = p.user("jdupont", "jean.dupont@uphf.example", "sesame").await;
    let s = &p.app.services;
    let numbers = [("student_number".to_owned(), "22001234".to_owned())];
    s.store.set_recovery_profile(&user.id, Some("2001-04-12"), &numbers, s.now()).await.unwrap();
    p.with_question(&user).await;

    let browser = Browser::new();
    let first = p.first_page(&browser, "sesame").await;
    let question = p.next(&browser, &p.identify(&browser, &first, "22001234", Some("2001-04-13")).await).await;
    assert_eq!(question.status, 200);
    assert!(question.body.contains("name=\"secret_answer\""), "a (decoy) question: {}", question.body);
    let code_page = p.answer_question(&browser, &question, ANSWER).await;
    assert!(text(&code_page).contains(CODE_PAGE), "{}", code_page.body);

    let browser = Browser::new();
    let first = p.first_page(&browser, "sesame").await;
    let question = p.next(&browser, &p.identify(&browser, &first, "22001234", Some("2001-04-12")).await).await;
    let code_page = p.answer_question(&browser, &question, "Rex").await;
    assert!(text(&code_page).contains(CODE_PAGE), "{}", code_page.body);
    assert!(p.all_mails().is_empty(), "nothing sent: {:#?}", p.all_mails());
    assert_eq!(p.events(&user, audit::RECOVERY_SECRET_FAILED).await, 1);
}

#[tokio::test]
async fn an_unknown_account_gets_the_same_pages_and_no_mail() {
    let p = provider(|_| {}).await;
    p.user("claire.dupont", "claire.dupont@gmail.com", "usager").await;

    let mut seen = Vec::new();
    for email in ["claire.dupont@gmail.com", "personne@example.org"] {
        let browser = Browser::new();
        let first = p.first_page(&browser, "usager").await;
        let answer = p.identify(&browser, &first, email, None).await;
        assert_eq!(answer.status, 303);
        let page = p.next(&browser, &answer).await;
        assert_eq!(page.status, 200);
        assert!(text(&page).contains(CODE_PAGE), "{}", page.body);
        let wrong = p.verify(&browser, &page, "000000").await;
        assert_eq!(wrong.status, 400);
        assert!(text(&wrong).contains("Code incorrect, 4 essais restants."), "{}", wrong.body);
        seen.push(text(&wrong).replace(&wrong.field("csrf").unwrap(), ""));
    }
    assert_eq!(seen[0], seen[1], "the known and the unknown account get the same page");
    assert_eq!(p.mails(CODE_SUBJECT).len(), 1, "only the real account got a code");
}

#[tokio::test]
async fn five_wrong_codes_kill_the_code_and_an_expired_one_is_refused() {
    let p = provider(|_| {}).await;
    p.user("claire.dupont", "claire.dupont@gmail.com", "usager").await;
    let browser = Browser::new();
    let first = p.first_page(&browser, "usager").await;
    let page = p.next(&browser, &p.identify(&browser, &first, "claire.dupont@gmail.com", None).await).await;
    let code = p.code();
    let wrong_code = if code == "000000" { "111111" } else { "000000" };

    for left in (1..=4).rev() {
        let wrong = p.verify(&browser, &page, wrong_code).await;
        // Plural forms from the catalog (issue #13, item 5): "1 essai restant", "2 essais restants".
        let expected = if left == 1 { "1 essai restant.".to_owned() } else { format!("{left} essais restants.") };
        assert!(text(&wrong).contains(&format!("Code incorrect, {expected}")), "{}", wrong.body);
    }
    let dead = p.verify(&browser, &page, wrong_code).await;
    assert!(text(&dead).contains(CODE_DEAD), "{}", dead.body);
    let too_late = p.verify(&browser, &page, &code).await;
    assert!(text(&too_late).contains(CODE_DEAD), "the right code no longer works: {}", too_late.body);

    // "Renvoyer le code": a new code works; it expires after 15 minutes.
    p.app.clock.advance(31);
    let resent = p.submit(&browser, &page, &[("action", "resend")]).await;
    assert_eq!(resent.status, 200, "{}", resent.body);
    let second = newest_code(&p, std::slice::from_ref(&code));
    p.app.clock.advance(15 * 60);
    let expired = p.verify(&browser, &resent, &second).await;
    assert!(text(&expired).contains(CODE_DEAD), "an expired code: {}", expired.body);
    assert!(p.accepts("claire.dupont", PASSWORD).await, "nothing changed");
}

#[tokio::test]
async fn a_form_without_its_csrf_token_is_refused() {
    let p = provider(|_| {}).await;
    let browser = Browser::new();
    p.first_page(&browser, "usager").await;
    let forged = browser
        .post(
            &p.url("/recovery/password?lang=fr"),
            &[("action", "identify"), ("user_type", "usager"), ("identifier", "claire.dupont@gmail.com")],
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert!(forged.set_cookie("idp_recovery").is_none(), "no flow started");
}

#[tokio::test]
async fn a_client_setting_or_a_hint_preselects_the_type_without_the_selector() {
    let p = provider(|_| {}).await;
    let spec = ClientSpec {
        id: "elus".into(),
        name: "Espace des élus".into(),
        redirect_uris: vec![RP_CALLBACK.into()],
        grants: vec!["authorization_code".into()],
        settings: ClientSettings { recovery_user_type: Some("elu".into()), ..ClientSettings::default() },
        ..ClientSpec::default()
    };
    let (client, secret) = p.app.client(spec).await;
    let rp = Rp::discover(&p.app.issuer, &client.id, secret.as_deref(), RP_CALLBACK).await;
    let browser = Browser::new();
    let pending = rp.start(&["profile"]);
    let login_page = browser.follow(&p.app.issuer, browser.get(&pending.url).await).await;
    let pressed = browser.forgot_password(&p.app.issuer, &login_page, "").await;
    let page = browser.get(&p.url(&pressed.location().unwrap())).await;
    assert_eq!(page.status, 200);
    assert!(!text(&page).contains(SELECTOR), "no selector: {}", page.body);
    assert_eq!(page.field("user_type").as_deref(), Some("elu"));
    assert!(page.body.contains("Étape 1 sur 3"), "{}", page.body);

    let hinted = browser.get(&p.url("/recovery/password?user_type=usager")).await;
    assert!(!text(&hinted).contains(SELECTOR));
    assert_eq!(hinted.field("user_type").as_deref(), Some("usager"));

    let external = browser.get(&p.url("/recovery/password?user_type=agent_lycee")).await;
    assert_eq!(external.status, 303);
    assert_eq!(external.location().as_deref(), Some("https://lycees.example/mot-de-passe-oublie"));

    let plain = browser.get(&p.url("/recovery/password")).await;
    assert!(text(&plain).contains(SELECTOR), "without a hint, the selector: {}", plain.body);
}

/// A downstream system on loopback that acknowledges every propagation.
async fn acknowledging_receiver() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks/password", listener.local_addr().unwrap());
    let router = axum::Router::new().route("/hooks/password", axum::routing::post(|| async { "ok" }));
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    url
}

/// A loopback address where nothing listens.
async fn nobody_listening() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks/password", listener.local_addr().unwrap());
    drop(listener);
    url
}

/// Recovers claire.dupont's password by code and returns the page after the change.
async fn recover_by_code(p: &Provider, browser: &Browser) -> Page {
    let first = p.first_page(browser, "usager").await;
    let code_page = p.next(browser, &p.identify(browser, &first, "claire.dupont@gmail.com", None).await).await;
    let policy_page = p.next(browser, &p.verify(browser, &code_page, &p.code()).await).await;
    p.next(browser, &p.new_password(browser, &policy_page, NEW_PASSWORD).await).await
}

#[tokio::test]
async fn the_waiting_page_turns_to_success_once_downstream_systems_acknowledge() {
    let receiver = acknowledging_receiver().await;
    let p = provider(move |raw| raw.recovery.propagation_url = Some(receiver)).await;
    p.user("claire.dupont", "claire.dupont@gmail.com", "usager").await;
    let browser = Browser::new();

    let mut page = recover_by_code(&p, &browser).await;
    // The receiver answers on its own schedule: look again as the page's Refresh header does.
    for _ in 0..100 {
        if !text(&page).contains("Veuillez patienter") {
            break;
        }
        assert_eq!(page.header("refresh").as_deref(), Some("2"), "the waiting page refreshes itself");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        page = browser.get(&p.url("/recovery/password")).await;
    }
    let body = text(&page);
    assert!(body.contains(SUCCESS), "{body}");
    assert!(!body.contains("peut prendre encore quelques minutes"), "acknowledged in time: {body}");
}

#[tokio::test]
async fn the_waiting_page_gives_up_after_the_propagation_timeout_and_still_shows_success() {
    let unreachable = nobody_listening().await;
    let p = provider(move |raw| raw.recovery.propagation_url = Some(unreachable)).await;
    p.user("claire.dupont", "claire.dupont@gmail.com", "usager").await;
    let browser = Browser::new();

    let waiting = recover_by_code(&p, &browser).await;
    let body = text(&waiting);
    assert!(
        body.contains("Veuillez patienter") && body.contains("Votre mot de passe est en cours de mise à jour"),
        "{body}"
    );
    assert!(p.accepts("claire.dupont", NEW_PASSWORD).await, "the change itself is done");

    p.app.clock.advance(61);
    let done = browser.get(&p.url("/recovery/password")).await;
    let body = text(&done);
    assert!(body.contains(SUCCESS) && body.contains("peut prendre encore quelques minutes"), "{body}");
}

#[tokio::test]
async fn an_address_shared_by_several_accounts_gets_nothing_and_the_page_says_to_use_the_identifier() {
    let p = provider(|raw| {
        let mut t = idp::domain::user_type::UserType::default_usager();
        t.id = "mixte".into();
        t.recovery.captcha = idp::domain::user_type::CaptchaKind::None;
        t.recovery.ask_secret_question = false;
        raw.user_types.push(t);
    })
    .await;
    p.user("prenom.nom", "famille@example.org", "mixte").await;
    p.user("prenom.nom1", "famille@example.org", "mixte").await;

    let browser = Browser::new();
    let first = p.first_page(&browser, "mixte").await;
    assert!(text(&first).contains("Identifiant ou adresse électronique"), "{}", first.body);
    let page = p.next(&browser, &p.identify(&browser, &first, "famille@example.org", None).await).await;
    let body = text(&page);
    assert!(body.contains(CODE_PAGE) && body.contains("recommencez en saisissant votre identifiant"), "{body}");
    assert!(p.all_mails().is_empty(), "nothing sent for an ambiguous address");

    let browser = Browser::new();
    let first = p.first_page(&browser, "mixte").await;
    p.next(&browser, &p.identify(&browser, &first, "prenom.nom1", None).await).await;
    let mails = p.mails(CODE_SUBJECT);
    assert_eq!(mails.len(), 1, "the identifier names one account");
    assert!(mails[0].text.contains("prenom.nom1"), "{}", mails[0].text);
}

/// A type whose accounts MAY have a secret question (not required): recovery never asks it, so
/// that "asked" or "not asked" cannot tell an account with a question from an unknown address.
#[tokio::test]
async fn optional_secret_questions_are_not_asked_so_they_tell_nothing() {
    let p = provider(|raw| {
        let usager = raw.user_types.iter_mut().find(|t| t.id == "usager").unwrap();
        usager.secret_question = false;
        usager.recovery.ask_secret_question = true;
    })
    .await;
    let claire = p.user("claire.dupont", "claire.dupont@gmail.com", "usager").await;
    p.with_question(&claire).await;

    let mut seen = Vec::new();
    for email in ["claire.dupont@gmail.com", "personne@example.org"] {
        let browser = Browser::new();
        let first = p.first_page(&browser, "usager").await;
        let answer = p.identify(&browser, &first, email, None).await;
        let page = p.next(&browser, &answer).await;
        assert!(text(&page).contains(CODE_PAGE), "straight to the code, no question:\n{}", page.body);
        assert!(!text(&page).contains(QUESTION));
        seen.push(text(&page).replace(&page.field("csrf").unwrap(), ""));
    }
    assert_eq!(seen[0], seen[1], "the account with a question and the unknown address get the same page");
}
