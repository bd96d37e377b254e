use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    /// Microseconds since the Unix epoch: sorts and compares the same on every back-end.
    pub created_at: i64,
    /// When the address was proven to reach this account (migration m0007); `None` until then.
    pub email_verified_at: Option<i64>,
    /// May administer the instance (migration m0012): the first account, or one named by
    /// `server admin add`.
    pub is_admin: bool,
    /// When an administrator disabled the account; `None` while it may log in.
    pub disabled_at: Option<i64>,
    /// The account's latest log-in, as administrators see it.
    pub last_login_at: Option<i64>,
    /// The language its owner reads Ruche in (migration m0013, `Lang::as_str`): its mails are
    /// written in it. `None` until known.
    pub language: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
