//! The store: Quarry's single source of truth, one redb file in the data dir.
//!
//! Reads take a [`ReadTx`] (an MVCC snapshot that never waits for writers). Writes
//! run in a [`WriteTx`], through the [`Writer`] task in the server or
//! [`Store::write`] from the command line; every write transaction appends to the
//! change log (see [`changes`]). No module outside `store/` touches redb.

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
pub mod faults;
mod ledger;
mod overlay;
pub mod payloads;
mod quotes;
pub mod tables;
mod writer;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use redb::{
    Database, ReadOnlyTable, ReadableDatabase, ReadableTable, ReadableTableMetadata,
    TableDefinition,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use catalogue::{Page, ProductCursor, ProductQuery};
pub use changes::{Change, ChangeKind};
pub use ledger::{LevelQuery, MovementQuery, Remembered};
pub use quotes::quote_key;
pub use writer::{GROUP_SIZE_BUCKETS, Session, Writer, WriterStats};

use crate::domain::accounts::Actor;
use tables::{
    CHANGES, IDEMPOTENCY, LEVELS, LOCATIONS, META, MOVEMENTS, MOVEMENTS_BY_LOCATION,
    MOVEMENTS_BY_REFERENCE, MOVEMENTS_BY_SKU, OPEN_QUOTES, PRODUCTS, PRODUCTS_BY_BARCODE,
    PRODUCTS_BY_CATEGORY, QUOTES, QUOTES_BY_LINK, REVERSALS, SCHEMA_VERSION, SCHEMA_VERSION_KEY,
    SESSIONS, SESSIONS_BY_USER, TOKENS, TOKENS_BY_HASH, USERS,
};

/// The name of the database file inside the data dir.
pub const DB_FILE: &str = "quarry.redb";

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
}

/// The database the store works with.
enum Handle {
    Writable(Arc<Database>),
    /// The file opened read-only through an [`overlay::OverlayBackend`],
    /// while the disk refuses writes.
    ReadOnly(Arc<Database>),
    /// Between closing a broken database and opening it again.
    Closed,
}

/// How the data file is opened.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The most memory redb's page cache may take; unset: redb's default.
    pub cache_bytes: Option<usize>,
    /// Set by the fault tests: every file operation passes through it.
    pub faults: Option<faults::Faults>,
}

/// What went wrong, and when the store last tried to reopen the file.
struct Trouble {
    disk_full: bool,
    detail: String,
    tried: Option<Instant>,
}

