//! What an administrator of the instance does (`pages/admin.rs`): list and search accounts,
//! disable, enable and delete them, invite someone to create one. Every call checks that its
//! caller is a logged-in administrator, and every action is logged (target `ruche::admin`).
use crate::ids::UserId;
use crate::rules::administration::AdminError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::{
    rules::administration::*,
    services::{auth, reply, ServerContext},
    storage::User,
};

super::server_fn_error!(AdminError);

/// A line of the account list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountLine {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub email_verified: bool,
    pub is_admin: bool,
    pub disabled: bool,
    /// Microseconds since the epoch, as every stored time.
    pub created_at: i64,
    pub last_login_at: Option<i64>,
    pub sessions: u64,
}

/// The account list as the page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountList {
    pub lines: Vec<AccountLine>,
    /// The administrator looking: their own line offers no "Disable" nor "Delete".
    pub me: UserId,
    /// More accounts match than the `ACCOUNTS_SHOWN` listed.
    pub more: bool,
    /// Whether invitations can be sent (`SIGNUP` is not `closed`).
    pub invitations: bool,
}

#[cfg(feature = "ssr")]
impl From<crate::storage::AccountRecord> for AccountLine {
    fn from(r: crate::storage::AccountRecord) -> Self {
        Self {
            id: r.user.id,
            email: r.user.email,
            display_name: r.user.display_name,
            email_verified: r.user.email_verified,
            is_admin: r.user.is_admin,
            disabled: r.user.disabled,
            created_at: r.created_at,
            last_login_at: r.last_login_at,
            sessions: r.sessions,
        }
    }
}

/// The logged-in administrator making this call.
#[cfg(feature = "ssr")]
async fn administrator() -> Result<(ServerContext, User), AdminError> {
    let ctx = ServerContext::get()?;
    let user = auth::current_user(&ctx.db).await?.ok_or(AdminError::NotLoggedIn)?;
    if !user.is_admin || user.disabled {
        return Err(AdminError::NotAdmin);
    }
    Ok((ctx, user))
}

/// The account an action is about, if it exists.
#[cfg(feature = "ssr")]
async fn target(ctx: &ServerContext, id: UserId) -> Result<User, AdminError> {
    ctx.db.user(id).await?.ok_or(AdminError::NoSuchAccount)
}

#[server(endpoint = "accounts")]
pub async fn accounts(search: String) -> Result<AccountList, AdminError> {
    reply(
        async move {
            let search = clean_search(&search)?;
            let (ctx, me) = administrator().await?;
            let mut lines: Vec<AccountLine> =
                ctx.db.accounts(&search, ACCOUNTS_SHOWN + 1).await?.into_iter().map(Into::into).collect();
            let more = lines.len() as u64 > ACCOUNTS_SHOWN;
            lines.truncate(ACCOUNTS_SHOWN as usize);
            Ok(AccountList { lines, me: me.id, more, invitations: ctx.signup.takes_invitations() })
        }
        .await,
    )
}

/// One account, for the page that confirms its deletion.
#[server(endpoint = "account_for_admin")]
pub async fn account_for_admin(id: UserId) -> Result<AccountLine, AdminError> {
    reply(
        async move {
            let (ctx, _) = administrator().await?;
            ctx.db.account_record(id).await?.map(Into::into).ok_or(AdminError::NoSuchAccount)
        }
        .await,
    )
}

/// Disables an account: its logins end at once (its host tabs close), its open sessions close
/// (every participant sees it), its pending mail is dropped and its mailed links stop working.
/// Taking the wanted state, a replayed form changes nothing.
#[server(endpoint = "disable_account")]
pub async fn disable_account(id: UserId) -> Result<(), AdminError> {
    reply(
        async move {
            let (ctx, me) = administrator().await?;
            check_target(me.id.0, id.0)?;
            let account = target(&ctx, id).await?;
            let stopped = ctx.db.disable_account(id).await?.ok_or(AdminError::NoSuchAccount)?;
            tracing::info!(
                target: "ruche::admin",
                admin = %me.email,
                account = %account.email,
                logins_ended = stopped.ended_logins.len(),
                sessions_closed = stopped.closed_sessions.len(),
                mails_dropped = stopped.dropped_mails,
                "account disabled"
            );
            ctx.live.logins_ended(&ctx, stopped.ended_logins).await;
            for session in stopped.closed_sessions {
                ctx.live.changed(&ctx, session).await;
            }
            Ok(())
        }
        .await,
    )
}

#[server(endpoint = "enable_account")]
pub async fn enable_account(id: UserId) -> Result<(), AdminError> {
    reply(
        async move {
            let (ctx, me) = administrator().await?;
            let account = target(&ctx, id).await?;
            if !ctx.db.enable_account(id).await? {
                return Err(AdminError::NoSuchAccount);
            }
            tracing::info!(target: "ruche::admin", admin = %me.email, account = %account.email, "account enabled");
            Ok(())
        }
        .await,
    )
}

/// Deletes an account and its sessions for good: their tabs switch to "This session no longer
/// exists.", the account's host tabs close. Back to the list, which says so.
#[server(endpoint = "delete_account")]
pub async fn delete_account(id: UserId) -> Result<(), AdminError> {
    reply(
        async move {
            let (ctx, me) = administrator().await?;
            check_target(me.id.0, id.0)?;
            let account = target(&ctx, id).await?;
            let (ended, deleted) = ctx.db.delete_account(id).await?.ok_or(AdminError::NoSuchAccount)?;
            tracing::info!(
                target: "ruche::admin",
                admin = %me.email,
                account = %account.email,
                sessions_deleted = deleted.len(),
                "account deleted"
            );
            ctx.live.logins_ended(&ctx, ended).await;
            for session in deleted {
                ctx.live.changed(&ctx, session).await;
            }
            leptos_axum::redirect("/admin?done=deleted");
            Ok(())
        }
        .await,
    )
}

/// Mails `email` a link to create an account, which works whatever `SIGNUP` says but `closed`,
/// once, for 14 days; the account it makes has its address verified. Inviting again replaces
/// the earlier link.
#[server(endpoint = "invite_account")]
pub async fn invite_account(email: String) -> Result<String, AdminError> {
    reply(
        async move {
            let (ctx, me) = administrator().await?;
            if !ctx.signup.takes_invitations() {
                return Err(AdminError::InvitationsOff);
            }
            let email = crate::rules::accounts::clean_email(&email).map_err(|_| AdminError::InvalidEmail)?;
            let token = crate::rules::secrets::new_login_token();
            let digest = crate::rules::secrets::login_token_digest(&token);
            let lifetime = INVITATION_LIFETIME_SECS * 1_000_000;
            match ctx.db.invite_account(&email, Some(me.id), &token, &digest, lifetime, MAX_PENDING_INVITATIONS).await?
            {
                Ok(()) => {}
                Err(crate::storage::InvitationRefused::AlreadyAnAccount) => return Err(AdminError::AlreadyAnAccount),
                Err(crate::storage::InvitationRefused::TooMany) => return Err(AdminError::TooManyInvitations),
            }
            tracing::info!(target: "ruche::admin", admin = %me.email, invited = %email, "account invitation sent");
            ctx.wake_mailer();
            if crate::services::accepts_html() {
                crate::services::see_other("/admin?done=invited");
            }
            Ok(crate::texts::admin_invitation_on_its_way(ServerContext::request_language(), &email))
        }
        .await,
    )
}
