//! Settings: defaults, then a TOML file (`--config` or `IDP_CONFIG`), then `IDP_*` environment
//! variables, each key `some_key` being overridden by `IDP_SOME_KEY`. `RawConfig` is what the
//! file says; `Config` is the validated result that the rest of the program uses.
//! Every key is documented in `deploy/idp.example.toml`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use crate::clock::LocalTimeZone;
use crate::domain::client_address::{ForwardedHeader, ProxySettings, TrustedProxies};
use crate::domain::user_type::{Localized, UserType, UserTypes};

use crate::master_key::MasterKey;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the settings file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid settings: {0}")]
    Invalid(String),
}

/// The settings as written; every field has a default.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawConfig {
    pub issuer: String,
    pub listen: String,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub redis_url: Option<String>,
    pub redis_prefix: String,
    pub themes_dir: Option<PathBuf>,
    pub default_theme: String,
    pub smtp_url: Option<String>,
    pub mail_from: String,
    pub outbox_dir: Option<PathBuf>,
    pub argon2_m_cost: u32,
    pub argon2_t_cost: u32,
    pub argon2_p_cost: u32,
    pub code_ttl: i64,
    pub access_token_ttl: i64,
    pub id_token_ttl: i64,
    pub refresh_token_ttl: i64,
    pub session_ttl: i64,
    pub auth_request_ttl: i64,
    /// Seconds a CAS service or proxy ticket can be validated (issue #11; CAS Protocol 3.0 §3.1.1
    /// recommends at most five minutes, so at most 300).
    pub cas_ticket_ttl: i64,
    /// Removed (issue #10): the refresh race tolerance is a client setting now, off by default
    /// (decision 0008). Kept here only to refuse it with a message that says where it went.
    pub refresh_race_window: Option<toml::Value>,
    /// Seconds an authorization request lives until someone answers it (its login, consent or
    /// account choice page is shown); then `auth_request_ttl` from its creation. At most
    /// `auth_request_ttl` (issue #10, decision 0013).
    pub auth_request_unanswered_ttl: i64,
    /// Pending records (authorization requests, logout confirmations, account space sign-ins)
    /// one address (IPv6: one /64) may create per `pending_requests_window` seconds before it
    /// gets "too many requests" until the window ends; 0 switches the limit off (decision 0013).
    pub pending_requests_per_ip: u32,
    pub pending_requests_window: i64,
    /// Live password checks (`POST /password/check`, issue #13, item 3) one password form's
    /// flow may ask for per `password_checks_window` seconds; 0: no limit.
    pub password_checks_per_flow: u32,
    /// The same, per address (IPv6: one /64); 0: no limit.
    pub password_checks_per_ip: u32,
    pub password_checks_window: i64,
    pub allow_insecure_redirect_uris: bool,
    pub max_body_bytes: usize,
    /// Seconds a client has to send a request's head (line and headers) once it has sent its
    /// first byte, and a new connection to send that first byte (slow clients, issue #10).
    pub http_header_timeout: i64,
    /// Seconds a client has to send a whole request body, counted from the end of the head.
    pub http_body_timeout: i64,
    /// Seconds a kept-alive connection may wait, idle, for its next request.
    pub http_idle_timeout: i64,
    /// Open connections at most; beyond, new ones wait in the listen queue until one closes.
    pub max_connections: usize,
    /// Milliseconds a Redis command (or a reconnection) may take before the request is answered
    /// 503 "temporarily unavailable".
    pub redis_timeout_ms: u64,
    /// Milliseconds a request may wait for a PostgreSQL connection before it is answered 503.
    pub database_timeout_ms: u64,
    /// Base64 of 32 bytes: encrypts the signing keys at rest (`crate::master_key`).
    pub master_key: Option<String>,
    /// `[[user_types]]` tables (issue #4); one `usager` type when none is declared.
    pub user_types: Vec<UserType>,
    /// The secret questions offered at first login and in /account (issue #4); users may also
    /// write their own. Empty: only their own.
    pub secret_questions: Vec<Localized>,
    /// Failed sign-ins allowed from one address (IPv6: one /64) per `login_ip_window` seconds
    /// before that address is refused until the window ends; 0 switches the limit off.
    pub login_ip_max_failures: u32,
    pub login_ip_window: i64,
    /// Password verifications in flight at once from one address (IPv6: one /64) on one node;
    /// more wait up to `login_ip_queue_ms` for a turn, then get "try again" (429). 0: no cap.
    pub login_ip_max_in_flight: u32,
    pub login_ip_queue_ms: u64,
    /// Reverse proxies whose `forwarded_header` is believed (issue #10): addresses or CIDR
    /// prefixes; in `IDP_TRUSTED_PROXIES` a comma-separated list. Empty: the socket peer is the
    /// client, whatever the headers say.
    #[serde(deserialize_with = "string_list")]
    pub trusted_proxies: Vec<String>,
    /// `x-forwarded-for` or `forwarded` (RFC 7239): the header the trusted proxies write.
    pub forwarded_header: ForwardedHeader,
    /// Seconds a provisional password (sent by e-mail) stays valid (issue #4): 72 hours.
    pub provisional_password_lifetime: i64,
    /// Seconds an activation link stays valid (issue #4): 72 hours.
    pub activation_link_lifetime: i64,
    /// Seconds between two runs of the password-expiry warning job (`account::expiry_warning`).
    pub password_expiry_check_interval: i64,
    /// Self-service recovery (issue #5): lifetimes, attempts, rate limits, support, propagation
    /// webhook, SMS sender. The per-type rules are in `user_types.recovery`.
    pub recovery: RecoverySettings,
    /// `[lockout]`: what the login page tells of a locked identifier (issue #13, decision 0020).
    pub lockout: LockoutSettings,
    /// Seconds a rotated client secret keeps working beside the new one (issue #12): 24 hours.
    pub secret_overlap: i64,
    /// Days the audit trail is kept; older events are purged by the worker. 0: kept forever.
    pub audit_retention_days: i64,
    /// RFC 7591 dynamic client registration at `/register`, with an initial access token an
    /// administrator issues (`idp client registration-token`). Off by default.
    pub dynamic_registration: bool,
    /// The IANA time zone of the times shown to people, in /account and the mails (issue #13):
    /// `Europe/Paris` unless set; a name the tz database does not know is refused at start.
    pub time_zone: String,
}