/// How often a broken store tries to reopen its file.
const RECOVERY_INTERVAL: Duration = Duration::from_millis(100);

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.shared.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the store in `data_dir`, creating the directory, the file and its
    /// tables on first use, and refusing a file from a newer Quarry.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        Self::open_with(data_dir, Options::default())
    }

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

    /// [`Store::open`] with a cache size, or with every file operation going
    /// through [`faults::Faults`] (for the I/O fault tests).
    pub fn open_with(data_dir: &Path, options: Options) -> Result<Self, StoreError> {
        let path = data_dir.join(DB_FILE);
        let db = open_database(data_dir, &path, &options)?;
        let store = Self {
            shared: Arc::new(Shared {
                path,
                data_dir: data_dir.to_owned(),
                db: RwLock::new(Handle::Writable(Arc::new(db))),
                options,
                trouble: Mutex::new(None),
            }),
        };
        store.initialise()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// Size of the database file in bytes.
    pub fn file_size(&self) -> u64 {
        std::fs::metadata(&self.shared.path).map_or(0, |m| m.len())
    }

    fn initialise(&self) -> Result<(), StoreError> {
        let mut tx = self.begin_write()?;
        let found = tx.table(META)?.get(SCHEMA_VERSION_KEY)?.map(|v| v.value());
        match found {
            Some(found) if found > SCHEMA_VERSION => {
                tx.abort();
                Err(StoreError::SchemaTooNew {
                    path: self.shared.path.clone(),
                    found,
                    supported: SCHEMA_VERSION,
                })
            }
            Some(SCHEMA_VERSION) => {
                tx.abort();
                Ok(())
            }
            Some(older) => {
                // Every change so far only added tables.
                create_tables(&tx)?;
                tx.writes += 1;
                tx.table(META)?.insert(SCHEMA_VERSION_KEY, SCHEMA_VERSION)?;
                tx.record(
                    ChangeKind::StoreMigrated,
                    "",
                    &Actor::system(),
                    &payloads::StoreMigrated {
                        from: older,
                        to: SCHEMA_VERSION,
                    },
                )?;
                tx.commit()
            }
            None => {
                create_tables(&tx)?;
                tx.writes += 1;
                tx.table(META)?.insert(SCHEMA_VERSION_KEY, SCHEMA_VERSION)?;
                tx.note(ChangeKind::StoreCreated, "", &Actor::system())?;
                tx.commit()
            }
        }
    }

    fn handle(&self) -> std::sync::RwLockReadGuard<'_, Handle> {
        self.shared
            .db
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The open database, or why there is none.
    fn database(&self) -> Result<Arc<Database>, StoreError> {
        match &*self.handle() {
            Handle::Writable(db) | Handle::ReadOnly(db) => Ok(db.clone()),
            Handle::Closed => Err(self.unavailable()),
        }
    }

    /// Whether the file is open read-only while the disk refuses writes.
    fn read_only(&self) -> bool {
        matches!(*self.handle(), Handle::ReadOnly(_))
    }

    /// The error for a request the broken store cannot carry out.
    fn unavailable(&self) -> StoreError {
        let trouble = self.trouble();
        match trouble.as_ref() {
            Some(t) => StoreError::Unavailable {
                disk_full: t.disk_full,
                detail: t.detail.clone(),
            },
            None => StoreError::Unavailable {
                disk_full: false,
                detail: "the data file is being reopened".to_owned(),
            },
        }
    }

    fn trouble(&self) -> std::sync::MutexGuard<'_, Option<Trouble>> {
        self.shared
            .trouble
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Remembers an I/O error (the first one, which says what happened, e.g.
    /// that the disk is full) until the store has recovered from it; returns
    /// whether `error` was one.
    pub fn note_trouble(&self, error: &StoreError) -> bool {
        let error = match error {
            StoreError::CommitFailed(inner) => inner.as_ref(),
            other => other,
        };
        if let StoreError::Unavailable { disk_full, detail } = error {
            let mut trouble = self.trouble();
            if trouble.is_none() {
                tracing::error!(%error, "the store hit an I/O error; it reopens the file once the disk works");
                *trouble = Some(Trouble {
                    disk_full: *disk_full,
                    detail: detail.clone(),
                    tried: None,
                });
            }
            return true;
        }
        false
    }

    /// Whether the store is recovering from an I/O error.
    pub fn troubled(&self) -> bool {
        self.trouble().is_some()
    }

    /// After an I/O error, at most every [`RECOVERY_INTERVAL`]: closes the
    /// database redb has given up on and opens the file again (redb checks
    /// and repairs it on opening). If the disk takes a small durable write,
    /// the store works again; if not, the file is opened read-only through an
    /// [`overlay::OverlayBackend`] so every committed record can still be
    /// read, and writes stay refused until a later try finds the disk well.
    /// Only the writer calls this, never inside a write transaction.
    pub(crate) fn recover(&self) -> Result<(), StoreError> {
        let writable = {
            let mut trouble = self.trouble();
            let trouble = trouble.get_or_insert_with(|| Trouble {
                disk_full: false,
                detail: "an earlier I/O error".to_owned(),
                tried: None,
            });
            if trouble
                .tried
                .is_some_and(|at| at.elapsed() < RECOVERY_INTERVAL)
            {
                return Err(StoreError::Unavailable {
                    disk_full: trouble.disk_full,
                    detail: trouble.detail.clone(),
                });
            }
            trouble.tried = Some(Instant::now());
            match self.probe() {
                Ok(()) => true,
                Err(error) => {
                    trouble.disk_full = is_disk_full(&error);
                    trouble.detail = error.to_string();
                    false
                }
            }
        };
        if !writable && self.read_only() {
            return Err(self.unavailable());
        }
        // Closes the file (readers hold the handle only while they begin).
        let old = std::mem::replace(
            &mut *self
                .shared
                .db
                .write()
                .unwrap_or_else(PoisonError::into_inner),
            Handle::Closed,
        );
        drop(old);
        let deadline = Instant::now() + Duration::from_secs(2);
        let opened = loop {
            let options = &self.shared.options;
            let attempt = if writable {
                open_database(&self.shared.data_dir, &self.shared.path, options)
            } else {
                open_read_only(&self.shared.path, options)
            };
            match attempt {
                Err(StoreError::InUse { .. }) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                other => break other,
            }
        };
        let db = match opened {
            Ok(db) => db,
            Err(error) => {
                tracing::warn!(%error, "the data file cannot be opened again yet");
                if let StoreError::Unavailable { disk_full, detail } = &error
                    && let Some(trouble) = self.trouble().as_mut()
                {
                    trouble.disk_full = *disk_full;
                    trouble.detail.clone_from(detail);
                }
                return Err(self.unavailable());
            }
        };
        let db = Arc::new(db);
        *self
            .shared
            .db
            .write()
            .unwrap_or_else(PoisonError::into_inner) = if writable {
            Handle::Writable(db)
        } else {
            Handle::ReadOnly(db)
        };
        if writable {
            *self.trouble() = None;
            tracing::warn!("the data file was opened again after an I/O error; the store works");
            Ok(())
        } else {
            let error = self.unavailable();
            tracing::warn!(%error, "the disk refuses writes: serving reads only until it takes them again");
            Err(error)
        }
    }

    /// Whether the disk takes a small durable write in the data dir.
    fn probe(&self) -> io::Result<()> {
        use std::io::Write as _;
        let path = self.shared.data_dir.join(".quarry-probe");
        let mut file = std::fs::File::create(&path)?;
        self.check_fault(faults::Op::Write)?;
        file.write_all(&[0; 4096])?;
        self.check_fault(faults::Op::Sync)?;
        file.sync_data()?;
        drop(file);
        std::fs::remove_file(&path)
    }

    /// For the writer, while the store is troubled: checks whether redb still
    /// works with the open database (an I/O error on a read leaves it refusing
    /// everything but what its cache holds) and reopens it if not.
    pub(crate) fn heal(&self) {
        if let Ok(txn) = self.begin_redb_write() {
            let _ = txn.abort();
            *self.trouble() = None;
        }
    }

    /// A consistent snapshot for reading. After an I/O error redb refuses
    /// new snapshots until the file is opened again, so a refusal here marks
    /// the store for recovery (the writer's housekeeping then reopens it),
    /// whoever was reading.
    pub fn read(&self) -> Result<ReadTx, StoreError> {
        let txn = self
            .database()
            .and_then(|db| db.begin_read().map_err(StoreError::from));
        match txn {
            Ok(txn) => Ok(ReadTx { txn }),
            Err(error) => {
                self.note_trouble(&error);
                Err(error)
            }
        }
    }

    /// Runs `f` in one write transaction and commits it durably if `f` succeeds.
    /// For the command line; the server writes through its [`Writer`].
    pub fn write<T, E>(&self, f: impl FnOnce(&mut WriteTx) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let mut tx = self.begin_write()?;
        match f(&mut tx) {
            Ok(value) => {
                tx.commit()?;
                Ok(value)
            }
            Err(error) => {
                tx.abort();
                Err(error)
            }
        }
    }

    /// Begins a redb write transaction; a store broken by an I/O error first
    /// tries to recover, and so does one whose database fails to begin it.
    fn begin_redb_write(&self) -> Result<redb::WriteTransaction, StoreError> {
        if self.read_only() {
            self.recover()?;
        }
        let db = if let Ok(db) = self.database() {
            db
        } else {
            self.recover()?;
            self.database()?
        };
        match db.begin_write() {
            Ok(txn) => Ok(txn),
            Err(error) => {
                let error = StoreError::from(error);
                if !matches!(error, StoreError::Unavailable { .. }) {
                    return Err(error);
                }
                self.note_trouble(&error);
                // This handle must go before the file can be opened again.
                drop(db);
                self.recover()?;
                Ok(self.database()?.begin_write()?)
            }
        }
    }

    /// Begins a write transaction (see [`Self::begin_redb_write`]).
    fn begin_write(&self) -> Result<WriteTx, StoreError> {
        let txn = self.begin_redb_write()?;
        let last_seq = txn
            .open_table(CHANGES)?
            .last()?
            .map_or(0, |(seq, _)| seq.value());
        Ok(WriteTx {
            txn,
            last_seq,
            writes: 0,
            session_writes: 0,
            changes: 0,
            movements: 0,
            movement_tail: None,
            ip: None,
        })
    }
}

fn open_database(data_dir: &Path, path: &Path, options: &Options) -> Result<Database, StoreError> {
    let fresh = !data_dir.exists();
    std::fs::create_dir_all(data_dir).map_err(|source| StoreError::Io {
        path: data_dir.to_owned(),
        source,
    })?;
    // The data file holds password hashes: a new data dir is its owner's alone.
    #[cfg(unix)]
    if fresh {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700)).map_err(
            |source| StoreError::Io {
                path: data_dir.to_owned(),
                source,
            },
        )?;
    }
    let opened = match &options.faults {
        None => builder(options).create(path),
        Some(faults) => std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(redb::DatabaseError::from)
            .and_then(redb::backends::FileBackend::new)
            .and_then(|file| {
                builder(options)
                    .create_with_backend(faults::FaultyBackend::new(file, faults.clone()))
            }),
    };
    opened.map_err(|error| match error {
        redb::DatabaseError::DatabaseAlreadyOpen => StoreError::InUse {
            path: path.to_owned(),
        },
        other => other.into(),
    })
}

