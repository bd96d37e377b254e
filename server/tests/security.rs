//! What protects every request: other sites' requests are refused, server-function bodies are
//! bounded, and every response carries the security headers (a CSP whose nonce is the page's).
use app::rules::accounts::AccountError;
use app::rules::sessions::SessionError;
use app::rules::sharing::SharingError;
use app::rules::Failure;
use app::services::ServerContext;
use app::storage::Db;
use app::test_both_dbs;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{create_session, encode, router, router_with, Client, Reply};
use http_body_util::BodyExt;
use leptos::prelude::LeptosOptions;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

mod common;

const PUBLIC_URL: &str = "http://127.0.0.1:3000";

/// Posts a form to `/api/<name>` with the client's login cookie and the given extra headers.
async fn post(client: &Client, name: &str, form: &[(&str, &str)], headers: &[(&str, &str)]) -> Reply {
    let body = form.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect::<Vec<_>>().join("&");
    let mut request = Request::post(format!("/api/{name}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json");
    if let Some(cookie) = &client.cookie {
        request = request.header(header::COOKIE, cookie);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(&client.router, request.body(Body::from(body)).unwrap()).await
}

async fn send(router: &axum::Router, mut request: Request<Body>) -> Reply {
    request.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::from(([192, 0, 2, 1], 40000))));
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
}

fn header<'a>(reply: &'a Reply, name: &str) -> &'a str {
    reply.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

async fn sessions_of(client: &mut Client) -> usize {
    client.call("my_sessions", &[]).await.json::<Vec<serde_json::Value>>().len()
}

async fn requests_from_other_sites_are_refused(db: Db) {
    let router = router(db);
    let mut ada = Client::signed_up(&router, "ada@example.org").await;
    let credentials = [("email", "ada@example.org"), ("password", "long enough")];
    let stranger = Client::anonymous(&router);

    // Login CSRF: another site's form would log a visitor into the attacker's account.
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![("origin", "https://evil.example"), ("accept", "text/html")],
        vec![("sec-fetch-site", "cross-site")],
        vec![("origin", "null"), ("sec-fetch-site", "cross-site")],
        vec![("origin", "null")],
        vec![("origin", "http://evil.example"), ("host", "127.0.0.1:3000")],
    ] {
        let reply = post(&stranger, "log_in", &credentials, &headers).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{headers:?}: {}", reply.body);
        assert!(reply.body.contains("sent from another site"), "{}", reply.body);
        assert!(reply.headers.get(header::SET_COOKIE).is_none(), "{headers:?}");
    }

    // Said in the visitor's language, as every page is.
    let french =
        post(&stranger, "log_in", &credentials, &[("origin", "https://evil.example"), ("accept-language", "fr")]).await;
    assert_eq!(french.status, StatusCode::FORBIDDEN);
    assert!(french.body.contains("envoyée depuis un autre site"), "{}", french.body);

    // Nor may another site log a host out, or act in their name.
    let evil = [("origin", "https://evil.example")];
    assert_eq!(post(&ada, "log_out", &[], &evil).await.status, StatusCode::FORBIDDEN);
    assert!(ada.call("me", &[]).await.json::<Option<serde_json::Value>>().is_some(), "still logged in");
    assert_eq!(post(&ada, "create_session", &[("title", "Forged")], &evil).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        post(&ada, "create_session", &[("title", "Forged")], &[("sec-fetch-site", "same-site")]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(sessions_of(&mut ada).await, 0);

    // Ruche's own pages pass: at PUBLIC_URL, at the address they were reached by, and with
    // only fetch metadata; so do scripts, which send neither header (the `Client`).
    for headers in [
        vec![("origin", PUBLIC_URL)],
        vec![("origin", "http://ruche.test:8080"), ("host", "ruche.test:8080")],
        vec![("sec-fetch-site", "same-origin")],
        vec![("origin", PUBLIC_URL), ("sec-fetch-site", "same-origin")],
        vec![],
    ] {
        let reply = post(&stranger, "log_in", &credentials, &headers).await;
        assert!(reply.status.is_success(), "{headers:?}: {} {}", reply.status, reply.body);
        assert!(reply.headers.get(header::SET_COOKIE).is_some(), "{headers:?}");
    }
    let reply = post(&ada, "create_session", &[("title", "Mine")], &[("origin", PUBLIC_URL)]).await;
    assert!(reply.status.is_success(), "{} {}", reply.status, reply.body);
    assert_eq!(sessions_of(&mut ada).await, 1);
    let reply = post(&ada, "log_out", &[], &[("origin", PUBLIC_URL)]).await;
    assert_ne!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert_eq!(ada.call("me", &[]).await.json::<Option<serde_json::Value>>(), None);
}
test_both_dbs!(requests_from_other_sites_are_refused);

fn raw_post(path: &str, body: Vec<u8>, accept: &str) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, accept)
        .header(header::CONTENT_LENGTH, body.len())
        .body(Body::from(body))
        .unwrap()
}

