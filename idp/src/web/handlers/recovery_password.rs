//! The forgotten password's pages (issue #5): `GET/POST /recovery/password` (the first page
//! after the selector, the secret question, the security code, the new password, the waiting
//! and success pages; one template with a `step` switch) and the e-mailed link
//! `GET/POST /recovery/password/link` (from any device; an expired one offers a new one). The
//! flow itself is `account::recovery::password`: the captcha, the step order and the minimum
//! answer time of every POST are its own (`begin`, `act`, `renew_link`). Every POST is
//! CSRF-checked here; a GET never consumes a code or a link.

use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde::Serialize;

use super::password_policy::PasswordFields;
use super::recovery::{Chosen, choose_type, client_of, login_url, origin_of, param, query_of, view_for};
use super::{PostedForm, field, parse_params, see_other};
use crate::account::captcha::{Challenge, TooManyPending};
use crate::account::csrf::Context;
use crate::account::recovery::gate::{self, CaptchaRefusal};
use crate::account::recovery::password::{self, Acted, Action, Begun, CodeOutcome, LinkState, Resent};
use crate::account::recovery::{self, Flow, FlowKind, IdentifyInput, Origin, Step};
use crate::domain::user_type::{IdentifyBy, PasswordRecovery, RecoveryHandling, RecoveryRule};
use crate::domain::{Lang, Secret};
use crate::oidc::authorize;
use crate::oidc::params::Params;
use crate::web::AppState;
use crate::web::browser::{Browser, clear_cookie, set_cookie};
use crate::web::error::AppError;
use crate::web::pages::{View, with_cookies};

const PASSWORD_URL: &str = "/recovery/password";
/// The CSRF context of the first page (no flow yet).
const START: Context<'static> = Context::RecoveryStart { kind: "password" };

/// What `recovery_password.html` shows (`step`), and what each step needs.
#[derive(Serialize, Default)]
struct PasswordPage {
    step: &'static str,
    csrf: String,
    step_number: usize,
    step_count: usize,
    client_name: String,
    user_type: String,
    request_id: String,
    client_id: String,
    login_url: String,
    restart_url: String,
    // identify
    identifier_label: String,
    identifier_kind: &'static str,
    identifier: String,
    birth_date: bool,
    captcha: Option<Challenge>,
    captcha_error: bool,
    // secret question
    secret_question_mode: &'static str,
    secret_question: String,
    secret_question_error: Option<&'static str>,
    // secrets missing
    support: String,
    support_url: String,
    // code
    code_error: Option<&'static str>,
    attempts_left: i64,
    code_resent: bool,
    // mail sent
    link_minutes: i64,
    /// Code and mail-sent pages of a type found by login or e-mail: an address shared by
    /// several accounts gets nothing, so the page says to use the identifier instead.
    several_accounts_hint: bool,
    // new password
    #[serde(flatten)]
    fields: PasswordFields,
    // link pages
    link_h: String,
    link_c: String,
    // done
    masked_login: String,
    masked_email: String,
    propagation_late: bool,
    continue_url: String,
}

/// What a refused POST keeps or adds on the page shown again.
#[derive(Default)]
struct PasswordRetry {
    identifier: String,
    captcha: Option<Challenge>,
    captcha_error: bool,
    code_error: Option<&'static str>,
    attempts_left: i64,
    code_resent: bool,
    password_errors: Vec<String>,
    propagation_late: bool,
}

fn step_str(step: Step) -> &'static str {
    match step {
        Step::SecretQuestion => "secret_question",
        Step::SecretsMissing => "secrets_missing",
        Step::Code => "code",
        Step::MailSent => "mail_sent",
        Step::SmsCode => "mail_sent",
        Step::NewPassword => "new_password",
        Step::Waiting => "waiting",
        Step::Done => "done",
    }
}

/// "Étape n sur m" of the password recovery of `user_type` at `step` ("identify" first).
fn progress(state: &AppState, user_type: &str, step: &str) -> (usize, usize) {
    let user_type = state.services.user_types.of(user_type);
    let rule = &user_type.recovery;
    let mut steps = vec!["identify"];
    if user_type.recovery_asks_question() {
        steps.push("secret_question");
    }
    match rule.password {
        PasswordRecovery::Code => steps.extend(["code", "new_password"]),
        PasswordRecovery::Link => steps.extend(["mail_sent", "new_password"]),
        PasswordRecovery::Provisional | PasswordRecovery::None => steps.push("mail_sent"),
    }
    let count = steps.len();
    match steps.iter().position(|s| *s == step) {
        Some(i) => (i + 1, count),
        None => (0, 0),
    }
}