fn builder(options: &Options) -> redb::Builder {
    let mut builder = Database::builder();
    if let Some(bytes) = options.cache_bytes {
        builder.set_cache_size(bytes);
    }
    builder
}

/// Opens the data file so that nothing is written to it: see
/// [`overlay::OverlayBackend`].
fn open_read_only(path: &Path, options: &Options) -> Result<Database, StoreError> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(redb::DatabaseError::from)
        .and_then(redb::backends::FileBackend::new)?;
    let builder = builder(options);
    let opened = match &options.faults {
        None => overlay::OverlayBackend::new(file)
            .map_err(redb::DatabaseError::from)
            .and_then(|backend| builder.create_with_backend(backend)),
        Some(faults) => {
            overlay::OverlayBackend::new(faults::FaultyBackend::new(file, faults.clone()))
                .map_err(redb::DatabaseError::from)
                .and_then(|backend| builder.create_with_backend(backend))
        }
    };
    opened.map_err(|error| match error {
        redb::DatabaseError::DatabaseAlreadyOpen => StoreError::InUse {
            path: path.to_owned(),
        },
        other => other.into(),
    })
}

fn create_tables(tx: &WriteTx) -> Result<(), StoreError> {
    tx.table(META)?;
    tx.table(CHANGES)?;
    tx.table(PRODUCTS)?;
    tx.table(PRODUCTS_BY_BARCODE)?;
    tx.txn.open_table(PRODUCTS_BY_CATEGORY)?;
    tx.table(LOCATIONS)?;
    tx.table(USERS)?;
    tx.table(TOKENS)?;
    tx.table(TOKENS_BY_HASH)?;
    tx.table(MOVEMENTS)?;
    tx.txn.open_table(MOVEMENTS_BY_SKU)?;
    tx.txn.open_table(MOVEMENTS_BY_LOCATION)?;
    tx.txn.open_table(MOVEMENTS_BY_REFERENCE)?;
    tx.table(REVERSALS)?;
    tx.table(LEVELS)?;
    tx.table(IDEMPOTENCY)?;
    tx.txn.open_table(QUOTES)?;
    tx.txn.open_table(QUOTES_BY_LINK)?;
    tx.txn.open_table(OPEN_QUOTES)?;
    tx.table(SESSIONS)?;
    tx.txn.open_table(SESSIONS_BY_USER)?;
    Ok(())
}

