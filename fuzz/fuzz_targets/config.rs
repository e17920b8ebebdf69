//! The settings: `Config::from_sources`, the pure part of `Config::load` (a TOML text into
//! `RawConfig`, then validated into `Config`). Lines after a NUL byte are `NAME=value`
//! environment variables (`IDP_*`), applied as `load` applies the process environment.
#![no_main]

use idp::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    let (toml_text, env) = input.split_once('\0').unwrap_or((input, ""));
    let env: Vec<(String, String)> = env
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    let _ = Config::from_sources(toml_text, &env);
});
