//! Ways into a session (code, link) and the participants who came in.
use super::is_unique_violation;
use super::sessions::{CodeRefused, MAX_CODE_ATTEMPTS};
use crate::ids::{ParticipantId, SessionId, UserId};
use crate::rules::secrets::new_link_token;
use crate::rules::session_code::SessionCode;
use crate::rules::sessions::{DELETED_WAYS_IN_KEPT_MICROS, RETIRED_WAYS_IN_KEPT_PER_SESSION};
use crate::storage::entities::{deleted_ways_in, participants, retired_ways_in, sessions};
use crate::storage::{now_micros, Db, SessionRecord};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WayInKind {
    Code,
    Link,
}

impl WayInKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Code => "code",
            Self::Link => "link",
        }
    }
}

/// What a code or a link token leads to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WayIn {
    Current(SessionRecord),
    /// It belonged to this session before its owner generated a new code.
    Retired(SessionId),
    /// It belonged to a session deleted in the last `DELETED_WAYS_IN_KEPT_DAYS`.
    Deleted,
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Participant {
    pub id: ParticipantId,
    pub session_id: SessionId,
    pub nickname: Option<String>,
}

impl From<participants::Model> for Participant {
    fn from(m: participants::Model) -> Self {
        Self { id: ParticipantId(m.id), session_id: SessionId(m.session_id), nickname: m.nickname }
    }
}

impl Db {
    pub async fn find_way_in(&self, kind: WayInKind, value: &str) -> Result<WayIn, DbErr> {
        let column = match kind {
            WayInKind::Code => sessions::Column::Code,
            WayInKind::Link => sessions::Column::LinkToken,
        };
        if let Some(m) = sessions::Entity::find().filter(column.eq(value)).one(&self.read).await? {
            return Ok(WayIn::Current(m.into()));
        }
        let since = now_micros() - DELETED_WAYS_IN_KEPT_MICROS;
        let deleted = deleted_ways_in::Entity::find()
            .filter(deleted_ways_in::Column::Kind.eq(kind.as_str()))
            .filter(deleted_ways_in::Column::Value.eq(value))
            .filter(deleted_ways_in::Column::DeletedAt.gt(since))
            .one(&self.read)
            .await?;
        if deleted.is_some() {
            return Ok(WayIn::Deleted);
        }
        let retired = retired_ways_in::Entity::find()
            .filter(retired_ways_in::Column::Kind.eq(kind.as_str()))
            .filter(retired_ways_in::Column::Value.eq(value))
            .order_by_desc(retired_ways_in::Column::RetiredAt)
            .one(&self.read)
            .await?;
        Ok(retired.map_or(WayIn::Unknown, |r| WayIn::Retired(SessionId(r.session_id))))
    }

    /// "Generate a new code": a new code and a new link token at once, the old ones retired in
    /// the same transaction, so no instant exists where both or neither work. The code counts
    /// against the owner's daily draws.
    pub async fn rotate_ways_in(&self, id: SessionId) -> Result<Result<SessionRecord, CodeRefused>, DbErr> {
        self.rotate_ways_in_drawing_codes(id, SessionCode::random).await
    }

