//! The Share pop-up (top right of a session), and accepting a co-facilitator invitation.
//! Wording follows the help article the product was specified from.
use crate::functions::sharing::{accept_facilitation, InvitationReport};
use crate::pages::host::actions::{HostActions, HostParts};
use crate::pages::widgets::LoginRedirect;
use crate::pages::widgets::SendVerificationAgain;
use crate::pages::FormError;
use crate::rules::language::{Lang, Sentence};
use crate::rules::sharing::SharingError;
use crate::texts;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn ShareDialog(
    session: HostParts,
    actions: HostActions,
    confirm_new_code: RwSignal<bool>,
    close: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        // Escape in a confirmation opened from here closes that confirmation alone.
        if ev.key() == "Escape" && !confirm_new_code.get_untracked() {
            close();
        }
    });
    on_cleanup(move || handle.remove());
    // Focus moves into the dialog and stays there: two sentinels send it round.
    let first = NodeRef::<leptos::html::Button>::new();
    let last = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if let Some(button) = first.get() {
            let _ = button.focus();
        }
    });
    let HostParts { id, role, ways_in, is_open, facilitators } = session;
    let lang = crate::pages::page_language();
    let link = Signal::derive(move || ways_in.read().link.clone());
    let show_add = RwSignal::new(false);
    // Keyed by what each line shows: only lines that changed are redrawn.
    let facilitator_list = {
        view! {
            <For each=move || facilitators.get() key=|f| f.clone() let:f>
                {
                    let name = f.display_name.clone().unwrap_or_else(|| f.email.clone());
                    let label = texts::share_remove_label(lang, &name);
                    let status = if f.active { texts::share_active(lang) } else { texts::share_invited(lang) };
                    view! {
                        <li>
                            <span class="who">{name}<small>{f.email.clone()}</small></span>
                            <span class="badge" class:active=f.active>{status}</span>
                            {role.may_manage_facilitators().then(|| view! {
                                <ActionForm action=actions.remove attr:class="inline">
                                    <input type="hidden" name="id" value=id.to_string()/>
                                    <input type="hidden" name="facilitator" value=f.id.to_string()/>
                                    <button type="submit" aria-label=label>{texts::share_remove(lang)}</button>
                                </ActionForm>
                            })}
                        </li>
                    }
                }
            </For>
        }
    };
    view! {
        <div class="share-backdrop">
            <div class="share-dialog" role="dialog" aria-modal="true" aria-labelledby="share-title">
                <span tabindex="0" on:focus=move |_| { if let Some(b) = last.get() { let _ = b.focus(); } }></span>
                <div class="share-head">
                    <h2 id="share-title">{texts::host_share(lang)}</h2>
                    <button type="button" node_ref=first aria-label=texts::share_close_label(lang) on:click=move |_| close()>"✕"</button>
                </div>

                <CopyLink link/>

                <section class="share-code">
                    <h3>{texts::share_code(lang)}</h3>
                    <p class="code-line"><strong>{move || ways_in.read().code.clone()}</strong></p>
                    {role.may_generate_code().then(|| view! {
                        <button type="button" on:click=move |_| confirm_new_code.set(true)>{texts::host_new_code(lang)}</button>
                    })}
                </section>

                <section>
                    <h3>{texts::share_invite_title(lang)}</h3>
                    <ActionForm action=actions.invite attr:novalidate=true>
                        <input type="hidden" name="id" value=id.to_string()/>
                        <label>
                            {texts::share_addresses(lang)}
                            <textarea name="addresses" rows="3" placeholder="ada@example.org, bob@example.org"></textarea>
                        </label>
                        <button type="submit" class="primary">{texts::share_send(lang)}</button>
                    </ActionForm>
                    <Report value=actions.invite.value() sent=(texts::report_sent_participant, texts::report_sent_participants)/>
                </section>

                <section class="share-close">
                    <CloseSwitch id role is_open actions/>
                </section>

                <section>
                    <h3>{texts::share_facilitators(lang)}</h3>
                    <ul class="facilitators">{facilitator_list}</ul>
                    {move || facilitators.read().is_empty().then(|| view! { <p class="empty">{texts::share_no_facilitators(lang)}</p> })}
                    {role.may_manage_facilitators().then(|| view! {
                        <button type="button" on:click=move |_| show_add.set(true) class:hidden=move || show_add.get()>{texts::share_add_toggle(lang)}</button>
                        <Show when=move || show_add.get()>
                            <ActionForm action=actions.add_facilitators attr:novalidate=true>
                                <input type="hidden" name="id" value=id.to_string()/>
                                <label>
                                    {texts::share_facilitator_addresses(lang)}
                                    <input type="text" name="addresses" inputmode="email" autocomplete="off" placeholder="carol@example.org"/>
                                </label>
                                <button type="submit" class="primary">{texts::share_add(lang)}</button>
                            </ActionForm>
                        </Show>
                        <Report value=actions.add_facilitators.value() sent=(texts::report_sent_facilitator, texts::report_sent_facilitators)/>
                    })}
                    <FormError value=actions.remove.value()/>
                </section>
                <p class="share-foot"><button type="button" node_ref=last on:click=move |_| close()>{texts::share_done(lang)}</button></p>
                <span tabindex="0" on:focus=move |_| { if let Some(b) = first.get() { let _ = b.focus(); } }></span>
            </div>
        </div>
    }
    .into_any()
}

