//! The store: Quarry's single source of truth, one redb file in the data dir.
//!
//! Reads take a [`ReadTx`] (an MVCC snapshot that never waits for writers). Writes
//! run in a [`WriteTx`], through the [`Writer`] task in the server or
//! [`Store::write`] from the command line; every write transaction appends to the
//! change log (see [`changes`]). No module outside `store/` touches redb.
//!
//! `open.rs` opens the file (creating or migrating its tables) and gets it back
//! after an I/O error; `transactions.rs` begins and commits transactions and
//! holds the reads both kinds share; `check.rs` verifies and compacts the file
//! of a stopped server.

/// The byte-range lock methods of a [`redb::StorageBackend`] that wraps
/// another one in `$field`: the file's locks are the file's.
macro_rules! delegate_locks {
    ($field:ident) => {
        fn try_lock_range(
            &self,
            start: std::ops::Bound<u64>,
            end: std::ops::Bound<u64>,
        ) -> Result<bool, redb::BackendError> {
            self.$field.try_lock_range(start, end)
        }

        fn try_lock_shared_range(
            &self,
            start: std::ops::Bound<u64>,
            end: std::ops::Bound<u64>,
        ) -> Result<bool, redb::BackendError> {
            self.$field.try_lock_shared_range(start, end)
        }

        fn lock_range(
            &self,
            start: std::ops::Bound<u64>,
            end: std::ops::Bound<u64>,
        ) -> Result<(), redb::BackendError> {
            self.$field.lock_range(start, end)
        }

        fn lock_shared_range(
            &self,
            start: std::ops::Bound<u64>,
            end: std::ops::Bound<u64>,
        ) -> Result<(), redb::BackendError> {
            self.$field.lock_shared_range(start, end)
        }

        fn unlock_range(
            &self,
            start: std::ops::Bound<u64>,
            end: std::ops::Bound<u64>,
        ) -> Result<(), redb::BackendError> {
            self.$field.unlock_range(start, end)
        }

        fn query_lock_range(
            &self,
            start: std::ops::Bound<u64>,
            end: std::ops::Bound<u64>,
        ) -> Result<bool, redb::BackendError> {
            self.$field.query_lock_range(start, end)
        }
    };
}
use delegate_locks;

mod accounts;
pub mod backup;
mod catalogue;
pub mod changes;
mod check;
#[cfg(test)]
mod conformance;
mod customers;
mod delivery;
pub mod faults;
mod images;
pub mod journal;
mod kv;
mod ledger;
pub mod mail;
pub mod migrate;
mod open;
mod overlay;
pub mod payloads;
mod pg;
mod quotes;
pub mod tables;
mod transactions;
mod webhooks;
mod writer;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

pub use catalogue::{Page, ProductCursor, ProductQuery};
pub use changes::{Change, ChangeKind};
pub use check::{CheckReport, check, check_store, check_with, compact};
pub use ledger::{LevelQuery, MovementQuery, Remembered};
pub use pg::{redact as redact_url, scratch_database};
pub use quotes::quote_key;
pub use writer::{CHECKPOINT_BUCKETS, GROUP_SIZE_BUCKETS, Session, Writer, WriterStats};

use check::compact_database;
use open::{Handle, Trouble};
use transactions::{decode, get_json};

/// The name of the database file inside the data dir.
pub const DB_FILE: &str = "quarry.redb";

