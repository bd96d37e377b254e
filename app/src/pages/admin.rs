//! The administrators' pages: the account list (`/admin`) with its search, "Disable", "Enable"
//! and the invitation form, and the confirmation of an account's deletion. Plain HTML whose
//! forms post and come back, with or without JavaScript: no island.
use super::widgets::LoginRedirect;
use super::FormError;
use crate::functions::administration::{
    account_for_admin, accounts, AccountLine, DeleteAccount, DisableAccount, EnableAccount, InviteAccount,
};
use crate::ids::UserId;
use crate::rules::administration::{AdminError, ACCOUNTS_SHOWN, SEARCH_MAX_CHARS};
use crate::rules::sessions::day_in_words;
use leptos::prelude::*;
use leptos_router::{
    components::A,
    hooks::{use_params_map, use_query_map},
};

/// An administration error as the page shows it: logged out, the visitor is sent to log in;
/// otherwise the sentence, with its HTTP status.
#[component]
fn AdminRefused(error: AdminError) -> impl IntoView {
    if error == AdminError::NotLoggedIn {
        return view! { <LoginRedirect/> }.into_any();
    }
    super::set_error_status(&error);
    view! {
        <section class="card narrow">
            <p class="error" role="alert">{error.to_string()}</p>
            <p><A href="/">"Back to the home page"</A></p>
        </section>
    }
    .into_any()
}

#[component]
pub fn AdminPage() -> impl IntoView {
    let query = use_query_map().read_untracked();
    let search = query.get("q").unwrap_or_default();
    let done = query.get("done");
    let list = Resource::new_blocking(
        {
            let search = search.clone();
            move || search.clone()
        },
        |search| Box::pin(accounts(search)),
    );
    let disable = ServerAction::<DisableAccount>::new();
    let enable = ServerAction::<EnableAccount>::new();
    let invite = ServerAction::<InviteAccount>::new();
    let done = match done.as_deref() {
        Some("deleted") => Some("The account and its sessions are deleted.".to_owned()),
        Some("invited") => Some("The invitation is on its way.".to_owned()),
        _ => None,
    };
    view! {
        <leptos_meta::Title text="Accounts · Ruche"/>
        <Suspense>
            {move || {
                let search = search.clone();
                let done = done.clone();
                Suspend::new(async move {
                    let list = match list.await {
                        Ok(list) => list,
                        Err(error) => return view! { <AdminRefused error/> }.into_any(),
                    };
                    let count = list.lines.len();
                    let summary = match (search.trim().is_empty(), list.more) {
                        (true, false) => format!("{count} accounts."),
                        (true, true) => format!("The {ACCOUNTS_SHOWN} newest accounts: search to find others."),
                        (false, false) => format!("{count} accounts match."),
                        (false, true) => format!("The {ACCOUNTS_SHOWN} newest accounts that match: search more precisely to find others."),
                    };
                    let me = list.me;
                    view! {
                        <section class="page">
                            <div class="page-head"><h1>"Accounts"</h1></div>
                            {done.map(|sentence| view! { <p role="status">{sentence}</p> })}
                            <form method="get" action="/admin" role="search" class="admin-search">
                                <label>
                                    "Search by name or e-mail"
                                    <input type="search" name="q" value=search maxlength=SEARCH_MAX_CHARS/>
                                </label>
                                <button type="submit">"Search"</button>
                            </form>
                            <FormError value=disable.value()/>
                            <FormError value=enable.value()/>
                            <p>{summary}</p>
                            <ul class="account-list">
                                {list.lines.into_iter().map(|line| view! { <AccountItem line me disable enable/> }).collect_view()}
                            </ul>
                            {list.invitations.then(|| view! {
                                <h2>"Invite someone"</h2>
                                <p>"They receive a link to create their account with this address. It works once, for 14 days, whoever may sign up otherwise."</p>
                                <ActionForm action=invite attr:novalidate=true attr:class="admin-invite">
                                    <label>"E-mail"<input type="email" name="email" autocomplete="off" required/></label>
                                    <FormError value=invite.value()/>
                                    {move || match invite.value().get() {
                                        Some(Ok(sentence)) => Some(view! { <p role="status">{sentence}</p> }),
                                        _ => None,
                                    }}
                                    <button type="submit" class="primary">"Send the invitation"</button>
                                </ActionForm>
                            })}
                        </section>
                    }
                    .into_any()
                })
            }}
        </Suspense>
    }
}

