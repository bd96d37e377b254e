//! Login sessions: a random token in an HttpOnly, SameSite=Lax cookie; its digest in storage.
use super::ServerContext;
use crate::ids::UserId;
use crate::rules::secrets::{login_token_digest, new_login_token};
use crate::storage::{Db, User};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue};
use leptos::prelude::use_context;
use leptos::reactive::owner::with_context;
use leptos_axum::ResponseOptions;
use sea_orm::DbErr;

pub const COOKIE_NAME: &str = "ruche_login";
const LIFETIME_SECS: i64 = 30 * 24 * 3600;

/// A cookie's value from the request, if present and not empty.
pub(super) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
}

/// The login token the request carries, if any.
fn request_token() -> Option<String> {
    with_context::<Parts, _>(|parts| cookie(&parts.headers, COOKIE_NAME)).flatten()
}

/// What storage keeps of this request's login, to tell it from the account's other logins.
pub fn current_login_digest() -> Option<String> {
    request_token().map(|token| login_token_digest(&token))
}

/// The logged-in user making this request, if any.
pub async fn current_user(db: &Db) -> Result<Option<User>, DbErr> {
    match current_login_digest() {
        Some(digest) => db.user_for_login_session(&digest).await,
        None => Ok(None),
    }
}

/// The logged-in user of a request handled outside Leptos (the live channel's sockets).
pub async fn user_id_from_headers(db: &Db, headers: &HeaderMap) -> Result<Option<UserId>, DbErr> {
    match login_digest_from_headers(headers) {
        Some(digest) => db.user_id_for_login_session(&digest).await,
        None => Ok(None),
    }
}

/// What storage keeps of the login a request handled outside Leptos carries.
pub fn login_digest_from_headers(headers: &HeaderMap) -> Option<String> {
    cookie(headers, COOKIE_NAME).map(|token| login_token_digest(&token))
}

/// The logged-in user's id alone: one query fewer than [`current_user`], on every host action.
pub async fn current_user_id(db: &Db) -> Result<Option<UserId>, DbErr> {
    match current_login_digest() {
        Some(digest) => db.user_id_for_login_session(&digest).await,
        None => Ok(None),
    }
}

/// Starts a login for `user` and sets its cookie on the response.
pub async fn log_in(ctx: &ServerContext, user: UserId) -> Result<(), DbErr> {
    let token = new_login_token();
    let ended = ctx.db.create_login_session(user, &login_token_digest(&token), LIFETIME_SECS * 1_000_000).await?;
    // Past the logins an account keeps, the oldest ended: their host tabs stop following.
    if !ended.is_empty() {
        ctx.live.logins_ended(ctx, ended).await;
    }
    set_cookie(ctx, &token, LIFETIME_SECS);
    Ok(())
}

/// Ends this browser's login, in storage and in the browser.
pub async fn log_out(ctx: &ServerContext) -> Result<(), DbErr> {
    if let Some(token) = request_token() {
        let digest = login_token_digest(&token);
        ctx.db.delete_login_session(&digest).await?;
        // The browser's other tabs share the cookie: their host sockets close too.
        ctx.live.logins_ended(ctx, vec![digest]).await;
    }
    set_cookie(ctx, "", 0);
    Ok(())
}

fn set_cookie(ctx: &ServerContext, value: &str, max_age: i64) {
    let secure = if ctx.secure_cookies() { "; Secure" } else { "" };
    let cookie = format!("{COOKIE_NAME}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    if let (Some(response), Ok(value)) = (use_context::<ResponseOptions>(), HeaderValue::from_str(&cookie)) {
        response.append_header(header::SET_COOKIE, value);
    }
}
