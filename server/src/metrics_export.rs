//! `GET /metrics` in the Prometheus text format, on a listener of its own (`METRICS_ADDR`), off
//! unless that is set: what it tells (accounts, rooms, refusals) is for the operator, and a
//! separate address cannot be made public by a proxy rule written for Ruche's pages. What Ruche
//! counts is in `app::services::metrics`; the outbox and the database pools are read at each
//! scrape.
use app::services::{metrics as counted, ServerContext};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::net::SocketAddr;
use std::sync::OnceLock;

/// Installs the Prometheus recorder as the process's (once; later calls get the same handle).
pub fn install() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was installed already: /metrics may stay empty");
            }
            counted::describe();
            handle
        })
        .clone()
}

/// The metrics as Prometheus reads them, the sampled ones read now.
pub async fn render(handle: &PrometheusHandle, ctx: &ServerContext) -> String {
    match ctx.db.outbox_backlog().await {
        Ok((waiting, oldest)) => {
            let age = oldest.map(|at| (app::storage::now_micros() - at).max(0) as f64 / 1e6).unwrap_or(0.0);
            counted::sampled(waiting, age, &ctx.db.pool_connections());
        }
        Err(e) => tracing::debug!(error = %e, "metrics: could not read the outbox"),
    }
    handle.render()
}

/// Serves `/metrics` on `addr` until the process ends.
pub async fn serve(addr: SocketAddr, ctx: ServerContext) -> Result<(), String> {
    let handle = install();
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("METRICS_ADDR {addr}: {e}"))?;
    let app = Router::new().route(
        "/metrics",
        get(move || {
            let (handle, ctx) = (handle.clone(), ctx.clone());
            async move {
                ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], render(&handle, &ctx).await)
                    .into_response()
            }
        }),
    );
    tracing::info!("metrics on http://{addr}/metrics");
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the metrics listener stopped");
        }
    });
    Ok(())
}

/// Counts every server-function call by its name and answer's status; a path under `/api/`
/// that is no server function counts as `other`, so that the series stay few.
pub async fn count_server_functions(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let name = request.uri().path().strip_prefix("/api/").map(known_endpoint);
    let response = next.run(request).await;
    if let Some(name) = name {
        counted::server_function_called(name, response.status().as_u16());
    }
    response
}

fn known_endpoint(endpoint: &str) -> &'static str {
    static KNOWN: OnceLock<Vec<&'static str>> = OnceLock::new();
    let known = KNOWN.get_or_init(|| {
        leptos::server_fn::axum::server_fn_paths().filter_map(|(path, _)| path.strip_prefix("/api/")).collect()
    });
    known.iter().find(|k| **k == endpoint).copied().unwrap_or("other")
}
