use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A mail the worker stopped trying (refused for good by SMTP, undelivered for too long,
        // or nothing left to invite to) is kept, with the reason in `last_error`, but never sent.
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .add_column(ColumnDef::new(Outbox::GaveUpAt).big_integer().null())
                    .to_owned(),
            )
            .await?;
        // The worker's query skips given-up mail through the index rather than scanning it.
        manager.drop_index(Index::drop().name("outbox_due").table(Outbox::Table).to_owned()).await?;
        manager
            .create_index(
                Index::create()
                    .name("outbox_due")
                    .table(Outbox::Table)
                    .col(Outbox::SentAt)
                    .col(Outbox::GaveUpAt)
                    .col(Outbox::NextAttemptAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("outbox_due").table(Outbox::Table).to_owned()).await?;
        manager
            .create_index(
                Index::create()
                    .name("outbox_due")
                    .table(Outbox::Table)
                    .col(Outbox::SentAt)
                    .col(Outbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager.alter_table(Table::alter().table(Outbox::Table).drop_column(Outbox::GaveUpAt).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    GaveUpAt,
    SentAt,
    NextAttemptAt,
}
