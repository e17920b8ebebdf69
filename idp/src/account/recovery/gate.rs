//! What every recovery request passes through, whoever calls the flows (issue #11: a second
//! entry point cannot skip it): the first page's captcha, checked before anything about
//! accounts is looked at or counted, and the minimum answer time of every POST (`padded`), so
//! that a known account and an unknown one answer alike.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::account::captcha::{self, Challenge, TooManyPending};
use crate::domain::user_type::CaptchaKind;
use crate::services::{InfraError, Services};

/// What the first page's form says about its captcha.
#[derive(Clone, Debug, Default)]
pub struct CaptchaAnswer {
    pub id: String,
    pub answer: String,
    /// "Une opération à la place": the accessible alternative of an image captcha was asked
    /// for instead of an answer.
    pub wants_arithmetic: bool,
}

/// Why the first page was not accepted because of its captcha.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaptchaRefusal {
    /// The arithmetic alternative the form asked for: show the form again with it.
    Alternative(Challenge),
    /// Wrong, expired, replayed or missing answer: show the form again with a new challenge.
    Wrong,
    /// A new challenge would exceed the per-address limit on pending records (decision 0013).
    TooManyPending,
}

/// The challenge the first page of a recovery shows for a user type's `kind`; `None` when the
/// type asks none. Counted against the per-address limit on pending records.
pub async fn challenge_for(
    s: &Services,
    ip: &str,
    kind: CaptchaKind,
    purpose: &str,
) -> Result<Result<Option<Challenge>, TooManyPending>, InfraError> {
    captcha::issue_counted(s, ip, kind, purpose).await
}

/// The captcha of the first page, when the type asks one: `Ok(())` only for the right answer
/// to a challenge issued for `purpose` (consumed whatever the outcome).
pub(super) async fn check_captcha(
    s: &Services,
    ip: &str,
    kind: CaptchaKind,
    purpose: &str,
    answer: &CaptchaAnswer,
) -> Result<Result<(), CaptchaRefusal>, InfraError> {
    if kind == CaptchaKind::None {
        return Ok(Ok(()));
    }
    if answer.wants_arithmetic {
        return Ok(Err(match captcha::arithmetic_instead(s, Some(ip), &answer.id, purpose).await? {
            Ok(challenge) => CaptchaRefusal::Alternative(challenge),
            Err(TooManyPending) => CaptchaRefusal::TooManyPending,
        }));
    }
    if captcha::verify(s, &answer.id, purpose, &answer.answer).await? {
        Ok(Ok(()))
    } else {
        Ok(Err(CaptchaRefusal::Wrong))
    }
}

/// Runs `work` and answers no sooner than `recovery.min_response_ms` after it started: every
/// recovery POST takes at least that long, whether an account matched (a mail queued, a hash
/// verified) or not.
pub(super) async fn padded<T>(s: &Services, work: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let result = work.await;
    let floor = Duration::from_millis(s.recovery.min_response_ms);
    if let Some(rest) = floor.checked_sub(started.elapsed()) {
        tokio::time::sleep(rest).await;
    }
    result
}
