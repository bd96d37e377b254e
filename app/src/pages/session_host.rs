use super::slides::{SlideBody, WaysInFigure};
use super::{sessions::SessionErrorView, FormError};
use super::live::{use_live, LiveNotice, LiveStatus};
use crate::functions::sessions::{host_session, GenerateNewCode, HostState, SessionForHost, SetSessionOpen};
use crate::live::{host_path, HostMessage};
use crate::functions::sharing::{AddFacilitators, RemoveFacilitator, SendInvitations};
use crate::functions::slides::{AddSlide, DeleteSlide, MoveSlide, ShowSlide, SlideContent, SlideView, UpdateSlide};
use crate::ids::SessionId;
use crate::rules::sessions::SessionError;
use crate::rules::slides::{Move, SlideKind, SLIDE_BODY_MAX_CHARS, SLIDE_TITLE_MAX_CHARS};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// Every action of the host view; the session is reloaded after any of them.
#[derive(Clone, Copy)]
pub(super) struct HostActions {
    pub set_open: ServerAction<SetSessionOpen>,
    pub generate: ServerAction<GenerateNewCode>,
    pub add: ServerAction<AddSlide>,
    pub update: ServerAction<UpdateSlide>,
    pub reorder: ServerAction<MoveSlide>,
    pub delete: ServerAction<DeleteSlide>,
    pub show: ServerAction<ShowSlide>,
    pub invite: ServerAction<SendInvitations>,
    pub add_facilitators: ServerAction<AddFacilitators>,
    pub remove: ServerAction<RemoveFacilitator>,
}

impl HostActions {
    fn new() -> Self {
        Self {
            set_open: ServerAction::new(),
            generate: ServerAction::new(),
            add: ServerAction::new(),
            update: ServerAction::new(),
            reorder: ServerAction::new(),
            delete: ServerAction::new(),
            show: ServerAction::new(),
            invite: ServerAction::new(),
            add_facilitators: ServerAction::new(),
            remove: ServerAction::new(),
        }
    }

    /// Sending participant invitations changes nothing on the page, so it is not listed.
    fn versions(&self) -> [usize; 9] {
        [
            self.set_open.version().get(),
            self.generate.version().get(),
            self.add.version().get(),
            self.update.version().get(),
            self.reorder.version().get(),
            self.delete.version().get(),
            self.show.version().get(),
            self.add_facilitators.version().get(),
            self.remove.version().get(),
        ]
    }
}

/// Which overlays are open. Owned by the page, not by the view of the loaded session, so that
/// reloading the session after an action (adding a co-facilitator, say) leaves them as they are.
#[derive(Clone, Copy)]
pub(super) struct HostUi {
    qr_open: RwSignal<bool>,
    share_open: RwSignal<bool>,
    confirm_new_code: RwSignal<bool>,
}

#[component]
pub fn HostSessionPage() -> impl IntoView {
    let ui = HostUi { qr_open: RwSignal::new(false), share_open: RwSignal::new(false), confirm_new_code: RwSignal::new(false) };
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<SessionId>().ok());
    let actions = HostActions::new();
    // What the live channel pushed: the session as every host sees it, and the participant count.
    let pushed = RwSignal::new(None::<HostState>);
    let presence = RwSignal::new(None::<u32>);
    let live = match id() {
        Some(id) => use_live(host_path(id), move |message| match message {
            HostMessage::State(state) => pushed.set(Some(state)),
            HostMessage::Presence { participants } => presence.set(Some(participants)),
        }),
        None => signal(LiveStatus::Denied).0,
    };
    let session = Resource::new_blocking(
        move || (id(), actions.versions()),
        |(id, _)| async move {
            match id {
                Some(id) => host_session(id).await,
                // A malformed id names no session: the same answer as someone else's session.
                None => Err(SessionError::NoAccess),
            }
        },
    );
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match session.await {
                    // Whichever is later of the loaded and the pushed state is shown.
                    Ok(loaded) => (move || {
                        if live.get() == LiveStatus::Denied {
                            // Removed by the owner while the page was open.
                            return view! { <SessionErrorView error=SessionError::NoAccess/> }.into_any();
                        }
                        let session = match pushed.get() {
                            Some(state) if state.stamp > loaded.stamp => SessionForHost { role: loaded.role, state },
                            _ => loaded.clone(),
                        };
                        view! { <HostView session actions ui presence/> }.into_any()
                    }).into_any(),
                    Err(e) => view! { <SessionErrorView error=e/> }.into_any(),
                }
            })}
        </Transition>
        <LiveNotice status=live/>
    }
}

/// The toolbar's live count, once the live channel has given one.
fn presence_text(participants: u32) -> String {
    match participants {
        1 => "1 participant connected".to_owned(),
        n => format!("{n} participants connected"),
    }
}

