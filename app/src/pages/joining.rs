//! The participant side: the join banner, joining by code or link, the participant view.
//! Participants are on phones, often on slow networks or without JavaScript yet: every page
//! here works as plain HTML first.
use super::live::{use_live, LiveNotice};
use super::slides::SlideBody;
use crate::functions::joining::{join_by_code, join_by_link, participant_view, ParticipantScreen, SetNickname};
use crate::states::{PublicState, PublicView};
use crate::states::SlideView;
use crate::ids::SessionId;
use crate::live::{participant_path, ParticipantMessage};
use crate::rules::joining::{JoinError, NICKNAME_MAX_CHARS};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

/// The banner of the home page: a plain GET form, so it works before (and without) the wasm.
#[component]
pub fn JoinBanner(#[prop(optional, into)] error: Option<String>, #[prop(optional, into)] code: Option<String>) -> impl IntoView {
    view! {
        <section class="join-banner" aria-labelledby="join-title">
            <h2 id="join-title">"Join a session"</h2>
            <form method="get" action="/join" class="join-form">
                <label for="join-code">"Session code"</label>
                <div class="join-row">
                    <input id="join-code" name="code" type="text" inputmode="numeric" autocomplete="off"
                        placeholder="123 456" maxlength="11" required value=code/>
                    <button type="submit" class="accent">"Join"</button>
                </div>
                {error.map(|e| view! { <p class="error" role="alert">{e}</p> })}
            </form>
        </section>
    }
}

/// A refused way in: the reason, with the right status, and the banner to try a code.
#[component]
fn JoinRefused(error: JoinError, #[prop(optional)] code: Option<String>) -> impl IntoView {
    super::set_error_status(&error);
    view! {
        <leptos_meta::Title text="Join a session · Ruche"/>
        <JoinBanner error=error.to_string() code=code.unwrap_or_default()/>
    }
}

