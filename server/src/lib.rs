#![recursion_limit = "512"]
//! The Ruche server: configuration, and the axum router that serves the Leptos app and its
//! server functions. `main.rs` only wires these to a socket.
pub mod discussion_export;
pub mod guard;
pub mod health;
pub mod join_pages;
pub mod language_switch;
pub mod live_sockets;
pub mod mail;
pub mod metrics_export;
pub mod peer_bridge;
pub mod qr;
pub mod serve;
pub mod static_files;
pub mod unbuffered_socket;

use app::services::{client_ip::parse_trusted_proxies, ServerContext};
use app::storage::DEFAULT_DATABASE_URL;
use app::{shell, App};
use axum::{
    extract::Path,
    routing::{any, get},
    Router,
};
use leptos::prelude::*;
use leptos_axum::{generate_route_list_with_exclusions, AxumRouteListing, LeptosRoutes};
use std::net::IpAddr;
use tower::ServiceBuilder;
use tower_http::{compression::CompressionLayer, trace::TraceLayer};

/// Ruche's own settings, from the environment (and `.env`). Every variable is in the README.
#[derive(Clone, Debug)]
pub struct Config {
    /// `DATABASE_URL`: `sqlite://…` (default: a file under ./data) or `postgres://…`.
    pub database_url: String,
    /// `PUBLIC_URL`: where people reach Ruche; links are built from it.
    pub public_url: String,
    /// `TRUSTED_PROXIES`: reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// `SMTP_URL`: where mail goes; unset, mail is written to the log.
    pub smtp_url: Option<String>,
    /// `MAIL_FROM`: the sender of every mail.
    pub mail_from: String,
    /// `MAX_PARTICIPANTS`: participants one session may hold.
    pub max_participants: u64,
    /// `AUTO_CLOSE_DAYS`: days without a host after which a session closes by itself; 0, never.
    pub auto_close_days: u32,
    /// `SIGNUP` and `SIGNUP_DOMAINS`: who may create an account.
    pub signup: app::rules::accounts::SignUpPolicy,
    /// `METRICS_ADDR`: where `/metrics` listens; unset, nowhere.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// `DEFAULT_LANGUAGE` (`en` or `fr`): for visitors who chose none and whose browser asks for
    /// none Ruche speaks.
    pub default_language: app::rules::language::Lang,
}

impl Config {
    pub fn from_env() -> Result<Self, String> {
        let var = |name: &str, default: &str| {
            std::env::var(name).ok().filter(|v| !v.trim().is_empty()).unwrap_or_else(|| default.to_owned())
        };
        Ok(Self {
            database_url: var("DATABASE_URL", DEFAULT_DATABASE_URL),
            public_url: var("PUBLIC_URL", "http://127.0.0.1:3000").trim_end_matches('/').to_owned(),
            trusted_proxies: parse_trusted_proxies(&var("TRUSTED_PROXIES", ""))?,
            smtp_url: Some(var("SMTP_URL", "")).filter(|u| !u.is_empty()),
            mail_from: var("MAIL_FROM", "Ruche <ruche@localhost>"),
            max_participants: match var("MAX_PARTICIPANTS", "") {
                v if v.is_empty() => app::rules::joining::DEFAULT_MAX_PARTICIPANTS,
                v => v
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("MAX_PARTICIPANTS: {v:?} is not a positive number"))?,
            },
            auto_close_days: match var("AUTO_CLOSE_DAYS", "") {
                v if v.is_empty() => app::rules::sessions::DEFAULT_AUTO_CLOSE_DAYS,
                v => v.parse().map_err(|_| format!("AUTO_CLOSE_DAYS: {v:?} is not a number of days (0 for never)"))?,
            },
            signup: app::rules::accounts::SignUpPolicy::parse(&var("SIGNUP", "open"), &var("SIGNUP_DOMAINS", ""))?,
            default_language: {
                let v = var("DEFAULT_LANGUAGE", "en");
                app::rules::language::Lang::parse(&v)
                    .ok_or_else(|| format!("DEFAULT_LANGUAGE: {v:?} is not a language Ruche speaks (en, fr)"))?
            },
            metrics_addr: match var("METRICS_ADDR", "") {
                v if v.is_empty() => None,
                v => Some(
                    v.parse()
                        .map_err(|_| format!("METRICS_ADDR: {v:?} is not an address and port, like 127.0.0.1:9100"))?,
                ),
            },
        })
    }
}

