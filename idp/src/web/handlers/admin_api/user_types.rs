//! /admin/api/v1/user-types: the configured user types and their policies (read only; they
//! are declared in the settings file).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{Caller, needs};
use super::paging::{Page, Window};
use super::problem::{ApiQuery, Problem, ReadErrors};
use crate::domain::user_type::{Localized, UserType};
use crate::web::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct LocalizedText {
    pub fr: String,
    pub en: String,
}

impl From<&Localized> for LocalizedText {
    fn from(l: &Localized) -> Self {
        LocalizedText { fr: l.fr.clone(), en: l.en.clone() }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserTypeView {
    pub id: String,
    pub label: LocalizedText,
    pub description: LocalizedText,
    /// The type new accounts get when none is named.
    pub default: bool,
    /// Length, classes, history, age, strength (`PasswordPolicy`).
    #[schema(value_type = Object)]
    pub password_policy: serde_json::Value,
    /// `max_failures` and `lock_minutes`.
    #[schema(value_type = Object)]
    pub lockout: serde_json::Value,
    pub secret_question: bool,
    /// `none`, `arithmetic` or `image`.
    pub captcha: String,
    pub terms: Option<LocalizedText>,
    pub theme: Option<String>,
    /// Self-service recovery (`RecoveryRule`).
    #[schema(value_type = Object)]
    pub recovery: serde_json::Value,
}

impl UserTypeView {
    fn new(t: &UserType, default: bool) -> Self {
        let json = |v: serde_json::Result<serde_json::Value>| v.unwrap_or_default();
        UserTypeView {
            id: t.id.clone(),
            label: (&t.label).into(),
            description: (&t.description).into(),
            default,
            password_policy: json(serde_json::to_value(&t.password_policy)),
            lockout: json(serde_json::to_value(t.lockout)),
            secret_question: t.secret_question,
            captcha: json(serde_json::to_value(t.captcha)).as_str().unwrap_or_default().to_owned(),
            terms: t.terms.as_ref().map(LocalizedText::from),
            theme: t.theme.clone(),
            recovery: json(serde_json::to_value(&t.recovery)),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserTypeListQuery {
    /// 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    #[param(minimum = 0)]
    pub offset: Option<u64>,
}

/// List the user types, in the order of the settings file.
#[utoipa::path(get, path = "/admin/api/v1/user-types", tag = "user-types", params(UserTypeListQuery),
    security(("bearer" = ["idp.admin"]), ("bearer" = ["idp.support"])),
    responses((status = 200, description = "The user types", body = Page<UserTypeView>), ReadErrors))]
pub async fn user_types_get(
    State(state): State<AppState>,
    _caller: Caller<needs::ViewUsers>,
    ApiQuery(query): ApiQuery<UserTypeListQuery>,
) -> Result<Json<Page<UserTypeView>>, Problem> {
    let window = Window::parse(query.limit, query.offset)?;
    let types = &state.services.user_types;
    let default = &types.default_type().id;
    Ok(Json(window.page_of(types.all().iter().map(|t| UserTypeView::new(t, &t.id == default)).collect())))
}
