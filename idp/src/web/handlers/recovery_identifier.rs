//! "Identifiant oublié ?" (issue #5): `GET/POST /recovery/identifier` and the renewal link
//! `GET /recovery/identifier/renew?t=…`. The flow lives in `account::recovery::identifier`; the
//! user type comes from the shared selector (`recovery::choose_type`).
//!
//! One URL, one page (`recovery_identifier.html`, a `step` switch). A fresh GET starts over (the
//! selector, then the first form); every POST answers with a redirect to `?continue=1`, which
//! shows the step of this browser's flow, so back and refresh repeat nothing. The one exception
//! is the new identifier: it is shown by the answer to the right SMS code and never kept, so a
//! refresh or a later GET says it was already shown. The captcha, the step order and the
//! minimum answer time of every POST are the flow's (`account::recovery::gate`, `identifier::act`).

use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::recovery::{Chosen, choose_type, client_of, login_url, query_of, view_for};
use super::{PostedForm, field, parse_params, see_other};
use crate::account::captcha::{Challenge, TooManyPending};
use crate::account::csrf::Context;
use crate::account::recovery::gate::{self, CaptchaRefusal};
use crate::account::recovery::identifier::{self, Acted, Action, Asks, Begun, FirstPage, Opened, Verified};
use crate::account::recovery::{self, CAPTCHA_IDENTIFIER, Flow, FlowKind, Origin, Step};
use crate::domain::user_type::IdentifierRecovery;
use crate::domain::{Lang, Secret};
use crate::oidc::params::Params;
use crate::web::AppState;
use crate::web::browser::{Browser, clear_cookie, set_cookie};
use crate::web::error::AppError;
use crate::web::pages::{View, with_cookies};

const URL: &str = "/recovery/identifier";
/// The CSRF context of the first form (no flow yet).
const START: Context<'static> = Context::RecoveryStart { kind: "identifier" };

/// What `recovery_identifier.html` shows (see the template's header for each step).
#[derive(Serialize, Default)]
struct IdentifierPage {
    step: &'static str,
    step_number: usize,
    step_count: usize,
    /// The type renews the identifier (consular election): every page of the flow is headed
    /// "Renouvellement de votre identifiant" (issue #13, item 11).
    renewal: bool,
    csrf: String,
    client_name: String,
    login_url: String,
    restart_url: String,
    // The first form.
    user_type: String,
    request_id: String,
    client_id: String,
    asks: &'static str,
    birth_date_asked: bool,
    alternate_id_label: String,
    email: String,
    alternate_id: String,
    birth_date: String,
    captcha: Option<Challenge>,
    captcha_error: bool,
    // The secret question.
    secret_question_mode: &'static str,
    secret_question: String,
    // The SMS code.
    attempts_left: i64,
    code_error: bool,
    // The end.
    new_identifier: String,
    support: String,
    support_url: String,
}

/// The first page, kept after a refused captcha.
#[derive(Default)]
struct Typed {
    input: FirstPage,
    captcha: Option<Challenge>,
    captcha_error: bool,
}

fn continue_url(lang: Lang) -> String {
    format!("{URL}?continue=1&lang={}", lang.code())
}

async fn view(
    state: &AppState,
    browser: &Browser,
    origin: &Origin,
    user_type: &str,
) -> Result<(View, String), AppError> {
    let client = client_of(state, origin).await?;
    let view = view_for(state, browser, client.as_ref(), origin, state.services.user_types.get(user_type));
    Ok((view, client.map(|c| c.name).unwrap_or_default()))
}

/// Steps of the variant and the number of `step` in them ("Étape n sur m").
fn progress(variant: IdentifierRecovery, asks_question: bool, step: &str) -> (usize, usize) {
    if matches!(step, "link_invalid" | "code_dead" | "expired" | "no_phone") {
        return (0, 0);
    }
    match variant {
        IdentifierRecovery::NewIdentifier => {
            let n = match step {
                "form" => 1,
                "link_sent" => 2,
                "sms_code" => 3,
                _ => 4,
            };
            (n, 4)
        }
        _ => {
            let count = if asks_question { 3 } else { 2 };
            let n = match step {
                "form" => 1,
                "secret_question" | "secrets_missing" => 2,
                _ => count,
            };
            (n, count)
        }
    }
}