#[component]
fn HostView(session: SessionForHost, actions: HostActions, ui: HostUi, presence: RwSignal<Option<u32>>) -> impl IntoView {
    let HostUi { qr_open, share_open, confirm_new_code } = ui;
    let id = session.id;
    let may_generate = session.role.may_generate_code();
    let ways_in = session.ways_in.clone();
    let for_share = session.clone();
    view! {
        <leptos_meta::Title text=format!("{} · Ruche", session.title)/>
        <section class="session-host">
            <div class="session-bar">
                <h1>{session.title.clone()}</h1>
                <div class="session-corner">
                    <button type="button" class="primary" on:click=move |_| share_open.set(true)>"Share"</button>
                    <Padlock session=session.clone() action=actions.set_open/>
                </div>
            </div>
            <div class="toolbar" role="toolbar" aria-label="Session tools">
                <span class="code-chip">"Code "<strong>{ways_in.code.clone()}</strong></span>
                <span class="presence" role="status">{move || presence.get().map(presence_text)}</span>
                <button type="button" on:click=move |_| qr_open.set(true)>"QR code"</button>
                {may_generate.then(|| view! {
                    <button type="button" on:click=move |_| confirm_new_code.set(true)>"Generate a new code"</button>
                })}
            </div>
            <FormError value=actions.set_open.value()/>
            <FormError value=actions.generate.value()/>
            <Show when=move || confirm_new_code.get()>
                <div class="confirm" role="alertdialog" aria-modal="true" aria-labelledby="new-code-title" aria-describedby="new-code-text">
                    <h2 id="new-code-title">"Generate a new code?"</h2>
                    <p id="new-code-text">
                        "The current code, link and QR code will stop working at once: links already sent will no longer work. "
                        "Participants already inside stay inside, and invitations still waiting to be mailed go out with the new link."
                    </p>
                    <button type="button" class="primary" on:click=move |_| {
                        actions.generate.dispatch(GenerateNewCode { id });
                        confirm_new_code.set(false);
                    }>"Generate a new code"</button>
                    <button type="button" on:click=move |_| confirm_new_code.set(false)>"Cancel"</button>
                </div>
            </Show>
            <Show when=move || share_open.get()>
                <super::share::ShareDialog session=for_share.clone() actions confirm_new_code close=move || share_open.set(false)/>
            </Show>
            <Show when=move || qr_open.get()>
                <QrOverlay ways_in=ways_in.clone() close=move || qr_open.set(false)/>
            </Show>
            <SlidesPanel session actions/>
        </section>
    }
    // Erased here: the host page's nested view type otherwise overflows the compiler's limits
    // in release builds.
    .into_any()
}

/// The QR code, made to be projected: it fills the screen; Esc or "Close" closes it.
#[component]
fn QrOverlay(ways_in: crate::functions::slides::WaysIn, close: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
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
    let (svg, png) = (ways_in.qr_svg.clone(), ways_in.qr_png.clone());
    view! {
        <div class="qr-overlay" role="dialog" aria-modal="true" aria-label="QR code">
            <WaysInFigure ways_in/>
            <p class="qr-actions">
                <a href=svg download="ruche-qr-code.svg">"Download SVG"</a>
                <a href=png download="ruche-qr-code.png">"Download PNG"</a>
                <button type="button" node_ref=close_button on:click=move |_| close()>"Close"</button>
            </p>
        </div>
    }
}

#[component]
fn SlidesPanel(session: SessionForHost, actions: HostActions) -> impl IntoView {
    let id = session.id;
    let count = session.slides.len();
    let active = session.active_slide;
    let slides = session
        .slides
        .clone()
        .into_iter()
        .enumerate()
        .map(|(index, slide)| {
            let is_active = Some(slide.id) == active;
            view! { <SlideItem session_id=id slide index count is_active actions/> }
        })
        .collect_view();
    let add_button = |kind: SlideKind| {
        view! {
            <ActionForm action=actions.add attr:class="inline">
                <input type="hidden" name="id" value=id.to_string()/>
                <input type="hidden" name="kind" value=format!("{kind:?}")/>
                <button type="submit">{kind.label()}</button>
            </ActionForm>
        }
    };
    view! {
        <section class="slides" aria-labelledby="slides-title">
            <h2 id="slides-title">"Slides"</h2>
            {(count == 0).then(|| view! { <p class="empty">"No slides yet. Participants see the session title until you add one."</p> })}
            <ol class="slide-list">{slides}</ol>
            <div class="add-slide" role="group" aria-label="Add a slide">
                <span>"Add a slide:"</span>
                {add_button(SlideKind::LinkAndQr)}
                {add_button(SlideKind::Text)}
            </div>
            <FormError value=actions.add.value()/>
            <FormError value=actions.update.value()/>
            <FormError value=actions.reorder.value()/>
            <FormError value=actions.delete.value()/>
            <FormError value=actions.show.value()/>
        </section>
    }
    .into_any()
}