fn flow_cookie(state: &AppState, secret: &Secret) -> String {
    set_cookie(
        state.cookies.recovery,
        secret.expose(),
        state.cookies.secure,
        Some(state.services.recovery.flow_lifetime),
    )
}

fn end_cookie(state: &AppState) -> String {
    clear_cookie(state.cookies.recovery, state.cookies.secure)
}

async fn load_flow(state: &AppState, browser: &Browser) -> Result<Option<Flow>, AppError> {
    match browser.cookie(state.cookies.recovery) {
        Some(secret) => Ok(recovery::load(&state.services, secret, FlowKind::Password).await?),
        None => Ok(None),
    }
}

/// Where "Continuer" and "Annuler" lead: the relying party's pending request (through the login
/// page, which resumes it), else /account.
async fn continue_url(state: &AppState, origin: &Origin, lang: Lang, user_type: &str) -> Result<String, AppError> {
    if let Some(id) = origin.request_id()
        && authorize::pending(&state.services, id).await?.is_some()
    {
        return Ok(login_url(origin, lang, state.services.user_types.get(user_type)));
    }
    Ok("/account".to_owned())
}

/// Renders one step of the password recovery.
#[allow(clippy::too_many_arguments)]
async fn render_password(
    state: &AppState,
    browser: &Browser,
    user_type_id: &str,
    origin: &Origin,
    flow: Option<&Flow>,
    step: &'static str,
    status: StatusCode,
    retry: PasswordRetry,
    extra_cookies: Vec<String>,
) -> Result<Response, AppError> {
    let s = &state.services;
    let client = client_of(state, origin).await?;
    let user_type = s.user_types.of(user_type_id);
    let view = view_for(state, browser, client.as_ref(), origin, Some(user_type));
    let rule = &user_type.recovery;
    // The first page starts a flow; every later form acts on this browser's flow. A page of
    // neither kind has no form.
    let context = match (step, flow) {
        ("identify", _) => Some(START),
        (_, Some(flow)) => Some(Context::Recovery { flow_id: &flow.id }),
        (_, None) => None,
    };
    let (csrf, set) = context.map(|c| state.form_token(browser, &c)).unwrap_or_default();
    let (step_number, step_count) = progress(state, user_type_id, step);
    let mut page = PasswordPage {
        step,
        csrf,
        step_number,
        step_count,
        client_name: client.as_ref().map(|c| c.name.clone()).unwrap_or_default(),
        user_type: user_type.id.clone(),
        request_id: origin.request_id().unwrap_or_default().to_owned(),
        client_id: origin.client_id.clone().unwrap_or_default(),
        login_url: login_url(origin, view.lang, Some(user_type)),
        restart_url: format!("{PASSWORD_URL}{}", query_of(origin, view.lang, &[("user_type", &user_type.id)])),
        identifier: retry.identifier,
        captcha_error: retry.captcha_error,
        code_error: retry.code_error,
        attempts_left: retry.attempts_left,
        code_resent: retry.code_resent,
        link_minutes: s.recovery.code_lifetime / 60,
        propagation_late: retry.propagation_late,
        ..PasswordPage::default()
    };
    match step {
        "identify" => {
            let (label, kind) = identifier_label(rule, view.lang, |k| state.text(&view, k));
            page.identifier_label = label;
            page.identifier_kind = kind;
            page.birth_date = rule.birth_date;
            page.captcha = match retry.captcha {
                Some(c) => Some(c),
                None => gate::challenge_for(s, &browser.ip, rule.captcha, recovery::CAPTCHA_PASSWORD)
                    .await?
                    .map_err(|TooManyPending| super::captcha::too_many_requests())?,
            };
        }
        "secret_question" => {
            page.secret_question_mode = "answer";
            if let Some(flow) = flow {
                page.secret_question = recovery::question_for(s, flow, view.lang).await?.unwrap_or_default();
            }
        }
        "code" | "mail_sent" => {
            page.several_accounts_hint = rule.password != PasswordRecovery::Provisional
                && rule.identify_by.contains(&IdentifyBy::Email)
                && rule.identify_by.contains(&IdentifyBy::Login);
        }
        "secrets_missing" => {
            (page.support, page.support_url) = s.recovery.support_for(Some(user_type), view.lang);
        }
        "new_password" => {
            if let Some(user) = match flow {
                Some(flow) => password::user_of(s, flow).await?,
                None => None,
            } {
                page.fields = PasswordFields::for_user(state, &view, &user, retry.password_errors);
            }
        }
        "done" | "waiting" => {
            if let Some(outcome) = flow.and_then(|f| f.outcome.as_ref()) {
                page.masked_login = outcome.masked_login.clone();
                page.masked_email = outcome.masked_email.clone();
            }
            page.continue_url = continue_url(state, origin, view.lang, &user_type.id).await?;
        }
        _ => {}
    }
    let mut cookies: Vec<String> = set.into_iter().collect();
    cookies.extend(extra_cookies);
    let mut headers = with_cookies(cookies);
    if step == "waiting" {
        // The waiting page looks again by itself (no inline script under the CSP).
        headers.insert(header::REFRESH, axum::http::HeaderValue::from_static("2"));
    }
    Ok(state.page(status, &view, "recovery_password.html", &page, None, headers))
}

