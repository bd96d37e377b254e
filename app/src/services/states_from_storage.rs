//! Reading the live states (`crate::states`) from storage, for the server functions and the hub.
use super::ServerContext;
use crate::ids::{SessionId, UserId};
use crate::rules::slides::SlideKind;
use crate::states::{FacilitatorView, HostState, PublicState, SlideContent, SlideView, WaysIn};
use crate::storage::{FacilitatorRecord, SessionRecord, SlideRecord};

impl HostState {
    /// Reads a session's host state. `stamp` must be taken before `session` was read. Also returns
    /// who may hold the host view now: the owner and the facilitators who accepted.
    pub async fn load(
        ctx: &ServerContext,
        session: SessionRecord,
        stamp: i64,
    ) -> Result<(Self, Vec<UserId>), sea_orm::DbErr> {
        let (slides, facilitators) = tokio::try_join!(ctx.db.slides(session.id), ctx.db.facilitators(session.id))?;
        Ok(Self::of(ctx, session, slides, facilitators, stamp))
    }

    /// As [`load`](Self::load), for the live hub, which has only the id: the three reads run at
    /// once, on separate readers, because every event waits for them before its fan-out. They
    /// were never one snapshot (no transaction), so running them together loses nothing; a
    /// mutation racing them sends its own, later state. `None` once the session is deleted.
    pub async fn load_by_id(
        ctx: &ServerContext,
        id: SessionId,
        stamp: i64,
    ) -> Result<Option<(Self, Vec<UserId>)>, sea_orm::DbErr> {
        let (session, slides, facilitators) =
            tokio::try_join!(ctx.db.session(id), ctx.db.slides(id), ctx.db.facilitators(id))?;
        Ok(session.map(|session| Self::of(ctx, session, slides, facilitators, stamp)))
    }

    fn of(
        ctx: &ServerContext,
        session: SessionRecord,
        slides: Vec<SlideRecord>,
        facilitators: Vec<FacilitatorRecord>,
        stamp: i64,
    ) -> (Self, Vec<UserId>) {
        let mut hosts = vec![session.owner_id];
        hosts.extend(facilitators.iter().filter_map(|f| f.user.as_ref().map(|u| u.id)));
        let state = Self {
            stamp,
            id: session.id,
            title: session.title.clone(),
            is_open: session.is_open,
            ways_in: WaysIn::of(ctx, &session),
            active_slide: session.active_slide_id,
            slides: slides.into_iter().map(|s| SlideView::of(ctx, &session, s)).collect(),
            facilitators: facilitators.into_iter().map(FacilitatorView::from).collect(),
            closes_by_itself_on: ctx.auto_close.closes_at(session.last_hosted_at).filter(|_| session.is_open),
        };
        (state, hosts)
    }
}

impl PublicState {
    /// `stamp` must be taken before `session` was read.
    pub async fn load(ctx: &ServerContext, session: &SessionRecord, stamp: i64) -> Result<Self, sea_orm::DbErr> {
        let slide = match session.active_slide_id {
            Some(active) if session.is_open => ctx.db.slides(session.id).await?.into_iter().find(|s| s.id == active),
            _ => None,
        };
        let slide = slide.map(|s| SlideView::of(ctx, session, s));
        Ok(Self::new(stamp, session.is_open, &session.title, slide))
    }
}

impl WaysIn {
    pub fn of(ctx: &ServerContext, session: &SessionRecord) -> Self {
        let token = &session.link_token;
        Self {
            code: session.code.display_grouped(),
            link: ctx.join_link(token),
            qr_svg: format!("/j/{token}/qr.svg"),
            qr_png: format!("/j/{token}/qr.png"),
        }
    }
}

impl SlideView {
    pub fn of(ctx: &ServerContext, session: &SessionRecord, slide: SlideRecord) -> Self {
        let content = match slide.kind {
            SlideKind::LinkAndQr => SlideContent::LinkAndQr(WaysIn::of(ctx, session)),
            SlideKind::Text => SlideContent::Text { title: slide.title, body: slide.body },
        };
        Self { id: slide.id, content }
    }
}

impl From<FacilitatorRecord> for FacilitatorView {
    fn from(f: FacilitatorRecord) -> Self {
        Self { id: f.id, active: f.user.is_some(), display_name: f.user.map(|u| u.display_name), email: f.email }
    }
}
