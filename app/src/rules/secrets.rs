//! How Ruche's random secrets are made: public-link tokens and login-cookie tokens.
//! Both come from the operating system's CSPRNG and are unrelated to any id.

/// 160 random bits: far past guessing, short enough for a link people may retype.
pub const LINK_TOKEN_BYTES: usize = 20;
/// A login cookie carries 256 random bits; storage only ever sees its SHA-256.
pub const LOGIN_TOKEN_BYTES: usize = 32;

#[cfg(feature = "ssr")]
pub fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(feature = "ssr")]
pub fn new_link_token() -> String {
    random_hex(LINK_TOKEN_BYTES)
}

#[cfg(feature = "ssr")]
pub fn new_login_token() -> String {
    random_hex(LOGIN_TOKEN_BYTES)
}

/// What storage keeps of a login token, so a leaked database cannot be replayed as cookies.
#[cfg(feature = "ssr")]
pub fn login_token_digest(token: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn link_tokens_carry_at_least_128_random_bits() {
        let token = new_link_token();
        assert!(token.len() * 4 >= 128);
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(token, new_link_token());
    }

    #[test]
    fn login_digests_are_stable_and_hide_the_token() {
        let token = new_login_token();
        assert_eq!(login_token_digest(&token), login_token_digest(&token));
        assert!(!login_token_digest(&token).contains(&token));
    }
}
