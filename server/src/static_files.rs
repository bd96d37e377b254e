//! The built files (wasm, JS, CSS, favicon), served by tower-http's `ServeDir`.
//!
//! Release builds are made with `cargo leptos build --release --precompress`, which writes a
//! brotli (`.br`, highest level) and a gzip (`.gz`) copy beside each file. Serving the brotli
//! copy instead of compressing on the fly sends a phone less and costs no CPU per download,
//! which a client fetching the wasm in a loop would otherwise spend. The gzip copies are left
//! unused: cargo-leptos writes them larger than tower-http's on-the-fly gzip, and only browsers
//! without brotli (on
//! plain http, Chromium offers none) get gzip. A copy older than its file comes from an earlier
//! build (a debug build over a release one, say) and would hand the browser the wrong wasm: then
//! none is used.
//!
//! Builds also name the built files after their content (`hash-files`: `ruche.<md5>.wasm`, with
//! the main hashes in `hash.txt` beside the server binary). A file whose name is the digest of
//! what it holds is cached for a year without revalidation, so a phone opening a second session
//! sends no request for it at all; every other file (the favicon, a file cargo-leptos patched
//! after naming it) is revalidated.
use axum::extract::Request;
use axum::http::{header::CACHE_CONTROL, HeaderValue};
use axum::middleware::Next;
use axum::response::IntoResponse;
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
    let named =
        Arc::new(if options.hash_files { content_named(site_root, &options.site_pkg_dir) } else { HashSet::new() });
    Router::new().fallback_service(serve_dir(site_root).not_found_service(not_found)).layer(axum::middleware::from_fn(
        move |request: Request, next: Next| {
            let named = named.clone();
            async move {
                let path = request.uri().path().to_owned();
                if is_type_declaration(&path) {
                    return (
                        axum::http::StatusCode::NOT_FOUND,
                        [(CACHE_CONTROL, HeaderValue::from_static("no-cache"))],
                    )
                        .into_response();
                }
                let mut response = next.run(request).await;
                let status = response.status();
                let found = status.is_success() || status == axum::http::StatusCode::NOT_MODIFIED;
                let value = if found { cache_control(&named, &path) } else { "no-cache" };
                response.headers_mut().entry(CACHE_CONTROL).or_insert(HeaderValue::from_static(value));
                response
            }
        },
    ))
}

/// wasm-bindgen's TypeScript declarations (`pkg/ruche.d.<hash>.ts`), which cargo-leptos writes
/// beside the JS and cannot be told not to: no page links them, so they are not served.
fn is_type_declaration(path: &str) -> bool {
    path.ends_with(".ts") && path.contains(".d.")
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
    let file = hash_file(options);
    let present = file.is_file();
    if options.hash_files && !present {
        tracing::warn!(file = %file.display(), "no hash file beside the binary: pages link the built files by their plain names");
    }
    options.hash_files = present;
}

/// The file name wasm-split's loader has until `--split` writes it (and `hash-files` renames it).
const SPLIT_LOADER_PLACEHOLDER: &str = "__wasm_split.______________________.js";

/// The built JS file that imports a split loader the build never wrote: a build made without
/// `--split`, whose pages would never become interactive (the lazy islands need the loader).
pub fn built_without_split(site_root: &Path, pkg_dir: &str) -> Option<PathBuf> {
    let pkg = site_root.join(pkg_dir);
    if pkg.join(SPLIT_LOADER_PLACEHOLDER).is_file() {
        return None;
    }
    std::fs::read_dir(&pkg).ok()?.flatten().map(|entry| entry.path()).find(|path| {
        path.extension().is_some_and(|e| e == "js")
            && std::fs::read_to_string(path).is_ok_and(|js| js.contains(SPLIT_LOADER_PLACEHOLDER))
    })
}

