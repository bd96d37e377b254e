use super::FormError;
use crate::functions::accounts::{LogIn, SignUp};
use crate::rules::accounts::PASSWORD_MIN_CHARS;
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_query_map};

/// Where to return after logging in, carried through the forms as a hidden field.
fn next_param() -> Option<String> {
    use_query_map().read_untracked().get("next")
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let next = next_param();
    let login_href = match &next {
        Some(n) => format!("/login?next={}", urlencode(n)),
        None => "/login".to_owned(),
    };
    view! {
        <leptos_meta::Title text="Sign up · Ruche"/>
        <section class="card narrow">
            <h1>"Create your account"</h1>
            <ActionForm action=action attr:novalidate=true>
                <label>"E-mail"<input type="email" name="email" autocomplete="email" required/></label>
                <label>"Your name"<input type="text" name="display_name" autocomplete="name" maxlength="60" required/></label>
                <label>
                    "Password"
                    <input type="password" name="password" autocomplete="new-password" minlength=PASSWORD_MIN_CHARS required/>
                    <small>"At least 8 characters."</small>
                </label>
                {next.map(|n| view! { <input type="hidden" name="next" value=n/> })}
                <FormError value=action.value()/>
                <button type="submit" class="primary">"Sign up"</button>
            </ActionForm>
            <p>"Already have an account? "<A href=login_href>"Log in"</A></p>
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
    view! {
        <leptos_meta::Title text="Log in · Ruche"/>
        <section class="card narrow">
            <h1>"Log in"</h1>
            <ActionForm action=action attr:novalidate=true>
                <label>"E-mail"<input type="email" name="email" autocomplete="email" required/></label>
                <label>"Password"<input type="password" name="password" autocomplete="current-password" required/></label>
                {next.map(|n| view! { <input type="hidden" name="next" value=n/> })}
                <FormError value=action.value()/>
                <button type="submit" class="primary">"Log in"</button>
            </ActionForm>
            <p>"New to Ruche? "<A href=signup_href>"Create an account"</A></p>
        </section>
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
