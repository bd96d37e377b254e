//! Static files must never carry what a concurrent page render set on its own response (its
//! redirect, its cookies). leptos_axum's file handler once did, under load: this drives the real
//! server over TCP with joins (303 + Set-Cookie) and CSS downloads interleaved.
use app::services::ServerContext;
use app::storage::testing::TestDb;
use leptos::prelude::LeptosOptions;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn http(addr: std::net::SocketAddr, request: String) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    String::from_utf8_lossy(&response).into_owned()
}

fn head(response: &str) -> (u16, Vec<&str>) {
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let cookies = response
        .lines()
        .take_while(|l| !l.is_empty())
        .filter(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .collect();
    (status, cookies)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_files_never_carry_another_requests_redirect_or_cookies() {
    let test_db = TestDb::sqlite().await;
    let db = test_db.db.clone();
    let owner = db.create_user("ada@example.org", "Ada", "hash").await.unwrap();
    let session = db.create_session(owner.id, "Class").await.unwrap().unwrap();

    let site = std::env::temp_dir().join(format!("ruche-site-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(site.join("pkg/ruche.css"), "body{}").unwrap();
    let options = LeptosOptions::builder().output_name("ruche").site_root(site.to_string_lossy().to_string()).build();
    let app =
        server::router(options, ServerContext::new(db, "http://127.0.0.1:3000", vec!["127.0.0.1".parse().unwrap()]));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
    });

    let mut tasks = Vec::new();
    for i in 0..2000u32 {
        let code = session.code.as_str().to_owned();
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                let response = http(addr, format!(
                    "GET /join?code={code} HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\nX-Forwarded-For: 10.{}.{}.1\r\nConnection: close\r\n\r\n",
                    i / 250, i % 250
                )).await;
                let (status, cookies) = head(&response);
                assert_eq!((status, cookies.len()), (303, 1), "a join lost its redirect or cookie");
            } else {
                let response = http(addr, "GET /pkg/ruche.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".into()).await;
                let (status, cookies) = head(&response);
                assert_eq!((status, cookies.len()), (200, 0), "a CSS download carried another request's response");
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    // An unknown path is still the app's own "Page not found".
    let response = http(addr, "GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".into()).await;
    assert_eq!(head(&response).0, 404);
    assert!(response.contains("Page not found"));
    std::fs::remove_dir_all(site).ok();
    test_db.finish().await;
}

/// Release builds write brotli and gzip copies beside the built files (`--precompress`): the
/// brotli one is served as it is, never recompressed, and only while it is as new as its file;
/// gzip is made on the fly (cargo-leptos's gzip copies are larger).
#[tokio::test]
async fn built_files_go_out_precompressed_while_the_copies_are_current() {
    use axum::body::Body;
    use axum::http::{header, Request};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    let test_db = TestDb::sqlite().await;
    let site = std::env::temp_dir().join(format!("ruche-site-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    let wasm = "\0asm".repeat(1000);
    std::fs::write(site.join("pkg/ruche.wasm"), &wasm).unwrap();
    std::fs::write(site.join("pkg/ruche.wasm.br"), "brotli bytes").unwrap();
    std::fs::write(site.join("pkg/ruche.wasm.gz"), "gzip bytes").unwrap();
    let options = LeptosOptions::builder().output_name("ruche").site_root(site.to_string_lossy().to_string()).build();
    let get = |app: axum::Router, accept: &'static str| async move {
        let request =
            Request::get("/pkg/ruche.wasm").header(header::ACCEPT_ENCODING, accept).body(Body::empty()).unwrap();
        let response = app.oneshot(request).await.unwrap();
        let encoding = response.headers().get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap().to_owned());
        let cache = response.headers().get(header::CACHE_CONTROL).map(|v| v.to_str().unwrap().to_owned());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (encoding, cache, String::from_utf8_lossy(&body).into_owned())
    };
    let ctx = ServerContext::new(test_db.db.clone(), "http://127.0.0.1:3000", Vec::new());
    let app = server::router(options.clone(), ctx.clone());
    let no_cache = Some("no-cache".to_owned());
    assert_eq!(
        get(app.clone(), "gzip, deflate, br").await,
        (Some("br".into()), no_cache.clone(), "brotli bytes".into())
    );
    let (encoding, cache, body) = get(app.clone(), "gzip").await;
    assert_eq!((encoding.as_deref(), cache, body.len() < wasm.len()), (Some("gzip"), no_cache.clone(), true));
    assert_ne!(body, "gzip bytes");
    assert_eq!(get(app.clone(), "identity").await, (None, no_cache.clone(), wasm.clone()));

    // A later build rewrote the wasm but not its copies: compressed on the fly from the file.
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(60);
    std::fs::File::options().write(true).open(site.join("pkg/ruche.wasm")).unwrap().set_modified(later).unwrap();
    let app = server::router(options, ctx);
    let (encoding, _, body) = get(app, "br").await;
    assert_eq!(encoding.as_deref(), Some("br"));
    assert_ne!(body, "brotli bytes");
    std::fs::remove_dir_all(site).ok();
    test_db.finish().await;
}

/// Built files named after their content are cached for a year without revalidation, and pages
/// link those names; the rest (the favicon, a page) are revalidated.
#[tokio::test]
async fn content_named_files_are_cached_for_good_and_pages_link_them() {
    use axum::body::Body;
    use axum::http::{header, Request};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    let test_db = TestDb::sqlite().await;
    let site = std::env::temp_dir().join(format!("ruche-site-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    let digest = server::static_files::content_digest;
    let (js, wasm, css) = (digest(b"export default 1"), digest(b"\0asm"), digest(b"body{}"));
    std::fs::write(site.join(format!("pkg/ruche.{js}.js")), "export default 1").unwrap();
    std::fs::write(site.join(format!("pkg/ruche.{wasm}.wasm")), "\0asm").unwrap();
    std::fs::write(site.join(format!("pkg/ruche.{css}.css")), "body{}").unwrap();
    std::fs::write(site.join("favicon.svg"), "<svg/>").unwrap();
    // An absolute path: leptos joins it to the binary's folder, which leaves it as it is.
    let hash_file = site.join("hash.txt");
    std::fs::write(&hash_file, format!("js: {js}\nwasm: {wasm}\ncss: {css}\n")).unwrap();
    let options = LeptosOptions::builder()
        .output_name("ruche")
        .site_root(site.to_string_lossy().to_string())
        .hash_files(true)
        .hash_file(hash_file.to_string_lossy().into())
        .build();
    let app = server::router(options, ServerContext::new(test_db.db.clone(), "http://127.0.0.1:3000", Vec::new()));
    let get = |path: String| {
        let app = app.clone();
        async move {
            let request = Request::get(&path).header(header::ACCEPT, "text/html").body(Body::empty()).unwrap();
            let response = app.oneshot(request).await.unwrap();
            let status = response.status().as_u16();
            let cache = response.headers().get(header::CACHE_CONTROL).map(|v| v.to_str().unwrap().to_owned());
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (status, cache.unwrap_or_default(), String::from_utf8_lossy(&body).into_owned())
        }
    };
    for file in [format!("/pkg/ruche.{js}.js"), format!("/pkg/ruche.{wasm}.wasm"), format!("/pkg/ruche.{css}.css")] {
        let (status, cache, _) = get(file.clone()).await;
        assert_eq!((status, cache.as_str()), (200, "public, max-age=31536000, immutable"), "{file}");
    }
    assert_eq!(get("/favicon.svg".into()).await.1, "no-cache");
    // A missing file is the app's "Page not found", never cached for good.
    let (status, cache, _) = get(format!("/pkg/ruche.{js}.map")).await;
    assert_eq!((status, cache.as_str()), (404, "no-cache"));
    let (status, _, page) = get("/".into()).await;
    assert_eq!(status, 200);
    for name in [format!("/pkg/ruche.{js}.js"), format!("/pkg/ruche.{wasm}.wasm"), format!("/pkg/ruche.{css}.css")] {
        assert!(page.contains(&name), "the page does not link {name}");
    }
    std::fs::remove_dir_all(site).ok();
    test_db.finish().await;
}

/// cargo-leptos writes wasm-bindgen's TypeScript declarations into `pkg/`; nothing links them,
/// so they are not served, while the files beside them are.
#[tokio::test]
async fn type_declarations_beside_the_built_files_are_not_served() {
    let test_db = TestDb::sqlite().await;
    let site = std::env::temp_dir().join(format!("ruche-site-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(site.join("pkg/ruche.css"), "body{}").unwrap();
    std::fs::write(site.join("pkg/ruche.d.eSM9LRuqt5lcklSJOQ2_eQ.ts"), "export function hydrate(): void;").unwrap();
    std::fs::write(
        site.join("pkg/ruche_bg.wasm.d.3czddZPR-YJMrz4_P8VnAg.ts"),
        "export const memory: WebAssembly.Memory;",
    )
    .unwrap();
    let options = LeptosOptions::builder().output_name("ruche").site_root(site.to_string_lossy().to_string()).build();
    let app = server::router(options, ServerContext::new(test_db.db.clone(), "http://127.0.0.1:3000", Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
    });
    let get = |path: &str| http(addr, format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    assert_eq!(head(&get("/pkg/ruche.css").await).0, 200);
    for path in ["/pkg/ruche.d.eSM9LRuqt5lcklSJOQ2_eQ.ts", "/pkg/ruche_bg.wasm.d.3czddZPR-YJMrz4_P8VnAg.ts"] {
        assert_eq!(head(&get(path).await).0, 404, "{path}");
    }
    std::fs::remove_dir_all(site).ok();
    test_db.finish().await;
}
