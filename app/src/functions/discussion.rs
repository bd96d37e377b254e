//! The Discussion's server functions: participants post, like, edit and delete their own
//! messages; hosts (the owner and co-facilitators) open or close it, choose how it runs, moderate,
//! ban and clear. Every rule is checked here, on the server, whatever the page shows.
use crate::ids::{MessageId, SessionId};
use crate::rules::discussion::{DiscussionError, DiscussionSettings, Moderation, OnScreen};
use crate::states::{DiscussionView, MessageView};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::{
    ids::{ParticipantId, UserId},
    live_protocol::DiscussionEvent,
    rules::discussion::{clean_message, shown_author, MessageState, MESSAGES_PER_PAGE},
    rules::limits::whole_seconds,
    services::{auth, reply, visitor, ServerContext},
    storage::{Cursor, MessageRecord, NewMessage, PostRefused, Seen},
};

super::server_fn_error!(DiscussionError);

/// The participant calling, in a session that is open, with a Discussion they are not banned
/// from.
#[cfg(feature = "ssr")]
struct Speaker {
    ctx: ServerContext,
    participant: crate::storage::Participant,
    settings: DiscussionSettings,
}

#[cfg(feature = "ssr")]
async fn speaker(id: SessionId) -> Result<Speaker, DiscussionError> {
    speaker_found(id, false).await
}

/// `speaker`, for someone posting: looked up with the others posting (`Speakers::find_poster`).
#[cfg(feature = "ssr")]
async fn poster(id: SessionId) -> Result<Speaker, DiscussionError> {
    speaker_found(id, true).await
}

#[cfg(feature = "ssr")]
async fn speaker_found(id: SessionId, posting: bool) -> Result<Speaker, DiscussionError> {
    let ctx = ServerContext::get()?;
    let visitor = visitor::visitor_digest().ok_or(DiscussionError::NotJoined)?;
    let found = match posting {
        true => ctx.speakers.find_poster(id, &visitor).await?,
        false => ctx.speakers.find(id, &visitor).await?,
    };
    let found = found.ok_or(DiscussionError::NotJoined)?;
    if found.banned {
        return Err(DiscussionError::Banned);
    }
    if !found.session_open {
        return Err(DiscussionError::SessionClosed);
    }
    Ok(Speaker { ctx, participant: found.participant, settings: found.settings })
}

#[cfg(feature = "ssr")]
impl Speaker {
    /// Posting and liking need the Discussion open; reading, editing or deleting one's own do not.
    fn may_speak(&self) -> Result<(), DiscussionError> {
        if self.settings.open {
            Ok(())
        } else {
            Err(DiscussionError::DiscussionClosed)
        }
    }

    async fn own_message(&self, id: SessionId, message: MessageId) -> Result<MessageRecord, DiscussionError> {
        let record = self.message_in(id, message).await?;
        if record.participant_id != self.participant.id {
            return Err(DiscussionError::NotYours);
        }
        Ok(record)
    }

    async fn message_in(&self, id: SessionId, message: MessageId) -> Result<MessageRecord, DiscussionError> {
        message_in(&self.ctx, id, message).await
    }
}

#[cfg(feature = "ssr")]
async fn message_in(ctx: &ServerContext, id: SessionId, message: MessageId) -> Result<MessageRecord, DiscussionError> {
    ctx.db.message(message).await?.filter(|m| m.session_id == id).ok_or(DiscussionError::NoSuchMessage)
}

/// A host of the session (its owner or a co-facilitator), within their budget of changes.
#[cfg(feature = "ssr")]
async fn moderator(id: SessionId) -> Result<(ServerContext, UserId), DiscussionError> {
    let ctx = ServerContext::get()?;
    let user = auth::current_user_id(&ctx.db).await?.ok_or(DiscussionError::NotLoggedIn)?;
    ctx.db.role_in_session(id, user).await?.ok_or(DiscussionError::NoAccess)?;
    ctx.limits.take_change(user).map_err(|wait| DiscussionError::TooManyChanges(whole_seconds(wait)))?;
    Ok((ctx, user))
}