impl Default for RawConfig {
    fn default() -> Self {
        Self {
            issuer: "http://127.0.0.1:8080".into(),
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            redis_url: None,
            redis_prefix: "idp:".into(),
            themes_dir: None,
            default_theme: "default".into(),
            time_zone: crate::clock::LocalTimeZone::DEFAULT.into(),
            smtp_url: None,
            mail_from: "Compte unique <no-reply@localhost>".into(),
            outbox_dir: None,
            // OWASP Password Storage Cheat Sheet: argon2id m=19 MiB, t=2, p=1.
            argon2_m_cost: 19 * 1024,
            argon2_t_cost: 2,
            argon2_p_cost: 1,
            code_ttl: 60,
            access_token_ttl: 600,
            id_token_ttl: 600,
            refresh_token_ttl: 30 * 24 * 3600,
            session_ttl: 10 * 3600,
            auth_request_ttl: 30 * 60,
            cas_ticket_ttl: 10,
            refresh_race_window: None,
            auth_request_unanswered_ttl: 5 * 60,
            pending_requests_per_ip: 120,
            pending_requests_window: 60,
            password_checks_per_flow: 300,
            password_checks_per_ip: 1200,
            password_checks_window: 600,
            allow_insecure_redirect_uris: false,
            max_body_bytes: 64 * 1024,
            http_header_timeout: 10,
            http_body_timeout: 30,
            http_idle_timeout: 60,
            max_connections: 10_000,
            redis_timeout_ms: 1500,
            database_timeout_ms: 2000,
            user_types: vec![UserType::default_usager()],
            secret_questions: crate::account::secret_question::default_questions(),
            master_key: None,
            login_ip_max_failures: 50,
            login_ip_window: 900,
            login_ip_max_in_flight: 2,
            login_ip_queue_ms: 2000,
            trusted_proxies: Vec::new(),
            forwarded_header: ForwardedHeader::default(),
            provisional_password_lifetime: 72 * 3600,
            activation_link_lifetime: 72 * 3600,
            password_expiry_check_interval: 3600,
            recovery: RecoverySettings::default(),
            lockout: LockoutSettings::default(),
            secret_overlap: 24 * 3600,
            audit_retention_days: 400,
            dynamic_registration: false,
        }
    }
}