/// With PostgreSQL as the store: the file in the data dir a node locks.
pub const NODE_LOCK: &str = "node.lock";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the data file {path} is in use by another Quarry process (is `quarry serve` running on \
         this data dir?); stop it first, or make the change through the HTTP API"
    )]
    InUse { path: PathBuf },
    #[error(
        "the data file {path} was written by a newer Quarry (schema version {found}, this binary \
         knows up to {supported}); run a newer Quarry on it"
    )]
    SchemaTooNew {
        path: PathBuf,
        found: u64,
        supported: u64,
    },
    #[error("cannot use data dir {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("corrupt record in table `{table}` at key {key:?}: {reason}")]
    Corrupt {
        table: &'static str,
        key: String,
        reason: String,
    },
    #[error("database error: {0}")]
    Database(redb::Error),
    /// PostgreSQL refused a statement for a reason that does not pass.
    #[error("{detail}{}", if location.is_empty() { String::new() } else { format!(" ({location})") })]
    Backend { location: String, detail: String },
    /// The disk did not answer a read, write or sync (or is full): the
    /// request was not carried out; the store reopens the file when the disk
    /// works again.
    #[error("{}", unavailable_message(*disk_full, detail))]
    Unavailable { disk_full: bool, detail: String },
    #[error("the write was not committed: {0}")]
    CommitFailed(Arc<StoreError>),
    #[error("the write was not applied because another write in the same commit failed; retry it")]
    GroupAborted,
    #[error("the store is shutting down")]
    WriterStopped,
    #[error("internal error: {0}")]
    Bug(&'static str),
}

fn unavailable_message(disk_full: bool, detail: &str) -> String {
    if disk_full {
        format!(
            "the disk holding the data file is full ({detail}): nothing more can be saved until \
             space is freed"
        )
    } else if detail.starts_with("PostgreSQL") {
        format!(
            "the store's database could not be used ({detail}); Quarry tries again as soon as it answers"
        )
    } else {
        format!(
            "the data file could not be read or written ({detail}); Quarry opens it again as soon \
             as the disk answers"
        )
    }
}

impl StoreError {
    /// A file in the data dir the disk would not read or write (an upload
    /// being staged, say): unavailable like the store's own file, with a full
    /// disk told apart, so it answers 503 `disk_full` and never 500.
    pub fn disk(what: &str, error: &io::Error) -> Self {
        StoreError::Unavailable {
            disk_full: is_disk_full(error),
            detail: format!("{what}: {error}"),
        }
    }
}

fn is_disk_full(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    )
}

impl From<redb::Error> for StoreError {
    /// I/O errors (and redb's refusal to go on after one) make the store
    /// unavailable, not broken: they are the disk's, and they pass.
    fn from(error: redb::Error) -> Self {
        match error {
            redb::Error::Io(error) => StoreError::Unavailable {
                disk_full: is_disk_full(&error),
                detail: error.to_string(),
            },
            redb::Error::PreviousIo => StoreError::Unavailable {
                disk_full: false,
                detail: "an earlier I/O error has not been recovered from yet".to_owned(),
            },
            redb::Error::DatabaseClosed => StoreError::Unavailable {
                disk_full: false,
                detail: "the data file is being reopened".to_owned(),
            },
            other => StoreError::Database(other),
        }
    }
}

macro_rules! from_redb {
    ($($error:ty),*) => {$(
        impl From<$error> for StoreError {
            fn from(error: $error) -> Self {
                redb::Error::from(error).into()
            }
        }
    )*};
}
from_redb!(
    redb::StorageError,
    redb::TableError,
    redb::TransactionError,
    redb::CommitError,
    redb::DatabaseError
);

/// A handle on the open database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    shared: Arc<Shared>,
}

struct Shared {
    path: PathBuf,
    data_dir: PathBuf,
    /// The open database. After an I/O error redb refuses to go on with it,
    /// so it is replaced by a freshly opened one ([`Store::recover`]).
    db: RwLock<Handle>,
    options: Options,
    /// The I/O error the store has not recovered from yet.
    trouble: Mutex<Option<Trouble>>,
    /// Set while [`Store::recover`] has the file closed to open it again:
    /// a read then waits for it rather than failing.
    reopening: std::sync::atomic::AtomicBool,
    /// The PostgreSQL database holding the store, instead of the file.
    pg: Option<Arc<pg::Backend>>,
    /// The embedded store's journal (none with PostgreSQL, or while the
    /// file is open read-only).
    journal: Option<Arc<Mutex<journal::Journal>>>,
    /// With PostgreSQL: the lock on `node.lock` that keeps a second process
    /// off this node's data dir (its search index) while this one runs.
    #[expect(dead_code, reason = "held for its lock, released when the store goes")]
    node_lock: Option<std::fs::File>,
    /// Raised after every commit that wrote to a table a credential is
    /// checked against (tokens, users), and whenever the file is opened
    /// again: what was read from them before is no longer known to hold.
    accounts_epoch: Arc<std::sync::atomic::AtomicU64>,
}

