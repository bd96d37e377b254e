//! Widgets several pages show: where to go when logged out, a session refused, the
//! verification banner, the padlock's icon. Pages import them from here, never from each other.
use super::FormError;
use crate::functions::accounts::ResendVerification;
use crate::rules::language::Sentence;
use crate::rules::sessions::SessionError;
use crate::texts;
use leptos::prelude::*;
use leptos_router::{components::Redirect, hooks::use_location};

/// Sends an anonymous visitor to log in, and back here afterwards.
#[component]
pub(super) fn LoginRedirect() -> impl IntoView {
    view! { <Redirect path=format!("/login?next={}", urlencode(&here()))/> }
}

/// This page's path and query, for a link that comes back to it.
pub(super) fn here() -> String {
    let location = use_location();
    format!("{}{}", location.pathname.get_untracked(), location.search.get_untracked())
}

/// A session error as a page loaded on the server shows it: logged out, the visitor is sent to
/// log in; otherwise the sentence, with the matching HTTP status.
#[component]
pub(super) fn SessionErrorView(error: SessionError) -> impl IntoView {
    if error == SessionError::NotLoggedIn {
        return view! { <LoginRedirect/> }.into_any();
    }
    view! { <SessionRefused error/> }.into_any()
}

/// The sentence alone, as an island shows it too (the session deleted while open, say).
#[component]
pub(super) fn SessionRefused(error: SessionError) -> impl IntoView {
    super::set_error_status(&error);
    let lang = super::page_language();
    view! {
        <section class="card narrow">
            <p class="error" role="alert">{error.sentence(lang)}</p>
            <p><a href="/sessions">{texts::back_to_sessions(lang)}</a></p>
        </section>
    }
}

/// What an unverified account is waiting for, and "Send the verification mail again". Shown on
/// My sessions (naming the address) and My account (where the address is just above it).
#[component]
pub(super) fn VerifyBanner(#[prop(optional)] email: Option<String>) -> impl IntoView {
    let lang = super::page_language();
    view! {
        <div class="banner" role="region" aria-label=texts::verify_region(lang)>
            <p>
                {texts::verify_before(lang)}{email.map(|email| view! { <strong>{email}</strong>" " })}
                {texts::verify_after(lang)}
            </p>
            <SendVerificationAgain/>
        </div>
    }
}

/// The button alone, for where the refusal's sentence already says what is waiting.
#[component]
pub(super) fn SendVerificationAgain() -> impl IntoView {
    let resend = ServerAction::<ResendVerification>::new();
    view! {
        <ActionForm action=resend attr:class="inline">
            <button type="submit">{texts::verify_resend(super::page_language())}</button>
        </ActionForm>
        <FormError value=resend.value()/>
        {move || resend.value().get().and_then(Result::ok).map(|done| view! { <p role="status">{done}</p> })}
    }
}

/// Percent-encodes a path for a query string value.
pub(super) fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
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