async fn bodies_past_their_limit_are_refused(db: Db) {
    let router = router(db);

    let started = std::time::Instant::now();
    let two_mb = format!("id=x&addresses={}", "a@b.cd%20".repeat(2_000_000 / 9)).into_bytes();
    let reply = send(&router, raw_post("/api/send_invitations", two_mb, "application/json")).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    // What a server function answers with its error, so the hydrated app shows the sentence.
    assert_eq!(reply.json::<SharingError>(), SharingError::Failed(Failure::TooLarge));
    assert_eq!(header(&reply, "content-type"), "application/json");
    assert_eq!(header(&reply, "serverfnerror"), "/api/send_invitations");

    let log_in = format!("email=a%40b.cd&password={}", "x".repeat(33 * 1024)).into_bytes();
    let reply = send(&router, raw_post("/api/log_in", log_in.clone(), "application/json")).await;
    assert_eq!(
        (reply.status, reply.json::<AccountError>()),
        (StatusCode::PAYLOAD_TOO_LARGE, AccountError::Failed(Failure::TooLarge))
    );
    // A form posted without JavaScript gets the sentence.
    let reply = send(&router, raw_post("/api/log_in", log_in, "text/html,application/xhtml+xml")).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(header(&reply, "content-type").starts_with("text/plain"));
    assert!(reply.body.contains("too much to send at once"), "{}", reply.body);

    // 5 KiB is too much for a log-in, not for a slide.
    let five = |path: &str| {
        raw_post(path, format!("id=x&slide=y&title=t&body={}", "x".repeat(5 * 1024)).into_bytes(), "application/json")
    };
    assert_eq!(send(&router, five("/api/log_in")).await.status, StatusCode::PAYLOAD_TOO_LARGE);
    let reply = send(&router, five("/api/update_slide")).await;
    assert_ne!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", reply.body);
    assert!(!reply.status.is_server_error(), "{} {}", reply.status, reply.body);
}
test_both_dbs!(bodies_past_their_limit_are_refused);

/// The largest forms the pages send fit their limits, with characters that take 4 bytes.
async fn the_largest_real_forms_fit(db: Db) {
    let router = router(db.clone());
    let mut ada = Client::anonymous(&router);
    let email = format!("{}@{}.{}.{}.org", "a".repeat(64), "b".repeat(63), "c".repeat(63), "d".repeat(57));
    assert_eq!(email.len(), 254);
    let password = "pässwörd🐝".repeat(13);
    let reply = ada
        .call(
            "sign_up",
            &[("email", &email), ("display_name", &"🐝".repeat(60)), ("password", &password), ("next", "/sessions")],
        )
        .await;
    assert!(reply.status.is_success() || reply.status.is_redirection(), "{} {}", reply.status, reply.body);
    assert!(ada.cookie.is_some());
    // Sending invitations needs a proven address.
    common::verify(&db, &email).await;

    let id = create_session(&mut ada, &"🐝".repeat(120)).await;
    let slide: String = ada.call("add_slide", &[("id", &id), ("kind", "Text")]).await.json();
    let (title, body) = ("🐝".repeat(120), "🐝🐝🐝🐝🐝🐝🐝🐝🐝\n".repeat(200));
    let reply = ada.call("update_slide", &[("id", &id), ("slide", &slide), ("title", &title), ("body", &body)]).await;
    assert!(encode(&body).len() > 4 * 1024);
    assert!(reply.status.is_success(), "{} {}", reply.status, reply.body);

    let addresses: Vec<String> = (0..100).map(|i| format!("{i:03}{}", &email[3..])).collect();
    let addresses = addresses.join(",\n");
    assert!(encode(&addresses).len() > 4 * 1024);
    let reply = ada.call("send_invitations", &[("id", &id), ("addresses", &addresses)]).await;
    assert_eq!(reply.json::<serde_json::Value>()["sent"], 100, "{}", reply.body);
    // Caps on co-facilitators may refuse so many, but not for the size of the list.
    let reply = ada.call("add_facilitators", &[("id", &id), ("addresses", &addresses)]).await;
    assert!(
        reply.status != StatusCode::PAYLOAD_TOO_LARGE && !reply.status.is_server_error(),
        "{} {}",
        reply.status,
        reply.body
    );
}
test_both_dbs!(the_largest_real_forms_fit);

async fn serve(router: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
    });
    addr
}

