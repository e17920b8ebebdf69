//! The settings: `Config::from_sources`, the pure part of `Config::load` (a TOML text into
//! `RawConfig`, then validated into `Config`). Lines after a NUL byte are `NAME=value`
//! environment variables (`IDP_*`), applied as `load` applies the process environment.
//!
//! A validated `Config` must be usable: every duration in it is added to the current time by
//! the flows (`now + lifetime`), so none may overflow doing so, up to the year 2100.
#![no_main]

use idp::config::Config;
use libfuzzer_sys::fuzz_target;

/// 2100-01-01T00:00:00Z.
const LATEST_NOW: i64 = 4_102_444_800;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    let (toml_text, env) = input.split_once('\0').unwrap_or((input, ""));
    let env: Vec<(String, String)> = env
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    let Ok(config) = Config::from_sources(toml_text, &env) else { return };
    let l = &config.lifetimes;
    let r = &config.recovery;
    for (name, seconds) in [
        ("code_ttl", l.code),
        ("access_token_ttl", l.access_token),
        ("id_token_ttl", l.id_token),
        ("refresh_token_ttl", l.refresh_token),
        ("session_ttl", l.session),
        ("auth_request_ttl", l.auth_request),
        ("auth_request_unanswered_ttl", l.auth_request_unanswered),
        ("provisional_password_lifetime", l.provisional_password),
        ("activation_link_lifetime", l.activation_link),
        ("password_expiry_check_interval", l.password_expiry_check_interval),
        ("login_ip_window", config.login_throttle.ip_window),
        ("recovery.code_lifetime", r.code_lifetime),
        ("recovery.flow_lifetime", r.flow_lifetime),
        ("recovery.limit_window", r.limit_window),
        ("recovery.propagation_timeout", r.propagation_timeout),
    ] {
        assert!(
            seconds >= 0 && LATEST_NOW.checked_add(seconds).is_some(),
            "{name} = {seconds} was accepted, but now + {name} overflows"
        );
    }
});
