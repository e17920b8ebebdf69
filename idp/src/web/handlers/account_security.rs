//! The security pages of the account space (issue #4): `/account/password` (current password,
//! new one and its confirmation, on the policy fragment) and `/account/secret-question`
//! (current password and a new question and answer). Both need a signed-in account-space
//! session (`account::signed_in`); the flows are `account::self_service`. Every failure shows
//! the page again with its own message and writes nothing; success goes back to /account with
//! a confirmation.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::account::{Notice, Signed, account_url, signed_in};
use super::password_check::FormKind;
use super::password_policy::PasswordFields;
use super::{PostedForm, field, see_other};
use crate::account::password_change::ChangeError;
use crate::account::secret_question::{self, SecretQuestionError};
use crate::account::self_service::{self, SelfServiceError};
use crate::domain::Secret;
use crate::web::AppState;
use crate::web::browser::Browser;
use crate::web::error::AppError;
use crate::web::pages::{View, with_cookies};

/// What went wrong with the current password, as a catalog key.
fn current_password_error(err: &SelfServiceError) -> Option<&'static str> {
    match err {
        SelfServiceError::WrongPassword => Some("account_current_password_wrong"),
        SelfServiceError::Locked => Some("account_current_password_locked"),
        _ => None,
    }
}

fn status_of(err: &SelfServiceError) -> StatusCode {
    match err {
        SelfServiceError::Locked => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::BAD_REQUEST,
    }
}

// ---- /account/password ----

#[derive(Serialize)]
struct PasswordPage {
    csrf: String,
    /// The message about the current password (empty: none).
    current_error: String,
    #[serde(flatten)]
    fields: PasswordFields,
}

async fn render_password(
    state: &AppState,
    browser: &Browser,
    view: &View,
    signed: &Signed,
    status: StatusCode,
    current_error: Option<&str>,
    password_errors: Vec<String>,
) -> Result<Response, AppError> {
    let (csrf, set) = state.form_token(browser, &signed.csrf_context());
    let page = PasswordPage {
        csrf,
        current_error: current_error.map(|key| state.text(view, key)).unwrap_or_default(),
        fields: PasswordFields::for_user(state, view, &signed.user, FormKind::Account, password_errors).await?,
    };
    Ok(state.page(status, view, "account_password.html", &page, None, with_cookies(set)))
}

pub async fn account_password_get(State(state): State<AppState>, browser: Browser) -> Result<Response, AppError> {
    let Some(signed) = signed_in(&state, &browser).await? else {
        return super::account::sign_in(&state, &browser).await;
    };
    let view = View::new(&state, &browser, None, None);
    render_password(&state, &browser, &view, &signed, StatusCode::OK, None, Vec::new()).await
}

pub async fn account_password_post(
    State(state): State<AppState>,
    browser: Browser,
    form: PostedForm,
) -> Result<Response, AppError> {
    let Some(signed) = signed_in(&state, &browser).await? else {
        return Ok(see_other("/account"));
    };
    let params = form.check(&state, signed.csrf_context())?;
    let (acct, user) = (&signed.acct, &signed.user);
    let view = View::new(&state, &browser, None, None);
    let current = field(&params, "current_password")?.unwrap_or_default();
    let new = Secret::new(field(&params, "new_password")?.unwrap_or_default());
    let confirm = Secret::new(field(&params, "confirm_password")?.unwrap_or_default());
    if current.is_empty() {
        let key = Some("account_current_password_required");
        return render_password(&state, &browser, &view, &signed, StatusCode::BAD_REQUEST, key, Vec::new()).await;
    }
    let outcome = self_service::change_password(
        &state.services,
        user,
        &Secret::new(current),
        &new,
        &confirm,
        &browser.client_info(),
        acct.sid.as_deref(),
    )
    .await;
    let err = match outcome {
        Ok(()) => return Ok(see_other(&account_url(Notice::PasswordChanged, view.lang))),
        Err(SelfServiceError::Infra(e)) => return Err(e.into()),
        // The account disappeared meanwhile: /account signs the visitor out.
        Err(SelfServiceError::NewPassword(ChangeError::Gone)) => return Ok(see_other("/account")),
        Err(err) => err,
    };
    let password_errors = match &err {
        SelfServiceError::NewPassword(refused) => super::password_policy::refusal_messages(&state, &view, refused),
        _ => Vec::new(),
    };
    let status = status_of(&err);
    render_password(&state, &browser, &view, &signed, status, current_password_error(&err), password_errors).await
}