#[component]
fn SlideItem(session_id: SessionId, slide: SlideView, index: usize, count: usize, is_active: bool, actions: HostActions) -> impl IntoView {
    let slide_id = slide.id;
    let label = match &slide.content {
        SlideContent::LinkAndQr(_) => "Link and QR code".to_owned(),
        SlideContent::Text { title, .. } => format!("Slide {}: {title}", index + 1),
    };
    let (up_label, down_label, delete_label) =
        (format!("Move up: {label}"), format!("Move down: {label}"), format!("Delete: {label}"));
    let editor = match slide.content.clone() {
        SlideContent::Text { title, body } => Some(view! {
            <details class="slide-edit">
                <summary>"Edit"</summary>
                <ActionForm action=actions.update attr:novalidate=true>
                    <SlideIds session_id slide_id/>
                    <label>"Slide title"<input type="text" name="title" maxlength=SLIDE_TITLE_MAX_CHARS value=title/></label>
                    <label>"Slide text"<textarea name="body" rows="4" maxlength=SLIDE_BODY_MAX_CHARS>{body}</textarea></label>
                    <button type="submit" class="primary">"Save"</button>
                </ActionForm>
            </details>
        }),
        SlideContent::LinkAndQr(_) => None,
    };
    view! {
        <li class="slide-item" class:active=is_active aria-current=is_active.then_some("true") aria-label=label>
            <div class="slide-preview"><SlideBody slide/></div>
            <div class="slide-actions">
                <ActionForm action=actions.show attr:class="inline">
                    <SlideIds session_id slide_id/>
                    <button type="submit" disabled=is_active>
                        {if is_active { "Shown to participants" } else { "Show to participants" }}
                    </button>
                </ActionForm>
                <ActionForm action=actions.reorder attr:class="inline">
                    <SlideIds session_id slide_id/>
                    <input type="hidden" name="direction" value=format!("{:?}", Move::Up)/>
                    <button type="submit" aria-label=up_label disabled=index == 0>"↑"</button>
                </ActionForm>
                <ActionForm action=actions.reorder attr:class="inline">
                    <SlideIds session_id slide_id/>
                    <input type="hidden" name="direction" value=format!("{:?}", Move::Down)/>
                    <button type="submit" aria-label=down_label disabled=index + 1 == count>"↓"</button>
                </ActionForm>
                <ActionForm action=actions.delete attr:class="inline">
                    <SlideIds session_id slide_id/>
                    <button type="submit" aria-label=delete_label>"Delete"</button>
                </ActionForm>
            </div>
            {editor}
        </li>
    }
}

/// The hidden fields naming a slide, for its forms.
#[component]
fn SlideIds(session_id: SessionId, slide_id: crate::ids::SlideId) -> impl IntoView {
    view! {
        <input type="hidden" name="id" value=session_id.to_string()/>
        <input type="hidden" name="slide" value=slide_id.to_string()/>
    }
}

/// The padlock at the top right: shows whether participants can get in; the owner clicks it to
/// close or open the session. Its accessible name is the state, "Session open" or "Session closed".
#[component]
pub(super) fn Padlock(session: SessionForHost, action: ServerAction<SetSessionOpen>) -> impl IntoView {
    let open = session.is_open;
    let may = session.role.may_open_or_close();
    let label = if open { "Session open" } else { "Session closed" };
    let hint = match (may, open) {
        (true, true) => "Session open: click to close it",
        (true, false) => "Session closed: click to open it",
        (false, _) => "Only the owner can open or close the session",
    };
    view! {
        <ActionForm action=action attr:class="padlock-form">
            <input type="hidden" name="id" value=session.id.to_string()/>
            <input type="hidden" name="open" value=(!open).to_string()/>
            <button
                type="submit"
                class="padlock"
                class:closed=!open
                aria-label=label
                title=hint
                disabled=move || !may || action.pending().get()
            >
                <PadlockIcon open/>
                <span aria-hidden="true">{if open { "Open" } else { "Closed" }}</span>
            </button>
        </ActionForm>
    }
}

#[component]
pub(super) fn PadlockIcon(open: bool) -> impl IntoView {
    // The shackle swings up and aside when open.
    let shackle = if open { "M7 11V7a5 5 0 0 1 9.9-1" } else { "M7 11V7a5 5 0 0 1 10 0v4" };
    view! {
        <svg class="padlock-icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"
            fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
            <rect x="3" y="11" width="18" height="11" rx="2"/>
            <path d=shackle/>
        </svg>
    }
}
