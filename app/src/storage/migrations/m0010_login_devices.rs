use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Browsers an account logged in from (the digests of their device cookies): a log-in from
        // one of them is held to its own budget of failures (`rules::limits::LOGIN_FAILURES_PER_DEVICE`).
        // Each account keeps its newest `MAX_DEVICES_PER_ACCOUNT`.
        manager
            .create_table(
                Table::create()
                    .table(LoginDevices::Table)
                    .col(string(LoginDevices::TokenDigest).primary_key())
                    .col(uuid(LoginDevices::UserId))
                    .col(big_integer(LoginDevices::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("login_devices_user_fk")
                            .from(LoginDevices::Table, LoginDevices::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("login_devices_user_created")
                    .table(LoginDevices::Table)
                    .col(LoginDevices::UserId)
                    .col(LoginDevices::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(LoginDevices::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum LoginDevices {
    Table,
    TokenDigest,
    UserId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
