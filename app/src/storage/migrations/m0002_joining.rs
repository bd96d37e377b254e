use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Codes and link tokens a session had before "Generate a new code": they answer "no
        // longer valid" rather than "unknown". A code may later be drawn again for another
        // session, so these are not unique; the current holder always wins.
        manager
            .create_table(
                Table::create()
                    .table(RetiredWaysIn::Table)
                    .col(pk_auto(RetiredWaysIn::Id))
                    .col(uuid(RetiredWaysIn::SessionId))
                    .col(string(RetiredWaysIn::Kind))
                    .col(string(RetiredWaysIn::Value))
                    .col(big_integer(RetiredWaysIn::RetiredAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("retired_ways_in_session_fk")
                            .from(RetiredWaysIn::Table, RetiredWaysIn::SessionId)
                            .to(Sessions::Table, Sessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("retired_ways_in_value")
                    .table(RetiredWaysIn::Table)
                    .col(RetiredWaysIn::Kind)
                    .col(RetiredWaysIn::Value)
                    .to_owned(),
            )
            .await?;

        // A browser that joined a session. It is known by its visitor cookie, not by the code or
        // link it came in with, so it stays inside when those change.
        manager
            .create_table(
                Table::create()
                    .table(Participants::Table)
                    .col(uuid(Participants::Id).primary_key())
                    .col(uuid(Participants::SessionId))
                    .col(string(Participants::VisitorDigest))
                    .col(string_null(Participants::Nickname))
                    .col(big_integer(Participants::JoinedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("participants_session_fk")
                            .from(Participants::Table, Participants::SessionId)
                            .to(Sessions::Table, Sessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("participants_session_visitor_unique")
                    .table(Participants::Table)
                    .col(Participants::SessionId)
                    .col(Participants::VisitorDigest)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Slides::Table)
                    .col(uuid(Slides::Id).primary_key())
                    .col(uuid(Slides::SessionId))
                    .col(integer(Slides::Position))
                    .col(string(Slides::Kind))
                    .col(string(Slides::Title))
                    .col(text(Slides::Body))
                    .col(big_integer(Slides::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("slides_session_fk")
                            .from(Slides::Table, Slides::SessionId)
                            .to(Sessions::Table, Sessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("slides_session_position")
                    .table(Slides::Table)
                    .col(Slides::SessionId)
                    .col(Slides::Position)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(Sessions::Table).add_column(uuid_null(Sessions::ActiveSlideId)).to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(Sessions::Table).drop_column(Sessions::ActiveSlideId).to_owned())
            .await?;
        for table in [Slides::Table.into_iden(), Participants::Table.into_iden(), RetiredWaysIn::Table.into_iden()] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    ActiveSlideId,
}

#[derive(DeriveIden)]
enum RetiredWaysIn {
    Table,
    Id,
    SessionId,
    Kind,
    Value,
    RetiredAt,
}

#[derive(DeriveIden)]
enum Participants {
    Table,
    Id,
    SessionId,
    VisitorDigest,
    Nickname,
    JoinedAt,
}

#[derive(DeriveIden)]
enum Slides {
    Table,
    Id,
    SessionId,
    Position,
    Kind,
    Title,
    Body,
    CreatedAt,
}