/// The label of the first page's field, and its kind (`login`, `email`, `alternate_id`, or
/// `login_or_email`).
fn identifier_label(rule: &RecoveryRule, lang: Lang, text: impl Fn(&str) -> String) -> (String, &'static str) {
    match rule.identify_by.as_slice() {
        [IdentifyBy::Login] => (text("recovery_field_login"), "login"),
        [IdentifyBy::Email] => (text("recovery_field_email"), "email"),
        [IdentifyBy::AlternateId, ..] => (rule.alternate_id_label.get(lang).to_owned(), "alternate_id"),
        _ => (text("recovery_field_login_or_email"), "login_or_email"),
    }
}

/// The flow's cookie is unknown or expired: a themed page (no form) offering to start again.
async fn flow_expired(state: &AppState, browser: &Browser) -> Result<Response, AppError> {
    let view = View::new(state, browser, None, None);
    let page = PasswordPage {
        step: "expired",
        restart_url: format!("{PASSWORD_URL}?lang={}", view.lang.code()),
        login_url: "/account".to_owned(),
        ..PasswordPage::default()
    };
    let cookies = [end_cookie(state)];
    Ok(state.page(StatusCode::BAD_REQUEST, &view, "recovery_password.html", &page, None, with_cookies(cookies)))
}

/// Shows a flow where it stands.
async fn show_flow(
    state: &AppState,
    browser: &Browser,
    mut flow: Flow,
    mut retry: PasswordRetry,
) -> Result<Response, AppError> {
    let s = &state.services;
    if flow.step == Step::Waiting
        && let Some(late) = password::waiting_is_over(s, &mut flow).await?
    {
        retry.propagation_late = late;
    }
    let step = step_str(flow.step);
    render_password(
        state,
        browser,
        &flow.user_type,
        &flow.origin(),
        Some(&flow),
        step,
        StatusCode::OK,
        retry,
        Vec::new(),
    )
    .await
}

/// `GET /recovery/password`: the flow where it stands, or (a fresh start from the login page,
/// or no flow) the selector then the first page. A GET never changes anything but the
/// waiting page's own progress.
pub async fn recovery_password_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let params = parse_params(query.as_deref().unwrap_or_default())?;
    let fresh = ["user_type", "request_id", "client_id"].iter().any(|k| param(&params, k).is_some());
    if !fresh && let Some(flow) = load_flow(&state, &browser).await? {
        return show_flow(&state, &browser, flow, PasswordRetry::default()).await;
    }
    match choose_type(&state, &browser, &params, FlowKind::Password).await? {
        Chosen::Page(response) => Ok(response),
        Chosen::Type { user_type, origin } => {
            let identifier = super::recovery::login_hint(&params).unwrap_or_default();
            let retry = PasswordRetry { identifier, ..PasswordRetry::default() };
            render_password(&state, &browser, &user_type, &origin, None, "identify", StatusCode::OK, retry, Vec::new())
                .await
        }
    }
}

/// `POST /recovery/password`: one step, named by `action` (`password::act` decides whether the
/// flow's step accepts it).
pub async fn recovery_password_post(
    State(state): State<AppState>,
    browser: Browser,
    form: PostedForm,
) -> Result<Response, AppError> {
    password_post(&state, &browser, form).await
}

