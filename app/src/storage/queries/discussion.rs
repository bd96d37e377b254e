//! The Discussion: a session's settings, messages, likes and bans. Counts change only by
//! `likes = likes ± 1` in the transaction that adds or removes the like's row, so no like is lost
//! to another written at the same moment.
use crate::ids::{MessageId, ParticipantId, SessionId};
use crate::rules::discussion::{DiscussionSettings, MessageState, Moderation, OnScreen, MAX_MESSAGES_PER_SESSION};
use crate::states::MessageView;
use crate::storage::entities::{
    discussion_bans, discussion_likes, discussion_messages, discussion_settings, participants, sessions,
};
use crate::storage::{now_micros, Db, Participant};
use sea_orm::sea_query::{Alias, CaseStatement, Expr, OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Statement, TransactionTrait,
};
use std::collections::{HashMap, HashSet};

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

/// A participant calling the Discussion, with all that decides what they may do, read at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpeakerRecord {
    pub participant: Participant,
    pub banned: bool,
    pub session_open: bool,
    pub settings: DiscussionSettings,
}

/// A message to post (`Db::write_discussion`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMessage {
    pub session: SessionId,
    pub participant: ParticipantId,
    pub author: Option<String>,
    pub body: String,
    pub state: MessageState,
}

/// A write of the Discussion that many people make at once, grouped with others into one
/// transaction (`Db::write_discussion`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiscussionWrite {
    Post(NewMessage),
    /// Likes (`like`) or takes a like back: at most one like per participant and message, and
    /// only on a published message of `session`.
    Like {
        session: SessionId,
        message: MessageId,
        participant: ParticipantId,
        like: bool,
    },
}

/// How a `DiscussionWrite` went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiscussionWritten {
    Posted(Result<MessageRecord, PostRefused>),
    /// The message's count of likes once the group committed; `None`: no such published message.
    Liked(Option<u32>),
}

impl Db {
    /// The participant `visitor_digest` is in `session`, with their ban, the session's padlock
    /// and the Discussion's settings: what every Discussion call checks first.
    pub async fn speaker(&self, session: SessionId, visitor_digest: &str) -> Result<Option<SpeakerRecord>, DbErr> {
        Ok(self.speakers(&[(session, visitor_digest)]).await?.pop().flatten())
    }

