//! The journal: how the embedded store acknowledges a write after one
//! sequential append and one `fdatasync`, as PostgreSQL does with its WAL.
//!
//! A write transaction records every insert and remove it makes (the table,
//! and the key and value bytes exactly as redb stores them). At commit they
//! go to `quarry.journal` in the data dir as one checksummed entry, synced;
//! only then is the transaction committed to redb, without a sync
//! (`Durability::None`): readers see it at once, and the data file catches
//! up at the next *checkpoint*, a durable redb commit — after
//! `checkpoint_secs` or `checkpoint_mb` of journal, at shutdown, and with a
//! transaction too large to journal (which commits durably itself).
//!
//! Opening the file replays the journal over what redb made durable, in
//! order. An entry sets keys to the bytes they had after its transaction and
//! removes the keys it removed, so replaying every entry over any state
//! between the last checkpoint and the last entry gives the state after the
//! last entry. An entry cut short by a crash (its length or checksum does not
//! hold) was never acknowledged, and ends the replay.
//!
//! Which entries are not yet in the data file: the journal's header names the
//! store's epoch and a generation, and so does every entry. Every durable
//! commit writes the next generation into `meta` (`journal_gen`) and only
//! then starts the journal afresh under it, so a journal whose generation is
//! not the file's holds only what the file already has (or belongs to another
//! store, or to a data file that was put back) and is not replayed. Each
//! start (and each reopening after an I/O error) begins at a random
//! generation, so a number is never used twice for one file.
//!
//! The file is kept at its size between generations (new entries overwrite
//! old ones, which their generation tells apart) so that an append changes
//! no file metadata and `fdatasync` writes only the entry.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt as _;
use std::path::Path;
use std::time::{Duration, Instant};

use redb::{Database, ReadableDatabase, TableDefinition, TableHandle as _};

use super::StoreError;
use super::faults::{Faults, Op};
use super::tables::{
    CHANGES, CONTACT_INVITES, CONTACTS, CONTACTS_BY_CUSTOMER, CUSTOMERS, CUSTOMERS_BY_PRICE_LIST,
    DELIVERIES, DELIVERY_ZONES, IDEMPOTENCY, IMAGE_FILES, INVITES_BY_CUSTOMER, LEVELS, LOCATIONS,
    MAIL, MAIL_QUEUE, META, MOVEMENTS, MOVEMENTS_BY_LOCATION, MOVEMENTS_BY_REFERENCE,
    MOVEMENTS_BY_SKU, OPEN_QUOTES, PASSWORD_RESETS, PRICE_LISTS, PRODUCTS, PRODUCTS_BY_BARCODE,
    PRODUCTS_BY_CATEGORY, QUOTES, QUOTES_BY_CUSTOMER, QUOTES_BY_LINK, REVERSALS, SESSIONS,
    SESSIONS_BY_USER, STORE_EPOCH_KEY, TOKENS, TOKENS_BY_HASH, USERS, WEBHOOK_DELIVERIES, WEBHOOKS,
    every_table,
};

/// The journal's file name in the data dir.
pub const JOURNAL_FILE: &str = "quarry.journal";

/// The key in `meta` holding the generation of the journal that follows the
/// durable state (0 in files from before the journal).
pub const JOURNAL_GEN_KEY: &str = "journal_gen";

const MAGIC: &[u8; 8] = b"QRYJRNL1";
/// Magic, epoch, generation, checksum of the three, padding.
const HEADER: u64 = 32;
const HEADER_LEN: usize = 32;
/// Length, checksum, generation.
const ENTRY_HEADER: usize = 16;
/// A transaction writing more than this commits durably instead of being
/// journaled (an import of many products): the journal stays small, and
/// large writes gain nothing from it.
const LARGEST_ENTRY: usize = 8 << 20;

const INSERT: u8 = 1;
const REMOVE: u8 = 2;