/// Validated settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// The public URL, exactly as it appears in `iss` (no trailing slash).
    pub issuer: String,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub redis_url: Option<String>,
    pub redis_prefix: String,
    pub themes_dir: PathBuf,
    pub default_theme: String,
    pub smtp_url: Option<String>,
    pub mail_from: String,
    pub outbox_dir: PathBuf,
    pub argon2: Argon2Params,
    pub lifetimes: Lifetimes,
    pub allow_insecure_redirect_uris: bool,
    pub max_body_bytes: usize,
    /// Slow and idle clients, and the connection cap (`web::server`).
    pub server_limits: ServerLimits,
    /// Bounded waits on the dependencies: past them a request gets 503 (issue #10).
    pub redis_timeout: Duration,
    pub database_timeout: Duration,
    pub user_types: UserTypes,
    pub secret_questions: Vec<Localized>,
    /// Cookies get `Secure` and the `__Host-` prefix when the issuer is https.
    pub secure_cookies: bool,
    /// Encrypts the signing keys at rest; when `None`, the embedded setup keeps one in
    /// `<data_dir>/master.key` (see `app::master_key`).
    pub master_key: Option<MasterKey>,
    pub login_throttle: LoginThrottle,
    pub pending_throttle: PendingThrottle,
    pub password_checks: CheckLimits,
    /// Where the client's address is read from (`domain::client_address`).
    pub proxies: ProxySettings,
    pub recovery: RecoverySettings,
    pub lockout: LockoutSettings,
    pub admin: AdminSettings,
    /// The zone of the times shown to people (`time_zone`).
    pub time_zone: LocalTimeZone,
}

/// How many live password checks (`POST /password/check`, issue #13) one flow and one address may ask for per window (`password_checks_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckLimits {
    /// 0: no limit.
    pub per_flow: u32,
    /// 0: no limit.
    pub per_ip: u32,
    /// Seconds.
    pub window: i64,
}

/// `[lockout]`: the installation-wide part of the sign-in lockout (issue #13, decision 0020).
/// The counts and durations are per user type (`[user_types.lockout]`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LockoutSettings {
    /// The login page says "Le compte a été verrouillé…", with the time to wait and a link to
    /// recovery, once the typed identifier itself failed the page's `max_failures` times,
    /// whether or not an account has that login. Off by default (the generic failure only);
    /// overridden by the user type the client preselects (`[user_types.lockout] tell_locked`),
    /// then by the client (`--setting tell_locked=true`).
    pub tell_locked: bool,
}

/// Administration settings (issue #12).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdminSettings {
    /// Seconds a rotated client secret keeps working (`admin::clients::rotate_client_secret`).
    pub secret_overlap: i64,
    /// Days the audit trail is kept (`admin::audit::purge_expired`); 0: forever.
    pub audit_retention_days: i64,
    pub dynamic_registration: bool,
}

impl Default for AdminSettings {
    fn default() -> Self {
        Self { secret_overlap: 24 * 3600, audit_retention_days: 400, dynamic_registration: false }
    }
}

/// What the HTTP server allows a connection (`web::server`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerLimits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

/// Per-address limit on creating pending records (`account::pending_throttle`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingThrottle {
    /// 0: no limit.
    pub per_ip: u32,
    /// Seconds.
    pub window: i64,
}

/// Per-address limit on failed sign-ins (issue #4; `account::lockout`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginThrottle {
    /// 0: no limit.
    pub ip_max_failures: u32,
    /// Seconds.
    pub ip_window: i64,
    /// Verifications in flight per address on this node (`account::in_flight`); 0: no cap.
    pub ip_max_in_flight: u32,
    /// How long an attempt over that cap waits for a turn before it is refused.
    pub ip_queue: std::time::Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Argon2Params {
    pub m_cost: u32,
    pub t_cost: u32,
    pub p_cost: u32,
}

