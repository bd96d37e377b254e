use crate::ids::SessionId;
use crate::rules::sessions::{Role, SessionError};
use crate::states::HostState;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::{
    rules::sessions::*,
    services::{auth, reply, ServerContext},
};

super::server_fn_error!(SessionError);

#[cfg(feature = "ssr")]
impl From<crate::storage::CodeRefused> for SessionError {
    fn from(refused: crate::storage::CodeRefused) -> Self {
        use crate::storage::CodeRefused::*;
        match refused {
            TooManySessions => Self::TooManySessions,
            TooManyDraws => Self::TooManyCodes,
            NoFreeCode => Self::NoFreeCode,
            NoSuchSession => Self::NoAccess,
        }
    }
}

/// A line of "My sessions".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    pub id: SessionId,
    pub title: String,
    pub is_open: bool,
    pub role: Role,
}

/// What the host view of a session shows: the caller's role, and the session as every host
/// sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionForHost {
    pub role: Role,
    // Not flattened: serde's flatten (like internally tagged enums) buffers through its generic
    // `Content` type, which costs the phones' wasm tens of kilobytes.
    pub state: HostState,
}

impl std::ops::Deref for SessionForHost {
    type Target = HostState;
    fn deref(&self) -> &HostState {
        &self.state
    }
}

#[cfg(feature = "ssr")]
/// The logged-in caller of a session function (shared with `slides.rs`).
pub(super) async fn caller() -> Result<(ServerContext, crate::ids::UserId), SessionError> {
    let ctx = ServerContext::get()?;
    let user = auth::current_user_id(&ctx.db).await?.ok_or(SessionError::NotLoggedIn)?;
    Ok((ctx, user))
}

#[cfg(feature = "ssr")]
/// The logged-in caller of a function that changes something, within their budget of changes
/// (`limits::CHANGES_PER_ACCOUNT`; shared with `slides.rs`).
pub(super) async fn changer() -> Result<(ServerContext, crate::ids::UserId), SessionError> {
    let (ctx, user) = caller().await?;
    ctx.limits
        .take_change(user)
        .map_err(|wait| SessionError::TooManyChanges(crate::rules::limits::whole_seconds(wait)))?;
    Ok((ctx, user))
}

#[server(endpoint = "my_sessions")]
pub async fn my_sessions() -> Result<Vec<SessionSummary>, SessionError> {
    reply(
        async move {
            let (ctx, user) = caller().await?;
            Ok(ctx
                .db
                .sessions_hosted_by(user)
                .await?
                .into_iter()
                .map(|(s, role)| SessionSummary { id: s.id, title: s.title, is_open: s.is_open, role })
                .collect())
        }
        .await,
    )
}

#[server(endpoint = "create_session")]
pub async fn create_session(title: String) -> Result<SessionId, SessionError> {
    reply(
        async move {
            let (ctx, user) = changer().await?;
            let title = clean_title(&title)?;
            let session = ctx.db.create_session(user, &title).await??;
            leptos_axum::redirect(&format!("/s/{}", session.id));
            Ok(session.id)
        }
        .await,
    )
}

#[server(endpoint = "host_session")]
pub async fn host_session(id: SessionId) -> Result<SessionForHost, SessionError> {
    reply(
        async move {
            let (ctx, user) = caller().await?;
            let stamp = crate::storage::now_micros();
            let Some((mut session, role)) = ctx.db.session_with_role(id, user).await? else {
                // A host's tab reloaded after the owner deleted the session is told so.
                return Err(if ctx.db.session_was_deleted(id).await? {
                    SessionError::Deleted
                } else {
                    SessionError::NoAccess
                });
            };
            // A host has it in hand: its closing by itself moves on, in the other host tabs too.
            let moved =
                host_activity_is_news(session.last_hosted_at, stamp) && ctx.db.record_host_activity(id, stamp).await?;
            if moved {
                session.last_hosted_at = stamp;
            }
            let (state, _) = HostState::load(&ctx, session, stamp).await?;
            if moved {
                ctx.live.changed(&ctx, id).await;
            }
            Ok(SessionForHost { role, state })
        }
        .await,
    )
}

/// "Generate a new code": a new code and a new link at once; the old ones stop working, and
/// participants already inside stay inside. Returns the new code, grouped for reading.
#[server(endpoint = "generate_new_code")]
pub async fn generate_new_code(id: SessionId) -> Result<String, SessionError> {
    reply(
        async move {
            let (ctx, user) = changer().await?;
            require_generate_code(ctx.db.role_in_session(id, user).await?)?;
            let session = ctx.db.rotate_ways_in(id).await??;
            ctx.live.changed(&ctx, id).await;
            Ok(session.code.display_grouped())
        }
        .await,
    )
}

/// Opens or closes a session. Takes the wanted state rather than toggling, so a double click or
/// a replayed form never flips it back.
#[server(endpoint = "set_session_open")]
pub async fn set_session_open(id: SessionId, open: bool) -> Result<bool, SessionError> {
    reply(
        async move {
            let (ctx, user) = changer().await?;
            require_open_or_close(ctx.db.role_in_session(id, user).await?)?;
            ctx.db.set_session_open(id, open).await?;
            ctx.live.changed(&ctx, id).await;
            Ok(open)
        }
        .await,
    )
}

/// Renames a session (same rules as creating one); every host tab and participant screen shows
/// the new title at once. Returns the title as kept.
#[server(endpoint = "rename_session")]
pub async fn rename_session(id: SessionId, title: String) -> Result<String, SessionError> {
    reply(
        async move {
            let (ctx, user) = changer().await?;
            require_rename(ctx.db.role_in_session(id, user).await?)?;
            let title = clean_title(&title)?;
            ctx.db.rename_session(id, &title).await?;
            ctx.live.changed(&ctx, id).await;
            Ok(title)
        }
        .await,
    )
}

/// "Duplicate": a new open session "Copy of <title>" with the same slides in the same order, a
/// fresh code and link, no participants and no facilitators; it counts against the caller's
/// sessions like any other.
#[server(endpoint = "duplicate_session")]
pub async fn duplicate_session(id: SessionId) -> Result<SessionId, SessionError> {
    reply(
        async move {
            let (ctx, user) = changer().await?;
            let (source, role) = ctx.db.session_with_role(id, user).await?.ok_or(SessionError::NoAccess)?;
            require_duplicate(Some(role))?;
            let copy = ctx.db.duplicate_session(user, id, &copy_title(&source.title)).await??;
            Ok(copy.id)
        }
        .await,
    )
}

/// Deletes a session for good: every open tab of it, hosts' and participants', switches to
/// "This session no longer exists.", which its code and link answer for
/// `DELETED_WAYS_IN_KEPT_DAYS`.
#[server(endpoint = "delete_session")]
pub async fn delete_session(id: SessionId) -> Result<(), SessionError> {
    reply(
        async move {
            let (ctx, user) = changer().await?;
            require_delete(ctx.db.role_in_session(id, user).await?)?;
            if ctx.db.delete_session(id).await? {
                ctx.live.changed(&ctx, id).await;
            }
            Ok(())
        }
        .await,
    )
}
