use super::joining::JoinBanner;
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <JoinBanner/>
        <section class="hero">
            <h1>"Live sessions your audience joins from their phone"</h1>
            <p>"Create a session, share its link, code or QR code, and run it live."</p>
            <p class="actions">
                <A href="/sessions/new" attr:class="button primary">"Create a session"</A>
                <A href="/sessions" attr:class="button">"My sessions"</A>
            </p>
        </section>
    }
}
