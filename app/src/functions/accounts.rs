use crate::rules::accounts::{AccountError, TokenPurpose};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::{
    rules::{accounts::*, limits::whole_seconds},
    services::{
        auth,
        limits::{Busy, MailRefused},
        reply, ServerContext,
    },
};

#[cfg(feature = "ssr")]
impl From<Busy> for AccountError {
    fn from(_: Busy) -> Self {
        Self::Busy
    }
}

super::server_fn_error!(AccountError);

/// The logged-in person, as the pages show them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub display_name: String,
    pub email: String,
    /// Whether the address is proven (`rules::accounts::may`).
    pub email_verified: bool,
    /// May administer the instance: the top bar links to the account list.
    pub is_admin: bool,
}

/// A form posted without JavaScript comes back to its page through the `Referer`, which cannot
/// say that it worked: on success, the account forms send it back with `?done=<what>` instead,
/// and the page says the sentence the hydrated app shows. The hydrated app, which has the
/// answer itself, is not redirected.
#[cfg(feature = "ssr")]
fn plain_form_done(page: &str, what: &str) {
    if crate::services::accepts_html() {
        crate::services::see_other(&format!("{page}?done={what}"));
    }
}

#[server(endpoint = "sign_up")]
pub async fn sign_up(
    email: String,
    display_name: String,
    password: String,
    next: Option<String>,
    // The token of an invitation (`/invitation/<token>`): the account is made for the invited
    // address, whatever `email` says.
    invite: Option<String>,
) -> Result<(), AccountError> {
    reply(
        async move {
            let ctx = ServerContext::get()?;
            let invitation = match invite.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                Some(token) => {
                    let digest = crate::rules::secrets::login_token_digest(token);
                    // Checked before hashing, so that made-up links cost no hash.
                    invitation_works(&ctx, &digest).await?;
                    Some(digest)
                }
                None => None,
            };
            let email = match invitation {
                Some(_) => String::new(),
                None => {
                    let email = clean_email(&email)?;
                    ctx.signup.check(&email)?;
                    email
                }
            };
            let display_name = clean_display_name(&display_name)?;
            check_password(&password)?;
            ctx.limits
                .take_signup(ctx.client_ip())
                .map_err(|wait| AccountError::TooManySignUps(whole_seconds(wait)))?;
            let hash = ctx.limits.hashes.run(move || passwords::hash(&password)).await?.map_err(|e| {
                tracing::error!(error = %e, "password hashing failed");
                AccountError::from(crate::rules::Failure::Internal)
            })?;
            if let Some(digest) = invitation {
                let user = match ctx.db.sign_up_invited(&digest, &display_name, &hash).await {
                    Ok(Some(user)) => user,
                    Ok(None) => return Err(AccountError::LinkExpired),
                    // Someone made an account with the invited address meanwhile.
                    Err(crate::storage::CreateUserError::EmailTaken) => return Err(AccountError::LinkExpired),
                    Err(crate::storage::CreateUserError::Db(e)) => return Err(e.into()),
                };
                tracing::info!(target: "ruche::admin", account = %user.email, "invited account created");
                auth::log_in(&ctx, user.id).await?;
                auth::remember_device(&ctx, user.id).await?;
                leptos_axum::redirect(safe_next(next.as_deref()));
                return Ok(());
            }
            let user = match ctx.db.create_user(&email, &display_name, &hash).await {
                Ok(user) => user,
                Err(crate::storage::CreateUserError::EmailTaken) => {
                    // Answered as a new account is (to the same page), so that sign-up tells nobody
                    // which addresses have accounts; the owner is mailed instead, within the
                    // account-mail budgets, so that nobody can flood their mailbox this way.
                    if ctx.limits.take_account_mail(&email, ctx.client_ip()).is_ok() {
                        if let Some(owner) = ctx.db.user_by_email(&email).await? {
                            ctx.db.mail_sign_up_attempt(owner.user.id, &owner.user.email).await?;
                            ctx.wake_mailer();
                        }
                    }
                    leptos_axum::redirect(safe_next(next.as_deref()));
                    return Ok(());
                }
                Err(crate::storage::CreateUserError::Db(e)) => return Err(e.into()),
            };
            if user.is_admin {
                tracing::info!(target: "ruche::admin", account = %user.email, "the first account is the administrator");
            }
            // Before its first mail is queued: the mail is written in it. The account exists
            // whatever happens here; the next page its owner opens records it again.
            if let Err(e) = ctx.db.set_account_language(user.id, ServerContext::request_language()).await {
                tracing::warn!(error = %e, "recording a new account's language failed");
            }
            // Not counted against the account-mail budgets: one per new account, and sign-ups have
            // their own. The account exists whatever happens here; if the mail cannot be queued,
            // "Send the verification mail again" (on the banner) makes another.
            if let Err(e) = mail_account_link(&ctx, user.id, &email, TokenPurpose::EmailVerification).await {
                tracing::error!(error = %e, "queueing the verification mail failed");
            }
            auth::log_in(&ctx, user.id).await?;
            auth::remember_device(&ctx, user.id).await?;
            leptos_axum::redirect(safe_next(next.as_deref()));
            Ok(())
        }
        .await,
    )
}