async fn status_line(stream: &mut tokio::net::TcpStream) -> String {
    let mut response = vec![0; 1024];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut response)).await.expect("an answer").unwrap();
    String::from_utf8_lossy(&response[..n]).lines().next().unwrap_or_default().to_owned()
}

/// Over TCP: a declared length past the limit is refused before the body is sent, and a
/// chunked body that never ends is refused once it passes the limit.
async fn oversized_bodies_are_refused_without_reading_them(db: Db) {
    let addr = serve(router(db)).await;

    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST /api/send_invitations HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 2000000\r\n\r\nid=x&addresses=")
        .await
        .unwrap();
    assert!(status_line(&mut stream).await.starts_with("HTTP/1.1 413"));

    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST /api/log_in HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n")
        .await
        .unwrap();
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        let chunk = format!("400\r\n{}\r\n", "x".repeat(0x400));
        let mut sent = 0;
        while write.write_all(chunk.as_bytes()).await.is_ok() && sent < 64 * 1024 * 1024 {
            sent += 0x400;
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        sent
    });
    let mut response = vec![0; 1024];
    let n = tokio::time::timeout(Duration::from_secs(10), read.read(&mut response)).await.expect("an answer").unwrap();
    assert!(String::from_utf8_lossy(&response[..n]).starts_with("HTTP/1.1 413"));
    writer.abort();

    // A chunked body within the limit reaches the function (wrong password: 401).
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let form = "email=nobody%40example.org&password=long+enough";
    stream
        .write_all(format!(
            "POST /api/log_in HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{form}\r\n0\r\n\r\n",
            form.len()
        ).as_bytes())
        .await
        .unwrap();
    assert!(status_line(&mut stream).await.starts_with("HTTP/1.1 401"));
}
test_both_dbs!(oversized_bodies_are_refused_without_reading_them);

fn get(path: &str) -> Request<Body> {
    Request::get(path).header(header::ACCEPT, "text/html").body(Body::empty()).unwrap()
}

/// The nonce named by the policy, checked against every `<script>` of the page.
fn scripts_carry_the_policy_nonce(reply: &Reply) -> String {
    let policy = header(reply, "content-security-policy");
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("no nonce in {policy:?}"));
    assert!(nonce.len() >= 16, "{nonce}");
    let scripts: Vec<&str> = reply.body.split("<script").skip(1).map(|s| &s[..s.find('>').unwrap()]).collect();
    assert!(scripts.iter().any(|s| s.contains("type=\"module\"")), "the hydration script: {}", reply.body);
    for script in &scripts {
        assert!(script.contains(&format!("nonce=\"{nonce}\"")), "<script{script}> without the nonce {nonce}");
    }
    nonce.to_owned()
}

