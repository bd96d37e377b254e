//! Layers read top-down (pages → server functions → server context and storage → rules), and no
//! file imports from a layer above its own (`docs/architecture.md`). This reads the sources.
use std::path::Path;

/// Every `.rs` file under `dir`, with its text.
fn sources(dir: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push((path.display().to_string(), std::fs::read_to_string(&path).unwrap()));
        }
    }
    found
}

fn src(relative: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(relative)
}

fn assert_uses_none(dir: &str, forbidden: &[&str], why: &str) {
    let files = sources(&src(dir));
    assert!(!files.is_empty(), "no sources under {dir}");
    for (path, text) in files {
        for name in forbidden {
            assert!(!text.contains(name), "{path} uses {name}: {why}");
        }
    }
}

#[test]
fn rules_depend_on_nothing_above_them() {
    assert_uses_none(
        "rules",
        &[
            "crate::storage",
            "crate::services",
            "crate::pages",
            "crate::functions",
            "crate::states",
            "sea_orm",
            "leptos",
            "axum",
            "server_fn_error",
        ],
        "domain rules are plain Rust, below storage, the server, server functions and pages",
    );
}

#[test]
fn storage_and_the_server_context_do_not_reach_up_to_functions_or_pages() {
    for dir in ["storage", "services"] {
        assert_uses_none(
            dir,
            &["crate::functions", "crate::pages"],
            "storage and the server context sit below server functions and pages",
        );
    }
}
