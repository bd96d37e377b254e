//! Co-facilitators and the mail outbox.
use crate::ids::{FacilitatorId, SessionId, UserId};
use crate::rules::mail::MailKind;
use crate::storage::entities::{facilitators, outbox, users};
use crate::storage::{now_micros, Db, User};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FacilitatorRecord {
    pub id: FacilitatorId,
    pub email: String,
    /// Set once the invitation is accepted.
    pub user: Option<User>,
}

/// A facilitator invitation to create: the address and its token (the mail carries the token,
/// storage keeps its digest).
pub struct NewFacilitator {
    pub email: String,
    pub token: String,
    pub token_digest: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxMail {
    pub id: uuid::Uuid,
    pub kind: Option<MailKind>,
    pub recipient: String,
    pub session_id: SessionId,
    pub sent_by: UserId,
    pub token: Option<String>,
    pub attempts: i32,
    pub next_attempt_at: i64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum AcceptError {
    Invalid,
    Expired,
    WrongAccount,
}

fn outbox_row(kind: MailKind, recipient: &str, session: SessionId, sender: UserId, token: Option<String>, now: i64) -> outbox::ActiveModel {
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
        last_error: Set(None),
    }
}

impl Db {
    /// Participant invitations a user caused since `since` (for the daily limit).
    pub async fn invitations_sent_since(&self, sender: UserId, since: i64) -> Result<u64, DbErr> {
        outbox::Entity::find()
            .filter(outbox::Column::SentBy.eq(sender.0))
            .filter(outbox::Column::Kind.eq(MailKind::ParticipantInvitation.as_str()))
            .filter(outbox::Column::CreatedAt.gte(since))
            .count(&self.conn)
            .await
    }

    /// Queues one invitation mail per recipient, all or none.
    pub async fn queue_participant_invitations(&self, session: SessionId, sender: UserId, recipients: &[String]) -> Result<(), DbErr> {
        let txn = self.conn.begin().await?;
        let now = now_micros();
        for recipient in recipients {
            outbox::Entity::insert(outbox_row(MailKind::ParticipantInvitation, recipient, session, sender, None, now))
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await
    }

    /// Invites co-facilitators and queues their mails in one transaction. Someone already
    /// active is left as is; a pending invitation gets a fresh token and a fresh 14 days.
    /// Returns the addresses that were invited.
    pub async fn invite_facilitators(
        &self,
        session: SessionId,
        sender: UserId,
        invitees: Vec<NewFacilitator>,
        lifetime_micros: i64,
    ) -> Result<Vec<String>, DbErr> {
        let txn = self.conn.begin().await?;
        let now = now_micros();
        let mut invited = Vec::new();
        for invitee in invitees {
            let existing = facilitators::Entity::find()
                .filter(facilitators::Column::SessionId.eq(session.0))
                .filter(facilitators::Column::Email.eq(&invitee.email))
                .one(&txn)
                .await?;
            match existing {
                Some(f) if f.user_id.is_some() => continue,
                Some(f) => {
                    facilitators::Entity::update_many()
                        .col_expr(facilitators::Column::TokenDigest, Some(invitee.token_digest.clone()).into())
                        .col_expr(facilitators::Column::InvitedAt, now.into())
                        .col_expr(facilitators::Column::ExpiresAt, (now + lifetime_micros).into())
                        .filter(facilitators::Column::Id.eq(f.id))
                        .exec(&txn)
                        .await?;
                }
                None => {
                    facilitators::Entity::insert(facilitators::ActiveModel {
                        id: Set(FacilitatorId::new_random().0),
                        session_id: Set(session.0),
                        email: Set(invitee.email.clone()),
                        user_id: Set(None),
                        token_digest: Set(Some(invitee.token_digest.clone())),
                        invited_at: Set(now),
                        expires_at: Set(now + lifetime_micros),
                        accepted_at: Set(None),
                    })
                    .exec_without_returning(&txn)
                    .await?;
                }
            }
            outbox::Entity::insert(outbox_row(MailKind::FacilitatorInvitation, &invitee.email, session, sender, Some(invitee.token), now))
                .exec_without_returning(&txn)
                .await?;
            invited.push(invitee.email);
        }
        txn.commit().await?;
        Ok(invited)
    }

    pub async fn facilitators(&self, session: SessionId) -> Result<Vec<FacilitatorRecord>, DbErr> {
        let rows = facilitators::Entity::find()
            .filter(facilitators::Column::SessionId.eq(session.0))
            .order_by_asc(facilitators::Column::InvitedAt)
            .find_also_related(users::Entity)
            .all(&self.read)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(f, user)| FacilitatorRecord { id: FacilitatorId(f.id), email: f.email, user: user.map(Into::into) })
            .collect())
    }

