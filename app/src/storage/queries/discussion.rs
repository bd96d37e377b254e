//! The Discussion: a session's settings, messages, likes and bans. Counts change only by
//! `likes = likes ± 1` in the transaction that adds or removes the like's row, so no like is lost
//! to another written at the same moment.
use crate::ids::{MessageId, ParticipantId, SessionId};
use crate::rules::discussion::{DiscussionSettings, MessageState, Moderation, OnScreen, MAX_MESSAGES_PER_SESSION};
use crate::states::MessageView;
use crate::storage::entities::{
    discussion_bans, discussion_likes, discussion_messages, discussion_settings, participants, sessions,
};
use crate::storage::{now_micros, Db};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};

/// A message as stored, with who wrote it (which no tab is ever sent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageRecord {
    pub view: MessageView,
    pub session_id: SessionId,
    pub participant_id: ParticipantId,
}

impl From<discussion_messages::Model> for MessageRecord {
    fn from(m: discussion_messages::Model) -> Self {
        Self {
            view: MessageView {
                id: MessageId(m.id),
                author: m.author_name,
                body: m.body,
                state: MessageState::parse(&m.state).unwrap_or(MessageState::Hidden),
                pinned: m.pinned,
                answered: m.answered,
                likes: m.likes.max(0) as u32,
                posted_at: m.created_at,
                edited: m.edited_at.is_some(),
            },
            session_id: SessionId(m.session_id),
            participant_id: ParticipantId(m.participant_id),
        }
    }
}

/// Which messages a list holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// What participants read: published messages.
    Published,
    /// What hosts read: every message.
    All,
}

/// Where a page of messages starts: after the message posted at `posted_at` with this id, going
/// back in time (the id breaks ties between messages of the same microsecond).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub posted_at: i64,
    pub id: MessageId,
}

/// Why a message was not posted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostRefused {
    /// `MAX_MESSAGES_PER_SESSION` reached.
    Full,
    /// The session is gone.
    NoSuchSession,
}

impl Db {
    pub async fn discussion_settings(&self, session: SessionId) -> Result<DiscussionSettings, DbErr> {
        Ok(discussion_settings::Entity::find_by_id(session.0)
            .one(&self.read)
            .await?
            .map(|m| DiscussionSettings {
                open: m.open,
                review_first: m.review_first,
                anonymous: m.anonymous,
                on_screen: OnScreen::parse(&m.on_screen),
            })
            .unwrap_or_default())
    }

    pub async fn set_discussion_settings(&self, session: SessionId, settings: DiscussionSettings) -> Result<(), DbErr> {
        let row = discussion_settings::ActiveModel {
            session_id: Set(session.0),
            open: Set(settings.open),
            review_first: Set(settings.review_first),
            anonymous: Set(settings.anonymous),
            on_screen: Set(settings.on_screen.as_str().to_owned()),
        };
        let on_conflict = OnConflict::column(discussion_settings::Column::SessionId)
            .update_columns([
                discussion_settings::Column::Open,
                discussion_settings::Column::ReviewFirst,
                discussion_settings::Column::Anonymous,
                discussion_settings::Column::OnScreen,
            ])
            .to_owned();
        discussion_settings::Entity::insert(row).on_conflict(on_conflict).exec_without_returning(&self.conn).await?;
        Ok(())
    }

    /// Posts a message, unless the session holds `MAX_MESSAGES_PER_SESSION` already (counted with
    /// the session's row locked on PostgreSQL, on the one writer of SQLite, so that parallel posts
    /// cannot pass the cap together).
    pub async fn post_message(
        &self,
        session: SessionId,
        participant: ParticipantId,
        author: Option<&str>,
        body: &str,
        state: MessageState,
    ) -> Result<Result<MessageRecord, PostRefused>, DbErr> {
        self.post_message_within(session, participant, author, body, state, MAX_MESSAGES_PER_SESSION).await
    }

    /// `post_message` with a cap of `max` messages (tests reach a small one).
    pub async fn post_message_within(
        &self,
        session: SessionId,
        participant: ParticipantId,
        author: Option<&str>,
        body: &str,
        state: MessageState,
        max: u64,
    ) -> Result<Result<MessageRecord, PostRefused>, DbErr> {
        let txn = self.conn.begin().await?;
        let locked = sessions::Entity::find_by_id(session.0)
            .select_only()
            .column(sessions::Column::Id)
            .lock_exclusive()
            .into_tuple::<uuid::Uuid>()
            .one(&txn)
            .await?;
        if locked.is_none() {
            return Ok(Err(PostRefused::NoSuchSession));
        }
        let count = discussion_messages::Entity::find()
            .filter(discussion_messages::Column::SessionId.eq(session.0))
            .count(&txn)
            .await?;
        if count >= max {
            return Ok(Err(PostRefused::Full));
        }
        let row = discussion_messages::Model {
            id: MessageId::new_random().0,
            session_id: session.0,
            participant_id: participant.0,
            author_name: author.map(str::to_owned),
            body: body.to_owned(),
            state: state.as_str().to_owned(),
            pinned: false,
            answered: false,
            likes: 0,
            created_at: now_micros(),
            edited_at: None,
        };
        discussion_messages::Entity::insert(discussion_messages::ActiveModel::from(row.clone()))
            .exec_without_returning(&txn)
            .await?;
        txn.commit().await?;
        Ok(Ok(row.into()))
    }

