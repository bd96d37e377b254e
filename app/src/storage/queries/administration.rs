//! Administering an instance: the account list, disabling, enabling and deleting accounts,
//! naming administrators, and the invitations to create an account.
use super::outbox::outbox_row;
use super::users::{insert_user, CreateUserError};
use crate::ids::{SessionId, UserId};
use crate::rules::mail::MailKind;
use crate::storage::entities::{
    account_invitations, account_tokens, facilitators, login_sessions, outbox, sessions, users,
};
use crate::storage::{now_micros, Db, User};
use sea_orm::sea_query::{Expr, Func, LikeExpr};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};

/// An account as the administrators' list shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountRecord {
    pub user: User,
    pub created_at: i64,
    pub last_login_at: Option<i64>,
    /// Sessions it owns.
    pub sessions: u64,
}

/// What disabling an account ended: the live channel closes the host tabs of these logins and
/// tells every tab of these sessions that they closed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountStopped {
    pub ended_logins: Vec<String>,
    pub closed_sessions: Vec<SessionId>,
    /// Mails it had queued (invitations, account links), dropped unsent.
    pub dropped_mails: u64,
}

/// An invitation to create an account, while its link works.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    pub email: String,
    /// Printed by `server admin add`: works whatever `SIGNUP` says, and makes an administrator.
    pub makes_admin: bool,
}

/// Why an invitation to create an account was not made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvitationRefused {
    AlreadyAnAccount,
    TooMany,
}

/// `LIKE` matches `%` and `_` as wildcards: a search for them must find them as typed.
fn like_pattern(search: &str) -> LikeExpr {
    let escaped = search.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    LikeExpr::new(format!("%{escaped}%")).escape('\\')
}

impl Db {
    /// The newest `limit` accounts whose address or name holds `search` (lower-case; empty: all).
    pub async fn accounts(&self, search: &str, limit: u64) -> Result<Vec<AccountRecord>, DbErr> {
        let mut query = users::Entity::find();
        if !search.is_empty() {
            query = query.filter(
                Condition::any()
                    .add(Expr::col(users::Column::Email).like(like_pattern(search)))
                    .add(Expr::expr(Func::lower(Expr::col(users::Column::DisplayName))).like(like_pattern(search))),
            );
        }
        let found = query
            .order_by_desc(users::Column::CreatedAt)
            .order_by_desc(users::Column::Id)
            .limit(limit)
            .all(&self.read)
            .await?;
        self.with_session_counts(found).await
    }

    /// One account as the list shows it.
    pub async fn account_record(&self, user: UserId) -> Result<Option<AccountRecord>, DbErr> {
        let found = users::Entity::find_by_id(user.0).all(&self.read).await?;
        Ok(self.with_session_counts(found).await?.pop())
    }

    async fn with_session_counts(&self, found: Vec<users::Model>) -> Result<Vec<AccountRecord>, DbErr> {
        let counts: Vec<(uuid::Uuid, i64)> = sessions::Entity::find()
            .select_only()
            .column(sessions::Column::OwnerId)
            .column_as(sessions::Column::Id.count(), "count")
            .filter(sessions::Column::OwnerId.is_in(found.iter().map(|u| u.id)))
            .group_by(sessions::Column::OwnerId)
            .into_tuple()
            .all(&self.read)
            .await?;
        Ok(found
            .into_iter()
            .map(|m| AccountRecord {
                sessions: counts.iter().find(|(id, _)| *id == m.id).map_or(0, |(_, n)| *n as u64),
                created_at: m.created_at,
                last_login_at: m.last_login_at,
                user: m.into(),
            })
            .collect())
    }

    /// Names the account at `email` an administrator, or takes the right away (`server admin`).
    /// `false` when no account uses that address.
    pub async fn set_admin(&self, email: &str, admin: bool) -> Result<bool, DbErr> {
        let written = users::Entity::update_many()
            .col_expr(users::Column::IsAdmin, admin.into())
            .filter(users::Column::Email.eq(email))
            .exec(&self.conn)
            .await?;
        Ok(written.rows_affected > 0)
    }

