//! Pages and components. Every form is an `ActionForm`, so it also works with JavaScript off.
mod accounts;
mod confirm;
mod home;
mod joining;
mod live;
mod screen;
mod session_host;
mod sessions;
mod share;
mod slides;

use crate::functions::accounts::{me, LogOut};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Link, Meta, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes, A},
    SsrMode,
    hooks::use_location,
    lazy_route, path, Lazy, LazyRoute,
};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                // Named after its content in release builds (`hash-files`), read from the hash file.
                <HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options/>
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
    provide_context(NameSaved(RwSignal::new(0)));
    view! {
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg"/>
        <Meta name="description" content="Ruche: live interactive sessions."/>
        <Title text="Ruche"/>
        <Router>
            <Header/>
            <main>
                // Async: each page is sent whole, once its data is loaded, so it reads (and its
                // redirects and status codes work) the same with JavaScript off.
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=home::HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/signup") view={Lazy::<SignUp>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/login") view={Lazy::<LogIn>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/account") view={Lazy::<Account>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/forgot-password") view={Lazy::<ForgotPassword>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/account/reset/:token") view={Lazy::<ResetPassword>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/account/verify/:token") view={Lazy::<VerifyEmail>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/sessions") view={Lazy::<MySessions>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/sessions/new") view={Lazy::<CreateSession>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/s/:id") view={Lazy::<HostSession>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/s/:id/screen") view={Lazy::<Screen>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/join") view=joining::JoinPage ssr=SsrMode::Async/>
                    <Route path=path!("/j/:token") view=joining::LinkPage ssr=SsrMode::Async/>
                    <Route path=path!("/p/:id") view=joining::ParticipantPage ssr=SsrMode::Async/>
                    <Route path=path!("/facilitate/:token") view={Lazy::<Facilitate>::new()} ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

/// The pages no participant opens: with `cargo leptos build --split`, each one's code is a wasm
/// chunk of its own, fetched when its route is visited (and preloaded by the server-rendered
/// page that needs it), so a phone joining a session downloads only the participant and home
/// pages and what they share.
macro_rules! lazy_pages {
    ($($route:ident => $page:ident),* $(,)?) => {$(
        struct $route;
        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }
            fn view(_this: Self) -> AnyView {
                view! { <$page/> }.into_any()
            }
        }
    )*};
}
use accounts::{AccountPage, ForgotPasswordPage, LogInPage, ResetPasswordPage, SignUpPage, VerifyEmailPage};
use screen::ScreenPage;
use session_host::HostSessionPage;
use sessions::{CreateSessionPage, MySessionsPage};
use share::FacilitatePage;
lazy_pages! {
    SignUp => SignUpPage,
    LogIn => LogInPage,
    Account => AccountPage,
    ForgotPassword => ForgotPasswordPage,
    ResetPassword => ResetPasswordPage,
    VerifyEmail => VerifyEmailPage,
    MySessions => MySessionsPage,
    CreateSession => CreateSessionPage,
    HostSession => HostSessionPage,
    Screen => ScreenPage,
    Facilitate => FacilitatePage,
}

/// Counts the names saved on My account, so that the top bar reads the name again.
#[derive(Clone, Copy)]
struct NameSaved(RwSignal<usize>);

#[component]
fn Header() -> impl IntoView {
    let log_out = ServerAction::<LogOut>::new();
    let location = use_location();
    let NameSaved(name_saved) = expect_context();
    // Who is logged in changes on logging in, signing up (both navigate) and logging out; the
    // name shown, when My account saves a new one.
    // Blocking: without JavaScript, a streamed-in header would never appear.
    let me = Resource::new_blocking(
        move || (location.pathname.get(), log_out.version().get(), name_saved.get()),
        |_| me(),
    );
    view! {
        <header class="topbar">
            <A href="/" attr:class="brand">"Ruche"</A>
            <nav>
                <Transition>
                    {move || Suspend::new(async move {
                        match me.await {
                            Ok(Some(me)) => view! {
                                <A href="/sessions">"My sessions"</A>
                                <A href="/account" attr:class="whoami" attr:title="My account">{me.display_name}</A>
                                <ActionForm action=log_out attr:class="inline">
                                    <button type="submit" class="link">"Log out"</button>
                                </ActionForm>
                            }.into_any(),
                            _ => view! {
                                <A href="/login">"Log in"</A>
                                <A href="/signup" attr:class="button">"Sign up"</A>
                            }.into_any(),
                        }
                    })}
                </Transition>
            </nav>
        </header>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <section class="card narrow">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. Check the link, or go back to the "<A href="/">"home page"</A>"."</p>
        </section>
    }
}

/// Gives the page being rendered on the server the HTTP status of the error it shows.
fn set_error_status(error: &impl crate::rules::HttpStatus) {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(crate::server::status_code(error));
    }
    #[cfg(not(feature = "ssr"))]
    let _ = error;
}

/// A form's error, as the sentence its domain gives it; announced to screen readers.
#[component]
fn FormError<T, E, V>(value: V) -> impl IntoView
where
    T: 'static,
    E: std::fmt::Display + 'static,
    V: Get<Value = Option<Result<T, E>>> + Send + Sync + 'static,
{
    move || match value.get() {
        Some(Err(e)) => Some(view! { <p class="error" role="alert">{e.to_string()}</p> }),
        _ => None,
    }
}
