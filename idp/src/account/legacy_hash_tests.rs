//! Known vectors for every imported format. They were made once, outside the build, with
//! Python's `bcrypt`, `passlib` (django_pbkdf2_sha256/sha1, ldap_salted_sha1/256/512, argon2),
//! `argon2-cffi` (Django's `argon2$` tag in front), `hashlib` (Django's PBKDF2-SHA512 layout;
//! bcrypt of the hex SHA-256 for `bcrypt_sha256`) and `argon2.low_level.hash_secret_raw`
//! (Keycloak's layout: base64 of the raw salt and value), all for the password `Tr0ub4dor&3`.

use super::*;

const PASSWORD: &[u8] = b"Tr0ub4dor&3";

pub const VECTORS: [(&str, &str); 15] = [
    ("bcrypt $2b$", "$2b$04$VhXQ6kL.g1GRk3jcl0qHn.pIfg63IprhnAuZdc64c5YrtnMbVr.YC"),
    ("bcrypt $2a$", "$2a$04$e20.B9JGdFHbnyZpxA/KzumKHU3KgI/ddETqASwLHKwSh0ZW/iRvq"),
    ("bcrypt $2y$", "$2y$04$H3EIVMdQtp3B5tRUZD/Rk.BjqXU5/93A4S/N3VR89GgDeE/596cCe"),
    ("Django pbkdf2_sha256", "pbkdf2_sha256$1000$OgoJQw4GxrHd$bbG4rvJ4uARfS7Ef67XPID2LWrEsssFIm1YGGPG3Rek="),
    (
        "Django pbkdf2_sha512",
        "pbkdf2_sha512$1000$0123456789ab$noXGMZxL4cdN3IacvNQhnE5rlmUqmRgRLF8j7iaRv/DNX0lpwZu8p98q8PM2y/8WSdiT8YHzI6EtyN4j4r8sdA==",
    ),
    ("Django pbkdf2_sha1", "pbkdf2_sha1$1000$rbSzu56pNlO2$GEV9LmUo9rO1teFbM+lf1nyXwsA="),
    ("Django bcrypt_sha256", "bcrypt_sha256$$2b$04$VWIZy2Eo4ph/TSfOoCNV9eI2PExP0hbutKVP4CE8ypdnc7Z9iPb6."),
    ("Django bcrypt", "bcrypt$$2b$04$G01xB8FlNsDLGSf8HTrSe.SdJNN0JLN2rIkERlonhXkRRv3a/jkHm"),
    (
        "Django argon2",
        "argon2$argon2id$v=19$m=256,t=1,p=1$Lv1BWlm19BtKKkpeKuOh1A$vrlIOttneik5JChpkL4VJEbo0KDqMvoIxycCZnqt8gk",
    ),
    ("{SSHA}", "{SSHA}vNHgirGwlyx44L5R/kbn+JxMAi/lvHdu"),
    ("{SSHA256}", "{SSHA256}ZTdHJIlZsaxIL+mXlcKqUpqtS0LUZmL+p6ZyBVN9VKZdqzXmPGeM0Q=="),
    (
        "{SSHA512}",
        "{SSHA512}IlQeOFn8FuOX/h7iGNM9ss+5rj/UiQDQ8+q8lymPjyjYjiv+BIVUYGjWTdG4a+g9A8Jza5TacO7I3Jz3C3vUC/Q+x5izNkZI",
    ),
    ("argon2i", "$argon2i$v=19$m=256,t=2,p=1$tFYqxXhPyfkfoxTCWCtFiA$zqjc7HwzjpwNj7YwMSLWvJgvKvoo21DkF5CdIr7hk0E"),
    ("argon2id", "$argon2id$v=19$m=512,t=1,p=2$3dtbqxVC6N2bs3buHWMMwQ$rI/M/q67DIk8oTy+un+d33A7EO/N5WeOV9Pk2lsCddw"),
    (
        "Keycloak pbkdf2-sha256",
        "{KEYCLOAK}pbkdf2-sha256$1000$F2+UbaeXDmJgnVl3DSzeTA==$vruvlM2awADJ9x3i8lo7afUQ+IcEraNop7U/6wHWS2NS++aTCY0dkJBRO1dtGPQs/xettFbFIAaHBUJMG8+xNQ==",
    ),
];

const KEYCLOAK_SALT: &str = "F2+UbaeXDmJgnVl3DSzeTA==";

