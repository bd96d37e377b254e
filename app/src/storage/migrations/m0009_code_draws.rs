use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The session codes an account drew (a new session, a copy, "Generate a new code"), to
        // hold it to `CODE_DRAWS_PER_ACCOUNT_PER_DAY`: codes are a shared space of a million.
        // Rows older than a day are removed by the hourly housekeeping.
        manager
            .create_table(
                Table::create()
                    .table(CodeDraws::Table)
                    .col(pk_auto(CodeDraws::Id))
                    .col(uuid(CodeDraws::UserId))
                    .col(big_integer(CodeDraws::DrawnAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("code_draws_user_fk")
                            .from(CodeDraws::Table, CodeDraws::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("code_draws_user_drawn")
                    .table(CodeDraws::Table)
                    .col(CodeDraws::UserId)
                    .col(CodeDraws::DrawnAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("code_draws_drawn").table(CodeDraws::Table).col(CodeDraws::DrawnAt).to_owned(),
            )
            .await?;
        // Recycling the oldest reservation looks deleted codes up by age.
        manager
            .create_index(
                Index::create()
                    .name("deleted_ways_in_kind_deleted")
                    .table(DeletedWaysIn::Table)
                    .col(DeletedWaysIn::Kind)
                    .col(DeletedWaysIn::DeletedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("deleted_ways_in_kind_deleted").table(DeletedWaysIn::Table).to_owned())
            .await?;
        manager.drop_table(Table::drop().table(CodeDraws::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum CodeDraws {
    Table,
    Id,
    UserId,
    DrawnAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum DeletedWaysIn {
    Table,
    Kind,
    DeletedAt,
}
