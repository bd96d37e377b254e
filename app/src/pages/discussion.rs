//! The Discussion on the participant's page and on the host's. Each form posts to its server
//! function as plain HTML first (without JavaScript the page comes back with the change); once
//! the island runs, forms post in place and the live channel's events keep the list current.
//! Messages are always shown as text, never as markup, and links are not made clickable.
use super::islands::submit_in_place;
use crate::functions::discussion::{
    BanAuthor, ClearDiscussion, DeleteMessage, DeleteOwnMessage, EditMessage, HostDiscussion as HostPage, LikeMessage,
    ModerateMessage, OlderMessages, PostMessage, SetDiscussion,
};
use crate::ids::{MessageId, SessionId};
use crate::live_protocol::DiscussionList;
use crate::rules::discussion::{
    DiscussionError, DiscussionSettings, MessageState, Moderation, OnScreen, Order, MESSAGE_MAX_CHARS,
    SCREEN_MOST_LIKED,
};
use crate::rules::joining::NICKNAME_MAX_CHARS;
use crate::rules::language::{Lang, Sentence};
use crate::states::MessageView;
use crate::texts;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// A message's author as shown.
fn author(message: &MessageView, lang: Lang) -> String {
    message.author.clone().unwrap_or_else(|| texts::discussion_anonymous(lang).to_owned())
}

fn likes_text(likes: u32, lang: Lang) -> String {
    match likes {
        1 => texts::discussion_one_like(lang).to_owned(),
        count => texts::discussion_likes(lang, count),
    }
}

/// Newest first, or most liked first (the newest first among equals); pinned ones first in both.
fn ordered(mut messages: Vec<MessageView>, order: Order) -> Vec<MessageView> {
    match order {
        Order::Recent => messages.sort_by_key(|m| std::cmp::Reverse((m.pinned, m.posted_at))),
        Order::MostLiked => messages.sort_by_key(|m| std::cmp::Reverse((m.pinned, m.likes, m.posted_at))),
    }
    messages
}