/// When the journal is checkpointed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoints {
    /// At most this long after the first entry since the last checkpoint
    /// (0: after every commit: the data file is always durable, and the
    /// journal holds at most the commit being made).
    pub every: Duration,
    /// Once the journal holds this many bytes.
    pub bytes: u64,
}

impl Default for Checkpoints {
    fn default() -> Self {
        Self {
            every: Duration::from_secs(10),
            bytes: 16 << 20,
        }
    }
}

/// The inserts and removes of one write transaction, encoded as a journal
/// entry's body.
#[derive(Debug, Default)]
pub(super) struct Ops {
    bytes: Vec<u8>,
    /// Past [`LARGEST_ENTRY`]: no longer recorded; the transaction commits
    /// durably.
    overflowed: bool,
}

impl Ops {
    pub(super) fn insert(&mut self, table: &str, key: &[u8], value: &[u8]) {
        self.op(INSERT, table, key, Some(value));
    }

    pub(super) fn remove(&mut self, table: &str, key: &[u8]) {
        self.op(REMOVE, table, key, None);
    }

    fn op(&mut self, tag: u8, table: &str, key: &[u8], value: Option<&[u8]>) {
        if self.overflowed {
            return;
        }
        let size = 2 + table.len() + 4 + key.len() + value.map_or(0, |v| 4 + v.len());
        if self.bytes.len() + size > LARGEST_ENTRY {
            self.overflowed = true;
            self.bytes = Vec::new();
            return;
        }
        self.bytes.push(tag);
        // Table names are short ASCII constants (tables::ALL).
        self.bytes
            .push(u8::try_from(table.len()).unwrap_or(u8::MAX));
        self.bytes.extend_from_slice(table.as_bytes());
        push_bytes(&mut self.bytes, key);
        if let Some(value) = value {
            push_bytes(&mut self.bytes, value);
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.bytes.is_empty() && !self.overflowed
    }

    pub(super) fn overflowed(&self) -> bool {
        self.overflowed
    }
}

fn push_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u32::try_from(bytes.len()).expect("an op is smaller than LARGEST_ENTRY");
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(bytes);
}

/// The open journal of a writable embedded store.
pub(super) struct Journal {
    file: File,
    epoch: u64,
    /// The generation entries are written under: `meta`'s `journal_gen` in
    /// the durable state.
    generation: u64,
    /// Where the next entry goes: the end of the last one acknowledged.
    end: u64,
    /// Entries since the last checkpoint, and when the first was written.
    entries: u64,
    first: Option<Instant>,
    /// A durable commit moved to this generation but the header could not
    /// be rewritten yet: the next append does it first.
    pending: Option<u64>,
    checkpoints: Checkpoints,
    faults: Option<Faults>,
    /// The entry being written (kept to reuse its allocation).
    buffer: Vec<u8>,
    /// The file's size: zeros past the last entry, so that most appends do
    /// not grow it.
    room: u64,
}

/// How much the journal file grows by at a time: an append that changes the
/// file's size costs its sync a metadata write, so the file takes room ahead
/// of its entries, a step at a time: a quiet store keeps a small file, and a
/// busy one stops growing at about `checkpoint_mb`, where a checkpoint starts
/// it over.
const GROWTH: u64 = 1 << 20;

