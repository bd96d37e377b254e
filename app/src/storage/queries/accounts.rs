//! Accounts: the single-use links mailed to them (password reset, address verification),
//! passwords, verified addresses, and ending logins.
use super::outbox::outbox_row;
use crate::ids::{SessionId, UserId};
use crate::rules::accounts::{token_works, TokenPurpose};
use crate::rules::mail::MailKind;
use crate::storage::entities::{account_tokens, login_sessions, outbox, users};
use crate::storage::{now_micros, Db};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QuerySelect,
    TransactionTrait,
};

fn mail_kind(purpose: TokenPurpose) -> MailKind {
    match purpose {
        TokenPurpose::PasswordReset => MailKind::PasswordReset,
        TokenPurpose::EmailVerification => MailKind::EmailVerification,
    }
}

impl Db {
    /// Makes the account's link for `purpose` and queues its mail to `recipient`, in one
    /// transaction. The link replaces any earlier one, which stops working; its mail, if still
    /// unsent, is then dropped by the worker (`account_link_works`). Only `digest` is kept as
    /// the link; the outbox holds `token` until the mail is sent.
    pub async fn mail_account_link(
        &self,
        user: UserId,
        recipient: &str,
        purpose: TokenPurpose,
        token: &str,
        digest: &str,
    ) -> Result<(), DbErr> {
        let now = now_micros();
        let txn = self.conn.begin().await?;
        account_tokens::Entity::delete_many()
            .filter(account_tokens::Column::UserId.eq(user.0))
            .filter(account_tokens::Column::Purpose.eq(purpose.as_str()))
            .exec(&txn)
            .await?;
        account_tokens::Entity::insert(account_tokens::ActiveModel {
            token_digest: Set(digest.to_owned()),
            user_id: Set(user.0),
            purpose: Set(purpose.as_str().to_owned()),
            created_at: Set(now),
            expires_at: Set(now + purpose.lifetime_micros()),
        })
        .exec_without_returning(&txn)
        .await?;
        // Account mails belong to no session: the nil id (see the outbox entity).
        outbox::Entity::insert(outbox_row(
            mail_kind(purpose),
            recipient,
            SessionId(uuid::Uuid::nil()),
            user,
            Some(token.to_owned()),
            now,
        ))
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await
    }

    /// Queues the mail telling `user` that someone tried to sign up with their address.
    pub async fn mail_sign_up_attempt(&self, user: UserId, recipient: &str) -> Result<(), DbErr> {
        // Account mails belong to no session: the nil id (see the outbox entity).
        outbox::Entity::insert(outbox_row(
            MailKind::SignUpAttempt,
            recipient,
            SessionId(uuid::Uuid::nil()),
            user,
            None,
            now_micros(),
        ))
        .exec_without_returning(&self.conn)
        .await?;
        Ok(())
    }

    /// The account whose link of `purpose` this is, if it still works: not used, not replaced,
    /// not expired.
    pub async fn account_link_works(&self, purpose: TokenPurpose, digest: &str) -> Result<Option<UserId>, DbErr> {
        Ok(account_tokens::Entity::find_by_id(digest.to_owned())
            .filter(account_tokens::Column::Purpose.eq(purpose.as_str()))
            .one(&self.conn)
            .await?
            .filter(|row| token_works(row.expires_at, now_micros()))
            .map(|row| UserId(row.user_id)))
    }

    /// Sets a new password through a reset link, which is used up, and ends every login of the
    /// account: the caller logs this browser in afresh. Returns the account and the digests of
    /// the logins ended; `None` when the link does not work. The mail proved the mailbox, so the
    /// address counts as verified too.
    pub async fn reset_password_with_link(
        &self,
        digest: &str,
        password_hash: &str,
    ) -> Result<Option<(UserId, Vec<String>)>, DbErr> {
        let txn = self.conn.begin().await?;
        let Some(user) = take_link(&txn, TokenPurpose::PasswordReset, digest).await? else {
            txn.commit().await?;
            return Ok(None);
        };
        set_password(&txn, user, password_hash).await?;
        verify(&txn, user).await?;
        let ended = end_logins(&txn, user, None).await?;
        txn.commit().await?;
        Ok(Some((user, ended)))
    }

    /// Verifies the address through the link mailed to it, which is used up. `None` when the
    /// link does not work.
    pub async fn verify_email_with_link(&self, digest: &str) -> Result<Option<UserId>, DbErr> {
        let txn = self.conn.begin().await?;
        let user = take_link(&txn, TokenPurpose::EmailVerification, digest).await?;
        if let Some(user) = user {
            verify(&txn, user).await?;
        }
        txn.commit().await?;
        Ok(user)
    }

    /// The address is proven some other way (a co-facilitator invitation mailed to it was
    /// opened); any pending verification link is no longer needed.
    pub async fn mark_email_verified(&self, user: UserId) -> Result<(), DbErr> {
        let txn = self.conn.begin().await?;
        verify(&txn, user).await?;
        txn.commit().await
    }

    pub async fn password_hash(&self, user: UserId) -> Result<Option<String>, DbErr> {
        users::Entity::find_by_id(user.0)
            .select_only()
            .column(users::Column::PasswordHash)
            .into_tuple::<String>()
            .one(&self.conn)
            .await
    }

