//! The Ruche server: configuration, and the axum router that serves the Leptos app and its
//! server functions. `main.rs` only wires these to a socket.
use app::server::ServerContext;
use app::storage::{Db, DEFAULT_DATABASE_URL};
use app::{shell, App};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::{compression::CompressionLayer, trace::TraceLayer};

/// Ruche's own settings, from the environment (and `.env`). Every variable is in the README.
#[derive(Clone, Debug)]
pub struct Config {
    /// `DATABASE_URL`: `sqlite://…` (default: a file under ./data) or `postgres://…`.
    pub database_url: String,
    /// `PUBLIC_URL`: where people reach Ruche; links are built from it.
    pub public_url: String,
}

impl Config {
    pub fn from_env() -> Self {
        let var = |name: &str, default: &str| {
            std::env::var(name).ok().filter(|v| !v.trim().is_empty()).unwrap_or_else(|| default.to_owned())
        };
        Self {
            database_url: var("DATABASE_URL", DEFAULT_DATABASE_URL),
            public_url: var("PUBLIC_URL", "http://127.0.0.1:3000").trim_end_matches('/').to_owned(),
        }
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// The whole HTTP surface: pages, server functions under /api, static files.
pub fn router(leptos_options: LeptosOptions, ctx: ServerContext) -> Router {
    let routes = generate_route_list(App);
    Router::new()
        .leptos_routes_with_context(
            &leptos_options,
            routes,
            move || provide_context(ctx.clone()),
            {
                let options = leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler(shell))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(leptos_options)
}

/// Expired logins are removed hourly: they can never be used again.
pub fn spawn_housekeeping(db: Db) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match db.delete_expired_login_sessions().await {
                Ok(n) if n > 0 => tracing::info!(removed = n, "expired login sessions removed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not remove expired login sessions"),
            }
        }
    });
}
