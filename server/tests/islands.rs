//! The pages' islands (`app/src/pages/islands.rs`): which page hydrates what, and which wasm
//! chunks it preloads. A file of its own: leptos reads the split manifest once per process, and
//! this test's must be the one it reads.
mod common;

use app::services::ServerContext;
use app::storage::testing::TestDb;
use common::{create_session, link_token, Client};
use leptos::prelude::LeptosOptions;

/// What `cargo leptos build --split` writes, in miniature: each lazy island's loader and the
/// chunks it needs.
const MANIFEST: &str = r#"{
    "host_island_loader_11": ["chunk_1.a", "split_host_island_loader_11.b"],
    "screen_island_loader_12": ["chunk_1.a", "split_screen_island_loader_12.c"],
    "my_sessions_island_loader_13": ["chunk_2.d", "split_my_sessions_island_loader_13.e"],
    "account_island_loader_14": ["chunk_3.f", "split_account_island_loader_14.g"]
}"#;

fn preloads(body: &str, chunk: &str) -> bool {
    body.contains(&format!(r#"href="/pkg/{chunk}.wasm" rel="preload""#))
}

#[tokio::test]
async fn each_page_hydrates_its_own_islands_and_preloads_only_their_chunks() {
    let test_db = TestDb::sqlite().await;
    let site = std::env::temp_dir().join(format!("ruche-islands-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(site.join("pkg/__wasm_split_manifest.json"), MANIFEST).unwrap();
    let options = LeptosOptions::builder().output_name("ruche").site_root(site.to_string_lossy().to_string()).build();
    let router = server::router(options, ServerContext::new(test_db.db.clone(), "http://127.0.0.1:3000", Vec::new()));

    let mut owner = Client::signed_up(&router, "ada@example.org").await;
    let id = create_session(&mut owner, "Class").await;
    let host = owner.page(&format!("/s/{id}")).await;
    assert_eq!(host.status, 200, "{}", host.body);
    assert_eq!(host.body.matches("<leptos-island").count(), 1, "the host view is the page's one island");
    assert!(host.body.contains(r#"data-component="HostIsland_"#), "{}", host.body);
    assert!(preloads(&host.body, "chunk_1.a") && preloads(&host.body, "split_host_island_loader_11.b"));
    assert!(!preloads(&host.body, "split_account_island_loader_14.g"), "another page's island");

    let account = owner.page("/account").await;
    assert!(account.body.contains(r#"data-component="AccountIsland_"#));
    assert!(preloads(&account.body, "chunk_3.f") && preloads(&account.body, "split_account_island_loader_14.g"));
    assert!(!preloads(&account.body, "chunk_1.a"));

    // The participant view is in the main wasm: no chunk to preload.
    let mut phone = Client::from(&router, [10, 0, 0, 7]);
    let ways_in: serde_json::Value = owner.call("host_session", &[("id", &id)]).await.json();
    let token = link_token(ways_in["state"]["ways_in"]["link"].as_str().unwrap());
    let joined = phone.call("join_by_link", &[("token", &token)]).await;
    assert!(joined.status.is_success(), "{} {}", joined.status, joined.body);
    let participant = phone.page(&format!("/p/{id}")).await;
    assert_eq!(participant.status, 200, "{}", participant.body);
    assert!(participant.body.contains(r#"data-component="ParticipantIsland_"#), "{}", participant.body);
    assert!(!participant.body.contains("/pkg/chunk_"), "a participant preloads no host chunk");

    // Plain pages have no island at all.
    let home = phone.page("/").await;
    assert!(!home.body.contains("<leptos-island"));
    assert!(!home.body.contains("/pkg/chunk_"));

    std::fs::remove_dir_all(site).ok();
    test_db.finish().await;
}
