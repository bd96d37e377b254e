//! The two addresses people join by: `/join?code=…` (the home page's banner) and `/j/<token>`
//! (the public link and its QR code), on plain axum routes in place of Leptos' own. A code that
//! lets the visitor in answers 303 to the participant page at once: a whole room comes through
//! here at once, and rendering the app for a redirect nobody reads would make the server's work
//! per participant several times what it is (`scripts/bench-instructions.sh` counts it). A link
//! that lets the visitor in answers with the participant page itself, saving a phone that
//! scanned the QR code a round trip before its page; the page's island then shows `/p/<id>` in
//! the address bar, and without JavaScript the page stays at the link, which brings its
//! participant back even after a new code (`app::services::joining`). A refused way in renders
//! the banner saying why (`app::pages::joining`).
use app::services::joining::{enter, Refused, Way};
use app::services::{visitor, ServerContext};
use axum::extract::{Path, Query, Request};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

/// The page routes Leptos must leave to these: axum refuses two routes for one path.
pub const PATHS: [&str; 2] = ["/join", "/j/{token}"];

/// Renders the Leptos page a request asks for (`crate::render_page`).
pub trait RenderPage:
    Fn(Request) -> Pin<Box<dyn Future<Output = Response> + Send>> + Clone + Send + Sync + 'static
{
}
impl<F> RenderPage for F where
    F: Fn(Request) -> Pin<Box<dyn Future<Output = Response> + Send>> + Clone + Send + Sync + 'static
{
}

pub fn routes<S: Clone + Send + Sync + 'static>(ctx: ServerContext, render: impl RenderPage) -> Router<S> {
    let (link_ctx, link_render) = (ctx.clone(), render.clone());
    Router::new()
        .route(
            PATHS[0],
            get(move |request: Request| async move {
                // A query that does not decode is no code at all: the page says what a code is.
                let code = Query::<HashMap<String, String>>::try_from_uri(request.uri())
                    .ok()
                    .and_then(|Query(mut query)| query.remove("code"))
                    .unwrap_or_default();
                come_in(&ctx, Way::Code(&code), request, render).await
            }),
        )
        .route(
            PATHS[1],
            get(move |Path(token): Path<String>, request: Request| async move {
                come_in(&link_ctx, Way::Link(&token), request, link_render).await
            }),
        )
}

async fn come_in(ctx: &ServerContext, way: Way<'_>, request: Request, render: impl RenderPage) -> Response {
    if !is_a_visit(request.headers()) {
        let lang = app::services::language_of(request.headers(), ctx.default_language);
        return (StatusCode::FORBIDDEN, [(header::CACHE_CONTROL, "no-store")], app::texts::plain_open_in_browser(lang))
            .into_response();
    }
    let (mut parts, body) = request.into_parts();
    let (visitor, new_cookie) = match visitor::visitor_digest_from_headers(&parts.headers, ctx.secure_cookies()) {
        Some(digest) => (digest, None),
        None => {
            let (digest, cookie) = visitor::new_visitor(ctx.secure_cookies());
            (digest, Some(cookie))
        }
    };
    let ip = ctx.client_ip_of(&parts);
    let mut response = match enter(ctx, way, &visitor, ip).await {
        Ok(session) if matches!(way, Way::Link(_)) => {
            // The participant page, as `/p/<id>` renders it for this visitor: a new one's cookie
            // is on this response, and given to the page as if the browser had sent it.
            if let Some(cookie) = new_cookie.as_ref().and_then(|c| c.to_str().ok()) {
                let pair = cookie.split(';').next().unwrap_or_default();
                if let Ok(pair) = header::HeaderValue::from_str(pair) {
                    parts.headers.append(header::COOKIE, pair);
                }
            }
            match format!("/p/{session}").parse() {
                Ok(uri) => parts.uri = uri,
                Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            }
            let mut page = render(Request::from_parts(parts, body)).await;
            // One visitor's page, with their new cookie: no cache keeps it for the next.
            page.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
            page
        }
        Ok(session) => (StatusCode::SEE_OTHER, [(header::LOCATION, format!("/p/{session}"))]).into_response(),
        Err(error) => {
            parts.extensions.insert(Refused(error));
            render(Request::from_parts(parts, body)).await
        }
    };
    // Also on a refusal: the failure was counted against this browser's budget, which it keeps.
    if let Some(cookie) = new_cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Whether a request for a way in is someone (or a script) coming in: a page of any site can
/// make every browser that opens it ask for `/join?code=…` as an image, a script or a frame,
/// which would spend its address's budget of failed codes, and let a stranger's page lock a
/// school out. Browsers say which (`Sec-Fetch-Dest`): only a top-level navigation is a visit.
/// Scripts send no such header, and their lookups count as before.
pub fn is_a_visit(headers: &axum::http::HeaderMap) -> bool {
    headers.get("sec-fetch-dest").is_none_or(|dest| dest.as_bytes() == b"document")
}
