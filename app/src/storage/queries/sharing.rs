//! Co-facilitators and the mail outbox.
use crate::ids::{FacilitatorId, SessionId, UserId};
use crate::rules::accounts::{may, AccountAction};
use crate::rules::mail::MailKind;
use crate::rules::sharing::{check_facilitator_send, check_send, FacilitatorSend, SharingError, DAY_MICROS};
use crate::storage::entities::{facilitators, outbox, users};
use crate::storage::{now_micros, Db, User};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use std::collections::HashMap;

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

/// What "+Add" did: the addresses mailed an invitation, and those whose pending invitation went
/// out less than a day ago (not mailed again).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FacilitatorInvitations {
    pub mailed: Vec<String>,
    pub already_invited: Vec<String>,
}

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

#[derive(Debug, PartialEq, Eq)]
pub enum AcceptError {
    Invalid,
    Expired,
    WrongAccount,
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

/// Mails of `kind` a user caused since `since`, for the daily limits.
async fn mailed_since(txn: &DatabaseTransaction, sender: UserId, kind: MailKind, since: i64) -> Result<u64, DbErr> {
    outbox::Entity::find()
        .filter(outbox::Column::SentBy.eq(sender.0))
        .filter(outbox::Column::Kind.eq(kind.as_str()))
        .filter(outbox::Column::CreatedAt.gte(since))
        .count(txn)
        .await
}

impl Db {
    /// Queues one invitation mail per recipient, all or none, within the sender's daily limit
    /// (`rules::sharing::check_send`). The count and the inserts are one transaction that
    /// parallel sends by the same account wait for, so together they cannot pass the limit.
    pub async fn queue_participant_invitations(
        &self,
        session: SessionId,
        sender: UserId,
        recipients: &[String],
    ) -> Result<Result<(), SharingError>, DbErr> {
        let txn = self.conn.begin().await?;
        Db::lock_user(&txn, sender).await?;
        let now = now_micros();
        let sent_today = mailed_since(&txn, sender, MailKind::ParticipantInvitation, now - DAY_MICROS).await?;
        if let Err(refused) = check_send(recipients.len(), sent_today) {
            txn.rollback().await?;
            return Ok(Err(refused));
        }
        for recipient in recipients {
            outbox::Entity::insert(outbox_row(MailKind::ParticipantInvitation, recipient, session, sender, None, now))
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(Ok(()))
    }

    /// Invites co-facilitators and queues their mails in one transaction, within the limits per
    /// session and per day (`rules::sharing::check_facilitator_send`), all or none. Someone
    /// already active is left as is; a pending invitation mailed less than a day ago is left as
    /// is too (no new mail, no new token); an older or expired one gets a fresh token and a
    /// fresh lifetime. The sender's row is locked, like for participant invitations.
    pub async fn invite_facilitators(
        &self,
        session: SessionId,
        sender: UserId,
        invitees: Vec<NewFacilitator>,
        lifetime_micros: i64,
    ) -> Result<Result<FacilitatorInvitations, SharingError>, DbErr> {
        let txn = self.conn.begin().await?;
        Db::lock_user(&txn, sender).await?;
        let now = now_micros();
        let existing: HashMap<String, facilitators::Model> = facilitators::Entity::find()
            .filter(facilitators::Column::SessionId.eq(session.0))
            .all(&txn)
            .await?
            .into_iter()
            .map(|f| (f.email.clone(), f))
            .collect();
        let mut result = FacilitatorInvitations::default();
        let mut to_mail = Vec::new();
        for invitee in invitees {
            match existing.get(&invitee.email) {
                Some(f) if f.user_id.is_some() => {}
                Some(f) if f.expires_at > now && f.invited_at > now - DAY_MICROS => {
                    result.already_invited.push(invitee.email)
                }
                Some(f) => to_mail.push((Some(f.id), invitee)),
                None => to_mail.push((None, invitee)),
            }
        }
        let send = FacilitatorSend {
            in_session: existing.len() as u64,
            new: to_mail.iter().filter(|(id, _)| id.is_none()).count() as u64,
            mails: to_mail.len() as u64,
            mailed_today: mailed_since(&txn, sender, MailKind::FacilitatorInvitation, now - DAY_MICROS).await?,
        };
        if let Err(refused) = check_facilitator_send(send) {
            txn.rollback().await?;
            return Ok(Err(refused));
        }
        for (existing, invitee) in to_mail {
            match existing {
                Some(id) => {
                    facilitators::Entity::update_many()
                        .col_expr(facilitators::Column::TokenDigest, Some(invitee.token_digest.clone()).into())
                        .col_expr(facilitators::Column::InvitedAt, now.into())
                        .col_expr(facilitators::Column::ExpiresAt, (now + lifetime_micros).into())
                        .filter(facilitators::Column::Id.eq(id))
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
            outbox::Entity::insert(outbox_row(
                MailKind::FacilitatorInvitation,
                &invitee.email,
                session,
                sender,
                Some(invitee.token),
                now,
            ))
            .exec_without_returning(&txn)
            .await?;
            result.mailed.push(invitee.email);
        }
        txn.commit().await?;
        Ok(Ok(result))
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
    /// An unverified account may not take what was meant for an address (`may`), but this link
    /// was mailed to that very address: having it proves the mailbox, so the address is verified
    /// in the same transaction as the invitation is accepted.
    pub async fn accept_facilitation(
        &self,
        token_digest: &str,
        user: &User,
    ) -> Result<Result<SessionId, AcceptError>, DbErr> {
        let txn = self.conn.begin().await?;
        let Some(invitation) =
            facilitators::Entity::find().filter(facilitators::Column::TokenDigest.eq(token_digest)).one(&txn).await?
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
        if accepted.rows_affected != 1 {
            txn.commit().await?;
            return Ok(Err(AcceptError::Invalid));
        }
        if !may(AccountAction::AcceptCoFacilitation, user.email_verified) {
            super::accounts::verify(&txn, user.id).await?;
        }
        txn.commit().await?;
        Ok(Ok(SessionId(invitation.session_id)))
    }

    /// Sessions a user co-hosts, for "My sessions" and for rights.
    pub(crate) async fn facilitated_session_ids<C: ConnectionTrait>(
        conn: &C,
        user: UserId,
    ) -> Result<Vec<uuid::Uuid>, DbErr> {
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

    /// Whether a co-facilitator invitation mail still has someone to go to: its token is the
    /// pending invitation's. Removing the facilitator, or inviting them again, ends that.
    pub async fn facilitation_pending(&self, session: SessionId, token_digest: &str) -> Result<bool, DbErr> {
        Ok(facilitators::Entity::find()
            .filter(facilitators::Column::SessionId.eq(session.0))
            .filter(facilitators::Column::TokenDigest.eq(token_digest))
            .filter(facilitators::Column::UserId.is_null())
            .count(&self.read)
            .await?
            > 0)
    }

    /// Mails due for an attempt, oldest first.
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
