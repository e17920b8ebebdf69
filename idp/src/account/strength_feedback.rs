//! zxcvbn's feedback (issue #13, item 4) as catalog keys: every `Warning` and `Suggestion` of
//! zxcvbn 3.1 names one message (`password_warning_<name>`, `password_suggestion_<name>`,
//! themes/default/i18n/{fr,en}/password_feedback.toml), so a refusal says what to change
//! ("Évitez les années récentes") rather than the rule's label ("Une force d'au moins 2 sur 4").
//! The matches have no wildcard: a variant added by a zxcvbn upgrade does not compile until
//! it has a message.

use zxcvbn::feedback::{Suggestion, Warning};

/// What zxcvbn says of one password, as catalog keys. Empty when zxcvbn has nothing to say
/// (it only explains scores of 2 and below).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Feedback {
    pub warning: Option<&'static str>,
    pub suggestions: Vec<&'static str>,
}

impl Feedback {
    pub fn of(feedback: Option<&zxcvbn::feedback::Feedback>) -> Self {
        match feedback {
            None => Self::default(),
            Some(f) => Self {
                warning: f.warning().map(warning_key),
                suggestions: f.suggestions().iter().copied().map(suggestion_key).collect(),
            },
        }
    }

    pub fn is_empty(&self) -> bool {
        self.warning.is_none() && self.suggestions.is_empty()
    }

    /// Every key, warning first.
    pub fn keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.warning.into_iter().chain(self.suggestions.iter().copied())
    }
}

/// The catalog key of a warning.
pub fn warning_key(w: Warning) -> &'static str {
    match w {
        Warning::StraightRowsOfKeysAreEasyToGuess => "password_warning_straight_rows_of_keys",
        Warning::ShortKeyboardPatternsAreEasyToGuess => "password_warning_short_keyboard_patterns",
        Warning::RepeatsLikeAaaAreEasyToGuess => "password_warning_repeats_like_aaa",
        Warning::RepeatsLikeAbcAbcAreOnlySlightlyHarderToGuess => "password_warning_repeats_like_abcabc",
        Warning::ThisIsATop10Password => "password_warning_top10",
        Warning::ThisIsATop100Password => "password_warning_top100",
        Warning::ThisIsACommonPassword => "password_warning_common",
        Warning::ThisIsSimilarToACommonlyUsedPassword => "password_warning_similar_to_common",
        Warning::SequencesLikeAbcAreEasyToGuess => "password_warning_sequences",
        Warning::RecentYearsAreEasyToGuess => "password_warning_recent_years",
        Warning::AWordByItselfIsEasyToGuess => "password_warning_word_by_itself",
        Warning::DatesAreOftenEasyToGuess => "password_warning_dates",
        Warning::NamesAndSurnamesByThemselvesAreEasyToGuess => "password_warning_names_by_themselves",
        Warning::CommonNamesAndSurnamesAreEasyToGuess => "password_warning_common_names",
    }
}

/// The catalog key of a suggestion.
pub fn suggestion_key(s: Suggestion) -> &'static str {
    match s {
        Suggestion::UseAFewWordsAvoidCommonPhrases => "password_suggestion_use_a_few_words",
        Suggestion::NoNeedForSymbolsDigitsOrUppercaseLetters => "password_suggestion_no_need_for_symbols",
        Suggestion::AddAnotherWordOrTwo => "password_suggestion_add_another_word",
        Suggestion::CapitalizationDoesntHelpVeryMuch => "password_suggestion_capitalization",
        Suggestion::AllUppercaseIsAlmostAsEasyToGuessAsAllLowercase => "password_suggestion_all_uppercase",
        Suggestion::ReversedWordsArentMuchHarderToGuess => "password_suggestion_reversed_words",
        Suggestion::PredictableSubstitutionsDontHelpVeryMuch => "password_suggestion_predictable_substitutions",
        Suggestion::UseALongerKeyboardPatternWithMoreTurns => "password_suggestion_longer_keyboard_pattern",
        Suggestion::AvoidRepeatedWordsAndCharacters => "password_suggestion_avoid_repeats",
        Suggestion::AvoidSequences => "password_suggestion_avoid_sequences",
        Suggestion::AvoidRecentYears => "password_suggestion_avoid_recent_years",
        Suggestion::AvoidYearsThatAreAssociatedWithYou => "password_suggestion_avoid_your_years",
        Suggestion::AvoidDatesAndYearsThatAreAssociatedWithYou => "password_suggestion_avoid_your_dates",
    }
}

