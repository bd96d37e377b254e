//! SQLite's checkpoints, made by a connection of their own. A checkpoint copies the write-ahead
//! log into the database file and flushes both to disk. SQLite makes one by default on the commit
//! that takes the log past 1,000 pages, in the writer's own time: every write behind it, each a
//! group of joins, waited for both flushes (`perf trace -e fsync` on the server during
//! `scripts/bench-live.sh` shows them). Here the writer never checkpoints; this
//! connection does, every `CHECKPOINT_EVERY`, beside the writer (a passive checkpoint waits for
//! no one). With `synchronous=NORMAL`, commits reach the disk at checkpoints only, so this also
//! bounds what a power cut can lose to about that long, where 1,000 pages could take hours to
//! come on a quiet server.
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub(super) struct Checkpoints {
    conn: DatabaseConnection,
    task: JoinHandle<()>,
}

impl Checkpoints {
    pub(super) fn start(conn: DatabaseConnection) -> Self {
        let task = tokio::spawn({
            let conn = conn.clone();
            async move {
                let mut every = tokio::time::interval(CHECKPOINT_EVERY);
                every.set_missed_tick_behavior(MissedTickBehavior::Delay);
                loop {
                    every.tick().await;
                    // Cheap when the log holds nothing new: no copy, no flush.
                    if let Err(e) = conn.execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)").await {
                        tracing::warn!(error = %e, "could not checkpoint the database");
                    }
                }
            }
        });
        Self { conn, task }
    }

    pub(super) async fn stop(&self) -> Result<(), DbErr> {
        self.task.abort();
        self.conn.clone().close().await
    }
}

impl Drop for Checkpoints {
    fn drop(&mut self) {
        self.task.abort();
    }
}