    /// `speaker` for many visitors at once, in one query (`services::speakers` groups the calls
    /// of a busy room); answers each, in order.
    pub async fn speakers(&self, asks: &[(SessionId, &str)]) -> Result<Vec<Option<SpeakerRecord>>, DbErr> {
        if asks.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self.read.query_all(speakers_query(self.read.get_database_backend(), asks)).await?;
        let defaults = DiscussionSettings::default();
        let mut found: HashMap<(SessionId, String), SpeakerRecord> = HashMap::with_capacity(rows.len());
        for row in rows {
            let session = SessionId(row.try_get("", "session_id")?);
            let on_screen: Option<String> = row.try_get("", "on_screen")?;
            let record = SpeakerRecord {
                participant: Participant {
                    id: ParticipantId(row.try_get("", "participant_id")?),
                    session_id: session,
                    nickname: row.try_get("", "nickname")?,
                },
                banned: row.try_get::<Option<i64>>("", "banned_at")?.is_some(),
                session_open: row.try_get("", "session_open")?,
                settings: DiscussionSettings {
                    open: row.try_get::<Option<bool>>("", "open")?.unwrap_or(defaults.open),
                    review_first: row.try_get::<Option<bool>>("", "review_first")?.unwrap_or(defaults.review_first),
                    anonymous: row.try_get::<Option<bool>>("", "anonymous")?.unwrap_or(defaults.anonymous),
                    on_screen: on_screen.as_deref().map(OnScreen::parse).unwrap_or(defaults.on_screen),
                },
            };
            found.insert((session, row.try_get("", "visitor_digest")?), record);
        }
        Ok(asks.iter().map(|(session, digest)| found.get(&(*session, (*digest).to_owned())).cloned()).collect())
    }

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
        let new = NewMessage { session, participant, author: author.map(str::to_owned), body: body.to_owned(), state };
        match self.write_discussion_within(&[DiscussionWrite::Post(new)], max).await?.pop() {
            Some(DiscussionWritten::Posted(posted)) => Ok(posted),
            _ => Err(DbErr::Custom("a post was not answered".into())),
        }
    }

    /// Posts and likes, many people's at once, in one transaction; answers each, in order.
    pub async fn write_discussion(&self, writes: &[DiscussionWrite]) -> Result<Vec<DiscussionWritten>, DbErr> {
        self.write_discussion_within(writes, MAX_MESSAGES_PER_SESSION).await
    }

    /// `write_discussion` with a cap of `max` messages per session.
    pub async fn write_discussion_within(
        &self,
        writes: &[DiscussionWrite],
        max: u64,
    ) -> Result<Vec<DiscussionWritten>, DbErr> {
        let mut answers: Vec<Option<DiscussionWritten>> = vec![None; writes.len()];
        let posts: Vec<(usize, &NewMessage)> = writes
            .iter()
            .enumerate()
            .filter_map(|(i, w)| if let DiscussionWrite::Post(new) = w { Some((i, new)) } else { None })
            .collect();
        let likes: Vec<(usize, Like)> = writes
            .iter()
            .enumerate()
            .filter_map(|(i, w)| match *w {
                DiscussionWrite::Like { session, message, participant, like } => {
                    Some((i, Like { session, message, participant, like }))
                }
                DiscussionWrite::Post(_) => None,
            })
            .collect();
        // The rows that other groups (another instance's) also change, the session's for the cap
        // and the liked messages' counts, are changed last, just before the commit: they are held
        // for as few round trips as can be.
        let txn = self.conn.begin().await?;
        let changed = change_likes(&txn, &likes).await?;
        for (i, posted) in post_messages(&txn, &posts, max).await? {
            answers[i] = Some(DiscussionWritten::Posted(posted));
        }
        for (i, liked) in count_likes(&txn, &likes, changed).await? {
            answers[i] = Some(DiscussionWritten::Liked(liked));
        }
        txn.commit().await?;
        answers
            .into_iter()
            .map(|a| a.ok_or_else(|| DbErr::Custom("a Discussion write was not answered".into())))
            .collect()
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
    /// Returns the message's count, `None` when it is not a published message of `session`.
    pub async fn like_message(
        &self,
        session: SessionId,
        message: MessageId,
        participant: ParticipantId,
        like: bool,
    ) -> Result<Option<u32>, DbErr> {
        match self.write_discussion(&[DiscussionWrite::Like { session, message, participant, like }]).await?.pop() {
            Some(DiscussionWritten::Liked(likes)) => Ok(likes),
            _ => Err(DbErr::Custom("a like was not answered".into())),
        }
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

    /// "Clear the Discussion": every message of the session goes (bans stay).
    pub async fn clear_discussion(&self, session: SessionId) -> Result<u64, DbErr> {
        let done = discussion_messages::Entity::delete_many()
            .filter(discussion_messages::Column::SessionId.eq(session.0))
            .exec(&self.conn)
            .await?;
        Ok(done.rows_affected)
    }
}

/// Posts a group's messages, session by session: each session's row is locked against other
/// posts (`Db::lock_session`) while its messages are counted, so that parallel posts cannot pass
/// the cap together. Joins into the session go on meanwhile.
async fn post_messages(
    txn: &DatabaseTransaction,
    posts: &[(usize, &NewMessage)],
    max: u64,
) -> Result<Vec<(usize, Result<MessageRecord, PostRefused>)>, DbErr> {
    let mut answers = Vec::with_capacity(posts.len());
    let mut sessions: Vec<SessionId> = posts.iter().map(|(_, new)| new.session).collect();
    sessions.sort_unstable();
    sessions.dedup();
    for session in sessions {
        let exists = Db::lock_session(txn, session).await?;
        let mut room = if exists {
            let count = discussion_messages::Entity::find()
                .filter(discussion_messages::Column::SessionId.eq(session.0))
                .count(txn)
                .await?;
            max.saturating_sub(count)
        } else {
            0
        };
        let now = now_micros();
        let mut rows = Vec::new();
        for (i, new) in posts.iter().filter(|(_, new)| new.session == session) {
            if !exists {
                answers.push((*i, Err(PostRefused::NoSuchSession)));
            } else if room == 0 {
                answers.push((*i, Err(PostRefused::Full)));
            } else {
                room -= 1;
                let row = discussion_messages::Model {
                    id: MessageId::new_random().0,
                    session_id: session.0,
                    participant_id: new.participant.0,
                    author_name: new.author.clone(),
                    body: new.body.clone(),
                    state: new.state.as_str().to_owned(),
                    pinned: false,
                    answered: false,
                    likes: 0,
                    // Apart by a microsecond each, so the group reads in the order it came.
                    created_at: now + rows.len() as i64,
                    edited_at: None,
                };
                answers.push((*i, Ok(MessageRecord::from(row.clone()))));
                rows.push(discussion_messages::ActiveModel::from(row));
            }
        }
        if !rows.is_empty() {
            discussion_messages::Entity::insert_many(rows).exec_without_returning(txn).await?;
        }
    }
    Ok(answers)
}

#[derive(Clone, Copy, Debug)]
struct Like {
    session: SessionId,
    message: MessageId,
    participant: ParticipantId,
    like: bool,
}

/// `Db::speakers`' query: the participants asked for, each a visitor of a session, with what
/// decides what each may do.
///
/// On PostgreSQL each pair is looked up alone, by the unique index on both (`unnest` of the pairs,
/// each joined `LATERAL`): right after a room has joined, before autovacuum has analyzed the
/// table, PostgreSQL believes a session holds a few dozen participants, and given lists of
/// sessions and of visitors, or the pairs joined plainly, it read every participant of the
/// session to keep the visitors asked for, thousands of rows for each group of likes. SQLite,
/// which takes an index for selective, keeps the two lists (a visitor of another of the sessions
/// is filtered out by the caller).
fn speakers_query(backend: DbBackend, asks: &[(SessionId, &str)]) -> Statement {
    use discussion_bans::Column as B;
    use discussion_settings::Column as D;
    use participants::Column as P;
    if backend == DbBackend::Postgres {
        let pairs: HashSet<(SessionId, &str)> = asks.iter().copied().collect();
        return Statement::from_sql_and_values(
            backend,
            r#"SELECT p.id AS participant_id, p.session_id, p.visitor_digest, p.nickname, s.is_open AS session_open,
                 b.banned_at, d."open", d.review_first, d.anonymous, d.on_screen
               FROM unnest(string_to_array($1, ',')::uuid[], string_to_array($2, ',')) AS a(session_id, visitor_digest)
               CROSS JOIN LATERAL (
                 SELECT id, session_id, visitor_digest, nickname FROM participants
                 WHERE session_id = a.session_id AND visitor_digest = a.visitor_digest LIMIT 1
               ) p
               JOIN sessions s ON s.id = p.session_id
               LEFT JOIN discussion_settings d ON d.session_id = p.session_id
               LEFT JOIN discussion_bans b ON b.session_id = p.session_id AND b.visitor_digest = p.visitor_digest"#,
            [
                joined(pairs.iter().map(|(session, _)| session.0)).into(),
                joined(pairs.iter().map(|(_, digest)| digest)).into(),
            ],
        );
    }
    let sessions: HashSet<uuid::Uuid> = asks.iter().map(|(session, _)| session.0).collect();
    let digests: HashSet<&str> = asks.iter().map(|(_, digest)| *digest).collect();
    backend.build(
        Query::select()
            .expr_as(Expr::col((participants::Entity, P::Id)), Alias::new("participant_id"))
            .expr_as(Expr::col((participants::Entity, P::SessionId)), Alias::new("session_id"))
            .expr_as(Expr::col((participants::Entity, P::VisitorDigest)), Alias::new("visitor_digest"))
            .expr_as(Expr::col((participants::Entity, P::Nickname)), Alias::new("nickname"))
            .expr_as(Expr::col((sessions::Entity, sessions::Column::IsOpen)), Alias::new("session_open"))
            .expr_as(Expr::col((discussion_bans::Entity, B::BannedAt)), Alias::new("banned_at"))
            .expr_as(Expr::col((discussion_settings::Entity, D::Open)), Alias::new("open"))
            .expr_as(Expr::col((discussion_settings::Entity, D::ReviewFirst)), Alias::new("review_first"))
            .expr_as(Expr::col((discussion_settings::Entity, D::Anonymous)), Alias::new("anonymous"))
            .expr_as(Expr::col((discussion_settings::Entity, D::OnScreen)), Alias::new("on_screen"))
            .from(participants::Entity)
            .inner_join(
                sessions::Entity,
                Expr::col((sessions::Entity, sessions::Column::Id)).equals((participants::Entity, P::SessionId)),
            )
            .left_join(
                discussion_settings::Entity,
                Expr::col((discussion_settings::Entity, D::SessionId)).equals((participants::Entity, P::SessionId)),
            )
            .left_join(
                discussion_bans::Entity,
                Condition::all()
                    .add(
                        Expr::col((discussion_bans::Entity, B::SessionId)).equals((participants::Entity, P::SessionId)),
                    )
                    .add(
                        Expr::col((discussion_bans::Entity, B::VisitorDigest))
                            .equals((participants::Entity, P::VisitorDigest)),
                    ),
            )
            .and_where(Expr::col((participants::Entity, P::SessionId)).is_in(sessions))
            .and_where(Expr::col((participants::Entity, P::VisitorDigest)).is_in(digests)),
    )
}

/// Values joined by commas, one parameter that `string_to_array($1, ',')` splits again (uuids and
/// hex digests hold no comma): a statement then has one SQL text whatever the number of values.
fn joined<V: std::fmt::Display>(values: impl IntoIterator<Item = V>) -> String {
    let values: Vec<String> = values.into_iter().map(|value| value.to_string()).collect();
    debug_assert!(values.iter().all(|value| !value.contains(',')), "a value to join holds a comma: {values:?}");
    values.join(",")
}

/// What a group's likes changed: the messages that can be liked (published, with their session)
/// and by how much each one's count moves.
struct LikesChanged {
    likable: HashMap<uuid::Uuid, uuid::Uuid>,
    moved: HashMap<uuid::Uuid, i64>,
}

/// Whether a like is of a published message of its own session (`likable`).
fn may_like(likable: &HashMap<uuid::Uuid, uuid::Uuid>, l: &Like) -> bool {
    likable.get(&l.message.0) == Some(&l.session.0)
}

/// Applies a group's likes and likes taken back to their rows, set by set: the likes' rows are
/// inserted (or deleted) together, and each message's count is to move by the rows that really
/// changed, as the database reports them (`RETURNING`), so that a like already there, or one
/// written at the same moment by another instance, is never counted twice (`count_likes` moves
/// them). A participant's second like of the same message in a group goes in a later round, so
/// that they apply in the order they came.
async fn change_likes(txn: &DatabaseTransaction, likes: &[(usize, Like)]) -> Result<LikesChanged, DbErr> {
    use discussion_likes::Column as L;
    use discussion_messages::Column as C;
    if likes.is_empty() {
        return Ok(LikesChanged { likable: HashMap::new(), moved: HashMap::new() });
    }
    let ids: HashSet<uuid::Uuid> = likes.iter().map(|(_, l)| l.message.0).collect();
    let found: Vec<(uuid::Uuid, uuid::Uuid, String)> = discussion_messages::Entity::find()
        .select_only()
        .columns([C::Id, C::SessionId, C::State])
        .filter(C::Id.is_in(ids.iter().copied()))
        .into_tuple()
        .all(txn)
        .await?;
    let published = MessageState::Published.as_str();
    let likable: HashMap<uuid::Uuid, uuid::Uuid> =
        found.into_iter().filter(|(_, _, state)| state == published).map(|(id, session, _)| (id, session)).collect();
    // Rounds: a pair's n-th occurrence in the group goes in round n.
    let mut rounds: Vec<Vec<Like>> = Vec::new();
    let mut seen: HashMap<(MessageId, ParticipantId), usize> = HashMap::new();
    for (_, l) in likes.iter().filter(|(_, l)| may_like(&likable, l)) {
        let round = seen.entry((l.message, l.participant)).or_default();
        if rounds.len() <= *round {
            rounds.push(Vec::new());
        }
        rounds[*round].push(*l);
        *round += 1;
    }
    let backend = txn.get_database_backend();
    let mut moved: HashMap<uuid::Uuid, i64> = HashMap::new();
    for round in rounds {
        let (added, taken): (Vec<Like>, Vec<Like>) = round.into_iter().partition(|l| l.like);
        if !added.is_empty() {
            let mut insert = Query::insert();
            insert.into_table(discussion_likes::Entity).columns([L::MessageId, L::ParticipantId]);
            for l in &added {
                insert.values_panic([l.message.0.into(), l.participant.0.into()]);
            }
            insert
                .on_conflict(OnConflict::columns([L::MessageId, L::ParticipantId]).do_nothing().to_owned())
                .returning(Query::returning().columns([L::MessageId]));
            for row in txn.query_all(backend.build(&insert)).await? {
                *moved.entry(row.try_get("", "message_id")?).or_default() += 1;
            }
        }
        if !taken.is_empty() {
            let pairs = taken.iter().fold(Condition::any(), |any, l| {
                any.add(
                    Condition::all()
                        .add(Expr::col(L::MessageId).eq(l.message.0))
                        .add(Expr::col(L::ParticipantId).eq(l.participant.0)),
                )
            });
            let delete = Query::delete()
                .from_table(discussion_likes::Entity)
                .cond_where(pairs)
                .returning(Query::returning().columns([L::MessageId]))
                .to_owned();
            for row in txn.query_all(backend.build(&delete)).await? {
                *moved.entry(row.try_get("", "message_id")?).or_default() -= 1;
            }
        }
    }
    moved.retain(|_, by| *by != 0);
    Ok(LikesChanged { likable, moved })
}

/// Moves the counts of a group's liked messages (`change_likes`) and answers each like with its
/// message's count, `None` when it could not be liked. Every count moves in one statement,
/// `likes + CASE id WHEN … THEN n … END`, which answers the new counts; those of messages whose
/// count did not move are read.
async fn count_likes(
    txn: &DatabaseTransaction,
    likes: &[(usize, Like)],
    LikesChanged { likable, moved }: LikesChanged,
) -> Result<Vec<(usize, Option<u32>)>, DbErr> {
    use discussion_messages::Column as C;
    if likes.is_empty() {
        return Ok(Vec::new());
    }
    let backend = txn.get_database_backend();
    let mut counts: HashMap<uuid::Uuid, i32> = HashMap::with_capacity(likable.len());
    if !moved.is_empty() {
        let by_message = moved
            .iter()
            .fold(CaseStatement::new(), |case, (message, by)| case.case(Expr::col(C::Id).eq(*message), *by as i32))
            .finally(0);
        let update = Query::update()
            .table(discussion_messages::Entity)
            .value(C::Likes, Expr::col(C::Likes).add(by_message))
            .and_where(Expr::col(C::Id).is_in(moved.keys().copied()))
            .returning(Query::returning().columns([C::Id, C::Likes]))
            .to_owned();
        for row in txn.query_all(backend.build(&update)).await? {
            counts.insert(row.try_get("", "id")?, row.try_get("", "likes")?);
        }
    }
    let unmoved: Vec<uuid::Uuid> = likable.keys().filter(|id| !counts.contains_key(*id)).copied().collect();
    if !unmoved.is_empty() {
        let read: Vec<(uuid::Uuid, i32)> = discussion_messages::Entity::find()
            .select_only()
            .columns([C::Id, C::Likes])
            .filter(C::Id.is_in(unmoved))
            .into_tuple()
            .all(txn)
            .await?;
        counts.extend(read);
    }
    Ok(likes
        .iter()
        .map(|(i, l)| {
            (*i, may_like(&likable, l).then(|| counts.get(&l.message.0).map(|n| (*n).max(0) as u32)).flatten())
        })
        .collect())
}
