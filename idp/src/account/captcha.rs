//! Self-hosted captchas (issue #4): no third-party service. An arithmetic one ("Veuillez
//! résoudre l'opération suivante : 9 + 0 = ?") and an image one (distorted characters rasterised
//! into a PNG by `image`, so the answer is in no markup and no byte), with the arithmetic one as
//! its accessible alternative. Each challenge lives in the ephemeral store under a random id,
//! is bound to the form (`purpose`) it was issued for, expires, and is single use: `verify`
//! takes it atomically, so a wrong answer burns it and a replay finds nothing.
//! The forms that show them (first login, recovery) live elsewhere; so does the HTTP route.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::crypto;
use crate::domain::user_type::CaptchaKind;
use crate::ephemeral::{get_json, put_json, take_json, ttl_until};
use crate::services::{InfraError, Services};

mod image;
mod png;

/// How long a challenge can be answered.
pub const LIFETIME_SECONDS: i64 = 10 * 60;
/// Characters of the image captcha, without look-alikes once distorted: no 0/O/D, 1/I/L/J,
/// 2/Z/7-with-T, 5/S, 6/G, 8/B, U/V, M/N/W (RH7EM was read RHZEM: issue #13, item 7).
pub const IMAGE_ALPHABET: &str = "ACEFHKPRXY3479";
pub const IMAGE_LENGTH: usize = 5;
/// Operands of the arithmetic captcha are 0..=MAX_OPERAND; answers are never negative.
pub const MAX_OPERAND: u32 = 9;

/// A challenge as a form shows it; the answer stays on the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Challenge {
    pub id: String,
    pub kind: ChallengeKind,
    /// "9 + 0" for an arithmetic challenge (the sentence around it comes from the catalog).
    pub operation: Option<String>,
    /// Where the image of an image challenge is served.
    pub image_url: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeKind {
    Arithmetic,
    Image,
}

#[derive(Serialize, Deserialize)]
struct Record {
    kind: ChallengeKind,
    purpose: String,
    answer: String,
    /// Shown for arithmetic challenges; the drawing seed for image ones, so that reloading the
    /// image gives the same picture (averaging many distortions would defeat them).
    operation: Option<String>,
    seed: u64,
    expires_at: i64,
}

fn key(id: &str) -> String {
    format!("captcha:{id}")
}

/// Issues a challenge of `kind` for the form `purpose`; `None` when the kind is `None`.
pub async fn issue(s: &Services, kind: CaptchaKind, purpose: &str) -> Result<Option<Challenge>, InfraError> {
    let kind = match kind {
        CaptchaKind::None => return Ok(None),
        CaptchaKind::Arithmetic => ChallengeKind::Arithmetic,
        CaptchaKind::Image => ChallengeKind::Image,
    };
    issue_kind(s, kind, purpose).await.map(Some)
}

/// Issues a challenge of `kind` for the form `purpose`.
pub async fn issue_kind(s: &Services, kind: ChallengeKind, purpose: &str) -> Result<Challenge, InfraError> {
    let id = crypto::random_token(18);
    let mut rng = StdRng::from_entropy();
    let (answer, operation) = match kind {
        ChallengeKind::Arithmetic => {
            let (a, op, b, answer) = arithmetic(&mut rng);
            (answer.to_string(), Some(format!("{a} {op} {b}")))
        }
        ChallengeKind::Image => (image_answer(&mut rng), None),
    };
    let now = s.now();
    let record = Record {
        kind,
        purpose: purpose.to_owned(),
        answer,
        operation: operation.clone(),
        seed: rng.r#gen(),
        expires_at: now + LIFETIME_SECONDS,
    };
    put_json(s.ephemeral.as_ref(), &key(&id), &record, ttl_until(record.expires_at, now)).await?;
    let image_url = (kind == ChallengeKind::Image).then(|| format!("/captcha/{id}.png"));
    Ok(Challenge { id, kind, operation, image_url })
}

/// True once for the right answer to an unexpired challenge issued for `purpose`. The challenge
/// is consumed whatever the outcome: a wrong answer burns it, a replay finds nothing.
pub async fn verify(s: &Services, id: &str, purpose: &str, answer: &str) -> Result<bool, InfraError> {
    if id.is_empty() || id.len() > 64 {
        return Ok(false);
    }
    let Some(record) = take_json::<Record>(s.ephemeral.as_ref(), &key(id)).await? else {
        return Ok(false);
    };
    let fresh = s.now() < record.expires_at;
    let same_form = record.purpose == purpose;
    let right = crypto::constant_time_eq(normalize_answer(answer).as_bytes(), record.answer.as_bytes());
    Ok(fresh && same_form && right)
}

/// The accessible alternative of an image challenge: burns it and issues an arithmetic one for
/// the same form. `None` when the challenge is unknown, expired or was issued for another form.
pub async fn swap_to_arithmetic(s: &Services, id: &str, purpose: &str) -> Result<Option<Challenge>, InfraError> {
    let Some(record) = take_json::<Record>(s.ephemeral.as_ref(), &key(id)).await? else {
        return Ok(None);
    };
    if record.purpose != purpose || s.now() >= record.expires_at {
        return Ok(None);
    }
    issue_kind(s, ChallengeKind::Arithmetic, purpose).await.map(Some)
}

