//! Opening the data file: creating and migrating its tables, and getting it
//! back after an I/O error (reopened when the disk takes writes again, read
//! only through [`overlay`] while it refuses them).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use redb::{Database, ReadableTable as _};

use super::journal::{self, Journal};
use super::tables::{
    CHANGES, CONTACT_INVITES, CONTACTS, CONTACTS_BY_CUSTOMER, CUSTOMERS, CUSTOMERS_BY_PRICE_LIST,
    DELIVERIES, DELIVERY_ZONES, IDEMPOTENCY, IMAGE_FILES, INVITES_BY_CUSTOMER, LEVELS, LOCATIONS,
    MAIL, MAIL_QUEUE, META, MOVEMENTS, MOVEMENTS_BY_LOCATION, MOVEMENTS_BY_REFERENCE,
    MOVEMENTS_BY_SKU, OPEN_QUOTES, PASSWORD_RESETS, PRICE_LISTS, PRODUCTS, PRODUCTS_BY_BARCODE,
    PRODUCTS_BY_CATEGORY, QUOTES, QUOTES_BY_CUSTOMER, QUOTES_BY_LINK, REVERSALS, SCHEMA_VERSION,
    SCHEMA_VERSION_KEY, SESSIONS, SESSIONS_BY_USER, TOKENS, TOKENS_BY_HASH, USERS,
    WEBHOOK_DELIVERIES, WEBHOOKS, every_table,
};
use super::{
    ChangeKind, DB_FILE, NODE_LOCK, Options, Shared, Store, StoreError, WriteTx, faults,
    is_disk_full, overlay, payloads,
};
use crate::domain::accounts::Actor;

/// The database the store works with.
pub(super) enum Handle {
    Writable(Arc<Database>),
    /// The file opened read-only through an [`overlay::OverlayBackend`],
    /// while the disk refuses writes.
    ReadOnly(Arc<Database>),
    /// Between closing a broken database and opening it again.
    Closed,
}

/// Marks a reopen under way for as long as it lives.
struct Reopening<'a>(&'a std::sync::atomic::AtomicBool);

impl<'a> Reopening<'a> {
    fn start(flag: &'a std::sync::atomic::AtomicBool) -> Self {
        flag.store(true, std::sync::atomic::Ordering::Release);
        Self(flag)
    }
}

impl Drop for Reopening<'_> {
    fn drop(&mut self) {
        self.0.store(false, std::sync::atomic::Ordering::Release);
    }
}

/// What went wrong, and when the store last tried to reopen the file.
pub(super) struct Trouble {
    disk_full: bool,
    detail: String,
    tried: Option<Instant>,
}

/// How often a broken store tries to reopen its file.
const RECOVERY_INTERVAL: Duration = Duration::from_millis(100);