    /// Removing revokes access at once, and a pending invitation link stops working.
    pub async fn remove_facilitator(&self, session: SessionId, facilitator: FacilitatorId) -> Result<bool, DbErr> {
        let result = facilitators::Entity::delete_many()
            .filter(facilitators::Column::Id.eq(facilitator.0))
            .filter(facilitators::Column::SessionId.eq(session.0))
            .exec(&self.conn)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Accepts an invitation for `user`: only an account with the invited address may, once.
    pub async fn accept_facilitation(&self, token_digest: &str, user: &User) -> Result<Result<SessionId, AcceptError>, DbErr> {
        let txn = self.conn.begin().await?;
        let Some(invitation) = facilitators::Entity::find()
            .filter(facilitators::Column::TokenDigest.eq(token_digest))
            .one(&txn)
            .await?
        else {
            return Ok(Err(AcceptError::Invalid));
        };
        if invitation.expires_at <= now_micros() {
            return Ok(Err(AcceptError::Expired));
        }
        if invitation.email != user.email {
            return Ok(Err(AcceptError::WrongAccount));
        }
        let accepted = facilitators::Entity::update_many()
            .col_expr(facilitators::Column::UserId, Some(user.id.0).into())
            .col_expr(facilitators::Column::AcceptedAt, Some(now_micros()).into())
            .col_expr(facilitators::Column::TokenDigest, Option::<String>::None.into())
            .filter(facilitators::Column::Id.eq(invitation.id))
            .filter(facilitators::Column::TokenDigest.eq(token_digest))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(if accepted.rows_affected == 1 { Ok(SessionId(invitation.session_id)) } else { Err(AcceptError::Invalid) })
    }

    /// Sessions a user co-hosts, for "My sessions" and for rights.
    pub(crate) async fn facilitated_session_ids<C: ConnectionTrait>(conn: &C, user: UserId) -> Result<Vec<uuid::Uuid>, DbErr> {
        facilitators::Entity::find()
            .select_only()
            .column(facilitators::Column::SessionId)
            .filter(facilitators::Column::UserId.eq(user.0))
            .into_tuple::<uuid::Uuid>()
            .all(conn)
            .await
    }

    pub(crate) async fn is_facilitator(&self, session: SessionId, user: UserId) -> Result<bool, DbErr> {
        Ok(facilitators::Entity::find()
            .filter(facilitators::Column::SessionId.eq(session.0))
            .filter(facilitators::Column::UserId.eq(user.0))
            .count(&self.read)
            .await?
            > 0)
    }

    /// Mails due for an attempt, oldest first.
    pub async fn due_mail(&self, limit: u64) -> Result<Vec<OutboxMail>, DbErr> {
        Ok(outbox::Entity::find()
            .filter(outbox::Column::SentAt.is_null())
            .filter(outbox::Column::NextAttemptAt.lte(now_micros()))
            .order_by_asc(outbox::Column::NextAttemptAt)
            .limit(limit)
            .all(&self.conn)
            .await?
            .into_iter()
            .map(|m| OutboxMail {
                id: m.id,
                kind: MailKind::parse(&m.kind),
                recipient: m.recipient,
                session_id: SessionId(m.session_id),
                sent_by: UserId(m.sent_by),
                token: m.token,
                attempts: m.attempts,
                next_attempt_at: m.next_attempt_at,
            })
            .collect())
    }

    /// Takes a mail for one delivery attempt: pushes its next attempt to `retry_at` unless
    /// another worker (another server instance) took it first.
    pub async fn claim_mail(&self, mail: &OutboxMail, retry_at: i64) -> Result<bool, DbErr> {
        let result = outbox::Entity::update_many()
            .col_expr(outbox::Column::NextAttemptAt, retry_at.into())
            .col_expr(outbox::Column::Attempts, (mail.attempts + 1).into())
            .filter(outbox::Column::Id.eq(mail.id))
            .filter(outbox::Column::NextAttemptAt.eq(mail.next_attempt_at))
            .filter(outbox::Column::SentAt.is_null())
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

    pub async fn note_mail_failure(&self, id: uuid::Uuid, error: &str) -> Result<(), DbErr> {
        outbox::Entity::update_many()
            .col_expr(outbox::Column::LastError, Some(error.to_owned()).into())
            .filter(outbox::Column::Id.eq(id))
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    pub async fn unsent_mail_count(&self) -> Result<u64, DbErr> {
        outbox::Entity::find().filter(outbox::Column::SentAt.is_null()).count(&self.conn).await
    }
}
