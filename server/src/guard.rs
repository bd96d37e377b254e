//! What every request passes before it reaches the app: the origin rule (shared with the live
//! sockets), the body limit of server functions, and the security headers of every response.
use app::rules::language::Lang;
use app::services::{language_of, ServerContext};
use app::texts;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use leptos::nonce::Nonce;
use leptos::prelude::{provide_context, LeptosOptions};
use leptos::reactive::owner::with_context;
use std::convert::Infallible;
use std::sync::Arc;
use tower::{Service, ServiceBuilder};
use tower_http::set_header::SetResponseHeaderLayer;

/// Bodies of the server functions that carry text: a slide (120 + 2,000 characters), a list of
/// 100 addresses, or a Discussion message (500 characters), URL-encoded, where one character may
/// take 12 bytes (`%F0%9F%90%9D`).
pub const LARGE_BODY: usize = 32 * 1024;
/// Every other server function: a few short fields (the longest, sign-up, needs under 2 KiB).
pub const SMALL_BODY: usize = 4 * 1024;
const LARGE_BODY_PATHS: [&str; 5] =
    ["/api/update_slide", "/api/send_invitations", "/api/add_facilitators", "/api/post_message", "/api/edit_message"];

pub fn body_limit(path: &str) -> usize {
    if LARGE_BODY_PATHS.contains(&path) {
        LARGE_BODY
    } else {
        SMALL_BODY
    }
}

/// Whether a request comes from a page of this Ruche (or from no page at all). Browsers send
/// `Origin` on every cross-site POST and WebSocket handshake, and `Sec-Fetch-Site` on every
/// request to a secure context; a request with neither is a script (curl, a test), which holds
/// no one's cookies but its own. `Origin: null` (a sandboxed frame, a page hiding its origin)
/// counts as foreign unless `Sec-Fetch-Site` vouches for it.
pub fn same_origin(public_url: &str, headers: &HeaderMap) -> bool {
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
    if let Some(origin) = origin.filter(|o| *o != "null") {
        if origin.eq_ignore_ascii_case(origin_of(public_url)) {
            return true;
        }
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
        return origin.split_once("://").is_some_and(|(_, rest)| !host.is_empty() && rest.eq_ignore_ascii_case(host));
    }
    match headers.get("sec-fetch-site").and_then(|s| s.to_str().ok()) {
        Some(site) => site == "same-origin" || site == "none",
        None => origin.is_none(),
    }
}

/// `scheme://host[:port]` of a URL: a `PUBLIC_URL` with a path still names one origin.
fn origin_of(url: &str) -> &str {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    match url[authority_start..].find('/') {
        Some(end) => &url[..authority_start + end],
        None => url,
    }
}

/// Wraps the whole app: server functions are guarded, every response gets the headers.
pub fn protect<S>(
    app: S,
    ctx: &ServerContext,
    options: &LeptosOptions,
) -> impl Service<Request, Response = Response, Error = Infallible, Future: Send + 'static> + Clone + Send + Sync + 'static
where
    S: Service<Request, Error = Infallible> + Clone + Send + Sync + 'static,
    S::Response: IntoResponse + 'static,
    S::Future: Send + 'static,
{
    let hsts = ctx.secure_cookies().then(|| {
        SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        )
    });
    ServiceBuilder::new()
        .option_layer(hsts)
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        // The public link, the participant page and invitation links carry their secret in
        // the URL: it must not reach another site. Not `no-referrer`: forms posted without
        // JavaScript need their `Referer` (to come back to their page) and `Origin` (browsers
        // send `Origin: null` on a POST from a `no-referrer` page), both only to Ruche itself.
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(from_fn(no_store_for_secrets))
        .layer(from_fn_with_state(
            Arc::new(Policy::new(options, std::env::var_os("LEPTOS_WATCH").is_some())),
            content_security_policy,
        ))
        .layer(from_fn_with_state(
            ApiGuard {
                public_url: ctx.public_url.clone(),
                body_within: ctx.deadlines.body,
                default_language: ctx.default_language,
            },
            guard_api,
        ))
        .service(app)
}

#[derive(Clone)]
struct ApiGuard {
    public_url: Arc<str>,
    body_within: std::time::Duration,
    default_language: Lang,
}