/// The Discussion on the participant's page.
#[component]
pub(super) fn ParticipantDiscussion(
    session_id: SessionId,
    list: RwSignal<DiscussionList>,
    mine: RwSignal<Vec<MessageView>>,
    liked: RwSignal<Vec<MessageId>>,
    nickname: RwSignal<Option<String>>,
    error: RwSignal<Option<DiscussionError>>,
) -> impl IntoView {
    let order = RwSignal::new(Order::Recent);
    // The order buttons do something only once the island runs: without it they are not shown.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let settings = Memo::new(move |_| list.with(|l| l.settings));
    let form = NodeRef::<leptos::html::Form>::new();
    let posted = move |answer: Result<MessageView, DiscussionError>| match answer {
        Ok(message) => {
            if message.author.is_some() {
                nickname.set(message.author.clone());
            }
            mine.update(|mine| mine.insert(0, message));
            error.set(None);
            if let Some(form) = form.get_untracked() {
                form.reset();
            }
        }
        Err(e) => error.set(Some(e)),
    };
    // Published messages, and this participant's own whatever their state.
    let shown = Memo::new(move |_| {
        let mut messages = list.with(|l| l.messages.clone());
        mine.with(|mine| {
            for own in mine {
                if own.state != MessageState::Published && !messages.iter().any(|m| m.id == own.id) {
                    messages.push(own.clone());
                }
            }
        });
        ordered(messages, order.get())
    });
    let is_mine = move |id: MessageId| mine.with(|mine| mine.iter().any(|m| m.id == id));
    let post_to = PostMessage::PATH;
    let lang = super::page_language();
    view! {
        <section class="discussion" aria-labelledby="discussion-title">
            <h2 id="discussion-title">{texts::discussion_title(lang)}</h2>
            {move || if settings.get().open {
                view! {
                    <form method="post" action=post_to class="post-form" node_ref=form novalidate
                        on:submit=submit_in_place(posted)>
                        <input type="hidden" name="id" value=session_id.to_string()/>
                        {move || (!settings.get().anonymous && nickname.get().is_none()).then(|| view! {
                            <label>
                                {texts::discussion_your_nickname(lang)}
                                <input type="text" name="nickname" maxlength=NICKNAME_MAX_CHARS autocomplete="nickname"/>
                            </label>
                        })}
                        <label>
                            {texts::discussion_your_message(lang)}
                            <textarea name="text" rows="3" maxlength=MESSAGE_MAX_CHARS></textarea>
                        </label>
                        <button type="submit" class="primary">{texts::discussion_send(lang)}</button>
                    </form>
                }.into_any()
            } else {
                view! {
                    <p class="discussion-closed" role="status">{texts::discussion_closed_note(lang)}</p>
                }.into_any()
            }}
            // Outside the form: a refusal may come as the Discussion closes, the form with it.
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e.sentence(lang)}</p> })}
            <Show when=move || hydrated.get()>
                <div class="order" role="group" aria-label=texts::discussion_order(lang)>
                    <button type="button" aria-pressed=move || (order.get() == Order::Recent).to_string()
                        on:click=move |_| order.set(Order::Recent)>{texts::discussion_most_recent(lang)}</button>
                    <button type="button" aria-pressed=move || (order.get() == Order::MostLiked).to_string()
                        on:click=move |_| order.set(Order::MostLiked)>{texts::discussion_most_liked(lang)}</button>
                </div>
            </Show>
            <ul class="messages" aria-label=texts::discussion_messages(lang)>
                {move || shown.get().into_iter().map(|message| {
                    let id = message.id;
                    let own = is_mine(id);
                    let is_liked = liked.with(|l| l.contains(&id));
                    let may_like = message.state == MessageState::Published && settings.get().open;
                    let likes = message.likes;
                    let on_liked = move |answer: Result<u32, DiscussionError>| match answer {
                        Ok(count) => {
                            liked.update(|l| if is_liked { l.retain(|m| *m != id) } else { l.push(id) });
                            list.update(|l| if let Some(m) = l.messages.iter_mut().find(|m| m.id == id) { m.likes = count });
                            error.set(None);
                        }
                        Err(e) => error.set(Some(e)),
                    };
                    let on_edited = move |answer: Result<MessageView, DiscussionError>| match answer {
                        Ok(edited) => {
                            mine.update(|m| if let Some(m) = m.iter_mut().find(|m| m.id == id) { *m = edited.clone() });
                            list.update(|l| if let Some(m) = l.messages.iter_mut().find(|m| m.id == id) { *m = edited });
                            error.set(None);
                        }
                        Err(e) => error.set(Some(e)),
                    };
                    let on_deleted = move |answer: Result<(), DiscussionError>| match answer {
                        Ok(()) => {
                            mine.update(|m| m.retain(|m| m.id != id));
                            list.update(|l| l.messages.retain(|m| m.id != id));
                        }
                        Err(e) => error.set(Some(e)),
                    };
                    view! {
                        <li class="message" class:pinned=message.pinned>
                            <MessageHead message=message.clone() lang/>
                            <p class="message-body">{message.body.clone()}</p>
                            {(message.state != MessageState::Published).then(|| view! {
                                <p class="message-state">{message.state.label(lang)}</p>
                            })}
                            <div class="message-actions">
                                <span class="likes">{likes_text(likes, lang)}</span>
                                {may_like.then(|| view! {
                                    <form method="post" action=LikeMessage::PATH class="inline" on:submit=submit_in_place(on_liked)>
                                        <input type="hidden" name="id" value=session_id.to_string()/>
                                        <input type="hidden" name="message" value=id.to_string()/>
                                        <input type="hidden" name="like" value=(!is_liked).to_string()/>
                                        <button type="submit" class="like" aria-pressed=is_liked.to_string()>{texts::discussion_like(lang)}</button>
                                    </form>
                                })}
                                {own.then(|| view! {
                                    <details class="edit">
                                        <summary>{texts::discussion_edit(lang)}</summary>
                                        <form method="post" action=EditMessage::PATH class="post-form" on:submit=submit_in_place(on_edited)>
                                            <input type="hidden" name="id" value=session_id.to_string()/>
                                            <input type="hidden" name="message" value=id.to_string()/>
                                            <label>
                                                {texts::discussion_new_text(lang)}
                                                <textarea name="text" rows="3" maxlength=MESSAGE_MAX_CHARS>{message.body.clone()}</textarea>
                                            </label>
                                            <button type="submit">{texts::discussion_save_message(lang)}</button>
                                        </form>
                                    </details>
                                    <form method="post" action=DeleteOwnMessage::PATH class="inline" on:submit=submit_in_place(on_deleted)>
                                        <input type="hidden" name="id" value=session_id.to_string()/>
                                        <input type="hidden" name="message" value=id.to_string()/>
                                        <button type="submit" class="link">{texts::discussion_delete(lang)}</button>
                                    </form>
                                })}
                            </div>
                        </li>
                    }
                }).collect_view()}
            </ul>
            {move || shown.with(Vec::is_empty).then(|| view! { <p class="empty">{texts::discussion_no_messages(lang)}</p> })}
            <Show when=move || hydrated.get()>
                <ShowOlder action=OlderMessages::PATH id=session_id list error older={|older: Vec<MessageView>| older}/>
            </Show>
        </section>
    }
    .into_any()
}

