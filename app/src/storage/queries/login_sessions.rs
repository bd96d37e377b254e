use crate::ids::UserId;
use crate::storage::{entities::login_sessions, now_micros, Db, User};
use sea_orm::{ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

impl Db {
    pub async fn create_login_session(
        &self,
        user: UserId,
        token_digest: &str,
        lifetime_micros: i64,
    ) -> Result<(), DbErr> {
        let now = now_micros();
        login_sessions::Entity::insert(login_sessions::ActiveModel {
            token_digest: Set(token_digest.to_owned()),
            user_id: Set(user.0),
            created_at: Set(now),
            expires_at: Set(now + lifetime_micros),
        })
        .exec_without_returning(&self.conn)
        .await?;
        Ok(())
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
