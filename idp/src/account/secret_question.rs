//! Secret questions (issue #4): chosen from the configured list or written by the user; the
//! answer is normalised (case, accents, spaces: "  Éléphant  Rose" is "elephant rose") and
//! stored as an argon2id hash through the one hashing recipe (`s.passwords`). Checks are
//! limited per user (`MAX_ATTEMPTS` an hour, counted atomically in the ephemeral store before the
//! hash is verified, so parallel guesses cannot exceed it); past the limit every answer is refused,
//! after the same hashing work. Recovery (issue #5) and first login use this; the pages do not
//! live here.

use std::time::Duration;

use unicode_normalization::UnicodeNormalization as _;
use unicode_normalization::char::is_combining_mark;

use crate::domain::Secret;
use crate::domain::user_type::Localized;
use crate::services::{InfraError, Services};

pub const QUESTION_MIN_CHARS: usize = 5;
pub const QUESTION_MAX_CHARS: usize = 200;
pub const ANSWER_MIN_CHARS: usize = 2;
pub const ANSWER_MAX_CHARS: usize = 100;
/// Wrong answers allowed per user per `ATTEMPT_WINDOW`.
pub const MAX_ATTEMPTS: i64 = 5;
pub const ATTEMPT_WINDOW: Duration = Duration::from_secs(3600);

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Correct,
    Wrong,
    TooManyAttempts,
    NotSet,
}

#[derive(Debug, thiserror::Error)]
pub enum SecretQuestionError {
    #[error("the question must have {QUESTION_MIN_CHARS} to {QUESTION_MAX_CHARS} characters")]
    BadQuestion,
    #[error("the answer must have {ANSWER_MIN_CHARS} to {ANSWER_MAX_CHARS} characters")]
    BadAnswer,
    #[error(transparent)]
    Infra(#[from] InfraError),
}

/// Sets (or replaces) the secret question of `user_id`.
pub async fn set(s: &Services, user_id: &str, question: &str, answer: &Secret) -> Result<(), SecretQuestionError> {
    let question = collapse_spaces(question);
    if !(QUESTION_MIN_CHARS..=QUESTION_MAX_CHARS).contains(&question.chars().count()) {
        return Err(SecretQuestionError::BadQuestion);
    }
    let answer = normalize_answer(answer.expose());
    if !(ANSWER_MIN_CHARS..=ANSWER_MAX_CHARS).contains(&answer.chars().count()) {
        return Err(SecretQuestionError::BadAnswer);
    }
    let hash = s.passwords.hash(&Secret::new(answer)).await?;
    s.store.set_secret_question(user_id, &question, &hash, s.now()).await.map_err(InfraError::from)?;
    Ok(())
}

/// The question `user_id` chose, if any.
pub async fn question_of(s: &Services, user_id: &str) -> Result<Option<String>, InfraError> {
    Ok(s.store.secret_question(user_id).await?.map(|q| q.question))
}

/// Checks an answer. Every call costs one attempt and one argon2id verification, whatever the
/// outcome, so neither the limit nor an unset question shows in the timing.
pub async fn check(s: &Services, user_id: &str, answer: &Secret) -> Result<Outcome, InfraError> {
    let attempts = s.ephemeral.incr(&attempts_key(user_id), ATTEMPT_WINDOW).await?;
    let stored = s.store.secret_question(user_id).await?;
    let typed = Secret::new(normalize_answer(answer.expose()));
    let matched = s.passwords.verify(&typed, stored.as_ref().map(|q| q.answer_hash.as_str())).await?;
    if attempts > MAX_ATTEMPTS {
        return Ok(Outcome::TooManyAttempts);
    }
    if stored.is_none() {
        return Ok(Outcome::NotSet);
    }
    if !matched {
        return Ok(Outcome::Wrong);
    }
    // A right answer forgives the earlier mistakes.
    s.ephemeral.delete(&attempts_key(user_id)).await?;
    Ok(Outcome::Correct)
}

/// The configured questions in `lang`, as the fragment's `secret_questions` lists them.
pub fn offered(s: &Services, lang: crate::domain::Lang) -> Vec<String> {
    s.secret_questions.iter().map(|q| q.get(lang).to_owned()).collect()
}

fn attempts_key(user_id: &str) -> String {
    format!("secret_question_attempts:{user_id}")
}

fn collapse_spaces(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Trim, collapse spaces, lower-case, strip accents (NFKD without combining marks).
pub fn normalize_answer(answer: &str) -> String {
    let folded: String = answer.nfkd().filter(|c| !is_combining_mark(*c)).collect::<String>().to_lowercase();
    collapse_spaces(&folded)
}

/// The list offered when the settings declare none (French first, English).
pub fn default_questions() -> Vec<Localized> {
    vec![
        Localized::new(
            "Quel est le nom de votre premier animal de compagnie ?",
            "What was the name of your first pet?",
        ),
        Localized::new("Dans quelle ville êtes-vous né(e) ?", "In which city were you born?"),
        Localized::new("Quel est le nom de jeune fille de votre mère ?", "What is your mother's maiden name?"),
        Localized::new("Quel était le nom de votre école primaire ?", "What was the name of your primary school?"),
        Localized::new(
            "Quel est le prénom de votre meilleur(e) ami(e) d'enfance ?",
            "What is the first name of your best childhood friend?",
        ),
        Localized::new("Quel était le modèle de votre première voiture ?", "What was the model of your first car?"),
    ]
}

/// Checks the configured list: every question, in both languages, within the length limits of
/// a question a user writes.
pub fn validate_questions(questions: Vec<Localized>) -> Result<Vec<Localized>, String> {
    for q in &questions {
        for text in [&q.fr, &q.en] {
            if !(QUESTION_MIN_CHARS..=QUESTION_MAX_CHARS).contains(&text.trim().chars().count()) {
                return Err(format!(
                    "secret_questions: {text:?} must have {QUESTION_MIN_CHARS} to {QUESTION_MAX_CHARS} characters"
                ));
            }
        }
    }
    Ok(questions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_normalised_for_case_accents_and_spaces() {
        for (typed, expected) in [
            ("  Éléphant  Rose", "elephant rose"),
            ("elephant rose", "elephant rose"),
            ("ÉLÉPHANT\tROSE ", "elephant rose"),
            ("Noël", "noel"),
            ("Ça  va", "ca va"),
            ("Straße", "straße"),
            ("  ", ""),
            ("Œuvre", "œuvre"),
            ("ﬁne", "fine"),
        ] {
            assert_eq!(normalize_answer(typed), expected, "{typed:?}");
        }
    }

    #[test]
    fn questions_keep_their_case_and_accents_but_not_extra_spaces() {
        assert_eq!(collapse_spaces("  Où   êtes-vous né ? "), "Où êtes-vous né ?");
    }

    #[test]
    fn a_configured_question_must_fit_the_length_limits_in_both_languages() {
        assert!(validate_questions(default_questions()).is_ok());
        assert!(validate_questions(vec![]).is_ok());
        assert!(validate_questions(vec![Localized::new("Votre ville ?", "")]).is_err());
        assert!(validate_questions(vec![Localized::new("Ah ?", "Your town?")]).is_err());
    }

    #[test]
    fn the_default_list_is_in_french_and_english() {
        let list = default_questions();
        assert!(list.len() >= 5);
        assert!(list.iter().all(|q| !q.fr.is_empty() && !q.en.is_empty()));
        assert!(list.iter().all(|q| (QUESTION_MIN_CHARS..=QUESTION_MAX_CHARS).contains(&q.fr.chars().count())));
    }
}
