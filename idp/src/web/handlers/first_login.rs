//! `GET/POST /first-login`: the pages of the first-login steps (issue #4), between a right
//! password and the session: forced password change, secret question, terms, captcha, then back
//! to the relying party. One URL: the page shows the step the account owes now
//! (`account::first_login`); a POST names its step, and a POST for a step that is done or not
//! current only redirects to the current one, so back, refresh and a second tab are harmless.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::password_check::FormKind;
use super::password_policy::PasswordFields;
use super::resume::{self, WhenGone};
use super::{PostedForm, field, see_other};
use crate::account::captcha::{self, Challenge};
use crate::account::csrf::Context;
use crate::account::first_login::{self, AfterStep, CAPTCHA_PURPOSE, PendingSignIn, Step};
use crate::account::password_change::ChangeError;
use crate::account::secret_question::{self, SecretQuestionError};
use crate::account::signin;
use crate::domain::{Secret, User};
use crate::oidc::params::Params;
use crate::web::AppState;
use crate::web::browser::{Browser, clear_cookie, set_cookie};
use crate::web::error::AppError;
use crate::web::pages::{View, with_cookies};

const URL: &str = "/first-login";
/// The hidden `step` of the page shown when nothing is owed any more (the account was completed
/// from another browser meanwhile): a button, so that a GET never signs anyone in.
const CONTINUE: &str = "continue";

/// The page: the progress, then the fields of one step (see `first_login.html`).
#[derive(Serialize, Default)]
struct FirstLoginPage {
    csrf: String,
    step: &'static str,
    step_number: usize,
    step_count: usize,
    client_name: String,
    password_reason: &'static str,
    #[serde(flatten)]
    fields: PasswordFields,
    secret_question_mode: &'static str,
    secret_questions: Vec<String>,
    secret_question_choice: String,
    secret_question_custom: String,
    secret_question_error: Option<&'static str>,
    terms: String,
    /// The document the terms refer to, linked beside the checkbox.
    terms_url: String,
    /// The user accepted an earlier version: the page says the terms changed.
    terms_renewed: bool,
    terms_error: bool,
    captcha: Option<Challenge>,
    captcha_error: bool,
}

/// What a refused step keeps or adds on the page shown again.
#[derive(Default)]
struct Retry {
    password_errors: Vec<String>,
    secret_question_choice: String,
    secret_question_custom: String,
    secret_question_error: Option<&'static str>,
    terms_error: bool,
    captcha: Option<Challenge>,
    captcha_error: bool,
}

enum StepResult {
    Done,
    /// The same step again, with `status` (200 for the captcha's accessible alternative).
    Again(StatusCode, Retry),
    /// The account disappeared meanwhile: nothing was written.
    Gone,
}