/// What participants see of a change to a message that was `before` (none: it is new).
#[cfg(feature = "ssr")]
fn public_change(before: Option<MessageState>, now: &MessageView) -> Option<DiscussionEvent> {
    if now.state == MessageState::Published {
        Some(DiscussionEvent::Message(now.clone()))
    } else if before == Some(MessageState::Published) {
        Some(DiscussionEvent::Removed(vec![now.id]))
    } else {
        None
    }
}

/// Tells every tab of the session that a message is gone.
#[cfg(feature = "ssr")]
async fn tell_removed(ctx: &ServerContext, id: SessionId, gone: &MessageRecord) {
    let removed = DiscussionEvent::Removed(vec![gone.view.id]);
    let public = (gone.view.state == MessageState::Published).then(|| removed.clone());
    ctx.live.discussion(ctx, id, removed, public).await;
}

/// Tells every tab of the session how a message now is (`before`: its state until now).
#[cfg(feature = "ssr")]
async fn tell_message(ctx: &ServerContext, id: SessionId, before: Option<MessageState>, now: &MessageView) {
    ctx.live.discussion(ctx, id, DiscussionEvent::Message(now.clone()), public_change(before, now)).await;
}

#[cfg(feature = "ssr")]
fn views(records: Vec<MessageRecord>) -> Vec<MessageView> {
    records.into_iter().map(|r| r.view).collect()
}

/// What the participant page shows of the Discussion (read while the server renders it, and by
/// a tab that wants it again).
#[server(endpoint = "participant_discussion")]
pub async fn participant_discussion(id: SessionId) -> Result<DiscussionView, DiscussionError> {
    reply(
        async move {
            let speaker = speaker(id).await?;
            load_view(&speaker.ctx.db, id, speaker.participant.id, speaker.settings).await
        }
        .await,
    )
}

/// What a participant's page shows of the Discussion (also for a closed session's page, which
/// shows it once the session opens again).
#[cfg(feature = "ssr")]
pub(crate) async fn load_view(
    db: &crate::storage::Db,
    id: SessionId,
    participant: ParticipantId,
    settings: DiscussionSettings,
) -> Result<DiscussionView, DiscussionError> {
    let mut messages = db.messages(id, Seen::Published, None, MESSAGES_PER_PAGE + 1).await?;
    let more = messages.len() as u64 > MESSAGES_PER_PAGE;
    messages.truncate(MESSAGES_PER_PAGE as usize);
    let mine = db.messages_of(participant, MESSAGES_PER_PAGE).await?;
    let shown: Vec<MessageId> = messages.iter().chain(&mine).map(|m| m.view.id).collect();
    let liked = db.liked_among(participant, &shown).await?;
    Ok(DiscussionView { settings, messages: views(messages), more, mine: views(mine), liked, seq: None })
}

/// Published messages older than the one posted at `before_at` with id `before`, newest first.
#[server(endpoint = "older_messages")]
pub async fn older_messages(
    id: SessionId,
    before_at: i64,
    before: MessageId,
) -> Result<Vec<MessageView>, DiscussionError> {
    reply(
        async move {
            let speaker = speaker(id).await?;
            let after = Some(Cursor { posted_at: before_at, id: before });
            Ok(views(speaker.ctx.db.messages(id, Seen::Published, after, MESSAGES_PER_PAGE).await?))
        }
        .await,
    )
}

