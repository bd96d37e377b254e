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
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use tower_http::services::ServeDir;

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
}
