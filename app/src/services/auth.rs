//! Login sessions: a random token in an HttpOnly, SameSite=Lax cookie; its digest in storage.
use super::ServerContext;
use crate::ids::UserId;
use crate::rules::accounts::AccountError;
use crate::rules::secrets::{login_token_digest, new_login_token};
use crate::storage::{Db, User};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue};
use leptos::prelude::use_context;
use leptos::reactive::owner::with_context;
use leptos_axum::ResponseOptions;
use sea_orm::DbErr;

pub const COOKIE_NAME: &str = "ruche_login";
const LIFETIME_SECS: i64 = 30 * 24 * 3600;
/// The cookie of a browser an account logged in from (OWASP's device cookie): a random token,
/// its digest kept with the account (`login_devices`). A log-in from it is held to its own
/// budget of failures (`rules::limits::LOGIN_FAILURES_PER_DEVICE`).
pub const DEVICE_COOKIE_NAME: &str = "ruche_device";
const DEVICE_LIFETIME_SECS: i64 = 365 * 24 * 3600;

/// A cookie's name as Ruche sets and reads it. With an https `PUBLIC_URL` every cookie is a
/// `__Host-` one: browsers then accept it only from this exact origin, over https and for the
/// whole site (no `Domain`), so that a neighbouring site under the same domain can neither set
/// it (fixing someone's login or visitor) nor shadow it.
pub fn cookie_name(name: &'static str, secure: bool) -> std::borrow::Cow<'static, str> {
    if secure {
        format!("__Host-{name}").into()
    } else {
        name.into()
    }
}

/// Whether the request being handled is served with secure cookies (`ServerContext::secure_cookies`).
pub(super) fn secure_here() -> bool {
    with_context::<ServerContext, _>(ServerContext::secure_cookies).unwrap_or(false)
}

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
    let name = cookie_name(COOKIE_NAME, secure_here());
    with_context::<Parts, _>(|parts| cookie(&parts.headers, &name)).flatten()
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
pub async fn user_id_from_headers(db: &Db, headers: &HeaderMap, secure: bool) -> Result<Option<UserId>, DbErr> {
    match login_digest_from_headers(headers, secure) {
        Some(digest) => db.user_id_for_login_session(&digest).await,
        None => Ok(None),
    }
}

/// What storage keeps of the login a request handled outside Leptos carries.
pub fn login_digest_from_headers(headers: &HeaderMap, secure: bool) -> Option<String> {
    cookie(headers, &cookie_name(COOKIE_NAME, secure)).map(|token| login_token_digest(&token))
}

/// The logged-in user's id alone: one query fewer than [`current_user`], on every host action.
pub async fn current_user_id(db: &Db) -> Result<Option<UserId>, DbErr> {
    match current_login_digest() {
        Some(digest) => db.user_id_for_login_session(&digest).await,
        None => Ok(None),
    }
}

/// Starts a login for `user` and sets its cookie on the response; refused when an administrator
/// disabled the account.
pub async fn log_in(ctx: &ServerContext, user: UserId) -> Result<(), AccountError> {
    let token = new_login_token();
    let ended = ctx
        .db
        .create_login_session(user, &login_token_digest(&token), LIFETIME_SECS * 1_000_000)
        .await?
        .ok_or(AccountError::Disabled)?;
    // Past the logins an account keeps, the oldest ended: their host tabs stop following.
    if !ended.is_empty() {
        ctx.live.logins_ended(ctx, ended).await;
    }
    set_cookie(ctx, &token, LIFETIME_SECS);
    Ok(())
}

/// The digest of this browser's device cookie, if it has one.
pub fn device_digest() -> Option<String> {
    let name = cookie_name(DEVICE_COOKIE_NAME, secure_here());
    with_context::<Parts, _>(|parts| cookie(&parts.headers, &name)).flatten().map(|token| login_token_digest(&token))
}

/// Remembers this browser as one `user` logged in from, with a new device cookie.
pub async fn remember_device(ctx: &ServerContext, user: UserId) -> Result<(), DbErr> {
    let token = new_login_token();
    ctx.db.remember_device(user, &login_token_digest(&token)).await?;
    set_named_cookie(ctx, DEVICE_COOKIE_NAME, &token, DEVICE_LIFETIME_SECS);
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
    set_named_cookie(ctx, COOKIE_NAME, value, max_age);
}

fn set_named_cookie(ctx: &ServerContext, name: &'static str, value: &str, max_age: i64) {
    let name = cookie_name(name, ctx.secure_cookies());
    let secure = if ctx.secure_cookies() { "; Secure" } else { "" };
    let cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    if let (Some(response), Ok(value)) = (use_context::<ResponseOptions>(), HeaderValue::from_str(&cookie)) {
        response.append_header(header::SET_COOKIE, value);
    }
}