/// The public link in a read-only field, with "Copy": the browser clipboard where allowed,
/// otherwise the text is selected for the person to copy.
#[component]
fn CopyLink(link: Signal<String>) -> impl IntoView {
    let copied = RwSignal::new(false);
    let field = NodeRef::<leptos::html::Input>::new();
    let copy = move |_| {
        let text = link.get_untracked();
        leptos::task::spawn_local(async move {
            let clipboard = window().navigator().clipboard();
            let written = wasm_bindgen_futures::JsFuture::from(clipboard.write_text(&text)).await.is_ok();
            if written {
                copied.set(true);
            } else if let Some(input) = field.get_untracked() {
                input.select();
            }
        });
    };
    let lang = crate::pages::page_language();
    view! {
        <section>
            <label for="share-link"><h3>{texts::share_link(lang)}</h3></label>
            <div class="copy-row">
                <input id="share-link" type="text" readonly prop:value=link value=link.get_untracked() node_ref=field on:focus=move |_| {
                    if let Some(input) = field.get_untracked() { input.select(); }
                }/>
                <button type="button" on:click=copy>{move || if copied.get() { texts::share_copied(lang) } else { texts::share_copy(lang) }}</button>
            </div>
        </section>
    }
}

/// "Close session": a switch that is on when the session is closed. Only the owner can use it.
#[component]
fn CloseSwitch(
    id: crate::ids::SessionId,
    role: crate::rules::sessions::Role,
    is_open: Memo<bool>,
    actions: HostActions,
) -> impl IntoView {
    let may = role.may_open_or_close();
    let lang = crate::pages::page_language();
    view! {
        <ActionForm action=actions.set_open attr:class="switch-form">
            <input type="hidden" name="id" value=id.to_string()/>
            <input type="hidden" name="open" value=move || (!is_open.get()).to_string()/>
            <span id="close-session-label">{texts::share_close_session(lang)}</span>
            <button type="submit" role="switch" class="switch" aria-checked=move || (!is_open.get()).to_string()
                aria-labelledby="close-session-label" disabled=!may></button>
        </ActionForm>
        {(!may).then(|| view! { <p class="hint">{texts::padlock_owner_only(lang)}</p> })}
    }
}

/// "Invitation sent to 1 …" and "Invitation sent to N …", for one kind of invitee.
type SentSentences = (fn(Lang, usize) -> String, fn(Lang, usize) -> String);

/// What a send did: "Invitation sent to N participants", each refused address (the first few,
/// then "and N more"), and co-facilitators already invited today.
#[component]
fn Report<V>(value: V, sent: SentSentences) -> impl IntoView
where
    V: Get<Value = Option<Result<InvitationReport, SharingError>>> + Send + Sync + 'static,
{
    let lang = crate::pages::page_language();
    move || {
        match value.get() {
        Some(Ok(report)) => Some(view! {
            <div class="report" role="status">
                <p>{if report.sent == 1 { sent.0(lang, report.sent) } else { sent.1(lang, report.sent) }}</p>
                {(!report.refused.is_empty()).then(|| view! {
                    <p>{texts::report_refused(lang)}</p>
                    <ul>
                        {report.refused.into_iter().map(|a| view! { <li>{a}</li> }).collect_view()}
                        {(report.refused_more > 0).then(|| view! { <li>{texts::report_more(lang, report.refused_more)}</li> })}
                    </ul>
                })}
                {(!report.already_invited.is_empty()).then(|| view! {
                    <p>{texts::report_already(lang)}</p>
                    <ul>{report.already_invited.into_iter().map(|a| view! { <li>{a}</li> }).collect_view()}</ul>
                })}
            </div>
        }.into_any()),
        // The sentence says what to do; the button is beside it.
        Some(Err(e @ SharingError::EmailUnverified)) => Some(view! {
            <div class="report">
                <p class="error" role="alert">{e.sentence(lang)}</p>
                <SendVerificationAgain/>
            </div>
        }.into_any()),
        Some(Err(e)) => Some(view! { <p class="error" role="alert">{e.sentence(lang)}</p> }.into_any()),
        None => None,
    }
    }
}

/// `/facilitate/<token>`: the link in a co-facilitator invitation. Logged out, it goes through
/// log in (or sign up) and comes back here.
#[component]
pub fn FacilitatePage() -> impl IntoView {
    let token = use_params_map().read_untracked().get("token").unwrap_or_default();
    let accepted = Resource::new_blocking(move || token.clone(), |token| Box::pin(accept_facilitation(token)));
    let lang = crate::pages::page_language();
    view! {
        <leptos_meta::Title text=texts::page_title(lang, texts::facilitate_tab(lang))/>
        <Suspense>
            {move || Suspend::new(async move {
                match accepted.await {
                    Ok(id) => view! { <p class="card narrow"><a href=format!("/s/{id}")>{texts::facilitate_go(lang)}</a></p> }.into_any(),
                    Err(SharingError::NotLoggedIn) => view! { <LoginRedirect/> }.into_any(),
                    Err(error) => {
                        crate::pages::set_error_status(&error);
                        view! { <section class="card narrow"><p class="error" role="alert">{error.sentence(lang)}</p></section> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
