use super::is_unique_violation;
use crate::ids::UserId;
use crate::storage::{entities::users, now_micros, Db};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    /// Whether the address is proven to reach this person (`rules::accounts::may`).
    pub email_verified: bool,
}

pub struct UserWithPassword {
    pub user: User,
    pub password_hash: String,
}

#[derive(Debug)]
pub enum CreateUserError {
    EmailTaken,
    Db(DbErr),
}

impl From<users::Model> for User {
    fn from(m: users::Model) -> Self {
        Self {
            id: UserId(m.id),
            email: m.email,
            display_name: m.display_name,
            email_verified: m.email_verified_at.is_some(),
        }
    }
}

impl Db {
    /// `email` must already be cleaned (`rules::accounts::clean_email`): the unique index
    /// compares it byte for byte.
    pub async fn create_user(
        &self,
        email: &str,
        display_name: &str,
        password_hash: &str,
    ) -> Result<User, CreateUserError> {
        let model = users::ActiveModel {
            id: Set(UserId::new_random().0),
            email: Set(email.to_owned()),
            display_name: Set(display_name.to_owned()),
            password_hash: Set(password_hash.to_owned()),
            created_at: Set(now_micros()),
            email_verified_at: Set(None),
        };
        match users::Entity::insert(model).exec_with_returning(&self.conn).await {
            Ok(m) => Ok(m.into()),
            Err(e) if is_unique_violation(&e) => Err(CreateUserError::EmailTaken),
            Err(e) => Err(CreateUserError::Db(e)),
        }
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserWithPassword>, DbErr> {
        Ok(users::Entity::find()
            .filter(users::Column::Email.eq(email))
            .one(&self.conn)
            .await?
            .map(|m| UserWithPassword { password_hash: m.password_hash.clone(), user: m.into() }))
    }

    pub async fn user(&self, id: UserId) -> Result<Option<User>, DbErr> {
        Ok(users::Entity::find_by_id(id.0).one(&self.read).await?.map(Into::into))
    }

    /// Locks a user's row until the end of the transaction, so that what the user does in
    /// parallel (creating sessions, sending mail) is counted and written one request at a time.
    /// PostgreSQL locks the row (`FOR UPDATE`); SQLite has one writer, whose transactions already
    /// run one at a time.
    pub(crate) async fn lock_user<C: ConnectionTrait>(conn: &C, user: UserId) -> Result<(), DbErr> {
        users::Entity::find_by_id(user.0)
            .select_only()
            .column(users::Column::Id)
            .lock_exclusive()
            .into_tuple::<uuid::Uuid>()
            .one(conn)
            .await?;
        Ok(())
    }
}
