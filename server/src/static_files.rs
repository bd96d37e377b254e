//! The built files (wasm, JS, CSS, favicon), served by tower-http's `ServeDir`.
//!
//! Release builds are made with `cargo leptos build --release --precompress`, which writes a
//! brotli (`.br`, highest level) and a gzip (`.gz`) copy beside each file. Serving the brotli
//! copy instead of compressing on the fly sends a phone less (the 1.9 MB wasm: 497 KB against
//! 645 KB) and costs no CPU per download, which a client fetching the wasm in a loop would
//! otherwise spend. The gzip copies are left unused: cargo-leptos writes them larger than
//! tower-http's on-the-fly gzip (819 KB against 695 KB), and only browsers without brotli (on
//! plain http, Chromium offers none) get gzip. A copy older than its file comes from an earlier
//! build (a debug build over a release one, say) and would hand the browser the wrong wasm: then
//! none is used.
//!
//! Builds also name the wasm, JS and CSS after their content (`hash-files`: `ruche.<hash>.wasm`,
//! with the hashes in `hash.txt` beside the server binary). A name that cannot change content
//! is cached for a year without revalidation, so a phone opening a second session sends no
//! request for the code at all; every other file (favicon, an unhashed build) is revalidated.
use axum::extract::Request;
use axum::http::{header::CACHE_CONTROL, HeaderValue};
use axum::middleware::Next;
use axum::routing::MethodRouter;
use axum::Router;
use leptos::prelude::LeptosOptions;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;
use tower_http::services::ServeDir;

/// The built files under `options.site_root`, with their `Cache-Control`; any other path goes
/// to `not_found`.
pub fn service(options: &LeptosOptions, not_found: MethodRouter) -> Router {
    let site_root = Path::new(&*options.site_root);
    let named = Arc::new(if options.hash_files {
        content_named(site_root, &options.site_pkg_dir, &hash_file(options))
    } else {
        HashSet::new()
    });
    Router::new()
        .fallback_service(serve_dir(site_root).not_found_service(not_found))
        .layer(axum::middleware::from_fn(move |request: Request, next: Next| {
            let named = named.clone();
            async move {
                let path = request.uri().path().to_owned();
                let mut response = next.run(request).await;
                let status = response.status();
                let found = status.is_success() || status == axum::http::StatusCode::NOT_MODIFIED;
                let value = if found { cache_control(&named, &path) } else { "no-cache" };
                response.headers_mut().entry(CACHE_CONTROL).or_insert(HeaderValue::from_static(value));
                response
            }
        }))
}

/// `ServeDir` over `site_root`, with the brotli copies when every one is current.
pub fn serve_dir(site_root: &Path) -> ServeDir {
    let files = ServeDir::new(site_root);
    match precompressed_copies_are_current(site_root) {
        Ok(true) => files.precompressed_br(),
        Ok(false) => files,
        Err(stale) => {
            tracing::warn!(
                file = %stale.display(),
                "a precompressed copy is older than its file: the built files are compressed on the fly instead"
            );
            files
        }
    }
}

/// `Ok(true)` when there are brotli copies and none is older than its file; `Ok(false)` when
/// there are none; `Err(copy)` naming a stale one.
pub fn precompressed_copies_are_current(site_root: &Path) -> Result<bool, PathBuf> {
    let mut found = false;
    let mut folders = vec![site_root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            let Some(original) = original_of(&path) else { continue };
            found = true;
            if modified(&path) < modified(&original) {
                return Err(path);
            }
        }
    }
    Ok(found)
}

/// Where leptos's `HydrationScripts` and `HashedStylesheet` read the hashes: beside the running
/// binary, where cargo-leptos writes them.
pub fn hash_file(options: &LeptosOptions) -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
        .unwrap_or_default()
        .join(&*options.hash_file)
}

/// Pages link the hashed names exactly when the build that made this binary left its hash file
/// beside it, however the binary is started (cargo-leptos, a script, by hand after a copy):
/// `LEPTOS_HASH_FILES` alone would let a page link files that do not exist.
pub fn follow_hash_file(options: &mut LeptosOptions) {
    let present = hash_file(options).is_file();
    if options.hash_files && !present {
        tracing::warn!(file = %hash_file(options).display(), "no hash file beside the binary: pages link the built files by their plain names");
    }
    options.hash_files = present;
}

