//! The store in PostgreSQL: the same tables as the embedded file, each one a
//! table of byte keys and byte values in the schema `quarry`, so every store
//! method runs unchanged on either engine (see [`super::kv`]).
//!
//! - **One writer at a time, cluster-wide.** Every write transaction takes
//!   one advisory lock first ([`WRITE_LOCK`]), then reads the newest change-log
//!   `seq`. PostgreSQL releases the lock only after the commit is visible, so
//!   the next writer sees everything before it: the change log stays gap-free
//!   and in commit order, and every rule a use case checks before it writes
//!   (stock, idempotency keys, reversals, quote numbers) holds as with redb's
//!   single writer, whichever node writes.
//! - **Snapshots.** A read is one `REPEATABLE READ READ ONLY` transaction:
//!   one snapshot, like redb's. Ranges are read in keyset pages.
//! - **Faults.** Connection and server failures become
//!   [`StoreError::Unavailable`] (503 `storage_unavailable`); a transaction
//!   that saw one is broken and never commits.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::ops::Bound;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use postgres::error::SqlState;
use postgres::fallible_iterator::FallibleIterator as _;
use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls};

use super::StoreError;

/// The advisory lock every write transaction holds until it ends.
pub(super) const WRITE_LOCK: i64 = 0x5155_4152_5259_0001;
/// The advisory lock the node running the once-per-cluster work holds.
pub(super) const LEADER_LOCK: i64 = 0x5155_4152_5259_0002;
/// Held shared by every serving node's follower: a restore or migration
/// into the database takes it exclusively, so it runs only once every node
/// has stopped.
pub(super) const NODES_LOCK: i64 = 0x5155_4152_5259_0003;
/// The channel a commit notifies with its last `seq`.
pub(super) const CHANNEL: &str = "quarry_changes";

/// Makes the pool's connections.
#[derive(Debug)]
pub(super) struct Manager {
    config: postgres::Config,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Client;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Client, postgres::Error> {
        self.config.connect(NoTls)
    }

    fn is_valid(&self, client: &mut Client) -> Result<(), postgres::Error> {
        client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, client: &mut Client) -> bool {
        client.is_closed()
    }
}

/// The PostgreSQL database a store works with.
pub(super) struct Backend {
    /// Always there until the backend is dropped.
    pool: Option<r2d2::Pool<Manager>>,
    pub(super) config: postgres::Config,
    /// The URL without its password, for messages.
    pub(super) shown: String,
    /// Whether this node holds [`LEADER_LOCK`] (kept by the follower).
    pub(super) leader: AtomicBool,
    /// The database's size in bytes, as the follower last read it.
    pub(super) size: std::sync::atomic::AtomicU64,
    /// This process serves the store (a server): it holds [`NODES_LOCK`].
    pub(super) serving: bool,
}

impl Backend {
    /// Parses `url` (libpq syntax, several hosts allowed) and opens a pool of
    /// at most `pool_size` connections, failing when none can be made.
    pub(super) fn connect(url: &str, pool_size: u32) -> Result<Self, StoreError> {
        let mut config: postgres::Config = url.parse().map_err(|e| StoreError::Backend {
            location: redact(url),
            detail: format!("not a PostgreSQL URL: {e}"),
        })?;
        if config.get_ssl_mode() == postgres::config::SslMode::Require {
            return Err(StoreError::Backend {
                location: redact(url),
                detail: "sslmode=require: Quarry does not encrypt its connection to PostgreSQL \
                         yet; keep the database on a private network or a tunnel, and use \
                         sslmode=disable or prefer"
                    .to_owned(),
            });
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(3));
        }
        if config.get_application_name().is_none() {
            config.application_name("quarry");
        }
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(5));
        let shown = describe(&config);
        let pool = r2d2::Pool::builder()
            .max_size(pool_size.max(2))
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(3))
            .error_handler(Box::new(r2d2::LoggingErrorHandler))
            .build(Manager {
                config: config.clone(),
            })
            .map_err(|e| StoreError::Unavailable {
                disk_full: false,
                detail: format!("PostgreSQL at {shown} cannot be reached: {e}"),
            })?;
        Ok(Self {
            pool: Some(pool),
            config,
            shown,
            leader: AtomicBool::new(false),
            size: std::sync::atomic::AtomicU64::new(0),
            serving: false,
        })
    }

    /// A connection from the pool, or why there is none.
    pub(super) fn connection(&self) -> Result<r2d2::PooledConnection<Manager>, StoreError> {
        let pool = self
            .pool
            .as_ref()
            .ok_or(StoreError::Bug("the PostgreSQL pool is gone"))?;
        pool.get().map_err(|e| StoreError::Unavailable {
            disk_full: false,
            detail: format!("PostgreSQL at {} cannot be reached: {e}", self.shown),
        })
    }

    /// Begins a snapshot.
    pub(super) fn begin_read(&self) -> Result<Conn, StoreError> {
        let conn = Conn::new(self.connection()?);
        conn.run(|c| c.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"))?;
        conn.open.store(true, Ordering::Relaxed);
        Ok(conn)
    }

    /// Begins a write transaction: waits for the cluster-wide write lock.
    pub(super) fn begin_write(&self) -> Result<Conn, StoreError> {
        let conn = Conn::new(self.connection()?);
        conn.run(|c| {
            c.batch_execute(&format!(
                "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
            ))
        })?;
        conn.open.store(true, Ordering::Relaxed);
        Ok(conn)
    }

    /// Whether the database answers.
    pub(super) fn ping(&self) -> Result<(), StoreError> {
        let conn = Conn::new(self.connection()?);
        conn.run(|c| c.batch_execute("SELECT 1"))
    }
}

