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
        let empty = EmptySchema::postgres().await?;
        let db = Db::connect_with(empty.options()).await.expect("postgres test database");
        Some(empty.holding(db))
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
    /// a look. Best effort and bounded: sqlx's `Pool::close` can wait forever for a connection a
    /// racing return put back after it drained the pool (sqlx issues 1773 and 3217); that hung a
    /// CI run for its whole 90 minutes.
    pub async fn finish(self) {
        if tokio::time::timeout(CLEANUP_WITHIN, self.db.close()).await.is_err() {
            eprintln!("the test database did not close within {CLEANUP_WITHIN:?}; left as it is");
        }
        let cleanup = async {
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
                        // A connection left open holds locks the drop would wait for.
                        let drop = format!("SET lock_timeout = '5s'; DROP SCHEMA \"{schema}\" CASCADE");
                        admin.execute_unprepared(&drop).await.ok();
                        admin.close().await.ok();
                    }
                }
            }
        };
        if tokio::time::timeout(CLEANUP_WITHIN, cleanup).await.is_err() {
            eprintln!("the test database was not removed within {CLEANUP_WITHIN:?}");
        }
    }
}

/// A new, empty PostgreSQL schema on the server named by `RUCHE_TEST_DATABASE_URL`: a fresh
/// database as instances find it on their first start.
pub struct EmptySchema {
    admin_url: String,
    schema: String,
}

impl EmptySchema {
    /// `None` as `TestDb::postgres`, when there is no PostgreSQL to test on.
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
        Some(Self { admin_url: url, schema })
    }

    /// How an instance connects to this schema.
    pub fn options(&self) -> ConnectOptions {
        schema_options(&self.admin_url, &self.schema)
    }

    /// The server's `host:port`.
    pub fn address(&self) -> &str {
        let after_scheme = self.admin_url.split_once("://").map_or(self.admin_url.as_str(), |(_, rest)| rest);
        let after_credentials = after_scheme.rsplit_once('@').map_or(after_scheme, |(_, rest)| rest);
        after_credentials.split('/').next().unwrap_or_default()
    }

    /// `options`, through another address (`host:port`) in place of the server's: a proxy the
    /// test can cut.
    pub fn options_through(&self, address: &str) -> ConnectOptions {
        schema_options(&self.admin_url.replacen(self.address(), address, 1), &self.schema)
    }

    /// A `TestDb` that removes this schema when finished.
    pub fn holding(self, db: Db) -> TestDb {
        TestDb { db, cleanup: Cleanup::PostgresSchema { admin_url: self.admin_url, schema: self.schema } }
    }
}

const CLEANUP_WITHIN: std::time::Duration = std::time::Duration::from_secs(10);

/// The longest any storage test may take: one that hangs fails with this instead of running
/// until CI's own limit, which names no test.
pub const TEST_DEADLINE: std::time::Duration = std::time::Duration::from_secs(180);

/// Runs a test body under `TEST_DEADLINE`.
pub async fn within_deadline(name: &str, body: impl std::future::Future<Output = ()>) {
    if tokio::time::timeout(TEST_DEADLINE, body).await.is_err() {
        panic!("{name} did not finish within {TEST_DEADLINE:?}: it hangs");
    }
}

impl Db {
    /// A participant joining `session`, written as `join_sessions` writes it, its transaction left
    /// open: what it holds (on PostgreSQL, the session's row for key share), others wait for until
    /// the transaction is dropped or rolled back.
    pub async fn join_under_way_for_tests(
        &self,
        session: crate::ids::SessionId,
        visitor_digest: &str,
    ) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
        use sea_orm::TransactionTrait;
        let txn = self.conn.begin().await?;
        Db::join_sessions_on(&txn, &[(session, visitor_digest)]).await?;
        Ok(txn)
    }

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
                $crate::storage::testing::within_deadline(stringify!($name), super::$name(test_db.db.clone())).await;
                test_db.finish().await;
            }

            #[tokio::test]
            async fn postgres() {
                let Some(test_db) = $crate::storage::testing::TestDb::postgres().await else { return };
                $crate::storage::testing::within_deadline(stringify!($name), super::$name(test_db.db.clone())).await;
                test_db.finish().await;
            }
        }
    };
}
