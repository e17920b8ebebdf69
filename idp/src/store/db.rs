//! The one seam between SQL and the two drivers. Queries are written once with `$1`-style
//! placeholders (which SQLite accepts too) and portable types; this module binds and runs them
//! on whichever pool the URL chose. `sqlx::Any` is deliberately not used (no typed mapping).

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow};
use sqlx::{AssertSqlSafe, FromRow, PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use super::StoreError;

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePools),
    Postgres(PgPool),
}

/// SQLite allows one writer at a time. Writers on several connections would meet
/// `SQLITE_BUSY` and SQLite's busy handler, which sleeps in steps of up to 100 ms: under
/// concurrent sign-ins (each writes an audit row) that cost 20× the throughput. So writes and
/// transactions queue for the one connection of `write` (a fair async queue, no sleeping), and
/// plain `SELECT`s use the `read` connections, which WAL lets run alongside the writer.
#[derive(Clone, Debug)]
pub struct SqlitePools {
    read: SqlitePool,
    write: SqlitePool,
}

impl SqlitePools {
    fn for_sql(&self, sql: &str) -> &SqlitePool {
        let head = sql.trim_start().get(..6).unwrap_or_default();
        if head.eq_ignore_ascii_case("select") { &self.read } else { &self.write }
    }
}

pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// A bind value; only the portable types of the schema.
#[derive(Clone, Debug)]
pub enum Arg {
    Text(Option<String>),
    Int(Option<i64>),
    Bool(bool),
}

/// SQL text plus its arguments, in placeholder order.
#[derive(Debug)]
pub struct Query {
    sql: Cow<'static, str>,
    args: Vec<Arg>,
}

pub fn q(sql: &'static str) -> Query {
    Query { sql: Cow::Borrowed(sql), args: Vec::new() }
}

/// A query whose text the store assembled from its own fixed fragments (the filters of a search
/// that are present, issue #12), never from input: every value is still a bound argument.
pub fn q_assembled(sql: String) -> Query {
    Query { sql: Cow::Owned(sql), args: Vec::new() }
}

impl Query {
    pub fn text(mut self, v: impl Into<String>) -> Self {
        self.args.push(Arg::Text(Some(v.into())));
        self
    }
    pub fn opt_text(mut self, v: Option<impl Into<String>>) -> Self {
        self.args.push(Arg::Text(v.map(Into::into)));
        self
    }
    pub fn int(mut self, v: i64) -> Self {
        self.args.push(Arg::Int(Some(v)));
        self
    }
    pub fn opt_int(mut self, v: Option<i64>) -> Self {
        self.args.push(Arg::Int(v));
        self
    }
    pub fn bool(mut self, v: bool) -> Self {
        self.args.push(Arg::Bool(v));
        self
    }

    fn sqlite(&self) -> sqlx::query::Query<'static, Sqlite, sqlx::sqlite::SqliteArguments> {
        self.args.iter().cloned().fold(sqlx::query(AssertSqlSafe(self.sql.clone())), |qq, a| match a {
            Arg::Text(v) => qq.bind(v),
            Arg::Int(v) => qq.bind(v),
            Arg::Bool(v) => qq.bind(v),
        })
    }

    fn postgres(&self) -> sqlx::query::Query<'static, Postgres, sqlx::postgres::PgArguments> {
        self.args.iter().cloned().fold(sqlx::query(AssertSqlSafe(self.sql.clone())), |qq, a| match a {
            Arg::Text(v) => qq.bind(v),
            Arg::Int(v) => qq.bind(v),
            Arg::Bool(v) => qq.bind(v),
        })
    }
}

/// A row type readable from both drivers (`#[derive(sqlx::FromRow)]` gives both).
pub trait DbRow: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}
impl<T> DbRow for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}

pub(crate) fn db_err(err: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &err
        && db.is_unique_violation()
    {
        return StoreError::Conflict("record");
    }
    if is_unavailable(&err) {
        return StoreError::Unavailable(err.to_string());
    }
    StoreError::Database(err.to_string())
}

/// The database cannot be reached, or gave no connection in time, or is shutting down: the
/// request may succeed later (503), unlike a failed statement (issue #10).
fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        // PostgreSQL SQLSTATE class 08 (connection exception), 57P01–57P03 (admin shutdown,
        // crash shutdown, cannot connect now), 53300 (too many connections).
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

