//! Logins (issue #10, item 6): one spelling per login, and no new login that looks like an
//! existing one. `Login::parse` brings what a person typed to the PRECIS UsernameCaseMapped form
//! (RFC 8265 §3.3) and checks the login syntax; `Login::skeleton` is the confusable skeleton of
//! Unicode TS #39 §4 that the store keeps unique. `plan_migration` brings rows written before
//! this rule to it, or says why it cannot. What the store does with them lives in `store/`.

use precis_core::profile::Profile;
use precis_profiles::UsernameCaseMapped;
use unicode_security::MixedScript;

use super::user::UserFieldError;

/// The longest login, in characters (after normalisation).
const MAX_CHARS: usize = 100;

/// A login in PRECIS UsernameCaseMapped form: width-mapped, lower-cased, NFC, and made only of
/// letters, digits and `._-@+` (so e-mail addresses, `claire.dupont2` and student numbers fit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Login(String);

impl Login {
    /// What a person or an operator typed, at sign-in, creation or any lookup by login.
    pub fn parse(raw: &str) -> Result<Self, UserFieldError> {
        // RFC 8265 §3.3.2 (preparation then enforcement): width mapping (`ａ` → `a`), case
        // mapping (toLowerCase), NFC, the IdentifierClass of RFC 8264 §4.2 (no spaces,
        // controls, symbols or compatibility characters), non-empty, and the Bidi rule.
        // Leading and trailing white space is forgiven, as before (a pasted login).
        let enforced = UsernameCaseMapped::new().enforce(raw.trim()).map_err(|_| UserFieldError::Login)?;
        // The IdentifierClass admits every printable ASCII character; logins keep the narrower
        // syntax they always had (letters, digits and `._-@+`), which the profile's output is
        // checked against, not the raw input.
        let ok = enforced.chars().count() <= MAX_CHARS
            && enforced.chars().all(|c| c.is_alphanumeric() || "._-@+".contains(c));
        if ok { Ok(Self(enforced.into_owned())) } else { Err(UserFieldError::Login) }
    }

    /// For a new account (or a new login): `parse`, and the login's letters all belong to one
    /// script (UTS #39 §5.1, a single resolved script set: `аlice` mixing Cyrillic `а` and Latin
    /// is refused even when no `alice` exists yet; Japanese kana with Han is one set).
    pub fn parse_new(raw: &str) -> Result<Self, UserFieldError> {
        let login = Self::parse(raw)?;
        if login.0.as_str().is_single_script() { Ok(login) } else { Err(UserFieldError::MixedScript) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The confusable skeleton (UTS #39 §4: NFD, each character replaced by its prototype in
    /// confusables.txt, NFD again). Two logins with the same skeleton look alike (`alice.martin`
    /// with a Cyrillic `а`, `rn` and `m`, `l` and `1`): the store keeps one of them.
    pub fn skeleton(&self) -> String {
        unicode_security::skeleton(&self.0).collect()
    }
}

/// A login as stored before this rule, in creation order (oldest first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredLogin {
    pub id: String,
    pub login: String,
    pub skeleton: Option<String>,
}

/// Why `plan_migration` left a stored login as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoginFinding {
    /// The profile refuses the login (a symbol, a compatibility character, the Bidi rule…).
    Invalid { login: String },
    /// Its PRECIS form `normalised` is the login of `with` (or the form of `with` too).
    Collides { login: String, normalised: String, with: String },
    /// It looks like `with` (same skeleton), the older account, which keeps the skeleton.
    Confusable { login: String, with: String },
}

impl std::fmt::Display for LoginFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoginFinding::Invalid { login } => write!(f, "login {login:?} is not valid under RFC 8265"),
            LoginFinding::Collides { login, normalised, with } => {
                write!(f, "login {login:?} would become {normalised:?}, which collides with login {with:?}")
            }
            LoginFinding::Confusable { login, with } => write!(f, "login {login:?} is confusable with login {with:?}"),
        }
    }
}