/// Said when the strength rule fails and zxcvbn gives no feedback (a policy asking for 3 or 4,
/// a password scoring 3).
pub const GENERIC_KEY: &str = "password_feedback_too_easy";

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant, in declaration order; `index` has no wildcard, so a new variant fails to
    /// compile there and is then listed here.
    const WARNINGS: [Warning; 14] = [
        Warning::StraightRowsOfKeysAreEasyToGuess,
        Warning::ShortKeyboardPatternsAreEasyToGuess,
        Warning::RepeatsLikeAaaAreEasyToGuess,
        Warning::RepeatsLikeAbcAbcAreOnlySlightlyHarderToGuess,
        Warning::ThisIsATop10Password,
        Warning::ThisIsATop100Password,
        Warning::ThisIsACommonPassword,
        Warning::ThisIsSimilarToACommonlyUsedPassword,
        Warning::SequencesLikeAbcAreEasyToGuess,
        Warning::RecentYearsAreEasyToGuess,
        Warning::AWordByItselfIsEasyToGuess,
        Warning::DatesAreOftenEasyToGuess,
        Warning::NamesAndSurnamesByThemselvesAreEasyToGuess,
        Warning::CommonNamesAndSurnamesAreEasyToGuess,
    ];
    const SUGGESTIONS: [Suggestion; 13] = [
        Suggestion::UseAFewWordsAvoidCommonPhrases,
        Suggestion::NoNeedForSymbolsDigitsOrUppercaseLetters,
        Suggestion::AddAnotherWordOrTwo,
        Suggestion::CapitalizationDoesntHelpVeryMuch,
        Suggestion::AllUppercaseIsAlmostAsEasyToGuessAsAllLowercase,
        Suggestion::ReversedWordsArentMuchHarderToGuess,
        Suggestion::PredictableSubstitutionsDontHelpVeryMuch,
        Suggestion::UseALongerKeyboardPatternWithMoreTurns,
        Suggestion::AvoidRepeatedWordsAndCharacters,
        Suggestion::AvoidSequences,
        Suggestion::AvoidRecentYears,
        Suggestion::AvoidYearsThatAreAssociatedWithYou,
        Suggestion::AvoidDatesAndYearsThatAreAssociatedWithYou,
    ];

    fn warning_index(w: Warning) -> usize {
        match w {
            Warning::StraightRowsOfKeysAreEasyToGuess => 0,
            Warning::ShortKeyboardPatternsAreEasyToGuess => 1,
            Warning::RepeatsLikeAaaAreEasyToGuess => 2,
            Warning::RepeatsLikeAbcAbcAreOnlySlightlyHarderToGuess => 3,
            Warning::ThisIsATop10Password => 4,
            Warning::ThisIsATop100Password => 5,
            Warning::ThisIsACommonPassword => 6,
            Warning::ThisIsSimilarToACommonlyUsedPassword => 7,
            Warning::SequencesLikeAbcAreEasyToGuess => 8,
            Warning::RecentYearsAreEasyToGuess => 9,
            Warning::AWordByItselfIsEasyToGuess => 10,
            Warning::DatesAreOftenEasyToGuess => 11,
            Warning::NamesAndSurnamesByThemselvesAreEasyToGuess => 12,
            Warning::CommonNamesAndSurnamesAreEasyToGuess => 13,
        }
    }

    fn suggestion_index(s: Suggestion) -> usize {
        match s {
            Suggestion::UseAFewWordsAvoidCommonPhrases => 0,
            Suggestion::NoNeedForSymbolsDigitsOrUppercaseLetters => 1,
            Suggestion::AddAnotherWordOrTwo => 2,
            Suggestion::CapitalizationDoesntHelpVeryMuch => 3,
            Suggestion::AllUppercaseIsAlmostAsEasyToGuessAsAllLowercase => 4,
            Suggestion::ReversedWordsArentMuchHarderToGuess => 5,
            Suggestion::PredictableSubstitutionsDontHelpVeryMuch => 6,
            Suggestion::UseALongerKeyboardPatternWithMoreTurns => 7,
            Suggestion::AvoidRepeatedWordsAndCharacters => 8,
            Suggestion::AvoidSequences => 9,
            Suggestion::AvoidRecentYears => 10,
            Suggestion::AvoidYearsThatAreAssociatedWithYou => 11,
            Suggestion::AvoidDatesAndYearsThatAreAssociatedWithYou => 12,
        }
    }

    fn catalog(lang: &str) -> std::collections::BTreeMap<String, String> {
        let text = match lang {
            "fr" => include_str!("../../../themes/default/i18n/fr/password_feedback.toml"),
            _ => include_str!("../../../themes/default/i18n/en/password_feedback.toml"),
        };
        toml::from_str(text).unwrap()
    }

    #[test]
    fn the_variant_lists_are_complete_and_in_order() {
        for (i, w) in WARNINGS.iter().enumerate() {
            assert_eq!(warning_index(*w), i);
        }
        for (i, s) in SUGGESTIONS.iter().enumerate() {
            assert_eq!(suggestion_index(*s), i);
        }
    }

    #[test]
    fn every_warning_and_suggestion_has_a_distinct_french_and_english_message() {
        let keys: Vec<&str> = WARNINGS
            .into_iter()
            .map(warning_key)
            .chain(SUGGESTIONS.into_iter().map(suggestion_key))
            .chain([GENERIC_KEY])
            .collect();
        let distinct: std::collections::BTreeSet<_> = keys.iter().collect();
        assert_eq!(distinct.len(), keys.len(), "two variants share a key");
        for lang in ["fr", "en"] {
            let catalog = catalog(lang);
            for key in &keys {
                let text = catalog.get(*key).unwrap_or_else(|| panic!("{lang}: no message for {key}"));
                assert!(!text.trim().is_empty(), "{lang}: empty message for {key}");
            }
        }
        assert_eq!(catalog("fr")["password_suggestion_avoid_recent_years"], "Évitez les années récentes.");
    }

    #[test]
    fn a_common_word_and_a_year_are_explained() {
        let entropy = zxcvbn::zxcvbn("Bonjour2024", &[]);
        let feedback = Feedback::of(entropy.feedback());
        assert_eq!(feedback.warning, Some("password_warning_similar_to_common"));
        assert!(feedback.suggestions.contains(&"password_suggestion_add_another_word"), "{feedback:?}");
    }
}
