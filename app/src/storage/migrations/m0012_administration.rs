use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one column at a time.
        for column in [
            ColumnDef::new(Users::IsAdmin).boolean().not_null().default(false).to_owned(),
            ColumnDef::new(Users::DisabledAt).big_integer().null().to_owned(),
            ColumnDef::new(Users::LastLoginAt).big_integer().null().to_owned(),
        ] {
            manager.alter_table(Table::alter().table(Users::Table).add_column(column).to_owned()).await?;
        }
        // The first account of an instance is its administrator (README, "Administration"):
        // on an instance that has accounts already, the oldest.
        manager
            .exec_stmt(
                Query::update()
                    .table(Users::Table)
                    .value(Users::IsAdmin, true)
                    .and_where(
                        Expr::col(Users::Id).in_subquery(
                            Query::select()
                                .column(Users::Id)
                                .from(Users::Table)
                                .order_by(Users::CreatedAt, Order::Asc)
                                .order_by(Users::Id, Order::Asc)
                                .limit(1)
                                .to_owned(),
                        ),
                    )
                    .to_owned(),
            )
            .await?;

        // Invitations to create an account (`SIGNUP=invite`), mailed by an administrator or
        // printed by `server admin add` (those make an administrator; `invited_by` is then the nil
        // id): only the digest of the token is kept, one per address (inviting again replaces it).
        manager
            .create_table(
                Table::create()
                    .table(AccountInvitations::Table)
                    .col(string(AccountInvitations::TokenDigest).primary_key())
                    .col(string(AccountInvitations::Email).unique_key())
                    .col(uuid(AccountInvitations::InvitedBy))
                    .col(boolean(AccountInvitations::MakesAdmin))
                    .col(big_integer(AccountInvitations::CreatedAt))
                    .col(big_integer(AccountInvitations::ExpiresAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AccountInvitations::Table).to_owned()).await?;
        for column in [Users::IsAdmin, Users::DisabledAt, Users::LastLoginAt] {
            manager.alter_table(Table::alter().table(Users::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    CreatedAt,
    IsAdmin,
    DisabledAt,
    LastLoginAt,
}

#[derive(DeriveIden)]
enum AccountInvitations {
    Table,
    TokenDigest,
    Email,
    InvitedBy,
    MakesAdmin,
    CreatedAt,
    ExpiresAt,
}