/// The flow's cookie was unknown, tampered with, expired or outlived a password change: a themed
/// page, and the cookie goes.
fn expired(state: &AppState) -> Response {
    let mut response = AppError::page(StatusCode::BAD_REQUEST, "first_login_expired").into_response();
    if let Ok(value) = clear_cookie(state.cookies.first_login, state.cookies.secure).parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

async fn load(state: &AppState, browser: &Browser) -> Result<Option<(PendingSignIn, User)>, AppError> {
    match browser.cookie(state.cookies.first_login) {
        Some(secret) => Ok(first_login::load(&state.services, secret).await?),
        None => Ok(None),
    }
}

/// The client's theme when it has one, else the user type's; and where the last step's POST
/// may be redirected to (CSP `form-action`).
async fn view_for(
    state: &AppState,
    browser: &Browser,
    pending: &PendingSignIn,
    user: &User,
) -> Result<(View, String, Option<String>), AppError> {
    let s = &state.services;
    let redirect_origin = resume::redirect_origin(state, &pending.continuation).await?;
    let client = first_login::client(s, pending).await?;
    let user_type = s.user_types.of(&user.user_type);
    let view = View::with_user_type(state, browser, client.as_ref(), pending.ui_locales.as_deref(), Some(user_type));
    Ok((view, client.map(|c| c.name).unwrap_or_default(), redirect_origin))
}

async fn render(
    state: &AppState,
    browser: &Browser,
    pending: &PendingSignIn,
    user: &User,
    step: Option<Step>,
    status: StatusCode,
    retry: Retry,
) -> Result<Response, AppError> {
    let s = &state.services;
    let (view, client_name, redirect_origin) = view_for(state, browser, pending, user).await?;
    let (csrf, set) = state.form_token(browser, &Context::FirstLogin { flow_id: &pending.id });
    let user_type = s.user_types.of(&user.user_type);
    let (step_number, step_count) = step.map(|st| pending.progress(st)).unwrap_or((0, 0));
    let mut page = FirstLoginPage {
        csrf,
        step: step.map_or(CONTINUE, Step::as_str),
        step_number,
        step_count,
        client_name,
        secret_question_choice: retry.secret_question_choice,
        secret_question_custom: retry.secret_question_custom,
        secret_question_error: retry.secret_question_error,
        terms_error: retry.terms_error,
        captcha_error: retry.captcha_error,
        ..FirstLoginPage::default()
    };
    match step {
        Some(Step::Password) => {
            page.password_reason = pending.password_reason(user).as_str();
            page.fields =
                PasswordFields::for_user(state, &view, user, FormKind::FirstLogin, retry.password_errors).await?;
        }
        Some(Step::SecretQuestion) => {
            page.secret_question_mode = "choose";
            page.secret_questions = secret_question::offered(s, view.lang);
        }
        Some(Step::Terms) => {
            page.terms = user_type.terms.as_ref().map(|t| t.get(view.lang).to_owned()).unwrap_or_default();
            page.terms_url = user_type.terms_url.clone().unwrap_or_default();
            page.terms_renewed = user.terms_accepted_at.is_some();
        }
        Some(Step::Captcha) => {
            page.captcha = match retry.captcha {
                Some(challenge) => Some(challenge),
                None => captcha::issue(s, user_type.captcha, CAPTCHA_PURPOSE).await?,
            };
        }
        None => {}
    }
    // Any step may turn out to be the last one, whose answer redirects to the relying party.
    Ok(state.page(status, &view, "first_login.html", &page, redirect_origin.as_deref(), with_cookies(set)))
}

pub async fn first_login_get(State(state): State<AppState>, browser: Browser) -> Result<Response, AppError> {
    let Some((pending, user)) = load(&state, &browser).await? else {
        return Ok(expired(&state));
    };
    let steps = first_login::remaining(&state.services, &pending, &user).await?;
    render(&state, &browser, &pending, &user, steps.first().copied(), StatusCode::OK, Retry::default()).await
}

pub async fn first_login_post(
    State(state): State<AppState>,
    browser: Browser,
    form: PostedForm,
) -> Result<Response, AppError> {
    let Some((mut pending, user)) = load(&state, &browser).await? else {
        return Ok(expired(&state));
    };
    let params = form.check(&state, Context::FirstLogin { flow_id: &pending.id })?;
    if !first_login::lock(&state.services, &pending).await? {
        // Another tab is running a step of this flow: show whatever it leaves.
        return Ok(see_other(URL));
    }
    let result = post_step(&state, &browser, &mut pending, &user, &params).await;
    let unlocked = first_login::unlock(&state.services, &pending).await;
    let response = result?;
    unlocked?;
    Ok(response)
}

async fn post_step(
    state: &AppState,
    browser: &Browser,
    pending: &mut PendingSignIn,
    user: &User,
    params: &Params,
) -> Result<Response, AppError> {
    let s = &state.services;
    let posted = field(params, "step")?.unwrap_or_default();
    let Some(current) = first_login::remaining(s, pending, user).await?.first().copied() else {
        return if posted == CONTINUE { complete(state, browser, pending, user).await } else { Ok(see_other(URL)) };
    };
    if posted != current.as_str() {
        return Ok(see_other(URL));
    }
    let result = match current {
        Step::Password => password_step(state, browser, pending, user, params).await?,
        Step::SecretQuestion => secret_question_step(state, browser, user, params).await?,
        Step::Terms => terms_step(state, browser, user, params).await?,
        Step::Captcha => captcha_step(state, pending, user, params).await?,
    };
    match result {
        StepResult::Done => {}
        StepResult::Again(status, retry) => {
            return render(state, browser, pending, user, Some(current), status, retry).await;
        }
        StepResult::Gone => return Ok(expired(state)),
    }
    // The step changed the account: what is owed now comes from the store again.
    match first_login::after_step(s, pending).await? {
        AfterStep::Gone => Ok(expired(state)),
        AfterStep::Owed => Ok(see_other(URL)),
        AfterStep::Done(user) => complete(state, browser, pending, &user).await,
    }
}

async fn password_step(
    state: &AppState,
    browser: &Browser,
    pending: &mut PendingSignIn,
    user: &User,
    params: &Params,
) -> Result<StepResult, AppError> {
    let new = Secret::new(field(params, "new_password")?.unwrap_or_default());
    let confirm = Secret::new(field(params, "confirm_password")?.unwrap_or_default());
    let info = browser.client_info();
    let refused = match first_login::change_password(&state.services, pending, user, &new, &confirm, &info).await {
        Ok(()) => return Ok(StepResult::Done),
        Err(ChangeError::Gone) => return Ok(StepResult::Gone),
        Err(ChangeError::Infra(e)) => return Err(e.into()),
        Err(refused) => refused,
    };
    let (view, ..) = view_for(state, browser, pending, user).await?;
    let errors = super::password_policy::refusal_messages(state, &view, &refused);
    Ok(StepResult::Again(StatusCode::BAD_REQUEST, Retry { password_errors: errors, ..Retry::default() }))
}

async fn secret_question_step(
    state: &AppState,
    browser: &Browser,
    user: &User,
    params: &Params,
) -> Result<StepResult, AppError> {
    let s = &state.services;
    let choice = field(params, "secret_question_choice")?.unwrap_or_default();
    let custom = field(params, "secret_question_custom")?.unwrap_or_default();
    let answer = Secret::new(field(params, "secret_answer")?.unwrap_or_default());
    let offered = s.secret_questions.iter().any(|q| q.fr == choice || q.en == choice);
    let retry = |error| Retry {
        secret_question_choice: choice.to_owned(),
        secret_question_custom: custom.to_owned(),
        secret_question_error: Some(error),
        ..Retry::default()
    };
    let question = match choice {
        "custom" => custom,
        _ if offered => choice,
        _ => return Ok(StepResult::Again(StatusCode::BAD_REQUEST, retry("secret_question_bad_question"))),
    };
    match first_login::set_secret_question(s, user, question, &answer, &browser.client_info()).await {
        Ok(()) => Ok(StepResult::Done),
        Err(SecretQuestionError::BadQuestion) => {
            Ok(StepResult::Again(StatusCode::BAD_REQUEST, retry("secret_question_bad_question")))
        }
        Err(SecretQuestionError::BadAnswer) => {
            Ok(StepResult::Again(StatusCode::BAD_REQUEST, retry("secret_question_bad_answer")))
        }
        Err(SecretQuestionError::Infra(e)) => Err(e.into()),
    }
}

async fn terms_step(state: &AppState, browser: &Browser, user: &User, params: &Params) -> Result<StepResult, AppError> {
    if field(params, "accept_terms")? != Some("yes") {
        return Ok(StepResult::Again(StatusCode::BAD_REQUEST, Retry { terms_error: true, ..Retry::default() }));
    }
    first_login::accept_terms(&state.services, user, &browser.client_info()).await?;
    Ok(StepResult::Done)
}

async fn captcha_step(
    state: &AppState,
    pending: &mut PendingSignIn,
    user: &User,
    params: &Params,
) -> Result<StepResult, AppError> {
    let s = &state.services;
    if let Some(challenge) = super::captcha::arithmetic_instead(s, None, params, CAPTCHA_PURPOSE).await? {
        return Ok(StepResult::Again(StatusCode::OK, Retry { captcha: Some(challenge), ..Retry::default() }));
    }
    let id = field(params, "captcha_id")?.unwrap_or_default();
    let answer = field(params, "captcha_answer")?.unwrap_or_default();
    if first_login::pass_captcha(s, pending, id, answer).await? {
        return Ok(StepResult::Done);
    }
    // A wrong, replayed or expired answer: a new challenge of the user type's kind.
    let challenge = captcha::issue(s, s.user_types.of(&user.user_type).captcha, CAPTCHA_PURPOSE).await?;
    Ok(StepResult::Again(
        StatusCode::BAD_REQUEST,
        Retry { captcha: challenge, captcha_error: true, ..Retry::default() },
    ))
}

/// No step left: the flow ends (single use), the session starts as after the login page
/// (`account::signin::finish_first_login`), and what the sign-in was for resumes; when it
/// expired meanwhile, the user lands on /account.
async fn complete(
    state: &AppState,
    browser: &Browser,
    pending: &PendingSignIn,
    user: &User,
) -> Result<Response, AppError> {
    let previous = browser.cookie(state.cookies.session);
    let Some(signed_in) =
        signin::finish_first_login(&state.services, pending, user, &browser.client_info(), previous).await?
    else {
        return Ok(expired(state));
    };
    let cookies = vec![
        super::login::session_cookie(state, &signed_in.cookie_secret),
        clear_cookie(state.cookies.first_login, state.cookies.secure),
    ];
    resume::resume(state, browser, &signed_in, cookies, WhenGone::AccountSpace).await
}

/// `Set-Cookie` of a new flow (see `login_post`).
pub fn flow_cookie(state: &AppState, secret: &Secret) -> String {
    set_cookie(state.cookies.first_login, secret.expose(), state.cookies.secure, Some(first_login::LIFETIME_SECONDS))
}