/// Posts a message. In a Discussion under nicknames, a participant without one gives it here
/// (`nickname`), and it becomes theirs for the session.
#[server(endpoint = "post_message")]
pub async fn post_message(
    id: SessionId,
    text: String,
    #[server(default)] nickname: Option<String>,
) -> Result<MessageView, DiscussionError> {
    reply(
        async move {
            let mut speaker = poster(id).await?;
            speaker.may_speak()?;
            let text = clean_message(&text)?;
            let given = crate::rules::joining::clean_nickname(nickname.as_deref().unwrap_or_default())
                .map_err(|_| DiscussionError::InvalidNickname)?;
            if given.is_some() && !speaker.settings.anonymous && given != speaker.participant.nickname {
                speaker.ctx.db.set_nickname(speaker.participant.id, given.as_deref()).await?;
                speaker.participant.nickname = given;
            }
            let author = shown_author(&speaker.settings, speaker.participant.nickname.as_deref())?;
            let participant: ParticipantId = speaker.participant.id;
            speaker.ctx.limits.take_post(participant).map_err(|wait| DiscussionError::TooFast(whole_seconds(wait)))?;
            let state = MessageState::of_new(&speaker.settings);
            let new = NewMessage { session: id, participant, author, body: text, state };
            match speaker.ctx.discussion_writes.post(new).await? {
                Ok(record) => {
                    tell_message(&speaker.ctx, id, None, &record.view).await;
                    Ok(record.view)
                }
                Err(PostRefused::Full) => Err(DiscussionError::Full),
                Err(PostRefused::NoSuchSession) => Err(DiscussionError::SessionClosed),
            }
        }
        .await,
    )
}

/// Likes a message (`like`), or takes the like back. Returns its count of likes.
#[server(endpoint = "like_message")]
pub async fn like_message(id: SessionId, message: MessageId, like: bool) -> Result<u32, DiscussionError> {
    reply(
        async move {
            let speaker = speaker(id).await?;
            speaker.may_speak()?;
            let participant = speaker.participant.id;
            speaker.ctx.limits.take_like(participant).map_err(|wait| DiscussionError::TooFast(whole_seconds(wait)))?;
            // Only what participants can see can be liked: a published message of this session.
            let likes = speaker
                .ctx
                .discussion_writes
                .like(id, message, participant, like)
                .await?
                .ok_or(DiscussionError::NoSuchMessage)?;
            speaker.ctx.live.liked(&speaker.ctx, id, message).await;
            Ok(likes)
        }
        .await,
    )
}

/// Replaces the text of one's own message. In a Discussion reviewed first, it waits for a host
/// again only if it was never published; a published one stays so.
#[server(endpoint = "edit_message")]
pub async fn edit_message(id: SessionId, message: MessageId, text: String) -> Result<MessageView, DiscussionError> {
    reply(
        async move {
            let speaker = speaker(id).await?;
            speaker.may_speak()?;
            let text = clean_message(&text)?;
            let before = speaker.own_message(id, message).await?.view.state;
            let participant = speaker.participant.id;
            speaker.ctx.limits.take_post(participant).map_err(|wait| DiscussionError::TooFast(whole_seconds(wait)))?;
            let record = speaker
                .ctx
                .db
                .edit_message(message, participant, &text)
                .await?
                .ok_or(DiscussionError::NoSuchMessage)?;
            tell_message(&speaker.ctx, id, Some(before), &record.view).await;
            Ok(record.view)
        }
        .await,
    )
}

/// Deletes one's own message.
#[server(endpoint = "delete_own_message")]
pub async fn delete_own_message(id: SessionId, message: MessageId) -> Result<(), DiscussionError> {
    reply(
        async move {
            let speaker = speaker(id).await?;
            let gone = speaker.own_message(id, message).await?;
            if speaker.ctx.db.delete_message(message).await? {
                tell_removed(&speaker.ctx, id, &gone).await;
            }
            Ok(())
        }
        .await,
    )
}

