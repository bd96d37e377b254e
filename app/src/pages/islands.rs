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

/// Runs `read` each time `after` changes, never at first: an island starts from what its page
/// loaded on the server, and reads it again only after its own actions (`read` sets the answer).
pub(super) fn read_again_after<D: 'static, F: std::future::Future<Output = ()> + 'static>(
    after: impl Fn() -> D + 'static,
    read: impl Fn() -> F + 'static,
) {
    leptos::prelude::Effect::watch(after, move |_, _, _| leptos::task::spawn_local(read()), false);
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
                let Some(found) = manifest.0.with_value(|(_, chunks, _)| chunks.keys().find(|k| k.starts_with(&prefix)).cloned())
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
