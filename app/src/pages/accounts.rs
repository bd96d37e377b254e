use super::widgets::{urlencode, VerifyBanner};
use super::FormError;
use crate::functions::accounts::{
    account_link_works, invitation_address, me, Account, ChangePassword, LogIn, LogOutEverywhere, RequestPasswordReset,
    ResetPassword, SignUp, UpdateDisplayName, VerifyEmail,
};
use crate::rules::accounts::{AccountError, TokenPurpose, DISPLAY_NAME_MAX_CHARS, PASSWORD_MIN_CHARS};
use crate::rules::language::Sentence;
use crate::texts;
use leptos::prelude::*;
use leptos_router::{
    components::A,
    hooks::{use_params_map, use_query_map},
};

/// Where to return after logging in, carried through the forms as a hidden field.
fn next_param() -> Option<String> {
    use_query_map().read_untracked().get("next")
}

/// `?done=<what>`: where a form posted without JavaScript lands when it worked
/// (`functions::accounts`), since the page cannot learn it otherwise.
fn done_param() -> Option<String> {
    use_query_map().read_untracked().get("done")
}

/// A form's success sentence: the island's answer, or, where the form was posted without
/// JavaScript, the sentence the page was sent back with `?done=<what>` for (`landed`). An error
/// hides it.
fn done_sentence<T: 'static>(
    value: impl Get<Value = Option<Result<T, AccountError>>> + Send + Sync + 'static,
    landed: bool,
    sentence: &'static str,
) -> impl Fn() -> Option<AnyView> + Send + Sync + 'static {
    move || {
        let done = match value.get() {
            Some(Ok(_)) => true,
            Some(Err(_)) => false,
            None => landed,
        };
        done.then(|| view! { <p role="status">{sentence}</p> }.into_any())
    }
}

/// Without JavaScript, a refused form comes back to its page with the error in the URL: the page
/// answers with that error's status (a used reset link: 410), as the server function did for the
/// hydrated app.
fn answer_with_error_status<T>(value: impl GetUntracked<Value = Option<Result<T, AccountError>>>) {
    if let Some(Err(error)) = value.get_untracked() {
        super::set_error_status(&error);
    }
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let next = next_param();
    let login_href = match &next {
        Some(n) => format!("/login?next={}", urlencode(n)),
        None => "/login".to_owned(),
    };
    let lang = super::page_language();
    // Who may sign up (`SIGNUP`): the page is rendered on the server only.
    #[cfg(feature = "ssr")]
    let policy = crate::services::ServerContext::get().map(|ctx| ctx.signup).unwrap_or_default();
    #[cfg(not(feature = "ssr"))]
    let policy = crate::rules::accounts::SignUpPolicy::default();
    if !policy.is_open() {
        let why = match policy {
            crate::rules::accounts::SignUpPolicy::Invite => AccountError::SignUpByInvitation,
            _ => AccountError::SignUpClosed,
        };
        return view! {
            <leptos_meta::Title text=texts::page_title(lang, texts::account_sign_up_tab(lang))/>
            <section class="card narrow">
                <h1>{texts::account_create_title(lang)}</h1>
                <p role="status">{why.sentence(lang)}</p>
                <p>{texts::account_already(lang)}<A href=login_href>{texts::nav_log_in(lang)}</A></p>
            </section>
        }
        .into_any();
    }
    let domains = match policy {
        crate::rules::accounts::SignUpPolicy::Domains(domains) => Some(domains.join(", ")),
        _ => None,
    };
    view! {
        <leptos_meta::Title text=texts::page_title(lang, texts::account_sign_up_tab(lang))/>
        <section class="card narrow">
            <h1>{texts::account_create_title(lang)}</h1>
            <ActionForm action=action attr:novalidate=true>
                <label>
                    {texts::account_email(lang)}
                    <input type="email" name="email" autocomplete="email" required/>
                    {domains.map(|d| view! { <small>{texts::account_address_at(lang, d)}</small> })}
                </label>
                <NewAccountFields next/>
                <FormError value=action.value()/>
                <button type="submit" class="primary">{texts::nav_sign_up(lang)}</button>
            </ActionForm>
            <p>{texts::account_already(lang)}<A href=login_href>{texts::nav_log_in(lang)}</A></p>
        </section>
    }
    .into_any()
}

