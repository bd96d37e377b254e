use super::is_unique_violation;
use crate::ids::{SessionId, SlideId, UserId};
use crate::rules::secrets::new_link_token;
use crate::rules::session_code::SessionCode;
use crate::rules::sessions::{
    host_activity_is_news, may_draw_code, Role, CODE_DRAWS_WINDOW_MICROS, DELETED_WAYS_IN_KEPT_MICROS,
    HOST_ACTIVITY_EVERY_MICROS, MAX_SESSIONS_PER_ACCOUNT,
};
use crate::storage::entities::{code_draws, deleted_ways_in, retired_ways_in, sessions, slides};
use crate::storage::{now_micros, Db, WayInKind};
use sea_orm::sea_query::LockType;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};

/// A fresh code colliding with an existing one is rare (one in a million per live session);
/// this many collisions in a row means the codes are running out.
pub(crate) const MAX_CODE_ATTEMPTS: usize = 20;

/// Why no session code was drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeRefused {
    /// The owner already has `MAX_SESSIONS_PER_ACCOUNT` sessions.
    TooManySessions,
    /// The owner drew `CODE_DRAWS_PER_ACCOUNT_PER_DAY` codes in the last 24 hours.
    TooManyDraws,
    /// Every code drawn belongs to a live session.
    NoFreeCode,
    /// There is no such session (any more).
    NoSuchSession,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: SessionId,
    pub owner_id: UserId,
    pub title: String,
    pub is_open: bool,
    pub code: SessionCode,
    pub link_token: String,
    pub created_at: i64,
    pub active_slide_id: Option<SlideId>,
    /// When a host last had it in hand (µs): it closes by itself some days after.
    pub last_hosted_at: i64,
}

impl From<sessions::Model> for SessionRecord {
    fn from(m: sessions::Model) -> Self {
        Self {
            id: SessionId(m.id),
            owner_id: UserId(m.owner_id),
            title: m.title,
            is_open: m.is_open,
            code: SessionCode::parse(&m.code).expect("stored codes are always six digits"),
            link_token: m.link_token,
            created_at: m.created_at,
            active_slide_id: m.active_slide_id.map(SlideId),
            last_hosted_at: m.last_hosted_at,
        }
    }
}

impl Db {
    /// Creates an open session with a fresh code and link token (the defaults of the help
    /// article). `title` must already be cleaned (`rules::sessions::clean_title`).
    pub async fn create_session(
        &self,
        owner: UserId,
        title: &str,
    ) -> Result<Result<SessionRecord, CodeRefused>, DbErr> {
        self.create_session_drawing_codes(owner, title, SessionCode::random).await
    }

    /// As `create_session`, with the source of codes given, so that collisions can be tested.
    pub async fn create_session_drawing_codes(
        &self,
        owner: UserId,
        title: &str,
        draw_code: impl FnMut() -> SessionCode,
    ) -> Result<Result<SessionRecord, CodeRefused>, DbErr> {
        self.insert_session(owner, title, None, draw_code).await
    }

    /// "Duplicate": a new open session owned by `owner`, titled `title` (already cleaned), with
    /// copies of `source`'s slides in the same order, a fresh code and link, and no participants
    /// nor facilitators. Counts against the owner's caps like any other session.
    pub async fn duplicate_session(
        &self,
        owner: UserId,
        source: SessionId,
        title: &str,
    ) -> Result<Result<SessionRecord, CodeRefused>, DbErr> {
        self.insert_session(owner, title, Some(source), SessionCode::random).await
    }