impl Journal {
    /// Opens (or creates) the journal of the store `db` in `data_dir`, after
    /// [`replay`] has brought `db` up to date: starts it under the file's
    /// generation, keeping its size.
    pub(super) fn open(
        data_dir: &Path,
        db: &Database,
        checkpoints: Checkpoints,
        faults: Option<Faults>,
    ) -> Result<Self, StoreError> {
        let path = data_dir.join(JOURNAL_FILE);
        let (epoch, _) = durable_position(db)?;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| StoreError::disk("opening the journal", &e))?;
        let mut journal = Self {
            file,
            epoch,
            generation: 0,
            end: HEADER,
            entries: 0,
            first: None,
            pending: None,
            checkpoints,
            faults,
            buffer: Vec::new(),
            room: 0,
        };
        journal.begin(db)?;
        journal.room = journal
            .file
            .metadata()
            .map_err(|e| StoreError::disk("the journal", &e))?
            .len();
        if journal.room < GROWTH {
            journal.grow(GROWTH)?;
            journal.check(Op::Sync)?;
            journal
                .file
                .sync_all()
                .map_err(|e| StoreError::disk("preparing the journal", &e))?;
            sync_dir(data_dir);
        }
        Ok(journal)
    }

    /// Writes zeros past the file's end until it holds `needed` bytes, in
    /// whole steps of [`GROWTH`]; the next sync makes the new size durable.
    fn grow(&mut self, needed: u64) -> Result<(), StoreError> {
        let target = needed.div_ceil(GROWTH) * GROWTH;
        self.check(Op::Write)?;
        let zeros = vec![0u8; usize::try_from(GROWTH).expect("a step fits in memory")];
        let mut at = self.room.max(HEADER);
        while at < target {
            let step = usize::try_from((target - at).min(GROWTH)).expect("a step fits");
            self.file
                .write_all_at(&zeros[..step], at)
                .map_err(|e| StoreError::disk("preparing the journal", &e))?;
            at += step as u64;
        }
        self.room = self.room.max(target);
        Ok(())
    }

    fn check(&self, op: Op) -> Result<(), StoreError> {
        match &self.faults {
            Some(faults) => faults
                .check(op)
                .map_err(|e| StoreError::disk("writing the journal", &e)),
            None => Ok(()),
        }
    }

    /// Starts the journal under a new generation of its own, after
    /// [`replay`] brought `db` up to date: a random one, so that no entry
    /// left in the file from an earlier run (past the last one replayed, or
    /// from before a data file was put back) can ever carry it.
    pub(super) fn begin(&mut self, db: &Database) -> Result<(), StoreError> {
        let generation = super::tables::new_epoch();
        let txn = db.begin_write()?;
        txn.open_table(META)?.insert(JOURNAL_GEN_KEY, generation)?;
        txn.commit()?;
        self.restart(generation)
    }

    /// Starts the journal afresh under `generation` (after a durable commit
    /// wrote it into `meta`): the header is rewritten and synced before any
    /// entry of the new generation is.
    pub(super) fn restart(&mut self, generation: u64) -> Result<(), StoreError> {
        self.pending = Some(generation);
        let header = header(self.epoch, generation);
        self.check(Op::Write)?;
        self.file
            .write_all_at(&header, 0)
            .map_err(|e| StoreError::disk("starting the journal", &e))?;
        self.check(Op::Sync)?;
        self.file
            .sync_data()
            .map_err(|e| StoreError::disk("starting the journal", &e))?;
        self.pending = None;
        self.generation = generation;
        self.end = HEADER;
        self.entries = 0;
        self.first = None;
        Ok(())
    }

    /// Appends `ops` as one entry and syncs it: once this returns, the
    /// transaction survives a crash. Nothing is acknowledged on an error
    /// (the next entry is written over whatever this one left).
    pub(super) fn append(&mut self, ops: &Ops) -> Result<(), StoreError> {
        if let Some(generation) = self.pending {
            self.restart(generation)?;
        }
        let body = &ops.bytes;
        let len = u32::try_from(body.len()).expect("entries are below LARGEST_ENTRY");
        let generation = self.generation.to_le_bytes();
        let mut crc = crc32fast::Hasher::new();
        crc.update(&generation);
        crc.update(body);
        self.buffer.clear();
        self.buffer.extend_from_slice(&len.to_le_bytes());
        self.buffer.extend_from_slice(&crc.finalize().to_le_bytes());
        self.buffer.extend_from_slice(&generation);
        self.buffer.extend_from_slice(body);
        let end = self.end + self.buffer.len() as u64;
        if end > self.room {
            // Up to the end of the step this entry ends in.
            self.grow(end)?;
        }
        self.check(Op::Write)?;
        self.file
            .write_all_at(&self.buffer, self.end)
            .map_err(|e| StoreError::disk("writing the journal", &e))?;
        self.check(Op::Sync)?;
        self.file
            .sync_data()
            .map_err(|e| StoreError::disk("syncing the journal", &e))?;
        self.end += self.buffer.len() as u64;
        self.entries += 1;
        self.first.get_or_insert_with(Instant::now);
        Ok(())
    }

    /// The store's epoch, read by a durable commit (it is set once, when
    /// the file is created).
    pub(super) fn set_epoch(&mut self, epoch: u64) {
        self.epoch = epoch;
    }

    /// Whether a durable commit moved to a generation the journal has not
    /// started yet.
    pub(super) fn restarting(&self) -> bool {
        self.pending.is_some()
    }

    /// Forgets the last entry appended (its transaction failed to commit).
    pub(super) fn forget_last(&mut self, end: u64) {
        self.end = end;
    }

    /// The end of the acknowledged entries: a replay in this process goes
    /// no further (an entry written after it was answered with an error).
    pub(super) fn end(&self) -> u64 {
        self.end
    }

    pub(super) fn generation(&self) -> u64 {
        self.pending.unwrap_or(self.generation)
    }

    /// Whether entries await a checkpoint.
    pub(super) fn holds_entries(&self) -> bool {
        self.entries > 0 || self.pending.is_some()
    }

    pub(super) fn checkpoints_each_commit(&self) -> bool {
        self.checkpoints.every.is_zero()
    }

    /// Whether a checkpoint is due: the journal is large, or its oldest
    /// entry is older than the checkpoint interval.
    pub(super) fn due(&self) -> bool {
        self.holds_entries()
            && (self.end >= self.checkpoints.bytes + HEADER
                || self
                    .first
                    .is_none_or(|first| first.elapsed() >= self.checkpoints.every))
    }
}

