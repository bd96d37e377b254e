use crate::ids::{SessionId, SlideId};
use crate::rules::sessions::SessionError;
use crate::rules::slides::{Move, SlideKind};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::{
    rules::{sessions::require_edit_slides, slides::clean_slide_text},
    services::{reply, ServerContext},
};

/// Checks that the caller may edit this session's slides, and counts the change.
#[cfg(feature = "ssr")]
async fn editor(id: SessionId) -> Result<ServerContext, SessionError> {
    let (ctx, user) = super::sessions::changer().await?;
    require_edit_slides(ctx.db.role_in_session(id, user).await?)?;
    Ok(ctx)
}

/// A change to a slide that exists is published to every open tab of the session.
#[cfg(feature = "ssr")]
async fn found(ctx: &ServerContext, id: SessionId, exists: bool) -> Result<(), SessionError> {
    if !exists {
        return Err(SessionError::NoSuchSlide);
    }
    ctx.live.changed(ctx, id).await;
    Ok(())
}

#[server(endpoint = "add_slide")]
pub async fn add_slide(id: SessionId, kind: SlideKind) -> Result<SlideId, SessionError> {
    reply(
        async move {
            let ctx = editor(id).await?;
            let title = match kind {
                SlideKind::LinkAndQr => "",
                SlideKind::Text => "New slide",
            };
            let slide = ctx.db.add_slide(id, kind, title, "").await?.ok_or(SessionError::TooManySlides)?;
            ctx.live.changed(&ctx, id).await;
            Ok(slide.id)
        }
        .await,
    )
}

#[server(endpoint = "update_slide")]
pub async fn update_slide(id: SessionId, slide: SlideId, title: String, body: String) -> Result<(), SessionError> {
    reply(
        async move {
            let ctx = editor(id).await?;
            let (title, body) = clean_slide_text(&title, &body)?;
            let exists = ctx.db.update_slide(id, slide, &title, &body).await?;
            found(&ctx, id, exists).await
        }
        .await,
    )
}

#[server(endpoint = "move_slide")]
pub async fn move_slide(id: SessionId, slide: SlideId, direction: Move) -> Result<(), SessionError> {
    reply(
        async move {
            let ctx = editor(id).await?;
            let exists = ctx.db.move_slide(id, slide, direction).await?;
            found(&ctx, id, exists).await
        }
        .await,
    )
}

#[server(endpoint = "delete_slide")]
pub async fn delete_slide(id: SessionId, slide: SlideId) -> Result<(), SessionError> {
    reply(
        async move {
            let ctx = editor(id).await?;
            let exists = ctx.db.delete_slide(id, slide).await?;
            found(&ctx, id, exists).await
        }
        .await,
    )
}

/// Chooses the slide participants see.
#[server(endpoint = "show_slide")]
pub async fn show_slide(id: SessionId, slide: SlideId) -> Result<(), SessionError> {
    reply(
        async move {
            let ctx = editor(id).await?;
            let exists = ctx.db.set_active_slide(id, slide).await?;
            found(&ctx, id, exists).await
        }
        .await,
    )
}