async fn every_response_carries_the_security_headers(db: Db) {
    let site = std::env::temp_dir().join(format!("ruche-site-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(site.join("favicon.svg"), "<svg xmlns=\"http://www.w3.org/2000/svg\"/>").unwrap();
    let options = LeptosOptions::builder().output_name("ruche").site_root(site.to_string_lossy().to_string()).build();
    let ctx = ServerContext::new(db.clone(), PUBLIC_URL, Vec::new());
    let router = server::router(options.clone(), ctx);

    let home = send(&router, get("/")).await;
    assert_eq!(home.status, StatusCode::OK);
    let policy = header(&home, "content-security-policy");
    for directive in [
        "default-src 'self'",
        "'wasm-unsafe-eval'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
        "form-action 'self'",
    ] {
        assert!(policy.contains(directive), "{directive} in {policy}");
    }
    assert!(!policy.contains("unsafe-inline") && !policy.contains("ws://"), "{policy}");
    let nonce = scripts_carry_the_policy_nonce(&home);
    assert_ne!(scripts_carry_the_policy_nonce(&send(&router, get("/login")).await), nonce, "a fresh nonce per page");
    let not_found = send(&router, get("/nowhere")).await;
    assert_eq!(not_found.status, StatusCode::NOT_FOUND);
    scripts_carry_the_policy_nonce(&not_found);
    // "Page not found" renders under the same context as other pages: its header knows who is in.
    let ada = Client::signed_up(&router, "ada@example.org").await;
    let mut request = get("/nowhere");
    request.headers_mut().insert(header::COOKIE, ada.cookie.as_deref().unwrap().parse().unwrap());
    let reply = send(&router, request).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.body.contains("My sessions"), "{}", reply.body);

    let favicon = send(&router, get("/favicon.svg")).await;
    assert_eq!(favicon.status, StatusCode::OK);
    let api = post(&Client::anonymous(&router), "me", &[], &[]).await;
    assert_eq!(api.status, StatusCode::OK);
    for reply in [&home, &not_found, &favicon, &api] {
        assert_eq!(header(reply, "x-content-type-options"), "nosniff");
        assert_eq!(header(reply, "referrer-policy"), "same-origin");
        assert_eq!(header(reply, "x-frame-options"), "DENY");
        assert!(header(reply, "content-security-policy").contains("frame-ancestors 'none'"));
        assert!(reply.headers.get("strict-transport-security").is_none(), "no HSTS over plain http");
    }
    // A server function's answer is never a page: nothing may load or run from it, no nonce.
    assert!(
        header(&api, "content-security-policy").starts_with("default-src 'none';"),
        "{}",
        header(&api, "content-security-policy")
    );
    assert!(!header(&api, "content-security-policy").contains("nonce"));

    // Pages carrying secrets are never cached; the home page and built files may be.
    let mut ada = ada;
    let id = create_session(&mut ada, "Class").await;
    for path in [
        format!("/s/{id}"),
        format!("/s/{id}/screen"),
        "/account".into(),
        "/sessions".into(),
        "/account/reset/x".into(),
    ] {
        let mut request = get(&path);
        request.headers_mut().insert(header::COOKIE, ada.cookie.as_deref().unwrap().parse().unwrap());
        let reply = send(&router, request).await;
        assert_eq!(header(&reply, "cache-control"), "no-store", "{path}");
        if path == format!("/s/{id}") {
            // Until its island hydrates, the host view is not marked hydrated: its tools look,
            // and are, not clickable yet.
            assert!(reply.body.contains(r#"<div class="host-island">"#), "{}", reply.body);
        }
    }
    assert_ne!(home.headers.get("cache-control").map(|v| v.to_str().unwrap()), Some("no-store"));
    assert_ne!(header(&favicon, "cache-control"), "no-store");

    // HSTS only when Ruche is reached over https.
    let https = server::router(options, ServerContext::new(db, "https://ruche.example.org", Vec::new()));
    for reply in [send(&https, get("/")).await, send(&https, get("/favicon.svg")).await] {
        assert_eq!(header(&reply, "strict-transport-security"), "max-age=31536000");
    }
    std::fs::remove_dir_all(site).ok();
}
test_both_dbs!(every_response_carries_the_security_headers);

/// `SessionError` reaches the app the same way (its functions also get `TooLarge`).
async fn slide_bodies_past_32_kib_are_refused(db: Db) {
    let router = router_with(ServerContext::new(db, PUBLIC_URL, Vec::new()));
    let body = format!("id=x&slide=y&title=t&body={}", "x".repeat(32 * 1024)).into_bytes();
    let reply = send(&router, raw_post("/api/update_slide", body, "application/json")).await;
    assert_eq!(
        (reply.status, reply.json::<SessionError>()),
        (StatusCode::PAYLOAD_TOO_LARGE, SessionError::Failed(Failure::TooLarge))
    );
}
test_both_dbs!(slide_bodies_past_32_kib_are_refused);

/// With an https `PUBLIC_URL`, every cookie is a `__Host-` one (Secure, the whole site, no
/// Domain), and the plain name is not read: a neighbouring site cannot set a login or a visitor.
async fn https_cookies_are_host_only(db: Db) {
    let router = router_with(ServerContext::new(db, "https://ruche.example.org", Vec::new()));
    let mut ada = Client::anonymous(&router);
    let reply = ada
        .call("sign_up", &[("email", "ada@example.org"), ("display_name", "Ada"), ("password", "long enough")])
        .await;
    assert!(reply.status.is_success(), "{} {}", reply.status, reply.body);
    let set: Vec<&str> = reply.headers.get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap()).collect();
    assert!(set.iter().any(|c| c.starts_with("__Host-ruche_login=")), "{set:?}");
    for cookie in &set {
        assert!(cookie.starts_with("__Host-") && cookie.contains("; Secure") && cookie.contains("Path=/"), "{cookie}");
        assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
    }
    assert!(ada.call("me", &[]).await.json::<Option<serde_json::Value>>().is_some(), "the __Host- login is read");
    let token = ada.cookie.clone().unwrap().split_once('=').unwrap().1.to_owned();
    let mut plain = Client { cookie: Some(format!("ruche_login={token}")), ..Client::anonymous(&router) };
    assert_eq!(plain.call("me", &[]).await.json::<Option<serde_json::Value>>(), None, "the plain name is not");
    let mut phone = Client::anonymous(&router);
    phone.call("join_by_code", &[("code", "000000")]).await;
    assert!(phone.visitor.as_deref().is_some_and(|v| v.starts_with("__Host-ruche_visitor=")), "{:?}", phone.visitor);
}
test_both_dbs!(https_cookies_are_host_only);