/// Compacts the data file in `data_dir` to reclaim the space of deleted and
/// superseded pages; the server must be stopped. Returns the file's size in
/// bytes before and after.
pub fn compact(data_dir: &Path) -> Result<(u64, u64), StoreError> {
    let path = data_dir.join(DB_FILE);
    let size = |path: &Path| std::fs::metadata(path).map_or(0, |m| m.len());
    if !path.exists() {
        return Err(StoreError::Io {
            path,
            source: io::Error::new(io::ErrorKind::NotFound, "no Quarry data file here"),
        });
    }
    let before = size(&path);
    let mut db = open_database(data_dir, &path, &Options::default())?;
    compact_database(&mut db)?;
    drop(db);
    Ok((before, size(&path)))
}

/// Compacts until redb finds nothing more to reclaim.
fn compact_database(db: &mut Database) -> Result<(), StoreError> {
    // Each pass may free pages the next one can move; a few passes suffice.
    for _ in 0..8 {
        if !db.compact().map_err(|e| StoreError::Database(e.into()))? {
            break;
        }
    }
    Ok(())
}

/// What `quarry check` found.
#[derive(Debug, Default)]
pub struct CheckReport {
    pub problems: Vec<String>,
    pub schema_version: u64,
    pub last_seq: u64,
    pub products: u64,
    pub locations: u64,
    pub users: u64,
    pub tokens: u64,
    pub movements: u64,
}

