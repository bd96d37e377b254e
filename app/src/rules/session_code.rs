//! How a session code is made and read: six decimal digits, which may start with 0.
//! Uniqueness among sessions is enforced by a unique index in storage (`storage::queries::sessions`),
//! which retries with a fresh code on collision.
use serde::{Deserialize, Serialize};
use std::fmt;

pub const CODE_DIGITS: usize = 6;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionCode(String);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MalformedCode;

impl SessionCode {
    /// Reads a code as people type it: `123456`, `123 456` and `123-456` are the same code.
    pub fn parse(input: &str) -> Result<Self, MalformedCode> {
        let digits: String = input.chars().filter(|c| !matches!(c, ' ' | '-' | '\u{a0}' | '\t')).collect();
        if digits.len() == CODE_DIGITS && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(digits))
        } else {
            Err(MalformedCode)
        }
    }

    /// A fresh code drawn from the operating system's CSPRNG.
    #[cfg(feature = "ssr")]
    pub fn random() -> Self {
        use rand::Rng;
        let n: u32 = rand::rngs::OsRng.gen_range(0..10u32.pow(CODE_DIGITS as u32));
        Self(format!("{n:06}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The code as shown to people: two groups of three digits are easier to read aloud.
    pub fn display_grouped(&self) -> String {
        format!("{} {}", &self.0[..3], &self.0[3..])
    }
}

impl fmt::Display for SessionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_ways_people_type_a_code() {
        for typed in ["123456", "123 456", "123-456", " 123 456 ", "12 34 56"] {
            assert_eq!(SessionCode::parse(typed).unwrap().as_str(), "123456", "{typed:?}");
        }
    }

    #[test]
    fn keeps_leading_zeros() {
        assert_eq!(SessionCode::parse("007 042").unwrap().as_str(), "007042");
    }

    #[test]
    fn refuses_anything_but_six_digits() {
        for typed in ["", "12345", "1234567", "12a456", "１２３４５６", "123_456", "+12345"] {
            assert_eq!(SessionCode::parse(typed), Err(MalformedCode), "{typed:?}");
        }
    }

    #[test]
    fn groups_for_display() {
        assert_eq!(SessionCode::parse("012345").unwrap().display_grouped(), "012 345");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn random_codes_are_six_digits_and_spread_out() {
        let codes: std::collections::HashSet<String> = (0..2000).map(|_| SessionCode::random().0).collect();
        assert!(codes.iter().all(|c| SessionCode::parse(c).is_ok()));
        // 2000 draws from a million: more than a handful of repeats means a broken generator.
        assert!(codes.len() > 1990, "{} distinct", codes.len());
        assert!(codes.iter().any(|c| c.starts_with('0')), "codes starting with 0 are never drawn");
    }
}