    pub async fn rotate_ways_in_drawing_codes(
        &self,
        id: SessionId,
        mut draw_code: impl FnMut() -> SessionCode,
    ) -> Result<Result<SessionRecord, CodeRefused>, DbErr> {
        for _ in 0..MAX_CODE_ATTEMPTS {
            let txn = self.conn.begin().await?;
            let Some(old) = sessions::Entity::find_by_id(id.0).one(&txn).await? else {
                return Ok(Err(CodeRefused::NoSuchSession));
            };
            let owner = UserId(old.owner_id);
            let now = now_micros();
            // The owner's row locked, so that parallel requests cannot pass the daily cap together.
            Db::lock_user(&txn, owner).await?;
            if !Db::may_draw_code(&txn, owner, now).await? {
                return Ok(Err(CodeRefused::TooManyDraws));
            }
            for (kind, value) in [(WayInKind::Code, &old.code), (WayInKind::Link, &old.link_token)] {
                retired_ways_in::Entity::insert(retired_ways_in::ActiveModel {
                    session_id: Set(id.0),
                    kind: Set(kind.as_str().to_owned()),
                    value: Set(value.clone()),
                    retired_at: Set(now),
                    ..Default::default()
                })
                .exec_without_returning(&txn)
                .await?;
            }
            let kept: Vec<i32> = retired_ways_in::Entity::find()
                .select_only()
                .column(retired_ways_in::Column::Id)
                .filter(retired_ways_in::Column::SessionId.eq(id.0))
                .order_by_desc(retired_ways_in::Column::Id)
                .limit(RETIRED_WAYS_IN_KEPT_PER_SESSION)
                .into_tuple()
                .all(&txn)
                .await?;
            retired_ways_in::Entity::delete_many()
                .filter(retired_ways_in::Column::SessionId.eq(id.0))
                .filter(retired_ways_in::Column::Id.is_not_in(kept))
                .exec(&txn)
                .await?;
            let Some(code) = Db::draw_code(&txn, &mut draw_code).await? else { break };
            let result = sessions::Entity::update_many()
                .col_expr(sessions::Column::Code, code.as_str().into())
                .col_expr(sessions::Column::LinkToken, new_link_token().into())
                .filter(sessions::Column::Id.eq(id.0))
                .exec(&txn)
                .await;
            match result {
                Ok(_) => {
                    Db::record_code_draw(&txn, owner, now).await?;
                    txn.commit().await?;
                    return Ok(self.session(id).await?.ok_or(CodeRefused::NoSuchSession));
                }
                Err(e) if is_unique_violation(&e) => txn.rollback().await?,
                Err(e) => return Err(e),
            }
        }
        tracing::warn!("no free session code: every code drawn belongs to a live session");
        Ok(Err(CodeRefused::NoFreeCode))
    }

    /// Lets a visitor into a session, as `join_sessions` does for several; joining again returns
    /// the same participant.
    pub async fn join_session(&self, session: SessionId, visitor_digest: &str) -> Result<Participant, DbErr> {
        self.join_sessions(&[(session, visitor_digest)]).await?;
        self.participant(session, visitor_digest)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("the participant just written".into()))
    }

    /// Several joins in one write (`services::joins` groups them): each (session, visitor) is a
    /// participant afterwards, once, whether they joined before or appear twice.
    pub async fn join_sessions(&self, joins: &[(SessionId, &str)]) -> Result<(), DbErr> {
        Db::join_sessions_on(&self.conn, joins).await
    }

    /// `join_sessions` on a connection or within a transaction of the caller's.
    pub(crate) async fn join_sessions_on<C: ConnectionTrait>(
        conn: &C,
        joins: &[(SessionId, &str)],
    ) -> Result<(), DbErr> {
        if joins.is_empty() {
            return Ok(());
        }
        let now = now_micros();
        let rows = joins.iter().map(|(session, visitor_digest)| participants::ActiveModel {
            id: Set(ParticipantId::new_random().0),
            session_id: Set(session.0),
            visitor_digest: Set((*visitor_digest).to_owned()),
            nickname: Set(None),
            joined_at: Set(now),
        });
        let on_conflict = OnConflict::columns([participants::Column::SessionId, participants::Column::VisitorDigest])
            .do_nothing()
            .to_owned();
        participants::Entity::insert_many(rows).on_conflict(on_conflict).exec_without_returning(conn).await?;
        Ok(())
    }

    pub async fn participant_count(&self, session: SessionId) -> Result<u64, DbErr> {
        participants::Entity::find().filter(participants::Column::SessionId.eq(session.0)).count(&self.read).await
    }

    pub async fn participant(&self, session: SessionId, visitor_digest: &str) -> Result<Option<Participant>, DbErr> {
        Ok(participants::Entity::find()
            .filter(participants::Column::SessionId.eq(session.0))
            .filter(participants::Column::VisitorDigest.eq(visitor_digest))
            .one(&self.read)
            .await?
            .map(Into::into))
    }

    pub async fn set_nickname(&self, participant: ParticipantId, nickname: Option<&str>) -> Result<(), DbErr> {
        participants::Entity::update_many()
            .col_expr(participants::Column::Nickname, nickname.map(str::to_owned).into())
            .filter(participants::Column::Id.eq(participant.0))
            .exec(&self.conn)
            .await?;
        Ok(())
    }
}