/// Verifies the store in `data_dir` without changing it: redb's own integrity
/// check, the schema version, a gap-free change log and consistent indexes.
pub fn check(data_dir: &Path) -> Result<CheckReport, StoreError> {
    let path = data_dir.join(DB_FILE);
    if !path.exists() {
        return Err(StoreError::Io {
            path,
            source: io::Error::new(io::ErrorKind::NotFound, "no Quarry data file here"),
        });
    }
    let mut db = open_database(data_dir, &path, &Options::default())?;
    let mut report = CheckReport::default();
    match db.check_integrity() {
        Ok(true) => {}
        Ok(false) => report
            .problems
            .push("redb integrity check failed; the file was repaired".into()),
        Err(error) => report
            .problems
            .push(format!("redb integrity check failed: {error}")),
    }
    let tx = ReadTx {
        txn: db.begin_read()?,
    };
    let version = tx.table(META)?.get(SCHEMA_VERSION_KEY)?.map(|v| v.value());
    match version {
        None => report.problems.push("no schema version recorded".into()),
        Some(v) if v > SCHEMA_VERSION => {
            return Err(StoreError::SchemaTooNew {
                path,
                found: v,
                supported: SCHEMA_VERSION,
            });
        }
        Some(v) => report.schema_version = v,
    }
    report.last_seq = tx.last_seq()?;
    if let Some(gap) = tx.find_change_log_gap()? {
        report.problems.push(format!("change log: {gap}"));
    }
    report.problems.extend(tx.check_catalogue_indexes()?);
    report.problems.extend(tx.check_token_index()?);
    report.problems.extend(tx.check_levels()?);
    report.movements = tx.movement_count()?;
    report.products = tx.table(PRODUCTS)?.len()?;
    report.locations = tx.table(LOCATIONS)?.len()?;
    report.users = tx.table(USERS)?.len()?;
    report.tokens = tx.table(TOKENS)?.len()?;
    Ok(report)
}

