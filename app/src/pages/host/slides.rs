//! The host view's slides panel: the list of slides, each with its tools (show, move, edit,
//! delete), and the buttons that add one.
use crate::ids::SessionId;
use crate::pages::host::actions::HostActions;
use crate::pages::slides::SlideBody;
use crate::pages::FormError;
use crate::rules::slides::{Move, SlideKind, SLIDE_BODY_MAX_CHARS, SLIDE_TITLE_MAX_CHARS};
use crate::states::{SlideContent, SlideView};
use crate::texts;
use leptos::prelude::*;

#[component]
pub(super) fn SlidesPanel(
    id: SessionId,
    slides: Memo<(Vec<SlideView>, Option<crate::ids::SlideId>)>,
    actions: HostActions,
) -> impl IntoView {
    // Keyed by everything an item shows but the slide count (which only enables "↓"): an item is
    // redrawn only when it changed, so a slide being edited in one tab stays open while another
    // host works on other slides.
    let items = move || {
        slides.with(|(slides, active)| {
            slides
                .iter()
                .cloned()
                .enumerate()
                .map(|(index, slide)| (index, Some(slide.id) == *active, slide))
                .collect::<Vec<_>>()
        })
    };
    let count = Memo::new(move |_| slides.with(|(slides, _)| slides.len()));
    let lang = crate::pages::page_language();
    let add_button = move |kind: SlideKind| {
        view! {
            <ActionForm action=actions.add attr:class="inline">
                <input type="hidden" name="id" value=id.to_string()/>
                <input type="hidden" name="kind" value=format!("{kind:?}")/>
                <button type="submit">{kind.label(lang)}</button>
            </ActionForm>
        }
    };
    view! {
        <section class="slides" aria-labelledby="slides-title">
            <h2 id="slides-title">{texts::slides_title(lang)}</h2>
            {move || slides.with(|(s, _)| s.is_empty()).then(|| view! { <p class="empty">{texts::slides_empty(lang)}</p> })}
            <ol class="slide-list">
                <For each=items key=|item| item.clone() let:item>
                    <SlideItem session_id=id slide=item.2 index=item.0 count is_active=item.1 actions/>
                </For>
            </ol>
            <div class="add-slide" role="group" aria-label=texts::slides_add_group(lang)>
                <span>{texts::slides_add(lang)}</span>
                {add_button(SlideKind::LinkAndQr)}
                {add_button(SlideKind::Text)}
            </div>
            <FormError value=actions.add.value()/>
            <FormError value=actions.update.value()/>
            <FormError value=actions.reorder.value()/>
            <FormError value=actions.delete.value()/>
            <FormError value=actions.show.value()/>
        </section>
    }
    .into_any()
}

#[component]
fn SlideItem(
    session_id: SessionId,
    slide: SlideView,
    index: usize,
    count: Memo<usize>,
    is_active: bool,
    actions: HostActions,
) -> impl IntoView {
    let slide_id = slide.id;
    let lang = crate::pages::page_language();
    let label = match &slide.content {
        SlideContent::LinkAndQr(_) => texts::slide_kind_link_and_qr(lang).to_owned(),
        SlideContent::Text { title, .. } => texts::slide_label(lang, index + 1, title),
    };
    let (up_label, down_label, delete_label) = (
        texts::slide_move_up(lang, &label),
        texts::slide_move_down(lang, &label),
        texts::slide_delete_label(lang, &label),
    );
    let editor = match slide.content.clone() {
        SlideContent::Text { title, body } => Some(view! {
            <details class="slide-edit">
                <summary>{texts::slide_edit(lang)}</summary>
                <ActionForm action=actions.update attr:novalidate=true>
                    <SlideIds session_id slide_id/>
                    <label>{texts::slide_title(lang)}<input type="text" name="title" maxlength=SLIDE_TITLE_MAX_CHARS value=title/></label>
                    <label>{texts::slide_text(lang)}<textarea name="body" rows="4" maxlength=SLIDE_BODY_MAX_CHARS>{body}</textarea></label>
                    <button type="submit" class="primary">{texts::slide_save(lang)}</button>
                </ActionForm>
            </details>
        }),
        SlideContent::LinkAndQr(_) => None,
    };
    view! {
        <li class="slide-item" class:active=is_active aria-current=is_active.then_some("true") aria-label=label>
            <div class="slide-preview"><SlideBody slide/></div>
            <div class="slide-actions">
                <ActionForm action=actions.show attr:class="inline">
                    <SlideIds session_id slide_id/>
                    <button type="submit" disabled=is_active>
                        {if is_active { texts::slide_shown(lang) } else { texts::slide_show(lang) }}
                    </button>
                </ActionForm>
                <ActionForm action=actions.reorder attr:class="inline">
                    <SlideIds session_id slide_id/>
                    <input type="hidden" name="direction" value=format!("{:?}", Move::Up)/>
                    <button type="submit" aria-label=up_label disabled=index == 0>"↑"</button>
                </ActionForm>
                <ActionForm action=actions.reorder attr:class="inline">
                    <SlideIds session_id slide_id/>
                    <input type="hidden" name="direction" value=format!("{:?}", Move::Down)/>
                    <button type="submit" aria-label=down_label disabled=move || index + 1 == count.get()>"↓"</button>
                </ActionForm>
                <ActionForm action=actions.delete attr:class="inline">
                    <SlideIds session_id slide_id/>
                    <button type="submit" aria-label=delete_label>{texts::slide_delete(lang)}</button>
                </ActionForm>
            </div>
            {editor}
        </li>
    }
}

/// The hidden fields naming a slide, for its forms.
#[component]
fn SlideIds(session_id: SessionId, slide_id: crate::ids::SlideId) -> impl IntoView {
    view! {
        <input type="hidden" name="id" value=session_id.to_string()/>
        <input type="hidden" name="slide" value=slide_id.to_string()/>
    }
}