fn header(epoch: u64, generation: u64) -> [u8; HEADER_LEN] {
    let mut header = [0u8; HEADER_LEN];
    header[..8].copy_from_slice(MAGIC);
    header[8..16].copy_from_slice(&epoch.to_le_bytes());
    header[16..24].copy_from_slice(&generation.to_le_bytes());
    let crc = crc32fast::hash(&header[..24]);
    header[24..28].copy_from_slice(&crc.to_le_bytes());
    header
}

/// The epoch and journal generation of `db`'s latest commit.
pub(super) fn durable_position(db: &Database) -> Result<(u64, u64), StoreError> {
    let txn = db.begin_read()?;
    let meta = match txn.open_table(META) {
        Ok(meta) => meta,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok((0, 0)),
        Err(error) => return Err(error.into()),
    };
    let get =
        |key: &str| -> Result<u64, StoreError> { Ok(meta.get(key)?.map_or(0, |v| v.value())) };
    Ok((get(STORE_EPOCH_KEY)?, get(JOURNAL_GEN_KEY)?))
}

/// What replaying the journal did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Replayed {
    pub entries: u64,
    pub ops: u64,
    /// Whether the journal was skipped as not following the data file (an
    /// older generation, another store, or a damaged header).
    pub stale: bool,
}