async fn password_post(state: &AppState, browser: &Browser, form: PostedForm) -> Result<Response, AppError> {
    if form.locator("action")? == Some("identify") {
        let params = form.check(state, START)?;
        return identify_post(state, browser, &params).await;
    }
    let Some(mut flow) = load_flow(state, browser).await? else {
        return flow_expired(state, browser).await;
    };
    let params = &form.check(state, Context::Recovery { flow_id: &flow.id })?;
    let action = match field(params, "action")?.unwrap_or_default() {
        "cancel" => Action::Cancel,
        "answer" => Action::Answer(Secret::new(field(params, "secret_answer")?.unwrap_or_default())),
        "verify" => Action::Verify(field(params, "code")?.unwrap_or_default().to_owned()),
        "resend" => Action::Resend,
        "password" => Action::SetPassword {
            new: Secret::new(field(params, "new_password")?.unwrap_or_default()),
            confirm: Secret::new(field(params, "confirm_password")?.unwrap_or_default()),
        },
        _ => Action::Other,
    };
    let s = &state.services;
    let lang = browser.lang(flow.ui_locales.as_deref());
    let here = format!("{PASSWORD_URL}?lang={}", lang.code());
    match password::act(s, &mut flow, action, &browser.client_info()).await? {
        Acted::Moved => Ok(see_other(&here)),
        Acted::Cancelled => {
            let to = continue_url(state, &flow.origin(), lang, &flow.user_type).await?;
            let mut response = see_other(&to);
            response.headers_mut().extend(with_cookies([end_cookie(state)]));
            Ok(response)
        }
        Acted::Code(CodeOutcome::Wrong(left)) => {
            let retry = PasswordRetry { code_error: Some("wrong"), attempts_left: left, ..PasswordRetry::default() };
            again(state, browser, &flow, "code", StatusCode::BAD_REQUEST, retry).await
        }
        Acted::Code(_) => {
            let retry = PasswordRetry { code_error: Some("dead"), ..PasswordRetry::default() };
            again(state, browser, &flow, "code", StatusCode::BAD_REQUEST, retry).await
        }
        Acted::Resent(Resent::Sent) => {
            let retry = PasswordRetry { code_resent: true, ..PasswordRetry::default() };
            again(state, browser, &flow, "code", StatusCode::OK, retry).await
        }
        Acted::Resent(Resent::TooSoon) => {
            let retry = PasswordRetry { code_error: Some("too_soon"), ..PasswordRetry::default() };
            again(state, browser, &flow, "code", StatusCode::TOO_MANY_REQUESTS, retry).await
        }
        Acted::Resent(Resent::Throttled(_)) => Err(throttled()),
        Acted::PasswordGone => {
            let cookies = vec![end_cookie(state)];
            let origin = flow.origin();
            let retry = PasswordRetry::default();
            render_password(state, browser, &flow.user_type, &origin, None, "gone", StatusCode::GONE, retry, cookies)
                .await
        }
        Acted::PasswordRefused(refused) => {
            let Some(user) = password::user_of(s, &flow).await? else {
                return flow_expired(state, browser).await;
            };
            let client = client_of(state, &flow.origin()).await?;
            let user_type = Some(s.user_types.of(&user.user_type));
            let view = view_for(state, browser, client.as_ref(), &flow.origin(), user_type);
            let errors = super::password_policy::refusal_messages(state, &view, &refused);
            let retry = PasswordRetry { password_errors: errors, ..PasswordRetry::default() };
            again(state, browser, &flow, "new_password", StatusCode::UNPROCESSABLE_ENTITY, retry).await
        }
    }
}

async fn again(
    state: &AppState,
    browser: &Browser,
    flow: &Flow,
    step: &'static str,
    status: StatusCode,
    retry: PasswordRetry,
) -> Result<Response, AppError> {
    render_password(state, browser, &flow.user_type, &flow.origin(), Some(flow), step, status, retry, Vec::new()).await
}

/// "Trop de demandes…": a themed 429.
fn throttled() -> AppError {
    AppError::page(StatusCode::TOO_MANY_REQUESTS, "recovery_throttled")
}

