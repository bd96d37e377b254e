//! The host's pages: the session's host page (this file), its tools (`actions.rs`), slides
//! (`slides.rs`), the Share pop-up and the co-facilitator invitation page (`share.rs`), and the
//! projection screen (`screen.rs`).
pub(super) mod actions;
pub(super) mod screen;
pub(super) mod share;
pub(super) mod slides;

use crate::functions::discussion::host_discussion;
use crate::functions::sessions::{host_session, GenerateNewCode, RenameSession, SessionForHost, SetSessionOpen};
use crate::ids::SessionId;
use crate::live_protocol::{host_path, DiscussionList, HostMessage};
use crate::pages::confirm::Confirm;
use crate::pages::host::actions::{HostActions, HostParts};
use crate::pages::host::slides::SlidesPanel;
use crate::pages::islands::TabTitle;
use crate::pages::live_socket::{use_live, LiveNotice, LiveStatus};
use crate::pages::slides::WaysInFigure;
use crate::pages::{
    widgets::{PadlockIcon, SessionErrorView, SessionRefused},
    FormError,
};
use crate::rules::language::Lang;
use crate::rules::sessions::{SessionError, TITLE_MAX_CHARS};
use crate::states::HostState;
use crate::states::WaysIn;
use crate::texts;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// Which overlays are open. Owned by the page, not by the view of the session, so that they stay
/// as they are whatever changes in the session.
#[derive(Clone, Copy)]
pub(super) struct HostUi {
    qr_open: RwSignal<bool>,
    share_open: RwSignal<bool>,
    confirm_new_code: RwSignal<bool>,
}

/// `/s/<id>`: the host page. The session is loaded here, on the server; the host view is a lazy
/// island, so that participants' phones never download it.
#[component]
pub fn HostSessionPage() -> impl IntoView {
    for_hosts("HostIsland", |loaded, discussion| view! { <HostIsland loaded discussion/> }.into_any())
}

