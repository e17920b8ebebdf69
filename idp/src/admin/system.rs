//! The installation as an operator sees it (issue #12): the dashboard's figures, the configured
//! user types (read-only: they live in the settings file), and the signing keys (list, rotate;
//! `idp keys` calls these too).

use serde::Serialize;
use serde_json::json;

use super::AdminError;
use super::actor::{self, Actor, Permission};
use crate::account::audit;
use crate::domain::SigningAlg;
use crate::domain::user_type::UserType;
use crate::oidc::keys::{KeyError, KeyInfo, Rotation};
use crate::services::Services;

/// Days the dashboard covers, today included.
pub const DASHBOARD_DAYS: i64 = 30;
const DAY: i64 = 86_400;

/// One UTC day of the dashboard.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DayFigures {
    /// The day's first second (UTC midnight), Unix seconds.
    pub day: i64,
    pub sign_ins: i64,
    pub failed_sign_ins: i64,
    pub lockouts: i64,
    /// Recoveries asked ("mot de passe perdu", "identifiant oublié").
    pub recoveries: i64,
    /// First-login steps completed.
    pub activations: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DashboardFigures {
    /// `DASHBOARD_DAYS` days, oldest first, the last one today.
    pub days: Vec<DayFigures>,
    /// Mails waiting to be sent, and logout notifications waiting to be delivered.
    pub mail_queue: i64,
    pub logout_queue: i64,
}

/// The last 30 days' counts, from the audit trail in one grouped query, and the queue depths.
pub async fn dashboard_figures(s: &Services, actor: &Actor) -> Result<DashboardFigures, AdminError> {
    actor.require(Permission::ReadAudit)?;
    let now = s.now();
    let today = now - now.rem_euclid(DAY);
    let since = today - (DASHBOARD_DAYS - 1) * DAY;
    let kinds =
        [audit::SIGN_IN, audit::SIGN_IN_FAILED, audit::ACCOUNT_LOCKED, audit::RECOVERY_STARTED, audit::ACTIVATED];
    let counts = s.store.daily_counts(&kinds, since, today + DAY).await?;
    let mut days: Vec<DayFigures> =
        (0..DASHBOARD_DAYS).map(|d| DayFigures { day: since + d * DAY, ..DayFigures::default() }).collect();
    for c in counts {
        let Some(day) = usize::try_from(c.day).ok().and_then(|d| days.get_mut(d)) else { continue };
        let slot = match c.kind.as_str() {
            audit::SIGN_IN => &mut day.sign_ins,
            audit::SIGN_IN_FAILED => &mut day.failed_sign_ins,
            audit::ACCOUNT_LOCKED => &mut day.lockouts,
            audit::RECOVERY_STARTED => &mut day.recoveries,
            audit::ACTIVATED => &mut day.activations,
            _ => continue,
        };
        *slot += c.count;
    }
    let (mail_queue, logout_queue) = s.store.queue_depths().await?;
    Ok(DashboardFigures { days, mail_queue, logout_queue })
}

/// The configured user types with their password policies, lockout and recovery rules.
pub fn user_types<'a>(s: &'a Services, actor: &Actor) -> Result<&'a [UserType], AdminError> {
    actor.require(Permission::ViewUsers)?;
    Ok(s.user_types.all())
}

/// A published signing key, as listed (no key material).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyView {
    pub kid: String,
    pub alg: String,
    /// `next`, `active` or `retired`.
    pub state: String,
    pub created_at: i64,
    pub activated_at: Option<i64>,
    pub retired_at: Option<i64>,
    pub published_until: Option<i64>,
}

impl From<KeyInfo> for KeyView {
    fn from(k: KeyInfo) -> Self {
        KeyView {
            kid: k.kid,
            alg: k.alg.as_str().to_owned(),
            state: k.state.as_str().to_owned(),
            created_at: k.created_at,
            activated_at: k.activated_at,
            retired_at: k.retired_at,
            published_until: k.published_until,
        }
    }
}

pub fn list_keys(s: &Services, actor: &Actor) -> Result<Vec<KeyView>, AdminError> {
    actor.require(Permission::ManageKeys)?;
    Ok(s.keys.list().into_iter().map(KeyView::from).collect())
}

/// For each algorithm (`alg`, or all): the next key signs from now on, the active one retires,
/// a new next key is published. `force` promotes a next key published too recently for every
/// relying party to have fetched it.
pub async fn rotate_keys(
    s: &Services,
    actor: &Actor,
    alg: Option<SigningAlg>,
    force: bool,
) -> Result<Vec<Rotation>, AdminError> {
    actor.require(Permission::ManageKeys)?;
    let algs = match alg {
        Some(a) => vec![a],
        None => SigningAlg::ALL.to_vec(),
    };
    let mut done = Vec::new();
    for alg in algs {
        let r = s.keys.rotate(s.store.as_ref(), alg, s.now(), force).await.map_err(|e| match e {
            KeyError::Store(e) => AdminError::from(e),
            other => AdminError::Invalid(other.to_string()),
        })?;
        let detail = json!({ "alg": r.alg.as_str(), "activated": r.activated, "next": r.next });
        actor::record(s, actor, audit::KEYS_ROTATED, None, detail).await?;
        done.push(r);
    }
    Ok(done)
}