/// Lifetimes in seconds.
#[derive(Clone, Copy, Debug)]
pub struct Lifetimes {
    pub code: i64,
    pub access_token: i64,
    pub id_token: i64,
    pub refresh_token: i64,
    pub session: i64,
    pub auth_request: i64,
    /// An authorization request nobody has answered yet expires this long after its creation
    /// (at most `auth_request`).
    pub auth_request_unanswered: i64,
    /// A provisional password stops working this long after it was set (issue #4).
    pub provisional_password: i64,
    /// An activation link stops working this long after it was sent (issue #4).
    pub activation_link: i64,
    /// How often the password-expiry warning job runs.
    pub password_expiry_check_interval: i64,
    /// A CAS service or proxy ticket can be validated this long after it was issued (issue #11).
    pub cas_ticket: i64,
}

/// `[recovery]`: the installation-wide settings of self-service recovery (issue #5).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecoverySettings {
    /// How long a security code or link works (Ségur: 15 minutes).
    pub code_lifetime: i64,
    /// Wrong codes before a code dies.
    pub max_code_attempts: i64,
    /// How long a recovery flow (its cookie) lives.
    pub flow_lifetime: i64,
    /// Requests per identifier, per e-mail address and per IP address within `limit_window`
    /// seconds, across nodes (the ephemeral store counts).
    pub limit_per_identifier: u32,
    pub limit_per_email: u32,
    pub limit_per_ip: u32,
    pub limit_window: i64,
    /// Every recovery POST answers after at least this many milliseconds, so that the time
    /// taken does not tell whether the account exists.
    pub min_response_ms: u64,
    /// The support contact of "J'ai besoin de support" and of the types without their own.
    pub support: Localized,
    pub support_url: Option<String>,
    /// Downstream systems told of a recovered password (Nouvelle-Aquitaine's "Veuillez
    /// patienter"): POSTed JSON, signed with `propagation_secret` (HMAC-SHA256), retried from a
    /// durable queue; the waiting page gives up after `propagation_timeout` seconds.
    pub propagation_url: Option<String>,
    pub propagation_secret: Option<String>,
    pub propagation_timeout: i64,
    /// SMS for the consular identifier renewal: an HTTP gateway (`sms_webhook_url`, JSON
    /// `{"to","text"}`) or, by default, files in `sms_outbox_dir` (`<data dir>/sms-outbox`).
    pub sms_webhook_url: Option<String>,
    pub sms_outbox_dir: Option<PathBuf>,
}

impl Default for RecoverySettings {
    fn default() -> Self {
        Self {
            code_lifetime: 15 * 60,
            max_code_attempts: 5,
            flow_lifetime: 30 * 60,
            limit_per_identifier: 5,
            limit_per_email: 5,
            limit_per_ip: 30,
            limit_window: 3600,
            min_response_ms: 300,
            support: Localized::new(
                "Contactez l'assistance de votre organisation.",
                "Contact your organisation's support.",
            ),
            support_url: None,
            propagation_url: None,
            propagation_secret: None,
            propagation_timeout: 60,
            sms_webhook_url: None,
            sms_outbox_dir: None,
        }
    }
}

impl RecoverySettings {
    /// The support contact (text, link) shown in `lang` to a person of `user_type`, or to
    /// someone whose type is not known (the selector's "J'ai besoin de support"): see
    /// `RecoveryRule::support_contact`.
    pub fn support_for(&self, user_type: Option<&UserType>, lang: crate::domain::Lang) -> (String, String) {
        match user_type {
            Some(t) => t.recovery.support_contact(&self.support, self.support_url.as_deref(), lang),
            None => (self.support.get(lang).to_owned(), self.support_url.clone().unwrap_or_default()),
        }
    }

