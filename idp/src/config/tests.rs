//! Unit tests of the settings: sources, defaults, bounds.

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

#[test]
fn a_duration_that_would_overflow_the_clock_is_refused() {
    // Found while fuzzing (fuzz/config, its invariant): these passed validation, then `now + ttl`
    // overflowed in the flows.
    for setting in [
        "access_token_ttl = 9223372036854775807",
        "auth_request_ttl = 315360001",
        "login_ip_window = 9223372036854775807",
        "[recovery]\nflow_lifetime = 9223372036854775807",
    ] {
        let err = Config::from_sources(setting, &[]).unwrap_err();
        assert!(err.to_string().contains("at most") || err.to_string().contains("between"), "{setting}: {err}");
    }
    assert!(Config::from_sources(&format!("refresh_token_ttl = {MAX_DURATION}"), &[]).is_ok());
}

#[test]
fn defaults_are_the_embedded_setup() {
    let c = Config::from_sources("", &[]).unwrap();
    assert_eq!(c.issuer, "http://127.0.0.1:8080");
    assert_eq!(c.database_url, "sqlite:./data/idp.db");
    assert!(c.redis_url.is_none());
    assert!(!c.secure_cookies);
}

#[test]
fn server_limits_and_dependency_waits_have_defaults_and_bounds() {
    let c = Config::from_sources("", &[]).unwrap();
    assert_eq!(c.server_limits.header_timeout, Duration::from_secs(10));
    assert_eq!(c.server_limits.body_timeout, Duration::from_secs(30));
    assert_eq!(c.server_limits.idle_timeout, Duration::from_secs(60));
    assert_eq!(c.server_limits.max_connections, 10_000);
    assert_eq!(c.redis_timeout, Duration::from_millis(1500));
    assert_eq!(c.database_timeout, Duration::from_millis(2000));
    let c = Config::from_sources("", &env(&[("IDP_HTTP_HEADER_TIMEOUT", "3"), ("IDP_MAX_CONNECTIONS", "50")])).unwrap();
    assert_eq!(c.server_limits.header_timeout, Duration::from_secs(3));
    assert_eq!(c.server_limits.max_connections, 50);
    for bad in ["http_header_timeout = 0", "http_idle_timeout = -1", "max_connections = 0", "redis_timeout_ms = 0"] {
        assert!(Config::from_sources(bad, &[]).is_err(), "{bad} is refused");
    }
}

#[test]
fn environment_overrides_the_file() {
    let c = Config::from_sources(
        "issuer = \"https://file.example\"\ncode_ttl = 30\n",
        &env(&[("IDP_ISSUER", "https://env.example/"), ("IDP_REDIS_URL", "redis://127.0.0.1/"), ("OTHER", "x")]),
    )
    .unwrap();
    assert_eq!(c.issuer, "https://env.example");
    assert_eq!(c.lifetimes.code, 30);
    assert_eq!(c.redis_url.as_deref(), Some("redis://127.0.0.1/"));
    assert!(c.secure_cookies);
}

#[test]
fn the_documented_example_settings_are_valid_and_equal_the_defaults() {
    let documented = Config::from_sources(include_str!("../../../deploy/idp.example.toml"), &[]).unwrap();
    let defaults = Config::from_sources("", &[]).unwrap();
    assert_eq!(format!("{documented:?}"), format!("{defaults:?}"));
}

#[test]
fn the_seed_portals_example_parses_with_their_rules() {
    use crate::domain::user_type::CaptchaKind;
    let c = Config::from_sources(include_str!("../../../deploy/seed-portals.example.toml"), &[]).unwrap();
    let ids: Vec<&str> = c.user_types.all().iter().map(|t| t.id.as_str()).collect();
    assert_eq!(
        ids,
        ["usager", "elu", "agent_lycee", "agent_siege", "sesame", "bonus_eco", "segur_operateur", "electeur"]
    );
    for region in ["usager", "elu", "agent_lycee", "agent_siege"] {
        let t = c.user_types.get(region).unwrap();
        let p = &t.password_policy;
        assert_eq!((p.min_length, p.min_lowercase, p.min_uppercase, p.min_digits), (8, 1, 1, 1), "{region}");
        assert_eq!(t.theme.as_deref(), Some("region"));
    }
    let sesame = c.user_types.get("sesame").unwrap();
    assert!(sesame.password_policy.forbid_personal_data && sesame.secret_question && sesame.terms.is_some());
    assert!(sesame.terms_url.is_some() && sesame.terms_version.is_some());
    assert_eq!(sesame.password_policy.history, 3);
    let bonus = c.user_types.get("bonus_eco").unwrap();
    assert_eq!(bonus.password_policy.max_age_days, Some(90));
    assert_eq!((bonus.lockout.max_failures, bonus.lockout.lock_minutes), (3, 20));
    assert!(bonus.secret_question && bonus.captcha == CaptchaKind::Image);
    assert_eq!(bonus.lockout.tell_locked, Some(true), "Bonus Eco's login page tells of a lock (issue #13)");
    assert!(!c.lockout.tell_locked, "the installation does not");
    let segur = c.user_types.get("segur_operateur").unwrap();
    assert!(segur.secret_question && segur.captcha == CaptchaKind::Arithmetic);
}

