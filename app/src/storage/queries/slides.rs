//! A session's ordered slides and which one participants see.
use crate::ids::{SessionId, SlideId};
use crate::rules::slides::{Move, SlideKind, MAX_SLIDES_PER_SESSION};
use crate::storage::entities::{sessions, slides};
use crate::storage::{now_micros, Db};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlideRecord {
    pub id: SlideId,
    pub kind: SlideKind,
    pub title: String,
    pub body: String,
}

impl From<slides::Model> for SlideRecord {
    fn from(m: slides::Model) -> Self {
        Self {
            id: SlideId(m.id),
            kind: SlideKind::parse(&m.kind).unwrap_or(SlideKind::Text),
            title: m.title,
            body: m.body,
        }
    }
}

impl Db {
    pub async fn slides(&self, session: SessionId) -> Result<Vec<SlideRecord>, DbErr> {
        Ok(slides::Entity::find()
            .filter(slides::Column::SessionId.eq(session.0))
            .order_by_asc(slides::Column::Position)
            .order_by_asc(slides::Column::CreatedAt)
            .all(&self.read)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Adds a slide at the end; `None` when the session already has `MAX_SLIDES_PER_SESSION`
    /// (counted with the session's row locked, `Db::lock_session`). The first slide of a session
    /// becomes the active one, so that participants see something from the start.
    pub async fn add_slide(
        &self,
        session: SessionId,
        kind: SlideKind,
        title: &str,
        body: &str,
    ) -> Result<Option<SlideRecord>, DbErr> {
        let txn = self.conn.begin().await?;
        Db::lock_session(&txn, session).await?;
        let count = slides::Entity::find().filter(slides::Column::SessionId.eq(session.0)).count(&txn).await?;
        if count >= MAX_SLIDES_PER_SESSION {
            return Ok(None);
        }
        let last: Option<i32> = slides::Entity::find()
            .select_only()
            .column_as(slides::Column::Position.max(), "max")
            .filter(slides::Column::SessionId.eq(session.0))
            .into_tuple::<Option<i32>>()
            .one(&txn)
            .await?
            .flatten();
        let id = SlideId::new_random();
        slides::Entity::insert(slides::ActiveModel {
            id: Set(id.0),
            session_id: Set(session.0),
            position: Set(last.map_or(0, |p| p + 1)),
            kind: Set(kind.as_str().to_owned()),
            title: Set(title.to_owned()),
            body: Set(body.to_owned()),
            created_at: Set(now_micros()),
        })
        .exec_without_returning(&txn)
        .await?;
        sessions::Entity::update_many()
            .col_expr(sessions::Column::ActiveSlideId, Some(id.0).into())
            .filter(sessions::Column::Id.eq(session.0))
            .filter(sessions::Column::ActiveSlideId.is_null())
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(Some(SlideRecord { id, kind, title: title.to_owned(), body: body.to_owned() }))
    }

    /// `false` when the slide is not (or no longer) in this session.
    pub async fn update_slide(
        &self,
        session: SessionId,
        slide: SlideId,
        title: &str,
        body: &str,
    ) -> Result<bool, DbErr> {
        let result = slides::Entity::update_many()
            .col_expr(slides::Column::Title, title.into())
            .col_expr(slides::Column::Body, body.into())
            .filter(slides::Column::Id.eq(slide.0))
            .filter(slides::Column::SessionId.eq(session.0))
            .exec(&self.conn)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Swaps a slide with its neighbour; `false` when it is not in the session. Moving the first
    /// slide up (or the last down) leaves the order as it is.
    pub async fn move_slide(&self, session: SessionId, slide: SlideId, direction: Move) -> Result<bool, DbErr> {
        let txn = self.conn.begin().await?;
        let all = slides::Entity::find()
            .filter(slides::Column::SessionId.eq(session.0))
            .order_by_asc(slides::Column::Position)
            .order_by_asc(slides::Column::CreatedAt)
            .all(&txn)
            .await?;
        let Some(index) = all.iter().position(|s| s.id == slide.0) else {
            return Ok(false);
        };
        let other = match direction {
            Move::Up => index.checked_sub(1),
            Move::Down => Some(index + 1).filter(|i| *i < all.len()),
        };
        if let Some(other) = other {
            let mut order: Vec<&slides::Model> = all.iter().collect();
            order.swap(index, other);
            // Renumbering the whole list also mends positions left with gaps by deletions.
            for (position, s) in order.iter().enumerate() {
                if s.position != position as i32 {
                    slides::Entity::update_many()
                        .col_expr(slides::Column::Position, (position as i32).into())
                        .filter(slides::Column::Id.eq(s.id))
                        .exec(&txn)
                        .await?;
                }
            }
        }
        txn.commit().await?;
        Ok(true)
    }

    /// Deletes a slide; if participants were seeing it, they see no slide until another is chosen.
    pub async fn delete_slide(&self, session: SessionId, slide: SlideId) -> Result<bool, DbErr> {
        let txn = self.conn.begin().await?;
        sessions::Entity::update_many()
            .col_expr(sessions::Column::ActiveSlideId, Option::<uuid::Uuid>::None.into())
            .filter(sessions::Column::Id.eq(session.0))
            .filter(sessions::Column::ActiveSlideId.eq(slide.0))
            .exec(&txn)
            .await?;
        let result = slides::Entity::delete_many()
            .filter(slides::Column::Id.eq(slide.0))
            .filter(slides::Column::SessionId.eq(session.0))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(result.rows_affected == 1)
    }

    /// Chooses the slide participants see; `false` when it is not in the session.
    pub async fn set_active_slide(&self, session: SessionId, slide: SlideId) -> Result<bool, DbErr> {
        let txn = self.conn.begin().await?;
        let exists = slides::Entity::find_by_id(slide.0)
            .filter(slides::Column::SessionId.eq(session.0))
            .one(&txn)
            .await?
            .is_some();
        if exists {
            sessions::Entity::update_many()
                .col_expr(sessions::Column::ActiveSlideId, Some(slide.0).into())
                .filter(sessions::Column::Id.eq(session.0))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(exists)
    }
}