    async fn insert_session(
        &self,
        owner: UserId,
        title: &str,
        slides_of: Option<SessionId>,
        mut draw_code: impl FnMut() -> SessionCode,
    ) -> Result<Result<SessionRecord, CodeRefused>, DbErr> {
        let id = SessionId::new_random();
        let created_at = now_micros();
        // Counted and inserted in one transaction, the owner's row locked, so that parallel
        // requests cannot pass the caps together.
        let txn = self.conn.begin().await?;
        Db::lock_user(&txn, owner).await?;
        let owned = sessions::Entity::find().filter(sessions::Column::OwnerId.eq(owner.0)).count(&txn).await?;
        if owned >= MAX_SESSIONS_PER_ACCOUNT {
            return Ok(Err(CodeRefused::TooManySessions));
        }
        if !Db::may_draw_code(&txn, owner, created_at).await? {
            return Ok(Err(CodeRefused::TooManyDraws));
        }
        for _ in 0..MAX_CODE_ATTEMPTS {
            let Some(code) = Db::draw_code(&txn, &mut draw_code).await? else { break };
            let model = sessions::ActiveModel {
                id: Set(id.0),
                owner_id: Set(owner.0),
                title: Set(title.to_owned()),
                is_open: Set(true),
                code: Set(code.as_str().to_owned()),
                link_token: Set(new_link_token()),
                created_at: Set(created_at),
                active_slide_id: Set(None),
                last_hosted_at: Set(created_at),
            };
            // A savepoint per draw: on PostgreSQL a failed statement spoils its transaction.
            let attempt = txn.begin().await?;
            match sessions::Entity::insert(model).exec_with_returning(&attempt).await {
                Ok(m) => {
                    attempt.commit().await?;
                    let mut record: SessionRecord = m.into();
                    if let Some(source) = slides_of {
                        record.active_slide_id = Db::copy_slides(&txn, source, id, created_at).await?;
                    }
                    Db::record_code_draw(&txn, owner, created_at).await?;
                    txn.commit().await?;
                    return Ok(Ok(record));
                }
                Err(e) if is_unique_violation(&e) => attempt.rollback().await?,
                Err(e) => return Err(e),
            }
        }
        tracing::warn!("no free session code: every code drawn belongs to a live session");
        Ok(Err(CodeRefused::NoFreeCode))
    }

    /// Copies `source`'s slides into `target`, same order; the first copy is shown, as the first
    /// slide added to a session is. Returns it.
    async fn copy_slides(
        txn: &sea_orm::DatabaseTransaction,
        source: SessionId,
        target: SessionId,
        now: i64,
    ) -> Result<Option<SlideId>, DbErr> {
        let originals = slides::Entity::find()
            .filter(slides::Column::SessionId.eq(source.0))
            .order_by_asc(slides::Column::Position)
            .order_by_asc(slides::Column::CreatedAt)
            .all(txn)
            .await?;
        let copies: Vec<slides::ActiveModel> = originals
            .into_iter()
            .enumerate()
            .map(|(position, s)| slides::ActiveModel {
                id: Set(SlideId::new_random().0),
                session_id: Set(target.0),
                position: Set(position as i32),
                kind: Set(s.kind),
                title: Set(s.title),
                body: Set(s.body),
                created_at: Set(now),
            })
            .collect();
        let Some(first) = copies.first().map(|c| SlideId(*c.id.as_ref())) else { return Ok(None) };
        slides::Entity::insert_many(copies).exec_without_returning(txn).await?;
        sessions::Entity::update_many()
            .col_expr(sessions::Column::ActiveSlideId, Some(first.0).into())
            .filter(sessions::Column::Id.eq(target.0))
            .exec(txn)
            .await?;
        Ok(Some(first))
    }

