//! Confirmations: a modal alert dialog above everything else on the page, whichever part of it
//! opened it (the host toolbar, the Share pop-up, the ⋮ menu of "My sessions"). Focus moves into
//! it, stays there (Tab wraps round), and goes back to what opened it when it closes; Escape or a
//! click beside it cancels.
use leptos::prelude::*;

#[component]
pub fn Confirm(
    /// Prefix of the ids that name and describe the dialog; unique on the page.
    id: &'static str,
    #[prop(into)] title: String,
    #[prop(into)] text: String,
    /// Closes without acting.
    cancel: Callback<()>,
    /// Where "Cancel" leads without JavaScript, for a confirmation opened by a link.
    #[prop(optional, into)]
    cancel_href: Option<String>,
    /// The confirming control (a button, or a form holding one).
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Div>::new();
    let backdrop = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    browser::manage_focus(dialog);
    let (title_id, text_id) = (format!("{id}-title"), format!("{id}-text"));
    let (labelled_by, described_by) = (title_id.clone(), text_id.clone());
    let cancel_text = crate::texts::confirm_cancel(super::page_language());
    let cancel_button = match cancel_href {
        Some(href) => view! {
            <a href=href class="button confirm-cancel" role="button" on:click=move |ev| {
                ev.prevent_default();
                cancel.run(());
            }>{cancel_text}</a>
        }
        .into_any(),
        None => {
            view! { <button type="button" class="confirm-cancel" on:click=move |_| cancel.run(())>{cancel_text}</button> }
                .into_any()
        }
    };
    view! {
        <div class="confirm-backdrop" node_ref=backdrop
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    // Only this dialog closes, not a pop-up under it.
                    ev.stop_propagation();
                    cancel.run(());
                }
            }
            on:click=move |ev| {
                let on_backdrop = match (ev.target(), backdrop.get_untracked()) {
                    (Some(target), Some(backdrop)) => web_sys::wasm_bindgen::JsValue::from(target) == web_sys::wasm_bindgen::JsValue::from(backdrop),
                    _ => false,
                };
                if on_backdrop {
                    cancel.run(());
                }
            }>
            <div class="confirm" role="alertdialog" aria-modal="true" aria-labelledby=labelled_by aria-describedby=described_by node_ref=dialog>
                <span tabindex="0" on:focus=move |_| focus_end(dialog, true)></span>
                <h2 id=title_id>{title}</h2>
                <p id=text_id>{text}</p>
                <div class="confirm-actions">
                    {children()}
                    {cancel_button}
                </div>
                <span tabindex="0" on:focus=move |_| focus_end(dialog, false)></span>
            </div>
        </div>
    }
    .into_any()
}

/// Focuses the dialog's last control (`last`) or its first: the sentinels at both ends send
/// Tab round.
fn focus_end(dialog: NodeRef<leptos::html::Div>, last: bool) {
    #[cfg(feature = "hydrate")]
    browser::focus_control(dialog, last);
    #[cfg(not(feature = "hydrate"))]
    let _ = (dialog, last);
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;
    use send_wrapper::SendWrapper;
    use web_sys::wasm_bindgen::JsCast;

    const CONTROLS: &str = "button:not([disabled]), a[href], input:not([type=hidden])";

    pub fn focus_control(dialog: NodeRef<leptos::html::Div>, last: bool) {
        let Some(dialog) = dialog.get_untracked() else { return };
        let Ok(controls) = dialog.query_selector_all(CONTROLS) else { return };
        let index = if last { controls.length().saturating_sub(1) } else { 0 };
        if let Some(control) = controls.get(index).and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = control.focus();
        }
    }

    /// Moves focus to "Cancel" once the dialog is on the page, and back to the control that
    /// opened it when the dialog goes.
    pub fn manage_focus(dialog: NodeRef<leptos::html::Div>) {
        let opener = document().active_element().and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
        let opener = SendWrapper::new(opener);
        Effect::new(move |_| {
            if let Some(dialog) = dialog.get() {
                if let Ok(Some(cancel)) = dialog.query_selector(".confirm-cancel") {
                    if let Ok(cancel) = cancel.dyn_into::<web_sys::HtmlElement>() {
                        let _ = cancel.focus();
                    }
                }
            }
        });
        on_cleanup(move || {
            if let Some(opener) = opener.take() {
                // Still on the page (the toolbar, the Share pop-up): focus goes back there.
                if opener.is_connected() {
                    let _ = opener.focus();
                }
            }
        });
    }
}