    pub async fn message(&self, id: MessageId) -> Result<Option<MessageRecord>, DbErr> {
        self.message_on(&self.read, id).await
    }

    async fn message_on(&self, conn: &impl ConnectionTrait, id: MessageId) -> Result<Option<MessageRecord>, DbErr> {
        Ok(discussion_messages::Entity::find_by_id(id.0).one(conn).await?.map(Into::into))
    }

    /// A page of a session's messages, newest first, from `after` back (from the newest when
    /// `None`), `limit` at most.
    pub async fn messages(
        &self,
        session: SessionId,
        seen: Seen,
        after: Option<Cursor>,
        limit: u64,
    ) -> Result<Vec<MessageRecord>, DbErr> {
        use discussion_messages::Column as C;
        let mut query = discussion_messages::Entity::find().filter(C::SessionId.eq(session.0));
        if seen == Seen::Published {
            query = query.filter(C::State.eq(MessageState::Published.as_str()));
        }
        if let Some(Cursor { posted_at, id }) = after {
            query = query.filter(
                Condition::any()
                    .add(C::CreatedAt.lt(posted_at))
                    .add(Condition::all().add(C::CreatedAt.eq(posted_at)).add(C::Id.lt(id.0))),
            );
        }
        Ok(query
            .order_by_desc(C::CreatedAt)
            .order_by_desc(C::Id)
            .limit(limit)
            .all(&self.read)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// A participant's own messages, whatever their state, newest first.
    pub async fn messages_of(&self, participant: ParticipantId, limit: u64) -> Result<Vec<MessageRecord>, DbErr> {
        use discussion_messages::Column as C;
        Ok(discussion_messages::Entity::find()
            .filter(C::ParticipantId.eq(participant.0))
            .order_by_desc(C::CreatedAt)
            .limit(limit)
            .all(&self.read)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Of these messages, those the participant likes.
    pub async fn liked_among(&self, participant: ParticipantId, among: &[MessageId]) -> Result<Vec<MessageId>, DbErr> {
        if among.is_empty() {
            return Ok(Vec::new());
        }
        Ok(discussion_likes::Entity::find()
            .select_only()
            .column(discussion_likes::Column::MessageId)
            .filter(discussion_likes::Column::ParticipantId.eq(participant.0))
            .filter(discussion_likes::Column::MessageId.is_in(among.iter().map(|m| m.0)))
            .into_tuple::<uuid::Uuid>()
            .all(&self.read)
            .await?
            .into_iter()
            .map(MessageId)
            .collect())
    }

    /// Likes (`true`) or takes a like back (`false`): at most one like per participant and message.
    /// Returns the message with its count, `None` when it is gone.
    pub async fn like_message(
        &self,
        message: MessageId,
        participant: ParticipantId,
        like: bool,
    ) -> Result<Option<MessageRecord>, DbErr> {
        use discussion_messages::Column as C;
        let txn = self.conn.begin().await?;
        if self.message_on(&txn, message).await?.is_none() {
            return Ok(None);
        }
        let changed = if like {
            let on_conflict =
                OnConflict::columns([discussion_likes::Column::MessageId, discussion_likes::Column::ParticipantId])
                    .do_nothing()
                    .to_owned();
            discussion_likes::Entity::insert(discussion_likes::ActiveModel {
                message_id: Set(message.0),
                participant_id: Set(participant.0),
            })
            .on_conflict(on_conflict)
            .exec_without_returning(&txn)
            .await?
        } else {
            discussion_likes::Entity::delete_many()
                .filter(discussion_likes::Column::MessageId.eq(message.0))
                .filter(discussion_likes::Column::ParticipantId.eq(participant.0))
                .exec(&txn)
                .await?
                .rows_affected
        };
        if changed == 1 {
            let by = if like { Expr::col(C::Likes).add(1) } else { Expr::col(C::Likes).sub(1) };
            discussion_messages::Entity::update_many()
                .col_expr(C::Likes, by)
                .filter(C::Id.eq(message.0))
                .exec(&txn)
                .await?;
        }
        let record = self.message_on(&txn, message).await?;
        txn.commit().await?;
        Ok(record)
    }

    /// The like counts of these messages now (those still there).
    pub async fn like_counts(&self, messages: &[MessageId]) -> Result<Vec<(MessageId, u32)>, DbErr> {
        use discussion_messages::Column as C;
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        Ok(discussion_messages::Entity::find()
            .select_only()
            .column(C::Id)
            .column(C::Likes)
            .filter(C::Id.is_in(messages.iter().map(|m| m.0)))
            .into_tuple::<(uuid::Uuid, i32)>()
            .all(&self.read)
            .await?
            .into_iter()
            .map(|(id, likes)| (MessageId(id), likes.max(0) as u32))
            .collect())
    }

    /// Replaces the text of a participant's own message; `None` when it is not theirs or gone.
    pub async fn edit_message(
        &self,
        message: MessageId,
        participant: ParticipantId,
        body: &str,
    ) -> Result<Option<MessageRecord>, DbErr> {
        use discussion_messages::Column as C;
        let txn = self.conn.begin().await?;
        let done = discussion_messages::Entity::update_many()
            .col_expr(C::Body, body.into())
            .col_expr(C::EditedAt, Some(now_micros()).into())
            .filter(C::Id.eq(message.0))
            .filter(C::ParticipantId.eq(participant.0))
            .exec(&txn)
            .await?;
        let record = if done.rows_affected == 1 { self.message_on(&txn, message).await? } else { None };
        txn.commit().await?;
        Ok(record)
    }

    /// Deletes a message (its likes with it); `false` when it was gone already.
    pub async fn delete_message(&self, message: MessageId) -> Result<bool, DbErr> {
        let done = discussion_messages::Entity::delete_by_id(message.0).exec(&self.conn).await?;
        Ok(done.rows_affected == 1)
    }

    /// Applies a host's decision, if it applies to the message's present state (read and changed
    /// in one transaction). `Ok(None)` when the message is gone, `Err(state)` with the state it is
    /// in when the decision does not apply.
    pub async fn moderate_message(
        &self,
        message: MessageId,
        decision: Moderation,
    ) -> Result<Option<Result<MessageRecord, MessageState>>, DbErr> {
        use discussion_messages::Column as C;
        let txn = self.conn.begin().await?;
        let Some(found) = discussion_messages::Entity::find_by_id(message.0).lock_exclusive().one(&txn).await? else {
            return Ok(None);
        };
        let now: MessageRecord = found.into();
        let Some(next) = decision.next_state(now.view.state) else {
            return Ok(Some(Err(now.view.state)));
        };
        let mut update = discussion_messages::Entity::update_many()
            .col_expr(C::State, next.as_str().into())
            .filter(C::Id.eq(message.0))
            .filter(C::State.eq(now.view.state.as_str()));
        match decision {
            Moderation::Pin | Moderation::Unpin => {
                update = update.col_expr(C::Pinned, (decision == Moderation::Pin).into())
            }
            Moderation::MarkAnswered | Moderation::MarkUnanswered => {
                update = update.col_expr(C::Answered, (decision == Moderation::MarkAnswered).into())
            }
            _ => {}
        }
        update.exec(&txn).await?;
        let record = self.message_on(&txn, message).await?;
        txn.commit().await?;
        Ok(record.map(Ok))
    }

    /// Bans the author of `message` from the session: their browser may no longer post nor follow
    /// it, and every message of theirs goes. Returns the banned visitor's digest and the ids of
    /// the messages deleted; `None` when the message is gone.
    pub async fn ban_author(
        &self,
        session: SessionId,
        message: MessageId,
    ) -> Result<Option<(String, Vec<MessageId>)>, DbErr> {
        use discussion_messages::Column as C;
        let txn = self.conn.begin().await?;
        let Some(found) =
            discussion_messages::Entity::find_by_id(message.0).filter(C::SessionId.eq(session.0)).one(&txn).await?
        else {
            return Ok(None);
        };
        let Some(author) = participants::Entity::find_by_id(found.participant_id).one(&txn).await? else {
            return Ok(None);
        };
        let on_conflict =
            OnConflict::columns([discussion_bans::Column::SessionId, discussion_bans::Column::VisitorDigest])
                .do_nothing()
                .to_owned();
        discussion_bans::Entity::insert(discussion_bans::ActiveModel {
            session_id: Set(session.0),
            visitor_digest: Set(author.visitor_digest.clone()),
            banned_at: Set(now_micros()),
        })
        .on_conflict(on_conflict)
        .exec_without_returning(&txn)
        .await?;
        let gone: Vec<uuid::Uuid> = discussion_messages::Entity::find()
            .select_only()
            .column(C::Id)
            .filter(C::ParticipantId.eq(author.id))
            .into_tuple()
            .all(&txn)
            .await?;
        discussion_messages::Entity::delete_many().filter(C::ParticipantId.eq(author.id)).exec(&txn).await?;
        txn.commit().await?;
        Ok(Some((author.visitor_digest, gone.into_iter().map(MessageId).collect())))
    }

    pub async fn is_banned(&self, session: SessionId, visitor_digest: &str) -> Result<bool, DbErr> {
        Ok(discussion_bans::Entity::find_by_id((session.0, visitor_digest.to_owned())).one(&self.read).await?.is_some())
    }

    /// "Clear the Discussion": every message of the session goes (bans stay).
    pub async fn clear_discussion(&self, session: SessionId) -> Result<u64, DbErr> {
        let done = discussion_messages::Entity::delete_many()
            .filter(discussion_messages::Column::SessionId.eq(session.0))
            .exec(&self.conn)
            .await?;
        Ok(done.rows_affected)
    }
}