    fn validated(self) -> Result<Self, String> {
        for (name, value) in [
            ("code_lifetime", self.code_lifetime),
            ("max_code_attempts", self.max_code_attempts),
            ("flow_lifetime", self.flow_lifetime),
            ("limit_window", self.limit_window),
            ("propagation_timeout", self.propagation_timeout),
        ] {
            if value <= 0 {
                return Err(format!("{name} must be positive"));
            }
            if value > MAX_DURATION {
                return Err(format!("{name} must be at most {MAX_DURATION}"));
            }
        }
        for (name, url) in [
            ("support_url", &self.support_url),
            ("propagation_url", &self.propagation_url),
            ("sms_webhook_url", &self.sms_webhook_url),
        ] {
            if let Some(url) = url {
                let parsed = Url::parse(url).map_err(|e| format!("{name} {url:?}: {e}"))?;
                if !matches!(parsed.scheme(), "https" | "http") {
                    return Err(format!("{name} {url:?} must be an http(s) URL"));
                }
            }
        }
        Ok(self)
    }
}

const ENV_PREFIX: &str = "IDP_";

/// The longest duration a setting may give, in seconds (ten years): the flows add durations
/// to the current time (`now + ttl`), which must not overflow (found while fuzzing, fuzz/config).
pub const MAX_DURATION: i64 = 10 * 365 * 24 * 3600;