/// The whole HTTP surface: pages, server functions under /api, static files.
pub fn router(leptos_options: LeptosOptions, ctx: ServerContext) -> Router {
    // Generated once per process: while a route list is generated, leptos_server suppresses
    // resource loads with one process-global flag, and a resource first polled meanwhile (a page
    // rendering for another router, as the tests build many) never resolves (leptos issue 4773).
    static ROUTES: std::sync::OnceLock<Vec<AxumRouteListing>> = std::sync::OnceLock::new();
    let routes = ROUTES
        .get_or_init(|| generate_route_list_with_exclusions(App, Some(join_pages::PATHS.map(String::from).to_vec())))
        .clone();
    // Built files (wasm, JS, CSS, favicon) are served by tower-http. leptos_axum's
    // file_and_error_handler serves them under `Owner::new()`, a child of whatever reactive owner
    // is current on the worker thread, and so can hand another request's pending redirect and
    // cookies to a CSS response (seen under parallel load). Only unknown paths reach Leptos,
    // which renders the "Page not found" page under a fresh root owner.
    let not_found_ctx = ctx.clone();
    let not_found_context = move || {
        provide_context(not_found_ctx.clone());
        guard::provide_request_nonce();
    };
    let not_found = any(leptos_axum::file_and_error_handler_with_context::<LeptosOptions, _>(not_found_context, shell))
        .with_state(leptos_options.clone());
    let files = static_files::service(&leptos_options, not_found);
    let (svg_ctx, png_ctx, live_ctx, export_ctx) = (ctx.clone(), ctx.clone(), ctx.clone(), ctx.clone());
    let router = Router::new()
        .merge(health::routes(ctx.clone()))
        .merge(language_switch::routes(ctx.clone()))
        .merge(live_sockets::routes(live_ctx))
        .merge(join_pages::routes(ctx.clone(), render_page(ctx.clone(), leptos_options.clone())))
        .route(
            "/j/{token}/qr.svg",
            get(move |Path(token): Path<String>, headers: axum::http::HeaderMap| {
                qr::download(svg_ctx.clone(), token, qr::Format::Svg, headers)
            }),
        )
        .route(
            "/j/{token}/qr.png",
            get(move |Path(token): Path<String>, headers: axum::http::HeaderMap| {
                qr::download(png_ctx.clone(), token, qr::Format::Png, headers)
            }),
        )
        .route(
            "/s/{session}/discussion.csv",
            get(move |Path(session): Path<String>, headers: axum::http::HeaderMap| {
                discussion_export::export(export_ctx.clone(), session, headers)
            }),
        )
        .leptos_routes_with_context(&leptos_options, routes, page_context(ctx.clone()), {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback_service(files)
        .with_state(leptos_options.clone());
    // What every request passes wraps the whole router once. `Router::layer` would wrap each
    // route in a box per layer, and every request clone and drop that chain, a large share of a
    // join's instructions (`scripts/bench-instructions.sh` shows it).
    // Built files go out precompressed (`static_files`): what is compressed here is made per
    // request, mostly pages. At tower-http's default (brotli 4, whose hash tables are zeroed for
    // each response) compressing a participant page cost more than rendering it; the fastest
    // level costs far less, for a page slightly larger (`scripts/bench-instructions.sh`).
    let compression = CompressionLayer::new().quality(tower_http::CompressionLevel::Fastest);
    let app = ServiceBuilder::new()
        .layer(compression)
        .layer(axum::middleware::from_fn(metrics_export::count_server_functions))
        .service(router);
    let app = ServiceBuilder::new().layer(TraceLayer::new_for_http().on_failure(log_failure)).service(guard::protect(
        app,
        &ctx,
        &leptos_options,
    ));
    Router::new().fallback_service(app)
}

/// What every page's render is given: the server context and the request's CSP nonce.
fn page_context(ctx: ServerContext) -> impl Fn() + Clone + Send + Sync + 'static {
    move || {
        provide_context(ctx.clone());
        guard::provide_request_nonce();
    }
}

/// Renders the page a request asks for, as Leptos' own routes do (all of it at once, as the
/// routes' `SsrMode::Async`), for routes that first do something of their own (`join_pages`).
fn render_page(ctx: ServerContext, options: LeptosOptions) -> impl join_pages::RenderPage {
    move |request| {
        let context = {
            let (ctx, options) = (ctx.clone(), options.clone());
            move || {
                provide_context(options.clone());
                page_context(ctx.clone())()
            }
        };
        let shell_options = options.clone();
        leptos_axum::render_app_async_with_context(context, move || shell(shell_options.clone()))(request)
    }
}

/// Server errors are logged at ERROR, except "Ruche is busy" (503): a flood of log-ins answered
/// with it must not fill the disk with a line each. The busy gate reports itself (`limits.rs`).
fn log_failure(
    failure: tower_http::classify::ServerErrorsFailureClass,
    latency: std::time::Duration,
    _span: &tracing::Span,
) {
    use tower_http::classify::ServerErrorsFailureClass::StatusCode;
    match failure {
        StatusCode(code) if code == axum::http::StatusCode::SERVICE_UNAVAILABLE => {
            tracing::debug!(latency_ms = latency.as_millis() as u64, "busy: 503")
        }
        failure => {
            tracing::error!(classification = %failure, latency_ms = latency.as_millis() as u64, "response failed")
        }
    }
}

/// Hourly: forgotten sessions close by themselves, the codes and links of sessions deleted over
/// 30 days ago, expired logins and code draws older than a day are removed (they can never
/// count again), and the limits forget the clients whose budgets are whole again (each limit's
/// map is capped as well).
pub fn spawn_housekeeping(ctx: ServerContext) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            ctx.limits.prune();
            let now = app::storage::now_micros();
            let closed = close_forgotten_sessions(&ctx, now).await;
            report(closed, "sessions nobody hosted for a while closed", "closing forgotten sessions");
            let forgotten = ctx.db.forget_deleted_ways_in(now).await;
            report(forgotten, "codes and links of sessions deleted long ago forgotten", "forgetting deleted codes");
            let expired = ctx.db.delete_expired_login_sessions().await;
            report(expired, "expired login sessions removed", "removing expired login sessions");
            let draws = ctx.db.forget_old_code_draws(now).await;
            report(draws, "code draws older than a day forgotten", "forgetting old code draws");
        }
    });
}

