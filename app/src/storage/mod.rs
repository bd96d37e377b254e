//! Storage: one facade, `Db`, over SQLite (the embedded default) or PostgreSQL (scale-out).
//! Queries are grouped by domain in `queries/`, each an `impl Db` block, and speak in typed ids
//! and domain records, never in sea-orm models.
use checkpoints::Checkpoints;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};
use sea_orm_migration::MigratorTrait;
use std::sync::Arc;

mod checkpoints;
mod entities;
mod migrations;
mod queries;
#[doc(hidden)]
pub mod testing;

pub use checkpoints::CHECKPOINT_EVERY;
pub use queries::administration::{AccountRecord, AccountStopped, Invitation, InvitationRefused};
pub use queries::discussion::{
    Cursor, DiscussionWrite, DiscussionWritten, MessageRecord, NewMessage, PostRefused, Seen, SpeakerRecord,
};
pub use queries::joining::{Participant, WayIn, WayInKind};
pub use queries::outbox::OutboxMail;
pub use queries::sessions::{CodeRefused, SessionRecord};
pub use queries::sharing::{AcceptError, FacilitatorInvitations, FacilitatorRecord, NewFacilitator};
pub use queries::slides::SlideRecord;
pub use queries::users::{CreateUserError, User, UserWithPassword};

pub use sea_orm::DbErr as StorageError;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/ruche.db?mode=rwc";

/// Readers a SQLite database gets beside its one writer.
const SQLITE_READERS: u32 = 4;

#[derive(Clone, Debug)]
pub struct Db {
    /// Every write and every transaction. On SQLite, one connection: SQLite has one writer at a
    /// time anyway, and a transaction that reads, then writes, fails at once ("database is
    /// locked") when another connection wrote in between.
    conn: DatabaseConnection,
    /// Reads outside transactions: on SQLite, a pool of read-only connections, which WAL lets
    /// run beside the writer and see every committed write; on PostgreSQL, the same pool.
    read: DatabaseConnection,
    /// On SQLite, the connection that checkpoints, so that the writer never does.
    checkpoints: Option<Arc<Checkpoints>>,
}

/// A database pool's connections now, for `/metrics`: all `max` in use means requests wait for
/// one (sqlx reports the waits themselves only as log lines).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolFigures {
    pub pool: &'static str,
    pub in_use: u32,
    pub idle: u32,
    pub max: u32,
}

impl Db {
    /// Whether both pools answer a trivial query (for `/readyz`).
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.read.ping().await?;
        self.conn.ping().await
    }

    /// Connects and brings the schema up to date. A SQLite file (and its folder) is created on
    /// first start.
    pub async fn connect(url: &str) -> Result<Self, DbErr> {
        Self::connect_with(ConnectOptions::new(url)).await
    }

    pub async fn connect_with(mut options: ConnectOptions) -> Result<Self, DbErr> {
        let sqlite = sqlite_path(options.get_url()).is_some();
        if let Some(path) = sqlite_path(options.get_url()) {
            if let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display())))?;
            }
        }
        options.sqlx_logging(false);
        if !sqlite {
            options.acquire_timeout(POSTGRES_ACQUIRE_WITHIN).connect_timeout(POSTGRES_ACQUIRE_WITHIN);
            let conn = Database::connect(options).await?;
            migrate_postgres(&conn).await?;
            return Ok(Self { read: conn.clone(), conn, checkpoints: None });
        }
        // A connection to a local file does not go stale: sqlx's ping before each use would
        // only add a round trip to its worker thread, on every query of every join.
        options.test_before_acquire(false);
        let mut readers = options.clone();
        // WAL lets readers go on while one request writes. With WAL, `synchronous=NORMAL` syncs
        // the log at checkpoints instead of at every commit: the file is never corrupted, and a
        // power cut can lose only what came since the last checkpoint (`checkpoints`). A disk
        // flush on every commit would cap the joins a second far below what a room needs.
        options.max_connections(1).map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .pragma("wal_autocheckpoint", "0")
        });
        let checkpointer = options.clone();
        let conn = Database::connect(options).await?;
        migrations::Migrator::up(&conn, None).await?;
        readers.max_connections(SQLITE_READERS).map_sqlx_sqlite_opts(|o| o.read_only(true));
        let read = Database::connect(readers).await?;
        let checkpoints = Some(Arc::new(Checkpoints::start(Database::connect(checkpointer).await?)));
        Ok(Self { conn, read, checkpoints })
    }

    pub fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    /// Writes a consistent copy of a SQLite database, as it is at one moment, to `path` (a new
    /// file), while other processes go on writing to it (`VACUUM INTO`: one read transaction,
    /// which WAL lets run beside the writer). PostgreSQL is backed up with its own tools.
    pub async fn backup_to(&self, path: &std::path::Path) -> Result<(), BackupRefused> {
        if self.backend() != DbBackend::Sqlite {
            return Err(BackupRefused::NotSqlite);
        }
        if path.exists() {
            return Err(BackupRefused::Exists(path.display().to_string()));
        }
        let target = path.to_str().ok_or_else(|| BackupRefused::Exists(path.display().to_string()))?;
        let statement =
            sea_orm::Statement::from_sql_and_values(DbBackend::Sqlite, "VACUUM INTO ?", [target.to_owned().into()]);
        self.conn.execute(statement).await.map_err(BackupRefused::Failed)?;
        Ok(())
    }

    /// Connections of each pool, in use and idle (for `/metrics`): the writer and the readers
    /// on SQLite, the one pool on PostgreSQL.
    pub fn pool_connections(&self) -> Vec<PoolFigures> {
        let figures = |pool: &'static str, size: u32, idle: usize, max: u32| PoolFigures {
            pool,
            in_use: size.saturating_sub(idle as u32),
            idle: idle as u32,
            max,
        };
        match self.backend() {
            DbBackend::Sqlite => {
                let (writer, readers) =
                    (self.conn.get_sqlite_connection_pool(), self.read.get_sqlite_connection_pool());
                vec![
                    figures("writer", writer.size(), writer.num_idle(), writer.options().get_max_connections()),
                    figures("readers", readers.size(), readers.num_idle(), readers.options().get_max_connections()),
                ]
            }
            _ => {
                let pool = self.conn.get_postgres_connection_pool();
                vec![figures("postgres", pool.size(), pool.num_idle(), pool.options().get_max_connections())]
            }
        }
    }

    pub async fn close(self) -> Result<(), DbErr> {
        if let Some(checkpoints) = &self.checkpoints {
            checkpoints.stop().await?;
        }
        if self.backend() == DbBackend::Sqlite {
            self.read.close().await?;
        }
        self.conn.close().await
    }
}