fn keycloak(algorithm: &str, value: &str, extra: &str) -> Result<String, LegacyHashError> {
    let secret = format!(r#"{{"value":"{value}","salt":"{KEYCLOAK_SALT}","additionalParameters":{{}}}}"#);
    let data = format!(r#"{{"hashIterations":{extra},"algorithm":"{algorithm}"}}"#);
    from_keycloak(&secret, &data)
}

#[test]
fn every_imported_format_verifies_its_password_and_no_other() {
    for (name, stored) in VECTORS {
        let hash = LegacyHash::parse(stored).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(hash.verify(PASSWORD), "{name}: the right password was refused");
        assert!(!hash.verify(b"Tr0ub4dor&4"), "{name}: a wrong password was accepted");
        assert!(!hash.verify(b""), "{name}: the empty password was accepted");
    }
}

#[test]
fn keycloak_pbkdf2_credentials_are_normalised_and_verify() {
    let sha512 = "t5hy5D0Ipd29+HbjoKKMKIjqvfaPt4NiB+RJMaRJ84YXfXZQzrLKttZqvlM86TpdZjj1Ut6lgxIvvcWRNET8EA==";
    let sha1 = "KuHX5d33FLusxg/uHxcXqfWTDtSSzxLfFXZvoCNreoEkxfWZuzVY2d2XW10xwI/ZyHEU1GZwiJHc6Xljz3g1JA==";
    for (algorithm, value) in [("pbkdf2-sha512", sha512), ("pbkdf2", sha1)] {
        let stored = keycloak(algorithm, value, "1000").unwrap();
        assert!(stored.starts_with(&format!("{{KEYCLOAK}}{algorithm}$1000$")), "{stored}");
        let hash = LegacyHash::parse(&stored).unwrap();
        assert!(hash.verify(PASSWORD), "{algorithm}");
        assert!(!hash.verify(b"wrong"), "{algorithm}");
    }
    assert!(keycloak("pbkdf2-sha256", sha512, "1000").is_ok_and(|s| !LegacyHash::parse(&s).unwrap().verify(PASSWORD)));
}

#[test]
fn keycloak_argon2_credentials_become_a_phc_string() {
    let secret = format!(r#"{{"value":"Vs5kE5+fQBq1KgfQavgdd7tBMZjxKwonZWEWJJScuYc=","salt":"{KEYCLOAK_SALT}"}}"#);
    let data = r#"{"hashIterations":3,"algorithm":"argon2","additionalParameters":{"hashLength":["32"],"memory":["1024"],"type":["id"],"version":["1.3"],"parallelism":["1"]}}"#;
    let stored = from_keycloak(&secret, data).unwrap();
    assert!(stored.starts_with("$argon2id$v=19$m=1024,t=3,p=1$"), "{stored}");
    assert!(LegacyHash::parse(&stored).unwrap().verify(PASSWORD));
}

#[test]
fn keycloak_credentials_of_other_algorithms_or_shapes_are_refused() {
    assert!(matches!(keycloak("sha1", "AAAA", "1"), Err(LegacyHashError::Malformed(..))));
    assert!(keycloak("pbkdf2-sha256", "not base64!", "1000").is_err());
    assert!(keycloak("pbkdf2-sha256", "AAAA", "0").is_err(), "no iteration");
    assert!(from_keycloak("{}", r#"{"hashIterations":1,"algorithm":"pbkdf2"}"#).is_err(), "no value");
    assert!(from_keycloak("not json", "{}").is_err());
}

#[test]
fn unknown_and_malformed_hashes_are_refused_with_their_reason() {
    for unknown in ["", "plaintext", "{MD5}X03MO1qnZdYdgyfeuILPmQ==", "$1$salt$hash", "$6$rounds=5000$x$y", "!unusable"]
    {
        assert_eq!(LegacyHash::parse(unknown), Err(LegacyHashError::Unknown), "{unknown:?}");
    }
    for malformed in [
        "$2b$04$short",
        "$2b$99$VhXQ6kL.g1GRk3jcl0qHn.pIfg63IprhnAuZdc64c5YrtnMbVr.YC",
        "$2b$31$VhXQ6kL.g1GRk3jcl0qHn.pIfg63IprhnAuZdc64c5YrtnMbVr.YC",
        "$argon2id$v=19$m=4194304,t=1,p=2$3dtbqxVC6N2bs3buHWMMwQ$rI/M/q67DIk8oTy+un+d33A7EO/N5WeOV9Pk2lsCddw",
        "$argon2id$v=19$m=512,t=1000,p=2$3dtbqxVC6N2bs3buHWMMwQ$rI/M/q67DIk8oTy+un+d33A7EO/N5WeOV9Pk2lsCddw",
        "$argon2id$v=19$m=512,t=1,p=2$c2FsdA",
        "$argon2x$v=19$m=512,t=1,p=2$3dtbqxVC6N2bs3buHWMMwQ$rI/M/q67DIk8oTy+un+d33A7EO/N5WeOV9Pk2lsCddw",
        "pbkdf2_sha256$1000$salt",
        "pbkdf2_sha256$abc$salt$aGFzaA==",
        "pbkdf2_sha256$99999999999$salt$aGFzaA==",
        "pbkdf2_sha256$1000$$aGFzaA==",
        "pbkdf2_sha256$1000$salt$not base64",
        "{SSHA}vNHgirGwlyx44L5R/kbn+JxMAi8=",
        "{SSHA}***",
        "{KEYCLOAK}pbkdf2-md5$1000$AAAA$AAAA",
        "bcrypt_sha256$$2b$04$short",
        "argon2$argon2id$v=19$m=1,t=1,p=1$c2FsdA",
    ] {
        assert!(
            matches!(LegacyHash::parse(malformed), Err(LegacyHashError::Malformed(..))),
            "{malformed:?} was accepted"
        );
    }
}