impl Drop for Backend {
    /// Closing the pool's connections blocks: off the async runtime, where a
    /// server's last handle may go.
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take()
            && tokio::runtime::Handle::try_current().is_ok()
        {
            let _ = std::thread::Builder::new()
                .name("quarry-pool-close".into())
                .spawn(move || drop(pool));
        }
    }
}

/// The URL as a user may see it: hosts, ports, user and database, no password.
fn describe(config: &postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let host = match host {
                postgres::config::Host::Tcp(name) => name.clone(),
                #[cfg(unix)]
                postgres::config::Host::Unix(path) => path.display().to_string(),
            };
            match config.get_ports().get(i).or(config.get_ports().first()) {
                Some(port) => format!("{host}:{port}"),
                None => host,
            }
        })
        .collect();
    format!(
        "postgres://{}{}/{}",
        config
            .get_user()
            .map(|u| format!("{u}@"))
            .unwrap_or_default(),
        hosts.join(","),
        config.get_dbname().unwrap_or_default()
    )
}

/// A URL that could not be parsed, shown without anything after a `:` in
/// its user part.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme && url[scheme + 3..at].contains(':') => {
            let user = &url[scheme + 3..at];
            let user = user.split(':').next().unwrap_or_default();
            format!("{}{user}:…{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// What a PostgreSQL error means for a request: the database unreachable,
/// shutting down, read-only (a demoted primary) or out of connections is
/// passing trouble; anything else is a refusal that names the cause.
pub(super) fn store_error(error: &postgres::Error) -> StoreError {
    let passing = match error.code() {
        None => true,
        Some(code) => {
            code.code().starts_with("08")
                || code.code().starts_with("57P")
                || [
                    SqlState::READ_ONLY_SQL_TRANSACTION,
                    SqlState::LOCK_NOT_AVAILABLE,
                    SqlState::TOO_MANY_CONNECTIONS,
                    SqlState::QUERY_CANCELED,
                    SqlState::T_R_SERIALIZATION_FAILURE,
                    SqlState::T_R_DEADLOCK_DETECTED,
                    SqlState::DISK_FULL,
                    SqlState::IO_ERROR,
                ]
                .contains(code)
        }
    };
    let detail = match error.as_db_error() {
        Some(db) => format!("PostgreSQL: {} ({})", db.message(), db.code().code()),
        None => format!("PostgreSQL: {error}"),
    };
    if passing {
        StoreError::Unavailable {
            disk_full: error.code() == Some(&SqlState::DISK_FULL),
            detail,
        }
    } else {
        StoreError::Backend {
            location: String::new(),
            detail,
        }
    }
}

/// A row as PostgreSQL holds it: the key's byte form and the value's bytes.
pub(super) type RawRow = (Vec<u8>, Vec<u8>);

/// One connection inside a transaction.
pub(super) struct Conn {
    /// Always there until the connection is dropped.
    client: Mutex<Option<r2d2::PooledConnection<Manager>>>,
    /// A statement failed: PostgreSQL refuses the rest of the transaction.
    pub(super) broken: AtomicBool,
    /// A transaction is open (rolled back on drop).
    open: AtomicBool,
}

impl Conn {
    fn new(client: r2d2::PooledConnection<Manager>) -> Self {
        Self {
            client: Mutex::new(Some(client)),
            broken: AtomicBool::new(false),
            open: AtomicBool::new(false),
        }
    }

    /// Runs `f` on the connection; an error breaks the transaction.
    pub(super) fn run<T>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        if self.broken.load(Ordering::Relaxed) {
            return Err(StoreError::Unavailable {
                disk_full: false,
                detail: "PostgreSQL: an earlier statement of this transaction failed".to_owned(),
            });
        }
        let mut client = self.client.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(client) = client.as_mut() else {
            return Err(StoreError::Bug(
                "a PostgreSQL connection used after it was released",
            ));
        };
        f(client).map_err(|error| {
            self.broken.store(true, Ordering::Relaxed);
            store_error(&error)
        })
    }

    /// Commits; an error here leaves the outcome unknown.
    pub(super) fn commit(self) -> Result<(), StoreError> {
        if self.broken.load(Ordering::Relaxed) {
            return Err(StoreError::GroupAborted);
        }
        self.run(|c| c.batch_execute("COMMIT"))?;
        self.open.store(false, Ordering::Relaxed);
        Ok(())
    }

    pub(super) fn get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let sql = format!("SELECT v FROM quarry.{table} WHERE k = $1");
        let row = self.run(|c| c.query_typed_opt(&sql, &[(&key, Type::BYTEA)]))?;
        Ok(row.map(|row| row.get(0)))
    }

    /// The values of `keys` (in no particular order) in one statement.
    pub(super) fn get_many(
        &self,
        table: &str,
        keys: &[Vec<u8>],
    ) -> Result<Vec<RawRow>, StoreError> {
        let sql = format!("SELECT k, v FROM quarry.{table} WHERE k = ANY($1)");
        let rows = self.run(|c| c.query_typed(&sql, &[(&keys, Type::BYTEA_ARRAY)]))?;
        Ok(rows
            .into_iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect())
    }

    pub(super) fn insert(&self, table: &str, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO quarry.{table} (k, v) VALUES ($1, $2) \
             ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v"
        );
        self.run(|c| c.execute_typed(&sql, &[(&key, Type::BYTEA), (&value, Type::BYTEA)]))?;
        Ok(())
    }

    /// Inserts many rows in one statement (into a table being filled).
    pub(super) fn insert_many(
        &self,
        table: &str,
        keys: &[Vec<u8>],
        values: &[Vec<u8>],
    ) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO quarry.{table} (k, v) SELECT * FROM unnest($1::bytea[], $2::bytea[])"
        );
        self.run(|c| {
            c.execute_typed(
                &sql,
                &[(&keys, Type::BYTEA_ARRAY), (&values, Type::BYTEA_ARRAY)],
            )
        })?;
        Ok(())
    }

    pub(super) fn remove(&self, table: &str, key: &[u8]) -> Result<bool, StoreError> {
        let sql = format!("DELETE FROM quarry.{table} WHERE k = $1");
        Ok(self.run(|c| c.execute_typed(&sql, &[(&key, Type::BYTEA)]))? > 0)
    }

    pub(super) fn len(&self, table: &str) -> Result<u64, StoreError> {
        let sql = format!("SELECT count(*) FROM quarry.{table}");
        let count: i64 = self.run(|c| c.query_typed_one(&sql, &[]))?.get(0);
        Ok(count.unsigned_abs())
    }

    /// One page of a range: at most `limit` rows between the bounds.
    fn page(
        &self,
        table: &str,
        low: &Bound<Vec<u8>>,
        high: &Bound<Vec<u8>>,
        backwards: bool,
        limit: i64,
    ) -> Result<Vec<RawRow>, StoreError> {
        let mut sql = format!("SELECT k, v FROM quarry.{table} WHERE true");
        let mut params: Vec<(&(dyn ToSql + Sync), Type)> = Vec::new();
        for (bound, included, excluded) in [(low, ">=", ">"), (high, "<=", "<")] {
            let (op, key) = match bound {
                Bound::Included(key) => (included, key),
                Bound::Excluded(key) => (excluded, key),
                Bound::Unbounded => continue,
            };
            params.push((key, Type::BYTEA));
            let _ = write!(sql, " AND k {op} ${}", params.len());
        }
        sql.push_str(if backwards {
            " ORDER BY k DESC"
        } else {
            " ORDER BY k"
        });
        let _ = write!(sql, " LIMIT {limit}");
        let rows = self.run(|c| c.query_typed(&sql, &params))?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if !self.open.load(Ordering::Relaxed) {
            return;
        }
        let Some(mut client) = self
            .client
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        else {
            return;
        };
        // The pool takes the connection back: leave no transaction open. A
        // snapshot may end on the async runtime (a batch's), where the
        // blocking client must not run: roll back on a blocking thread then.
        let mut rollback = move || {
            if let Err(error) = client.batch_execute("ROLLBACK") {
                tracing::debug!(%error, "rolling back a PostgreSQL transaction failed");
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(rollback)),
            Err(_) => rollback(),
        }
    }
}