impl Db {
    /// Opens the pool the URL names: `sqlite:` (file created if missing) or `postgres:`. On
    /// PostgreSQL a request waits at most `acquire_timeout` for a connection, so an outage is
    /// answered 503 in about that time; SQLite keeps sqlx's default (a local file is not down, and
    /// its one writer connection is a queue that may be long under load).
    pub async fn connect(url: &str, acquire_timeout: Duration) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(db_err)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let write =
                SqlitePoolOptions::new().max_connections(1).connect_with(options.clone()).await.map_err(db_err)?;
            let read = SqlitePoolOptions::new().max_connections(8).connect_with(options).await.map_err(db_err)?;
            Ok(Db::Sqlite(SqlitePools { read, write }))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url).map_err(db_err)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(acquire_timeout)
                .connect_with(options)
                .await
                .map_err(db_err)?;
            Ok(Db::Postgres(pool))
        } else {
            Err(StoreError::Database(format!(
                "unsupported database URL scheme (expected sqlite: or postgres:): {}",
                url.split(':').next().unwrap_or_default()
            )))
        }
    }

    /// The SQL a few queries must spell per dialect (prefix search collations, issue #12).
    pub fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }

    /// One round trip to the database (`GET /readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(p) => sqlx::query("SELECT 1").execute(&p.read).await.map(drop),
            Db::Postgres(p) => sqlx::query("SELECT 1").execute(p).await.map(drop),
        }
        .map_err(db_err)
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        let result = match self {
            Db::Sqlite(p) => SQLITE_MIGRATIONS.run(&p.write).await,
            Db::Postgres(p) => POSTGRES_MIGRATIONS.run(p).await,
        };
        result.map_err(|err| StoreError::Database(format!("migration failed: {err}")))
    }

    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Db::Sqlite(p) => Tx::Sqlite(p.write.begin().await.map_err(db_err)?),
            Db::Postgres(p) => Tx::Postgres(p.begin().await.map_err(db_err)?),
        })
    }

    pub async fn execute(&self, q: Query) -> Result<u64, StoreError> {
        match self {
            Db::Sqlite(p) => q.sqlite().execute(&p.write).await.map(|r| r.rows_affected()),
            Db::Postgres(p) => q.postgres().execute(p).await.map(|r| r.rows_affected()),
        }
        .map_err(db_err)
    }

    pub async fn optional<T: DbRow>(&self, q: Query) -> Result<Option<T>, StoreError> {
        match self {
            Db::Sqlite(p) => {
                q.sqlite().fetch_optional(p.for_sql(&q.sql)).await.and_then(|r| r.map(|r| T::from_row(&r)).transpose())
            }
            Db::Postgres(p) => {
                q.postgres().fetch_optional(p).await.and_then(|r| r.map(|r| T::from_row(&r)).transpose())
            }
        }
        .map_err(db_err)
    }

    pub async fn all<T: DbRow>(&self, q: Query) -> Result<Vec<T>, StoreError> {
        match self {
            Db::Sqlite(p) => {
                q.sqlite().fetch_all(p.for_sql(&q.sql)).await.and_then(|rows| rows.iter().map(T::from_row).collect())
            }
            Db::Postgres(p) => q.postgres().fetch_all(p).await.and_then(|rows| rows.iter().map(T::from_row).collect()),
        }
        .map_err(db_err)
    }
}

impl Tx {
    pub async fn execute(&mut self, q: Query) -> Result<u64, StoreError> {
        match self {
            Tx::Sqlite(t) => q.sqlite().execute(&mut **t).await.map(|r| r.rows_affected()),
            Tx::Postgres(t) => q.postgres().execute(&mut **t).await.map(|r| r.rows_affected()),
        }
        .map_err(db_err)
    }

    pub async fn optional<T: DbRow>(&mut self, q: Query) -> Result<Option<T>, StoreError> {
        match self {
            Tx::Sqlite(t) => {
                q.sqlite().fetch_optional(&mut **t).await.and_then(|r| r.map(|r| T::from_row(&r)).transpose())
            }
            Tx::Postgres(t) => {
                q.postgres().fetch_optional(&mut **t).await.and_then(|r| r.map(|r| T::from_row(&r)).transpose())
            }
        }
        .map_err(db_err)
    }

    pub async fn all<T: DbRow>(&mut self, q: Query) -> Result<Vec<T>, StoreError> {
        match self {
            Tx::Sqlite(t) => {
                q.sqlite().fetch_all(&mut **t).await.and_then(|rows| rows.iter().map(T::from_row).collect())
            }
            Tx::Postgres(t) => {
                q.postgres().fetch_all(&mut **t).await.and_then(|rows| rows.iter().map(T::from_row).collect())
            }
        }
        .map_err(db_err)
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t) => t.commit().await,
            Tx::Postgres(t) => t.commit().await,
        }
        .map_err(db_err)
    }
}
