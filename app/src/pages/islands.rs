//! What the browser runs of a page: its islands (leptos's `islands` mode). The rest of a page is
//! rendered on the server alone, so the wasm holds only the islands' code and what they use, not
//! the router nor any page around them: the participant's phone downloads the participant view
//! and little else. An island gets what it shows as serialized props, loaded by the page around
//! it on the server, and reads anything newer itself (the live channel, a server function).
//!
//! The participant view is an eager island, in the main wasm; the host's islands are
//! `#[island(lazy)]`, each a wasm chunk of its own (`cargo leptos build --split`) that only the
//! pages showing it fetch, and preload (`preload_lazy_island`).

/// Marks the page interactive for browser tests and the benchmark (`window.__rucheHydrated`):
/// at once on a page without islands, otherwise once its last island has hydrated. Called by
/// the frontend after `hydrate_islands`.
pub fn page_started() {
    #[cfg(feature = "hydrate")]
    if browser::islands_on_page() == 0 {
        browser::mark_hydrated();
    }
}

/// Called first thing in every island's body: the island hydrates right after its body returns.
pub(super) fn island_started() {
    #[cfg(feature = "hydrate")]
    browser::island_started();
}

/// Shows `path` in the address bar without loading anything. The public link answers with the
/// participant page itself (the server crate's `join_pages`): its island shows the page's own
/// address, `/p/<id>`, which a reload or a bookmark then opens.
pub(super) fn show_address(path: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        if window.location().pathname().ok().as_deref() != Some(path) {
            if let Ok(history) = window.history() {
                let _ = history.replace_state_with_url(&web_sys::wasm_bindgen::JsValue::NULL, "", Some(path));
            }
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}

/// Runs `read` each time `after` changes, never at first: an island starts from what its page
/// loaded on the server, and reads it again only after its own actions (`read` sets the answer).
pub(super) fn read_again_after<D: 'static, F: std::future::Future<Output = ()> + 'static>(
    after: impl Fn() -> D + 'static,
    read: impl Fn() -> F + 'static,
) {
    leptos::prelude::Effect::watch(after, move |_, _, _| leptos::task::spawn_local(read()), false);
}

/// The tab's title, from inside an island. The server writes it into the page's head, as
/// leptos_meta's `Title` does everywhere else; in the browser the island sets `document.title`
/// itself whenever `text` changes, which keeps leptos_meta's client code out of the wasm (the
/// page around an island is never rendered there, so nothing else needs it).
#[leptos::component]
pub(super) fn TabTitle(#[prop(into)] text: leptos::prelude::TextProp) -> impl leptos::prelude::IntoView {
    // leptos_meta's `Title` writes nothing where it stands; `()` writes a placeholder there, which
    // the browser's `()` then hydrates. Read now, as a string: leptos_axum writes the head after
    // the page, outside the page's reactive arena, and a signal read there is looked up in
    // whichever request's arena ran last on the thread, and panics when a room loads its pages
    // at once (`pages_loaded_at_once_each_come_whole`).
    #[cfg(feature = "ssr")]
    return (leptos::view! { <leptos_meta::Title text=text.get().into_owned()/> }, ());
    #[cfg(not(feature = "ssr"))]
    leptos::prelude::Effect::new(move |_| leptos::prelude::document().set_title(&text.get()));
}

/// The submit handler of a form that works as plain HTML first: without the wasm, the browser
/// posts its fields to its server function (`action`) and comes back to the page, error
/// included. Once its island runs, the same fields go by `fetch`, the page stays, and `done` gets
/// the server function's answer. Unlike `ActionForm`, it brings neither the server functions'
/// client nor a form encoder into the wasm: the browser encodes the fields, and the answer is
/// read with the JSON decoder that the islands' props need anyway.
pub(super) fn submit_in_place<T, E>(
    done: impl Fn(Result<T, E>) + Clone + 'static,
) -> impl Fn(web_sys::SubmitEvent) + 'static
where
    T: serde::de::DeserializeOwned + 'static,
    E: serde::de::DeserializeOwned + leptos::server_fn::error::FromServerFnError + 'static,
{
    move |event| {
        #[cfg(feature = "hydrate")]
        {
            use web_sys::wasm_bindgen::JsCast;
            let Some(form) = event.target().and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok()) else {
                return;
            };
            event.prevent_default();
            let done = done.clone();
            leptos::task::spawn_local(async move { done(browser::post_form(&form).await) });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (event, &done);
    }
}

/// Adds the preload links of a lazy island's chunks to the page being rendered, as leptos does
/// for a lazy route, so that they download beside the main wasm instead of after it. `island`
/// is the island's name (`HostIsland`).
pub(super) fn preload_lazy_island(island: &str) {
    #[cfg(feature = "ssr")]
    server::preload(island);
    #[cfg(not(feature = "ssr"))]
    let _ = island;
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::cell::Cell;

    thread_local! {
        static HYDRATED_ISLANDS: Cell<u32> = const { Cell::new(0) };
    }

    pub fn islands_on_page() -> u32 {
        leptos::prelude::document().query_selector_all("leptos-island").map(|list| list.length()).unwrap_or(0)
    }

    pub fn island_started() {
        // After the body, the island's view is hydrated in the same turn: a task queued now
        // runs once that is done.
        wasm_bindgen_futures::spawn_local(async {
            let done = HYDRATED_ISLANDS.with(|n| {
                n.set(n.get() + 1);
                n.get()
            });
            if done >= islands_on_page() {
                mark_hydrated();
            }
        });
    }

    /// Posts `form`'s fields URL-encoded, as the browser would, asking for the server
    /// function's JSON answer: its value on success, its error enum otherwise. What cannot be
    /// read (no network, a refusal that is not the function's own) becomes the enum's
    /// `Unreachable`, as with the server functions' own client.
    pub async fn post_form<T, E>(form: &web_sys::HtmlFormElement) -> Result<T, E>
    where
        T: serde::de::DeserializeOwned,
        E: serde::de::DeserializeOwned + leptos::server_fn::error::FromServerFnError,
    {
        use leptos::server_fn::error::ServerFnErrorErr;
        use wasm_bindgen_futures::JsFuture;
        use web_sys::wasm_bindgen::{JsCast, JsValue};
        let unreachable =
            |e: JsValue| E::from_server_fn_error(ServerFnErrorErr::Request(e.as_string().unwrap_or_default()));
        let fields = web_sys::FormData::new_with_form(form).map_err(unreachable)?;
        let body = web_sys::UrlSearchParams::new_with_str_sequence_sequence(&fields).map_err(unreachable)?;
        let headers = web_sys::Headers::new().map_err(unreachable)?;
        headers.set("Accept", "application/json").map_err(unreachable)?;
        let init = web_sys::RequestInit::new();
        init.set_method("POST");
        init.set_body(&body);
        init.set_headers(&headers);
        let sent = leptos::prelude::window().fetch_with_str_and_init(&form.action(), &init);
        let response: web_sys::Response = JsFuture::from(sent).await.map_err(unreachable)?.unchecked_into();
        let text = JsFuture::from(response.text().map_err(unreachable)?)
            .await
            .map_err(unreachable)?
            .as_string()
            .unwrap_or_default();
        if response.ok() {
            serde_json::from_str(&text)
                .map_err(|e| E::from_server_fn_error(ServerFnErrorErr::Deserialization(e.to_string())))
        } else {
            Err(serde_json::from_str(&text)
                .unwrap_or_else(|_| E::from_server_fn_error(ServerFnErrorErr::Response(text))))
        }
    }

    pub fn mark_hydrated() {
        let _ = js_sys::Reflect::set(
            &js_sys::global(),
            &web_sys::wasm_bindgen::JsValue::from_str("__rucheHydrated"),
            &web_sys::wasm_bindgen::JsValue::TRUE,
        );
    }
}

#[cfg(feature = "ssr")]
mod server {
    use leptos::prelude::*;
    use std::sync::Mutex;

    /// Manifest keys found so far, leaked once each: leptos wants them `'static`, and there are as
    /// many as there are lazy islands.
    static KEYS: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

    pub fn preload(island: &str) {
        // `#[island(lazy)] Name` loads through `#[lazy] fn Name_loader`, whose chunk is named
        // `name_loader_<hash of where it is written>` in the split manifest.
        let prefix = format!("{}_loader_", snake_case(island));
        let Some(manifest) = use_context::<leptos::WasmSplitManifest>() else {
            return;
        };
        let mut keys = KEYS.lock().unwrap_or_else(|e| e.into_inner());
        let key = match keys.iter().find(|k| k.starts_with(&prefix)) {
            Some(key) => *key,
            None => {
                let Some(found) =
                    manifest.0.with_value(|(_, chunks, _)| chunks.keys().find(|k| k.starts_with(&prefix)).cloned())
                else {
                    tracing::warn!(island, "no chunk of this lazy island in the split manifest");
                    return;
                };
                let found: &'static str = Box::leak(found.into_boxed_str());
                keys.push(found);
                found
            }
        };
        leptos::prefetch_lazy_fn_on_server(key);
    }

    /// `HostIsland` → `host_island`, as the `#[lazy]` macro names its chunk.
    fn snake_case(name: &str) -> String {
        let mut out = String::new();
        for (i, c) in name.chars().enumerate() {
            if c.is_uppercase() {
                if i > 0 {
                    out.push('_');
                }
                out.extend(c.to_lowercase());
            } else {
                out.push(c);
            }
        }
        out
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn names_chunks_as_the_lazy_macro_does() {
            assert_eq!(super::snake_case("HostIsland"), "host_island");
            assert_eq!(super::snake_case("MySessionsIsland"), "my_sessions_island");
        }
    }
}
