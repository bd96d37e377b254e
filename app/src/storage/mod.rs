//! Storage: one facade, `Db`, over SQLite (the embedded default) or PostgreSQL (scale-out).
//! Queries are grouped by domain in `queries/`, each an `impl Db` block, and speak in typed ids
//! and domain records, never in sea-orm models.
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};
use sea_orm_migration::MigratorTrait;

mod entities;
mod migrations;
mod queries;
#[doc(hidden)]
pub mod testing;

pub use queries::joining::{Participant, WayIn, WayInKind};
pub use queries::sessions::SessionRecord;
pub use queries::sharing::{AcceptError, FacilitatorRecord, NewFacilitator, OutboxMail};
pub use queries::slides::SlideRecord;
pub use queries::users::{CreateUserError, User, UserWithPassword};

pub use sea_orm::DbErr as StorageError;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/ruche.db?mode=rwc";

#[derive(Clone, Debug)]
pub struct Db {
    conn: DatabaseConnection,
}

impl Db {
    /// Connects and brings the schema up to date. A SQLite file (and its folder) is created on
    /// first start.
    pub async fn connect(url: &str) -> Result<Self, DbErr> {
        Self::connect_with(ConnectOptions::new(url)).await
    }

    pub async fn connect_with(mut options: ConnectOptions) -> Result<Self, DbErr> {
        if let Some(path) = sqlite_path(options.get_url()) {
            if let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display())))?;
            }
        }
        options.sqlx_logging(false);
        let conn = Database::connect(options).await?;
        if conn.get_database_backend() == DbBackend::Sqlite {
            // WAL lets readers go on while one request writes; the setting sticks to the file.
            conn.execute_unprepared("PRAGMA journal_mode=WAL").await?;
        }
        migrations::Migrator::up(&conn, None).await?;
        Ok(Self { conn })
    }

    pub fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    pub async fn close(self) -> Result<(), DbErr> {
        self.conn.close().await
    }
}

fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// Microseconds since the Unix epoch: the one clock every table uses.
pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or_default()
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