/// The address an administrator's invitation was made for, while its link works: the sign-up
/// page shows it (`/invitation/<token>`).
#[server(endpoint = "invitation_address")]
pub async fn invitation_address(token: String) -> Result<String, AccountError> {
    reply(
        async move {
            let ctx = ServerContext::get()?;
            let digest = crate::rules::secrets::login_token_digest(token.trim());
            invitation_works(&ctx, &digest).await
        }
        .await,
    )
}

/// The address of the invitation whose token has this digest, if it may be used now: one from
/// `server admin add` always, an administrator's unless sign-up is `closed`.
#[cfg(feature = "ssr")]
async fn invitation_works(ctx: &ServerContext, digest: &str) -> Result<String, AccountError> {
    let invitation = ctx.db.invitation(digest).await?.ok_or(AccountError::LinkExpired)?;
    if !invitation.makes_admin && !ctx.signup.takes_invitations() {
        return Err(AccountError::SignUpClosed);
    }
    Ok(invitation.email)
}

#[server(endpoint = "log_in")]
pub async fn log_in(email: String, password: String, next: Option<String>) -> Result<(), AccountError> {
    reply(
        async move {
            let ctx = ServerContext::get()?;
            let email = login_email(&email);
            let found = ctx.db.user_by_email(&email).await?;
            // A browser this account logged in from before (its device cookie) is held to a budget of
            // its own: failures from elsewhere never lock its owner out of it.
            let device = match (auth::device_digest(), &found) {
                (Some(device), Some(found)) if ctx.db.device_account(&device).await? == Some(found.user.id) => {
                    Some(device)
                }
                _ => None,
            };
            // Taken before the password is checked, so that parallel guesses cannot all pass while the
            // first are being hashed; a right password gives it back.
            let attempt = ctx
                .limits
                .take_login(&email, ctx.client_ip(), device.as_deref())
                .map_err(|wait| AccountError::TooManyLogIns(whole_seconds(wait)))?;
            let stored = found.as_ref().map(|f| f.password_hash.clone());
            let matches = match ctx.limits.hashes.run(move || passwords::verify(&password, stored.as_deref())).await {
                Ok(matches) => matches,
                Err(busy) => {
                    // Busy: no password was judged.
                    ctx.limits.give_back_login(attempt);
                    return Err(busy.into());
                }
            };
            let Some(found) = found.filter(|_| matches) else { return Err(AccountError::WrongCredentials) };
            ctx.limits.give_back_login(attempt);
            auth::log_in(&ctx, found.user.id).await?;
            if device.is_none() {
                auth::remember_device(&ctx, found.user.id).await?;
            }
            leptos_axum::redirect(safe_next(next.as_deref()));
            Ok(())
        }
        .await,
    )
}

#[server(endpoint = "log_out")]
pub async fn log_out() -> Result<(), AccountError> {
    reply(
        async move {
            let ctx = ServerContext::get()?;
            auth::log_out(&ctx).await?;
            leptos_axum::redirect("/");
            Ok(())
        }
        .await,
    )
}

#[server(endpoint = "me")]
pub async fn me() -> Result<Option<Account>, AccountError> {
    reply(
        async move {
            let ctx = ServerContext::get()?;
            let user = auth::current_user(&ctx.db).await?;
            // Every page asks: the account's language follows the one its owner reads Ruche in
            // (the switch's cookie, else the browser's), for the mails they will receive.
            if let Some(user) = user.as_ref() {
                let lang = ServerContext::request_language();
                // Never at the cost of the page: a write that fails is tried on the next one.
                if user.language != Some(lang) {
                    if let Err(e) = ctx.db.set_account_language(user.id, lang).await {
                        tracing::warn!(error = %e, "recording an account's language failed");
                    }
                }
            }
            Ok(user.map(|u| Account {
                display_name: u.display_name,
                email: u.email,
                email_verified: u.email_verified,
                is_admin: u.is_admin,
            }))
        }
        .await,
    )
}

