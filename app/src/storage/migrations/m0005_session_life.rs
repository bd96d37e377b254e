use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The codes and links of deleted sessions (current and retired), kept
        // `DELETED_WAYS_IN_KEPT_DAYS` so they answer "This session no longer exists." and are
        // not drawn again meanwhile. No foreign key: the session row is gone.
        manager
            .create_table(
                Table::create()
                    .table(DeletedWaysIn::Table)
                    .col(pk_auto(DeletedWaysIn::Id))
                    .col(uuid(DeletedWaysIn::SessionId))
                    .col(string(DeletedWaysIn::Kind))
                    .col(string(DeletedWaysIn::Value))
                    .col(big_integer(DeletedWaysIn::DeletedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("deleted_ways_in_value")
                    .table(DeletedWaysIn::Table)
                    .col(DeletedWaysIn::Kind)
                    .col(DeletedWaysIn::Value)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("deleted_ways_in_session")
                    .table(DeletedWaysIn::Table)
                    .col(DeletedWaysIn::SessionId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(DeletedWaysIn::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum DeletedWaysIn {
    Table,
    Id,
    SessionId,
    Kind,
    Value,
    DeletedAt,
}