/// A page of `/s/<id>` only its hosts may see (the host view, the projection screen): the
/// session and its Discussion are loaded on the server, and `show` gives the lazy island named
/// `island` (its chunk preloaded) what it shows; anyone else gets the refusal.
pub(super) fn for_hosts(
    island: &'static str,
    show: impl Fn(SessionForHost, DiscussionList) -> AnyView + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let session = load_for_hosts();
    let discussion = load_host_discussion();
    crate::pages::islands::preload_lazy_island(island);
    view! {
        <Suspense>
            {move || {
                let show = show.clone();
                Suspend::new(async move {
                    match session.await {
                        Ok(loaded) => show(loaded, discussion.await.unwrap_or_default()),
                        Err(e) => view! { <SessionErrorView error=e/> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// The Discussion of the page's `/s/<id>` as its hosts see it (every message), loaded on the
/// server; the live channel keeps it current from there.
fn load_host_discussion() -> Resource<Option<DiscussionList>> {
    let id = use_params_map().read_untracked().get("id").and_then(|s| s.parse::<SessionId>().ok());
    Resource::new_blocking(
        move || id,
        |id| async move {
            let id = id?;
            let (settings, messages) = Box::pin(host_discussion(id, None, None)).await.ok()?;
            let more = messages.len() as u64 >= crate::rules::discussion::MESSAGES_PER_PAGE;
            Some(DiscussionList::new(settings, messages, more))
        },
    )
}

/// The session of the page's `/s/<id>`, as its hosts see it (the host page, the projection
/// screen), loaded on the server.
fn load_for_hosts() -> Resource<Result<SessionForHost, SessionError>> {
    let id = use_params_map().read_untracked().get("id").and_then(|s| s.parse::<SessionId>().ok());
    Resource::new_blocking(
        move || id,
        |id| async move {
            match id {
                Some(id) => Box::pin(host_session(id)).await,
                // A malformed id names no session: the same answer as someone else's session.
                None => Err(SessionError::NoAccess),
            }
        },
    )
}

#[island(lazy)]
fn HostIsland(loaded: SessionForHost, discussion: DiscussionList) -> impl IntoView {
    crate::pages::islands::island_started();
    let ui = HostUi {
        qr_open: RwSignal::new(false),
        share_open: RwSignal::new(false),
        confirm_new_code: RwSignal::new(false),
    };
    let id = loaded.state.id;
    let actions = HostActions::new();
    // What the live channel pushed: the session as every host sees it, and the participant count.
    let pushed = RwSignal::new(None::<HostState>);
    let presence = RwSignal::new(None::<u32>);
    let deleted = RwSignal::new(false);
    let discussion = RwSignal::new(discussion);
    let live = use_live(
        move || host_path(id),
        move |message| match message {
            HostMessage::State(state) => pushed.set(Some(state)),
            HostMessage::Presence { participants } => presence.set(Some(participants)),
            HostMessage::Deleted => deleted.set(true),
            HostMessage::Discussion(message) => discussion.update(|list| list.apply(message)),
        },
    );
    // Loaded once. Afterwards the view follows the newest of: what the live channel pushed, and
    // (in case the socket is down) the session read again after each of this tab's own actions.
    let reread = RwSignal::new(None::<SessionForHost>);
    crate::pages::islands::read_again_after(
        move || actions.versions(),
        move || async move {
            if let Ok(session) = host_session(id).await {
                reread.set(Some(session));
            }
        },
    );
    let shown = Memo::new(move |_| {
        let mut newest = loaded.clone();
        if let Some(again) = reread.get().filter(|s| s.stamp > newest.stamp) {
            newest = again;
        }
        if let Some(state) = pushed.get().filter(|s| s.stamp > newest.stamp) {
            newest = SessionForHost { role: newest.role, state };
        }
        newest
    });
    // Until the island has hydrated (its chunk loads after the page), its tools cannot act: with
    // JavaScript on they look so (dimmed, not clickable) instead of swallowing a click; with it
    // off, they are plain forms and work (`style/main.scss`).
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <div class="host-island" data-hydrated=move || hydrated.get().then_some("")>
            <WhileHostsMayFollow deleted live>
                <HostView session=shown actions ui presence discussion/>
            </WhileHostsMayFollow>
        </div>
        <LiveNotice status=live/>
    }
    .into_any()
}

/// What a host's island shows while it may: deleted, its host removed by the owner (the live
/// channel then says `Denied`) or logged out (`LoggedOut`: everywhere, or a password changed in
/// another browser), while the page was open, the view gives way to the sentence.
#[component]
pub(super) fn WhileHostsMayFollow(
    deleted: RwSignal<bool>,
    live: ReadSignal<LiveStatus>,
    children: ChildrenFn,
) -> impl IntoView {
    view! {
        <Show when=move || !deleted.get() fallback=|| view! { <SessionRefused error=SessionError::Deleted/> }>
            {
                let children = children.clone();
                view! {
                    <Show when=move || !matches!(live.get(), LiveStatus::Denied | LiveStatus::LoggedOut)
                        fallback=move || match live.get() {
                            LiveStatus::LoggedOut => {
                                let lang = crate::pages::page_language();
                                view! {
                                    <section class="card narrow">
                                        <p class="error" role="alert">{texts::host_logged_out(lang)}</p>
                                        <p><a href="/login">{texts::nav_log_in(lang)}</a></p>
                                    </section>
                                }.into_any()
                            }
                            _ => view! { <SessionRefused error=SessionError::NoAccess/> }.into_any(),
                        }>
                        {children()}
                    </Show>
                }
            }
        </Show>
    }
}

/// The toolbar's live count, once the live channel has given one.
fn presence_text(participants: u32, lang: Lang) -> String {
    match participants {
        1 => texts::host_one_connected(lang).to_owned(),
        count => texts::host_connected(lang, count),
    }
}

/// The host view. Each part follows only its own slice of the session, so that a change made
/// elsewhere (by another host, say) leaves the rest as it is: an open dialog, a slide being edited,
/// addresses being typed.
#[component]
fn HostView(
    session: Memo<SessionForHost>,
    actions: HostActions,
    ui: HostUi,
    presence: RwSignal<Option<u32>>,
    discussion: RwSignal<DiscussionList>,
) -> impl IntoView {
    let HostUi { qr_open, share_open, confirm_new_code } = ui;
    let (id, role) = session.with_untracked(|s| (s.id, s.role));
    let title = Memo::new(move |_| session.with(|s| s.title.clone()));
    let ways_in = Memo::new(move |_| session.with(|s| s.ways_in.clone()));
    let is_open = Memo::new(move |_| session.with(|s| s.is_open));
    let slides = Memo::new(move |_| session.with(|s| (s.slides.clone(), s.active_slide)));
    let facilitators = Memo::new(move |_| session.with(|s| s.facilitators.clone()));
    let closes_on = Memo::new(move |_| session.with(|s| s.closes_by_itself_on));
    let parts = HostParts { id, role, ways_in, is_open, facilitators };
    let lang = crate::pages::page_language();
    view! {
        <TabTitle text=move || texts::page_title(lang, title.get())/>
        <section class="session-host">
            <div class="session-bar">
                <div class="session-title">
                    <h1>{title}</h1>
                    {role.may_rename().then(|| view! { <RenameTitle id title action=actions.rename/> })}
                </div>
                <div class="session-corner">
                    <button type="button" class="primary" on:click=move |_| share_open.set(true)>{texts::host_share(lang)}</button>
                    <Padlock id role is_open action=actions.set_open/>
                </div>
            </div>
            <div class="toolbar" role="toolbar" aria-label=texts::host_tools(lang)>
                <span class="code-chip">{texts::host_code(lang)}<strong>{move || ways_in.read().code.clone()}</strong></span>
                <span class="presence" role="status">{move || presence.get().map(|n| presence_text(n, lang))}</span>
                <button type="button" on:click=move |_| qr_open.set(true)>{texts::host_qr(lang)}</button>
                // A window of its own, to drag onto the projector.
                <a class="button" href=format!("/s/{id}/screen") target="_blank" rel="noopener">{texts::host_screen(lang)}</a>
                {role.may_generate_code().then(|| view! {
                    <button type="button" on:click=move |_| confirm_new_code.set(true)>{texts::host_new_code(lang)}</button>
                })}
            </div>
            <FormError value=actions.set_open.value()/>
            <FormError value=actions.generate.value()/>
            {move || closes_on.get().map(|day| view! {
                <p class="auto-close-note">{texts::host_closes_by_itself(lang, crate::rules::sessions::day_in_words_in(lang, day))}</p>
            })}
            <Show when=move || share_open.get()>
                <crate::pages::host::share::ShareDialog session=parts actions confirm_new_code close=move || share_open.set(false)/>
            </Show>
            // After the Share pop-up, and above it: opened from the toolbar or from the pop-up.
            <Show when=move || confirm_new_code.get()>
                <Confirm
                    id="new-code"
                    title=texts::host_new_code_title(lang)
                    text=texts::host_new_code_text(lang)
                    cancel=Callback::new(move |_| confirm_new_code.set(false))
                >
                    <button type="button" class="primary" on:click=move |_| {
                        actions.generate.dispatch(GenerateNewCode { id });
                        confirm_new_code.set(false);
                    }>{texts::host_new_code(lang)}</button>
                </Confirm>
            </Show>
            <Show when=move || qr_open.get()>
                <QrOverlay ways_in close=move || qr_open.set(false)/>
            </Show>
            <SlidesPanel id slides actions/>
            <crate::pages::discussion::HostDiscussion id list=discussion/>
        </section>
    }
    // Erased here: the host page's nested view type otherwise overflows the compiler's limits
    // in release builds.
    .into_any()
}

/// The owner's "Rename": the title in a field, saved with the rules of creation; every tab of the
/// session shows the new one at once.
#[component]
fn RenameTitle(id: SessionId, title: Memo<String>, action: ServerAction<RenameSession>) -> impl IntoView {
    let editing = RwSignal::new(false);
    let field = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = field.get() {
            let _ = input.focus();
        }
    });
    // Saved: the field closes. A refusal keeps it open with its sentence.
    Effect::new(move |previous: Option<usize>| {
        let version = action.version().get();
        if previous.is_some_and(|p| p != version) && matches!(action.value().get_untracked(), Some(Ok(_))) {
            editing.set(false);
        }
        version
    });
    let lang = crate::pages::page_language();
    view! {
        <button type="button" class="rename-toggle" aria-expanded=move || editing.get().to_string()
            on:click=move |_| editing.update(|e| *e = !*e)>{texts::host_rename(lang)}</button>
        <Show when=move || editing.get()>
            <ActionForm action attr:class="rename-form" attr:novalidate=true>
                <input type="hidden" name="id" value=id.to_string()/>
                <label>
                    {texts::host_session_title(lang)}
                    <input type="text" name="title" maxlength=TITLE_MAX_CHARS required node_ref=field
                        value=title.get_untracked()/>
                </label>
                <button type="submit" class="primary">{texts::host_save_title(lang)}</button>
                <button type="button" on:click=move |_| editing.set(false)>{texts::confirm_cancel(lang)}</button>
            </ActionForm>
            <FormError value=action.value()/>
        </Show>
    }
    .into_any()
}

/// The QR code, made to be projected: it fills the screen; Esc or "Close" closes it.
#[component]
fn QrOverlay(ways_in: Memo<WaysIn>, close: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            close();
        }
    });
    on_cleanup(move || handle.remove());
    let close_button = NodeRef::<leptos::html::Button>::new();
    // Focus goes into the dialog, so keyboard users land on its controls.
    Effect::new(move |_| {
        if let Some(button) = close_button.get() {
            let _ = button.focus();
        }
    });
    let lang = crate::pages::page_language();
    view! {
        <div class="qr-overlay" role="dialog" aria-modal="true" aria-label=texts::host_qr(lang)>
            {move || view! { <WaysInFigure ways_in=ways_in.get()/> }}
            <p class="qr-actions">
                <a href=move || ways_in.read().qr_svg.clone() download="ruche-qr-code.svg">{texts::host_download_svg(lang)}</a>
                <a href=move || ways_in.read().qr_png.clone() download="ruche-qr-code.png">{texts::host_download_png(lang)}</a>
                <button type="button" node_ref=close_button on:click=move |_| close()>{texts::host_close(lang)}</button>
            </p>
        </div>
    }
}

/// The padlock at the top right: shows whether participants can get in; the owner clicks it to
/// close or open the session. Its accessible name is the state, "Session open" or "Session closed".
#[component]
pub(super) fn Padlock(
    id: SessionId,
    role: crate::rules::sessions::Role,
    is_open: Memo<bool>,
    action: ServerAction<SetSessionOpen>,
) -> impl IntoView {
    let may = role.may_open_or_close();
    let lang = crate::pages::page_language();
    let hint = move || match (may, is_open.get()) {
        (true, true) => texts::padlock_open_hint(lang),
        (true, false) => texts::padlock_closed_hint(lang),
        (false, _) => texts::padlock_owner_only(lang),
    };
    view! {
        <ActionForm action=action attr:class="padlock-form">
            <input type="hidden" name="id" value=id.to_string()/>
            <input type="hidden" name="open" value=move || (!is_open.get()).to_string()/>
            <button
                type="submit"
                class="padlock"
                class:closed=move || !is_open.get()
                aria-label=move || if is_open.get() { texts::padlock_open_label(lang) } else { texts::padlock_closed_label(lang) }
                title=hint
                disabled=move || !may || action.pending().get()
            >
                {move || view! { <PadlockIcon open=is_open.get()/> }}
                <span aria-hidden="true">{move || if is_open.get() { texts::status_open(lang) } else { texts::status_closed(lang) }}</span>
            </button>
        </ActionForm>
    }
}
