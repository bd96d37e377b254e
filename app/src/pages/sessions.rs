use super::confirm::Confirm;
use super::widgets::{LoginRedirect, SessionErrorView, SessionRefused};
use super::FormError;
use crate::functions::sessions::{
    my_sessions, CreateSession, DeleteSession, DuplicateSession, SessionSummary, SetSessionOpen,
};
use crate::ids::SessionId;
use crate::rules::language::Sentence;
use crate::rules::sessions::{Role, SessionError, DELETED_WAYS_IN_KEPT_DAYS, TITLE_MAX_CHARS};
use crate::texts;
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_query_map};

/// The actions of "My sessions", shared by every line's ⋮ menu.
#[derive(Clone, Copy)]
struct ListActions {
    set_open: ServerAction<SetSessionOpen>,
    duplicate: ServerAction<DuplicateSession>,
    delete: ServerAction<DeleteSession>,
}

#[component]
pub fn MySessionsPage() -> impl IntoView {
    let sessions = Resource::new_blocking(|| (), |_| Box::pin(my_sessions()));
    // `?delete=<id>` opens the confirmation, so that the ⋮ menu's "Delete" (a link) works
    // without JavaScript.
    let to_delete = use_query_map().read_untracked().get("delete").and_then(|id| id.parse::<SessionId>().ok());
    // Where a new account lands after signing up: the first place to say its address waits.
    let account = Resource::new_blocking(|| (), |_| Box::pin(crate::functions::accounts::me()));
    super::islands::preload_lazy_island("MySessionsIsland");
    let lang = super::page_language();
    view! {
        <leptos_meta::Title text=texts::page_title(lang, texts::nav_my_sessions(lang))/>
        <section class="page">
            <div class="page-head">
                <h1>{texts::nav_my_sessions(lang)}</h1>
                <A href="/sessions/new" attr:class="button primary">{texts::home_create(lang)}</A>
            </div>
            <Suspense>
                {move || Suspend::new(async move {
                    account.await.ok().flatten().filter(|a| !a.email_verified).map(|a| view! { <super::widgets::VerifyBanner email=a.email/> })
                })}
            </Suspense>
            <Suspense>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Ok(list) => view! { <MySessionsIsland list to_delete/> }.into_any(),
                        Err(e) => view! { <SessionErrorView error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
    .into_any()
}

/// The list and its ⋮ menus: redrawn in place after each action, a confirmation that takes the
/// focus and gives it back.
#[island(lazy)]
fn MySessionsIsland(list: Vec<SessionSummary>, to_delete: Option<SessionId>) -> impl IntoView {
    super::islands::island_started();
    let actions =
        ListActions { set_open: ServerAction::new(), duplicate: ServerAction::new(), delete: ServerAction::new() };
    let sessions = RwSignal::new(Ok::<_, SessionError>(list));
    super::islands::read_again_after(
        move || (actions.set_open.version().get(), actions.duplicate.version().get(), actions.delete.version().get()),
        move || async move { sessions.set(my_sessions().await) },
    );
    // The session whose deletion waits for a confirmation.
    let to_delete = RwSignal::new(to_delete);
    Effect::watch(move || actions.delete.version().get(), move |_, _, _| to_delete.set(None), false);
    view! {
        <FormError value=actions.set_open.value()/>
        <FormError value=actions.duplicate.value()/>
        <FormError value=actions.delete.value()/>
        {move || match sessions.get() {
            Ok(list) if list.is_empty() => view! {
                <p class="empty">{texts::sessions_empty(super::page_language())}</p>
            }.into_any(),
            Ok(list) => {
                let titles: Vec<(SessionId, String)> = list.iter().filter(|s| s.role.may_delete()).map(|s| (s.id, s.title.clone())).collect();
                view! {
                    <ul class="session-list">
                        {list.into_iter().map(|s| view! { <SessionLine session=s actions to_delete/> }).collect_view()}
                    </ul>
                    {move || {
                        let id = to_delete.get()?;
                        let title = titles.iter().find(|(s, _)| *s == id)?.1.clone();
                        Some(view! { <ConfirmDelete id title actions to_delete/> })
                    }}
                }.into_any()
            }
            Err(e) => view! { <SessionRefused error=e/> }.into_any(),
        }}
    }
    .into_any()
}

/// A line of "My sessions": the title, the role of a facilitator, the padlock's state, and for
/// the owner a ⋮ menu (a `<details>`, so that it opens without JavaScript too).
#[component]
fn SessionLine(session: SessionSummary, actions: ListActions, to_delete: RwSignal<Option<SessionId>>) -> impl IntoView {
    let SessionSummary { id, title, is_open, role } = session;
    let lang = super::page_language();
    let menu = role.may_delete().then(|| {
        let label = texts::sessions_actions_for(lang, &title);
        let details = NodeRef::<leptos::html::Details>::new();
        // The list is redrawn in place after an action: the menu closes itself, or it would
        // stay open on the redrawn line.
        let close_menu = move |_| {
            if let Some(details) = details.get_untracked() {
                let _ = details.remove_attribute("open");
            }
        };
        view! {
            <details class="line-menu" node_ref=details on:submit=close_menu>
                <summary role="button" aria-label=label title=texts::sessions_actions(lang)>"⋮"</summary>
                <div class="menu">
                    <ActionForm action=actions.set_open>
                        <input type="hidden" name="id" value=id.to_string()/>
                        <input type="hidden" name="open" value=(!is_open).to_string()/>
                        <button type="submit">{if is_open { texts::sessions_close(lang) } else { texts::sessions_open(lang) }}</button>
                    </ActionForm>
                    <ActionForm action=actions.duplicate>
                        <input type="hidden" name="id" value=id.to_string()/>
                        <button type="submit">{texts::sessions_duplicate(lang)}</button>
                    </ActionForm>
                    <a href=format!("/sessions?delete={id}") role="button" class="button danger-text" on:click=move |ev| {
                        ev.prevent_default();
                        to_delete.set(Some(id));
                    }>{texts::sessions_delete(lang)}</a>
                </div>
            </details>
        }
    });
    view! {
        <li>
            <a href=format!("/s/{id}")>{title.clone()}</a>
            {(role != Role::Owner).then(|| view! { <span class="badge">{role.label(lang)}</span> })}
            <span class="status" class:closed=!is_open>
                <super::widgets::PadlockIcon open=is_open/>
                {if is_open { texts::status_open(lang) } else { texts::status_closed(lang) }}
            </span>
            {menu}
        </li>
    }
    .into_any()
}

/// "Delete": names the session and says what goes with it.
#[component]
fn ConfirmDelete(
    id: SessionId,
    title: String,
    actions: ListActions,
    to_delete: RwSignal<Option<SessionId>>,
) -> impl IntoView {
    let lang = super::page_language();
    view! {
        <Confirm
            id="delete-session"
            title=texts::sessions_delete_title(lang, &title)
            text=texts::sessions_delete_text(lang, DELETED_WAYS_IN_KEPT_DAYS)
            cancel=Callback::new(move |_| to_delete.set(None))
            cancel_href="/sessions"
        >
            <ActionForm action=actions.delete attr:class="inline">
                <input type="hidden" name="id" value=id.to_string()/>
                <button type="submit" class="danger">{texts::sessions_delete_button(lang)}</button>
            </ActionForm>
        </Confirm>
    }
}

#[component]
pub fn CreateSessionPage() -> impl IntoView {
    let action = ServerAction::<CreateSession>::new();
    // Asking to log in up front beats losing a typed title to a refused submit.
    let me = Resource::new_blocking(|| (), |_| Box::pin(crate::functions::accounts::me()));
    let lang = super::page_language();
    view! {
        <leptos_meta::Title text=texts::page_title(lang, texts::home_create(lang))/>
        <Suspense>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(_)) => view! {
                        <section class="card narrow">
                            <h1>{texts::home_create(lang)}</h1>
                            <ActionForm action=action attr:novalidate=true>
                                <label>
                                    {texts::create_title_label(lang)}
                                    <input type="text" name="title" maxlength=TITLE_MAX_CHARS required autofocus
                                        placeholder=texts::create_placeholder(lang)/>
                                </label>
                                <FormError value=action.value()/>
                                <button type="submit" class="primary">{texts::create_button(lang)}</button>
                            </ActionForm>
                        </section>
                    }.into_any(),
                    Ok(None) => view! { <LoginRedirect/> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.sentence(lang)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
