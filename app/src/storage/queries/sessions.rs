use super::is_unique_violation;
use crate::ids::{SessionId, SlideId, UserId};
use crate::rules::secrets::new_link_token;
use crate::rules::session_code::SessionCode;
use crate::rules::sessions::{Role, MAX_SESSIONS_PER_ACCOUNT};
use crate::storage::{entities::sessions, now_micros, Db};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, TransactionTrait,
};

/// A fresh code colliding with an existing one is rare (one in a million per live session);
/// this many collisions in a row means something else is wrong.
const MAX_CODE_ATTEMPTS: usize = 20;

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
        }
    }
}

impl Db {
    /// Creates an open session with a fresh code and link token (the defaults of the help
    /// article). `title` must already be cleaned (`rules::sessions::clean_title`). `None` when the
    /// owner already has `MAX_SESSIONS_PER_ACCOUNT` sessions.
    pub async fn create_session(&self, owner: UserId, title: &str) -> Result<Option<SessionRecord>, DbErr> {
        self.create_session_drawing_codes(owner, title, SessionCode::random).await
    }

    /// As `create_session`, with the source of codes given, so that collisions can be tested.
    pub async fn create_session_drawing_codes(
        &self,
        owner: UserId,
        title: &str,
        mut draw_code: impl FnMut() -> SessionCode,
    ) -> Result<Option<SessionRecord>, DbErr> {
        let id = SessionId::new_random();
        let created_at = now_micros();
        // Counted and inserted in one transaction, the owner's row locked, so that parallel
        // requests cannot pass the cap together.
        let txn = self.conn.begin().await?;
        Db::lock_user(&txn, owner).await?;
        let owned = sessions::Entity::find().filter(sessions::Column::OwnerId.eq(owner.0)).count(&txn).await?;
        if owned >= MAX_SESSIONS_PER_ACCOUNT {
            return Ok(None);
        }
        let mut last_err = None;
        for _ in 0..MAX_CODE_ATTEMPTS {
            let model = sessions::ActiveModel {
                id: Set(id.0),
                owner_id: Set(owner.0),
                title: Set(title.to_owned()),
                is_open: Set(true),
                code: Set(draw_code().as_str().to_owned()),
                link_token: Set(new_link_token()),
                created_at: Set(created_at),
                active_slide_id: Set(None),
            };
            // A savepoint per draw: on PostgreSQL a failed statement spoils its transaction.
            let attempt = txn.begin().await?;
            match sessions::Entity::insert(model).exec_with_returning(&attempt).await {
                Ok(m) => {
                    attempt.commit().await?;
                    txn.commit().await?;
                    return Ok(Some(m.into()));
                }
                Err(e) if is_unique_violation(&e) => {
                    attempt.rollback().await?;
                    last_err = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_err.expect("at least one attempt was made"))
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
    pub async fn session_with_role(&self, session: SessionId, user: UserId) -> Result<Option<(SessionRecord, Role)>, DbErr> {
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

    pub async fn set_session_open(&self, id: SessionId, open: bool) -> Result<(), DbErr> {
        sessions::Entity::update_many()
            .col_expr(sessions::Column::IsOpen, open.into())
            .filter(sessions::Column::Id.eq(id.0))
            .exec(&self.conn)
            .await?;
        Ok(())
    }
}