/// "Show older messages": the next page, read by the cursor of the oldest message held, from
/// `action` (participants' `older_messages`, hosts' `host_discussion`), whose answer `older`
/// turns into the messages. Shown while older ones are there to read; it needs the island.
#[component]
fn ShowOlder<T: serde::de::DeserializeOwned + 'static>(
    action: &'static str,
    id: SessionId,
    list: RwSignal<DiscussionList>,
    error: RwSignal<Option<DiscussionError>>,
    older: fn(T) -> Vec<MessageView>,
) -> impl IntoView {
    let oldest = move || list.with(|l| l.more.then(|| l.messages.last().map(|m| (m.posted_at, m.id))).flatten());
    let lang = super::page_language();
    move || {
        oldest().map(|(before_at, before)| {
            let on_older = move |answer: Result<T, DiscussionError>| match answer {
                Ok(answer) => {
                    let older = older(answer);
                    let more = older.len() as u64 >= crate::rules::discussion::MESSAGES_PER_PAGE;
                    list.update(|l| l.add_older(older, more));
                }
                Err(e) => error.set(Some(e)),
            };
            view! {
                <form method="post" action=action on:submit=submit_in_place(on_older)>
                    <input type="hidden" name="id" value=id.to_string()/>
                    <input type="hidden" name="before_at" value=before_at.to_string()/>
                    <input type="hidden" name="before" value=before.to_string()/>
                    <button type="submit">{texts::discussion_show_older(lang)}</button>
                </form>
            }
        })
    }
}

/// Who wrote a message, and what hosts marked it with.
#[component]
fn MessageHead(message: MessageView, lang: Lang) -> impl IntoView {
    view! {
        <p class="message-head">
            <span class="author">{author(&message, lang)}</span>
            {message.pinned.then(|| view! { <span class="tag">{texts::discussion_pinned(lang)}</span> })}
            {message.answered.then(|| view! { <span class="tag">{texts::discussion_answered(lang)}</span> })}
            {message.edited.then(|| view! { <span class="edited">{texts::discussion_edited(lang)}</span> })}
        </p>
    }
}

