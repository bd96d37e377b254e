use super::{accounts::urlencode, FormError};
use crate::functions::sessions::{my_sessions, CreateSession};
use crate::rules::sessions::{SessionError, TITLE_MAX_CHARS};
use leptos::prelude::*;
use leptos_router::{
    components::{Redirect, A},
    hooks::use_location,
};

/// Sends an anonymous visitor to log in, and back here afterwards.
#[component]
pub(super) fn LoginRedirect() -> impl IntoView {
    let location = use_location();
    let here = format!("{}{}", location.pathname.get_untracked(), location.search.get_untracked());
    view! { <Redirect path=format!("/login?next={}", urlencode(&here))/> }
}

/// A session error as the page shows it; sets the matching HTTP status when rendered on the server.
#[component]
pub(super) fn SessionErrorView(error: SessionError) -> impl IntoView {
    if error == SessionError::NotLoggedIn {
        return view! { <LoginRedirect/> }.into_any();
    }
    super::set_error_status(&error);
    view! {
        <section class="card narrow">
            <p class="error" role="alert">{error.to_string()}</p>
            <p><A href="/sessions">"Back to my sessions"</A></p>
        </section>
    }
    .into_any()
}

#[component]
pub fn MySessionsPage() -> impl IntoView {
    let sessions = Resource::new_blocking(|| (), |_| my_sessions());
    view! {
        <leptos_meta::Title text="My sessions · Ruche"/>
        <section class="page">
            <div class="page-head">
                <h1>"My sessions"</h1>
                <A href="/sessions/new" attr:class="button primary">"Create a session"</A>
            </div>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty">"You have no sessions yet: create one to get started."</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <ul class="session-list">
                                {list.into_iter().map(|s| view! {
                                    <li>
                                        <A href=format!("/s/{}", s.id)>{s.title}</A>
                                        {(s.role != crate::rules::sessions::Role::Owner).then(|| view! {
                                            <span class="badge">{s.role.label()}</span>
                                        })}
                                        <span class="status" class:closed=!s.is_open>
                                            <super::session_host::PadlockIcon open=s.is_open/>
                                            {if s.is_open { "Open" } else { "Closed" }}
                                        </span>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <SessionErrorView error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
pub fn CreateSessionPage() -> impl IntoView {
    let action = ServerAction::<CreateSession>::new();
    // Asking to log in up front beats losing a typed title to a refused submit.
    let me = Resource::new_blocking(|| (), |_| crate::functions::accounts::me());
    view! {
        <leptos_meta::Title text="Create a session · Ruche"/>
        <Suspense>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(_)) => view! {
                        <section class="card narrow">
                            <h1>"Create a session"</h1>
                            <ActionForm action=action attr:novalidate=true>
                                <label>
                                    "Title"
                                    <input type="text" name="title" maxlength=TITLE_MAX_CHARS required autofocus
                                        placeholder="Monday all-hands"/>
                                </label>
                                <FormError value=action.value()/>
                                <button type="submit" class="primary">"Create the session"</button>
                            </ActionForm>
                        </section>
                    }.into_any(),
                    Ok(None) => view! { <LoginRedirect/> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
