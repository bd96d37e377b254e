//! The bridge between instances sharing a PostgreSQL database: each listens for the others'
//! live events (LISTEN/NOTIFY on `ruche_live`, `app::services::live_hub::Notice`) and re-announces
//! its own participant counts. On SQLite, one process owns the file and nothing crosses.
use app::services::live_hub::Notice;
use app::services::ServerContext;
use std::time::Duration;

/// With PostgreSQL: listens for the other instances' events and re-announces this instance's
/// participant counts. Nothing to do on SQLite, whose file belongs to one instance.
pub fn spawn_peer_bridge(ctx: ServerContext) {
    if !ctx.db.is_shared() {
        return;
    }
    let refresher = ctx.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(app::services::live_hub::PRESENCE_REFRESH);
        loop {
            tick.tick().await;
            refresher.live.refresh_presence(&refresher).await;
        }
    });
    tokio::spawn(async move {
        let mut backoff = Duration::from_millis(250);
        loop {
            let mut listener = match ctx.db.live_listener().await {
                Ok(Some(listener)) => listener,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "live: cannot listen to the other instances yet");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                    continue;
                }
            };
            backoff = Duration::from_millis(250);
            // Whatever happened before listening started is read again.
            ctx.live.refresh_all(&ctx).await;
            loop {
                match listener.try_recv().await {
                    Ok(Some(notification)) => match serde_json::from_str::<Notice>(notification.payload()) {
                        Ok(notice) => {
                            let ctx = ctx.clone();
                            tokio::spawn(async move { ctx.live.receive(&ctx, notice).await });
                        }
                        Err(e) => tracing::warn!(error = %e, "live: unreadable notice"),
                    },
                    // The connection was lost and is back: events may have been missed.
                    Ok(None) => {
                        tracing::warn!("live: the listening connection was lost; reading every followed session again");
                        ctx.live.refresh_all(&ctx).await;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "live: listening failed; reconnecting");
                        break;
                    }
                }
            }
        }
    });
}
