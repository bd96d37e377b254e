use sea_orm::entity::prelude::*;

/// An invitation to create an account (migration m0012): mailed by an administrator, or printed
/// by `server admin add` for an address without an account.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account_invitations")]
pub struct Model {
    /// The digest of the mailed token (`rules::secrets::login_token_digest`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_digest: String,
    /// The invited address, cleaned (`rules::accounts::clean_email`); one invitation each.
    #[sea_orm(unique)]
    pub email: String,
    /// The nil id for an invitation printed by `server admin add`.
    pub invited_by: Uuid,
    /// Printed by `server admin add`: the account it makes is an administrator.
    pub makes_admin: bool,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