/// The Discussion on the host's page: how it runs, and every message with what hosts may do.
#[component]
pub(super) fn HostDiscussion(id: SessionId, list: RwSignal<DiscussionList>) -> impl IntoView {
    let lang = super::page_language();
    let error = RwSignal::new(None::<DiscussionError>);
    let confirm_clear = RwSignal::new(false);
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let settings = Memo::new(move |_| list.with(|l| l.settings));
    // Every host form answers with the change, which the live channel brings to every host tab
    // (this one included): the answer itself only carries a refusal.
    fn done<T>(error: RwSignal<Option<DiscussionError>>) -> impl Fn(Result<T, DiscussionError>) + Clone + 'static {
        move |answer| error.set(answer.err())
    }
    let setting = move |label: &'static str, chosen: DiscussionSettings| {
        let DiscussionSettings { open, review_first, anonymous, on_screen } = chosen;
        let pressed = settings.get_untracked() == chosen;
        view! {
            <form method="post" action=SetDiscussion::PATH class="inline" on:submit=submit_in_place(done::<DiscussionSettings>(error))>
                <input type="hidden" name="id" value=id.to_string()/>
                <input type="hidden" name="open" value=open.to_string()/>
                <input type="hidden" name="review_first" value=review_first.to_string()/>
                <input type="hidden" name="anonymous" value=anonymous.to_string()/>
                <input type="hidden" name="on_screen" value=format!("{on_screen:?}")/>
                <button type="submit" aria-pressed=pressed.then_some("true")>{label}</button>
            </form>
        }
    };
    view! {
        <section class="discussion-host" aria-labelledby="discussion-host-title">
            <h2 id="discussion-host-title">{texts::discussion_title(lang)}</h2>
            <p class="discussion-status" role="status">{move || {
                let s = settings.get();
                format!(
                    "{} · {} · {}",
                    if s.open { texts::host_discussion_open(lang) } else { texts::host_discussion_closed(lang) },
                    if s.review_first { texts::host_discussion_reviewed(lang) } else { texts::host_discussion_at_once(lang) },
                    if s.anonymous { texts::host_discussion_anonymous(lang) } else { texts::host_discussion_nicknames(lang) },
                )
            }}</p>
            <div class="discussion-tools">
                {move || {
                    let s = settings.get();
                    view! {
                        {setting(if s.open { texts::host_discussion_close(lang) } else { texts::host_discussion_reopen(lang) }, DiscussionSettings { open: !s.open, ..s })}
                        {setting(if s.review_first { texts::host_discussion_publish_at_once(lang) } else { texts::host_discussion_review_first(lang) }, DiscussionSettings { review_first: !s.review_first, ..s })}
                        {setting(if s.anonymous { texts::host_discussion_show_nicknames(lang) } else { texts::host_discussion_make_anonymous(lang) }, DiscussionSettings { anonymous: !s.anonymous, ..s })}
                        <div role="group" aria-label=texts::host_discussion_on_screen(lang) class="screen-choice">
                            {setting(texts::host_discussion_screen_nothing(lang), DiscussionSettings { on_screen: OnScreen::Nothing, ..s })}
                            {setting(texts::host_discussion_screen_pinned(lang), DiscussionSettings { on_screen: OnScreen::Pinned, ..s })}
                            {setting(texts::host_discussion_screen_most_liked(lang), DiscussionSettings { on_screen: OnScreen::MostLiked, ..s })}
                        </div>
                    }
                }}
                <a class="button" href=format!("/s/{id}/discussion.csv") download="discussion.csv">{texts::host_discussion_export(lang)}</a>
                <button type="button" class="danger" on:click=move |_| confirm_clear.set(true)>{texts::host_discussion_clear(lang)}</button>
            </div>
            <Show when=move || confirm_clear.get()>
                <crate::pages::confirm::Confirm
                    id="clear-discussion"
                    title=texts::host_discussion_clear_title(lang)
                    text=texts::host_discussion_clear_text(lang)
                    cancel=Callback::new(move |_| confirm_clear.set(false))
                >
                    <form method="post" action=ClearDiscussion::PATH class="inline" on:submit={
                        let cleared = done::<u64>(error);
                        submit_in_place(move |answer: Result<u64, DiscussionError>| {
                            confirm_clear.set(false);
                            cleared(answer);
                        })
                    }>
                        <input type="hidden" name="id" value=id.to_string()/>
                        <button type="submit" class="primary">{texts::host_discussion_clear_button(lang)}</button>
                    </form>
                </crate::pages::confirm::Confirm>
            </Show>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e.sentence(lang)}</p> })}
            <ul class="messages" aria-label=texts::discussion_messages(lang)>
                {move || list.with(|l| l.messages.clone()).into_iter().map(|message| {
                    let mid = message.id.to_string();
                    let decide = |label: &'static str, decision: Moderation| view! {
                        <form method="post" action=ModerateMessage::PATH class="inline" on:submit=submit_in_place(done::<MessageView>(error))>
                            <input type="hidden" name="id" value=id.to_string()/>
                            <input type="hidden" name="message" value=mid.clone()/>
                            <input type="hidden" name="decision" value=format!("{decision:?}")/>
                            <button type="submit">{label}</button>
                        </form>
                    };
                    let state_actions = match message.state {
                        MessageState::Pending => view! { {decide(texts::moderate_approve(lang), Moderation::Approve)}{decide(texts::moderate_refuse(lang), Moderation::Refuse)} }.into_any(),
                        MessageState::Published => decide(texts::moderate_hide(lang), Moderation::Hide).into_any(),
                        MessageState::Refused | MessageState::Hidden => decide(texts::moderate_publish(lang), Moderation::Approve).into_any(),
                    };
                    let pin = if message.pinned { decide(texts::moderate_unpin(lang), Moderation::Unpin) } else { decide(texts::moderate_pin(lang), Moderation::Pin) };
                    let answer = if message.answered {
                        decide(texts::moderate_unanswered(lang), Moderation::MarkUnanswered)
                    } else {
                        decide(texts::moderate_answered(lang), Moderation::MarkAnswered)
                    };
                    view! {
                        <li class="message" class:pinned=message.pinned>
                            <MessageHead message=message.clone() lang/>
                            <p class="message-body">{message.body.clone()}</p>
                            <p class="message-state">{message.state.label(lang)}" · "{likes_text(message.likes, lang)}</p>
                            <div class="message-actions">
                                {state_actions}
                                {pin}
                                {answer}
                                <form method="post" action=DeleteMessage::PATH class="inline" on:submit=submit_in_place(done::<()>(error))>
                                    <input type="hidden" name="id" value=id.to_string()/>
                                    <input type="hidden" name="message" value=mid.clone()/>
                                    <button type="submit">{texts::discussion_delete(lang)}</button>
                                </form>
                                <form method="post" action=BanAuthor::PATH class="inline" on:submit=submit_in_place(done::<usize>(error))>
                                    <input type="hidden" name="id" value=id.to_string()/>
                                    <input type="hidden" name="message" value=mid.clone()/>
                                    <button type="submit" class="danger">{texts::moderate_ban(lang)}</button>
                                </form>
                            </div>
                        </li>
                    }
                }).collect_view()}
            </ul>
            {move || list.with(|l| l.messages.is_empty()).then(|| view! { <p class="empty">{texts::discussion_no_messages(lang)}</p> })}
            <Show when=move || hydrated.get()>
                <ShowOlder action=HostPage::PATH id list error
                    older={|(_, older): (DiscussionSettings, Vec<MessageView>)| older}/>
            </Show>
        </section>
    }
    .into_any()
}