/// The rows of a range, fetched a page at a time (the connection is free for
/// other reads between pages).
pub(super) struct Pages<'t> {
    conn: &'t Conn,
    table: &'static str,
    low: Bound<Vec<u8>>,
    high: Bound<Vec<u8>>,
    backwards: bool,
    buffer: VecDeque<RawRow>,
    next_limit: i64,
    done: bool,
}

impl<'t> Pages<'t> {
    pub(super) fn new(
        conn: &'t Conn,
        table: &'static str,
        low: Bound<Vec<u8>>,
        high: Bound<Vec<u8>>,
        backwards: bool,
        first_page: i64,
    ) -> Self {
        Self {
            conn,
            table,
            low,
            high,
            backwards,
            buffer: VecDeque::new(),
            next_limit: first_page,
            done: false,
        }
    }
}

impl Iterator for Pages<'_> {
    type Item = Result<RawRow, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buffer.is_empty() && !self.done {
            let limit = self.next_limit;
            self.next_limit = (limit * 4).min(4096);
            match self
                .conn
                .page(self.table, &self.low, &self.high, self.backwards, limit)
            {
                Ok(rows) => {
                    self.done = i64::try_from(rows.len()).unwrap_or(i64::MAX) < limit;
                    if let Some((last, _)) = rows.last() {
                        let after = Bound::Excluded(last.clone());
                        if self.backwards {
                            self.high = after;
                        } else {
                            self.low = after;
                        }
                    }
                    self.buffer.extend(rows);
                }
                Err(error) => {
                    self.done = true;
                    return Some(Err(error));
                }
            }
        }
        self.buffer.pop_front().map(Ok)
    }
}

