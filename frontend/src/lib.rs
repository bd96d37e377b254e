#![recursion_limit = "512"]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // What `hydrate_lazy` does, awaited: a lazy route's chunk (`--split`) must be fetched before
    // its page can hydrate, and only then is the page interactive.
    wasm_bindgen_futures::spawn_local(async {
        let body = leptos::prelude::document().body().expect("a page has a body");
        leptos::mount::hydrate_from_async(body, app::App).await.forget();
        // Lets browser tests wait for the interactive page instead of racing the wasm download.
        let _ = js_sys::Reflect::set(
            &js_sys::global(),
            &wasm_bindgen::JsValue::from_str("__rucheHydrated"),
            &wasm_bindgen::JsValue::TRUE,
        );
    });
}