/// A new challenge would exceed the per-address limit on pending records (decision 0013):
/// the form answers with the "too many requests" page instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooManyPending;

/// A new challenge of `kind` for a form shown before anybody signed in (the recoveries): it
/// is kept for its lifetime, so it counts against the per-address limit on pending records
/// (decision 0013). `None` when the kind is `None`.
pub async fn issue_counted(
    s: &Services,
    ip: &str,
    kind: CaptchaKind,
    purpose: &str,
) -> Result<Result<Option<Challenge>, TooManyPending>, InfraError> {
    if kind == CaptchaKind::None {
        return Ok(Ok(None));
    }
    if !crate::account::pending_throttle::admit(s, ip).await? {
        return Ok(Err(TooManyPending));
    }
    Ok(Ok(issue(s, kind, purpose).await?))
}

/// The arithmetic challenge replacing the image challenge `id` for `purpose` (the accessible
/// alternative), or a new one when the image's has gone. `counted_ip`: the browser's address
/// when nobody signed in yet (a new challenge counts against the per-address limit on pending
/// records); `None` after a password was checked.
pub async fn arithmetic_instead(
    s: &Services,
    counted_ip: Option<&str>,
    id: &str,
    purpose: &str,
) -> Result<Result<Challenge, TooManyPending>, InfraError> {
    if let Some(challenge) = swap_to_arithmetic(s, id, purpose).await? {
        return Ok(Ok(challenge));
    }
    if let Some(ip) = counted_ip
        && !crate::account::pending_throttle::admit(s, ip).await?
    {
        return Ok(Err(TooManyPending));
    }
    Ok(Ok(issue_kind(s, ChallengeKind::Arithmetic, purpose).await?))
}

/// The PNG of an unexpired image challenge (read, not consumed), or `None`.
pub async fn image_png(s: &Services, id: &str) -> Result<Option<Vec<u8>>, InfraError> {
    if id.is_empty() || id.len() > 64 {
        return Ok(None);
    }
    let Some(record) = get_json::<Record>(s.ephemeral.as_ref(), &key(id)).await? else {
        return Ok(None);
    };
    if record.kind != ChallengeKind::Image || s.now() >= record.expires_at {
        return Ok(None);
    }
    Ok(Some(image::draw_png(&record.answer, record.seed)))
}

/// Answers are compared without spaces and case ("  a7k m" is "A7KM").
fn normalize_answer(answer: &str) -> String {
    answer.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_uppercase).collect()
}

/// `(a, '+' or '−', b, answer)`, operands in 0..=MAX_OPERAND, answer never negative.
fn arithmetic(rng: &mut impl Rng) -> (u32, char, u32, u32) {
    let a = rng.gen_range(0..=MAX_OPERAND);
    let b = rng.gen_range(0..=MAX_OPERAND);
    if rng.gen_bool(0.5) {
        (a, '+', b, a + b)
    } else {
        let (big, small) = if a >= b { (a, b) } else { (b, a) };
        (big, '−', small, big - small)
    }
}

fn image_answer(rng: &mut impl Rng) -> String {
    let alphabet = IMAGE_ALPHABET.as_bytes();
    (0..IMAGE_LENGTH).map(|_| char::from(alphabet[rng.gen_range(0..alphabet.len())])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_operands_are_small_and_answers_never_negative() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut seen_minus = false;
        let mut seen_plus = false;
        for _ in 0..2000 {
            let (a, op, b, answer) = arithmetic(&mut rng);
            assert!(a <= MAX_OPERAND && b <= MAX_OPERAND, "{a} {op} {b}");
            match op {
                '+' => {
                    seen_plus = true;
                    assert_eq!(answer, a + b);
                }
                '−' => {
                    seen_minus = true;
                    assert!(a >= b, "{a} − {b} would be negative");
                    assert_eq!(answer, a - b);
                }
                other => panic!("unexpected operator {other}"),
            }
        }
        assert!(seen_plus && seen_minus, "both operators are used");
    }

    #[test]
    fn image_answers_use_only_unambiguous_characters() {
        for ambiguous in [
            '0', 'O', 'D', 'Q', '1', 'I', 'L', 'J', '2', 'Z', 'T', '5', 'S', '6', 'G', '8', 'B', 'U', 'V', 'M', 'N',
            'W',
        ] {
            assert!(!IMAGE_ALPHABET.contains(ambiguous), "{ambiguous} is ambiguous");
        }
        let mut rng = StdRng::seed_from_u64(11);
        for _ in 0..500 {
            let answer = image_answer(&mut rng);
            assert_eq!(answer.chars().count(), IMAGE_LENGTH);
            assert!(answer.chars().all(|c| IMAGE_ALPHABET.contains(c)), "{answer}");
        }
    }

    #[test]
    fn answers_are_compared_without_case_or_spaces() {
        for (typed, expected) in [(" a7k m ", "A7KM"), ("AC D", "ACD"), ("12", "12"), ("\t9\n", "9")] {
            assert_eq!(normalize_answer(typed), expected, "{typed:?}");
        }
    }
}