/// Every message of the session, whatever its state, newest first, a page at a time: what hosts
/// moderate.
#[server(endpoint = "host_discussion")]
pub async fn host_discussion(
    id: SessionId,
    #[server(default)] before_at: Option<i64>,
    #[server(default)] before: Option<MessageId>,
) -> Result<(DiscussionSettings, Vec<MessageView>), DiscussionError> {
    reply(
        async move {
            let ctx = ServerContext::get()?;
            let user = auth::current_user_id(&ctx.db).await?.ok_or(DiscussionError::NotLoggedIn)?;
            ctx.db.role_in_session(id, user).await?.ok_or(DiscussionError::NoAccess)?;
            let after = before_at.zip(before).map(|(posted_at, id)| Cursor { posted_at, id });
            let messages = ctx.db.messages(id, Seen::All, after, MESSAGES_PER_PAGE).await?;
            Ok((ctx.db.discussion_settings(id).await?, views(messages)))
        }
        .await,
    )
}

/// Opens or closes the Discussion, and chooses whether messages are reviewed first, whether they
/// appear under nicknames, and what the projection screen shows of them.
#[server(endpoint = "set_discussion")]
pub async fn set_discussion(
    id: SessionId,
    open: bool,
    review_first: bool,
    anonymous: bool,
    #[server(default)] on_screen: OnScreen,
) -> Result<DiscussionSettings, DiscussionError> {
    reply(
        async move {
            let (ctx, _) = moderator(id).await?;
            let settings = DiscussionSettings { open, review_first, anonymous, on_screen };
            ctx.db.set_discussion_settings(id, settings).await?;
            let event = DiscussionEvent::Settings(settings);
            ctx.live.discussion(&ctx, id, event.clone(), Some(event)).await;
            Ok(settings)
        }
        .await,
    )
}

/// Approves, refuses, hides, pins or marks a message answered (or undoes a pin or an answer).
#[server(endpoint = "moderate_message")]
pub async fn moderate_message(
    id: SessionId,
    message: MessageId,
    decision: Moderation,
) -> Result<MessageView, DiscussionError> {
    reply(
        async move {
            let (ctx, _) = moderator(id).await?;
            let before = message_in(&ctx, id, message).await?.view.state;
            match ctx.db.moderate_message(message, decision).await? {
                Some(Ok(record)) => {
                    tell_message(&ctx, id, Some(before), &record.view).await;
                    Ok(record.view)
                }
                Some(Err(_)) => Err(DiscussionError::NotApplicable),
                None => Err(DiscussionError::NoSuchMessage),
            }
        }
        .await,
    )
}

/// Deletes any message of the session.
#[server(endpoint = "delete_message")]
pub async fn delete_message(id: SessionId, message: MessageId) -> Result<(), DiscussionError> {
    reply(
        async move {
            let (ctx, _) = moderator(id).await?;
            let gone = message_in(&ctx, id, message).await?;
            if ctx.db.delete_message(message).await? {
                tell_removed(&ctx, id, &gone).await;
            }
            Ok(())
        }
        .await,
    )
}

/// Bans the author of a message: every message of theirs goes, and their browser can neither
/// post nor follow the session again. Returns how many messages went.
#[server(endpoint = "ban_author")]
pub async fn ban_author(id: SessionId, message: MessageId) -> Result<usize, DiscussionError> {
    reply(
        async move {
            let (ctx, _) = moderator(id).await?;
            let (visitor, gone) = ctx.db.ban_author(id, message).await?.ok_or(DiscussionError::NoSuchMessage)?;
            // Removed first, so that the banned phone too sees its messages go; then it is let go.
            let removed = DiscussionEvent::Removed(gone.clone());
            ctx.live.discussion(&ctx, id, removed.clone(), Some(removed)).await;
            ctx.live.banned(&ctx, id, &visitor).await;
            Ok(gone.len())
        }
        .await,
    )
}

/// Deletes every message of the Discussion.
#[server(endpoint = "clear_discussion")]
pub async fn clear_discussion(id: SessionId) -> Result<u64, DiscussionError> {
    reply(
        async move {
            let (ctx, _) = moderator(id).await?;
            let cleared = ctx.db.clear_discussion(id).await?;
            ctx.live.discussion(&ctx, id, DiscussionEvent::Cleared, Some(DiscussionEvent::Cleared)).await;
            Ok(cleared)
        }
        .await,
    )
}