    /// Disables an account, in one transaction: it may no longer log in, its logins end, its open
    /// sessions close, its pending mail is dropped and its mailed links stop working. `None` when
    /// there is no such account. Disabling a disabled account does it all again (nothing left).
    pub async fn disable_account(&self, user: UserId) -> Result<Option<AccountStopped>, DbErr> {
        let now = now_micros();
        let txn = self.conn.begin().await?;
        let Some(found) = users::Entity::find_by_id(user.0).lock_exclusive().one(&txn).await? else {
            return Ok(None);
        };
        if found.disabled_at.is_none() {
            users::Entity::update_many()
                .col_expr(users::Column::DisabledAt, Some(now).into())
                .filter(users::Column::Id.eq(user.0))
                .exec(&txn)
                .await?;
        }
        let stopped = stop_account(&txn, user, now).await?;
        txn.commit().await?;
        Ok(Some(stopped))
    }

    /// Lets a disabled account log in again. Its sessions stay closed until it opens them.
    /// `false` when there is no such account.
    pub async fn enable_account(&self, user: UserId) -> Result<bool, DbErr> {
        let written = users::Entity::update_many()
            .col_expr(users::Column::DisabledAt, Option::<i64>::None.into())
            .filter(users::Column::Id.eq(user.0))
            .exec(&self.conn)
            .await?;
        Ok(written.rows_affected > 0)
    }

    /// Deletes an account with its sessions: first disabled (so that it cannot start another
    /// meanwhile), then each session deleted as its owner would (codes and links remembered as
    /// deleted), then the account, its co-hosting of others' sessions and its queued mail.
    /// Returns the logins ended and the sessions deleted; `None` when there is no such account.
    pub async fn delete_account(&self, user: UserId) -> Result<Option<(Vec<String>, Vec<SessionId>)>, DbErr> {
        let Some(stopped) = self.disable_account(user).await? else { return Ok(None) };
        let owned: Vec<uuid::Uuid> = sessions::Entity::find()
            .select_only()
            .column(sessions::Column::Id)
            .filter(sessions::Column::OwnerId.eq(user.0))
            .into_tuple()
            .all(&self.conn)
            .await?;
        let mut deleted = Vec::with_capacity(owned.len());
        for id in owned {
            if self.delete_session(SessionId(id)).await? {
                deleted.push(SessionId(id));
            }
        }
        let txn = self.conn.begin().await?;
        facilitators::Entity::delete_many().filter(facilitators::Column::UserId.eq(user.0)).exec(&txn).await?;
        // Logins, devices, links and code draws go with the account (foreign keys' cascades).
        users::Entity::delete_by_id(user.0).exec(&txn).await?;
        txn.commit().await?;
        Ok(Some((stopped.ended_logins, deleted)))
    }

    /// Invites `email` (cleaned) to create an account, in one transaction. `invited_by` an
    /// administrator: the mail carrying `token` is queued. `None`: `server admin add`, whose
    /// invitation makes an administrator and is printed, not mailed. Inviting an address again
    /// replaces its earlier invitation, whose link stops working. At most `max_pending`
    /// invitations wait at once; expired ones are forgotten here.
    pub async fn invite_account(
        &self,
        email: &str,
        invited_by: Option<UserId>,
        token: &str,
        digest: &str,
        lifetime_micros: i64,
        max_pending: u64,
    ) -> Result<Result<(), InvitationRefused>, DbErr> {
        let now = now_micros();
        let txn = self.conn.begin().await?;
        if users::Entity::find().filter(users::Column::Email.eq(email)).count(&txn).await? > 0 {
            return Ok(Err(InvitationRefused::AlreadyAnAccount));
        }
        account_invitations::Entity::delete_many()
            .filter(
                Condition::any()
                    .add(account_invitations::Column::ExpiresAt.lte(now))
                    .add(account_invitations::Column::Email.eq(email)),
            )
            .exec(&txn)
            .await?;
        if account_invitations::Entity::find().count(&txn).await? >= max_pending {
            return Ok(Err(InvitationRefused::TooMany));
        }
        account_invitations::Entity::insert(account_invitations::ActiveModel {
            token_digest: Set(digest.to_owned()),
            email: Set(email.to_owned()),
            invited_by: Set(invited_by.map_or(uuid::Uuid::nil(), |u| u.0)),
            makes_admin: Set(invited_by.is_none()),
            created_at: Set(now),
            expires_at: Set(now + lifetime_micros),
        })
        .exec_without_returning(&txn)
        .await?;
        if let Some(invited_by) = invited_by {
            // Invitations belong to no session: the nil id (see the outbox entity).
            outbox::Entity::insert(outbox_row(
                MailKind::AccountInvitation,
                email,
                SessionId(uuid::Uuid::nil()),
                invited_by,
                Some(token.to_owned()),
                now,
            ))
            .exec_without_returning(&txn)
            .await?;
        }
        txn.commit().await?;
        Ok(Ok(()))
    }