impl Config {
    /// Defaults, then the file (if any), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        let file = file.map(Path::to_path_buf).or_else(|| std::env::var_os("IDP_CONFIG").map(PathBuf::from));
        let text = match &file {
            Some(path) => {
                std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.clone(), source })?
            }
            None => String::new(),
        };
        Self::from_sources(&text, &env)
    }

    /// The pure part of `load`, testable without touching the process environment.
    pub fn from_sources(toml_text: &str, env: &[(String, String)]) -> Result<Self, ConfigError> {
        let mut table: toml::Table = toml::from_str(toml_text).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        for (name, value) in env {
            let Some(key) = name.strip_prefix(ENV_PREFIX) else { continue };
            // IDP_CONFIG names the file; IDP_LOG and IDP_TEST_* belong to logging and the tests.
            if key.is_empty() || key == "CONFIG" || key == "LOG" || key.starts_with("TEST_") {
                continue;
            }
            table.insert(key.to_ascii_lowercase(), env_value(value));
        }
        let raw: RawConfig =
            toml::Value::Table(table).try_into().map_err(|e: toml::de::Error| ConfigError::Invalid(e.to_string()))?;
        Self::validate(raw)
    }

    pub fn validate(raw: RawConfig) -> Result<Self, ConfigError> {
        let invalid = |m: String| ConfigError::Invalid(m);
        let issuer_url = Url::parse(&raw.issuer).map_err(|e| invalid(format!("issuer {:?}: {e}", raw.issuer)))?;
        if !matches!(issuer_url.scheme(), "https" | "http")
            || issuer_url.query().is_some()
            || issuer_url.fragment().is_some()
        {
            // OpenID Connect Discovery §3: an https URL with no query or fragment (http allowed
            // for local development).
            return Err(invalid(format!("issuer {:?} must be an http(s) URL without query or fragment", raw.issuer)));
        }
        let issuer = raw.issuer.trim_end_matches('/').to_owned();
        let listen = raw.listen.parse().map_err(|e| invalid(format!("listen {:?}: {e}", raw.listen)))?;
        let database_url =
            raw.database_url.unwrap_or_else(|| format!("sqlite:{}", raw.data_dir.join("idp.db").display()));
        let themes_dir = raw.themes_dir.unwrap_or_else(default_themes_dir);
        let outbox_dir = raw.outbox_dir.unwrap_or_else(|| raw.data_dir.join("outbox"));
        for (name, value) in [
            ("code_ttl", raw.code_ttl),
            ("access_token_ttl", raw.access_token_ttl),
            ("id_token_ttl", raw.id_token_ttl),
            ("refresh_token_ttl", raw.refresh_token_ttl),
            ("session_ttl", raw.session_ttl),
            ("auth_request_ttl", raw.auth_request_ttl),
            ("cas_ticket_ttl", raw.cas_ticket_ttl),
            ("auth_request_unanswered_ttl", raw.auth_request_unanswered_ttl),
            ("pending_requests_window", raw.pending_requests_window),
            ("password_checks_window", raw.password_checks_window),
            ("provisional_password_lifetime", raw.provisional_password_lifetime),
            ("activation_link_lifetime", raw.activation_link_lifetime),
            ("password_expiry_check_interval", raw.password_expiry_check_interval),
        ] {
            if value <= 0 {
                return Err(invalid(format!("{name} must be a positive number of seconds")));
            }
            if value > MAX_DURATION {
                return Err(invalid(format!("{name} must be at most {MAX_DURATION} seconds (ten years)")));
            }
        }
        for (name, value) in [
            ("http_header_timeout", raw.http_header_timeout),
            ("http_body_timeout", raw.http_body_timeout),
            ("http_idle_timeout", raw.http_idle_timeout),
        ] {
            if !(1..=3600).contains(&value) {
                return Err(invalid(format!("{name} must be between 1 and 3600 seconds")));
            }
        }
        if !(1..=1_000_000).contains(&raw.max_connections) {
            return Err(invalid("max_connections must be between 1 and 1000000".into()));
        }
        for (name, value) in
            [("redis_timeout_ms", raw.redis_timeout_ms), ("database_timeout_ms", raw.database_timeout_ms)]
        {
            if !(50..=60_000).contains(&value) {
                return Err(invalid(format!("{name} must be between 50 and 60000 milliseconds")));
            }
        }
        if raw.login_ip_window <= 0 || raw.login_ip_window > MAX_DURATION {
            return Err(invalid(format!("login_ip_window must be between 1 and {MAX_DURATION} seconds")));
        }
        if raw.refresh_race_window.is_some() {
            // A server-wide window also covered clients that never race (issue #10): strict
            // rotation is the default and the tolerance is opted into per client.
            return Err(invalid(
                "refresh_race_window is no longer a server setting: refresh token rotation is strict \
                 (RFC 9700 §4.14.2). Remove it (and IDP_REFRESH_RACE_WINDOW); a browser application \
                 whose tabs refresh at once gets it as a client setting, --setting refresh_race_window=10 \
                 (docs/decisions/0008-refresh-token-races.md)"
                    .into(),
            ));
        }
        // A zero overlap stops the old secret at once; retention 0 keeps the trail forever.
        if !(0..=MAX_DURATION).contains(&raw.secret_overlap) {
            return Err(invalid(format!("secret_overlap must be between 0 and {MAX_DURATION} seconds")));
        }
        if !(0..=36_500).contains(&raw.audit_retention_days) {
            return Err(invalid("audit_retention_days must be between 0 (keep forever) and 36500".into()));
        }
        if raw.cas_ticket_ttl > 300 {
            // CAS Protocol 3.0 §3.1.1: a service ticket SHOULD live no longer than five minutes.
            return Err(invalid("cas_ticket_ttl must be at most 300 seconds (CAS Protocol 3.0 §3.1.1)".into()));
        }
        if raw.code_ttl > 600 {
            // RFC 6749 §4.1.2: "A maximum authorization code lifetime of 10 minutes is RECOMMENDED."
            return Err(invalid("code_ttl must be at most 600 seconds (RFC 6749 §4.1.2)".into()));
        }
        argon2::Params::new(raw.argon2_m_cost, raw.argon2_t_cost, raw.argon2_p_cost, None)
            .map_err(|e| invalid(format!("argon2 parameters: {e}")))?;
        let master_key = raw
            .master_key
            .filter(|k| !k.is_empty())
            .map(|k| MasterKey::parse(&k))
            .transpose()
            .map_err(|e| invalid(format!("master_key: {e}")))?;
        Ok(Config {
            secure_cookies: issuer_url.scheme() == "https",
            issuer,
            listen,
            data_dir: raw.data_dir,
            database_url,
            redis_url: raw.redis_url.filter(|u| !u.is_empty()),
            redis_prefix: raw.redis_prefix,
            themes_dir,
            default_theme: raw.default_theme,
            smtp_url: raw.smtp_url.filter(|u| !u.is_empty()),
            mail_from: raw.mail_from,
            outbox_dir,
            argon2: Argon2Params { m_cost: raw.argon2_m_cost, t_cost: raw.argon2_t_cost, p_cost: raw.argon2_p_cost },
            lifetimes: Lifetimes {
                code: raw.code_ttl,
                access_token: raw.access_token_ttl,
                id_token: raw.id_token_ttl,
                refresh_token: raw.refresh_token_ttl,
                session: raw.session_ttl,
                auth_request: raw.auth_request_ttl,
                cas_ticket: raw.cas_ticket_ttl,
                // A shorter auth_request_ttl shortens both.
                auth_request_unanswered: raw.auth_request_unanswered_ttl.min(raw.auth_request_ttl),
                provisional_password: raw.provisional_password_lifetime,
                activation_link: raw.activation_link_lifetime,
                password_expiry_check_interval: raw.password_expiry_check_interval,
            },
            allow_insecure_redirect_uris: raw.allow_insecure_redirect_uris,
            max_body_bytes: raw.max_body_bytes,
            server_limits: ServerLimits {
                header_timeout: Duration::from_secs(raw.http_header_timeout as u64),
                body_timeout: Duration::from_secs(raw.http_body_timeout as u64),
                idle_timeout: Duration::from_secs(raw.http_idle_timeout as u64),
                max_connections: raw.max_connections,
            },
            redis_timeout: Duration::from_millis(raw.redis_timeout_ms),
            database_timeout: Duration::from_millis(raw.database_timeout_ms),
            user_types: UserTypes::new(raw.user_types).map_err(|e| invalid(e.to_string()))?,
            secret_questions: crate::account::secret_question::validate_questions(raw.secret_questions)
                .map_err(invalid)?,
            master_key,
            login_throttle: LoginThrottle {
                ip_max_failures: raw.login_ip_max_failures,
                ip_window: raw.login_ip_window,
                ip_max_in_flight: raw.login_ip_max_in_flight,
                ip_queue: std::time::Duration::from_millis(raw.login_ip_queue_ms),
            },
            proxies: ProxySettings {
                trusted: TrustedProxies::parse(&raw.trusted_proxies)
                    .map_err(|e| invalid(format!("trusted_proxies: {e}")))?,
                header: raw.forwarded_header,
            },
            pending_throttle: PendingThrottle {
                per_ip: raw.pending_requests_per_ip,
                window: raw.pending_requests_window,
            },
            password_checks: CheckLimits {
                per_flow: raw.password_checks_per_flow,
                per_ip: raw.password_checks_per_ip,
                window: raw.password_checks_window,
            },
            recovery: raw.recovery.validated().map_err(|m| invalid(format!("recovery: {m}")))?,
            lockout: raw.lockout,
            admin: AdminSettings {
                secret_overlap: raw.secret_overlap,
                audit_retention_days: raw.audit_retention_days,
                dynamic_registration: raw.dynamic_registration,
            },
            time_zone: LocalTimeZone::parse(&raw.time_zone).ok_or_else(|| {
                invalid(format!(
                    "time_zone {:?} is not a time zone of the tz database (an IANA name such as \"Europe/Paris\")",
                    raw.time_zone
                ))
            })?,
        })
    }

    /// Defaults for a given data directory and issuer (tests, embedded runs).
    pub fn embedded(data_dir: &Path, issuer: &str) -> Result<Self, ConfigError> {
        Self::validate(RawConfig {
            data_dir: data_dir.to_path_buf(),
            issuer: issuer.to_owned(),
            ..RawConfig::default()
        })
    }
}

/// A list of strings: a TOML array, or (from the environment) one comma-separated string.
fn string_list<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Items {
        List(Vec<String>),
        Text(String),
    }
    Ok(match Items::deserialize(deserializer)? {
        Items::List(items) => items,
        Items::Text(text) => text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
    })
}

/// Environment values are typed like TOML scalars: integers and booleans, else strings.
fn env_value(raw: &str) -> toml::Value {
    if let Ok(i) = raw.parse::<i64>() {
        return toml::Value::Integer(i);
    }
    match raw {
        "true" => toml::Value::Boolean(true),
        "false" => toml::Value::Boolean(false),
        _ => toml::Value::String(raw.to_owned()),
    }
}

/// `./themes` when run from the repository or an install with themes beside it; otherwise the
/// themes of the source tree this binary was built from.
fn default_themes_dir() -> PathBuf {
    let local = PathBuf::from("themes");
    if local.join("default").is_dir() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("themes")
}

#[cfg(test)]
mod tests;
