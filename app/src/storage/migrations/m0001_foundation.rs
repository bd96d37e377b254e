use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(uuid(Users::Id).primary_key())
                    .col(string(Users::Email))
                    .col(string(Users::DisplayName))
                    .col(string(Users::PasswordHash))
                    .col(big_integer(Users::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("users_email_unique").table(Users::Table).col(Users::Email).unique().to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LoginSessions::Table)
                    .col(string(LoginSessions::TokenDigest).primary_key())
                    .col(uuid(LoginSessions::UserId))
                    .col(big_integer(LoginSessions::CreatedAt))
                    .col(big_integer(LoginSessions::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("login_sessions_user_fk")
                            .from(LoginSessions::Table, LoginSessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("login_sessions_user")
                    .table(LoginSessions::Table)
                    .col(LoginSessions::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(uuid(Sessions::Id).primary_key())
                    .col(uuid(Sessions::OwnerId))
                    .col(string(Sessions::Title))
                    .col(boolean(Sessions::IsOpen))
                    .col(string(Sessions::Code))
                    .col(string(Sessions::LinkToken))
                    .col(big_integer(Sessions::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("sessions_owner_fk")
                            .from(Sessions::Table, Sessions::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The code and the link token are each a way into one session: the database, not the
        // application, guarantees they are never shared.
        for (name, column) in
            [("sessions_code_unique", Sessions::Code), ("sessions_link_token_unique", Sessions::LinkToken)]
        {
            manager
                .create_index(Index::create().name(name).table(Sessions::Table).col(column).unique().to_owned())
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("sessions_owner_created")
                    .table(Sessions::Table)
                    .col(Sessions::OwnerId)
                    .col(Sessions::CreatedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [Sessions::Table.into_iden(), LoginSessions::Table.into_iden(), Users::Table.into_iden()] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    DisplayName,
    PasswordHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LoginSessions {
    Table,
    TokenDigest,
    UserId,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    OwnerId,
    Title,
    IsOpen,
    Code,
    LinkToken,
    CreatedAt,
}
