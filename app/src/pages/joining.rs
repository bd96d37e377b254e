//! The participant side: the join banner, joining by code or link, the participant view.
//! Participants are on phones, often on slow networks or without JavaScript yet: every page
//! here works as plain HTML first.
use super::islands::TabTitle;
use super::live_socket::{use_live, LiveNotice};
use super::slides::SlideBody;
#[cfg(feature = "ssr")]
use crate::functions::joining::participant_page;
use crate::functions::joining::{ParticipantScreen, SetNickname};
use crate::ids::MessageId;
use crate::ids::SessionId;
use crate::live_protocol::{participant_path, DiscussionEvent, DiscussionList, DiscussionMessage, ParticipantMessage};
use crate::rules::discussion::DiscussionError;
use crate::rules::joining::{JoinError, NICKNAME_MAX_CHARS};
use crate::rules::language::Sentence;
use crate::states::MessageView;
use crate::states::SlideView;
use crate::states::{PublicState, PublicView};
use crate::texts;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

/// The banner of the home page: a plain GET form, so it works before (and without) the wasm.
#[component]
pub fn JoinBanner(
    #[prop(optional, into)] error: Option<String>,
    #[prop(optional, into)] code: Option<String>,
) -> impl IntoView {
    let lang = super::page_language();
    view! {
        <section class="join-banner" aria-labelledby="join-title">
            <h2 id="join-title">{texts::join_title(lang)}</h2>
            <form method="get" action="/join" class="join-form">
                <label for="join-code">{texts::join_code_label(lang)}</label>
                <div class="join-row">
                    <input id="join-code" name="code" type="text" inputmode="numeric" autocomplete="off"
                        placeholder="123 456" maxlength="11" required value=code/>
                    <button type="submit" class="accent">{texts::join_button(lang)}</button>
                </div>
                {error.map(|e| view! { <p class="error" role="alert">{e}</p> })}
            </form>
        </section>
    }
}

/// "Join a session · Ruche", in the page's language.
fn join_page_title() -> String {
    let lang = super::page_language();
    texts::page_title(lang, texts::join_title(lang))
}

/// A refused way in: the reason, with the right status, and the banner to try a code.
#[component]
fn JoinRefused(error: JoinError, #[prop(optional)] code: Option<String>) -> impl IntoView {
    super::set_error_status(&error);
    view! {
        <leptos_meta::Title text=join_page_title()/>
        <JoinBanner error=error.sentence(super::page_language()) code=code.unwrap_or_default()/>
    }
}

/// `/join?code=…`: where the banner's form goes. The server crate's `join_pages` lets the visitor
/// in before any page renders (303 to the session): this page only says why a code was refused.
#[component]
pub fn JoinPage() -> impl IntoView {
    let code = use_query_map().read_untracked().get("code").unwrap_or_default();
    match refusal() {
        Some(error) => view! { <JoinRefused error code/> }.into_any(),
        None => view! { <leptos_meta::Title text=join_page_title()/><JoinBanner code/> }.into_any(),
    }
}

/// `/j/<token>`: the public link. As `/join`, it renders only when the link was refused.
#[component]
pub fn LinkPage() -> impl IntoView {
    match refusal() {
        Some(error) => view! { <JoinRefused error/> }.into_any(),
        None => view! { <leptos_meta::Title text=join_page_title()/><JoinBanner/> }.into_any(),
    }
}

/// Why `join_pages` refused this request's way in, if it did.
fn refusal() -> Option<JoinError> {
    #[cfg(feature = "ssr")]
    return leptos::reactive::owner::with_context::<axum::http::request::Parts, _>(|parts| {
        parts.extensions.get::<crate::services::joining::Refused>().map(|refused| refused.0.clone())
    })
    .flatten();
    #[cfg(not(feature = "ssr"))]
    None
}

