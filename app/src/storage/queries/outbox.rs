//! The mail outbox: every mail is written here in the same transaction as the action that
//! causes it, and the mail worker sends it (`server/src/mail.rs`).
use crate::ids::{SessionId, UserId};
use crate::rules::mail::MailKind;
use crate::storage::entities::outbox;
use crate::storage::{now_micros, Db};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxMail {
    pub id: uuid::Uuid,
    pub kind: Option<MailKind>,
    pub recipient: String,
    pub session_id: SessionId,
    pub sent_by: UserId,
    pub token: Option<String>,
    pub created_at: i64,
    pub attempts: i32,
    pub next_attempt_at: i64,
    pub sent_at: Option<i64>,
    /// Set when the worker stops trying: refused for good by SMTP, too old, or nothing left to
    /// invite to. Such a mail is never sent.
    pub gave_up_at: Option<i64>,
    pub last_error: Option<String>,
}

impl From<outbox::Model> for OutboxMail {
    fn from(m: outbox::Model) -> Self {
        Self {
            id: m.id,
            kind: MailKind::parse(&m.kind),
            recipient: m.recipient,
            session_id: SessionId(m.session_id),
            sent_by: UserId(m.sent_by),
            token: m.token,
            created_at: m.created_at,
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at,
            sent_at: m.sent_at,
            gave_up_at: m.gave_up_at,
            last_error: m.last_error,
        }
    }
}

pub(super) fn outbox_row(
    kind: MailKind,
    recipient: &str,
    session: SessionId,
    sender: UserId,
    token: Option<String>,
    now: i64,
) -> outbox::ActiveModel {
    outbox::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        kind: Set(kind.as_str().to_owned()),
        recipient: Set(recipient.to_owned()),
        session_id: Set(session.0),
        sent_by: Set(sender.0),
        token: Set(token),
        created_at: Set(now),
        attempts: Set(0),
        next_attempt_at: Set(now),
        sent_at: Set(None),
        gave_up_at: Set(None),
        last_error: Set(None),
    }
}

impl Db {
    /// Mails due for an attempt, oldest first.
    /// Mails waiting (neither sent nor given up), and when the oldest of them was written.
    pub async fn outbox_backlog(&self) -> Result<(u64, Option<i64>), DbErr> {
        use sea_orm::sea_query::Expr;
        let (waiting, oldest): (i64, Option<i64>) = outbox::Entity::find()
            .select_only()
            .column_as(Expr::col(outbox::Column::Id).count(), "waiting")
            .column_as(Expr::col(outbox::Column::CreatedAt).min(), "oldest")
            .filter(outbox::Column::SentAt.is_null())
            .filter(outbox::Column::GaveUpAt.is_null())
            .into_tuple()
            .one(&self.read)
            .await?
            .unwrap_or((0, None));
        Ok((waiting.max(0) as u64, oldest))
    }

    pub async fn due_mail(&self, limit: u64) -> Result<Vec<OutboxMail>, DbErr> {
        Ok(outbox::Entity::find()
            .filter(outbox::Column::SentAt.is_null())
            .filter(outbox::Column::GaveUpAt.is_null())
            .filter(outbox::Column::NextAttemptAt.lte(now_micros()))
            .order_by_asc(outbox::Column::NextAttemptAt)
            .limit(limit)
            .all(&self.conn)
            .await?
            .into_iter()
            .map(OutboxMail::from)
            .collect())
    }

    /// Takes a mail for one delivery attempt: pushes its next attempt to `until` (the end of
    /// the claim: no other worker, in this or another server instance, takes it before) unless
    /// another worker took it first.
    pub async fn claim_mail(&self, mail: &OutboxMail, until: i64) -> Result<bool, DbErr> {
        let result = outbox::Entity::update_many()
            .col_expr(outbox::Column::NextAttemptAt, until.into())
            .col_expr(outbox::Column::Attempts, (mail.attempts + 1).into())
            .filter(outbox::Column::Id.eq(mail.id))
            .filter(outbox::Column::NextAttemptAt.eq(mail.next_attempt_at))
            .filter(outbox::Column::SentAt.is_null())
            .filter(outbox::Column::GaveUpAt.is_null())
            .exec(&self.conn)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// The mail went out: it is never sent again, and its token is no longer kept.
    pub async fn mark_mail_sent(&self, id: uuid::Uuid) -> Result<(), DbErr> {
        outbox::Entity::update_many()
            .col_expr(outbox::Column::SentAt, Some(now_micros()).into())
            .col_expr(outbox::Column::Token, Option::<String>::None.into())
            .col_expr(outbox::Column::LastError, Option::<String>::None.into())
            .filter(outbox::Column::Id.eq(id))
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    /// A failed attempt that may succeed later: the next one is at `retry_at`.
    pub async fn note_mail_failure(&self, id: uuid::Uuid, error: &str, retry_at: i64) -> Result<(), DbErr> {
        outbox::Entity::update_many()
            .col_expr(outbox::Column::LastError, Some(error.to_owned()).into())
            .col_expr(outbox::Column::NextAttemptAt, retry_at.into())
            .filter(outbox::Column::Id.eq(id))
            .filter(outbox::Column::SentAt.is_null())
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    /// The mail is never sent: `reason` says why. Its token is no longer kept.
    pub async fn give_up_mail(&self, id: uuid::Uuid, reason: &str) -> Result<(), DbErr> {
        outbox::Entity::update_many()
            .col_expr(outbox::Column::GaveUpAt, Some(now_micros()).into())
            .col_expr(outbox::Column::Token, Option::<String>::None.into())
            .col_expr(outbox::Column::LastError, Some(reason.to_owned()).into())
            .filter(outbox::Column::Id.eq(id))
            .filter(outbox::Column::SentAt.is_null())
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    /// Mail still waiting to go out (neither sent nor given up).
    pub async fn unsent_mail_count(&self) -> Result<u64, DbErr> {
        outbox::Entity::find()
            .filter(outbox::Column::SentAt.is_null())
            .filter(outbox::Column::GaveUpAt.is_null())
            .count(&self.conn)
            .await
    }

    /// Every mail to one address, oldest first: what tests and an operator look at.
    pub async fn mail_to(&self, recipient: &str) -> Result<Vec<OutboxMail>, DbErr> {
        Ok(outbox::Entity::find()
            .filter(outbox::Column::Recipient.eq(recipient))
            .order_by_asc(outbox::Column::CreatedAt)
            .all(&self.conn)
            .await?
            .into_iter()
            .map(OutboxMail::from)
            .collect())
    }

    /// Tests only: makes the mail to `recipient` look written `micros` earlier, since the
    /// worker's time limits are days long.
    #[doc(hidden)]
    pub async fn backdate_mail_for_tests(&self, recipient: &str, micros: i64) -> Result<(), DbErr> {
        for mail in self.mail_to(recipient).await? {
            outbox::Entity::update_many()
                .col_expr(outbox::Column::CreatedAt, (mail.created_at - micros).into())
                .filter(outbox::Column::Id.eq(mail.id))
                .exec(&self.conn)
                .await?;
        }
        Ok(())
    }
}