/// One housekeeping chore's outcome in the log: a line when it did something, a warning when it
/// failed, nothing otherwise.
fn report<N: Into<u64>>(chore: Result<N, app::storage::StorageError>, done: &str, doing: &str) {
    match chore.map(Into::into) {
        Ok(0) => {}
        Ok(n) => tracing::info!(count = n, "{done}"),
        Err(e) => tracing::warn!(error = %e, "housekeeping failed: {doing}"),
    }
}

/// Closes the open sessions no host has had in hand for `AUTO_CLOSE_DAYS` at `now` (tests move
/// `now`), each as the padlock would: committed, then every tab told. Returns how many closed.
pub async fn close_forgotten_sessions(ctx: &ServerContext, now: i64) -> Result<u64, app::storage::StorageError> {
    // In batches, so that a first run after a long pause neither holds thousands of ids nor
    // keeps the writer from requests for long.
    const BATCH: u64 = 500;
    let Some(cutoff) = ctx.auto_close.cutoff(now) else { return Ok(0) };
    let mut total = 0;
    loop {
        let closed = ctx.db.close_sessions_hosted_before(cutoff, BATCH).await?;
        for &session in &closed {
            ctx.live.changed(ctx, session).await;
        }
        total += closed.len() as u64;
        if (closed.len() as u64) < BATCH {
            return Ok(total);
        }
    }
}
