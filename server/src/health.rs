//! Probes for a supervisor (systemd, Kubernetes, a load balancer): `GET /healthz` answers 200
//! while the process serves requests; `GET /readyz` answers 200 once the database answers and
//! the mail worker is alive (migrations ran before the server listened), else 503 with the
//! reason. Cheap enough for a probe every second: a trivial query on each pool, within
//! `DATABASE_WITHIN`. Not rate limited, and logged only at `debug`, like every request.
use app::services::ServerContext;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::time::Duration;

/// How long the database has to answer a probe before Ruche says it is not ready.
pub const DATABASE_WITHIN: Duration = Duration::from_secs(2);
/// How long the mail worker may go without a sign of life: it looks at the outbox every second,
/// and one attempt at a mail may take up to `mail::ATTEMPT_DEADLINE`.
pub const MAIL_WORKER_WITHIN: Duration = Duration::from_secs(crate::mail::ATTEMPT_DEADLINE.as_secs() + 30);

pub fn routes<S: Clone + Send + Sync + 'static>(ctx: ServerContext) -> Router<S> {
    Router::new().route("/healthz", get(|| async { answer(StatusCode::OK, "ok") })).route(
        "/readyz",
        get(move || {
            let ctx = ctx.clone();
            async move {
                match not_ready(&ctx).await {
                    None => answer(StatusCode::OK, "ready"),
                    Some(reason) => answer(StatusCode::SERVICE_UNAVAILABLE, reason),
                }
            }
        }),
    )
}

/// Why this instance should not be sent requests now, if it should not.
async fn not_ready(ctx: &ServerContext) -> Option<&'static str> {
    match tokio::time::timeout(DATABASE_WITHIN, ctx.db.ping()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "readyz: the database does not answer");
            return Some("the database does not answer");
        }
        Err(_) => return Some("the database does not answer in time"),
    }
    let beat = ctx.mail_heartbeat.load(std::sync::atomic::Ordering::Relaxed);
    if beat == 0 {
        return Some("the mail worker has not started");
    }
    let silent = app::storage::now_micros().saturating_sub(beat);
    if silent > MAIL_WORKER_WITHIN.as_micros() as i64 {
        return Some("the mail worker is stuck");
    }
    None
}

fn answer(status: StatusCode, text: &'static str) -> Response {
    (status, [(header::CACHE_CONTROL, "no-store")], format!("{text}\n")).into_response()
}