    /// An invitation, while it works (not used, replaced nor expired).
    pub async fn invitation(&self, digest: &str) -> Result<Option<Invitation>, DbErr> {
        Ok(account_invitations::Entity::find_by_id(digest.to_owned())
            .filter(account_invitations::Column::ExpiresAt.gt(now_micros()))
            .one(&self.conn)
            .await?
            .map(|row| Invitation { email: row.email, makes_admin: row.makes_admin }))
    }

    /// Creates the account an invitation was made for, which is used up; the link proved the
    /// address, so it counts as verified. `Ok(None)` when the invitation does not work.
    pub async fn sign_up_invited(
        &self,
        digest: &str,
        display_name: &str,
        password_hash: &str,
    ) -> Result<Option<User>, CreateUserError> {
        let txn = self.conn.begin().await.map_err(CreateUserError::Db)?;
        let now = now_micros();
        let invitation = account_invitations::Entity::find_by_id(digest.to_owned())
            .filter(account_invitations::Column::ExpiresAt.gt(now))
            .one(&txn)
            .await
            .map_err(CreateUserError::Db)?;
        let Some(invitation) = invitation else { return Ok(None) };
        let used = account_invitations::Entity::delete_by_id(digest.to_owned()).exec(&txn).await;
        if used.map_err(CreateUserError::Db)?.rows_affected == 0 {
            // Used by a parallel request meanwhile.
            return Ok(None);
        }
        let mut user = insert_user(&txn, &invitation.email, display_name, password_hash, Some(now)).await?;
        if invitation.makes_admin {
            users::Entity::update_many()
                .col_expr(users::Column::IsAdmin, true.into())
                .filter(users::Column::Id.eq(user.id.0))
                .exec(&txn)
                .await
                .map_err(CreateUserError::Db)?;
            user.is_admin = true;
        }
        txn.commit().await.map_err(CreateUserError::Db)?;
        self.first_account_administers(user).await.map(Some).map_err(CreateUserError::Db)
    }
}

/// Ends what a disabled account had going: its logins, its open sessions, its queued mail and
/// its mailed links.
async fn stop_account<C: ConnectionTrait>(conn: &C, user: UserId, now: i64) -> Result<AccountStopped, DbErr> {
    let ended_logins: Vec<String> = login_sessions::Entity::find()
        .select_only()
        .column(login_sessions::Column::TokenDigest)
        .filter(login_sessions::Column::UserId.eq(user.0))
        .into_tuple()
        .all(conn)
        .await?;
    login_sessions::Entity::delete_many().filter(login_sessions::Column::UserId.eq(user.0)).exec(conn).await?;
    let open: Vec<uuid::Uuid> = sessions::Entity::find()
        .select_only()
        .column(sessions::Column::Id)
        .filter(sessions::Column::OwnerId.eq(user.0))
        .filter(sessions::Column::IsOpen.eq(true))
        .into_tuple()
        .all(conn)
        .await?;
    sessions::Entity::update_many()
        .col_expr(sessions::Column::IsOpen, false.into())
        .filter(sessions::Column::Id.is_in(open.iter().copied()))
        .exec(conn)
        .await?;
    let dropped = outbox::Entity::update_many()
        .col_expr(outbox::Column::GaveUpAt, Some(now).into())
        .col_expr(outbox::Column::LastError, Some("the sender's account was disabled".to_owned()).into())
        .filter(outbox::Column::SentBy.eq(user.0))
        .filter(outbox::Column::SentAt.is_null())
        .filter(outbox::Column::GaveUpAt.is_null())
        .exec(conn)
        .await?;
    account_tokens::Entity::delete_many().filter(account_tokens::Column::UserId.eq(user.0)).exec(conn).await?;
    Ok(AccountStopped {
        ended_logins,
        closed_sessions: open.into_iter().map(SessionId).collect(),
        dropped_mails: dropped.rows_affected,
    })
}
