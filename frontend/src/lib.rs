#![recursion_limit = "512"]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // The page is server-rendered; only its islands run here. leptos's island script hydrates
    // each of them after this returns, fetching a lazy island's chunk (`--split`) first.
    leptos::mount::hydrate_islands();
    app::page_started();
}