/// The first page's POST: captcha, limits, identification, the flow.
async fn identify_post(state: &AppState, browser: &Browser, params: &Params) -> Result<Response, AppError> {
    let s = &state.services;
    let user_type_id = field(params, "user_type")?.unwrap_or_default();
    let Some(user_type) = s.user_types.get(user_type_id).filter(|t| {
        t.recovery.handling == RecoveryHandling::SelfService && t.recovery.password != PasswordRecovery::None
    }) else {
        return Err(AppError::page(StatusCode::BAD_REQUEST, "error_bad_request"));
    };
    let (origin, _) = origin_of(state, params).await?;
    let identifier = field(params, "identifier")?.unwrap_or_default().to_owned();
    let input =
        IdentifyInput { identifier: identifier.clone(), birth_date: field(params, "birth_date")?.map(str::to_owned) };
    let captcha = super::captcha::answer_of(params)?;
    let (status, retry) =
        match password::begin(s, &user_type.id, &input, &captcha, &origin, &browser.client_info()).await? {
            Begun::Captcha(CaptchaRefusal::Alternative(challenge)) => {
                (StatusCode::OK, PasswordRetry { identifier, captcha: Some(challenge), ..PasswordRetry::default() })
            }
            Begun::Captcha(CaptchaRefusal::Wrong) => {
                (StatusCode::BAD_REQUEST, PasswordRetry { identifier, captcha_error: true, ..PasswordRetry::default() })
            }
            Begun::Captcha(CaptchaRefusal::TooManyPending) => return Err(super::captcha::too_many_requests()),
            Begun::Throttled(_) => return Err(throttled()),
            Begun::Started { secret, flow } => {
                let lang = browser.lang(flow.ui_locales.as_deref());
                let mut response = see_other(&format!("{PASSWORD_URL}?lang={}", lang.code()));
                response.headers_mut().extend(with_cookies([flow_cookie(state, &secret)]));
                return Ok(response);
            }
        };
    render_password(state, browser, &user_type.id, &origin, None, "identify", status, retry, Vec::new()).await
}

/// `GET /recovery/password/link?h=…&c=…`: the link of the mail, from any device. A valid one
/// starts a flow in this browser at the new password (nothing is consumed until the change);
/// an expired one offers a new link; anything else says the link no longer works.
pub async fn recovery_password_link_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let params = parse_params(query.as_deref().unwrap_or_default())?;
    let h = param(&params, "h").unwrap_or_default();
    let c = param(&params, "c").unwrap_or_default();
    let s = &state.services;
    match password::link_state(s, &h, &c).await? {
        LinkState::Valid(token) => {
            // Reopening the same link in this browser keeps its flow (refresh-safe).
            if let Some(flow) = load_flow(&state, &browser).await?
                && flow.proven_token.as_ref().is_some_and(|(d, _)| *d == token.digest)
            {
                return show_flow(&state, &browser, flow, PasswordRetry::default()).await;
            }
            let Some((secret, flow)) = password::open_link(s, &token).await? else {
                return link_page(&state, &browser, "link_invalid", &h, &c, StatusCode::GONE).await;
            };
            render_password(
                &state,
                &browser,
                &flow.user_type,
                &Origin::default(),
                Some(&flow),
                "new_password",
                StatusCode::OK,
                PasswordRetry::default(),
                vec![flow_cookie(&state, &secret)],
            )
            .await
        }
        LinkState::Expired(_) => link_page(&state, &browser, "link_expired", &h, &c, StatusCode::GONE).await,
        LinkState::Invalid => link_page(&state, &browser, "link_invalid", &h, &c, StatusCode::GONE).await,
    }
}

/// `POST /recovery/password/link`: "Recevoir un nouveau lien" for an expired link. The answer
/// is the same whether a mail went or not.
pub async fn recovery_password_link_post(
    State(state): State<AppState>,
    browser: Browser,
    form: PostedForm,
) -> Result<Response, AppError> {
    let h = form.locator("h")?.unwrap_or_default().to_owned();
    let params = form.check(&state, Context::RecoveryLink { handle: &h })?;
    let c = field(&params, "c")?.unwrap_or_default().to_owned();
    password::renew_link(&state.services, &h, &c, &browser.client_info()).await?;
    link_page(&state, &browser, "link_resent", "", "", StatusCode::OK).await
}

async fn link_page(
    state: &AppState,
    browser: &Browser,
    step: &'static str,
    h: &str,
    c: &str,
    status: StatusCode,
) -> Result<Response, AppError> {
    let view = View::new(state, browser, None, None);
    let (csrf, set) = state.form_token(browser, &Context::RecoveryLink { handle: h });
    let page = PasswordPage {
        step,
        csrf,
        link_h: h.to_owned(),
        link_c: c.to_owned(),
        link_minutes: state.services.recovery.code_lifetime / 60,
        restart_url: format!("{PASSWORD_URL}?lang={}", view.lang.code()),
        login_url: "/account".to_owned(),
        ..PasswordPage::default()
    };
    Ok(state.page(status, &view, "recovery_password.html", &page, None, with_cookies(set)))
}