    /// Sets a new password and ends every other login of the account (the one whose digest is
    /// `keep` stays); a pending reset link would only undo it, so it stops working too. Returns
    /// the digests of the logins ended, whose live sockets are to be closed.
    pub async fn change_password(&self, user: UserId, password_hash: &str, keep: &str) -> Result<Vec<String>, DbErr> {
        let txn = self.conn.begin().await?;
        set_password(&txn, user, password_hash).await?;
        account_tokens::Entity::delete_many()
            .filter(account_tokens::Column::UserId.eq(user.0))
            .filter(account_tokens::Column::Purpose.eq(TokenPurpose::PasswordReset.as_str()))
            .exec(&txn)
            .await?;
        let ended = end_logins(&txn, user, Some(keep)).await?;
        txn.commit().await?;
        Ok(ended)
    }

    /// Ends every login of the account but `keep`: "Log out everywhere". Returns the digests of
    /// the logins ended.
    pub async fn end_other_logins(&self, user: UserId, keep: &str) -> Result<Vec<String>, DbErr> {
        let txn = self.conn.begin().await?;
        let ended = end_logins(&txn, user, Some(keep)).await?;
        txn.commit().await?;
        Ok(ended)
    }

    /// `name` must already be cleaned (`rules::accounts::clean_display_name`).
    pub async fn set_display_name(&self, user: UserId, name: &str) -> Result<(), DbErr> {
        users::Entity::update_many()
            .col_expr(users::Column::DisplayName, name.into())
            .filter(users::Column::Id.eq(user.0))
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    /// Tests only: makes the account's links look made `micros` earlier, since a verification
    /// link lasts a week.
    #[doc(hidden)]
    pub async fn backdate_account_links_for_tests(&self, user: UserId, micros: i64) -> Result<(), DbErr> {
        use sea_orm::sea_query::Expr;
        account_tokens::Entity::update_many()
            .col_expr(account_tokens::Column::CreatedAt, Expr::col(account_tokens::Column::CreatedAt).sub(micros))
            .col_expr(account_tokens::Column::ExpiresAt, Expr::col(account_tokens::Column::ExpiresAt).sub(micros))
            .filter(account_tokens::Column::UserId.eq(user.0))
            .exec(&self.conn)
            .await?;
        Ok(())
    }
}

/// Uses up a link: whatever it was, it is gone afterwards. `None` when there was no such link of
/// `purpose` or it had expired. Two requests with the same link: only the one whose delete
/// removed the row gets the account.
async fn take_link(txn: &DatabaseTransaction, purpose: TokenPurpose, digest: &str) -> Result<Option<UserId>, DbErr> {
    let Some(row) = account_tokens::Entity::find_by_id(digest.to_owned())
        .filter(account_tokens::Column::Purpose.eq(purpose.as_str()))
        .one(txn)
        .await?
    else {
        return Ok(None);
    };
    let deleted = account_tokens::Entity::delete_by_id(digest.to_owned()).exec(txn).await?.rows_affected;
    Ok((deleted == 1 && token_works(row.expires_at, now_micros())).then_some(UserId(row.user_id)))
}

async fn set_password<C: ConnectionTrait>(conn: &C, user: UserId, password_hash: &str) -> Result<(), DbErr> {
    users::Entity::update_many()
        .col_expr(users::Column::PasswordHash, password_hash.into())
        .filter(users::Column::Id.eq(user.0))
        .exec(conn)
        .await?;
    Ok(())
}

/// Marks the address verified (keeping the first time it was), drops a pending verification
/// link, and gives up its mail if still unsent: it could only lead to "already used", and the
/// outbox need not keep its token any longer.
pub(super) async fn verify<C: ConnectionTrait>(conn: &C, user: UserId) -> Result<(), DbErr> {
    let now = now_micros();
    users::Entity::update_many()
        .col_expr(users::Column::EmailVerifiedAt, Some(now).into())
        .filter(users::Column::Id.eq(user.0))
        .filter(users::Column::EmailVerifiedAt.is_null())
        .exec(conn)
        .await?;
    account_tokens::Entity::delete_many()
        .filter(account_tokens::Column::UserId.eq(user.0))
        .filter(account_tokens::Column::Purpose.eq(TokenPurpose::EmailVerification.as_str()))
        .exec(conn)
        .await?;
    outbox::Entity::update_many()
        .col_expr(outbox::Column::GaveUpAt, Some(now).into())
        .col_expr(outbox::Column::Token, Option::<String>::None.into())
        .col_expr(outbox::Column::LastError, Some("the address was verified meanwhile".to_owned()).into())
        .filter(outbox::Column::SentBy.eq(user.0))
        .filter(outbox::Column::Kind.eq(MailKind::EmailVerification.as_str()))
        .filter(outbox::Column::SentAt.is_null())
        .filter(outbox::Column::GaveUpAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

async fn end_logins<C: ConnectionTrait>(conn: &C, user: UserId, keep: Option<&str>) -> Result<Vec<String>, DbErr> {
    let others = || {
        let mine = login_sessions::Column::UserId.eq(user.0);
        match keep {
            Some(keep) => mine.and(login_sessions::Column::TokenDigest.ne(keep)),
            None => mine,
        }
    };
    let ended = login_sessions::Entity::find()
        .select_only()
        .column(login_sessions::Column::TokenDigest)
        .filter(others())
        .into_tuple::<String>()
        .all(conn)
        .await?;
    // By the same condition rather than by the list, so a login made meanwhile ends too.
    login_sessions::Entity::delete_many().filter(others()).exec(conn).await?;
    Ok(ended)
}