/// `/p/<session id>`: what a participant sees. They are known by their visitor cookie. The
/// view is loaded here, on the server; with JavaScript, its island follows the live channel:
/// closing, reopening, the shown slide, a new code.
#[component]
pub fn ParticipantPage() -> impl IntoView {
    let Some(id) = use_params_map().read_untracked().get("id").and_then(|s| s.parse::<SessionId>().ok()) else {
        return view! { <JoinRefused error=JoinError::NotJoined/> }.into_any();
    };
    // Pages render on the server only (`islands.rs`): the wasm never runs this.
    let screen = Resource::new_blocking(
        move || id,
        |id| async move {
            #[cfg(feature = "ssr")]
            let screen = Box::pin(participant_page(id)).await;
            #[cfg(not(feature = "ssr"))]
            let screen = {
                let _ = id;
                Err(JoinError::from(crate::rules::Failure::Internal))
            };
            screen
        },
    );
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                match screen.await {
                    // Loaded closed, it may reopen while shown: the island waits for that too.
                    Ok(loaded) => view! {
                        <ParticipantIsland loaded nickname_error=nickname_error_posted() discussion_error=discussion_error_posted()/>
                    }.into_any(),
                    Err(JoinError::Deleted) => view! { <DeletedNotice/> }.into_any(),
                    Err(error) => view! { <JoinRefused error/> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

/// The nickname form's error when it was posted without JavaScript: the server function sends
/// the browser back to this page with it in the address.
fn nickname_error_posted() -> Option<JoinError> {
    #[cfg(feature = "ssr")]
    return use_context::<leptos::server::ServerActionError>()
        .filter(|posted| posted.path() == <SetNickname as leptos::server_fn::ServerFn>::PATH)
        .map(|posted| leptos::server_fn::error::ServerFnUrlError::<JoinError>::decode_err(posted.err()));
    #[cfg(not(feature = "ssr"))]
    None
}

/// The Discussion's forms' error when one was posted without JavaScript.
fn discussion_error_posted() -> Option<DiscussionError> {
    #[cfg(feature = "ssr")]
    let posted = {
        use crate::functions::discussion::{DeleteOwnMessage, LikeMessage, PostMessage};
        use leptos::server_fn::ServerFn;
        let paths = [PostMessage::PATH, LikeMessage::PATH, DeleteOwnMessage::PATH];
        use_context::<leptos::server::ServerActionError>()
            .filter(|posted| paths.contains(&posted.path()))
            .map(|posted| leptos::server_fn::error::ServerFnUrlError::<DiscussionError>::decode_err(posted.err()))
    };
    #[cfg(not(feature = "ssr"))]
    let posted = None;
    posted
}

/// The participant's view: the only island of the main wasm, so it asks the server nothing
/// through the server functions' client. What changes comes by the live channel; the nickname
/// form posts in place (`islands::submit_in_place`).
#[island]
fn ParticipantIsland(
    loaded: ParticipantScreen,
    nickname_error: Option<JoinError>,
    discussion_error: Option<DiscussionError>,
) -> impl IntoView {
    super::islands::island_started();
    let lang = super::page_language();
    let ParticipantScreen { session_id, nickname, public: loaded, discussion } = loaded;
    super::islands::show_address(&format!("/p/{session_id}"));
    let talk = Talk {
        list: RwSignal::new(DiscussionList {
            seq: discussion.seq,
            ..DiscussionList::new(discussion.settings, discussion.messages, discussion.more)
        }),
        mine: RwSignal::new(discussion.mine),
        liked: RwSignal::new(discussion.liked),
        error: RwSignal::new(discussion_error),
        banned: RwSignal::new(false),
    };
    let pushed = RwSignal::new(None::<PublicState>);
    // A tab that reconnects says where it was in the Discussion's log, and gets what it missed.
    let path = move || participant_path(session_id, talk.list.with_untracked(|list| list.seq));
    let live = use_live(path, move |message| match message {
        ParticipantMessage::State(state) => pushed.set(Some(state)),
        ParticipantMessage::Discussion(message) => {
            // One's own messages waiting for moderation are not in the shared list: a clear or a
            // removal takes them too.
            let events = match &message {
                DiscussionMessage::Event { event, .. } => std::slice::from_ref(event),
                DiscussionMessage::Since { events, .. } => events.as_slice(),
                DiscussionMessage::Snapshot { .. } => &[],
            };
            for event in events {
                match event {
                    DiscussionEvent::Cleared => talk.mine.set(Vec::new()),
                    DiscussionEvent::Removed(ids) => talk.mine.update(|mine| mine.retain(|m| !ids.contains(&m.id))),
                    _ => {}
                }
            }
            talk.list.update(|list| list.apply(message))
        }
    });
    // A host banned this browser: the live channel closed for good (`CLOSE_DENIED`).
    Effect::new(move |_| {
        if live.get() == super::live_socket::LiveStatus::Denied {
            talk.banned.set(true);
        }
    });
    // Whichever is later of the loaded and the pushed state is shown.
    let public = Memo::new(move |_| match pushed.get() {
        Some(state) if state.stamp > loaded.stamp => state.view,
        _ => loaded.view.clone(),
    });
    let title = Memo::new(move |_| {
        public.with(|p| match p {
            PublicView::Open { title, .. } => title.clone(),
            PublicView::Closed | PublicView::Deleted => String::new(),
        })
    });
    let slide = Memo::new(move |_| {
        public.with(|p| match p {
            PublicView::Open { slide, .. } => slide.clone(),
            PublicView::Closed | PublicView::Deleted => None,
        })
    });
    // Redrawn only when this changes: the nickname form keeps what is typed while slides change.
    let shown = Memo::new(move |_| public.with(std::mem::discriminant));
    let nickname = RwSignal::new(nickname);
    let nickname_error = RwSignal::new(nickname_error);
    view! {
        {move || {
            // Read, not only tracked: a memo never read never computes, so never changes.
            let _ = shown.get();
            match public.with_untracked(|p| p.clone()) {
                PublicView::Open { .. } => view! { <ParticipantScreenView session_id title slide nickname nickname_error talk/> }.into_any(),
                PublicView::Closed => view! { <ClosedNotice/> }.into_any(),
                PublicView::Deleted => view! { <DeletedNotice/> }.into_any(),
            }
        }}
        {move || (talk.banned.get() && public.with(|p| *p != PublicView::Deleted)).then(|| view! {
            <p class="error" role="alert">{JoinError::Banned.sentence(lang)}</p>
        })}
        <LiveNotice status=live/>
    }
}

/// What the participant's island holds of the Discussion.
#[derive(Clone, Copy)]
struct Talk {
    list: RwSignal<DiscussionList>,
    mine: RwSignal<Vec<MessageView>>,
    liked: RwSignal<Vec<MessageId>>,
    error: RwSignal<Option<DiscussionError>>,
    /// A host banned this browser: the Discussion is no longer shown.
    banned: RwSignal<bool>,
}

#[component]
fn DeletedNotice() -> impl IntoView {
    super::set_error_status(&JoinError::Deleted);
    let lang = super::page_language();
    view! {
        <TabTitle text=texts::page_title(lang, texts::participant_deleted_tab(lang))/>
        <section class="card narrow closed-notice" role="status">
            <h1>{texts::participant_deleted_title(lang)}</h1>
            <p>{texts::participant_deleted_text(lang)}</p>
        </section>
    }
}

#[component]
fn ClosedNotice() -> impl IntoView {
    super::set_error_status(&JoinError::Closed);
    let lang = super::page_language();
    view! {
        <TabTitle text=texts::page_title(lang, texts::participant_closed_tab(lang))/>
        <section class="card narrow closed-notice" role="status">
            <h1>{texts::participant_closed_title(lang)}</h1>
            <p>{texts::participant_closed_text(lang)}</p>
        </section>
    }
}

#[component]
fn ParticipantScreenView(
    session_id: SessionId,
    title: Memo<String>,
    slide: Memo<Option<SlideView>>,
    nickname: RwSignal<Option<String>>,
    nickname_error: RwSignal<Option<JoinError>>,
    talk: Talk,
) -> impl IntoView {
    let saved = move |answer: Result<Option<String>, JoinError>| match answer {
        Ok(saved) => {
            nickname.set(saved);
            nickname_error.set(None);
        }
        Err(error) => nickname_error.set(Some(error)),
    };
    let post_to = <SetNickname as leptos::server_fn::ServerFn>::PATH;
    let lang = super::page_language();
    view! {
        <TabTitle text=move || texts::page_title(lang, title.get())/>
        <section class="participant">
            <h1>{title}</h1>
            <div class="slide-frame">
                {move || match slide.get() {
                    Some(slide) => view! { <SlideBody slide/> }.into_any(),
                    None => view! { <p class="empty">{texts::participant_no_slide(lang)}</p> }.into_any(),
                }}
            </div>
            <form method="post" action=post_to class="nickname-form" novalidate
                on:submit=super::islands::submit_in_place(saved)>
                <input type="hidden" name="id" value=session_id.to_string()/>
                <label>
                    {texts::participant_nickname_label(lang)}
                    <input type="text" name="nickname" maxlength=NICKNAME_MAX_CHARS autocomplete="nickname"
                        value=nickname.get_untracked().unwrap_or_default()/>
                </label>
                // `FormError`'s markup, without it: through a derived signal, it adds to what the
                // phone downloads.
                {move || nickname_error.get().map(|e| view! { <p class="error" role="alert">{e.sentence(lang)}</p> })}
                <button type="submit">{texts::participant_nickname_save(lang)}</button>
            </form>
            {move || nickname.get().map(|n| view! {
                <p class="whoami-note">
                    {texts::participant_appears_as_before(lang)}<strong>{n}</strong>{texts::participant_appears_as_after(lang)}
                </p>
            })}
            <Show when=move || !talk.banned.get()>
                <super::discussion::ParticipantDiscussion session_id list=talk.list mine=talk.mine liked=talk.liked
                    nickname error=talk.error/>
            </Show>
        </section>
    }
}
