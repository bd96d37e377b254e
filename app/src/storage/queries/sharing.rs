//! Co-facilitators, and the invitation mails they and participants are sent (through the
//! outbox, `outbox.rs`).
use super::outbox::outbox_row;
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

#[derive(Debug, PartialEq, Eq)]
pub enum AcceptError {
    Invalid,
    Expired,
    WrongAccount,
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
}