#[test]
fn the_seed_portals_example_reproduces_each_recovery() {
    use crate::domain::user_type::{
        CaptchaKind, IdentifierRecovery as I, IdentifyBy, PasswordRecovery as P, RecoveryHandling as H,
    };
    let c = Config::from_sources(include_str!("../../../deploy/seed-portals.example.toml"), &[]).unwrap();
    let rule = |id: &str| c.user_types.get(id).unwrap().recovery.clone();
    // Nouvelle-Aquitaine: e-mail → code; agents of the schools elsewhere, head office by support.
    assert_eq!((rule("usager").identify_by, rule("usager").password), (vec![IdentifyBy::Email], P::Code));
    assert_eq!(rule("agent_lycee").handling, H::External);
    assert_eq!(rule("agent_siege").handling, H::Support);
    // UPHF: personal number + date of birth.
    let sesame = rule("sesame");
    assert!(sesame.birth_date && sesame.identify_by == [IdentifyBy::AlternateId]);
    // Bonus Eco: login, arithmetic, provisional password, support number.
    let bonus = rule("bonus_eco");
    assert_eq!((bonus.captcha, bonus.password), (CaptchaKind::Arithmetic, P::Provisional));
    assert!(bonus.support.is_some());
    // Ségur: link, identifier reminder; consular: new identifier.
    assert_eq!((rule("segur_operateur").password, rule("segur_operateur").identifier), (P::Link, I::Email));
    assert_eq!(rule("electeur").identifier, I::NewIdentifier);
    // The installation's support belongs to no portal; the Region's types name their own.
    assert!(c.recovery.support.get(crate::domain::Lang::Fr).contains("votre organisation"));
    assert!(rule("usager").support.is_some_and(|s| s.get(crate::domain::Lang::Fr).contains("05 57 57 80 00")));
}

#[test]
fn the_readme_user_type_example_is_valid() {
    let readme = include_str!("../../../README.md");
    let start = readme.find("```toml\n[[user_types]]").expect("the README has a [[user_types]] example") + 8;
    let end = start + readme[start..].find("```").unwrap();
    let c = Config::from_sources(&readme[start..end], &[]).unwrap();
    let t = c.user_types.default_type();
    assert!(t.secret_question && t.terms.is_some() && t.theme.is_some());
    assert_eq!(t.password_policy.max_age_days, Some(90));
}

#[test]
fn the_readme_bonus_eco_example_is_the_seed_file_s() {
    let readme = include_str!("../../../README.md");
    let seed = include_str!("../../../deploy/seed-portals.example.toml");
    let start = readme.find("```toml\n[[user_types]]\nid = \"bonus_eco\"").expect("the README shows Bonus Eco") + 8;
    let end = start + readme[start..].find("```").unwrap();
    let block = &readme[start..end];
    assert!(seed.contains(block), "the README's Bonus Eco block differs from the seed file:\n{block}");
    let c = Config::from_sources(block, &[]).unwrap();
    let t = c.user_types.default_type();
    assert!(t.lockout.tell_locked == Some(true) && t.captcha == crate::domain::user_type::CaptchaKind::Image);
}