/// The URL paths of the built files under `pkg_dir` whose name holds the digest of their own
/// content, as cargo-leptos names them (`ruche.<md5 in base64url>.wasm`). cargo-leptos rewrites
/// some files after naming them (with `--split`, the main JS and wasm get the split loader's
/// final name patched in): their names do not pin their content, so they fail this check and
/// are revalidated like any other file.
pub fn content_named(site_root: &Path, pkg_dir: &str) -> HashSet<String> {
    let Ok(entries) = std::fs::read_dir(site_root.join(pkg_dir)) else { return HashSet::new() };
    entries
        .flatten()
        // A precompressed copy is never asked for by its own name (`ServeDir` sends it for its
        // file's), and its digest is not the one in that name: not worth reading at start-up.
        .filter(|entry| !matches!(entry.path().extension().and_then(|e| e.to_str()), Some("br" | "gz")))
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let content = std::fs::read(entry.path()).ok()?;
            name.contains(&format!(".{}.", content_digest(&content)))
                .then(|| format!("/{}/{name}", pkg_dir.trim_matches('/')))
        })
        .collect()
}

/// The digest cargo-leptos puts in a built file's name.
pub fn content_digest(content: &[u8]) -> String {
    use base64::Engine;
    use md5::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(md5::Md5::digest(content))
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
    fn only_files_named_after_their_own_content_are_cached_for_good() {
        let site = std::env::temp_dir().join(format!("ruche-hashed-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(site.join("pkg")).unwrap();
        let wasm = format!("ruche.{}.wasm", content_digest(b"wasm"));
        let js = format!("ruche.{}.js", content_digest(b"js"));
        std::fs::write(site.join("pkg").join(&wasm), "wasm").unwrap();
        // The copy is not what is named: the request is for the file.
        std::fs::write(site.join("pkg").join(format!("{wasm}.br")), "brotli").unwrap();
        std::fs::write(site.join("pkg").join(&js), "js").unwrap();
        std::fs::write(site.join("pkg/ruche.css"), "css").unwrap();
        // Named, then rewritten (as `--split` does to the main wasm): its name no longer pins it.
        std::fs::write(site.join("pkg").join(format!("chunk_1.{}.wasm", content_digest(b"before"))), "after").unwrap();
        std::fs::write(site.join("favicon.svg"), "<svg/>").unwrap();
        let named = content_named(&site, "pkg");
        let mut sorted: Vec<_> = named.iter().map(String::as_str).collect();
        sorted.sort();
        let mut expected = [format!("/pkg/{js}"), format!("/pkg/{wasm}")];
        expected.sort();
        assert_eq!(sorted, expected);
        assert_eq!(cache_control(&named, &format!("/pkg/{wasm}")), "public, max-age=31536000, immutable");
        for path in
            [format!("/pkg/chunk_1.{}.wasm", content_digest(b"before")), "/pkg/ruche.css".into(), "/favicon.svg".into()]
        {
            assert_eq!(cache_control(&named, &path), "no-cache", "{path}");
        }
        std::fs::remove_dir_all(site).ok();
    }

    #[test]
    fn a_build_without_split_is_told_apart() {
        let site = std::env::temp_dir().join(format!("ruche-split-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(site.join("pkg")).unwrap();
        assert_eq!(built_without_split(&site, "pkg"), None, "nothing built yet");
        let js = site.join("pkg/ruche.js");
        std::fs::write(&js, format!("import {{ load }} from './{SPLIT_LOADER_PLACEHOLDER}';")).unwrap();
        assert_eq!(built_without_split(&site, "pkg"), Some(js.clone()));
        // `--split` wrote the loader (under its hashed name the import is rewritten too).
        std::fs::write(site.join("pkg").join(SPLIT_LOADER_PLACEHOLDER), "export {}").unwrap();
        assert_eq!(built_without_split(&site, "pkg"), None);
        std::fs::write(&js, "import { load } from './__wasm_split.a0jd-WomFdklYHGwItZDWQ.js';").unwrap();
        std::fs::remove_file(site.join("pkg").join(SPLIT_LOADER_PLACEHOLDER)).unwrap();
        assert_eq!(built_without_split(&site, "pkg"), None);
        std::fs::remove_dir_all(site).ok();
    }

    #[test]
    fn the_digest_is_cargo_leptos_md5_in_base64url() {
        // `printf hello | md5sum` is 5d41402abc4b2a76b9719d911017c592.
        assert_eq!(content_digest(b"hello"), "XUFAKrxLKna5cZ2REBfFkg");
    }
}
