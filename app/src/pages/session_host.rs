use super::sessions::SessionErrorView;
use crate::functions::sessions::{host_session, SessionForHost, SetSessionOpen};
use crate::ids::SessionId;
use crate::rules::sessions::SessionError;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn HostSessionPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<SessionId>().ok());
    let set_open = ServerAction::<SetSessionOpen>::new();
    let session = Resource::new_blocking(
        move || (id(), set_open.version().get()),
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
                    Ok(s) => view! { <HostView session=s set_open/> }.into_any(),
                    Err(e) => view! { <SessionErrorView error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn HostView(session: SessionForHost, set_open: ServerAction<SetSessionOpen>) -> impl IntoView {
    view! {
        <leptos_meta::Title text=format!("{} · Ruche", session.title)/>
        <section class="session-host">
            <div class="session-bar">
                <h1>{session.title.clone()}</h1>
                <Padlock session=session action=set_open/>
            </div>
            <super::FormError value=set_open.value()/>
        </section>
    }
}

/// The padlock at the top right: shows whether participants can get in; the owner clicks it to
/// close or open the session. Its accessible name is the state, "Session open" or "Session closed".
#[component]
fn Padlock(session: SessionForHost, action: ServerAction<SetSessionOpen>) -> impl IntoView {
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
