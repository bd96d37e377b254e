use crate::ids::UserId;
use crate::rules::accounts::{MAX_DEVICES_PER_ACCOUNT, MAX_LOGINS_PER_ACCOUNT};
use crate::storage::{entities::login_devices, entities::login_sessions, entities::users, now_micros, Db, User};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

impl Db {
    /// A new login of `user`. An account keeps at most `MAX_LOGINS_PER_ACCOUNT`: the oldest go,
    /// in the same transaction, and their digests are returned (their host sockets must close).
    /// `None`, and no login, when the account is disabled: checked in the write that records
    /// the log-in, so that a log-in racing an administrator's "Disable" cannot outlive it.
    pub async fn create_login_session(
        &self,
        user: UserId,
        token_digest: &str,
        lifetime_micros: i64,
    ) -> Result<Option<Vec<String>>, DbErr> {
        let now = now_micros();
        let txn = self.conn.begin().await?;
        let enabled = users::Entity::update_many()
            .col_expr(users::Column::LastLoginAt, now.into())
            .filter(users::Column::Id.eq(user.0))
            .filter(users::Column::DisabledAt.is_null())
            .exec(&txn)
            .await?;
        if enabled.rows_affected == 0 {
            txn.rollback().await?;
            return Ok(None);
        }
        login_sessions::Entity::insert(login_sessions::ActiveModel {
            token_digest: Set(token_digest.to_owned()),
            user_id: Set(user.0),
            created_at: Set(now),
            expires_at: Set(now + lifetime_micros),
        })
        .exec_without_returning(&txn)
        .await?;
        let logins = || {
            login_sessions::Entity::find()
                .select_only()
                .column(login_sessions::Column::TokenDigest)
                .filter(login_sessions::Column::UserId.eq(user.0))
        };
        let kept: Vec<String> = logins()
            .order_by_desc(login_sessions::Column::CreatedAt)
            .order_by_desc(login_sessions::Column::TokenDigest)
            .limit(MAX_LOGINS_PER_ACCOUNT)
            .into_tuple()
            .all(&txn)
            .await?;
        let ended: Vec<String> = if kept.len() as u64 == MAX_LOGINS_PER_ACCOUNT {
            logins().filter(login_sessions::Column::TokenDigest.is_not_in(kept)).into_tuple().all(&txn).await?
        } else {
            Vec::new()
        };
        if !ended.is_empty() {
            login_sessions::Entity::delete_many()
                .filter(login_sessions::Column::TokenDigest.is_in(ended.iter().cloned()))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(Some(ended))
    }

    /// Remembers a browser `user` logged in from (its device cookie's digest). An account keeps
    /// its newest `MAX_DEVICES_PER_ACCOUNT`; older ones are forgotten in the same transaction.
    pub async fn remember_device(&self, user: UserId, token_digest: &str) -> Result<(), DbErr> {
        let txn = self.conn.begin().await?;
        login_devices::Entity::insert(login_devices::ActiveModel {
            token_digest: Set(token_digest.to_owned()),
            user_id: Set(user.0),
            created_at: Set(now_micros()),
        })
        .exec_without_returning(&txn)
        .await?;
        let devices = || {
            login_devices::Entity::find()
                .select_only()
                .column(login_devices::Column::TokenDigest)
                .filter(login_devices::Column::UserId.eq(user.0))
        };
        let kept: Vec<String> = devices()
            .order_by_desc(login_devices::Column::CreatedAt)
            .order_by_desc(login_devices::Column::TokenDigest)
            .limit(MAX_DEVICES_PER_ACCOUNT)
            .into_tuple()
            .all(&txn)
            .await?;
        if kept.len() as u64 == MAX_DEVICES_PER_ACCOUNT {
            login_devices::Entity::delete_many()
                .filter(login_devices::Column::UserId.eq(user.0))
                .filter(login_devices::Column::TokenDigest.is_not_in(kept))
                .exec(&txn)
                .await?;
        }
        txn.commit().await
    }

    /// The account a device cookie was given to, if it is still remembered.
    pub async fn device_account(&self, token_digest: &str) -> Result<Option<UserId>, DbErr> {
        Ok(login_devices::Entity::find_by_id(token_digest.to_owned())
            .select_only()
            .column(login_devices::Column::UserId)
            .into_tuple::<uuid::Uuid>()
            .one(&self.read)
            .await?
            .map(UserId))
    }

    /// The user behind a login cookie, if that login exists and has not expired.
    pub async fn user_for_login_session(&self, token_digest: &str) -> Result<Option<User>, DbErr> {
        match self.user_id_for_login_session(token_digest).await? {
            Some(user) => self.user(user).await,
            None => Ok(None),
        }
    }

    /// Only the id, in one query: most requests need no more, and a login's row cannot outlive
    /// its user (the foreign key cascades), so the user's own row need not be read to trust it.
    pub async fn user_id_for_login_session(&self, token_digest: &str) -> Result<Option<UserId>, DbErr> {
        Ok(login_sessions::Entity::find_by_id(token_digest.to_owned())
            .select_only()
            .column(login_sessions::Column::UserId)
            .filter(login_sessions::Column::ExpiresAt.gt(now_micros()))
            .into_tuple::<uuid::Uuid>()
            .one(&self.read)
            .await?
            .map(UserId))
    }

    pub async fn delete_login_session(&self, token_digest: &str) -> Result<(), DbErr> {
        login_sessions::Entity::delete_by_id(token_digest.to_owned()).exec(&self.conn).await?;
        Ok(())
    }

    /// Expired logins are useless; removing them keeps the table the size of the real audience.
    pub async fn delete_expired_login_sessions(&self) -> Result<u64, DbErr> {
        Ok(login_sessions::Entity::delete_many()
            .filter(login_sessions::Column::ExpiresAt.lte(now_micros()))
            .exec(&self.conn)
            .await?
            .rows_affected)
    }
}