/// What both sign-up forms ask after the address: a name, a password, and where to go next.
#[component]
fn NewAccountFields(next: Option<String>) -> impl IntoView {
    let lang = super::page_language();
    view! {
        <label>{texts::account_your_name(lang)}<input type="text" name="display_name" autocomplete="name" maxlength="60" required/></label>
        <label>
            {texts::account_password(lang)}
            <input type="password" name="password" autocomplete="new-password" minlength=PASSWORD_MIN_CHARS required/>
            <small>{texts::account_password_hint(lang)}</small>
        </label>
        {next.map(|n| view! { <input type="hidden" name="next" value=n/> })}
    }
}

/// The sign-up form an invitation links to (`/invitation/<token>`): the address is the invited
/// one, whatever `SIGNUP` says (but `closed`, for an administrator's).
#[component]
pub fn InvitationPage() -> impl IntoView {
    let token = use_params_map().read_untracked().get("token").unwrap_or_default();
    let next = next_param();
    let login_href = "/login".to_owned();
    let action = ServerAction::<SignUp>::new();
    let lang = super::page_language();
    let address = Resource::new_blocking(
        {
            let token = token.clone();
            move || token.clone()
        },
        |token| Box::pin(invitation_address(token)),
    );
    view! {
        <leptos_meta::Title text=texts::page_title(lang, texts::account_sign_up_tab(lang))/>
        <section class="card narrow">
            <h1>{texts::account_create_title(lang)}</h1>
            <Suspense>
                {move || {
                    let (token, next, login_href) = (token.clone(), next.clone(), login_href.clone());
                    Suspend::new(async move {
                        match address.await {
                            Ok(email) => view! {
                                <p>{texts::account_invited(lang)}</p>
                                <ActionForm action=action attr:novalidate=true>
                                    <label>{texts::account_email(lang)}<input type="email" name="email" value=email readonly/></label>
                                    <NewAccountFields next/>
                                    <input type="hidden" name="invite" value=token/>
                                    <FormError value=action.value()/>
                                    <button type="submit" class="primary">{texts::nav_sign_up(lang)}</button>
                                </ActionForm>
                            }
                            .into_any(),
                            Err(error) => {
                                super::set_error_status(&error);
                                view! {
                                    <p class="error" role="alert">{error.sentence(lang)}</p>
                                    <p>{texts::account_already(lang)}<A href=login_href>{texts::nav_log_in(lang)}</A></p>
                                }
                                .into_any()
                            }
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}

#[component]
pub fn LogInPage() -> impl IntoView {
    let action = ServerAction::<LogIn>::new();
    let next = next_param();
    let signup_href = match &next {
        Some(n) => format!("/signup?next={}", urlencode(n)),
        None => "/signup".to_owned(),
    };
    let lang = super::page_language();
    view! {
        <leptos_meta::Title text=texts::page_title(lang, texts::account_log_in_tab(lang))/>
        <section class="card narrow">
            <h1>{texts::nav_log_in(lang)}</h1>
            <ActionForm action=action attr:novalidate=true>
                <label>{texts::account_email(lang)}<input type="email" name="email" autocomplete="email" required/></label>
                <label>{texts::account_password(lang)}<input type="password" name="password" autocomplete="current-password" required/></label>
                {next.map(|n| view! { <input type="hidden" name="next" value=n/> })}
                <FormError value=action.value()/>
                <button type="submit" class="primary">{texts::nav_log_in(lang)}</button>
            </ActionForm>
            <p><A href="/forgot-password">{texts::account_forgot(lang)}</A></p>
            <p>{texts::account_new_to_ruche(lang)}<A href=signup_href>{texts::account_create_link(lang)}</A></p>
        </section>
    }
}

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let action = ServerAction::<RequestPasswordReset>::new();
    answer_with_error_status(action.value());
    let lang = super::page_language();
    let landed = done_param().as_deref() == Some("sent");
    let sent = done_sentence(action.value(), landed, texts::account_reset_mail_on_its_way(lang));
    view! {
        <leptos_meta::Title text=texts::page_title(lang, texts::account_forgot_tab(lang))/>
        <section class="card narrow">
            <h1>{texts::account_forgot(lang)}</h1>
            <p>{texts::account_forgot_text(lang)}</p>
            <ActionForm action=action attr:novalidate=true>
                <label>{texts::account_email(lang)}<input type="email" name="email" autocomplete="email" required/></label>
                <FormError value=action.value()/>
                {sent}
                <button type="submit" class="primary">{texts::account_forgot_send(lang)}</button>
            </ActionForm>
            <p><A href="/login">{texts::account_back_to_log_in(lang)}</A></p>
        </section>
    }
}

/// Whether the mailed link this page was opened with still works, checked as the page renders.
fn link_check(purpose: TokenPurpose) -> (String, Resource<Result<(), AccountError>>) {
    let token = use_params_map().read_untracked().get("token").unwrap_or_default();
    let check = token.clone();
    (token, Resource::new_blocking(move || check.clone(), move |token| Box::pin(account_link_works(token, purpose))))
}

/// A mailed link that no longer works, said at once, with its status (410).
fn link_refused(error: AccountError) -> AnyView {
    super::set_error_status(&error);
    view! { <p class="error" role="alert">{error.sentence(super::page_language())}</p> }.into_any()
}

/// Opened from the password-reset mail. A used or expired link says so at once; one used while
/// its form was open is refused when the form is sent.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let action = ServerAction::<ResetPassword>::new();
    answer_with_error_status(action.value());
    let (token, works) = link_check(TokenPurpose::PasswordReset);
    let lang = super::page_language();
    view! {
        <leptos_meta::Title text=texts::page_title(lang, texts::account_reset_title(lang))/>
        <section class="card narrow">
            <h1>{texts::account_reset_title(lang)}</h1>
            <Suspense>
                {move || {
                    let token = token.clone();
                    Suspend::new(async move {
                        match works.await {
                            Err(error) if action.value().get_untracked().is_none() => link_refused(error),
                            _ => view! {
                                <p>{texts::account_reset_others_logged_out(lang)}</p>
                                <ActionForm action=action attr:novalidate=true>
                                    <input type="hidden" name="token" value=token/>
                                    <NewPasswordField/>
                                    <FormError value=action.value()/>
                                    <button type="submit" class="primary">{texts::account_reset_save(lang)}</button>
                                </ActionForm>
                            }.into_any(),
                        }
                    })
                }}
            </Suspense>
            <p><A href="/forgot-password">{texts::account_reset_ask_again(lang)}</A></p>
        </section>
    }
}

/// `/account/verify/<token>`: the link in the verification mail. Opening it verifies nothing
/// (mail scanners open links); its button does, as a plain form with JavaScript off too.
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let action = ServerAction::<VerifyEmail>::new();
    answer_with_error_status(action.value());
    let landed = done_param().as_deref() == Some("verified");
    let (token, works) = link_check(TokenPurpose::EmailVerification);
    let lang = super::page_language();
    view! {
        <leptos_meta::Title text=texts::page_title(lang, texts::account_verify_title(lang))/>
        <section class="card narrow">
            <h1>{texts::account_verify_title(lang)}</h1>
            <Suspense>
                {move || {
                    let token = token.clone();
                    let verified = done_sentence(action.value(), landed, texts::account_email_verified(lang));
                    Suspend::new(async move {
                        if let Some(done) = verified() {
                            return view! { {done} <p><A href="/sessions">{texts::account_go_to_sessions(lang)}</A></p> }.into_any();
                        }
                        match works.await {
                            Err(error) if action.value().get_untracked().is_none() => view! {
                                {link_refused(error)}
                                <p>{texts::account_new_link_before(lang)}<A href="/account">{texts::nav_my_account(lang)}</A>{texts::account_new_link_after(lang)}</p>
                            }.into_any(),
                            _ => view! {
                                <p>{texts::account_verify_text(lang)}</p>
                                <ActionForm action=action>
                                    <input type="hidden" name="token" value=token/>
                                    <FormError value=action.value()/>
                                    <button type="submit" class="primary">{texts::account_verify_button(lang)}</button>
                                </ActionForm>
                            }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}

/// "My account": the name, the address, the password, and logging out every other browser.
#[component]
pub fn AccountPage() -> impl IntoView {
    let account = Resource::new_blocking(|| (), |_| Box::pin(me()));
    let done = done_param();
    super::islands::preload_lazy_island("AccountIsland");
    let lang = super::page_language();
    view! {
        <leptos_meta::Title text=texts::page_title(lang, texts::nav_my_account(lang))/>
        <Suspense>
            {move || {
                let done = done.clone();
                Suspend::new(async move {
                    match account.await {
                        Ok(Some(account)) => view! { <AccountIsland account done/> }.into_any(),
                        Ok(None) => view! { <super::widgets::LoginRedirect/> }.into_any(),
                        Err(e) => view! { <section class="card narrow"><p class="error" role="alert">{e.sentence(lang)}</p></section> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// My account's forms, answered in place; `done` is the page's `?done=<what>`.
#[island(lazy)]
fn AccountIsland(account: Account, done: Option<String>) -> impl IntoView {
    super::islands::island_started();
    let rename = ServerAction::<UpdateDisplayName>::new();
    let change = ServerAction::<ChangePassword>::new();
    let everywhere = ServerAction::<LogOutEverywhere>::new();
    answer_with_error_status(rename.value());
    answer_with_error_status(change.value());
    answer_with_error_status(everywhere.value());
    let landed = move |what: &str| done.as_deref() == Some(what);
    let (name_done, password_done, everywhere_done) = (landed("name"), landed("password"), landed("everywhere"));
    let account = RwSignal::new(account);
    let lang = super::page_language();
    super::islands::read_again_after(
        move || rename.version().get(),
        move || async move {
            if let Ok(Some(again)) = me().await {
                show_name_in_top_bar(&again.display_name);
                account.set(again);
            }
        },
    );
    move || {
        let account = account.get();
        view! {
            <section class="card narrow">
                <h1>{texts::nav_my_account(lang)}</h1>
                <ActionForm action=rename attr:novalidate=true>
                    <label>
                        {texts::account_your_name(lang)}
                        <input type="text" name="display_name" autocomplete="name" maxlength=DISPLAY_NAME_MAX_CHARS
                            required value=account.display_name.clone()/>
                    </label>
                    <FormError value=rename.value()/>
                    {done_sentence(rename.value(), name_done, texts::account_name_saved(lang))}
                    <button type="submit">{texts::account_save_name(lang)}</button>
                </ActionForm>
                <p>{texts::account_email_is(lang)}<strong>{account.email.clone()}</strong></p>
                {(!account.email_verified).then(|| view! { <VerifyBanner/> })}
                <h2>{texts::account_password_heading(lang)}</h2>
                <ActionForm action=change attr:novalidate=true>
                    <label>{texts::account_old_password(lang)}<input type="password" name="old_password" autocomplete="current-password" required/></label>
                    <NewPasswordField/>
                    <FormError value=change.value()/>
                    {done_sentence(change.value(), password_done, texts::account_other_logins_ended(lang))}
                    <button type="submit" class="primary">{texts::account_change_password(lang)}</button>
                </ActionForm>
                <h2>{texts::account_other_browsers(lang)}</h2>
                <p>{texts::account_other_browsers_text(lang)}</p>
                <ActionForm action=everywhere>
                    <FormError value=everywhere.value()/>
                    {done_sentence(everywhere.value(), everywhere_done, texts::account_other_logins_ended(lang))}
                    <button type="submit">{texts::account_log_out_everywhere(lang)}</button>
                </ActionForm>
            </section>
        }
    }
}

/// The top bar is rendered on the server, outside any island: a name saved here is written into
/// it, so that it reads right without loading the page again.
fn show_name_in_top_bar(name: &str) {
    #[cfg(feature = "hydrate")]
    if let Ok(Some(link)) = document().query_selector("header .whoami") {
        link.set_text_content(Some(name));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = name;
}

/// The new password of a reset and of My account: named `new_password` for both functions.
#[component]
fn NewPasswordField() -> impl IntoView {
    let lang = super::page_language();
    view! {
        <label>
            {texts::account_new_password(lang)}
            <input type="password" name="new_password" autocomplete="new-password" minlength=PASSWORD_MIN_CHARS required/>
            <small>{texts::account_password_hint(lang)}</small>
        </label>
    }
}
