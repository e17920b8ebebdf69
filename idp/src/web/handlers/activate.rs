//! `/activate?token=…` (issue #4): "Activer mon compte". GET shows the password form for a
//! valid link and never consumes it (mail scanners prefetch links); POST sets the password
//! through `account::activation::activate`. An unknown, used or expired link gets a themed page
//! saying so and whom to ask. The remaining first-login steps come at the next sign-in.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::password_check::FormKind;
use super::password_policy::PasswordFields;
use super::{PostedForm, field, parse_params};
use crate::account::activation;
use crate::account::csrf::Context;
use crate::account::password_change::ChangeError;
use crate::domain::{Secret, User};
use crate::web::AppState;
use crate::web::browser::Browser;
use crate::web::error::AppError;
use crate::web::pages::{View, with_cookies};

/// What `activate.html` shows.
#[derive(Serialize, Default)]
#[serde(rename_all = "snake_case")]
enum Step {
    /// The password form.
    #[default]
    Form,
    /// The link is unknown, used or expired.
    Invalid,
    /// The password is set.
    Done,
}

#[derive(Serialize, Default)]
struct ActivatePage {
    step: Step,
    csrf: String,
    token: String,
    login: String,
    #[serde(flatten)]
    fields: PasswordFields,
}

/// The page's theme: the user type's when it has one.
fn view(state: &AppState, browser: &Browser, user: Option<&User>) -> View {
    let user_type = user.map(|u| state.services.user_types.of(&u.user_type));
    View::with_user_type(state, browser, None, None, user_type)
}

fn render(state: &AppState, view: &View, status: StatusCode, page: ActivatePage) -> Response {
    state.page(status, view, "activate.html", &page, None, with_cookies(None))
}

fn invalid(state: &AppState, browser: &Browser) -> Response {
    let view = view(state, browser, None);
    render(state, &view, StatusCode::GONE, ActivatePage { step: Step::Invalid, ..ActivatePage::default() })
}

async fn form(
    state: &AppState,
    browser: &Browser,
    user: &User,
    token: &str,
    status: StatusCode,
    errors: Vec<String>,
) -> Result<Response, AppError> {
    let mut view = view(state, browser, Some(user));
    // After a refused POST the language switch must still carry the link's token.
    view.lang_switch_url = format!(
        "/activate?{}",
        serde_urlencoded::to_string([("token", token), ("lang", view.lang.other().code())]).unwrap_or_default()
    );
    let (csrf, set) = state.form_token(browser, &Context::Activation { token });
    let page = ActivatePage {
        step: Step::Form,
        csrf,
        token: token.to_owned(),
        login: user.login.clone(),
        fields: PasswordFields::for_user(state, &view, user, FormKind::Activation, errors).await?,
    };
    Ok(state.page(status, &view, "activate.html", &page, None, with_cookies(set)))
}

pub async fn activate_get(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let params = parse_params(query.as_deref().unwrap_or_default())?;
    let token = field(&params, "token")?.unwrap_or_default();
    match activation::pending(&state.services, token).await? {
        Some(user) => form(&state, &browser, &user, token, StatusCode::OK, Vec::new()).await,
        None => Ok(invalid(&state, &browser)),
    }
}

pub async fn activate_post(
    State(state): State<AppState>,
    browser: Browser,
    posted: PostedForm,
) -> Result<Response, AppError> {
    let token = posted.locator("token")?.unwrap_or_default().to_owned();
    let params = posted.check(&state, Context::Activation { token: &token })?;
    let token = token.as_str();
    let new = Secret::new(field(&params, "new_password")?.unwrap_or_default());
    let confirm = Secret::new(field(&params, "confirm_password")?.unwrap_or_default());
    match activation::activate(&state.services, token, &new, &confirm, &browser.client_info()).await {
        Ok(user) => {
            let view = view(&state, &browser, Some(&user));
            let page = ActivatePage { step: Step::Done, ..ActivatePage::default() };
            Ok(render(&state, &view, StatusCode::OK, page))
        }
        Err(ChangeError::Gone) => Ok(invalid(&state, &browser)),
        Err(ChangeError::Infra(e)) => Err(e.into()),
        Err(refused) => {
            // The link still works (nothing was written): show the form again with the reasons.
            let Some(user) = activation::pending(&state.services, token).await? else {
                return Ok(invalid(&state, &browser));
            };
            let view = view(&state, &browser, Some(&user));
            let errors = super::password_policy::refusal_messages(&state, &view, &refused);
            form(&state, &browser, &user, token, StatusCode::UNPROCESSABLE_ENTITY, errors).await
        }
    }
}
