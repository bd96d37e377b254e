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
use crate::rules::language::Sentence;
use crate::rules::sessions::day_in_words_in;
use crate::texts;
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
    let lang = super::page_language();
    view! {
        <section class="card narrow">
            <p class="error" role="alert">{error.sentence(lang)}</p>
            <p><A href="/">{texts::admin_back_home(lang)}</A></p>
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
    let lang = super::page_language();
    let done = match done.as_deref() {
        Some("deleted") => Some(texts::admin_deleted(lang)),
        Some("invited") => Some(texts::admin_invited(lang)),
        _ => None,
    };
    view! {
        <leptos_meta::Title text=texts::page_title(lang, texts::admin_accounts_tab(lang))/>
        <Suspense>
            {move || {
                let search = search.clone();
                Suspend::new(async move {
                    let list = match list.await {
                        Ok(list) => list,
                        Err(error) => return view! { <AdminRefused error/> }.into_any(),
                    };
                    let count = list.lines.len();
                    let summary = match (search.trim().is_empty(), list.more, count) {
                        (true, false, 1) => texts::admin_count_one(lang).to_owned(),
                        (true, false, _) => texts::admin_count(lang, count),
                        (true, true, _) => texts::admin_newest(lang, ACCOUNTS_SHOWN),
                        (false, false, 1) => texts::admin_count_match_one(lang).to_owned(),
                        (false, false, _) => texts::admin_count_match(lang, count),
                        (false, true, _) => texts::admin_newest_match(lang, ACCOUNTS_SHOWN),
                    };
                    let me = list.me;
                    view! {
                        <section class="page">
                            <div class="page-head"><h1>{texts::admin_accounts_tab(lang)}</h1></div>
                            {done.map(|sentence| view! { <p role="status">{sentence}</p> })}
                            <form method="get" action="/admin" role="search" class="admin-search">
                                <label>
                                    {texts::admin_search_label(lang)}
                                    <input type="search" name="q" value=search maxlength=SEARCH_MAX_CHARS/>
                                </label>
                                <button type="submit">{texts::admin_search(lang)}</button>
                            </form>
                            <FormError value=disable.value()/>
                            <FormError value=enable.value()/>
                            <p>{summary}</p>
                            <ul class="account-list">
                                {list.lines.into_iter().map(|line| view! { <AccountItem line me disable enable/> }).collect_view()}
                            </ul>
                            {list.invitations.then(|| view! {
                                <h2>{texts::admin_invite_title(lang)}</h2>
                                <p>{texts::admin_invite_text(lang)}</p>
                                <ActionForm action=invite attr:novalidate=true attr:class="admin-invite">
                                    <label>{texts::account_email(lang)}<input type="email" name="email" autocomplete="off" required/></label>
                                    <FormError value=invite.value()/>
                                    {move || match invite.value().get() {
                                        Some(Ok(sentence)) => Some(view! { <p role="status">{sentence}</p> }),
                                        _ => None,
                                    }}
                                    <button type="submit" class="primary">{texts::admin_invite_send(lang)}</button>
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
    let lang = super::page_language();
    let last_login = match line.last_login_at {
        Some(at) => texts::admin_last_log_in(lang, day_in_words_in(lang, at)),
        None => texts::admin_never_logged_in(lang).to_owned(),
    };
    let sessions = match line.sessions {
        1 => texts::admin_sessions_one(lang).to_owned(),
        n => texts::admin_sessions(lang, n),
    };
    let created = texts::admin_created(lang, day_in_words_in(lang, line.created_at));
    let meta = format!("{sessions} · {last_login} · {created}");
    let id = line.id.to_string();
    let yourself = line.id == me;
    view! {
        <li>
            <p class="account-who">
                <strong>{line.display_name.clone()}</strong>" "<span>{line.email.clone()}</span>
                {line.is_admin.then(|| view! { " "<span class="badge">{texts::admin_badge_admin(lang)}</span> })}
                {line.disabled.then(|| view! { " "<span class="badge warn">{texts::admin_badge_disabled(lang)}</span> })}
                {(!line.email_verified).then(|| view! { " "<span class="badge">{texts::admin_badge_unverified(lang)}</span> })}
                {yourself.then(|| view! { " "<span class="badge">{texts::admin_badge_you(lang)}</span> })}
            </p>
            <p class="meta">{meta}</p>
            {(!yourself).then(|| {
                let delete_href = format!("/admin/accounts/{id}/delete");
                let toggle = if line.disabled {
                    view! {
                        <ActionForm action=enable attr:class="inline">
                            <input type="hidden" name="id" value=id/>
                            <button type="submit">{texts::admin_enable(lang)}</button>
                        </ActionForm>
                    }
                    .into_any()
                } else {
                    view! {
                        <ActionForm action=disable attr:class="inline">
                            <input type="hidden" name="id" value=id/>
                            <button type="submit">{texts::admin_disable(lang)}</button>
                        </ActionForm>
                    }
                    .into_any()
                };
                view! {
                    <div class="actions">
                        {toggle}
                        <A href=delete_href attr:class="button">{texts::admin_delete(lang)}</A>
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
    let lang = super::page_language();
    view! {
        <leptos_meta::Title text=texts::page_title(lang, texts::admin_delete_tab(lang))/>
        <Suspense>
            {move || Suspend::new(async move {
                let line = match account.await {
                    Ok(line) => line,
                    Err(error) => return view! { <AdminRefused error/> }.into_any(),
                };
                let sessions = match line.sessions {
                    0 => texts::admin_delete_no_session(lang).to_owned(),
                    1 => texts::admin_delete_one_session(lang).to_owned(),
                    n => texts::admin_delete_sessions(lang, n),
                };
                view! {
                    <section class="card narrow">
                        <h1>{texts::admin_delete_title(lang, &line.display_name)}</h1>
                        <p>{texts::admin_delete_text(lang, &line.email, &line.display_name, sessions)}</p>
                        <ActionForm action=delete>
                            <input type="hidden" name="id" value=line.id.to_string()/>
                            <FormError value=delete.value()/>
                            <div class="actions">
                                <A href="/admin" attr:class="button">{texts::confirm_cancel(lang)}</A>
                                <button type="submit" class="danger">{texts::admin_delete_button(lang)}</button>
                            </div>
                        </ActionForm>
                    </section>
                }
                .into_any()
            })}
        </Suspense>
    }
}