/// Replays the journal in `data_dir` into `db`: every whole entry of the
/// durable state's generation, up to `limit` bytes when given (in a process
/// whose later entries were answered with errors), in one transaction that
/// also moves `meta` to the next generation. `durable`: commit it durably
/// (a writable file); otherwise it stays in memory (the read-only overlay).
pub(super) fn replay(
    data_dir: &Path,
    db: &Database,
    limit: Option<u64>,
    durable: bool,
) -> Result<Replayed, StoreError> {
    let path = data_dir.join(JOURNAL_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Replayed::default()),
        Err(e) => return Err(StoreError::disk("reading the journal", &e)),
    };
    let (epoch, generation) = durable_position(db)?;
    let mut replayed = Replayed::default();
    if bytes.len() < HEADER_LEN
        || &bytes[..8] != MAGIC
        || crc32fast::hash(&bytes[..24]) != u32::from_le_bytes(bytes[24..28].try_into().unwrap())
        || u64::from_le_bytes(bytes[8..16].try_into().unwrap()) != epoch
        || u64::from_le_bytes(bytes[16..24].try_into().unwrap()) != generation
    {
        replayed.stale = bytes.iter().any(|&b| b != 0);
        return Ok(replayed);
    }
    let end = limit.map_or(bytes.len(), |limit| {
        usize::try_from(limit)
            .unwrap_or(usize::MAX)
            .min(bytes.len())
    });
    let entries = Entries {
        bytes: &bytes[..end],
        at: HEADER_LEN,
        generation,
    };
    let mut txn: Option<redb::WriteTransaction> = None;
    for body in entries {
        let txn = match &mut txn {
            Some(txn) => txn,
            None => txn.insert(db.begin_write()?),
        };
        replayed.entries += 1;
        replayed.ops += apply(txn, body)?;
    }
    if let Some(mut txn) = txn {
        // Tables a replayed transaction created without writing to them.
        macro_rules! create {
            ($table:ident) => {
                txn.open_table($table)?;
            };
        }
        every_table!(create);
        txn.open_table(META)?
            .insert(JOURNAL_GEN_KEY, generation + 1)?;
        if !durable {
            txn.set_durability(redb::Durability::None)
                .map_err(|e| StoreError::Database(e.into()))?;
        }
        txn.commit()?;
    }
    Ok(replayed)
}

/// The bodies of the whole entries of one generation, in order.
struct Entries<'a> {
    bytes: &'a [u8],
    at: usize,
    generation: u64,
}

impl<'a> Iterator for Entries<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let head = self.bytes.get(self.at..self.at + ENTRY_HEADER)?;
        let len = u32::from_le_bytes(head[..4].try_into().ok()?) as usize;
        let crc = u32::from_le_bytes(head[4..8].try_into().ok()?);
        let generation = &head[8..16];
        if len == 0 || u64::from_le_bytes(generation.try_into().ok()?) != self.generation {
            return None;
        }
        let start = self.at + ENTRY_HEADER;
        let body = self.bytes.get(start..start.checked_add(len)?)?;
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(generation);
        hasher.update(body);
        if hasher.finalize() != crc {
            return None;
        }
        self.at = start + len;
        Some(body)
    }
}

/// Applies one entry's ops; returns how many there were.
fn apply(txn: &redb::WriteTransaction, mut body: &[u8]) -> Result<u64, StoreError> {
    let corrupt = |reason: &str| StoreError::Corrupt {
        table: "journal",
        key: String::new(),
        reason: reason.to_owned(),
    };
    let mut ops = 0;
    while let Some((&tag, rest)) = body.split_first() {
        let (&name_len, rest) = rest.split_first().ok_or_else(|| corrupt("cut short"))?;
        let (name, rest) = rest
            .split_at_checked(usize::from(name_len))
            .ok_or_else(|| corrupt("cut short"))?;
        let name = std::str::from_utf8(name).map_err(|_| corrupt("a table name is not text"))?;
        let (key, rest) = take_bytes(rest).ok_or_else(|| corrupt("cut short"))?;
        let (value, rest) = match tag {
            INSERT => {
                let (value, rest) = take_bytes(rest).ok_or_else(|| corrupt("cut short"))?;
                (Some(value), rest)
            }
            REMOVE => (None, rest),
            _ => return Err(corrupt("an unknown operation")),
        };
        apply_op(txn, name, key, value)?;
        ops += 1;
        body = rest;
    }
    Ok(ops)
}

fn take_bytes(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = bytes.split_at_checked(4)?;
    let len = u32::from_le_bytes(len.try_into().ok()?) as usize;
    rest.split_at_checked(len)
}

