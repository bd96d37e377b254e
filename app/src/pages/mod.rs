//! Pages and components. Every form works with JavaScript off: an `ActionForm`, or in the
//! participant's island a plain form posted in place (`islands::submit_in_place`).
//!
//! Pages are rendered on the server only. What the browser runs are islands (`islands.rs`): the
//! participant view, and, fetched only where they are shown, the host view, the projection
//! screen, "My sessions" and "My account". Everything else is plain HTML whose forms post and
//! whose links load the next page, with or without JavaScript.
//!
//! A resource is given its future boxed (`Box::pin`): a server function's future is a few
//! kilobytes (its database reads inline), which `Resource::new` moves about ten times before it
//! runs. Boxed, only a pointer moves.
mod accounts;
mod admin;
mod confirm;
mod discussion;
mod home;
mod host;
pub mod islands;
mod joining;
mod live_socket;
mod sessions;
mod slides;
mod widgets;

use crate::functions::accounts::{me, LogOut};
use crate::rules::language::Lang;
use crate::texts;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Link, Meta, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes, A},
    path, SsrMode,
};

/// The request's language, read once by `shell` for every component of the page.
#[cfg(feature = "ssr")]
#[derive(Clone, Copy)]
struct PageLanguage(Lang);

/// The language the page is rendered in (`rules::language`): the request's, on the server; in
/// the browser, the one the server wrote in `<html lang>`.
pub(crate) fn page_language() -> Lang {
    #[cfg(feature = "ssr")]
    return use_context::<PageLanguage>().map_or_else(crate::services::ServerContext::request_language, |l| l.0);
    #[cfg(not(feature = "ssr"))]
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
        .and_then(|html| html.get_attribute("lang"))
        .and_then(|code| Lang::parse(&code))
        .unwrap_or_default()
}

pub fn shell(options: LeptosOptions) -> impl IntoView {
    let lang = page_language();
    // Every component of the page asks for its language: negotiated once, here.
    #[cfg(feature = "ssr")]
    provide_context(PageLanguage(lang));
    view! {
        <!DOCTYPE html>
        <html lang=lang.as_str()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                // Named after its content in release builds (`hash-files`), read from the hash file.
                <HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let lang = page_language();
    view! {
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg"/>
        <Meta name="description" content=texts::site_description(lang)/>
        <Title text="Ruche"/>
        <Router>
            <Header/>
            <main>
                // Async: each page is sent whole, once its data is loaded, so it reads (and its
                // redirects and status codes work) the same with JavaScript off.
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=home::HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/signup") view=accounts::SignUpPage ssr=SsrMode::Async/>
                    <Route path=path!("/invitation/:token") view=accounts::InvitationPage ssr=SsrMode::Async/>
                    <Route path=path!("/login") view=accounts::LogInPage ssr=SsrMode::Async/>
                    <Route path=path!("/account") view=accounts::AccountPage ssr=SsrMode::Async/>
                    <Route path=path!("/forgot-password") view=accounts::ForgotPasswordPage ssr=SsrMode::Async/>
                    <Route path=path!("/account/reset/:token") view=accounts::ResetPasswordPage ssr=SsrMode::Async/>
                    <Route path=path!("/account/verify/:token") view=accounts::VerifyEmailPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin") view=admin::AdminPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/accounts/:id/delete") view=admin::DeleteAccountPage ssr=SsrMode::Async/>
                    <Route path=path!("/sessions") view=sessions::MySessionsPage ssr=SsrMode::Async/>
                    <Route path=path!("/sessions/new") view=sessions::CreateSessionPage ssr=SsrMode::Async/>
                    <Route path=path!("/s/:id") view=host::HostSessionPage ssr=SsrMode::Async/>
                    <Route path=path!("/s/:id/screen") view=host::screen::ScreenPage ssr=SsrMode::Async/>
                    <Route path=path!("/join") view=joining::JoinPage ssr=SsrMode::Async/>
                    <Route path=path!("/j/:token") view=joining::LinkPage ssr=SsrMode::Async/>
                    <Route path=path!("/p/:id") view=joining::ParticipantPage ssr=SsrMode::Async/>
                    <Route path=path!("/facilitate/:token") view=host::share::FacilitatePage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

#[component]
fn Header() -> impl IntoView {
    // Rendered on the server only: logging in or out loads another page, which reads it again.
    // My account's island writes a newly saved name into it (`accounts::show_name_in_top_bar`).
    let log_out = ServerAction::<LogOut>::new();
    // Blocking: a streamed-in header would never appear.
    let me = Resource::new_blocking(|| (), |_| Box::pin(me()));
    let lang = page_language();
    view! {
        <header class="topbar">
            <A href="/" attr:class="brand">"Ruche"</A>
            <nav>
                <Transition>
                    {move || Suspend::new(async move {
                        match me.await {
                            Ok(Some(me)) => view! {
                                {me.is_admin.then(|| view! { <A href="/admin">{texts::nav_administration(lang)}</A> })}
                                <A href="/sessions">{texts::nav_my_sessions(lang)}</A>
                                <A href="/account" attr:class="whoami" attr:title=texts::nav_my_account(lang)>{me.display_name}</A>
                                <ActionForm action=log_out attr:class="inline">
                                    <button type="submit" class="link">{texts::nav_log_out(lang)}</button>
                                </ActionForm>
                            }.into_any(),
                            _ => view! {
                                <A href="/login">{texts::nav_log_in(lang)}</A>
                                <A href="/signup" attr:class="button">{texts::nav_sign_up(lang)}</A>
                            }.into_any(),
                        }
                    })}
                </Transition>
                <LanguageSwitch/>
            </nav>
        </header>
    }
}

/// A link to this page in the other language (`GET /language`, in the server crate): it sets the
/// language cookie and comes back here. A link, so it works without JavaScript.
#[component]
pub(crate) fn LanguageSwitch() -> impl IntoView {
    let other = page_language().other();
    let href = format!("/language?lang={}&back={}", other.as_str(), widgets::urlencode(&widgets::here()));
    view! {
        <a href=href class="language" lang=other.as_str() hreflang=other.as_str()>{other.own_name()}</a>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    let lang = page_language();
    view! {
        <section class="card narrow">
            <h1>{texts::not_found_title(lang)}</h1>
            <p>
                {texts::not_found_before_link(lang)}<A href="/">{texts::not_found_link(lang)}</A>
                {texts::not_found_after_link(lang)}
            </p>
        </section>
    }
}

/// Gives the page being rendered on the server the HTTP status of the error it shows.
fn set_error_status(error: &impl crate::rules::HttpStatus) {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(crate::services::status_code(error));
    }
    #[cfg(not(feature = "ssr"))]
    let _ = error;
}

/// A form's error, as the sentence its domain gives it in the page's language; announced to
/// screen readers.
#[component]
fn FormError<T, E, V>(value: V) -> impl IntoView
where
    T: 'static,
    E: crate::rules::language::Sentence + 'static,
    V: Get<Value = Option<Result<T, E>>> + Send + Sync + 'static,
{
    let lang = page_language();
    move || match value.get() {
        Some(Err(e)) => Some(view! { <p class="error" role="alert">{e.sentence(lang)}</p> }),
        _ => None,
    }
}