/// The server functions' guard: requests from other sites are refused before anything is read
/// (login CSRF, logging someone out, acting in a host's name), then the body is read up to the
/// endpoint's limit and no further.
async fn guard_api(State(guard): State<ApiGuard>, request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    // Negotiated only for a refusal: every server function call passes here.
    let lang = |headers: &HeaderMap| language_of(headers, guard.default_language);
    if !same_origin(&guard.public_url, request.headers()) {
        return (StatusCode::FORBIDDEN, texts::plain_other_site(lang(request.headers()))).into_response();
    }
    let limit = body_limit(request.uri().path());
    let declared =
        request.headers().get(header::CONTENT_LENGTH).and_then(|l| l.to_str().ok()).and_then(|l| l.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return too_large(&request, lang(request.headers()));
    }
    // Read here, bounded, so that no length (or a chunked body without one) gets more than the
    // limit buffered, and within the deadline, so that a client sending its body slowly holds
    // its connection no longer; the function then decodes what was read.
    let (parts, body) = request.into_parts();
    let Ok(read) = tokio::time::timeout(guard.body_within, Limited::new(body, limit).collect()).await else {
        let sentence = texts::plain_too_slow(lang(&parts.headers));
        return (StatusCode::REQUEST_TIMEOUT, [(header::CONNECTION, "close")], sentence).into_response();
    };
    match read {
        Ok(collected) => next.run(Request::from_parts(parts, Body::from(collected.to_bytes()))).await,
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            let lang = lang(&parts.headers);
            too_large(&Request::from_parts(parts, Body::empty()), lang)
        }
        Err(e) => {
            tracing::debug!(error = %e, "a server function's request body could not be read");
            (StatusCode::BAD_REQUEST, texts::failure_malformed(lang(&parts.headers))).into_response()
        }
    }
}

