//! The projection screen (`/s/<id>/screen`, hosts only): the active slide alone, filling a
//! second screen or a projector, without the host's tools. It follows the host live channel, so
//! another slide, a new code, closing and deletion show at once.
use crate::live_protocol::{host_path, HostMessage};
use crate::pages::host::WhileHostsMayFollow;
use crate::pages::islands::TabTitle;
use crate::pages::live_socket::{use_live, LiveNotice};
use crate::pages::slides::SlideBody;
use crate::states::{HostState, SlideContent, SlideView, WaysIn};
use leptos::prelude::*;

/// What the screen shows, derived from the newest host state.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Shown {
    Closed,
    /// No slide yet: the title, as participants see it.
    Title(String),
    Slide(SlideView),
}

fn shown(state: &HostState) -> Shown {
    if !state.is_open {
        return Shown::Closed;
    }
    match state.active_slide.and_then(|active| state.slides.iter().find(|s| s.id == active)) {
        Some(slide) => Shown::Slide(slide.clone()),
        None => Shown::Title(state.title.clone()),
    }
}

#[component]
pub fn ScreenPage() -> impl IntoView {
    // Only hosts may follow the session: the same check and refusal as the host page.
    crate::pages::host::for_hosts("ScreenIsland", |loaded, discussion| {
        view! { <ScreenIsland loaded=loaded.state discussion/> }.into_any()
    })
}

/// The screen's part that follows the session, fetched only by the projection screen.
#[island(lazy)]
fn ScreenIsland(loaded: HostState, discussion: crate::live_protocol::DiscussionList) -> impl IntoView {
    crate::pages::islands::island_started();
    let pushed = RwSignal::new(None::<HostState>);
    let deleted = RwSignal::new(false);
    let discussion = RwSignal::new(discussion);
    let live = use_live(
        move || host_path(loaded.id),
        move |message| match message {
            HostMessage::State(state) => pushed.set(Some(state)),
            HostMessage::Deleted => deleted.set(true),
            // The room sees no count.
            HostMessage::Presence { .. } => {}
            HostMessage::Discussion(message) => discussion.update(|list| list.apply(message)),
        },
    );
    let state = Memo::new(move |_| match pushed.get() {
        Some(state) if state.stamp > loaded.stamp => state,
        _ => loaded.clone(),
    });
    view! {
        <WhileHostsMayFollow deleted live>
            <Screen state discussion/>
        </WhileHostsMayFollow>
        <LiveNotice status=live/>
    }
    .into_any()
}

#[component]
fn Screen(state: Memo<HostState>, discussion: RwSignal<crate::live_protocol::DiscussionList>) -> impl IntoView {
    let title = Memo::new(move |_| state.with(|s| s.title.clone()));
    let shown = Memo::new(move |_| state.with(shown));
    let full = RwSignal::new(false);
    fullscreen::follow(full);
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        let typing = ev.ctrl_key() || ev.meta_key() || ev.alt_key();
        if !typing && (ev.key() == "f" || ev.key() == "F") {
            fullscreen::toggle();
        }
    });
    on_cleanup(move || handle.remove());
    let lang = crate::pages::page_language();
    view! {
        <TabTitle text=move || format!("{} · {}", crate::texts::host_screen(lang), title.get())/>
        <section class="projection" aria-label=crate::texts::host_screen(lang)>
            {move || match shown.get() {
                Shown::Closed => view! { <p class="projection-closed" role="status">{crate::texts::join_error_closed(lang)}</p> }.into_any(),
                Shown::Title(title) => view! { <h1 class="projection-title">{title}</h1> }.into_any(),
                Shown::Slide(SlideView { content: SlideContent::LinkAndQr(ways_in), .. }) => view! { <RoomWaysIn ways_in/> }.into_any(),
                Shown::Slide(slide) => view! { <div class="projection-slide"><SlideBody slide/></div> }.into_any(),
            }}
            <crate::pages::discussion::ScreenDiscussion list=discussion/>
            <button type="button" class="projection-full" on:click=move |_| fullscreen::toggle()
                title=crate::texts::screen_full_title(lang) aria-keyshortcuts="F">
                {move || if full.get() { crate::texts::screen_exit_full(lang) } else { crate::texts::screen_full(lang) }}
            </button>
        </section>
    }
    .into_any()
}

/// The "Link and QR code" slide as the back of a room reads it: the QR code over most of the
/// screen's height, the code in large digits, the link under them.
#[component]
fn RoomWaysIn(ways_in: WaysIn) -> impl IntoView {
    let WaysIn { code, link, qr_svg, .. } = ways_in;
    let lang = crate::pages::page_language();
    view! {
        <figure class="projection-ways-in">
            <img class="projection-qr" src=qr_svg alt=crate::texts::qr_alt(lang, &link)/>
            <p class="projection-code">{code}</p>
            <p class="projection-link">{link}</p>
        </figure>
    }
}

/// The browser's Fullscreen API, on the whole page.
mod fullscreen {
    use leptos::prelude::*;

    /// Keeps `full` in step with the browser, which also leaves full screen on Esc.
    pub fn follow(full: RwSignal<bool>) {
        #[cfg(feature = "hydrate")]
        {
            let handle = window_event_listener_untyped("fullscreenchange", move |_| {
                full.set(document().fullscreen_element().is_some());
            });
            on_cleanup(move || handle.remove());
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = full;
    }

    pub fn toggle() {
        #[cfg(feature = "hydrate")]
        {
            let document = document();
            if document.fullscreen_element().is_some() {
                document.exit_fullscreen();
            } else if let Some(root) = document.document_element() {
                if let Err(e) = root.request_fullscreen() {
                    leptos::logging::warn!("full screen refused: {e:?}");
                }
            }
        }
    }
}
