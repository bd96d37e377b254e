use super::is_unique_violation;
use crate::ids::UserId;
use crate::rules::language::Lang;
use crate::storage::{entities::users, now_micros, Db};
use sea_orm::sea_query::{Alias, Condition, Expr, Query};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    /// Whether the address is proven to reach this person (`rules::accounts::may`).
    pub email_verified: bool,
    /// May administer the instance (`rules::administration`).
    pub is_admin: bool,
    /// Disabled by an administrator: may not log in.
    pub disabled: bool,
    /// The language its owner last read Ruche in: its mails are written in it.
    pub language: Option<Lang>,
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
            is_admin: m.is_admin,
            disabled: m.disabled_at.is_some(),
            language: m.language.as_deref().and_then(Lang::parse),
        }
    }
}

impl Db {
    /// `email` must already be cleaned (`rules::accounts::clean_email`): the unique index
    /// compares it byte for byte. The instance's first account becomes its administrator.
    pub async fn create_user(
        &self,
        email: &str,
        display_name: &str,
        password_hash: &str,
    ) -> Result<User, CreateUserError> {
        let user = insert_user(&self.conn, email, display_name, password_hash, None).await?;
        self.first_account_administers(user).await.map_err(CreateUserError::Db)
    }

    /// Makes `user` the administrator if it is the instance's first account: no other account
    /// is older, nor an administrator already. Run after the account is committed, so that of two
    /// first sign-ups at the same moment exactly one qualifies, on either back-end: each sees
    /// the other's row, and only the older has none older than itself.
    pub(crate) async fn first_account_administers(&self, mut user: User) -> Result<User, DbErr> {
        let created_at: i64 = users::Entity::find_by_id(user.id.0)
            .select_only()
            .column(users::Column::CreatedAt)
            .into_tuple()
            .one(&self.conn)
            .await?
            .unwrap_or_default();
        let other = Alias::new("other");
        let col = |c: users::Column| Expr::col((other.clone(), c));
        let older_or_admin = Query::select()
            .expr(Expr::val(1))
            .from_as(users::Entity, other.clone())
            .and_where(col(users::Column::Id).ne(user.id.0))
            .cond_where(
                Condition::any()
                    .add(col(users::Column::IsAdmin).eq(true))
                    .add(col(users::Column::CreatedAt).lt(created_at))
                    .add(col(users::Column::CreatedAt).eq(created_at).and(col(users::Column::Id).lt(user.id.0))),
            )
            .to_owned();
        let made = users::Entity::update_many()
            .col_expr(users::Column::IsAdmin, true.into())
            .filter(users::Column::Id.eq(user.id.0))
            .filter(Expr::exists(older_or_admin).not())
            .exec(&self.conn)
            .await?;
        user.is_admin |= made.rows_affected > 0;
        Ok(user)
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserWithPassword>, DbErr> {
        Ok(users::Entity::find()
            .filter(users::Column::Email.eq(email))
            .one(&self.conn)
            .await?
            .map(|m| UserWithPassword { password_hash: m.password_hash.clone(), user: m.into() }))
    }

    /// Records the language `user` reads Ruche in, for the mails they will receive.
    pub async fn set_account_language(&self, user: UserId, lang: Lang) -> Result<(), DbErr> {
        users::Entity::update_many()
            .col_expr(users::Column::Language, lang.as_str().into())
            .filter(users::Column::Id.eq(user.0))
            .exec(&self.conn)
            .await?;
        Ok(())
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

/// Inserts an account; `verified_at` when the address is proven already (an invitation's link).
pub(crate) async fn insert_user<C: ConnectionTrait>(
    conn: &C,
    email: &str,
    display_name: &str,
    password_hash: &str,
    verified_at: Option<i64>,
) -> Result<User, CreateUserError> {
    let model = users::ActiveModel {
        id: Set(UserId::new_random().0),
        email: Set(email.to_owned()),
        display_name: Set(display_name.to_owned()),
        password_hash: Set(password_hash.to_owned()),
        created_at: Set(now_micros()),
        email_verified_at: Set(verified_at),
        is_admin: Set(false),
        disabled_at: Set(None),
        last_login_at: Set(None),
        language: Set(None),
    };
    match users::Entity::insert(model).exec_with_returning(conn).await {
        Ok(m) => Ok(m.into()),
        Err(e) if is_unique_violation(&e) => Err(CreateUserError::EmailTaken),
        Err(e) => Err(CreateUserError::Db(e)),
    }
}
