use super::slides::SlideView;
use crate::ids::SessionId;
use crate::rules::joining::JoinError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::{
    rules::{joining::clean_nickname, session_code::SessionCode},
    server::{reply, see_other, visitor, ServerContext},
    storage::{WayIn, WayInKind},
};

impl crate::rules::HttpStatus for JoinError {
    fn http_status(&self) -> u16 {
        match self {
            Self::MalformedCode | Self::InvalidNickname => 400,
            Self::UnknownCode | Self::UnknownLink => 404,
            Self::Retired => 410,
            Self::Closed | Self::NotJoined => 403,
            Self::TooManyAttempts(_) => 429,
            Self::Internal | Self::Unreachable(_) => 500,
        }
    }
}

/// What a participant sees.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantScreen {
    pub session_id: SessionId,
    pub title: String,
    pub nickname: Option<String>,
    pub slide: Option<SlideView>,
}

/// Lets the visitor in through a code or a link, then sends them to the participant view.
#[cfg(feature = "ssr")]
async fn enter(kind: WayInKind, value: &str) -> Result<SessionId, JoinError> {
    let ctx = ServerContext::get().ok_or(JoinError::Internal)?;
    let ip = ctx.client_ip();
    ctx.check_join_limit(ip)?;
    match ctx.db.find_way_in(kind, value).await? {
        WayIn::Current(session) if !session.is_open => Err(JoinError::Closed),
        WayIn::Current(session) => {
            let visitor = visitor::ensure_visitor_digest(ctx.secure_cookies());
            ctx.db.join_session(session.id, &visitor).await?;
            see_other(&format!("/p/{}", session.id));
            Ok(session.id)
        }
        WayIn::Retired => {
            ctx.record_join_failure(ip);
            Err(JoinError::Retired)
        }
        WayIn::Unknown => {
            ctx.record_join_failure(ip);
            Err(match kind {
                WayInKind::Code => JoinError::UnknownCode,
                WayInKind::Link => JoinError::UnknownLink,
            })
        }
    }
}

#[server(endpoint = "join_by_code")]
pub async fn join_by_code(code: String) -> Result<SessionId, JoinError> {
    reply(async move {
        let code = SessionCode::parse(&code).map_err(|_| JoinError::MalformedCode)?;
        enter(WayInKind::Code, code.as_str()).await
    }
    .await)
}

#[server(endpoint = "join_by_link")]
pub async fn join_by_link(token: String) -> Result<SessionId, JoinError> {
    reply(async move {
        // Tokens are lower-case hex; anything else cannot be one, but counts as a failed guess.
        enter(WayInKind::Link, token.trim()).await
    }
    .await)
}

#[server(endpoint = "participant_view")]
pub async fn participant_view(id: SessionId) -> Result<ParticipantScreen, JoinError> {
    reply(async move {
        let ctx = ServerContext::get().ok_or(JoinError::Internal)?;
        let visitor = visitor::visitor_digest().ok_or(JoinError::NotJoined)?;
        let participant = ctx.db.participant(id, &visitor).await?.ok_or(JoinError::NotJoined)?;
        let session = ctx.db.session(id).await?.ok_or(JoinError::NotJoined)?;
        if !session.is_open {
            return Err(JoinError::Closed);
        }
        let slide = match session.active_slide_id {
            Some(active) => ctx.db.slides(id).await?.into_iter().find(|s| s.id == active),
            None => None,
        };
        Ok(ParticipantScreen {
            session_id: id,
            title: session.title.clone(),
            nickname: participant.nickname,
            slide: slide.map(|s| SlideView::of(&ctx, &session, s)),
        })
    }
    .await)
}

#[server(endpoint = "set_nickname")]
pub async fn set_nickname(id: SessionId, nickname: String) -> Result<Option<String>, JoinError> {
    reply(async move {
        let ctx = ServerContext::get().ok_or(JoinError::Internal)?;
        let nickname = clean_nickname(&nickname)?;
        let visitor = visitor::visitor_digest().ok_or(JoinError::NotJoined)?;
        let participant = ctx.db.participant(id, &visitor).await?.ok_or(JoinError::NotJoined)?;
        ctx.db.set_nickname(participant.id, nickname.as_deref()).await?;
        Ok(nickname)
    }
    .await)
}
