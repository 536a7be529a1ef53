//! The one-time setup code of the first start: `XXXX-XXXX-XXXX` in `<data>/setup-code` (mode
//! 0600), asked by the *create password* page (`/setup`).
//!
//! The file is the only copy (setting the password removes it), so a restarted server and the file
//! the owner reads always agree. A typed code is compared loosely (case, spaces and dashes do not
//! matter) and in constant time. Made by `signin.rs` at server start when there is no password.

use engine::data_dir::DataDir;
use std::path::PathBuf;

/// Letters and digits that cannot be confused when read aloud or typed (no 0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// `<data>/setup-code`.
pub fn setup_code_file(data: &DataDir) -> PathBuf {
    data.root().join("setup-code")
}

/// A fresh setup code, `XXXX-XXXX-XXXX` (about 59 bits).
pub fn new_setup_code() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 12];
    getrandom::getrandom(&mut bytes)?;
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| CODE_ALPHABET[*b as usize % CODE_ALPHABET.len()] as char)
        .collect();
    Ok(chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

/// True when `typed` is the code in `<data>/setup-code` (false when there is none).
pub fn setup_code_matches(data: &DataDir, typed: &str) -> bool {
    match std::fs::read_to_string(setup_code_file(data)).map(|c| normalize_code(&c)) {
        Ok(expected) if !expected.is_empty() => {
            constant_time_eq(normalize_code(typed).as_bytes(), expected.as_bytes())
        }
        _ => false,
    }
}

/// Upper case, no spaces or dashes: how a typed code is compared.
fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Compares without an early exit, so the time taken says nothing about how much matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    subtle::ConstantTimeEq::ct_eq(a, b).into()
}

/// Writes a file only its owner can read (created with mode 0600, then renamed into place).
pub fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    engine::atomic::write(path, text.as_bytes(), 0o600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_codes_are_unambiguous_and_compared_loosely() {
        let code = new_setup_code().unwrap();
        assert_eq!(code.len(), 14);
        assert!(code
            .chars()
            .all(|c| c == '-' || CODE_ALPHABET.contains(&(c as u8))));
        assert_eq!(normalize_code(" abcd-efgh jkmn "), "ABCDEFGHJKMN");
        assert!(constant_time_eq(b"ABC", b"ABC"));
        assert!(!constant_time_eq(b"ABC", b"ABD"));
        assert!(!constant_time_eq(b"ABC", b"ABCD"));
    }
}