/// What the projection screen shows of the Discussion: nothing, the pinned messages, or the
/// most liked, in large type, as the hosts choose; published messages only.
pub(super) fn on_screen(list: &DiscussionList) -> Vec<MessageView> {
    let published = list.messages.iter().filter(|m| m.state == MessageState::Published).cloned();
    match list.settings.on_screen {
        OnScreen::Nothing => Vec::new(),
        OnScreen::Pinned => published.filter(|m| m.pinned).collect(),
        OnScreen::MostLiked => {
            let mut liked = ordered(published.collect(), Order::MostLiked);
            liked.retain(|m| m.likes > 0 || m.pinned);
            liked.truncate(SCREEN_MOST_LIKED);
            liked
        }
    }
}

/// The messages on the projection screen.
#[component]
pub(super) fn ScreenDiscussion(list: RwSignal<DiscussionList>) -> impl IntoView {
    let shown = Memo::new(move |_| list.with(on_screen));
    let lang = super::page_language();
    view! {
        <Show when=move || !shown.with(Vec::is_empty)>
            <ul class="projection-messages" aria-label=texts::discussion_messages(lang)>
                {move || shown.get().into_iter().map(|m| view! {
                    <li class="projection-message">
                        <p class="message-body">{m.body.clone()}</p>
                        <p class="message-head">
                            <span class="author">{author(&m, lang)}</span>
                            <span class="likes">{likes_text(m.likes, lang)}</span>
                        </p>
                    </li>
                }).collect_view()}
            </ul>
        </Show>
    }
}
