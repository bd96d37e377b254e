use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // When a host last had the session in hand (µs): sessions close by themselves
        // `AUTO_CLOSE_DAYS` after it (rules::sessions::AutoClose).
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(ColumnDef::new(Sessions::LastHostedAt).big_integer().not_null().default(0))
                    .to_owned(),
            )
            .await?;
        // Sessions made before this change count from their creation: the oldest close at the
        // first housekeeping after the upgrade, as they would have had the rule always existed.
        manager
            .exec_stmt(
                Query::update()
                    .table(Sessions::Table)
                    .value(Sessions::LastHostedAt, Expr::col(Sessions::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // The housekeeping's search: open sessions by when they were last hosted.
        manager
            .create_index(
                Index::create()
                    .name("sessions_open_last_hosted")
                    .table(Sessions::Table)
                    .col(Sessions::IsOpen)
                    .col(Sessions::LastHostedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("sessions_open_last_hosted").table(Sessions::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(Sessions::Table).drop_column(Sessions::LastHostedAt).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    IsOpen,
    CreatedAt,
    LastHostedAt,
}