/// The URL paths of the built files named after their content: the files under `pkg_dir` whose
/// name holds one of the hashes `hash_file` lists (`js: <hash>` lines, as cargo-leptos writes
/// them). Empty when there is no hash file: names then carry no hash.
pub fn content_named(site_root: &Path, pkg_dir: &str, hash_file: &Path) -> HashSet<String> {
    let Ok(listing) = std::fs::read_to_string(hash_file) else { return HashSet::new() };
    let hashes: Vec<String> = listing
        .lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(_, hash)| hash.trim())
        // A hash too short to be one could match any name.
        .filter(|hash| hash.len() >= 8)
        .map(|hash| format!(".{hash}."))
        .collect();
    let Ok(entries) = std::fs::read_dir(site_root.join(pkg_dir)) else { return HashSet::new() };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| hashes.iter().any(|hash| name.contains(hash.as_str())))
        .map(|name| format!("/{}/{name}", pkg_dir.trim_matches('/')))
        .collect()
}

/// `Cache-Control` for a built file at `path`: a year, never revalidated, for content-named
/// files; otherwise revalidate on each use (a 304 when unchanged).
pub fn cache_control(content_named: &HashSet<String>, path: &str) -> &'static str {
    if content_named.contains(path) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    }
}

/// `ruche.wasm` for `ruche.wasm.br`, when that file exists.
fn original_of(copy: &Path) -> Option<PathBuf> {
    (copy.extension()? == "br").then(|| copy.with_extension("")).filter(|o| o.is_file())
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_count_only_when_none_is_older_than_its_file() {
        let site = std::env::temp_dir().join(format!("ruche-precompressed-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(site.join("pkg")).unwrap();
        std::fs::write(site.join("favicon.svg"), "<svg/>").unwrap();
        assert_eq!(precompressed_copies_are_current(&site), Ok(false), "no copies");
        let wasm = site.join("pkg/ruche.wasm");
        std::fs::write(&wasm, "old").unwrap();
        std::fs::write(site.join("pkg/ruche.wasm.br"), "copy").unwrap();
        std::fs::write(site.join("pkg/orphan.js.br"), "a copy whose file is gone is never served").unwrap();
        std::fs::write(site.join("pkg/ruche.wasm.gz"), "gzip copies are not looked at").unwrap();
        assert_eq!(precompressed_copies_are_current(&site), Ok(true));
        // A later build rewrote the file, not its copy.
        let later = SystemTime::now() + std::time::Duration::from_secs(60);
        std::fs::File::options().write(true).open(&wasm).unwrap().set_modified(later).unwrap();
        assert_eq!(precompressed_copies_are_current(&site), Err(site.join("pkg/ruche.wasm.br")));
        std::fs::remove_dir_all(site).ok();
    }

    #[test]
    fn only_files_named_after_a_listed_hash_are_cached_for_good() {
        let site = std::env::temp_dir().join(format!("ruche-hashed-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(site.join("pkg")).unwrap();
        for name in ["ruche.Ab12Cd34Ef56.wasm", "ruche.Ab12Cd34Ef56.wasm.br", "ruche.Zz99Yy88Xx77.js", "ruche.css", "ruche.Old0Old0Old0.js"] {
            std::fs::write(site.join("pkg").join(name), "x").unwrap();
        }
        std::fs::write(site.join("favicon.svg"), "<svg/>").unwrap();
        let hash_file = site.join("hash.txt");
        assert!(content_named(&site, "pkg", &hash_file).is_empty(), "no hash file: nothing is content-named");
        std::fs::write(&hash_file, "js: Zz99Yy88Xx77\nwasm: Ab12Cd34Ef56\ncss: \n").unwrap();
        let named = content_named(&site, "pkg", &hash_file);
        let mut sorted: Vec<_> = named.iter().map(String::as_str).collect();
        sorted.sort();
        assert_eq!(sorted, ["/pkg/ruche.Ab12Cd34Ef56.wasm", "/pkg/ruche.Ab12Cd34Ef56.wasm.br", "/pkg/ruche.Zz99Yy88Xx77.js"]);
        assert_eq!(cache_control(&named, "/pkg/ruche.Ab12Cd34Ef56.wasm"), "public, max-age=31536000, immutable");
        // An earlier build's file, the unhashed CSS and the favicon can change under their names.
        for path in ["/pkg/ruche.Old0Old0Old0.js", "/pkg/ruche.css", "/favicon.svg"] {
            assert_eq!(cache_control(&named, path), "no-cache", "{path}");
        }
        std::fs::remove_dir_all(site).ok();
    }
}