/// Brings a PostgreSQL schema up to date under an advisory lock (per schema), held by a
/// transaction of its own while the migrations run on the pool: instances started together on
/// a fresh database (replicas, a rolling deploy) take turns, and those after the first find
/// nothing left to do, instead of creating the same tables at once and failing.
async fn migrate_postgres(conn: &DatabaseConnection) -> Result<(), DbErr> {
    use sea_orm::TransactionTrait;
    let lock = conn.begin().await?;
    lock.execute_unprepared("SELECT pg_advisory_xact_lock(hashtext('ruche migrations ' || current_schema()))").await?;
    let migrated = migrations::Migrator::up(conn, None).await;
    lock.commit().await?;
    migrated
}

fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// Why `Db::backup_to` wrote no copy; its `Display` is what the command prints.
#[derive(Debug, thiserror::Error)]
pub enum BackupRefused {
    #[error("This database is PostgreSQL: back it up with pg_dump (see the README).")]
    NotSqlite,
    #[error("{0} exists already: give the name of a new file.")]
    Exists(String),
    #[error("The copy failed: {0}")]
    Failed(DbErr),
}

/// How long a request waits for a PostgreSQL connection (or to open one) before it is told that
/// Ruche cannot reach its database (503): a person gets an answer within seconds, not a page
/// that never loads, and the pool reconnects by itself once the database is back.
pub const POSTGRES_ACQUIRE_WITHIN: std::time::Duration = std::time::Duration::from_secs(3);

/// Whether a storage error means the database cannot be reached (down, restarting, the network
/// to it cut), rather than a query that went wrong: what a person can only wait out.
pub fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::{sqlx, RuntimeErr};
    let lost = |e: &sqlx::Error| match e {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
        sqlx::Error::WorkerCrashed | sqlx::Error::Protocol(_) => true,
        // SQLSTATE classes 08 (connection exception) and 57P (the server shutting down).
        sqlx::Error::Database(e) => e.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
        _ => false,
    };
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => lost(e),
        _ => false,
    }
}

/// A storage error as a request's failure: the database out of reach is waited out (503), anything
/// else is logged and shown as Ruche's own failure, with no detail.
impl From<DbErr> for crate::rules::Failure {
    fn from(err: DbErr) -> Self {
        if is_unavailable(&err) {
            report_unavailable(&err);
            return Self::Unavailable;
        }
        tracing::error!(error = %err, "storage error");
        Self::Internal
    }
}

/// Logs that the database cannot be reached, once every 10 seconds at most: during an outage
/// every request would otherwise write a line.
pub fn report_unavailable(err: &DbErr) {
    use std::sync::atomic::{AtomicI64, Ordering};
    static LOGGED_AT: AtomicI64 = AtomicI64::new(i64::MIN);
    let now = now_micros();
    let last = LOGGED_AT.load(Ordering::Relaxed);
    if now.saturating_sub(last) >= 10_000_000
        && LOGGED_AT.compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed).is_ok()
    {
        tracing::warn!(error = %err, "the database cannot be reached: requests that need it answer 503");
    }
}

/// Microseconds since the Unix epoch: the one clock every table uses.
pub fn now_micros() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_sqlite_file_to_create() {
        assert_eq!(sqlite_path("sqlite://data/ruche.db?mode=rwc"), Some("data/ruche.db"));
        assert_eq!(sqlite_path("sqlite:///tmp/x.db"), Some("/tmp/x.db"));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://localhost/test"), None);
    }
}