fn cookie_of(state: &AppState, secret: &Secret) -> String {
    set_cookie(
        state.cookies.recovery,
        secret.expose(),
        state.cookies.secure,
        Some(state.services.recovery.flow_lifetime),
    )
}

/// Renders `page` for the type and origin, filling the common parts; its forms act on
/// `context` (`None`: a page without a form).
async fn render(
    state: &AppState,
    browser: &Browser,
    origin: &Origin,
    user_type: &str,
    status: StatusCode,
    mut page: IdentifierPage,
    context: Option<Context<'_>>,
) -> Result<Response, AppError> {
    let (view, client_name) = view(state, browser, origin, user_type).await?;
    let (csrf, set) = context.map(|c| state.form_token(browser, &c)).unwrap_or_default();
    let rules = state.services.user_types.of(user_type);
    (page.step_number, page.step_count) =
        progress(rules.recovery.identifier, rules.recovery_asks_question(), page.step);
    page.renewal = rules.recovery.identifier == IdentifierRecovery::NewIdentifier;
    page.csrf = csrf;
    page.client_name = client_name;
    page.login_url = login_url(origin, view.lang, Some(rules));
    page.restart_url = format!("{URL}{}", query_of(origin, view.lang, &[("user_type", user_type)]));
    Ok(state.page(status, &view, "recovery_identifier.html", &page, None, with_cookies(set)))
}

/// The first form of the type.
async fn form(
    state: &AppState,
    browser: &Browser,
    user_type: &str,
    origin: &Origin,
    status: StatusCode,
    typed: Typed,
) -> Result<Response, AppError> {
    let s = &state.services;
    let rule = &s.user_types.of(user_type).recovery;
    let lang = browser.lang(origin.ui_locales.as_deref());
    let asks = Asks::of(rule);
    let captcha = match typed.captcha {
        Some(challenge) => Some(challenge),
        None => gate::challenge_for(s, &browser.ip, rule.captcha, CAPTCHA_IDENTIFIER)
            .await?
            .map_err(|TooManyPending| super::captcha::too_many_requests())?,
    };
    let page = IdentifierPage {
        step: "form",
        user_type: user_type.to_owned(),
        request_id: origin.request_id().unwrap_or_default().to_owned(),
        client_id: if origin.request_id().is_none() {
            origin.client_id.clone().unwrap_or_default()
        } else {
            String::new()
        },
        asks: asks.as_str(),
        birth_date_asked: matches!(asks, Asks::AlternateId { birth_date: true }),
        alternate_id_label: rule.alternate_id_label.get(lang).to_owned(),
        email: typed.input.email,
        alternate_id: typed.input.alternate_id,
        birth_date: typed.input.birth_date.unwrap_or_default(),
        captcha,
        captcha_error: typed.captcha_error,
        ..IdentifierPage::default()
    };
    render(state, browser, origin, user_type, status, page, Some(START)).await
}

/// The page of a flow's current step.
async fn flow_page(
    state: &AppState,
    browser: &Browser,
    flow: &Flow,
    status: StatusCode,
    mut page: IdentifierPage,
) -> Result<Response, AppError> {
    let s = &state.services;
    let user_type = s.user_types.of(&flow.user_type);
    let lang = browser.lang(flow.ui_locales.as_deref());
    page.step = match flow.step {
        Step::SecretQuestion => {
            page.secret_question_mode = "answer";
            page.secret_question = recovery::question_for(s, flow, lang).await?.unwrap_or_default();
            "secret_question"
        }
        Step::SecretsMissing => {
            let r = &s.recovery;
            (page.support, page.support_url) = r.support_for(Some(user_type), lang);
            "secrets_missing"
        }
        Step::SmsCode => "sms_code",
        Step::Done if !page.new_identifier.is_empty() => "new_identifier",
        Step::Done => "already_shown",
        _ if user_type.recovery.identifier == IdentifierRecovery::NewIdentifier => "link_sent",
        _ => "mail_sent",
    };
    let context = Context::Recovery { flow_id: &flow.id };
    render(state, browser, &flow.origin(), &flow.user_type, status, page, Some(context)).await
}