impl Store {
    /// Opens the store in `data_dir`, creating the directory, the file and its
    /// tables on first use, and refusing a file from a newer Quarry.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        Self::open_with(data_dir, Options::default())
    }

    /// [`Store::open`] with a cache size, or with every file operation going
    /// through [`faults::Faults`] (for the I/O fault tests).
    pub fn open_with(data_dir: &Path, options: Options) -> Result<Self, StoreError> {
        if let Some(url) = options.url.clone().filter(|u| !u.is_empty()) {
            return Self::open_postgres(data_dir, &url, options);
        }
        let path = data_dir.join(DB_FILE);
        let db = open_database(data_dir, &path, &options, None)?;
        let journal = Journal::open(data_dir, &db, options.checkpoints, options.faults.clone())?;
        let store = Self {
            shared: Arc::new(Shared {
                path,
                data_dir: data_dir.to_owned(),
                db: RwLock::new(Handle::Writable(Arc::new(db))),
                options,
                trouble: Mutex::new(None),
                reopening: std::sync::atomic::AtomicBool::new(false),
                pg: None,
                journal: Some(Arc::new(Mutex::new(journal))),
                node_lock: None,
                accounts_epoch: Arc::default(),
            }),
        };
        store.initialise()?;
        // A new or migrated file is durable before anything else happens.
        store.checkpoint()?;
        Ok(store)
    }

    /// Opens the store in the PostgreSQL database at `url`: creates its
    /// tables on first use (under the write lock, so nodes starting together
    /// agree), refuses a database from a newer Quarry, and locks the data dir
    /// for this node's own files.
    fn open_postgres(data_dir: &Path, url: &str, options: Options) -> Result<Self, StoreError> {
        create_data_dir(data_dir)?;
        let node_lock = if options.lock_node {
            Some(lock_node(&data_dir.join(NODE_LOCK))?)
        } else {
            None
        };
        let mut backend = super::pg::Backend::connect(url, options.pool_size)?;
        backend.serving = options.lock_node;
        let conn = backend.begin_write()?;
        super::pg::create_tables(&conn, &super::tables::ALL)?;
        conn.commit()?;
        let store = Self {
            shared: Arc::new(Shared {
                path: PathBuf::from(backend.shown.clone()),
                data_dir: data_dir.to_owned(),
                db: RwLock::new(Handle::Closed),
                options,
                trouble: Mutex::new(None),
                reopening: std::sync::atomic::AtomicBool::new(false),
                pg: Some(Arc::new(backend)),
                journal: None,
                node_lock,
                accounts_epoch: Arc::default(),
            }),
        };
        store.initialise()?;
        Ok(store)
    }

    fn initialise(&self) -> Result<(), StoreError> {
        let mut tx = self.begin_write()?;
        let found = tx.table(META)?.get(SCHEMA_VERSION_KEY)?;
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
                let mut meta = tx.table(META)?;
                meta.insert(SCHEMA_VERSION_KEY, SCHEMA_VERSION)?;
                meta.insert(super::tables::STORE_EPOCH_KEY, super::tables::new_epoch())?;
                drop(meta);
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

    /// The open database, or why there is none. While the file is being
    /// opened again after an I/O error, waits for it (up to a few seconds:
    /// callers are off the async runtime) instead of failing at once.
    pub(super) fn database(&self) -> Result<Arc<Database>, StoreError> {
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            match &*self.handle() {
                Handle::Writable(db) | Handle::ReadOnly(db) => return Ok(db.clone()),
                Handle::Closed => {}
            }
            if !self
                .shared
                .reopening
                .load(std::sync::atomic::Ordering::Acquire)
                || Instant::now() >= deadline
            {
                return Err(self.unavailable());
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Whether the file is open read-only while the disk refuses writes.
    pub(super) fn read_only(&self) -> bool {
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
        if let Some(pg) = &self.shared.pg {
            return self.recover_postgres(pg);
        }
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
        // Closes the file (readers hold the handle only while they begin,
        // and wait while it is reopened).
        let _reopening = Reopening::start(&self.shared.reopening);
        let old = std::mem::replace(
            &mut *self
                .shared
                .db
                .write()
                .unwrap_or_else(PoisonError::into_inner),
            Handle::Closed,
        );
        self.closed(old);
        // The journal's entries up to here were acknowledged; any after it
        // were answered with an error and are not replayed.
        let limit = self.shared.journal.as_ref().map(|j| lock(j).end());
        let deadline = Instant::now() + Duration::from_secs(2);
        let opened = loop {
            let options = &self.shared.options;
            let data_dir = &self.shared.data_dir;
            let attempt = if writable {
                open_database(data_dir, &self.shared.path, options, limit)
            } else {
                open_read_only(data_dir, &self.shared.path, options, limit)
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
        if writable && let Some(journal) = &self.shared.journal {
            // The replay moved the file to the journal's next generation.
            // A journal that cannot start under the file's generation must
            // not take entries: the store stays closed until a later try.
            let started = lock(journal).begin(&db);
            if let Err(error) = started
                && !lock(journal).restarting()
            {
                tracing::warn!(%error, "the journal cannot start afresh yet");
                return Err(self.unavailable());
            }
        }
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

    /// After a PostgreSQL failure, at most every [`RECOVERY_INTERVAL`]:
    /// whether the database answers again (the pool reconnects by itself,
    /// following `target_session_attrs` to a new primary).
    fn recover_postgres(&self, pg: &super::pg::Backend) -> Result<(), StoreError> {
        {
            let mut trouble = self.trouble();
            if let Some(t) = trouble.as_mut() {
                if t.tried.is_some_and(|at| at.elapsed() < RECOVERY_INTERVAL) {
                    return Err(StoreError::Unavailable {
                        disk_full: t.disk_full,
                        detail: t.detail.clone(),
                    });
                }
                t.tried = Some(Instant::now());
            }
        }
        match pg.ping() {
            Ok(()) => {
                if self.trouble().take().is_some() {
                    tracing::warn!("PostgreSQL answers again; the store works");
                }
                Ok(())
            }
            Err(error) => {
                if let StoreError::Unavailable { detail, .. } = &error
                    && let Some(trouble) = self.trouble().as_mut()
                {
                    trouble.detail.clone_from(detail);
                }
                Err(error)
            }
        }
    }

    /// Writes everything the journal holds into the data file with one
    /// durable commit, and starts the journal afresh. Only the writer (or a
    /// command holding the store) calls this, never inside a transaction.
    /// Returns how long it took, if there was anything to write.
    pub(crate) fn checkpoint(&self) -> Result<Option<Duration>, StoreError> {
        let Some(journal) = &self.shared.journal else {
            return Ok(None);
        };
        if !lock(journal).holds_entries() {
            return Ok(None);
        }
        let started = Instant::now();
        let txn = self.begin_redb_write()?;
        let mut journal = lock(journal);
        checkpoint_into(txn, &mut journal)?;
        let took = started.elapsed();
        tracing::debug!(took_ms = took.as_secs_f64() * 1e3, "journal checkpointed");
        Ok(Some(took))
    }

    /// [`Self::checkpoint`] when one is due (see [`journal::Checkpoints`]);
    /// a failure is noted (the store recovers) and logged, not returned:
    /// what the journal holds is safe.
    pub(crate) fn checkpoint_if_due(&self) -> Option<Duration> {
        let due = self.shared.journal.as_ref().is_some_and(|j| lock(j).due());
        if !due {
            return None;
        }
        match self.checkpoint() {
            Ok(took) => took,
            Err(error) => {
                tracing::warn!(%error, "checkpointing the journal failed; it is tried again later");
                if self.note_trouble(&error) {
                    self.heal();
                }
                None
            }
        }
    }

    /// Whether every commit is checkpointed before it is answered
    /// (`store.checkpoint_secs = 0`): the data file always holds what was
    /// acknowledged, as without a journal. Otherwise checkpoints run after
    /// the answers, off the requests' path.
    pub(crate) fn checkpoints_each_commit(&self) -> bool {
        self.shared
            .journal
            .as_ref()
            .is_some_and(|j| lock(j).checkpoints_each_commit())
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
        if let Some(pg) = &self.shared.pg {
            let _ = self.recover_postgres(pg);
            return;
        }
        if let Ok(txn) = self.begin_redb_write() {
            let _ = txn.abort();
            *self.trouble() = None;
        }
    }
}

/// Locks `node.lock` for this process: a second server on the same data dir
/// gets [`StoreError::InUse`].
fn lock_node(path: &Path) -> Result<std::fs::File, StoreError> {
    let io = |source| StoreError::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(io)?;
    match fs4::fs_std::FileExt::try_lock_exclusive(&file) {
        Ok(true) => Ok(file),
        Ok(false) => Err(StoreError::InUse {
            path: path.to_owned(),
        }),
        Err(source) => Err(io(source)),
    }
}

/// The data dir, created when missing; a new one is its owner's alone (it
/// holds the data file, with password hashes, or this node's own files).
pub(super) fn create_data_dir(data_dir: &Path) -> Result<(), StoreError> {
    let fresh = !data_dir.exists();
    std::fs::create_dir_all(data_dir).map_err(|source| StoreError::Io {
        path: data_dir.to_owned(),
        source,
    })?;
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
    Ok(())
}

fn lock(journal: &Mutex<Journal>) -> std::sync::MutexGuard<'_, Journal> {
    journal.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The durable commit of a checkpoint, in `txn`: moves `meta` to the
/// journal's next generation, then starts the journal under it.
pub(super) fn checkpoint_into(
    mut txn: redb::WriteTransaction,
    journal: &mut Journal,
) -> Result<(), StoreError> {
    let generation = journal.generation() + 1;
    txn.set_durability(redb::Durability::Immediate)
        .map_err(redb::Error::from)?;
    let epoch = {
        let mut meta = txn.open_table(META)?;
        meta.insert(journal::JOURNAL_GEN_KEY, generation)?;
        meta.get(super::tables::STORE_EPOCH_KEY)?
            .map_or(0, |v| v.value())
    };
    txn.commit()?;
    journal.set_epoch(epoch);
    journal.restart(generation)
}

/// Opens the data file for writing and replays the journal into it (up to
/// `limit` bytes, see [`journal::replay`]).
pub(super) fn open_database(
    data_dir: &Path,
    path: &Path,
    options: &Options,
    limit: Option<u64>,
) -> Result<Database, StoreError> {
    let db = open_database_file(data_dir, path, options)?;
    let replayed = journal::replay(data_dir, &db, limit, true)?;
    log_replay(&replayed);
    Ok(db)
}

fn log_replay(replayed: &journal::Replayed) {
    if replayed.entries > 0 {
        tracing::info!(
            entries = replayed.entries,
            writes = replayed.ops,
            "replayed the journal of a server that stopped before its checkpoint"
        );
    }
    if replayed.stale {
        tracing::debug!("the journal holds nothing the data file lacks");
    }
}

fn open_database_file(
    data_dir: &Path,
    path: &Path,
    options: &Options,
) -> Result<Database, StoreError> {
    create_data_dir(data_dir)?;
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
fn open_read_only(
    data_dir: &Path,
    path: &Path,
    options: &Options,
    limit: Option<u64>,
) -> Result<Database, StoreError> {
    let db = open_read_only_file(path, options)?;
    log_replay(&journal::replay(data_dir, &db, limit, false)?);
    Ok(db)
}

fn open_read_only_file(path: &Path, options: &Options) -> Result<Database, StoreError> {
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

/// Creates every table in a redb file (PostgreSQL's are created on opening).
fn create_tables(tx: &WriteTx) -> Result<(), StoreError> {
    let super::WriteTxn::Redb(txn) = &tx.txn else {
        return Ok(());
    };
    macro_rules! create {
        ($table:ident) => {
            txn.open_table($table)?;
        };
    }
    every_table!(create);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::check;

    #[test]
    fn a_snapshot_refused_after_a_failed_read_marks_the_store_for_recovery() {
        let dir = tempfile::tempdir().unwrap();
        let faults = faults::Faults::default();
        let store = Store::open_with(
            dir.path(),
            Options {
                cache_bytes: Some(0),
                faults: Some(faults.clone()),
                ..Options::default()
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
        tx.commit_unlogged();
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
}