#[test]
fn the_readme_recovery_example_is_valid() {
    use crate::domain::user_type::{IdentifyBy, PasswordRecovery};
    let readme = include_str!("../../../README.md");
    let start = readme.find("```toml\n[recovery]").expect("the README has a [recovery] example") + 8;
    let end = start + readme[start..].find("```").unwrap();
    let c = Config::from_sources(&readme[start..end], &[]).unwrap();
    assert_eq!(c.recovery.code_lifetime, 900);
    let t = c.user_types.default_type();
    assert_eq!(
        (t.recovery.identify_by.as_slice(), t.recovery.password),
        ([IdentifyBy::Email].as_slice(), PasswordRecovery::Code)
    );
}

#[test]
fn user_types_are_declared_as_tables() {
    let c = Config::from_sources(
        "[[user_types]]\nid = \"elu\"\nlabel = { fr = \"Je suis un élu\", en = \"I am an elected official\" }\n\
         secret_question = true\ncaptcha = \"arithmetic\"\n[user_types.lockout]\nmax_failures = 5\n",
        &[],
    )
    .unwrap();
    let elu = c.user_types.get("elu").unwrap();
    assert!(elu.secret_question);
    assert_eq!(elu.lockout.max_failures, 5);
    assert_eq!(elu.lockout.lock_minutes, 20, "unset rules keep their defaults");
    assert!(
        Config::from_sources("[[user_types]]\nid = \"x\"\nlabel = { fr = \"x\", en = \"x\" }\ncolour = 1\n", &[])
            .is_err()
    );
}

#[test]
fn trusted_proxies_are_a_list_in_the_file_and_comma_separated_in_the_environment() {
    use std::net::IpAddr;
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let file = Config::from_sources("trusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n", &[]).unwrap();
    let from_env = Config::from_sources("", &env(&[("IDP_TRUSTED_PROXIES", "10.0.0.0/8, ::1")])).unwrap();
    assert_eq!(file.proxies, from_env.proxies);
    let trusted = &from_env.proxies.trusted;
    assert!(trusted.contains(ip("10.20.30.40")) && trusted.contains(ip("::1")));
    assert!(Config::from_sources("", &[]).unwrap().proxies.trusted.is_empty(), "empty by default");
    assert!(Config::from_sources("", &env(&[("IDP_TRUSTED_PROXIES", "")])).unwrap().proxies.trusted.is_empty());
    assert!(Config::from_sources("", &env(&[("IDP_TRUSTED_PROXIES", "10.0.0.0/8,proxy")])).is_err());
    let c = Config::from_sources("", &env(&[("IDP_FORWARDED_HEADER", "forwarded")])).unwrap();
    assert_eq!(c.proxies.header, ForwardedHeader::Forwarded);
    assert!(Config::from_sources("", &env(&[("IDP_FORWARDED_HEADER", "x-real-ip")])).is_err());
}

#[test]
fn unknown_keys_and_bad_values_are_refused() {
    assert!(Config::from_sources("isuer = \"x\"", &[]).is_err());
    assert!(Config::from_sources("", &env(&[("IDP_CODE_TTL", "3600")])).is_err());
    assert!(Config::from_sources("", &env(&[("IDP_ISSUER", "https://x.example/?a=b")])).is_err());
    assert!(Config::from_sources("", &env(&[("IDP_LISTEN", "nowhere")])).is_err());
}

#[test]
fn the_removed_refresh_race_window_says_where_it_went() {
    // Issue #10: strict rotation is the default; the tolerance is a client setting.
    for (file, vars) in [("refresh_race_window = 10\n", env(&[])), ("", env(&[("IDP_REFRESH_RACE_WINDOW", "0")]))] {
        let err = Config::from_sources(file, &vars).unwrap_err().to_string();
        assert!(err.contains("--setting refresh_race_window"), "{err}");
    }
}

#[test]
fn the_time_zone_is_paris_unless_set_and_an_unknown_zone_is_a_config_error() {
    assert_eq!(Config::from_sources("", &[]).unwrap().time_zone.name(), "Europe/Paris");
    let cayenne = Config::from_sources("time_zone = \"America/Cayenne\"", &[]).unwrap();
    assert_eq!(cayenne.time_zone.name(), "America/Cayenne");
    let from_env = Config::from_sources("", &env(&[("IDP_TIME_ZONE", "Pacific/Noumea")])).unwrap();
    assert_eq!(from_env.time_zone.name(), "Pacific/Noumea");
    let err = Config::from_sources("time_zone = \"Europe/Atlantis\"", &[]).unwrap_err().to_string();
    assert!(err.contains("time_zone \"Europe/Atlantis\" is not a time zone"), "{err}");
}