/// A page outside any flow (dead link, expired flow…), with a way to start over.
async fn dead_end(
    state: &AppState,
    browser: &Browser,
    origin: &Origin,
    user_type: &str,
    status: StatusCode,
    step: &'static str,
) -> Result<Response, AppError> {
    let mut page = IdentifierPage { step, ..IdentifierPage::default() };
    if step == "no_phone" {
        let lang = browser.lang(origin.ui_locales.as_deref());
        let r = &state.services.recovery;
        (page.support, page.support_url) = r.support_for(Some(state.services.user_types.of(user_type)), lang);
    }
    let mut response = render(state, browser, origin, user_type, status, page, None).await?;
    if let Ok(value) = clear_cookie(state.cookies.recovery, state.cookies.secure).parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

async fn load(state: &AppState, browser: &Browser) -> Result<Option<Flow>, AppError> {
    match browser.cookie(state.cookies.recovery) {
        Some(secret) => Ok(recovery::load(&state.services, secret, FlowKind::Identifier).await?),
        None => Ok(None),
    }
}

/// The type to restart with when there is no flow: the hinted one, else the only one.
fn fallback_type(state: &AppState, hint: Option<&str>) -> String {
    let types = &state.services.user_types;
    hint.and_then(|id| types.get(id)).or_else(|| types.all().first()).map(|t| t.id.clone()).unwrap_or_default()
}

pub async fn recovery_identifier_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let params = parse_params(query.as_deref().unwrap_or_default())?;
    if field(&params, "continue")?.is_some() {
        return match load(&state, &browser).await? {
            Some(flow) => flow_page(&state, &browser, &flow, StatusCode::OK, IdentifierPage::default()).await,
            None => {
                let user_type = fallback_type(&state, params.get("user_type").ok().flatten());
                dead_end(&state, &browser, &Origin::default(), &user_type, StatusCode::BAD_REQUEST, "expired").await
            }
        };
    }
    match choose_type(&state, &browser, &params, FlowKind::Identifier).await? {
        Chosen::Page(response) => Ok(response),
        Chosen::Type { user_type, origin } => {
            form(&state, &browser, &user_type, &origin, StatusCode::OK, Typed::default()).await
        }
    }
}

pub async fn recovery_identifier_post(
    State(state): State<AppState>,
    browser: Browser,
    form: PostedForm,
) -> Result<Response, AppError> {
    post_step(&state, &browser, form).await
}

