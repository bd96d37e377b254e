use super::joining::JoinBanner;
use crate::texts;
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn HomePage() -> impl IntoView {
    let lang = super::page_language();
    view! {
        <JoinBanner/>
        <section class="hero">
            <h1>{texts::home_title(lang)}</h1>
            <p>{texts::home_lead(lang)}</p>
            <p class="actions">
                <A href="/sessions/new" attr:class="button primary">{texts::home_create(lang)}</A>
                <A href="/sessions" attr:class="button">{texts::nav_my_sessions(lang)}</A>
            </p>
        </section>
    }
}
