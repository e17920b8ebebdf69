//! CAS Protocol 3.0 (Apereo), issue #11: a protocol module like `oidc`, framework-free, and
//! neither imports the other. Both sit on `account` (sign-in, claims, subjects, audit),
//! `session` (the one browser session: signing in for a CAS service gives single sign-on to
//! OpenID Connect applications and back), `domain`, `store` and `ephemeral`.
//!
//! - `login`: /cas/login as credential requestor (§2.1): `service`, `renew`, `gateway`,
//!   `method=POST`; a service ticket once the user is signed in and the authorisation gate lets
//!   them through.
//! - `validate`: /cas/validate (CAS 1.0), /cas/serviceValidate and /cas/proxyValidate (CAS 2.0),
//!   /cas/p3/* (CAS 3.0, with attributes), answered by `response` in XML or JSON.
//! - `proxy`: the proxy callback (`pgtUrl`, §2.5.4) and /cas/proxy (§2.7).
//! - `ticket`: service, proxy and proxy granting tickets in the ephemeral store; single use is
//!   an atomic take.
//! - `single_logout`: what CAS does when a session ends (`SessionEndListener`): a
//!   `logoutRequest` to each service of the session through the durable queue (Appendix C),
//!   and the end of the session's proxy granting tickets; and /cas/logout (§2.3).
//! - `attributes`: what a service is told about the user, from `account::claims`.
//!
//! Parameters arrive as the raw query or form (`Params::parse`): `web` does not interpret them.

pub mod attributes;
pub mod login;
pub mod proxy;
pub mod response;
pub mod single_logout;
pub mod ticket;
pub mod validate;

use crate::domain::Client;
use crate::domain::cas_service::ServiceUrl;
use crate::services::{InfraError, Services};

/// The error codes of the specification (§2.5.3, §2.7.2), one-to-one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// Not all of the required request parameters were present (or one was repeated).
    InvalidRequest,
    /// Failure to meet the requirements of the validation specification.
    InvalidTicketSpec,
    /// The service is not authorized to perform proxy authentication.
    UnauthorizedServiceProxy,
    /// The proxy callback specified is invalid (not https, not registered).
    InvalidProxyCallback,
    /// The ticket was not valid, or did not come from an initial login and `renew` was set.
    InvalidTicket,
    /// The ticket was valid but the service did not match the one it was issued for; the
    /// ticket is gone all the same.
    InvalidService,
    /// /cas/proxy: the target service is not registered.
    UnauthorizedService,
    /// An error occurred during ticket validation.
    InternalError,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "INVALID_REQUEST",
            ErrorCode::InvalidTicketSpec => "INVALID_TICKET_SPEC",
            ErrorCode::UnauthorizedServiceProxy => "UNAUTHORIZED_SERVICE_PROXY",
            ErrorCode::InvalidProxyCallback => "INVALID_PROXY_CALLBACK",
            ErrorCode::InvalidTicket => "INVALID_TICKET",
            ErrorCode::InvalidService => "INVALID_SERVICE",
            ErrorCode::UnauthorizedService => "UNAUTHORIZED_SERVICE",
            ErrorCode::InternalError => "INTERNAL_ERROR",
        }
    }
}

/// A refusal: a code and a description for the application's logs (never a secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CasError {
    pub code: ErrorCode,
    pub description: String,
}

impl CasError {
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        Self { code, description: description.into() }
    }
}

/// Request parameters, each at most once (a repeated one is `INVALID_REQUEST`).
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// `application/x-www-form-urlencoded`, as in a query string or a form body.
    pub fn parse(raw: &str) -> Self {
        Self(url::form_urlencoded::parse(raw.as_bytes()).into_owned().collect())
    }

    /// The value of `name`; `Err` when it is repeated.
    pub fn get(&self, name: &str) -> Result<Option<&str>, CasError> {
        let mut values = self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
        match (values.next(), values.next()) {
            (first, None) => Ok(first),
            (Some(_), Some(_)) => Err(CasError::new(ErrorCode::InvalidRequest, format!("'{name}' is repeated"))),
            (None, Some(_)) => Ok(None),
        }
    }

    /// A boolean flag of §2.1.1 / §2.5.1: set when present with `true` (or empty, as some
    /// clients send `renew=`), unset when absent or `false`.
    pub fn flag(&self, name: &str) -> Result<bool, CasError> {
        Ok(match self.get(name)? {
            None => false,
            Some(v) => !v.eq_ignore_ascii_case("false") && v != "0",
        })
    }
}

/// The client that registered `service`. Clients are scanned (a registry of CAS services
/// would index them once there are many; issue #11 leaves that for later).
pub async fn client_of(s: &Services, service: &ServiceUrl) -> Result<Option<Client>, InfraError> {
    Ok(s.store.clients().await?.into_iter().find(|c| c.has_cas_service(service)))
}

/// `service` with `name=value` appended to its query.
pub fn with_param(service: &str, name: &str, value: &str) -> String {
    let pair = url::form_urlencoded::Serializer::new(String::new()).append_pair(name, value).finish();
    let sep = if service.contains('?') { '&' } else { '?' };
    format!("{service}{sep}{pair}")
}

/// The `service` parameter of `query`, normalised, when there is exactly one and it is a URL.
fn params_service(query: &str) -> Option<ServiceUrl> {
    Params::parse(query).get("service").ok().flatten().and_then(ServiceUrl::parse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_parameter_is_an_invalid_request() {
        let params = Params::parse("ticket=ST-1&ticket=ST-2&service=x");
        assert_eq!(params.get("ticket").unwrap_err().code, ErrorCode::InvalidRequest);
        assert_eq!(params.get("service").unwrap(), Some("x"));
        assert_eq!(params.get("renew").unwrap(), None);
    }

    #[test]
    fn flags_are_set_unless_absent_or_false() {
        let params = Params::parse("renew=true&gateway=false&a=&b=0");
        assert!(params.flag("renew").unwrap());
        assert!(!params.flag("gateway").unwrap());
        assert!(params.flag("a").unwrap());
        assert!(!params.flag("b").unwrap());
        assert!(!params.flag("absent").unwrap());
    }

    #[test]
    fn the_ticket_is_appended_to_the_service_query() {
        assert_eq!(with_param("https://ent.example/", "ticket", "ST-1"), "https://ent.example/?ticket=ST-1");
        assert_eq!(with_param("https://ent.example/?a=b", "ticket", "ST-1"), "https://ent.example/?a=b&ticket=ST-1");
    }
}
