//! Fresh, isolated databases for tests: a new SQLite file, or a new PostgreSQL schema on the
//! server named by `RUCHE_TEST_DATABASE_URL`. `test_both_dbs!` runs one test body on both.
use super::Db;
use sea_orm::{ConnectOptions, ConnectionTrait, Database};

pub struct TestDb {
    pub db: Db,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteFile(std::path::PathBuf),
    PostgresSchema { admin_url: String, schema: String },
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let path = std::env::temp_dir().join(format!("ruche-test-{}.db", uuid::Uuid::new_v4().simple()));
        let db = Db::connect(&format!("sqlite://{}?mode=rwc", path.display())).await.expect("sqlite test database");
        Self { db, cleanup: Cleanup::SqliteFile(path) }
    }

    /// `None` when `RUCHE_TEST_DATABASE_URL` is unset, unless `RUCHE_REQUIRE_POSTGRES` is set
    /// (as the test command does), where a missing server fails the test instead.
    pub async fn postgres() -> Option<Self> {
        let Ok(url) = std::env::var("RUCHE_TEST_DATABASE_URL") else {
            assert!(
                std::env::var_os("RUCHE_REQUIRE_POSTGRES").is_none(),
                "RUCHE_REQUIRE_POSTGRES is set but RUCHE_TEST_DATABASE_URL is not"
            );
            eprintln!("RUCHE_TEST_DATABASE_URL is unset: the PostgreSQL variant of this test is skipped");
            return None;
        };
        let schema = format!("ruche_test_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(&url).await.expect("connect to RUCHE_TEST_DATABASE_URL");
        admin.execute_unprepared(&format!("CREATE SCHEMA \"{schema}\"")).await.expect("create test schema");
        admin.close().await.ok();
        let db = Db::connect_with(schema_options(&url, &schema)).await.expect("postgres test database");
        Some(Self { db, cleanup: Cleanup::PostgresSchema { admin_url: url, schema } })
    }

    /// A second, separate connection pool to the same database, as another server instance
    /// would open.
    pub async fn connect_again(&self) -> Db {
        match &self.cleanup {
            Cleanup::SqliteFile(path) => Db::connect(&format!("sqlite://{}?mode=rwc", path.display())).await,
            Cleanup::PostgresSchema { admin_url, schema } => Db::connect_with(schema_options(admin_url, schema)).await,
        }
        .expect("a second connection to the test database")
    }

    /// Removes what the test made. Not called when a test panics, so a failure's data stays for
    /// a look.
    pub async fn finish(self) {
        self.db.close().await.ok();
        match self.cleanup {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    std::fs::remove_file(p).ok();
                }
            }
            Cleanup::PostgresSchema { admin_url, schema } => {
                if let Ok(admin) = Database::connect(&admin_url).await {
                    admin.execute_unprepared(&format!("DROP SCHEMA \"{schema}\" CASCADE")).await.ok();
                    admin.close().await.ok();
                }
            }
        }
    }
}

impl Db {
    /// Runs SQL no query of the facade would: rows as an earlier version of Ruche wrote them.
    pub async fn execute_for_tests(&self, sql: &str) -> Result<u64, sea_orm::DbErr> {
        Ok(self.conn.execute_unprepared(sql).await?.rows_affected())
    }
}

/// A connection to the test's own schema of the PostgreSQL test database.
fn schema_options(url: &str, schema: &str) -> ConnectOptions {
    let mut options = ConnectOptions::new(url.to_owned());
    options.set_schema_search_path(schema.to_owned()).max_connections(5);
    options
}

/// Defines `<name>_sqlite` and `<name>_postgres` tests running `async fn name(db: Db)`.
#[macro_export]
macro_rules! test_both_dbs {
    ($name:ident) => {
        $crate::__paste_both_dbs!($name);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __paste_both_dbs {
    ($name:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let test_db = $crate::storage::testing::TestDb::sqlite().await;
                super::$name(test_db.db.clone()).await;
                test_db.finish().await;
            }

            #[tokio::test]
            async fn postgres() {
                let Some(test_db) = $crate::storage::testing::TestDb::postgres().await else { return };
                super::$name(test_db.db.clone()).await;
                test_db.finish().await;
            }
        }
    };
}
