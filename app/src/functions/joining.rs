use crate::ids::SessionId;
use crate::rules::joining::JoinError;
use crate::states::PublicState;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::{
    rules::{joining::clean_nickname, limits::whole_seconds, session_code::SessionCode},
    server::{reply, see_other, visitor, ServerContext},
    states::PublicView,
    storage::{WayIn, WayInKind},
};

impl crate::rules::HttpStatus for JoinError {
    fn http_status(&self) -> u16 {
        match self {
            Self::MalformedCode | Self::InvalidNickname => 400,
            Self::UnknownCode | Self::UnknownLink => 404,
            Self::Retired | Self::Deleted => 410,
            Self::Closed | Self::NotJoined | Self::Full => 403,
            Self::TooManyAttempts(_) => 429,
            Self::Malformed => 400,
            Self::TooLarge => 413,
            Self::Internal | Self::Unreachable(_) => 500,
            Self::Unavailable => 503,
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            Self::TooManyAttempts(seconds) => Some(*seconds),
            Self::Unavailable => Some(crate::rules::UNAVAILABLE_RETRY_SECS),
            _ => None,
        }
    }
}

crate::server_fn_error!(JoinError);

/// What a participant sees.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantScreen {
    pub session_id: SessionId,
    pub nickname: Option<String>,
    /// What every participant of the session sees: always `Open` from `participant_view`, where
    /// a closed session answers `JoinError::Closed`; `Open` or `Closed` on the participant page.
    pub public: PublicState,
}

/// How a visitor asks to come in: the code they typed, or the token of the link they followed.
#[derive(Clone, Copy, Debug)]
pub enum Way<'a> {
    Code(&'a str),
    Link(&'a str),
}

/// A way in refused at `/join` or `/j/<token>` (the server crate's `join_pages`), handed in the
/// request's extensions to the page that says why, which must not try it a second time.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug)]
pub struct Refused(pub JoinError);

/// Lets `visitor` (from `ip`) in through a code or a link; returns the session they are now a
/// participant of. The server functions below and the join pages both come through here.
///
/// A code is guessable: a failure is taken from the visitor's and the address's budgets before the
/// lookup (so a burst of parallel guesses cannot all pass while the first are looked up) and given
/// back when the code led to a session, open or closed (a closed session tells a guesser nothing
/// worth limiting, and a room that tried before the host opened must not be slowed). A link is not
/// guessable: a right one always goes in, and only a wrong one uses the budgets.
#[cfg(feature = "ssr")]
pub async fn enter(
    ctx: &ServerContext,
    way: Way<'_>,
    visitor: &str,
    ip: std::net::IpAddr,
) -> Result<SessionId, JoinError> {
    let code;
    let (kind, value) = match way {
        Way::Code(typed) => {
            code = SessionCode::parse(typed).map_err(|_| JoinError::MalformedCode)?;
            (WayInKind::Code, code.as_str())
        }
        // Looked up as given: base64url tokens and the hex ones of old links alike. Anything else
        // finds nothing and counts as a failed guess.
        Way::Link(token) => (WayInKind::Link, token.trim()),
    };
    let too_many = |wait| JoinError::TooManyAttempts(whole_seconds(wait));
    let attempt = match kind {
        WayInKind::Code => Some(ctx.limits.take_join(visitor, ip).map_err(too_many)?),
        WayInKind::Link => None,
    };
    let found = ctx.find_way_in(kind, value).await;
    let failure = match found {
        Ok(WayIn::Current(session)) => {
            if let Some(attempt) = attempt {
                ctx.limits.give_back_join(attempt);
            }
            if !session.is_open {
                return Err(JoinError::Closed);
            }
            if !ctx.has_room_for(session.id, visitor).await? {
                return Err(JoinError::Full);
            }
            if !ctx.live.is_admitted(session.id, visitor) {
                ctx.limits.take_new_participant(ip).map_err(too_many)?;
            }
            if let Err(e) = ctx.joins.join(session.id, visitor).await {
                // Deleted between the lookup and the write: its foreign key refused the row.
                if !crate::storage::is_unavailable(&e) && ctx.db.session_was_deleted(session.id).await? {
                    return Err(JoinError::Deleted);
                }
                return Err(e.into());
            }
            ctx.live.admit(session.id, visitor);
            return Ok(session.id);
        }
        Ok(WayIn::Retired) => JoinError::Retired,
        Ok(WayIn::Deleted) => JoinError::Deleted,
        Ok(WayIn::Unknown) => match kind {
            WayInKind::Code => JoinError::UnknownCode,
            WayInKind::Link => JoinError::UnknownLink,
        },
        Err(e) => {
            if let Some(attempt) = attempt {
                ctx.limits.give_back_join(attempt);
            }
            return Err(e.into());
        }
    };
    if attempt.is_none() {
        // A wrong link: kept as a failure, like a wrong code.
        let _failure = ctx.limits.take_join(visitor, ip).map_err(too_many)?;
    }
    // Guesses spread over many addresses, each within its budgets: every failure slows down,
    // while right codes and links go on going in at once.
    if let Some(delay) = ctx.limits.failure_delay() {
        tokio::time::sleep(delay).await;
    }
    Err(failure)
}

/// `enter` for a server function's request, then to the participant page.
#[cfg(feature = "ssr")]
async fn enter_by_call(way: Way<'_>) -> Result<SessionId, JoinError> {
    let ctx = ServerContext::get().ok_or(JoinError::Internal)?;
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
    let ctx = ServerContext::get().ok_or(JoinError::Internal)?;
    let visitor = visitor::visitor_digest().ok_or(JoinError::NotJoined)?;
    let Some(participant) = ctx.db.participant(id, &visitor).await? else {
        // A deleted session took its participants with it: they are told why.
        return Err(if ctx.db.session_was_deleted(id).await? { JoinError::Deleted } else { JoinError::NotJoined });
    };
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
    Ok(ParticipantScreen { session_id: id, nickname: participant.nickname, public })
}

#[server(endpoint = "set_nickname")]
pub async fn set_nickname(id: SessionId, nickname: String) -> Result<Option<String>, JoinError> {
    reply(
        async move {
            let ctx = ServerContext::get().ok_or(JoinError::Internal)?;
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
