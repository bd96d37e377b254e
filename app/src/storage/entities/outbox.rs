use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `rules::mail::MailKind::as_str`.
    pub kind: String,
    pub recipient: String,
    /// The nil id for account mails (password reset, address verification), which belong to no
    /// session: SQLite cannot make the column nullable without rebuilding the table.
    pub session_id: Uuid,
    pub sent_by: Uuid,
    /// A facilitator invitation's token, until the mail is sent.
    pub token: Option<String>,
    pub created_at: i64,
    pub attempts: i32,
    pub next_attempt_at: i64,
    pub sent_at: Option<i64>,
    /// Set when the worker stopped trying (migration m0004): never sent.
    pub gave_up_at: Option<i64>,
    pub last_error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