fn apply_op(
    txn: &redb::WriteTransaction,
    name: &str,
    key: &[u8],
    value: Option<&[u8]>,
) -> Result<(), StoreError> {
    macro_rules! table {
        ($table:ident) => {
            if name == $table.name() {
                return put(txn, $table, key, value);
            }
        };
    }
    every_table!(table);
    Err(StoreError::Corrupt {
        table: "journal",
        key: name.to_owned(),
        reason: "an entry names a table this Quarry does not know".to_owned(),
    })
}

fn put<K: redb::Key + 'static, V: redb::Value + 'static>(
    txn: &redb::WriteTransaction,
    definition: TableDefinition<K, V>,
    key: &[u8],
    value: Option<&[u8]>,
) -> Result<(), StoreError> {
    let mut table = txn.open_table(definition)?;
    let key = K::from_bytes(key);
    match value {
        Some(value) => {
            table.insert(key, V::from_bytes(value))?;
        }
        None => {
            table.remove(key)?;
        }
    }
    Ok(())
}

/// Syncs a directory so that a file created in it survives a crash (best
/// effort: some file systems refuse to sync directories).
fn sync_dir(dir: &Path) {
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::values::Sku;
    use crate::store::test_records::{product, save};
    use crate::store::{DB_FILE, Options, Store, check};

    /// What a crash (`kill -9`, or the power) would leave now: the data
    /// file and the journal as they are on disk.
    fn crash_image(from: &Path) -> tempfile::TempDir {
        let to = tempfile::tempdir().unwrap();
        for file in [DB_FILE, JOURNAL_FILE] {
            if from.join(file).exists() {
                std::fs::copy(from.join(file), to.path().join(file)).unwrap();
            }
        }
        to
    }

    fn has(store: &Store, sku: &str) -> bool {
        let sku = Sku::parse(sku).unwrap();
        store.read().unwrap().product(&sku).unwrap().is_some()
    }

    fn name_of(store: &Store, sku: &str) -> String {
        let sku = Sku::parse(sku).unwrap();
        let found = store.read().unwrap().product(&sku).unwrap().unwrap();
        found.name.as_str().to_owned()
    }

    fn logged(
        tx: &mut crate::store::WriteTx,
        p: &crate::domain::catalogue::Product,
    ) -> Result<u64, StoreError> {
        tx.record(
            crate::store::ChangeKind::ProductCreated,
            p.sku.as_str(),
            &crate::domain::accounts::Actor::cli(),
            &crate::store::payloads::ProductChanged {
                version: p.version,
                active: p.active,
                changes: Vec::new(),
            },
        )
    }

    fn open(dir: &Path) -> Store {
        Store::open(dir).unwrap()
    }

    #[test]
    fn the_journal_file_starts_small_and_grows_ahead_of_its_entries() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let size = || {
            std::fs::metadata(dir.path().join(JOURNAL_FILE))
                .unwrap()
                .len()
        };
        assert_eq!(size(), GROWTH, "a new store's journal takes one step");
        let mut saved = 0;
        while size() <= GROWTH {
            saved += 1;
            save(&store, &product(&format!("G-{saved}"), "Tools", None));
            assert!(saved < 20_000, "the journal never grew");
        }
        assert_eq!(size() % GROWTH, 0, "it grows in whole steps");
        assert!(size() <= 2 * GROWTH, "one step at a time");
        // Entries past the first step are replayed like any other.
        let image = crash_image(dir.path());
        drop(store);
        let store = open(image.path());
        assert!(has(&store, "G-1") && has(&store, &format!("G-{saved}")));
        let report = crate::store::check::check_store(&store).unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
    }

    #[test]
    fn a_commit_is_in_the_journal_not_the_data_file_and_a_crash_loses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        save(&store, &product("A-1", "Tools", None));
        save(&store, &product("A-2", "Tools", None));
        assert!(has(&store, "A-2"), "readers see a commit at once");
        let image = crash_image(dir.path());
        drop(store);

        // Without its journal, the data file has not got the commits yet…
        let without = crash_image(image.path());
        std::fs::remove_file(without.path().join(JOURNAL_FILE)).unwrap();
        let bare = open(without.path());
        assert!(!has(&bare, "A-1"));
        drop(bare);
        // …with it, both are there, and the file checks clean.
        let store = open(image.path());
        assert!(has(&store, "A-1") && has(&store, "A-2"));
        assert_eq!(store.read().unwrap().last_seq().unwrap(), 3);
        drop(store);
        let report = check(image.path()).unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert_eq!(report.last_seq, 3);
    }

    #[test]
    fn a_crash_between_the_append_and_the_commit_replays_the_entry() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let p = product("A-1", "Tools", None);
        let mut tx = store.begin_write().unwrap();
        tx.put_product(&p).unwrap();
        logged(&mut tx, &p).unwrap();
        {
            let (ops, journal) = tx.ops.as_ref().unwrap();
            journal.lock().unwrap().append(&ops.borrow()).unwrap();
        }
        let image = crash_image(dir.path());
        tx.abort();
        assert!(!has(&store, "A-1"));
        drop(store);
        let store = open(image.path());
        assert!(has(&store, "A-1"), "an entry synced is a commit");
    }

    #[test]
    fn a_torn_or_damaged_last_entry_ends_the_replay_and_the_entries_before_it_stay() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        save(&store, &product("A-1", "Tools", None));
        let first_end = lock_end(&store);
        save(&store, &product("A-2", "Tools", None));
        let second_end = lock_end(&store);
        let image = crash_image(dir.path());
        drop(store);

        let journal = |image: &tempfile::TempDir| image.path().join(JOURNAL_FILE);
        let cases: [(&str, Damage); 3] = [
            // The write of the second entry stopped half-way.
            (
                "torn",
                Box::new(move |bytes: &mut Vec<u8>| {
                    let half = usize::try_from(u64::midpoint(first_end, second_end)).unwrap();
                    bytes[half..].fill(0);
                }),
            ),
            // A byte of it went bad.
            (
                "damaged",
                Box::new(move |bytes: &mut Vec<u8>| {
                    let at = usize::try_from(second_end - 3).unwrap();
                    bytes[at] ^= 0x5A;
                }),
            ),
            // Its header never made it.
            (
                "headless",
                Box::new(move |bytes: &mut Vec<u8>| {
                    let at = usize::try_from(first_end).unwrap();
                    bytes[at..at + ENTRY_HEADER].fill(0);
                }),
            ),
        ];
        for (what, damage) in cases {
            let copy = crash_image(image.path());
            let mut bytes = std::fs::read(journal(&copy)).unwrap();
            damage(&mut bytes);
            std::fs::write(journal(&copy), bytes).unwrap();
            let store = open(copy.path());
            assert!(has(&store, "A-1"), "{what}: the whole entry before stays");
            assert!(
                !has(&store, "A-2"),
                "{what}: the broken entry is not applied"
            );
            // The store goes on: the next write is kept, and survives.
            save(&store, &product("A-3", "Tools", None));
            let again = crash_image(copy.path());
            drop(store);
            let store = open(again.path());
            assert!(has(&store, "A-3") && !has(&store, "A-2"), "{what}");
            drop(store);
            let report = check(again.path()).unwrap();
            assert!(report.problems.is_empty(), "{what}: {:?}", report.problems);
        }
    }

    type Damage = Box<dyn Fn(&mut Vec<u8>)>;

    fn lock_end(store: &Store) -> u64 {
        store.shared.journal.as_ref().unwrap().lock().unwrap().end()
    }

    #[test]
    fn after_a_checkpoint_the_old_journal_is_never_replayed_over_newer_data() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let mut p = product("A-1", "Tools", None);
        save(&store, &p);
        let before = crash_image(dir.path());
        store.checkpoint().unwrap();
        p.name = crate::domain::catalogue::ProductName::parse("Renamed").unwrap();
        save(&store, &p);
        store.checkpoint().unwrap();
        let after = crash_image(dir.path());
        drop(store);

        // The data file of after the checkpoints with the journal of before
        // (a crash between a checkpoint's commit and the journal's restart
        // leaves the same): the old entry must not undo the rename.
        std::fs::copy(
            before.path().join(JOURNAL_FILE),
            after.path().join(JOURNAL_FILE),
        )
        .unwrap();
        let store = open(after.path());
        assert_eq!(name_of(&store, "A-1"), "Renamed");
        drop(store);
        // And the journal of before, with its own data file, still replays.
        let store = open(before.path());
        assert!(has(&store, "A-1"));
    }

    #[test]
    fn a_checkpoint_puts_the_journal_in_the_data_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        save(&store, &product("A-1", "Tools", None));
        store.checkpoint().unwrap();
        let image = crash_image(dir.path());
        drop(store);
        std::fs::remove_file(image.path().join(JOURNAL_FILE)).unwrap();
        assert!(has(&open(image.path()), "A-1"));
    }

    #[test]
    fn with_checkpoints_after_every_commit_the_data_file_has_each_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_with(
            dir.path(),
            Options {
                checkpoints: Checkpoints {
                    every: Duration::ZERO,
                    bytes: 1 << 20,
                },
                ..Options::default()
            },
        )
        .unwrap();
        save(&store, &product("A-1", "Tools", None));
        let image = crash_image(dir.path());
        drop(store);
        std::fs::remove_file(image.path().join(JOURNAL_FILE)).unwrap();
        assert!(has(&open(image.path()), "A-1"));
    }

    #[test]
    fn a_transaction_too_large_to_journal_commits_durably_by_itself() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        save(&store, &product("A-0", "Tools", None));
        store
            .write(|tx| -> Result<(), StoreError> {
                // ~10 MiB of products.
                for i in 1..=2500 {
                    let mut p = product(&format!("B-{i}"), "Tools", None);
                    p.description =
                        crate::domain::catalogue::LongText::parse(&"x".repeat(4000)).unwrap();
                    tx.put_product(&p)?;
                    logged(tx, &p)?;
                }
                Ok(())
            })
            .unwrap();
        let image = crash_image(dir.path());
        drop(store);
        std::fs::remove_file(image.path().join(JOURNAL_FILE)).unwrap();
        let store = open(image.path());
        assert!(has(&store, "B-2500"), "committed durably");
        assert!(has(&store, "A-0"), "and the journaled commit before it too");
    }

    #[test]
    fn a_journal_from_another_store_is_not_replayed() {
        let one = tempfile::tempdir().unwrap();
        let store = open(one.path());
        save(&store, &product("A-1", "Tools", None));
        let image = crash_image(one.path());
        drop(store);
        let other = tempfile::tempdir().unwrap();
        drop(open(other.path()));
        std::fs::copy(
            image.path().join(JOURNAL_FILE),
            other.path().join(JOURNAL_FILE),
        )
        .unwrap();
        let store = open(other.path());
        assert!(!has(&store, "A-1"));
        assert_eq!(store.read().unwrap().last_seq().unwrap(), 1);
    }

    #[test]
    fn a_data_file_put_back_never_takes_entries_written_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        save(&store, &product("A-1", "Tools", None));
        store.checkpoint().unwrap();
        let old = crash_image(dir.path());
        save(&store, &product("A-2", "Tools", None));
        drop(store);
        // The old data file copied back by hand over the newer one, the
        // journal (holding A-2's entry) left in place.
        std::fs::copy(old.path().join(DB_FILE), dir.path().join(DB_FILE)).unwrap();
        let store = open(dir.path());
        assert!(has(&store, "A-1") && !has(&store, "A-2"));
        // Nor after the next crash: the journal starts under a generation
        // no old entry carries.
        let image = crash_image(dir.path());
        drop(store);
        let store = open(image.path());
        assert!(!has(&store, "A-2"));
    }
}
