//! Participants are known by a visitor cookie: a random token per browser (HttpOnly), whose
//! digest is stored with each session the browser joined. A new code or link does not change
//! it, so people already inside stay inside.
use crate::rules::secrets::{login_token_digest, new_login_token};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue};
use leptos::prelude::use_context;
use leptos::reactive::owner::with_context;
use leptos_axum::ResponseOptions;

pub const COOKIE_NAME: &str = "ruche_visitor";
const LIFETIME_SECS: i64 = 365 * 24 * 3600;

/// The digest of this browser's visitor token, if it has one.
pub fn visitor_digest() -> Option<String> {
    let secure = super::auth::secure_here();
    // Borrowed, not `use_context`: that clones the request's headers and extensions.
    with_context::<Parts, _>(|parts| visitor_digest_from_headers(&parts.headers, secure)).flatten()
}

/// The same, for a request handled outside Leptos (the join addresses, the live sockets).
pub fn visitor_digest_from_headers(headers: &HeaderMap, secure: bool) -> Option<String> {
    super::auth::cookie(headers, &super::auth::cookie_name(COOKIE_NAME, secure)).map(|t| login_token_digest(&t))
}

/// The digest of this browser's visitor token, giving it one (on this response) if it has none.
pub fn ensure_visitor_digest(secure: bool) -> String {
    if let Some(digest) = visitor_digest() {
        return digest;
    }
    let (digest, cookie) = new_visitor(secure);
    if let Some(response) = use_context::<ResponseOptions>() {
        response.append_header(header::SET_COOKIE, cookie);
    }
    digest
}

/// A new visitor token's digest, and the `Set-Cookie` value that gives the browser the token.
pub fn new_visitor(secure: bool) -> (String, HeaderValue) {
    let token = new_login_token();
    let name = super::auth::cookie_name(COOKIE_NAME, secure);
    let secure = if secure { "; Secure" } else { "" };
    let cookie = format!("{name}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={LIFETIME_SECS}{secure}");
    // The token is base64url and the rest fixed ASCII: always a valid header value.
    let cookie = HeaderValue::from_str(&cookie).expect("a visitor cookie is ASCII");
    (login_token_digest(&token), cookie)
}
