//! Secrets: password hashing (argon2id) and API token generation and hashing.
//! Pure functions with no storage; `app/` decides who may do what with them.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::domain::InvalidValue;
use crate::domain::accounts::Password;

/// The most common passwords, refused as new passwords.
static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("common-passwords.txt")
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
});

/// A new password for `user` of the shop called `shop`: 8 to 128
/// characters, not one of the 10,000 most common passwords, and not built
/// from the username or the shop's name, the first words a guesser who
/// knows either tries ("sam2024!", "Quarry-1").
pub fn new_password<U: AsRef<str> + ?Sized>(
    raw: String,
    user: &U,
    shop: &str,
) -> Result<Password, InvalidValue> {
    let lower = raw.to_lowercase();
    if COMMON.contains(lower.as_str()) {
        return Err(InvalidValue::new(
            "this password is one of the most common ones and easily guessed; choose another",
        ));
    }
    if near(&raw, user.as_ref()) {
        return Err(InvalidValue::new(
            "the password is too close to the username; choose one not built from it",
        ));
    }
    if near(&raw, shop) {
        return Err(InvalidValue::new(format!(
            "the password is too close to the shop's name ({shop}); choose one not built from it"
        )));
    }
    Password::parse(raw)
}

/// The letters of `text`, lower-cased: digits, punctuation and spaces are
/// what people add around a word, so they are left out ("Sam-2024!" → "sam").
fn letters(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphabetic())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether `password` is built from `name` or from one of its words: the
/// same letters within an edit or two, the name with at most three other
/// letters around or between its repeats, or a piece of it.
fn near(password: &str, name: &str) -> bool {
    let password = letters(password);
    if password.is_empty() {
        return false;
    }
    let whole = letters(name);
    let words = name
        .split(|c: char| !c.is_alphanumeric())
        .map(letters)
        .filter(|word| word.chars().count() >= 3);
    std::iter::once(whole.clone())
        .chain(words)
        .any(|word| built_from(&password, &word))
        || (password.chars().count() >= 4 && whole.contains(&password))
}

fn built_from(password: &str, word: &str) -> bool {
    let length = word.chars().count();
    if length < 3 {
        return password == word;
    }
    let edits = if length >= 8 { 2 } else { 1 };
    strsim::levenshtein(password, word) <= edits
        || (password.contains(word) && password.replace(word, "").chars().count() <= 3)
}

/// Prefix of every Quarry API token, so a leaked one is recognisable.
pub const TOKEN_PREFIX: &str = "qry_";
/// Random bytes in a token: 256 bits from the operating system's CSPRNG.
const TOKEN_BYTES: usize = 32;

/// argon2id with OWASP's recommended minimum for a small server: 19 MiB of
/// memory, 2 passes, 1 lane (about 30–60 ms on one core of a small VPS).
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string (`$argon2id$v=19$…`) with a random salt.
/// Slow on purpose: call it off the async runtime.
pub fn hash_password(password: &Password) -> String {
    let hash: PasswordHash = argon2()
        .hash_password(password.expose().as_bytes())
        .expect("argon2 hashing with valid parameters succeeds");
    hash.to_string()
}

/// Checks a password against a PHC string. Slow on purpose, like hashing.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .is_ok_and(|hash| argon2().verify_password(password.as_bytes(), &hash).is_ok())
}

/// Spends the time checking a password takes, for a user that does not exist:
/// a sign-in answers as slowly whether or not the username is known.
pub fn verify_nothing(password: &str) {
    static UNKNOWN: LazyLock<String> = LazyLock::new(|| {
        let nobody = Password::parse(random_text(24)).expect("a long random password");
        hash_password(&nobody)
    });
    let _ = verify_password(password, &UNKNOWN);
}

/// `bytes` bytes from the operating system's CSPRNG, URL-safe base64.
fn random_text(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).expect("the operating system's random source works");
    URL_SAFE_NO_PAD.encode(buffer)
}

/// A new token secret: `qry_` followed by 43 URL-safe characters.
pub fn new_token() -> String {
    format!("{TOKEN_PREFIX}{}", random_text(TOKEN_BYTES))
}

/// A new browser session id: 256 bits, 43 URL-safe characters.
pub fn new_session_id() -> String {
    random_text(32)
}

/// A random secret for a link or a CSRF token: 128 bits, 22 URL-safe characters.
pub fn new_secret() -> String {
    random_text(16)
}

/// Whether two secrets are equal, in time that does not depend on where they
/// differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// The SHA-256 of a token secret, hex-encoded: what the store keeps. A fast
/// hash is right here because the secret itself has 256 random bits.
pub fn token_hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::accounts::Username;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let pw = Password::parse("correct horse battery".into()).unwrap();
        let phc = hash_password(&pw);
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password("correct horse battery", &phc));
        assert!(!verify_password("correct horse batterY", &phc));
        assert!(!verify_password("anything", "not a hash"));
        assert_ne!(phc, hash_password(&pw), "salts must differ");
    }

    #[test]
    fn common_passwords_and_the_username_are_refused() {
        let user = Username::parse("sam").unwrap();
        assert_eq!(COMMON.len(), 10_000);
        for bad in ["password", "Password1", "qwertyuiop", "iloveyou", "Sam"] {
            assert!(new_password(bad.into(), &user, "Quarry").is_err(), "{bad}");
        }
        assert!(new_password("short".into(), &user, "Quarry").is_err());
        assert!(new_password("gravel wagon 42 blue".into(), &user, "Quarry").is_ok());
    }

    #[test]
    fn passwords_built_from_the_username_or_the_shops_name_are_refused() {
        // Issue "Hardening", item 11: the username and one character passed.
        let user = Username::parse("alice.smith").unwrap();
        let shop = "Smith & Sons Building Supplies";
        for bad in [
            "alice.smithx",
            "Alice.Smith2024!",
            "alicesmith",
            "4lice.smith99",
            "smith1234!",
            "Alice-2024!!",
            "alicealicealice",
            "xalice.smithy",
            "Building-Supplies-1",
            "SmithSons2024",
            "supplies123",
            "buildingx99!",
        ] {
            let refused = new_password(bad.into(), &user, shop).unwrap_err().0;
            assert!(refused.contains("too close to the"), "{bad}: {refused}");
        }
        let refused = new_password("Alice.Smith1!".into(), &user, shop)
            .unwrap_err()
            .0;
        assert!(refused.contains("username"), "{refused}");
        let refused = new_password("BuildingSupplies!".into(), &user, shop)
            .unwrap_err()
            .0;
        assert!(refused.contains("shop's name"), "{refused}");
        for good in [
            "gravel wagon 42 blue",
            "smithing the blue anvil",
            "2024-11-05 17:45:12",
            "alice likes sourdough",
        ] {
            assert!(new_password(good.into(), &user, shop).is_ok(), "{good}");
        }
        // A short username is refused only as it is.
        let al = Username::parse("al").unwrap();
        assert!(new_password("al123456".into(), &al, "Quarry").is_err());
        assert!(new_password("always 42 fish".into(), &al, "Quarry").is_ok());
    }

    #[test]
    fn tokens_are_long_random_and_hashed_stably() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 43);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_eq!(token_hash(&a).len(), 64);
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
