//! How Ruche's random secrets are made: public-link tokens and login-cookie tokens.
//! Both come from the operating system's CSPRNG and are unrelated to any id.

/// 128 random bits: far past guessing. Written as base64url without padding (22 characters rather
/// than hex's 32 or the 40 of the 160-bit hex tokens of old, which stay valid), so the link's QR
/// code needs fewer modules and reads from further away.
pub const LINK_TOKEN_BYTES: usize = 16;
/// A login cookie carries 256 random bits; storage only ever sees its SHA-256.
pub const LOGIN_TOKEN_BYTES: usize = 32;

#[cfg(feature = "ssr")]
pub fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex(&buf)
}

/// Lowercase hex, two digits a byte, into one string: every join and every live socket digests
/// a cookie, and a `format!` per byte made 32 small strings each time.
#[cfg(feature = "ssr")]
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(DIGITS[usize::from(byte >> 4)] as char);
        text.push(DIGITS[usize::from(byte & 0x0f)] as char);
    }
    text
}

#[cfg(feature = "ssr")]
pub fn new_link_token() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut buf = [0u8; LINK_TOKEN_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// How many characters a link token of `LINK_TOKEN_BYTES` takes: 6 bits each.
pub const LINK_TOKEN_CHARS: usize = (LINK_TOKEN_BYTES * 8).div_ceil(6);

#[cfg(feature = "ssr")]
pub fn new_login_token() -> String {
    random_hex(LOGIN_TOKEN_BYTES)
}

/// What storage keeps of a login token, so a leaked database cannot be replayed as cookies.
#[cfg(feature = "ssr")]
pub fn login_token_digest(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(token.as_bytes()))
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn link_tokens_carry_at_least_128_random_bits_in_22_url_safe_characters() {
        const { assert!(LINK_TOKEN_BYTES * 8 >= 128) };
        let token = new_link_token();
        assert_eq!(token.len(), LINK_TOKEN_CHARS);
        assert_eq!(LINK_TOKEN_CHARS, 22);
        // Nothing a URL path would need to escape, no padding.
        assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{token}");
        assert_ne!(token, new_link_token());
    }

    #[test]
    fn login_digests_are_the_sha256_in_lowercase_hex_that_storage_holds() {
        // FIPS 180-2's example: digests stored before must still match their cookies.
        assert_eq!(login_token_digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        let token = new_login_token();
        assert_eq!(token.len(), LOGIN_TOKEN_BYTES * 2);
        assert!(token.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{token}");
    }

    #[test]
    fn login_digests_are_stable_and_hide_the_token() {
        let token = new_login_token();
        assert_eq!(login_token_digest(&token), login_token_digest(&token));
        assert!(!login_token_digest(&token).contains(&token));
    }
}
