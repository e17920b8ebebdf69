//! User types (issue #4): "je suis un usager / un élu / un agent …". Declared in the settings;
//! every user has one; each carries the rules that apply to its people: password policy,
//! lockout, secret question, captcha, terms, theme. Recovery (issue #5) builds on them.
//! Pure data here; the engines that apply the rules live in `account/`.

use serde::{Deserialize, Serialize};

use super::Lang;

/// A text in French (the reference) and English.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Localized {
    pub fr: String,
    pub en: String,
}

impl Localized {
    pub fn new(fr: &str, en: &str) -> Self {
        Self { fr: fr.to_owned(), en: en.to_owned() }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Fr => &self.fr,
            Lang::En if self.en.is_empty() => &self.fr,
            Lang::En => &self.en,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserType {
    /// Stable identifier, stored on every user (`users.user_type`).
    pub id: String,
    pub label: Localized,
    #[serde(default)]
    pub description: Localized,
    #[serde(default)]
    pub password_policy: PasswordPolicy,
    #[serde(default)]
    pub lockout: LockoutRule,
    /// A secret question must be set at first login (and is asked during recovery).
    #[serde(default)]
    pub secret_question: bool,
    #[serde(default)]
    pub captcha: CaptchaKind,
    /// Terms the user must accept at first login ("Je reconnais avoir pris connaissance du
    /// règlement intérieur"); none when absent.
    #[serde(default)]
    pub terms: Option<Localized>,
    /// The version of those terms (issue #13, item 10): a user who accepted another version,
    /// or none recorded, is asked again at the next sign-in. Unset: accepting once is enough.
    #[serde(default)]
    pub terms_version: Option<String>,
    /// The document the terms refer to ("règlement intérieur"), linked beside the checkbox.
    #[serde(default)]
    pub terms_url: Option<String>,
    /// Theme of this type's pages when the client does not choose one.
    #[serde(default)]
    pub theme: Option<String>,
    /// What "Mot de passe perdu" / "Identifiant oublié" do for this type (issue #5).
    #[serde(default)]
    pub recovery: RecoveryRule,
}

/// Self-service recovery of one user type (issue #5), as the seed portals do it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecoveryRule {
    /// What choosing this type in the selector leads to.
    pub handling: RecoveryHandling,
    /// Where `external` sends people (agents whose accounts live elsewhere).
    pub external_url: Option<String>,
    /// The support contact of this type ("0 800 74 74 00"), shown by the support page and when
    /// recovery cannot go on (no secret question set). With neither this nor `support_url`,
    /// the installation's contact; with only one of them, that one alone
    /// (`RecoveryRule::support_contact`).
    pub support: Option<Localized>,
    /// A contact form for this type (see `support`).
    pub support_url: Option<String>,
    /// How a person names their account on the first page (in this order on the form).
    pub identify_by: Vec<IdentifyBy>,
    /// The alternate identifiers accepted (`alternate_id`): kinds stored with the account
    /// (`student_number`, `ine`, `staff_number`, `consular_number`…), one field on the form.
    pub alternate_id_kinds: Vec<String>,
    /// The label of that field ("Numéro personnel").
    pub alternate_id_label: Localized,
    /// The date of birth is asked with an alternate identifier and must match (UPHF Sésame).
    pub birth_date: bool,
    /// The captcha of the first page (Ségur, Bonus Eco: arithmetic).
    pub captcha: CaptchaKind,
    /// Ask the account's secret question when it has one. When the type requires one
    /// (`secret_question`) and the account never set it, recovery stops on the support message.
    pub ask_secret_question: bool,
    /// What happens when the type requires a secret question and the account never set one
    /// (issue #13, decision 0020): by default the pages go on as for an unknown login and the
    /// owner gets the support message by e-mail; `page` shows it on screen, as the Bonus Eco
    /// seed does, which tells whoever typed the identifier that the account exists.
    pub missing_secret_notice: MissingSecretNotice,
    /// How a forgotten password is recovered.
    pub password: PasswordRecovery,
    /// How a forgotten identifier is recovered.
    pub identifier: IdentifierRecovery,
}

impl Default for RecoveryRule {
    fn default() -> Self {
        Self {
            handling: RecoveryHandling::SelfService,
            external_url: None,
            support: None,
            support_url: None,
            identify_by: vec![IdentifyBy::Login, IdentifyBy::Email],
            alternate_id_kinds: Vec::new(),
            alternate_id_label: Localized::new("Numéro personnel", "Personal number"),
            birth_date: false,
            captcha: CaptchaKind::Arithmetic,
            ask_secret_question: true,
            missing_secret_notice: MissingSecretNotice::Mail,
            password: PasswordRecovery::Code,
            identifier: IdentifierRecovery::Email,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecoveryHandling {
    /// Recovered here.
    #[default]
    SelfService,
    /// Sent to `external_url`.
    External,
    /// Shown the support contact only.
    Support,
}

/// Where the support message of an account without its required secrets goes (decision 0020).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingSecretNotice {
    /// The same pages as an unknown login (a decoy question, "Procédure terminée"); the owner
    /// receives the message by e-mail (`mail/missing_secret`).
    #[default]
    Mail,
    /// The message on the page ("L'ensemble des secrets … n'étant pas renseigné …"): it says
    /// that the account exists.
    Page,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentifyBy {
    Login,
    Email,
    AlternateId,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordRecovery {
    /// A 6-digit security code by e-mail, typed on the page (Nouvelle-Aquitaine); the mail also
    /// carries a single-use link holding the same code, for another device.
    #[default]
    Code,
    /// Only the single-use link (Ségur Numérique: "Ce lien a une durée de validité de 15 minutes").
    Link,
    /// A new provisional password by e-mail, changed at the next sign-in (Bonus Eco).
    Provisional,
    /// No self-service password recovery: the support page.
    None,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentifierRecovery {
    /// The identifier(s) of the address e-mailed to it (Ségur Numérique).
    #[default]
    Email,
    /// A single-use link by e-mail, then a code by SMS, then a NEW random identifier shown once
    /// (consular elections).
    NewIdentifier,
    /// No self-service identifier recovery: the support page.
    None,
}

/// Password rules (issue #4), one contract for the server and the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordPolicy {
    pub min_length: u32,
    pub max_length: u32,
    pub min_lowercase: u32,
    pub min_uppercase: u32,
    pub min_digits: u32,
    pub min_symbols: u32,
    /// Must not contain the login, given name, family name or e-mail local part (case- and
    /// accent-insensitive).
    pub forbid_personal_data: bool,
    /// Must differ from the last N passwords (0: no history).
    pub history: u32,
    /// Expires after D days (none: never), with a warning e-mail W days before.
    pub max_age_days: Option<u32>,
    pub expiry_warning_days: u32,
    /// Minimum zxcvbn score, 0 (anything) to 4 (very strong).
    pub min_strength: u8,
    /// Refuse passwords from the common/breached list shipped with the binary.
    pub refuse_common: bool,
}

impl Default for PasswordPolicy {
    /// Mes démarches en Nouvelle-Aquitaine: 8 characters, a lower-case letter, an upper-case
    /// letter and a digit; plus the safety rules every seed portal has.
    fn default() -> Self {
        Self {
            min_length: 8,
            max_length: 128,
            min_lowercase: 1,
            min_uppercase: 1,
            min_digits: 1,
            min_symbols: 0,
            forbid_personal_data: true,
            history: 3,
            max_age_days: None,
            expiry_warning_days: 14,
            min_strength: 2,
            refuse_common: true,
        }
    }
}

/// Lock after `max_failures` consecutive failures for `lock_minutes` (Bonus Eco: 3 and about 20).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LockoutRule {
    pub max_failures: u32,
    pub lock_minutes: u32,
    /// On the login page of a client that preselects this type (its `recovery_user_type`):
    /// whether it tells that the typed identifier is locked (issue #13, decision 0020). Unset:
    /// the installation's `[lockout] tell_locked`. Needs `max_failures` and `lock_minutes`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tell_locked: Option<bool>,
}

impl Default for LockoutRule {
    fn default() -> Self {
        Self { max_failures: 3, lock_minutes: 20, tell_locked: None }
    }
}

impl LockoutRule {
    /// Failures lock at all: a count and a duration.
    pub fn locks(&self) -> bool {
        self.max_failures > 0 && self.lock_minutes > 0
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptchaKind {
    #[default]
    None,
    /// "Veuillez résoudre l'opération suivante : 9 + 0 = ?"
    Arithmetic,
    /// Distorted characters, with the arithmetic one as the accessible alternative.
    Image,
}

pub const DEFAULT_USER_TYPE: &str = "usager";

impl UserType {
    /// Recovery asks the secret question: the rule says so and the type requires every account
    /// to have one (with optional questions, asking some people and not others would tell who
    /// has an account).
    pub fn recovery_asks_question(&self) -> bool {
        self.recovery.ask_secret_question && self.secret_question
    }

    /// The type every installation has unless its settings declare others.
    pub fn default_usager() -> Self {
        Self {
            id: DEFAULT_USER_TYPE.into(),
            label: Localized::new("Je suis un usager", "I am a user"),
            description: Localized::new(
                "Citoyen, demandeur d'aide, partenaire ou prestataire",
                "Citizen, applicant, partner or contractor",
            ),
            password_policy: PasswordPolicy::default(),
            lockout: LockoutRule::default(),
            secret_question: false,
            captcha: CaptchaKind::None,
            terms: None,
            terms_version: None,
            terms_url: None,
            theme: None,
            recovery: RecoveryRule::default(),
        }
    }
}

impl RecoveryRule {
    fn validate(&self) -> Result<(), String> {
        if self.handling == RecoveryHandling::External {
            let url = self.external_url.as_deref().ok_or("handling = \"external\" needs external_url")?;
            let parsed = url::Url::parse(url).map_err(|e| format!("external_url {url:?}: {e}"))?;
            if !matches!(parsed.scheme(), "https" | "http") {
                return Err(format!("external_url {url:?} must be an http(s) URL"));
            }
        }
        if self.identify_by.is_empty() {
            return Err("identify_by must list at least one of login, email, alternate_id".into());
        }
        let uses_alternate =
            self.identify_by.contains(&IdentifyBy::AlternateId) || self.identifier == IdentifierRecovery::NewIdentifier;
        if uses_alternate && self.alternate_id_kinds.is_empty() {
            return Err("alternate_id needs alternate_id_kinds (e.g. [\"student_number\"])".into());
        }
        for kind in &self.alternate_id_kinds {
            if kind.is_empty() || kind.len() > 64 || !kind.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(format!("alternate id kind {kind:?} must be letters, digits and '_'"));
            }
        }
        if self.birth_date && !self.identify_by.contains(&IdentifyBy::AlternateId) {
            return Err("birth_date goes with identify_by = [\"alternate_id\"]".into());
        }
        Ok(())
    }

    /// The support contact this type's pages show in `lang`, as (text, link), either possibly
    /// empty: the type's own when it names one, a text or a link or both (a type with only a
    /// link, like Ségur's contact form, shows only that link and never borrows the
    /// installation's text, which belongs to another portal: issue #13), else the
    /// installation's (`installation_text`, `installation_url`).
    pub fn support_contact(
        &self,
        installation_text: &Localized,
        installation_url: Option<&str>,
        lang: Lang,
    ) -> (String, String) {
        let (text, url) = if self.support.is_some() || self.support_url.is_some() {
            (self.support.as_ref(), self.support_url.as_deref())
        } else {
            (Some(installation_text), installation_url)
        };
        (text.map(|t| t.get(lang).to_owned()).unwrap_or_default(), url.unwrap_or_default().to_owned())
    }
}

/// The declared types, validated: at least one, ids unique and URL-safe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserTypes(Vec<UserType>);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UserTypeError {
    #[error("at least one user type must be declared")]
    Empty,
    #[error("user type id {0:?} must be 1 to 64 characters among letters, digits, '-' and '_'")]
    BadId(String),
    #[error("user type {0:?} is declared twice")]
    Duplicate(String),
    #[error("user type {0:?}: {1}")]
    BadPolicy(String, String),
    #[error("user type {0:?}, recovery: {1}")]
    BadRecovery(String, String),
    #[error("user type {0:?}, lockout: {1}")]
    BadLockout(String, String),
    #[error("user type {0:?}, terms: {1}")]
    BadTerms(String, String),
}

/// `terms_version` and `terms_url` go with `terms`; the document is an http(s) URL or a path
/// of this site (`/static/…`).
fn validate_terms(t: &UserType) -> Result<(), String> {
    if t.terms.is_none() && (t.terms_version.is_some() || t.terms_url.is_some()) {
        return Err("terms_version and terms_url go with terms".into());
    }
    if let Some(version) = &t.terms_version
        && (version.trim().is_empty() || version.len() > 64)
    {
        return Err("terms_version must be 1 to 64 characters".into());
    }
    if let Some(url) = &t.terms_url {
        let local = url.starts_with('/') && !url.starts_with("//");
        let web = url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "https" | "http"));
        if !local && !web {
            return Err(format!("terms_url {url:?} must be an http(s) URL or a path starting with '/'"));
        }
    }
    Ok(())
}

impl UserTypes {
    pub fn new(types: Vec<UserType>) -> Result<Self, UserTypeError> {
        if types.is_empty() {
            return Err(UserTypeError::Empty);
        }
        for (i, t) in types.iter().enumerate() {
            let ok_id = !t.id.is_empty()
                && t.id.len() <= 64
                && t.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !ok_id {
                return Err(UserTypeError::BadId(t.id.clone()));
            }
            if types[..i].iter().any(|o| o.id == t.id) {
                return Err(UserTypeError::Duplicate(t.id.clone()));
            }
            let p = &t.password_policy;
            let required = p.min_lowercase + p.min_uppercase + p.min_digits + p.min_symbols;
            if p.min_length < 1 || p.max_length < p.min_length || required > p.max_length || p.min_strength > 4 {
                return Err(UserTypeError::BadPolicy(t.id.clone(), "inconsistent lengths, counts or strength".into()));
            }
            t.recovery.validate().map_err(|m| UserTypeError::BadRecovery(t.id.clone(), m))?;
            validate_terms(t).map_err(|m| UserTypeError::BadTerms(t.id.clone(), m))?;
            if t.lockout.tell_locked == Some(true) && !t.lockout.locks() {
                return Err(UserTypeError::BadLockout(
                    t.id.clone(),
                    "tell_locked = true needs max_failures and lock_minutes above 0".into(),
                ));
            }
        }
        Ok(Self(types))
    }