/// One account: who, what it holds, and what an administrator may do to it.
#[component]
fn AccountItem(
    line: AccountLine,
    me: UserId,
    disable: ServerAction<DisableAccount>,
    enable: ServerAction<EnableAccount>,
) -> impl IntoView {
    let last_login = match line.last_login_at {
        Some(at) => format!("last log-in {}", day_in_words(at)),
        None => "never logged in".to_owned(),
    };
    let sessions = match line.sessions {
        1 => "1 session".to_owned(),
        n => format!("{n} sessions"),
    };
    let meta = format!("{sessions} · {last_login} · created {}", day_in_words(line.created_at));
    let id = line.id.to_string();
    let yourself = line.id == me;
    view! {
        <li>
            <p class="account-who">
                <strong>{line.display_name.clone()}</strong>" "<span>{line.email.clone()}</span>
                {line.is_admin.then(|| view! { " "<span class="badge">"Administrator"</span> })}
                {line.disabled.then(|| view! { " "<span class="badge warn">"Disabled"</span> })}
                {(!line.email_verified).then(|| view! { " "<span class="badge">"Address not verified"</span> })}
                {yourself.then(|| view! { " "<span class="badge">"You"</span> })}
            </p>
            <p class="meta">{meta}</p>
            {(!yourself).then(|| {
                let delete_href = format!("/admin/accounts/{id}/delete");
                let toggle = if line.disabled {
                    view! {
                        <ActionForm action=enable attr:class="inline">
                            <input type="hidden" name="id" value=id/>
                            <button type="submit">"Enable"</button>
                        </ActionForm>
                    }
                    .into_any()
                } else {
                    view! {
                        <ActionForm action=disable attr:class="inline">
                            <input type="hidden" name="id" value=id/>
                            <button type="submit">"Disable"</button>
                        </ActionForm>
                    }
                    .into_any()
                };
                view! {
                    <div class="actions">
                        {toggle}
                        <A href=delete_href attr:class="button">"Delete…"</A>
                    </div>
                }
            })}
        </li>
    }
}

/// "Delete…": what goes with the account, and the button that deletes it.
#[component]
pub fn DeleteAccountPage() -> impl IntoView {
    let id = use_params_map().read_untracked().get("id").and_then(|id| id.parse::<UserId>().ok());
    let delete = ServerAction::<DeleteAccount>::new();
    let account = Resource::new_blocking(
        move || id,
        |id| {
            Box::pin(async move {
                match id {
                    Some(id) => account_for_admin(id).await,
                    None => Err(AdminError::NoSuchAccount),
                }
            })
        },
    );
    view! {
        <leptos_meta::Title text="Delete an account · Ruche"/>
        <Suspense>
            {move || Suspend::new(async move {
                let line = match account.await {
                    Ok(line) => line,
                    Err(error) => return view! { <AdminRefused error/> }.into_any(),
                };
                let sessions = match line.sessions {
                    0 => "It owns no session.".to_owned(),
                    1 => "Its session goes with it: its code and link stop working.".to_owned(),
                    n => format!("Its {n} sessions go with it: their codes and links stop working."),
                };
                view! {
                    <section class="card narrow">
                        <h1>{format!("Delete the account of {}?", line.display_name)}</h1>
                        <p>{format!("{} ({}) can no longer log in, and the account is deleted for good. {sessions} This cannot be undone.", line.display_name, line.email)}</p>
                        <ActionForm action=delete>
                            <input type="hidden" name="id" value=line.id.to_string()/>
                            <FormError value=delete.value()/>
                            <div class="actions">
                                <A href="/admin" attr:class="button">"Cancel"</A>
                                <button type="submit" class="danger">"Delete the account"</button>
                            </div>
                        </ActionForm>
                    </section>
                }
                .into_any()
            })}
        </Suspense>
    }
}
