//! POST /admin/api/v1/users/import: existing users with their password hashes (`admin::import`),
//! as a CSV file (`text/csv`) or a Keycloak realm export (`application/json`). Whole file or
//! nothing: a refusal names the line or the username and writes nothing.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{StatusCode, header};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::auth::{Caller, needs};
use super::problem::{Problem, WriteErrors};
use super::users::{SentView, UserView};
use crate::admin::import::{self, ImportReport, ImportedStart, KeycloakOptions};
use crate::web::AppState;

/// The query of a Keycloak import (ignored for CSV).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct KeycloakImportQuery {
    /// The user type of a user without the type attribute (the default type when absent).
    user_type: Option<String>,
    /// The attribute that names the user type (`user_type` when absent).
    user_type_attribute: Option<String>,
    /// An attribute imported as an alternate identifier of the same kind; repeatable.
    identifier_attribute: Option<Vec<String>>,
    /// `true`: skip OTP, WebAuthn and other non-password credentials instead of refusing.
    skip_other_credentials: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportedAccountView {
    pub user: UserView,
    /// `password_hash`: active with its imported hash; `activation_link`: a link was sent.
    pub start: String,
    /// The imported hash's scheme (`bcrypt`, `pbkdf2_sha256`…), with `password_hash`.
    pub scheme: Option<String>,
    /// With `activation_link`.
    pub sent: Option<SentView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReportView {
    pub accounts: Vec<ImportedAccountView>,
    /// Groups that did not exist and were created (Keycloak).
    pub groups_created: Vec<String>,
}

impl From<ImportReport> for ImportReportView {
    fn from(report: ImportReport) -> Self {
        let accounts = report
            .accounts
            .into_iter()
            .map(|a| {
                let user = UserView::from(&a.user);
                match a.start {
                    ImportedStart::PasswordHash { scheme } => ImportedAccountView {
                        user,
                        start: "password_hash".into(),
                        scheme: Some(scheme.into()),
                        sent: None,
                    },
                    ImportedStart::ActivationLink(sent) => ImportedAccountView {
                        user,
                        start: "activation_link".into(),
                        scheme: None,
                        sent: Some(sent.into()),
                    },
                }
            })
            .collect();
        ImportReportView { accounts, groups_created: report.groups_created }
    }
}

fn keycloak_options(query: Option<&str>) -> Result<KeycloakOptions, Problem> {
    let mut options = KeycloakOptions::default();
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match key.as_ref() {
            "user_type" => options.user_type = value.into_owned(),
            "user_type_attribute" => options.user_type_attribute = Some(value.into_owned()),
            "identifier_attribute" => options.identifier_attributes.push(value.into_owned()),
            "skip_other_credentials" => {
                options.skip_other_credentials = value.parse().map_err(|_| {
                    Problem::bad_request("skip_other_credentials is true or false")
                        .with_field(Some("skip_other_credentials".into()), "true or false")
                })?;
            }
            other => {
                return Err(Problem::bad_request(format!("unknown query parameter {other:?}"))
                    .with_field(Some(other.to_owned()), "unknown"));
            }
        }
    }
    Ok(options)
}

/// Import users with their password hashes.
///
/// `text/csv`: the header `login,email,given_name,family_name,user_type`, then optionally
/// `birth_date`, `identifiers`, `password_hash` (bcrypt, PBKDF2 of Django or Keycloak,
/// `{SSHA}`/`{SSHA256}`/`{SSHA512}`, argon2). `application/json`: a Keycloak realm export, with
/// the query parameters below. The whole input is checked before anything is written.
#[utoipa::path(post, path = "/admin/api/v1/users/import", tag = "users", params(KeycloakImportQuery),
    request_body(description = "A CSV file, or a Keycloak realm export", content(
        (String = "text/csv"),
        (serde_json::Value = "application/json"),
    )),
    security(("bearer" = ["idp.admin"])),
    responses((status = 200, description = "The accounts created", body = ImportReportView), WriteErrors))]
pub async fn users_import_post(
    State(state): State<AppState>,
    caller: Caller<needs::ManageUsers>,
    request: Request,
) -> Result<Json<ImportReportView>, Problem> {
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let query = request.uri().query().map(str::to_owned);
    let keycloak = match essence.as_str() {
        "text/csv" => None,
        "application/json" => Some(keycloak_options(query.as_deref())?),
        _ => {
            return Err(Problem::status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send a CSV file as text/csv or a Keycloak realm export as application/json",
            ));
        }
    };
    let bytes = Bytes::from_request(request, &state).await.map_err(|e| Problem::status(e.status(), e.body_text()))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| Problem::bad_request("the body is not UTF-8"))?;
    let report = match keycloak {
        None => import::import_users_csv(&state.services, &caller.actor, text).await?,
        Some(options) => import::import_keycloak(&state.services, &caller.actor, text, &options).await?,
    };
    Ok(Json(report.into()))
}