async fn post_step(state: &AppState, browser: &Browser, form: PostedForm) -> Result<Response, AppError> {
    if form.locator("step")? == Some("form") {
        let params = form.check(state, START)?;
        return identify(state, browser, &params).await;
    }
    let Some(mut flow) = load(state, browser).await? else {
        let user_type = fallback_type(state, form.locator("user_type").ok().flatten());
        return dead_end(state, browser, &Origin::default(), &user_type, StatusCode::BAD_REQUEST, "expired").await;
    };
    let params = &form.check(state, Context::Recovery { flow_id: &flow.id })?;
    let action = match field(params, "step")?.unwrap_or_default() {
        "cancel" => Action::Cancel,
        "secret_question" => Action::Answer(Secret::new(field(params, "secret_answer")?.unwrap_or_default())),
        "sms_code" => Action::SmsCode(field(params, "code")?.unwrap_or_default().to_owned()),
        _ => Action::Other,
    };
    let lang = browser.lang(flow.ui_locales.as_deref());
    let origin = flow.origin();
    match identifier::act(&state.services, &mut flow, action, &browser.client_info()).await? {
        Acted::Cancelled => {
            let user_type = state.services.user_types.get(&flow.user_type);
            let mut response = see_other(&login_url(&origin, lang, user_type));
            if let Ok(value) = clear_cookie(state.cookies.recovery, state.cookies.secure).parse() {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            Ok(response)
        }
        Acted::Verified(verified) => match verified {
            Verified::Renewed { new_identifier } => {
                let page = IdentifierPage { new_identifier, ..IdentifierPage::default() };
                flow_page(state, browser, &flow, StatusCode::OK, page).await
            }
            Verified::Wrong { attempts_left } => {
                let page = IdentifierPage { attempts_left, code_error: true, ..IdentifierPage::default() };
                flow_page(state, browser, &flow, StatusCode::BAD_REQUEST, page).await
            }
            Verified::Dead => {
                dead_end(state, browser, &origin, &flow.user_type, StatusCode::BAD_REQUEST, "code_dead").await
            }
            Verified::Gone => {
                dead_end(state, browser, &origin, &flow.user_type, StatusCode::GONE, "link_invalid").await
            }
        },
        // Answered, or a step already answered (back, a second tab): show where the flow stands.
        Acted::Moved => Ok(see_other(&continue_url(lang))),
    }
}

/// The first form: CSRF (done), then the flow (its captcha first).
async fn identify(state: &AppState, browser: &Browser, params: &Params) -> Result<Response, AppError> {
    let s = &state.services;
    let (user_type, origin) = match choose_type(state, browser, params, FlowKind::Identifier).await? {
        Chosen::Page(response) => return Ok(response),
        Chosen::Type { user_type, origin } => (user_type, origin),
    };
    let text = |name: &str| -> Result<String, AppError> {
        Ok(field(params, name)?.unwrap_or_default().chars().take(254).collect())
    };
    let input = FirstPage {
        email: text("email")?,
        alternate_id: text("alternate_id")?,
        birth_date: Some(text("birth_date")?).filter(|d| !d.is_empty()),
    };
    let captcha = super::captcha::answer_of(params)?;
    match identifier::begin(s, &user_type, &input, &captcha, &origin, &browser.client_info()).await? {
        Begun::Captcha(CaptchaRefusal::Alternative(challenge)) => {
            let typed = Typed { input, captcha: Some(challenge), captcha_error: false };
            form(state, browser, &user_type, &origin, StatusCode::OK, typed).await
        }
        Begun::Captcha(CaptchaRefusal::Wrong) => {
            let typed = Typed { input, captcha: None, captcha_error: true };
            form(state, browser, &user_type, &origin, StatusCode::BAD_REQUEST, typed).await
        }
        Begun::Captcha(CaptchaRefusal::TooManyPending) => Err(super::captcha::too_many_requests()),
        Begun::Throttled(_) => Err(AppError::page(StatusCode::TOO_MANY_REQUESTS, "recovery_throttled")),
        Begun::Started { secret, flow } => {
            let lang = browser.lang(flow.ui_locales.as_deref());
            let mut response = see_other(&continue_url(lang));
            if let Ok(value) = cookie_of(state, &secret).parse() {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            Ok(response)
        }
    }
}

/// `GET /recovery/identifier/renew?t=…`: the renewal link. Never consumes it; sends the SMS
/// code (not twice within `SMS_RESEND_SECONDS`) and goes to the code step.
pub async fn recovery_identifier_renew_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let params = parse_params(query.as_deref().unwrap_or_default())?;
    let token = field(&params, "t")?.unwrap_or_default();
    let current = load(&state, &browser).await?;
    let fallback = fallback_type(&state, params.get("user_type").ok().flatten());
    let origin = Origin::default();
    match identifier::open_link(&state.services, token, current.as_ref(), &browser.client_info()).await? {
        Opened::Invalid { user_type } => {
            let user_type = user_type.unwrap_or(fallback);
            dead_end(&state, &browser, &origin, &user_type, StatusCode::GONE, "link_invalid").await
        }
        Opened::NoPhone { user_type } => {
            dead_end(&state, &browser, &origin, &user_type, StatusCode::OK, "no_phone").await
        }
        Opened::Throttled(_) => Err(AppError::page(StatusCode::TOO_MANY_REQUESTS, "recovery_throttled")),
        Opened::SmsFailed => Err(AppError::page(StatusCode::SERVICE_UNAVAILABLE, "identifier_sms_failed")),
        Opened::Flow { secret, flow } => {
            let lang = browser.lang(flow.ui_locales.as_deref());
            let mut response = see_other(&continue_url(lang)).into_response();
            if let Some(secret) = secret
                && let Ok(value) = cookie_of(&state, &secret).parse()
            {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            Ok(response)
        }
    }
}