    pub fn get(&self, id: &str) -> Option<&UserType> {
        self.0.iter().find(|t| t.id == id)
    }

    /// The type of a user whose stored type is `id`: that one, or the default one when the
    /// settings no longer declare it (a user is never left without rules).
    pub fn of(&self, id: &str) -> &UserType {
        self.get(id).unwrap_or_else(|| self.default_type())
    }

    /// The first declared type is the default for users created without one.
    pub fn default_type(&self) -> &UserType {
        &self.0[0]
    }

    pub fn all(&self) -> &[UserType] {
        &self.0
    }
}

impl Default for UserTypes {
    fn default() -> Self {
        Self(vec![UserType::default_usager()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_one_usager_type_with_the_seed_rules() {
        let types = UserTypes::default();
        let t = types.default_type();
        assert_eq!(t.id, "usager");
        assert_eq!(t.password_policy.min_length, 8);
        assert_eq!(t.lockout, LockoutRule { max_failures: 3, lock_minutes: 20, tell_locked: None });
    }

    #[test]
    fn ids_must_be_unique_and_url_safe() {
        let t = UserType::default_usager();
        assert_eq!(UserTypes::new(vec![t.clone(), t.clone()]), Err(UserTypeError::Duplicate("usager".into())));
        assert!(matches!(UserTypes::new(vec![UserType { id: "un élu".into(), ..t }]), Err(UserTypeError::BadId(_))));
        assert_eq!(UserTypes::new(vec![]), Err(UserTypeError::Empty));
    }

    #[test]
    fn a_terms_version_or_document_needs_terms_and_a_usable_link() {
        let bare = UserType::default_usager();
        let with_terms = UserType { terms: Some(Localized::new("Je reconnais", "I have read")), ..bare.clone() };
        let check = |t: UserType| UserTypes::new(vec![t]).map(|_| ()).map_err(|e| e.to_string());
        assert!(check(UserType { terms_version: Some("2026".into()), ..bare.clone() }).is_err());
        assert!(check(UserType { terms_url: Some("https://x.fr/r.pdf".into()), ..bare }).is_err());
        for url in ["https://www.uphf.fr/reglement.pdf", "/static/reglement.pdf"] {
            let t =
                UserType { terms_url: Some(url.into()), terms_version: Some("2026-09".into()), ..with_terms.clone() };
            assert_eq!(check(t), Ok(()), "{url}");
        }
        for url in ["javascript:alert(1)", "//evil.example/r.pdf", "reglement.pdf"] {
            let t = UserType { terms_url: Some(url.into()), ..with_terms.clone() };
            assert!(check(t).unwrap_err().contains("terms_url"), "{url}");
        }
        assert!(check(UserType { terms_version: Some(" ".into()), ..with_terms }).is_err());
    }

    #[test]
    fn an_impossible_policy_is_refused() {
        let mut t = UserType::default_usager();
        t.password_policy.max_length = 4;
        assert!(matches!(UserTypes::new(vec![t]), Err(UserTypeError::BadPolicy(..))));
    }

    #[test]
    fn english_falls_back_to_french() {
        assert_eq!(Localized::new("Bonjour", "").get(Lang::En), "Bonjour");
        assert_eq!(Localized::new("Bonjour", "Hello").get(Lang::En), "Hello");
    }
}