    /// Draws a code no live session has and no session deleted in the last
    /// `DELETED_WAYS_IN_KEPT_DAYS` holds (two sessions drawing the same code at once are kept
    /// apart by the unique index). When every draw is taken, free codes are running low: the
    /// oldest reservation is recycled rather than refusing, and its code now leads into the new
    /// session instead of saying that the old one no longer exists. `None` when every code drawn
    /// is a live session's and nothing is reserved.
    pub(crate) async fn draw_code(
        conn: &impl ConnectionTrait,
        draw_code: &mut impl FnMut() -> SessionCode,
    ) -> Result<Option<SessionCode>, DbErr> {
        let since = now_micros() - DELETED_WAYS_IN_KEPT_MICROS;
        let reserved = || {
            deleted_ways_in::Entity::find()
                .filter(deleted_ways_in::Column::Kind.eq(WayInKind::Code.as_str()))
                .filter(deleted_ways_in::Column::DeletedAt.gt(since))
        };
        for _ in 0..MAX_CODE_ATTEMPTS {
            let code = draw_code();
            let live = sessions::Entity::find().filter(sessions::Column::Code.eq(code.as_str())).count(conn).await?;
            if live == 0 && reserved().filter(deleted_ways_in::Column::Value.eq(code.as_str())).count(conn).await? == 0
            {
                return Ok(Some(code));
            }
        }
        let oldest = reserved()
            .order_by_asc(deleted_ways_in::Column::DeletedAt)
            .order_by_asc(deleted_ways_in::Column::Id)
            .one(conn)
            .await?;
        let Some(oldest) = oldest else { return Ok(None) };
        deleted_ways_in::Entity::delete_many()
            .filter(deleted_ways_in::Column::Kind.eq(WayInKind::Code.as_str()))
            .filter(deleted_ways_in::Column::Value.eq(oldest.value.as_str()))
            .exec(conn)
            .await?;
        tracing::warn!(
            deleted_at = oldest.deleted_at,
            "free session codes are running low: the code of the session deleted longest ago is drawn again"
        );
        Ok(SessionCode::parse(&oldest.value).ok())
    }

    /// Whether `owner` may draw one more code at `now` (`rules::sessions::may_draw_code`).
    pub(crate) async fn may_draw_code(conn: &impl ConnectionTrait, owner: UserId, now: i64) -> Result<bool, DbErr> {
        let drawn = code_draws::Entity::find()
            .filter(code_draws::Column::UserId.eq(owner.0))
            .filter(code_draws::Column::DrawnAt.gt(now - CODE_DRAWS_WINDOW_MICROS))
            .count(conn)
            .await?;
        Ok(may_draw_code(drawn))
    }

    pub(crate) async fn record_code_draw(conn: &impl ConnectionTrait, owner: UserId, now: i64) -> Result<(), DbErr> {
        let draw = code_draws::ActiveModel { user_id: Set(owner.0), drawn_at: Set(now), ..Default::default() };
        code_draws::Entity::insert(draw).exec_without_returning(conn).await?;
        Ok(())
    }

    /// Removes the code draws that no longer count (older than a day). Returns how many went.
    pub async fn forget_old_code_draws(&self, now: i64) -> Result<u64, DbErr> {
        let old = code_draws::Entity::delete_many()
            .filter(code_draws::Column::DrawnAt.lte(now - CODE_DRAWS_WINDOW_MICROS))
            .exec(&self.conn)
            .await?;
        Ok(old.rows_affected)
    }

    pub async fn session(&self, id: SessionId) -> Result<Option<SessionRecord>, DbErr> {
        Ok(sessions::Entity::find_by_id(id.0).one(&self.read).await?.map(Into::into))
    }

    /// The caller's part in a session: `None` for a stranger, and for a session that does not
    /// exist (so the answer reveals nothing about other people's sessions).
    pub async fn role_in_session(&self, session: SessionId, user: UserId) -> Result<Option<Role>, DbErr> {
        Ok(self.session_with_role(session, user).await?.map(|(_, role)| role))
    }

    /// The session and the caller's part in it, for callers that need both.
    pub async fn session_with_role(
        &self,
        session: SessionId,
        user: UserId,
    ) -> Result<Option<(SessionRecord, Role)>, DbErr> {
        let Some(record) = self.session(session).await? else { return Ok(None) };
        let role = if record.owner_id == user {
            Role::Owner
        } else if self.is_facilitator(session, user).await? {
            Role::Facilitator
        } else {
            return Ok(None);
        };
        Ok(Some((record, role)))
    }

