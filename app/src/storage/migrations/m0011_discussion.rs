use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // How a session's Discussion runs (`rules::discussion::DiscussionSettings`); no row means
        // the defaults: open, published at once, under nicknames.
        manager
            .create_table(
                Table::create()
                    .table(DiscussionSettings::Table)
                    .col(uuid(DiscussionSettings::SessionId).primary_key())
                    .col(boolean(DiscussionSettings::Open))
                    .col(boolean(DiscussionSettings::ReviewFirst))
                    .col(boolean(DiscussionSettings::Anonymous))
                    .col(string(DiscussionSettings::OnScreen))
                    .foreign_key(
                        ForeignKey::create()
                            .name("discussion_settings_session_fk")
                            .from(DiscussionSettings::Table, DiscussionSettings::SessionId)
                            .to(Sessions::Table, Sessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        // A participant's message. `likes` is only ever changed by `likes = likes ± 1` in the
        // statement that adds or removes the like's row, so concurrent likes are never lost.
        manager
            .create_table(
                Table::create()
                    .table(DiscussionMessages::Table)
                    .col(uuid(DiscussionMessages::Id).primary_key())
                    .col(uuid(DiscussionMessages::SessionId))
                    .col(uuid(DiscussionMessages::ParticipantId))
                    .col(string_null(DiscussionMessages::AuthorName))
                    .col(text(DiscussionMessages::Body))
                    .col(string(DiscussionMessages::State))
                    .col(boolean(DiscussionMessages::Pinned))
                    .col(boolean(DiscussionMessages::Answered))
                    .col(integer(DiscussionMessages::Likes))
                    .col(big_integer(DiscussionMessages::CreatedAt))
                    .col(big_integer_null(DiscussionMessages::EditedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("discussion_messages_session_fk")
                            .from(DiscussionMessages::Table, DiscussionMessages::SessionId)
                            .to(Sessions::Table, Sessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("discussion_messages_participant_fk")
                            .from(DiscussionMessages::Table, DiscussionMessages::ParticipantId)
                            .to(Participants::Table, Participants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("discussion_messages_session_created")
                    .table(DiscussionMessages::Table)
                    .col(DiscussionMessages::SessionId)
                    .col(DiscussionMessages::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("discussion_messages_participant")
                    .table(DiscussionMessages::Table)
                    .col(DiscussionMessages::ParticipantId)
                    .to_owned(),
            )
            .await?;

        // One like per participant and message: the primary key refuses a second one.
        manager
            .create_table(
                Table::create()
                    .table(DiscussionLikes::Table)
                    .col(uuid(DiscussionLikes::MessageId))
                    .col(uuid(DiscussionLikes::ParticipantId))
                    .primary_key(Index::create().col(DiscussionLikes::MessageId).col(DiscussionLikes::ParticipantId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("discussion_likes_message_fk")
                            .from(DiscussionLikes::Table, DiscussionLikes::MessageId)
                            .to(DiscussionMessages::Table, DiscussionMessages::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        // Browsers banned from a session's Discussion (by their visitor cookie's digest): they
        // can neither post nor follow the session again.
        manager
            .create_table(
                Table::create()
                    .table(DiscussionBans::Table)
                    .col(uuid(DiscussionBans::SessionId))
                    .col(string(DiscussionBans::VisitorDigest))
                    .col(big_integer(DiscussionBans::BannedAt))
                    .primary_key(Index::create().col(DiscussionBans::SessionId).col(DiscussionBans::VisitorDigest))
                    .foreign_key(
                        ForeignKey::create()
                            .name("discussion_bans_session_fk")
                            .from(DiscussionBans::Table, DiscussionBans::SessionId)
                            .to(Sessions::Table, Sessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            DiscussionBans::Table.into_iden(),
            DiscussionLikes::Table.into_iden(),
            DiscussionMessages::Table.into_iden(),
            DiscussionSettings::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum DiscussionSettings {
    Table,
    SessionId,
    Open,
    ReviewFirst,
    Anonymous,
    OnScreen,
}

#[derive(DeriveIden)]
enum DiscussionMessages {
    Table,
    Id,
    SessionId,
    ParticipantId,
    AuthorName,
    Body,
    State,
    Pinned,
    Answered,
    Likes,
    CreatedAt,
    EditedAt,
}

#[derive(DeriveIden)]
enum DiscussionLikes {
    Table,
    MessageId,
    ParticipantId,
}

#[derive(DeriveIden)]
enum DiscussionBans {
    Table,
    SessionId,
    VisitorDigest,
    BannedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Participants {
    Table,
    Id,
}
