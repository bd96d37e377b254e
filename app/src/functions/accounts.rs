use crate::rules::accounts::AccountError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::{rules::accounts::*, server::{auth, reply, ServerContext}};

impl crate::rules::HttpStatus for AccountError {
    fn http_status(&self) -> u16 {
        match self {
            Self::InvalidEmail | Self::InvalidName | Self::WeakPassword => 400,
            Self::EmailTaken => 409,
            Self::WrongCredentials => 401,
            Self::Internal | Self::Unreachable(_) => 500,
        }
    }
}

/// The logged-in person, as the pages show them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub display_name: String,
    pub email: String,
}

#[cfg(feature = "ssr")]
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, AccountError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        tracing::error!(error = %e, "password hashing task failed");
        AccountError::Internal
    })
}

#[server(endpoint = "sign_up")]
pub async fn sign_up(
    email: String,
    display_name: String,
    password: String,
    next: Option<String>,
) -> Result<(), AccountError> {
    reply(async move {
        let ctx = ServerContext::get().ok_or(AccountError::Internal)?;
        let email = clean_email(&email)?;
        let display_name = clean_display_name(&display_name)?;
        check_password(&password)?;
        let hash = blocking(move || passwords::hash(&password)).await?.map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            AccountError::Internal
        })?;
        let user = match ctx.db.create_user(&email, &display_name, &hash).await {
            Ok(user) => user,
            Err(crate::storage::CreateUserError::EmailTaken) => return Err(AccountError::EmailTaken),
            Err(crate::storage::CreateUserError::Db(e)) => return Err(e.into()),
        };
        auth::log_in(&ctx, user.id).await?;
        leptos_axum::redirect(safe_next(next.as_deref()));
        Ok(())
    }
    .await)
}

#[server(endpoint = "log_in")]
pub async fn log_in(email: String, password: String, next: Option<String>) -> Result<(), AccountError> {
    reply(async move {
        let ctx = ServerContext::get().ok_or(AccountError::Internal)?;
        let email = clean_email(&email)?;
        let found = ctx.db.user_by_email(&email).await?;
        let stored = found.as_ref().map(|f| f.password_hash.clone());
        let matches = blocking(move || passwords::verify(&password, stored.as_deref())).await?;
        let Some(found) = found.filter(|_| matches) else {
            return Err(AccountError::WrongCredentials);
        };
        auth::log_in(&ctx, found.user.id).await?;
        leptos_axum::redirect(safe_next(next.as_deref()));
        Ok(())
    }
    .await)
}

#[server(endpoint = "log_out")]
pub async fn log_out() -> Result<(), AccountError> {
    reply(async move {
        let ctx = ServerContext::get().ok_or(AccountError::Internal)?;
        auth::log_out(&ctx).await?;
        leptos_axum::redirect("/");
        Ok(())
    }
    .await)
}

#[server(endpoint = "me")]
pub async fn me() -> Result<Option<Account>, AccountError> {
    reply(async move {
        let ctx = ServerContext::get().ok_or(AccountError::Internal)?;
        Ok(auth::current_user(&ctx.db)
            .await?
            .map(|u| Account { display_name: u.display_name, email: u.email }))
    }
    .await)
}