#[server(endpoint = "update_display_name")]
pub async fn update_display_name(display_name: String) -> Result<String, AccountError> {
    reply(
        async move {
            let ctx = ServerContext::get()?;
            let user = auth::current_user(&ctx.db).await?.ok_or(AccountError::NotLoggedIn)?;
            let display_name = clean_display_name(&display_name)?;
            ctx.db.set_display_name(user.id, &display_name).await?;
            plain_form_done("/account", "name");
            Ok(display_name)
        }
        .await,
    )
}

/// Sets a new password after checking the old one, and logs out every other login of the
/// account: whoever may have learnt the old password is shut out at once.
#[server(endpoint = "change_password")]
pub async fn change_password(old_password: String, new_password: String) -> Result<String, AccountError> {
    reply(
        async move {
            let ctx = ServerContext::get()?;
            let user = auth::current_user(&ctx.db).await?.ok_or(AccountError::NotLoggedIn)?;
            let keep = auth::current_login_digest().ok_or(AccountError::NotLoggedIn)?;
            check_password(&new_password)?;
            // A stolen login cookie must not become a password guesser: a wrong old password counts
            // like a failed log-in, taken before it is checked.
            let attempt = ctx
                .limits
                .take_login(&user.email, ctx.client_ip(), None)
                .map_err(|wait| AccountError::TooManyLogIns(whole_seconds(wait)))?;
            let checked = async {
                let stored = ctx.db.password_hash(user.id).await?;
                Ok::<_, AccountError>(
                    ctx.limits.hashes.run(move || passwords::verify(&old_password, stored.as_deref())).await?,
                )
            };
            match checked.await {
                Ok(true) => ctx.limits.give_back_login(attempt),
                Ok(false) => return Err(AccountError::WrongOldPassword),
                Err(e) => {
                    ctx.limits.give_back_login(attempt);
                    return Err(e);
                }
            }
            let hash = ctx.limits.hashes.run(move || passwords::hash(&new_password)).await?.map_err(|e| {
                tracing::error!(error = %e, "password hashing failed");
                AccountError::from(crate::rules::Failure::Internal)
            })?;
            let ended = ctx.db.change_password(user.id, &hash, &keep).await?;
            ctx.live.logins_ended(&ctx, ended).await;
            plain_form_done("/account", "password");
            Ok(crate::texts::account_other_logins_ended(ServerContext::request_language()).to_owned())
        }
        .await,
    )
}

#[server(endpoint = "log_out_everywhere")]
pub async fn log_out_everywhere() -> Result<String, AccountError> {
    reply(
        async move {
            let ctx = ServerContext::get()?;
            let user = auth::current_user(&ctx.db).await?.ok_or(AccountError::NotLoggedIn)?;
            let keep = auth::current_login_digest().ok_or(AccountError::NotLoggedIn)?;
            let ended = ctx.db.end_other_logins(user.id, &keep).await?;
            ctx.live.logins_ended(&ctx, ended).await;
            plain_form_done("/account", "everywhere");
            Ok(crate::texts::account_other_logins_ended(ServerContext::request_language()).to_owned())
        }
        .await,
    )
}

/// Mails a single-use link to choose a new password, valid one hour; asking again replaces it.
#[server(endpoint = "request_password_reset")]
pub async fn request_password_reset(email: String) -> Result<String, AccountError> {
    reply(
        async move {
            let ctx = ServerContext::get()?;
            let email = login_email(&email);
            if email.is_empty() {
                return Err(AccountError::InvalidEmail);
            }
            match ctx.limits.take_account_mail(&email, ctx.client_ip()) {
                Ok(()) => {
                    // A disabled account gets no link: it could not log in with it anyway.
                    if let Some(found) = ctx.db.user_by_email(&email).await?.filter(|f| !f.user.disabled) {
                        mail_account_link(&ctx, found.user.id, &found.user.email, TokenPurpose::PasswordReset).await?;
                    }
                }
                Err(MailRefused::Client(wait)) => return Err(AccountError::TooManyMails(whole_seconds(wait))),
                // The address was mailed enough lately (perhaps by someone else asking for it): the
                // latest of those mails, at most `ACCOUNT_MAILS_PER_RECIPIENT.every` old, holds a
                // link that still works, so its owner is told to look for it rather than refused.
                Err(MailRefused::Recipient(_)) => {}
            }
            plain_form_done("/forgot-password", "sent");
            // Whatever the address, so that it tells nobody which addresses have accounts.
            Ok(crate::texts::account_reset_mail_on_its_way(ServerContext::request_language()).to_owned())
        }
        .await,
    )
}