/// `/join?code=…`: where the banner's form goes. Success redirects (303) into the session.
#[component]
pub fn JoinPage() -> impl IntoView {
    let code = use_query_map().read_untracked().get("code").unwrap_or_default();
    let typed = code.clone();
    let joined = Resource::new_blocking(move || code.clone(), join_by_code);
    view! {
        <Suspense>
            {move || {
                let typed = typed.clone();
                Suspend::new(async move {
                    match joined.await {
                        Ok(id) => view! { <Joining id/> }.into_any(),
                        Err(error) => view! { <JoinRefused error code=typed/> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// `/j/<token>`: the public link.
#[component]
pub fn LinkPage() -> impl IntoView {
    let token = use_params_map().read_untracked().get("token").unwrap_or_default();
    let joined = Resource::new_blocking(move || token.clone(), join_by_link);
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                match joined.await {
                    Ok(id) => view! { <Joining id/> }.into_any(),
                    Err(error) => view! { <JoinRefused error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Shown only where a redirect was not followed.
#[component]
fn Joining(id: SessionId) -> impl IntoView {
    view! { <p class="card narrow">"You are in. "<a href=format!("/p/{id}")>"Go to the session"</a></p> }
}

/// `/p/<session id>`: what a participant sees. They are known by their visitor cookie. The
/// view is loaded here, on the server; with JavaScript, its island follows the live channel:
/// closing, reopening, the shown slide, a new code.
#[component]
pub fn ParticipantPage() -> impl IntoView {
    let Some(id) = use_params_map().read_untracked().get("id").and_then(|s| s.parse::<SessionId>().ok()) else {
        return view! { <JoinRefused error=JoinError::NotJoined/> }.into_any();
    };
    let screen = Resource::new_blocking(move || id, participant_view);
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                match screen.await {
                    // Loaded closed, it may reopen while shown: the island waits for that too.
                    loaded @ (Ok(_) | Err(JoinError::Closed)) => view! { <ParticipantIsland id loaded/> }.into_any(),
                    Err(JoinError::Deleted) => view! { <DeletedNotice/> }.into_any(),
                    Err(error) => view! { <JoinRefused error/> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

#[island]
fn ParticipantIsland(id: SessionId, loaded: Result<ParticipantScreen, JoinError>) -> impl IntoView {
    super::islands::island_started();
    let set_nickname = ServerAction::<SetNickname>::new();
    let pushed = RwSignal::new(None::<PublicState>);
    let live = use_live(participant_path(id), move |ParticipantMessage::State(state)| pushed.set(Some(state)));
    let screen = RwSignal::new(loaded);
    // Read again after a saved nickname, and when a session loaded closed reopens (nickname
    // included).
    let reload = move || async move { screen.set(participant_view(id).await) };
    super::islands::read_again_after(move || set_nickname.version().get(), reload);
    Effect::new(move |_| {
        let open = pushed.with(|p| matches!(p, Some(PublicState { view: PublicView::Open { .. }, .. })));
        if open && screen.with_untracked(|s| matches!(s, Err(JoinError::Closed))) {
            leptos::task::spawn_local(reload());
        }
    });
    let shown = move || match screen.get() {
        Ok(screen) => {
            // Whichever is later of the loaded and the pushed state is shown; the slide follows
            // it, the nickname form is left as it is.
            let loaded = screen.public.clone();
            let public = Memo::new(move |_| match pushed.get() {
                Some(state) if state.stamp > loaded.stamp => state.view,
                _ => loaded.view.clone(),
            });
            let title = Memo::new(move |_| public.with(|p| match p {
                PublicView::Open { title, .. } => title.clone(),
                PublicView::Closed | PublicView::Deleted => String::new(),
            }));
            let slide = Memo::new(move |_| public.with(|p| match p {
                PublicView::Open { slide, .. } => slide.clone(),
                PublicView::Closed | PublicView::Deleted => None,
            }));
            let is_open = Memo::new(move |_| public.with(|p| matches!(p, PublicView::Open { .. })));
            let deleted = Memo::new(move |_| public.with(|p| *p == PublicView::Deleted));
            view! {
                <Show when=move || is_open.get() fallback=move || view! { <ShutNotice deleted/> }>
                    <ParticipantScreenView session_id=screen.session_id nickname=screen.nickname.clone() title slide set_nickname/>
                </Show>
            }.into_any()
        }
        // Loaded closed: deleted meanwhile, the page says so.
        Err(JoinError::Closed) => {
            let deleted = Memo::new(move |_| pushed.with(|p| matches!(p, Some(PublicState { view: PublicView::Deleted, .. }))));
            view! { <ShutNotice deleted/> }.into_any()
        }
        Err(JoinError::Deleted) => view! { <DeletedNotice/> }.into_any(),
        Err(error) => view! { <JoinRefused error/> }.into_any(),
    };
    view! {
        {shown}
        <LiveNotice status=live/>
    }
}

/// A session participants cannot see: closed, or deleted (which may follow a close).
#[component]
fn ShutNotice(deleted: Memo<bool>) -> impl IntoView {
    move || if deleted.get() { view! { <DeletedNotice/> }.into_any() } else { view! { <ClosedNotice/> }.into_any() }
}

#[component]
fn DeletedNotice() -> impl IntoView {
    super::set_error_status(&JoinError::Deleted);
    view! {
        <leptos_meta::Title text="Session deleted · Ruche"/>
        <section class="card narrow closed-notice" role="status">
            <h1>"This session no longer exists."</h1>
            <p>"The host has deleted this session."</p>
        </section>
    }
}

#[component]
fn ClosedNotice() -> impl IntoView {
    super::set_error_status(&JoinError::Closed);
    view! {
        <leptos_meta::Title text="Session closed · Ruche"/>
        <section class="card narrow closed-notice" role="status">
            <h1>"This session is closed."</h1>
            <p>"The host has closed this session. You can join again when they reopen it."</p>
        </section>
    }
}

#[component]
fn ParticipantScreenView(
    session_id: SessionId,
    nickname: Option<String>,
    title: Memo<String>,
    slide: Memo<Option<SlideView>>,
    set_nickname: ServerAction<SetNickname>,
) -> impl IntoView {
    let current_nickname = nickname.clone().unwrap_or_default();
    view! {
        <leptos_meta::Title text=move || format!("{} · Ruche", title.get())/>
        <section class="participant">
            <h1>{title}</h1>
            <div class="slide-frame">
                {move || match slide.get() {
                    Some(slide) => view! { <SlideBody slide/> }.into_any(),
                    None => view! { <p class="empty">"The host has not shown a slide yet."</p> }.into_any(),
                }}
            </div>
            <ActionForm action=set_nickname attr:class="nickname-form" attr:novalidate=true>
                <input type="hidden" name="id" value=session_id.to_string()/>
                <label>
                    "Nickname (optional)"
                    <input type="text" name="nickname" maxlength=NICKNAME_MAX_CHARS autocomplete="nickname"
                        value=current_nickname/>
                </label>
                <super::FormError value=set_nickname.value()/>
                <button type="submit">"Save nickname"</button>
            </ActionForm>
            {nickname.map(|n| view! { <p class="whoami-note">"You appear as "<strong>{n}</strong>"."</p> })}
        </section>
    }
}