/// A read-only snapshot of the store.
pub struct ReadTx {
    txn: redb::ReadTransaction,
}

impl ReadTx {
    fn table<K: redb::Key + 'static, V: redb::Value + 'static>(
        &self,
        definition: TableDefinition<K, V>,
    ) -> Result<ReadOnlyTable<K, V>, StoreError> {
        Ok(self.txn.open_table(definition)?)
    }
}

/// A write transaction. Use cases must check everything before they write
/// anything: several requests share one transaction (group commit), and a
/// request that fails after writing fails its whole group.
pub struct WriteTx {
    txn: redb::WriteTransaction,
    last_seq: u64,
    /// Mutations so far (records and change-log entries): tells a clean failure
    /// from one that left writes behind.
    writes: u64,
    /// Change-log entries appended so far.
    changes: u64,
    /// Movements appended so far (counted once the transaction commits).
    movements: u64,
    /// Writes to browser sessions: sign-in state, not business state, so they
    /// need no change-log entry of their own (sign-ins and sign-outs are
    /// logged as `auth.*`; a session's last use and its sweeping are not).
    session_writes: u64,
    /// The id and time of the newest movement, once looked up.
    movement_tail: Option<(u64, jiff::Timestamp)>,
    /// The address of the client whose request is running, for the change log.
    ip: Option<String>,
}

impl WriteTx {
    fn table<K: redb::Key + 'static, V: redb::Value + 'static>(
        &self,
        definition: TableDefinition<K, V>,
    ) -> Result<redb::Table<'_, K, V>, StoreError> {
        Ok(self.txn.open_table(definition)?)
    }

    /// How many records this transaction has written so far.
    pub fn writes(&self) -> u64 {
        self.writes
    }

    /// The address of the client whose request this transaction serves.
    pub fn client(&self) -> Option<&str> {
        self.ip.as_deref()
    }

    /// Sets the client address recorded with the changes that follow.
    pub fn set_client(&mut self, ip: Option<String>) {
        self.ip = ip;
    }

    fn put_json<T: Serialize>(
        &mut self,
        definition: TableDefinition<&str, &[u8]>,
        key: &str,
        value: &T,
    ) -> Result<(), StoreError> {
        self.writes += 1;
        let bytes = serde_json::to_vec(value).expect("records serialize");
        self.table(definition)?.insert(key, bytes.as_slice())?;
        Ok(())
    }

    /// Commits durably. A transaction that wrote records must have logged them.
    fn commit(self) -> Result<(), StoreError> {
        if self.writes > self.session_writes && self.changes == 0 {
            self.abort();
            return Err(StoreError::Bug(
                "a write transaction changed records without appending to the change log",
            ));
        }
        self.txn.commit()?;
        Ok(())
    }

    fn abort(self) {
        if let Err(error) = self.txn.abort() {
            tracing::warn!(%error, "aborting a write transaction failed");
        }
    }
}