    /// The sessions a user owns or co-hosts, newest first, each with their role.
    pub async fn sessions_hosted_by(&self, user: UserId) -> Result<Vec<(SessionRecord, Role)>, DbErr> {
        let facilitated = Db::facilitated_session_ids(&self.conn, user).await?;
        Ok(sessions::Entity::find()
            .filter(sessions::Column::OwnerId.eq(user.0).or(sessions::Column::Id.is_in(facilitated)))
            .order_by_desc(sessions::Column::CreatedAt)
            .order_by_desc(sessions::Column::Id)
            .all(&self.conn)
            .await?
            .into_iter()
            .map(|m| {
                let role = if m.owner_id == user.0 { Role::Owner } else { Role::Facilitator };
                (m.into(), role)
            })
            .collect())
    }

    /// `title` must already be cleaned (`rules::sessions::clean_title`).
    pub async fn rename_session(&self, id: SessionId, title: &str) -> Result<(), DbErr> {
        sessions::Entity::update_many()
            .col_expr(sessions::Column::Title, title.into())
            .filter(sessions::Column::Id.eq(id.0))
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    /// Locks a session's row until the end of the transaction against the others that lock it
    /// here (posts and slides counted against their caps, one request at a time) and against its
    /// own changes (the padlock, deleting it); false when there is no such session. PostgreSQL
    /// locks the row `FOR NO KEY UPDATE`, not `FOR UPDATE`: the latter would also hold up every
    /// row being written that points at the session (a participant joining), whose key check
    /// locks it for key share. SQLite has one writer, whose transactions already run one at a time.
    pub(crate) async fn lock_session<C: ConnectionTrait>(conn: &C, session: SessionId) -> Result<bool, DbErr> {
        Ok(sessions::Entity::find_by_id(session.0)
            .select_only()
            .column(sessions::Column::Id)
            .lock(LockType::NoKeyUpdate)
            .into_tuple::<uuid::Uuid>()
            .one(conn)
            .await?
            .is_some())
    }

    /// Deletes a session with its slides, participants, facilitators (pending invitations
    /// included) and retired ways in, by the foreign keys' cascades; mail still waiting for it
    /// finds no session and is dropped by the mail worker. Its codes and links, current and
    /// retired, are kept in `deleted_ways_in` in the same transaction. `false` when there was no
    /// such session.
    pub async fn delete_session(&self, id: SessionId) -> Result<bool, DbErr> {
        let txn = self.conn.begin().await?;
        let Some(session) = sessions::Entity::find_by_id(id.0).lock_exclusive().one(&txn).await? else {
            return Ok(false);
        };
        let now = now_micros();
        let retired =
            retired_ways_in::Entity::find().filter(retired_ways_in::Column::SessionId.eq(id.0)).all(&txn).await?;
        let mut kept = vec![
            (WayInKind::Code.as_str().to_owned(), session.code),
            (WayInKind::Link.as_str().to_owned(), session.link_token),
        ];
        kept.extend(retired.into_iter().map(|r| (r.kind, r.value)));
        let rows = kept.into_iter().map(|(kind, value)| deleted_ways_in::ActiveModel {
            session_id: Set(id.0),
            kind: Set(kind),
            value: Set(value),
            deleted_at: Set(now),
            ..Default::default()
        });
        deleted_ways_in::Entity::insert_many(rows).exec_without_returning(&txn).await?;
        // The shown slide points into the slides about to go: cleared first, so that the order
        // in which the cascades run does not matter.
        sessions::Entity::update_many()
            .col_expr(sessions::Column::ActiveSlideId, Option::<uuid::Uuid>::None.into())
            .filter(sessions::Column::Id.eq(id.0))
            .exec(&txn)
            .await?;
        sessions::Entity::delete_by_id(id.0).exec(&txn).await?;
        txn.commit().await?;
        Ok(true)
    }

    /// Removes the codes and links of sessions deleted more than `DELETED_WAYS_IN_KEPT_DAYS`
    /// before `now`: they answer "Unknown" already, and the table would otherwise grow with
    /// every deletion for ever. Returns how many went.
    pub async fn forget_deleted_ways_in(&self, now: i64) -> Result<u64, DbErr> {
        let old = deleted_ways_in::Entity::delete_many()
            .filter(deleted_ways_in::Column::DeletedAt.lte(now - DELETED_WAYS_IN_KEPT_MICROS))
            .exec(&self.conn)
            .await?;
        Ok(old.rows_affected)
    }

    /// Whether this session was deleted in the last `DELETED_WAYS_IN_KEPT_DAYS`.
    pub async fn session_was_deleted(&self, id: SessionId) -> Result<bool, DbErr> {
        let since = now_micros() - DELETED_WAYS_IN_KEPT_MICROS;
        let rows = deleted_ways_in::Entity::find()
            .filter(deleted_ways_in::Column::SessionId.eq(id.0))
            .filter(deleted_ways_in::Column::DeletedAt.gt(since))
            .count(&self.read)
            .await?;
        Ok(rows > 0)
    }

    /// Opening counts as host activity: a session reopened after closing by itself must not
    /// close again at the next housekeeping.
    pub async fn set_session_open(&self, id: SessionId, open: bool) -> Result<(), DbErr> {
        let mut update = sessions::Entity::update_many().col_expr(sessions::Column::IsOpen, open.into());
        if open {
            update = update.col_expr(sessions::Column::LastHostedAt, now_micros().into());
        }
        update.filter(sessions::Column::Id.eq(id.0)).exec(&self.conn).await?;
        Ok(())
    }

    /// A host had the session in hand at `now`. Written at most once per
    /// `HOST_ACTIVITY_EVERY_MICROS` (the condition is in the update, so parallel page loads write
    /// once); `true` when it was written.
    pub async fn record_host_activity(&self, id: SessionId, now: i64) -> Result<bool, DbErr> {
        // Read first, on a reader: within the hour, as nearly always, nothing is written, and
        // SQLite's single writer stays free for the writes.
        let last: Option<i64> = sessions::Entity::find_by_id(id.0)
            .select_only()
            .column(sessions::Column::LastHostedAt)
            .into_tuple()
            .one(&self.read)
            .await?;
        if !last.is_some_and(|last| host_activity_is_news(last, now)) {
            return Ok(false);
        }
        let written = sessions::Entity::update_many()
            .col_expr(sessions::Column::LastHostedAt, now.into())
            .filter(sessions::Column::Id.eq(id.0))
            .filter(sessions::Column::LastHostedAt.lte(now - HOST_ACTIVITY_EVERY_MICROS))
            .exec(&self.conn)
            .await?;
        Ok(written.rows_affected > 0)
    }

    /// Closes up to `limit` open sessions last hosted before `cutoff`, and returns them. Each is
    /// closed only if still forgotten when written, so a host coming back meanwhile keeps it open.
    pub async fn close_sessions_hosted_before(&self, cutoff: i64, limit: u64) -> Result<Vec<SessionId>, DbErr> {
        let due: Vec<uuid::Uuid> = sessions::Entity::find()
            .select_only()
            .column(sessions::Column::Id)
            .filter(sessions::Column::IsOpen.eq(true))
            .filter(sessions::Column::LastHostedAt.lt(cutoff))
            .limit(limit)
            .into_tuple()
            .all(&self.read)
            .await?;
        let mut closed = Vec::with_capacity(due.len());
        for id in due {
            let written = sessions::Entity::update_many()
                .col_expr(sessions::Column::IsOpen, false.into())
                .filter(sessions::Column::Id.eq(id))
                .filter(sessions::Column::IsOpen.eq(true))
                .filter(sessions::Column::LastHostedAt.lt(cutoff))
                .exec(&self.conn)
                .await?;
            if written.rows_affected > 0 {
                closed.push(SessionId(id));
            }
        }
        Ok(closed)
    }
}
