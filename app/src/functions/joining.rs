use crate::ids::SessionId;
use crate::rules::joining::JoinError;
use crate::states::PublicState;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::{
    rules::joining::clean_nickname,
    services::joining::{enter, Way},
    services::{reply, see_other, visitor, ServerContext},
    states::PublicView,
};

super::server_fn_error!(JoinError);

/// What a participant sees.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantScreen {
    pub session_id: SessionId,
    pub nickname: Option<String>,
    /// What every participant of the session sees: always `Open` from `participant_view`, where
    /// a closed session answers `JoinError::Closed`; `Open` or `Closed` on the participant page.
    pub public: PublicState,
    pub discussion: crate::states::DiscussionView,
}

/// `enter` for a server function's request, then to the participant page.
#[cfg(feature = "ssr")]
async fn enter_by_call(way: Way<'_>) -> Result<SessionId, JoinError> {
    let ctx = ServerContext::get()?;
    let visitor = visitor::ensure_visitor_digest(ctx.secure_cookies());
    let id = enter(&ctx, way, &visitor, ctx.client_ip()).await?;
    see_other(&format!("/p/{id}"));
    Ok(id)
}

/// For scripts and API clients; people join at `/join?code=…` (the server crate's `join_pages`).
#[server(endpoint = "join_by_code")]
pub async fn join_by_code(code: String) -> Result<SessionId, JoinError> {
    reply(enter_by_call(Way::Code(&code)).await)
}

/// For scripts and API clients; people follow `/j/<token>` (the server crate's `join_pages`).
#[server(endpoint = "join_by_link")]
pub async fn join_by_link(token: String) -> Result<SessionId, JoinError> {
    reply(enter_by_call(Way::Link(&token)).await)
}

#[server(endpoint = "participant_view")]
pub async fn participant_view(id: SessionId) -> Result<ParticipantScreen, JoinError> {
    reply(
        async move {
            let screen = load_participant_screen(id).await?;
            if screen.public.view == PublicView::Closed {
                return Err(JoinError::Closed);
            }
            Ok(screen)
        }
        .await,
    )
}

/// What the participant page shows, read while the server renders it: `participant_view`'s
/// answer, but a closed session loads too, nickname included, so that its island can show it
/// open again when the live channel says so without asking the server anything.
#[cfg(feature = "ssr")]
pub async fn participant_page(id: SessionId) -> Result<ParticipantScreen, JoinError> {
    reply(load_participant_screen(id).await)
}

#[cfg(feature = "ssr")]
async fn load_participant_screen(id: SessionId) -> Result<ParticipantScreen, JoinError> {
    let ctx = ServerContext::get()?;
    let visitor = visitor::visitor_digest().ok_or(JoinError::NotJoined)?;
    // The participant, their ban and the Discussion's settings, in one query (with a room's other
    // page loads of the moment).
    let Some(found) = ctx.speakers.find(id, &visitor).await? else {
        // A deleted session took its participants with it: they are told why.
        return Err(if ctx.db.session_was_deleted(id).await? { JoinError::Deleted } else { JoinError::NotJoined });
    };
    if found.banned {
        return Err(JoinError::Banned);
    }
    let participant = found.participant;
    // Sockets of the session here hold its state, renewed after every change has committed
    // (before the change answers its host; on another instance, once its notice arrives).
    let public = match ctx.live.public_state(id) {
        Some(held) => held,
        None => {
            let stamp = crate::storage::now_micros();
            let session = ctx.db.session(id).await?.ok_or(JoinError::NotJoined)?;
            PublicState::load(&ctx, &session, stamp).await?
        }
    };
    // Read before the messages: what changes after is sent again, which changes nothing.
    let seq = ctx.live.discussion_position(id);
    let discussion = crate::functions::discussion::load_view(&ctx.db, id, participant.id, found.settings)
        .await
        .map_err(|e| match e {
            crate::rules::discussion::DiscussionError::Failed(failure) => JoinError::Failed(failure),
            _ => JoinError::Failed(crate::rules::Failure::Internal),
        })?;
    let discussion = crate::states::DiscussionView { seq, ..discussion };
    Ok(ParticipantScreen { session_id: id, nickname: participant.nickname, public, discussion })
}

#[server(endpoint = "set_nickname")]
pub async fn set_nickname(id: SessionId, nickname: String) -> Result<Option<String>, JoinError> {
    reply(
        async move {
            let ctx = ServerContext::get()?;
            let nickname = clean_nickname(&nickname)?;
            let visitor = visitor::visitor_digest().ok_or(JoinError::NotJoined)?;
            let participant = ctx.db.participant(id, &visitor).await?.ok_or(JoinError::NotJoined)?;
            // A closed session lets its audience do nothing.
            if !ctx.db.session(id).await?.is_some_and(|s| s.is_open) {
                return Err(JoinError::Closed);
            }
            ctx.db.set_nickname(participant.id, nickname.as_deref()).await?;
            Ok(nickname)
        }
        .await,
    )
}