/// Sets a new password through the mailed link, logs this browser in and every other login of
/// the account out.
#[server(endpoint = "reset_password")]
pub async fn reset_password(token: String, new_password: String) -> Result<(), AccountError> {
    reply(
        async move {
            let ctx = ServerContext::get()?;
            check_password(&new_password)?;
            let digest = crate::rules::secrets::login_token_digest(&token);
            // Checked before hashing, so that made-up links cost no hash.
            if ctx.db.account_link_works(TokenPurpose::PasswordReset, &digest).await?.is_none() {
                return Err(AccountError::LinkExpired);
            }
            let hash = ctx.limits.hashes.run(move || passwords::hash(&new_password)).await?.map_err(|e| {
                tracing::error!(error = %e, "password hashing failed");
                AccountError::from(crate::rules::Failure::Internal)
            })?;
            let (user, ended) =
                ctx.db.reset_password_with_link(&digest, &hash).await?.ok_or(AccountError::LinkExpired)?;
            ctx.live.logins_ended(&ctx, ended).await;
            auth::log_in(&ctx, user).await?;
            leptos_axum::redirect("/sessions");
            Ok(())
        }
        .await,
    )
}

/// Queues an account mail (reset, verification) with a fresh single-use link, which replaces any
/// earlier one of the same purpose.
#[cfg(feature = "ssr")]
async fn mail_account_link(
    ctx: &ServerContext,
    user: crate::ids::UserId,
    email: &str,
    purpose: TokenPurpose,
) -> Result<(), sea_orm::DbErr> {
    let token = crate::rules::secrets::new_login_token();
    let digest = crate::rules::secrets::login_token_digest(&token);
    ctx.db.mail_account_link(user, email, purpose, &token, &digest).await?;
    ctx.wake_mailer();
    Ok(())
}

/// The link in the verification mail, once its page's button is pressed (opening the link does
/// nothing: mail scanners open links): proves the address of the account it was made for,
/// whoever is logged in (or nobody). Used once; a newer link, or a week, ends it.
#[server(endpoint = "verify_email")]
pub async fn verify_email(token: String) -> Result<String, AccountError> {
    reply(
        async move {
            let ctx = ServerContext::get()?;
            let token = token.trim();
            let digest = crate::rules::secrets::login_token_digest(token);
            ctx.db.verify_email_with_link(&digest).await?.ok_or(AccountError::LinkExpired)?;
            plain_form_done(&format!("/account/verify/{token}"), "verified");
            Ok(crate::texts::account_email_verified(ServerContext::request_language()).to_owned())
        }
        .await,
    )
}

/// Whether a mailed link (a password reset, a verification) still works, without using it: its
/// page says at once that it expired or was used, rather than once its form is sent.
#[server(endpoint = "account_link_works")]
pub async fn account_link_works(token: String, purpose: TokenPurpose) -> Result<(), AccountError> {
    reply(
        async move {
            let ctx = ServerContext::get()?;
            let digest = crate::rules::secrets::login_token_digest(token.trim());
            ctx.db.account_link_works(purpose, &digest).await?.map(drop).ok_or(AccountError::LinkExpired)
        }
        .await,
    )
}

/// "Send the verification mail again": a new link to the account's address, replacing the
/// earlier one. Limited like the reset mail, per recipient (this account's address) and per
/// client address, so it cannot flood a mailbox.
#[server(endpoint = "resend_verification")]
pub async fn resend_verification() -> Result<String, AccountError> {
    reply(
        async move {
            let ctx = ServerContext::get()?;
            let user = auth::current_user(&ctx.db).await?.ok_or(AccountError::NotLoggedIn)?;
            if user.email_verified {
                return Ok(crate::texts::account_already_verified(ServerContext::request_language()).to_owned());
            }
            ctx.limits.take_account_mail(&user.email, ctx.client_ip()).map_err(|refused| match refused {
                MailRefused::Client(wait) | MailRefused::Recipient(wait) => {
                    AccountError::TooManyMails(whole_seconds(wait))
                }
            })?;
            mail_account_link(&ctx, user.id, &user.email, TokenPurpose::EmailVerification).await?;
            Ok(crate::texts::account_verification_on_its_way(ServerContext::request_language(), &user.email))
        }
        .await,
    )
}
