use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(ColumnDef::new(Users::EmailVerifiedAt).big_integer().null())
                    .to_owned(),
            )
            .await?;
        // Accounts made before addresses were checked keep every right they had: they count as
        // verified since they were created (README, "Accounts").
        manager
            .exec_stmt(
                Query::update()
                    .table(Users::Table)
                    .value(Users::EmailVerifiedAt, Expr::col(Users::CreatedAt))
                    .to_owned(),
            )
            .await?;

        // Single-use links sent by mail (password reset, address verification): only the
        // digest of the token is kept, at most one per account and purpose, so asking again
        // replaces the earlier link.
        manager
            .create_table(
                Table::create()
                    .table(AccountTokens::Table)
                    .col(string(AccountTokens::TokenDigest).primary_key())
                    .col(uuid(AccountTokens::UserId))
                    .col(string(AccountTokens::Purpose))
                    .col(big_integer(AccountTokens::CreatedAt))
                    .col(big_integer(AccountTokens::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("account_tokens_user_fk")
                            .from(AccountTokens::Table, AccountTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("account_tokens_user_purpose")
                    .table(AccountTokens::Table)
                    .col(AccountTokens::UserId)
                    .col(AccountTokens::Purpose)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AccountTokens::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(Users::Table).drop_column(Users::EmailVerifiedAt).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    CreatedAt,
    EmailVerifiedAt,
}

#[derive(DeriveIden)]
enum AccountTokens {
    Table,
    TokenDigest,
    UserId,
    Purpose,
    CreatedAt,
    ExpiresAt,
}