/// A row whose login or skeleton changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginUpdate {
    pub id: String,
    pub login: String,
    pub skeleton: Option<String>,
}

/// What the migration writes, and what it reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoginPlan {
    pub updates: Vec<LoginUpdate>,
    pub findings: Vec<LoginFinding>,
}

/// Brings stored logins to the rule, oldest account first: a login not in PRECIS form is
/// rewritten to it when no other row has or would get that form; the others are reported and
/// keep their row. Every row in form gets its skeleton, except a row that looks like an older
/// one: reported, its skeleton left NULL (the UNIQUE index admits many NULLs), never merged.
/// Idempotent: a second run on the result writes nothing and reports the same rows.
pub fn plan_migration(rows: &[StoredLogin]) -> LoginPlan {
    let normalised: Vec<Option<String>> =
        rows.iter().map(|r| Login::parse(&r.login).ok().map(|l| l.as_str().to_owned())).collect();
    let mut plan = LoginPlan::default();
    // skeleton -> the login (after the migration) of the oldest account that has it.
    let mut holders: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        let login = match &normalised[i] {
            None => {
                plan.findings.push(LoginFinding::Invalid { login: row.login.clone() });
                None
            }
            Some(form) if *form == row.login => Some(form.clone()),
            Some(form) => {
                // Another row already spelled that way, or another row that would become it.
                let other = rows.iter().enumerate().find(|(j, other)| {
                    *j != i && (other.login == *form || normalised[*j].as_deref() == Some(form.as_str()))
                });
                match other {
                    Some((_, other)) => {
                        plan.findings.push(LoginFinding::Collides {
                            login: row.login.clone(),
                            normalised: form.clone(),
                            with: other.login.clone(),
                        });
                        None
                    }
                    None => Some(form.clone()),
                }
            }
        };
        let skeleton = login.as_ref().and_then(|l| {
            let skeleton = Login(l.clone()).skeleton();
            match holders.get(&skeleton) {
                Some(with) => {
                    plan.findings.push(LoginFinding::Confusable { login: l.clone(), with: with.clone() });
                    None
                }
                None => {
                    holders.insert(skeleton.clone(), l.clone());
                    Some(skeleton)
                }
            }
        });
        let new_login = login.unwrap_or_else(|| row.login.clone());
        if new_login != row.login || skeleton != row.skeleton {
            plan.updates.push(LoginUpdate { id: row.id.clone(), login: new_login, skeleton });
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(raw: &str) -> String {
        Login::parse(raw).map(|l| l.as_str().to_owned()).unwrap_or_else(|e| panic!("{raw:?} refused: {e}"))
    }

    #[test]
    fn fullwidth_letters_become_ascii() {
        assert_eq!(form("ａlice.martin"), "alice.martin");
        assert_eq!(form("ＡＬＩＣＥ．ｍａｒｔｉｎ"), "alice.martin");
        assert_eq!(form("ＡLICE.martin"), "alice.martin");
    }

    #[test]
    fn upper_case_becomes_lower_case_and_white_space_around_is_trimmed() {
        assert_eq!(form(" Alice.Martin "), "alice.martin");
        assert_eq!(form("ÉLODIE"), "élodie");
    }

    #[test]
    fn combining_sequences_are_composed_nfc() {
        // `e` + U+0301 COMBINING ACUTE ACCENT is the same login as the precomposed `é`.
        assert_eq!(form("he\u{301}le\u{300}ne"), "hélène");
        assert_eq!(form("hélène"), "hélène");
    }

    #[test]
    fn the_existing_login_syntax_still_fits() {
        for login in
            ["claire.dupont2", "alice.martin@example.org", "22001234", "jean-paul_o+rp", "demo", "ab12cd34ef56"]
        {
            assert_eq!(form(login), login);
            assert_eq!(Login::parse_new(login).map(|l| l.as_str().to_owned()), Ok(login.to_owned()), "a new {login}");
        }
    }

    #[test]
    fn spaces_controls_and_symbols_are_refused() {
        for bad in
            ["", "   ", "alice martin", "alice\tmartin", "alice\u{0}", "alice!", "a#b", "€uro", "ª", "x\u{200b}y"]
        {
            assert!(Login::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(Login::parse(&"a".repeat(101)).is_err());
        assert!(Login::parse(&"a".repeat(100)).is_ok());
    }

    #[test]
    fn a_cyrillic_a_is_confusable_with_the_latin_login() {
        let latin = Login::parse("alice.martin").unwrap();
        let cyrillic = Login::parse("\u{430}lice.martin").unwrap();
        assert_ne!(latin, cyrillic, "two different logins for the profile");
        assert_eq!(latin.skeleton(), cyrillic.skeleton(), "one skeleton: refused beside each other");
        assert_ne!(
            Login::parse("claire.dupont").unwrap().skeleton(),
            Login::parse("claire.dupont2").unwrap().skeleton()
        );
    }

    #[test]
    fn a_new_login_mixing_scripts_is_refused() {
        assert_eq!(Login::parse_new("\u{430}lice.martin"), Err(UserFieldError::MixedScript));
        assert!(Login::parse_new("алиса.мартин").is_ok(), "all Cyrillic is one script");
        assert!(Login::parse_new("hélène.dupont2").is_ok());
        assert!(Login::parse("\u{430}lice.martin").is_ok(), "an existing one can still be looked up");
    }

    fn stored(id: &str, login: &str) -> StoredLogin {
        StoredLogin { id: id.into(), login: login.into(), skeleton: None }
    }

    #[test]
    fn the_migration_normalises_when_unambiguous_and_reports_the_rest() {
        let rows = [
            stored("1", "alice.martin"),
            stored("2", "ａlice.martin"),
            stored("3", "\u{430}lice.martin"),
            stored("4", "bo\u{301}b"),
            stored("5", "x!y"),
        ];
        let plan = plan_migration(&rows);
        let skeleton = |l: &str| Some(Login::parse(l).unwrap().skeleton());
        assert_eq!(
            plan.updates,
            vec![
                LoginUpdate { id: "1".into(), login: "alice.martin".into(), skeleton: skeleton("alice.martin") },
                LoginUpdate { id: "4".into(), login: "bób".into(), skeleton: skeleton("bób") },
            ]
        );
        assert_eq!(
            plan.findings,
            vec![
                LoginFinding::Collides {
                    login: "ａlice.martin".into(),
                    normalised: "alice.martin".into(),
                    with: "alice.martin".into()
                },
                LoginFinding::Confusable { login: "\u{430}lice.martin".into(), with: "alice.martin".into() },
                LoginFinding::Invalid { login: "x!y".into() },
            ]
        );
    }

    #[test]
    fn two_rows_with_one_form_are_both_left_and_reported() {
        let plan = plan_migration(&[stored("1", "ｂob"), stored("2", "ｂｏb"), stored("3", "carol")]);
        assert_eq!(plan.updates.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(), ["3"], "{plan:?}");
        assert!(
            plan.findings.iter().all(|f| matches!(f, LoginFinding::Collides { normalised, .. } if normalised == "bob")),
            "{plan:?}"
        );
        assert_eq!(plan.findings.len(), 2, "{plan:?}");
    }

    #[test]
    fn the_migration_run_twice_writes_nothing_the_second_time() {
        let mut rows = vec![stored("1", "alice.martin"), stored("2", "\u{430}lice.martin"), stored("3", "Ｂob")];
        let first = plan_migration(&rows);
        for update in &first.updates {
            let row = rows.iter_mut().find(|r| r.id == update.id).unwrap();
            row.login = update.login.clone();
            row.skeleton = update.skeleton.clone();
        }
        let second = plan_migration(&rows);
        assert!(second.updates.is_empty(), "{second:?}");
        assert_eq!(
            second.findings,
            vec![LoginFinding::Confusable { login: "\u{430}lice.martin".into(), with: "alice.martin".into() }]
        );
    }
}