/// Creates the schema and every table when missing.
pub(super) fn create_tables(conn: &Conn, tables: &[&str]) -> Result<(), StoreError> {
    let mut ddl = String::from("CREATE SCHEMA IF NOT EXISTS quarry;");
    for table in tables {
        let _ = write!(
            ddl,
            "CREATE TABLE IF NOT EXISTS quarry.{table} (k bytea PRIMARY KEY, v bytea NOT NULL);"
        );
    }
    conn.run(|c| c.batch_execute(&ddl))
}

/// Creates a new, empty database on the server of `admin_url` (whose user
/// may create databases), named `<prefix>_<process>_<n>`, and returns its URL:
/// for tests and benchmarks that need a store of their own.
pub fn scratch_database(admin_url: &str, prefix: &str) -> Result<String, StoreError> {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let name = format!(
        "{prefix}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut client =
        postgres::Client::connect(admin_url, NoTls).map_err(|e| StoreError::Unavailable {
            disk_full: false,
            detail: format!("PostgreSQL at {} cannot be reached: {e}", redact(admin_url)),
        })?;
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .map_err(|e| store_error(&e))?;
    let (base, _) = admin_url
        .split_once('?')
        .map_or(admin_url, |(base, _)| base)
        .rsplit_once('/')
        .ok_or(StoreError::Bug("a PostgreSQL URL without a database"))?;
    Ok(format!("{base}/{name}"))
}

/// Empties every table (inside a restore's transaction).
pub(super) fn truncate(conn: &Conn, tables: &[&str]) -> Result<(), StoreError> {
    let list: Vec<String> = tables.iter().map(|t| format!("quarry.{t}")).collect();
    conn.run(|c| c.batch_execute(&format!("TRUNCATE {}", list.join(", "))))
}

/// Whether no Quarry node serves the database (they hold [`NODES_LOCK`]
/// shared); if so, none can start until the transaction ends.
pub(super) fn serving_nodes_stopped(conn: &Conn) -> Result<bool, StoreError> {
    let row = conn.run(|c| {
        c.query_typed_one(
            "SELECT pg_try_advisory_xact_lock($1)",
            &[(&NODES_LOCK, Type::INT8)],
        )
    })?;
    Ok(row.get(0))
}

/// Tells the nodes following the log that it grew to `seq`.
pub(super) fn notify(conn: &Conn, seq: u64) -> Result<(), StoreError> {
    let seq = seq.to_string();
    conn.run(|c| {
        c.execute_typed(
            "SELECT pg_notify($1, $2)",
            &[(&CHANNEL, Type::TEXT), (&seq, Type::TEXT)],
        )
    })?;
    Ok(())
}

/// The follower's connection: listening for commits, and holding
/// [`LEADER_LOCK`] when this node got it.
pub(super) fn listen(backend: &Backend) -> Result<Client, postgres::Error> {
    let mut client = backend.config.connect(NoTls)?;
    client.batch_execute(&format!("LISTEN {CHANNEL}"))?;
    if backend.serving {
        client.batch_execute(&format!("SELECT pg_advisory_lock_shared({NODES_LOCK})"))?;
    }
    try_lead(&mut client, backend)?;
    Ok(client)
}

fn try_lead(client: &mut Client, backend: &Backend) -> Result<(), postgres::Error> {
    if !backend.leader.load(Ordering::Relaxed) {
        let row = client.query_typed_one(
            "SELECT pg_try_advisory_lock($1)",
            &[(&LEADER_LOCK, Type::INT8)],
        )?;
        if row.get::<_, bool>(0) {
            backend.leader.store(true, Ordering::Relaxed);
            tracing::info!("this node runs the cluster's scheduled work");
        }
    }
    Ok(())
}

/// Follows the change log other nodes write, on `client` (from [`listen`])
/// and on new connections after it fails: on every notification, and at least
/// every half second (notifications are lost while disconnected), reads the
/// newest `seq` and hands it to `seen`. Keeps [`LEADER_LOCK`] for this node
/// when it can, and the database's size for the metrics. Runs while
/// `running` is set.
pub(super) fn follow(
    backend: &Backend,
    mut client: Option<Client>,
    running: &AtomicBool,
    seen: &dyn Fn(u64),
) {
    const TICK: Duration = Duration::from_millis(500);
    while running.load(Ordering::Relaxed) {
        let mut connected = match client.take() {
            Some(client) => client,
            None => match listen(backend) {
                Ok(client) => client,
                Err(error) => {
                    tracing::debug!(%error, "the change-log follower cannot connect yet");
                    std::thread::sleep(TICK);
                    continue;
                }
            },
        };
        if let Err(error) = follow_on(&mut connected, backend, running, seen, TICK) {
            tracing::warn!(%error, "the change-log follower lost PostgreSQL; reconnecting");
        }
        drop(connected);
        if backend.leader.swap(false, Ordering::Relaxed) {
            tracing::warn!("this node no longer runs the cluster's scheduled work");
        }
        std::thread::sleep(TICK);
    }
}

fn follow_on(
    client: &mut Client,
    backend: &Backend,
    running: &AtomicBool,
    seen: &dyn Fn(u64),
    tick: Duration,
) -> Result<(), postgres::Error> {
    let mut sized: Option<std::time::Instant> = None;
    while running.load(Ordering::Relaxed) {
        let head =
            client.query_typed_opt("SELECT k FROM quarry.changes ORDER BY k DESC LIMIT 1", &[])?;
        if let Some(seq) = head.and_then(|row| {
            let key: Vec<u8> = row.get(0);
            <u64 as super::kv::KeyColumn>::from_ordered(&key)
        }) {
            seen(seq);
        }
        try_lead(client, backend)?;
        if sized.is_none_or(|at| at.elapsed() >= Duration::from_secs(10)) {
            let size: i64 = client
                .query_typed_one("SELECT pg_database_size(current_database())", &[])?
                .get(0);
            backend.size.store(size.unsigned_abs(), Ordering::Relaxed);
            sized = Some(std::time::Instant::now());
        }
        let mut notifications = client.notifications();
        if notifications.timeout_iter(tick).next()?.is_some() {
            // Several commits may have notified: one read covers them all.
            let mut pending = notifications.iter();
            while pending.next()?.is_some() {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_asking_for_tls_is_refused_with_the_reason() {
        let Err(error) = Backend::connect("postgres://q@127.0.0.1:1/db?sslmode=require", 2) else {
            panic!("an unencrypted connection was opened where TLS was required");
        };
        assert!(error.to_string().contains("sslmode=require"), "{error}");
    }

    #[test]
    fn a_url_is_shown_without_its_password() {
        let config: postgres::Config =
            "postgres://quarry:s3cret@db1:5432,db2:5433/shop?target_session_attrs=read-write"
                .parse()
                .unwrap();
        assert_eq!(
            describe(&config),
            "postgres://quarry@db1:5432,db2:5433/shop"
        );
        assert_eq!(
            redact("postgres://quarry:s3cret@db1/shop?x"),
            "postgres://quarry:…@db1/shop?x"
        );
        assert!(!redact("postgres://quarry:s3cret@db1/shop").contains("s3cret"));
    }
}