// ---- /account/secret-question ----

#[derive(Serialize)]
struct SecretQuestionPage {
    csrf: String,
    current_error: String,
    /// The question in place, if any.
    current_question: Option<String>,
    secret_question_mode: &'static str,
    secret_questions: Vec<String>,
    secret_question_choice: String,
    secret_question_custom: String,
    secret_question_error: Option<&'static str>,
}

/// What the visitor typed, kept when the page is shown again.
#[derive(Default)]
struct QuestionForm<'a> {
    choice: &'a str,
    custom: &'a str,
}

impl QuestionForm<'_> {
    /// The question asked: the chosen one from `offered`, or the user's own. `None` for a
    /// choice that is neither (a tampered form).
    fn question<'b>(&'b self, offered: &'b [String]) -> Option<&'b str> {
        match self.choice {
            "custom" => Some(self.custom),
            chosen => offered.iter().map(String::as_str).find(|q| *q == chosen),
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn render_secret_question(
    state: &AppState,
    browser: &Browser,
    view: &View,
    signed: &Signed,
    status: StatusCode,
    form: &QuestionForm<'_>,
    current_error: Option<&str>,
    secret_question_error: Option<&'static str>,
) -> Result<Response, AppError> {
    let s = &state.services;
    let current_question = secret_question::question_of(s, &signed.user.id).await?;
    let (csrf, set) = state.form_token(browser, &signed.csrf_context());
    let page = SecretQuestionPage {
        csrf,
        current_error: current_error.map(|key| state.text(view, key)).unwrap_or_default(),
        current_question,
        secret_question_mode: "choose",
        secret_questions: secret_question::offered(s, view.lang),
        secret_question_choice: form.choice.to_owned(),
        secret_question_custom: form.custom.to_owned(),
        secret_question_error,
    };
    Ok(state.page(status, view, "account_secret_question.html", &page, None, with_cookies(set)))
}

pub async fn account_secret_question_get(
    State(state): State<AppState>,
    browser: Browser,
) -> Result<Response, AppError> {
    let Some(signed) = signed_in(&state, &browser).await? else {
        return super::account::sign_in(&state, &browser).await;
    };
    let view = View::new(&state, &browser, None, None);
    render_secret_question(&state, &browser, &view, &signed, StatusCode::OK, &QuestionForm::default(), None, None).await
}

pub async fn account_secret_question_post(
    State(state): State<AppState>,
    browser: Browser,
    posted: PostedForm,
) -> Result<Response, AppError> {
    let Some(signed) = signed_in(&state, &browser).await? else {
        return Ok(see_other("/account"));
    };
    let params = posted.check(&state, signed.csrf_context())?;
    let view = View::new(&state, &browser, None, None);
    let current = field(&params, "current_password")?.unwrap_or_default();
    let form = QuestionForm {
        choice: field(&params, "secret_question_choice")?.unwrap_or_default(),
        custom: field(&params, "secret_question_custom")?.unwrap_or_default(),
    };
    let answer = Secret::new(field(&params, "secret_answer")?.unwrap_or_default());
    let bad_request = StatusCode::BAD_REQUEST;
    if current.is_empty() {
        let key = Some("account_current_password_required");
        return render_secret_question(&state, &browser, &view, &signed, bad_request, &form, key, None).await;
    }
    let offered = secret_question::offered(&state.services, view.lang);
    let Some(question) = form.question(&offered) else {
        let key = Some("secret_question_bad_question");
        return render_secret_question(&state, &browser, &view, &signed, bad_request, &form, None, key).await;
    };
    let info = browser.client_info();
    let user = &signed.user;
    let outcome =
        self_service::change_secret_question(&state.services, user, &Secret::new(current), question, &answer, &info)
            .await;
    let err = match outcome {
        Ok(()) => return Ok(see_other(&account_url(Notice::SecretQuestionSet, view.lang))),
        Err(SelfServiceError::Infra(e)) => return Err(e.into()),
        Err(err) => err,
    };
    let question_error = match &err {
        SelfServiceError::SecretQuestion(SecretQuestionError::BadQuestion) => Some("secret_question_bad_question"),
        SelfServiceError::SecretQuestion(SecretQuestionError::BadAnswer) => Some("secret_question_bad_answer"),
        _ => None,
    };
    let status = status_of(&err);
    let current_error = current_password_error(&err);
    render_secret_question(&state, &browser, &view, &signed, status, &form, current_error, question_error).await
}
