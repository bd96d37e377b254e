//! Live events between server instances that share a PostgreSQL database: LISTEN/NOTIFY on one
//! channel. Payloads are a few dozen bytes (who sent it, which session, what kind), far under
//! PostgreSQL's 8,000-byte limit; each instance reads what changed from the database itself.
use crate::storage::Db;
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

pub const LIVE_CHANNEL: &str = "ruche_live";

impl Db {
    /// Whether other server instances may share this database (PostgreSQL); a SQLite file
    /// belongs to one process.
    pub fn is_shared(&self) -> bool {
        self.backend() == DbBackend::Postgres
    }

    /// Tells every instance listening on the database, in order: one statement for the lot,
    /// except that PostgreSQL folds a transaction's identical notifications into one, so a payload
    /// repeated in `payloads` starts another statement. A no-op on SQLite.
    pub async fn notify_live(&self, payloads: &[String]) -> Result<(), DbErr> {
        if !self.is_shared() {
            return Ok(());
        }
        let mut rest = payloads;
        while !rest.is_empty() {
            let mut distinct = std::collections::HashSet::new();
            let run = rest.iter().take_while(|payload| distinct.insert(payload.as_str())).count();
            let (now, later) = rest.split_at(run);
            // Evaluated left to right: `SELECT pg_notify($1, $2), pg_notify($1, $3), …`.
            let calls: Vec<String> = (0..now.len()).map(|n| format!("pg_notify($1, ${})", n + 2)).collect();
            let values = std::iter::once(LIVE_CHANNEL.into()).chain(now.iter().map(|p| p.as_str().into()));
            self.conn
                .execute(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    format!("SELECT {}", calls.join(", ")),
                    values.collect::<Vec<sea_orm::Value>>(),
                ))
                .await?;
            rest = later;
        }
        Ok(())
    }

    /// A connection listening for other instances' live events, from the pool sea-orm wraps;
    /// `None` on SQLite. It reconnects by itself; events sent while it was away are lost, which
    /// its caller learns from `try_recv` answering `None`.
    pub async fn live_listener(&self) -> Result<Option<PgListener>, DbErr> {
        if !self.is_shared() {
            return Ok(None);
        }
        let pool = self.conn.get_postgres_connection_pool();
        let mut listener = PgListener::connect_with(pool).await.map_err(|e| DbErr::Custom(format!("LISTEN: {e}")))?;
        listener.listen(LIVE_CHANNEL).await.map_err(|e| DbErr::Custom(format!("LISTEN: {e}")))?;
        Ok(Some(listener))
    }
}