/// Reads that both snapshots and write transactions offer (a use case checks its
/// rules against the state inside its own transaction).
macro_rules! point_reads {
    () => {
        /// The `seq` of the newest change-log entry (0 when empty).
        pub fn last_seq(&self) -> Result<u64, StoreError> {
            Ok(self
                .table($crate::store::tables::CHANGES)?
                .last()?
                .map_or(0, |(seq, _)| seq.value()))
        }

        pub fn product(
            &self,
            sku: &$crate::domain::values::Sku,
        ) -> Result<Option<$crate::domain::catalogue::Product>, StoreError> {
            $crate::store::get_json(
                &self.table($crate::store::tables::PRODUCTS)?,
                "products",
                sku.as_str(),
            )
        }

        /// The SKU a barcode belongs to.
        pub fn sku_by_barcode(
            &self,
            barcode: &$crate::domain::catalogue::Barcode,
        ) -> Result<Option<$crate::domain::values::Sku>, StoreError> {
            let table = self.table($crate::store::tables::PRODUCTS_BY_BARCODE)?;
            let Some(sku) = table.get(barcode.as_str())? else {
                return Ok(None);
            };
            $crate::domain::values::Sku::parse(sku.value())
                .map(Some)
                .map_err(|e| StoreError::Corrupt {
                    table: "products_by_barcode",
                    key: barcode.to_string(),
                    reason: e.to_string(),
                })
        }

        pub fn location(
            &self,
            code: &$crate::domain::locations::LocationCode,
        ) -> Result<Option<$crate::domain::locations::Location>, StoreError> {
            $crate::store::get_json(
                &self.table($crate::store::tables::LOCATIONS)?,
                "locations",
                code.as_str(),
            )
        }

        pub fn user(
            &self,
            name: &$crate::domain::accounts::Username,
        ) -> Result<Option<$crate::domain::accounts::User>, StoreError> {
            $crate::store::get_json(
                &self.table($crate::store::tables::USERS)?,
                "users",
                name.as_str(),
            )
        }

        pub fn token(
            &self,
            name: &$crate::domain::accounts::TokenName,
        ) -> Result<Option<$crate::domain::accounts::ApiToken>, StoreError> {
            $crate::store::get_json(
                &self.table($crate::store::tables::TOKENS)?,
                "tokens",
                name.as_str(),
            )
        }

        /// The token whose secret hashes to `hash` (hex SHA-256).
        pub fn token_by_hash(
            &self,
            hash: &str,
        ) -> Result<Option<$crate::domain::accounts::ApiToken>, StoreError> {
            let name = {
                let table = self.table($crate::store::tables::TOKENS_BY_HASH)?;
                let Some(name) = table.get(hash)? else {
                    return Ok(None);
                };
                name.value().to_owned()
            };
            $crate::store::get_json(&self.table($crate::store::tables::TOKENS)?, "tokens", &name)
        }
    };
}

impl ReadTx {
    point_reads!();
}

impl WriteTx {
    point_reads!();
}

fn get_json<T: DeserializeOwned>(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    name: &'static str,
    key: &str,
) -> Result<Option<T>, StoreError> {
    match table.get(key)? {
        Some(bytes) => decode(name, key, bytes.value()).map(Some),
        None => Ok(None),
    }
}

