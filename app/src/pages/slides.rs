//! How a slide looks, for hosts and participants alike.
use crate::states::{SlideContent, SlideView, WaysIn};
use leptos::prelude::*;

#[component]
pub fn SlideBody(slide: SlideView) -> impl IntoView {
    match slide.content {
        SlideContent::LinkAndQr(ways_in) => view! { <WaysInFigure ways_in/> }.into_any(),
        SlideContent::Text { title, body } => view! {
            <div class="slide-text">
                <h2>{title}</h2>
                <p class="slide-body">{body}</p>
            </div>
        }
        .into_any(),
    }
}

/// The QR code with the code and the link written under it.
#[component]
pub fn WaysInFigure(ways_in: WaysIn) -> impl IntoView {
    let WaysIn { code, link, qr_svg, .. } = ways_in;
    let lang = super::page_language();
    view! {
        <figure class="ways-in">
            <img src=qr_svg alt=crate::texts::qr_alt(lang, &link) width="320" height="320"/>
            <figcaption>
                <p class="code">{crate::texts::host_code(lang)}<strong>{code}</strong></p>
                <p class="link">{link}</p>
            </figcaption>
        </figure>
    }
}