/// Answers 413. The hydrated app gets what a server function answers with its error enum's
/// `Failed(TooLarge)` (every domain enum has it, `rules::failure`), so it shows its sentence; a form posted
/// without JavaScript gets the sentence itself.
fn too_large<B>(request: &Request<B>, lang: Lang) -> Response {
    let wants_page =
        request.headers().get(header::ACCEPT).and_then(|a| a.to_str().ok()).is_some_and(|a| a.contains("text/html"));
    if wants_page {
        return (StatusCode::PAYLOAD_TOO_LARGE, texts::plain_too_large(lang)).into_response();
    }
    let mut response =
        (StatusCode::PAYLOAD_TOO_LARGE, [(header::CONTENT_TYPE, "application/json")], r#"{"Failed":"TooLarge"}"#)
            .into_response();
    if let Ok(path) = HeaderValue::from_str(request.uri().path()) {
        response.headers_mut().insert(HeaderName::from_static("serverfnerror"), path);
    }
    response
}

/// Pages that carry secrets (a session's code and link on its host page and projection screen,
/// My account and My sessions, a reset or verification link's page, an invitation's) are never
/// kept by a browser's or a proxy's cache (`Cache-Control: no-store`): a shared computer's back
/// button or a proxy cannot hand them to the next person.
const SECRET_PAGES: [&str; 5] = ["/s/", "/account", "/sessions", "/facilitate/", "/forgot-password"];

async fn no_store_for_secrets(request: Request, next: Next) -> Response {
    let secret = SECRET_PAGES.iter().any(|prefix| request.uri().path().starts_with(prefix));
    let mut response = next.run(request).await;
    if secret {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The Content-Security-Policy: the app's own files, its inline hydration and resource scripts
/// (by a nonce fresh for each response) and its wasm; nothing from elsewhere, no framing.
struct Policy {
    /// `cargo leptos watch` reloads the page through its own socket, on another port.
    reload_socket: Option<String>,
}

/// The policy of server functions' and sockets' answers (JSON, redirects, a refusal's sentence):
/// they are never pages, so nothing may load or run from them, and they need no nonce: making a
/// nonce and the page policy naming it would cost every join's two requests.
const ANSWER_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Paths that answer a script, never with a page.
fn answers_a_script(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/live/")
}

impl Policy {
    fn new(options: &LeptosOptions, watching: bool) -> Self {
        let reload_socket = watching.then(|| {
            let port = options.reload_external_port.unwrap_or(options.reload_port);
            let scheme = match options.reload_ws_protocol {
                leptos::config::ReloadWSProtocol::WS => "ws",
                leptos::config::ReloadWSProtocol::WSS => "wss",
            };
            format!(" {scheme}://*:{port}")
        });
        Self { reload_socket }
    }

    fn header(&self, nonce: &Nonce) -> Option<HeaderValue> {
        HeaderValue::from_str(&format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
             img-src 'self'; connect-src 'self'{}; frame-ancestors 'none'; base-uri 'none'; \
             form-action 'self'; object-src 'none'",
            self.reload_socket.as_deref().unwrap_or_default()
        ))
        .ok()
    }
}

/// Gives the request a nonce (which `provide_request_nonce` hands to the page's scripts) and
/// its response the policy naming it.
async fn content_security_policy(State(policy): State<Arc<Policy>>, mut request: Request, next: Next) -> Response {
    if answers_a_script(request.uri().path()) {
        let mut response = next.run(request).await;
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(ANSWER_POLICY));
        return response;
    }
    let nonce = Nonce::new();
    request.extensions_mut().insert(nonce.clone());
    let mut response = next.run(request).await;
    if let Some(value) = policy.header(&nonce) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// Leptos context for a page render: the nonce of this request's policy, in place of the one
/// leptos_axum makes up (which no header would name).
pub fn provide_request_nonce() {
    let nonce =
        with_context::<axum::http::request::Parts, _>(|parts| parts.extensions.get::<Nonce>().cloned()).flatten();
    if let Some(nonce) = nonce {
        provide_context(nonce);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(HeaderName::from_static(name), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    const PUBLIC: &str = "https://ruche.example.org";

    #[test]
    fn pages_of_this_ruche_pass() {
        for pairs in [
            vec![("origin", "https://ruche.example.org")],
            vec![("origin", "https://Ruche.Example.org"), ("sec-fetch-site", "same-origin")],
            vec![("origin", "http://10.0.0.5:3000"), ("host", "10.0.0.5:3000")],
            vec![("sec-fetch-site", "same-origin")],
            vec![("sec-fetch-site", "none")],
            vec![("origin", "null"), ("sec-fetch-site", "same-origin")],
            vec![],
        ] {
            assert!(same_origin(PUBLIC, &headers(&pairs)), "{pairs:?}");
        }
        assert!(same_origin("https://ruche.example.org/sub/", &headers(&[("origin", PUBLIC)])));
    }

    #[test]
    fn other_sites_are_refused() {
        for pairs in [
            vec![("origin", "https://evil.example")],
            vec![("origin", "https://evil.example"), ("sec-fetch-site", "same-origin")],
            vec![("origin", "https://ruche.example.org.evil.example")],
            vec![("origin", "http://evil.example"), ("host", "10.0.0.5:3000")],
            vec![("origin", "null")],
            vec![("origin", "null"), ("sec-fetch-site", "cross-site")],
            vec![("sec-fetch-site", "cross-site")],
            vec![("sec-fetch-site", "same-site")],
        ] {
            assert!(!same_origin(PUBLIC, &headers(&pairs)), "{pairs:?}");
        }
    }

    #[test]
    fn only_cargo_leptos_watch_opens_the_reload_socket() {
        let options = LeptosOptions::builder().output_name("ruche").reload_port(3001).build();
        let nonce = Nonce::from_value("abc");
        let served = Policy::new(&options, false).header(&nonce).unwrap();
        assert!(served.to_str().unwrap().contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval'; "));
        assert!(served.to_str().unwrap().contains("connect-src 'self'; "));
        let watched = Policy::new(&options, true).header(&nonce).unwrap();
        assert!(watched.to_str().unwrap().contains("connect-src 'self' ws://*:3001; "), "{watched:?}");
    }

    /// The largest forms the pages send, URL-encoded as browsers do, fit their limits.
    #[test]
    fn the_largest_forms_fit() {
        use app::rules::slides::{SLIDE_BODY_MAX_CHARS, SLIDE_TITLE_MAX_CHARS};
        use app::rules::{accounts::DISPLAY_NAME_MAX_CHARS, sharing::MAX_ADDRESSES_PER_SEND};
        let encoded = |chars: usize, c: char| chars * c.len_utf8() * 3;
        let ids = 2 * 40;
        let slide = ids + encoded(SLIDE_TITLE_MAX_CHARS, '🐝') + encoded(SLIDE_BODY_MAX_CHARS, '🐝');
        assert!(slide <= body_limit("/api/update_slide"), "{slide}");
        let addresses = ids + MAX_ADDRESSES_PER_SEND * (254 + encoded(1, ','));
        assert!(addresses <= body_limit("/api/send_invitations"), "{addresses}");
        let sign_up = encoded(254, '+') + encoded(DISPLAY_NAME_MAX_CHARS, '🐝') + encoded(128, 'é') + 200;
        assert!(sign_up <= body_limit("/api/sign_up"), "{sign_up}");
    }
}