fn decode<T: DeserializeOwned>(
    table: &'static str,
    key: &str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        table,
        key: key.to_owned(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalogue::{Product, ProductInput};

    fn product(sku: &str, category: &str, barcode: Option<&str>) -> Product {
        let input: ProductInput = serde_json::from_value(serde_json::json!({
            "sku": sku, "name": "Thing", "category": category, "unit": "pc",
            "price": "1", "barcode": barcode,
        }))
        .unwrap();
        Product::create(input.sku.clone().unwrap(), input, jiff::Timestamp::now())
    }

    fn save(store: &Store, p: &Product) {
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
                    },
                )?;
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn a_snapshot_refused_after_a_failed_read_marks_the_store_for_recovery() {
        let dir = tempfile::tempdir().unwrap();
        let faults = faults::Faults::default();
        let store = Store::open_with(
            dir.path(),
            Options {
                cache_bytes: Some(0),
                faults: Some(faults.clone()),
            },
        )
        .unwrap();
        faults.arm(faults::Op::Read, 1, false, faults::Failure::Io);
        let failed = store.read().and_then(|tx| tx.changes_after(0, 10));
        assert!(matches!(failed, Err(StoreError::Unavailable { .. })));
        // redb now refuses new snapshots; the refusal is noted…
        assert!(store.read().is_err());
        assert!(store.troubled());
        // …and healing (what the server's housekeeping does) recovers.
        store.heal();
        assert!(!store.troubled());
        assert_eq!(store.read().unwrap().last_seq().unwrap(), 1);
    }

    #[test]
    fn a_new_store_records_its_schema_and_logs_its_creation() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let tx = store.read().unwrap();
        assert_eq!(tx.last_seq().unwrap(), 1);
        assert_eq!(
            tx.changes_after(0, 10).unwrap()[0].kind,
            ChangeKind::StoreCreated
        );
        drop(tx);
        drop(store);
        // Reopening neither rewrites nor logs anything.
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.read().unwrap().last_seq().unwrap(), 1);
    }

    #[test]
    fn a_file_from_a_newer_quarry_is_refused_with_a_clear_message() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let tx = store.begin_write().unwrap();
        tx.table(META)
            .unwrap()
            .insert(SCHEMA_VERSION_KEY, SCHEMA_VERSION + 1)
            .unwrap();
        tx.txn.commit().unwrap();
        drop(store);
        let err = Store::open(dir.path()).unwrap_err();
        assert!(matches!(err, StoreError::SchemaTooNew { .. }), "{err}");
        assert!(err.to_string().contains("newer Quarry"), "{err}");
        assert!(check(dir.path()).is_err());
    }

    #[test]
    fn a_second_process_on_the_same_file_is_told_it_is_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let _store = Store::open(dir.path()).unwrap();
        let err = Store::open(dir.path()).unwrap_err();
        assert!(matches!(err, StoreError::InUse { .. }), "{err}");
    }

    #[test]
    fn a_write_that_changes_records_without_logging_them_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let p = product("A-1", "Tools", None);
        let result = store.write(|tx| tx.put_product(&p));
        assert!(matches!(result, Err(StoreError::Bug(_))));
        assert!(store.read().unwrap().product(&p.sku).unwrap().is_none());
    }

    #[test]
    fn indexes_follow_barcode_and_category_changes_and_check_agrees() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut p = product("A-1", "Tools/Hand", Some("123"));
        save(&store, &p);
        p.barcode = Some(crate::domain::catalogue::Barcode::parse("456").unwrap());
        p.category = crate::domain::catalogue::CategoryPath::parse("Tools/Power").unwrap();
        save(&store, &p);
        let tx = store.read().unwrap();
        let old = crate::domain::catalogue::Barcode::parse("123").unwrap();
        let new = crate::domain::catalogue::Barcode::parse("456").unwrap();
        assert_eq!(tx.sku_by_barcode(&old).unwrap(), None);
        assert_eq!(tx.sku_by_barcode(&new).unwrap(), Some(p.sku.clone()));
        let hand = ProductQuery {
            category: Some("tools/hand".into()),
            limit: 10,
            ..Default::default()
        };
        assert!(tx.products_page(&hand).unwrap().items.is_empty());
        let power = ProductQuery {
            category: Some("tools".into()),
            limit: 10,
            ..Default::default()
        };
        assert_eq!(tx.products_page(&power).unwrap().items.len(), 1);
        drop(tx);
        drop(store);
        let report = check(dir.path()).unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert_eq!(report.last_seq, 3);
    }

    #[test]
    fn check_finds_an_index_that_disagrees_with_its_table() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        save(&store, &product("A-1", "Tools", Some("123")));
        let tx = store.begin_write().unwrap();
        tx.table(PRODUCTS_BY_BARCODE)
            .unwrap()
            .remove("123")
            .unwrap();
        tx.txn.commit().unwrap();
        drop(store);
        let report = check(dir.path()).unwrap();
        assert_eq!(report.problems.len(), 2, "{:?}", report.problems);
        assert!(report.problems[0].contains("barcode 123"));
    }
}
