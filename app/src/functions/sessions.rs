use crate::ids::SessionId;
use crate::rules::sessions::{Role, SessionError};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::{rules::sessions::*, server::{auth, ServerContext}};

/// A line of "My sessions".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    pub id: SessionId,
    pub title: String,
    pub is_open: bool,
    pub role: Role,
}

/// What the host view of a session shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionForHost {
    pub id: SessionId,
    pub title: String,
    pub is_open: bool,
    pub role: Role,
}

#[cfg(feature = "ssr")]
async fn caller() -> Result<(ServerContext, crate::ids::UserId), SessionError> {
    let ctx = ServerContext::get().ok_or(SessionError::Internal)?;
    let user = auth::current_user_id(&ctx.db).await?.ok_or(SessionError::NotLoggedIn)?;
    Ok((ctx, user))
}

#[server(endpoint = "my_sessions")]
pub async fn my_sessions() -> Result<Vec<SessionSummary>, SessionError> {
    let (ctx, user) = caller().await?;
    Ok(ctx
        .db
        .sessions_owned_by(user)
        .await?
        .into_iter()
        .map(|s| SessionSummary { id: s.id, title: s.title, is_open: s.is_open, role: Role::Owner })
        .collect())
}

#[server(endpoint = "create_session")]
pub async fn create_session(title: String) -> Result<SessionId, SessionError> {
    let (ctx, user) = caller().await?;
    let title = clean_title(&title)?;
    let session = ctx.db.create_session(user, &title).await?;
    leptos_axum::redirect(&format!("/s/{}", session.id));
    Ok(session.id)
}

#[server(endpoint = "host_session")]
pub async fn host_session(id: SessionId) -> Result<SessionForHost, SessionError> {
    let (ctx, user) = caller().await?;
    let role = require_host(ctx.db.role_in_session(id, user).await?)?;
    let session = ctx.db.session(id).await?.ok_or(SessionError::NoAccess)?;
    Ok(SessionForHost { id, title: session.title, is_open: session.is_open, role })
}

/// Opens or closes a session. Takes the wanted state rather than toggling, so a double click or
/// a replayed form never flips it back.
#[server(endpoint = "set_session_open")]
pub async fn set_session_open(id: SessionId, open: bool) -> Result<bool, SessionError> {
    let (ctx, user) = caller().await?;
    require_open_or_close(ctx.db.role_in_session(id, user).await?)?;
    ctx.db.set_session_open(id, open).await?;
    Ok(open)
}