/// How the data file is opened.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The most memory redb's page cache may take; unset: redb's default.
    pub cache_bytes: Option<usize>,
    /// Set by the fault tests: every file operation passes through it.
    pub faults: Option<faults::Faults>,
    /// A `postgres://` URL: the store lives in that database, and the data
    /// dir keeps only this node's own files.
    pub url: Option<String>,
    /// The most connections to PostgreSQL this process opens.
    pub pool_size: u32,
    /// With PostgreSQL: lock the data dir for this process, as a server (or
    /// a rebuild of its search index) needs; commands that only use the
    /// database run beside a server.
    pub lock_node: bool,
    /// When the embedded store's journal is checkpointed into the data file.
    pub checkpoints: journal::Checkpoints,
}

impl Drop for Shared {
    /// A command that wrote through the journal leaves the data file
    /// checkpointed (a server does so when its writer stops).
    fn drop(&mut self) {
        let Some(journal) = &self.journal else {
            return;
        };
        let mut journal = journal.lock().unwrap_or_else(PoisonError::into_inner);
        if !journal.holds_entries() {
            return;
        }
        let Handle::Writable(db) = &*self.db.read().unwrap_or_else(PoisonError::into_inner) else {
            return;
        };
        let done = db
            .begin_write()
            .map_err(StoreError::from)
            .and_then(|txn| open::checkpoint_into(txn, &mut journal));
        if let Err(error) = done {
            tracing::warn!(%error, "the journal could not be checkpointed on closing; it is replayed on the next start");
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.shared.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Passes a file operation in the data dir through the fault plan of the
    /// I/O fault tests (nothing without one).
    pub fn check_fault(&self, op: faults::Op) -> io::Result<()> {
        match &self.shared.options.faults {
            Some(faults) => faults.check(op),
            None => Ok(()),
        }
    }

    /// The bytes free on the disk holding the data dir.
    pub fn free_space(&self) -> io::Result<u64> {
        if let Some(free) = self
            .shared
            .options
            .faults
            .as_ref()
            .and_then(faults::Faults::free)
        {
            return Ok(free);
        }
        fs4::available_space(&self.shared.data_dir)
    }

    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// Whether this node runs the work that must happen once in the whole
    /// deployment (quote expiry, the session sweep, scheduled backups):
    /// always with the data file; with PostgreSQL, the one node holding the
    /// leader lock.
    pub fn leads(&self) -> bool {
        self.shared
            .pg
            .as_ref()
            .is_none_or(|pg| pg.leader.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Whether writes go through the journal (the embedded store).
    pub fn has_journal(&self) -> bool {
        self.shared.journal.is_some()
    }

    /// Whether the store lives in PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.shared.pg.is_some()
    }

    /// The embedded store's count of commits that changed tokens or users
    /// (see `Shared::accounts_epoch`): a credential checked while it had a
    /// value may be trusted again while it still has it. `None` with
    /// PostgreSQL, where other nodes change them too: check every time.
    pub fn accounts_epoch(&self) -> Option<u64> {
        (!self.is_postgres()).then(|| {
            self.shared
                .accounts_epoch
                .load(std::sync::atomic::Ordering::SeqCst)
        })
    }

    /// Closes the file `old` held, to open it again: credentials read
    /// before are checked again (the accounts epoch is raised).
    fn closed(&self, old: Handle) {
        drop(old);
        self.shared
            .accounts_epoch
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// With PostgreSQL: a thread that, until `following` is cleared, tells
    /// `committed` of every commit any node makes (see [`pg::follow`]). It
    /// holds the database, not the store, so a stopped server frees the data
    /// dir at once.
    pub(super) fn start_follower(
        &self,
        following: Arc<std::sync::atomic::AtomicBool>,
        committed: Arc<tokio::sync::watch::Sender<u64>>,
    ) -> io::Result<Option<std::thread::JoinHandle<()>>> {
        let Some(pg) = self.shared.pg.clone() else {
            return Ok(None);
        };
        // The first contact is made before the server serves, so that the
        // node that will lead knows it from the start.
        let client = pg::listen(&pg)
            .inspect_err(
                |error| tracing::warn!(%error, "the change-log follower cannot connect yet"),
            )
            .ok();
        std::thread::Builder::new()
            .name("quarry-follower".into())
            .spawn(move || {
                pg::follow(&pg, client, &following, &|seq| {
                    committed.send_if_modified(|last| {
                        let moved = seq > *last;
                        *last = (*last).max(seq);
                        moved
                    });
                });
            })
            .map(Some)
    }

    /// Size of the database file in bytes (with PostgreSQL, of the database,
    /// read every 10 seconds).
    pub fn file_size(&self) -> u64 {
        if let Some(pg) = &self.shared.pg {
            return pg.size.load(std::sync::atomic::Ordering::Relaxed);
        }
        std::fs::metadata(&self.shared.path).map_or(0, |m| m.len())
    }
}

/// A read-only snapshot of the store.
pub struct ReadTx {
    txn: ReadTxn,
}

enum ReadTxn {
    Redb(redb::ReadTransaction),
    Pg(Box<pg::Conn>),
}

enum WriteTxn {
    Redb(Box<redb::WriteTransaction>),
    Pg(Box<pg::Conn>),
}

/// A write transaction. Use cases must check everything before they write
/// anything: several requests share one transaction (group commit), and a
/// request that fails after writing fails its whole group.
pub struct WriteTx {
    txn: WriteTxn,
    last_seq: u64,
    /// Mutations so far (records and change-log entries): tells a clean failure
    /// from one that left writes behind.
    writes: u64,
    /// Change-log entries appended so far.
    changes: u64,
    /// Movements appended so far (counted once the transaction commits).
    movements: u64,
    /// Bookkeeping writes: browser sessions (sign-in state, not business
    /// state: sign-ins and sign-outs are logged as `auth.*`, a session's last
    /// use and its sweeping are not) and where webhook delivery stands (it
    /// follows the log; logging it would feed the log to itself). They need
    /// no change-log entry of their own.
    bookkeeping_writes: u64,
    /// The id and time of the newest movement, once looked up.
    movement_tail: Option<(u64, jiff::Timestamp)>,
    /// The address of the client whose request is running, for the change log.
    ip: Option<String>,
    /// With the journal: the inserts and removes made so far, and the
    /// journal they go to at commit.
    ops: Option<(
        std::cell::RefCell<journal::Ops>,
        Arc<Mutex<journal::Journal>>,
    )>,
    /// Set once the transaction opens a table credentials are checked
    /// against; its commit then raises the store's accounts epoch.
    accounts_touched: std::cell::Cell<bool>,
    accounts_epoch: Arc<std::sync::atomic::AtomicU64>,
}

/// Records for the store's unit tests.
#[cfg(test)]
mod test_records {
    use super::{ChangeKind, Store, StoreError, payloads};
    use crate::domain::accounts::Actor;
    use crate::domain::catalogue::{Product, ProductInput};

    pub(super) fn product(sku: &str, category: &str, barcode: Option<&str>) -> Product {
        let input: ProductInput = serde_json::from_value(serde_json::json!({
            "sku": sku, "name": "Thing", "category": category, "unit": "pc",
            "price": "1", "barcode": barcode,
        }))
        .unwrap();
        Product::create(input.sku.clone().unwrap(), input, jiff::Timestamp::now())
    }

    pub(super) fn save(store: &Store, p: &Product) {
        store
            .write(|tx| -> Result<(), StoreError> {
                tx.put_product(p)?;
                tx.record(
                    ChangeKind::ProductCreated,
                    p.sku.as_str(),
                    &Actor::cli(),
                    &payloads::ProductChanged {
                        version: p.version,
                        active: p.active,
                        changes: Vec::new(),
                    },
                )?;
                Ok(())
            })
            .unwrap();
    }
}
