use sea_orm::entity::prelude::*;

/// A single-use link mailed to an account (`rules::accounts::TokenPurpose`): only the digest of
/// its token is kept, one per account and purpose.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_digest: String,
    pub user_id: Uuid,
    /// `TokenPurpose::as_str`.
    pub purpose: String,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
