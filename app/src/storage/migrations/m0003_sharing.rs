use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Co-facilitators: invited by e-mail (Invited), then bound to the account that accepted
        // with that address (Active). The token is single-use: cleared on acceptance.
        manager
            .create_table(
                Table::create()
                    .table(Facilitators::Table)
                    .col(uuid(Facilitators::Id).primary_key())
                    .col(uuid(Facilitators::SessionId))
                    .col(string(Facilitators::Email))
                    .col(uuid_null(Facilitators::UserId))
                    .col(string_null(Facilitators::TokenDigest))
                    .col(big_integer(Facilitators::InvitedAt))
                    .col(big_integer(Facilitators::ExpiresAt))
                    .col(big_integer_null(Facilitators::AcceptedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("facilitators_session_fk")
                            .from(Facilitators::Table, Facilitators::SessionId)
                            .to(Sessions::Table, Sessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns, unique) in [
            ("facilitators_session_email_unique", vec![Facilitators::SessionId, Facilitators::Email], true),
            ("facilitators_user", vec![Facilitators::UserId], false),
            ("facilitators_token", vec![Facilitators::TokenDigest], false),
        ] {
            let mut index = Index::create().name(name).table(Facilitators::Table).to_owned();
            for column in columns {
                index.col(column);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index).await?;
        }

        // Mail waiting to go out, written in the same transaction as the action that causes it.
        // Bodies are rendered when sent, so a mail still waiting after "Generate a new code"
        // carries the new link.
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(uuid(Outbox::Id).primary_key())
                    .col(string(Outbox::Kind))
                    .col(string(Outbox::Recipient))
                    .col(uuid(Outbox::SessionId))
                    .col(uuid(Outbox::SentBy))
                    .col(string_null(Outbox::Token))
                    .col(big_integer(Outbox::CreatedAt))
                    .col(integer(Outbox::Attempts))
                    .col(big_integer(Outbox::NextAttemptAt))
                    .col(big_integer_null(Outbox::SentAt))
                    .col(text_null(Outbox::LastError))
                    .to_owned(),
            )
            .await?;
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
        manager
            .create_index(
                Index::create()
                    .name("outbox_sender_day")
                    .table(Outbox::Table)
                    .col(Outbox::SentBy)
                    .col(Outbox::CreatedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [Outbox::Table.into_iden(), Facilitators::Table.into_iden()] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Facilitators {
    Table,
    Id,
    SessionId,
    Email,
    UserId,
    TokenDigest,
    InvitedAt,
    ExpiresAt,
    AcceptedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    Kind,
    Recipient,
    SessionId,
    SentBy,
    Token,
    CreatedAt,
    Attempts,
    NextAttemptAt,
    SentAt,
    LastError,
}
